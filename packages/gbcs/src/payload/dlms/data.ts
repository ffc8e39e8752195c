/**
 * DLMS `Data` (IEC 62056-6-2 / Green Book), A-XDR encoded, as JSON-plain values.
 *
 * Every value is `{ type, value }` with a tag named after the DLMS choice:
 *
 *   00 null            { type: 'null' }
 *   01 array           { type: 'array', value: Data[] }              count: A-XDR length
 *   02 structure       { type: 'structure', value: Data[] }          count: A-XDR length
 *   03 boolean         { type: 'boolean', value: boolean }           + byte when not 00/01
 *   04 bit-string      { type: 'bitString', value: '101' }           bits as '0'/'1'; + pad
 *                                                                   when unused bits are set
 *   05/06 int32/uint32, 0F/10 int8/int16, 11/12 uint8/uint16, 16 enum, 0D bcd: number
 *   14/15 int64/uint64 number, or decimal string beyond 2^53
 *   09 octet-string, 19 date-time, 1A date, 1B time: value is upper-case hex
 *   0A visible-string, 0C utf8-string: value text, or hex when the bytes are not plain text
 *   13 compact-array   { type: 'compactArray', description: TypeDescription, value: Data[] }
 *   17/18 float32/float64: value number, or hex for NaN, infinities and -0
 *   FF dont-care       { type: 'dontCare' }
 *
 * Lengths and counts use the A-XDR length form of codec/length.ts (minimal only, so that
 * decode then encode gives back the same bytes).
 */
import { toHex } from '@smetsim/core'
import { readLength as readDerLength, writeLength } from '../../codec/length.ts'
import { DecodeError, type Reader } from '../../codec/reader.ts'
import { Writer } from '../../codec/writer.ts'
import type { Json } from '../types.ts'
import { arr, bigint, bool, fail, hex, int, obj, str } from './json.ts'

export type FixedIntType = 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32' | 'enum' | 'bcd'
export type BigIntType = 'int64' | 'uint64'
export type HexType = 'octetString' | 'dateTime' | 'date' | 'time'
export type TextType = 'visibleString' | 'utf8String'
export type FloatType = 'float32' | 'float64'
export type SimpleType =
  | FixedIntType
  | BigIntType
  | HexType
  | TextType
  | FloatType
  | 'boolean'
  | 'bitString'
  | 'null'
  | 'dontCare'

export type DlmsData =
  | { type: 'null' }
  | { type: 'dontCare' }
  | { type: 'array'; value: DlmsData[] }
  | { type: 'structure'; value: DlmsData[] }
  | { type: 'boolean'; value: boolean; byte?: number }
  | { type: 'bitString'; value: string; pad?: number }
  | { type: FixedIntType; value: number }
  | { type: BigIntType; value: number | string }
  | { type: HexType; value: string }
  | { type: TextType; value: string }
  | { type: TextType; hex: string }
  | { type: FloatType; value: number }
  | { type: FloatType; hex: string }
  | { type: 'compactArray'; description: TypeDescription; value: DlmsData[] }

/** The type-description of a compact-array (A-XDR). */
export type TypeDescription =
  | { type: Exclude<SimpleType, 'null' | 'dontCare'> }
  | { type: 'array'; count: number; element: TypeDescription }
  | { type: 'structure'; elements: TypeDescription[] }

export const TAGS = {
  null: 0x00,
  array: 0x01,
  structure: 0x02,
  boolean: 0x03,
  bitString: 0x04,
  int32: 0x05,
  uint32: 0x06,
  octetString: 0x09,
  visibleString: 0x0a,
  utf8String: 0x0c,
  bcd: 0x0d,
  int8: 0x0f,
  int16: 0x10,
  uint8: 0x11,
  uint16: 0x12,
  compactArray: 0x13,
  int64: 0x14,
  uint64: 0x15,
  enum: 0x16,
  float32: 0x17,
  float64: 0x18,
  dateTime: 0x19,
  date: 0x1a,
  time: 0x1b,
  dontCare: 0xff,
} as const

export type DataType = keyof typeof TAGS
const TYPE_BY_TAG = new Map<number, DataType>(Object.entries(TAGS).map(([k, v]) => [v, k as DataType]))

const FIXED_INT: Record<FixedIntType, { size: number; signed: boolean }> = {
  int8: { size: 1, signed: true },
  int16: { size: 2, signed: true },
  int32: { size: 4, signed: true },
  uint8: { size: 1, signed: false },
  uint16: { size: 2, signed: false },
  uint32: { size: 4, signed: false },
  enum: { size: 1, signed: false },
  bcd: { size: 1, signed: true },
}
const FIXED_HEX: Partial<Record<HexType, number>> = { dateTime: 12, date: 5, time: 4 }

function isFixedInt(t: string): t is FixedIntType {
  return t in FIXED_INT
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** An A-XDR length or count; a malformed one is reported at its first byte. */
export function readLength(r: Reader, what: string): number {
  const at = r.offset
  try {
    return readDerLength(r, what)
  } catch (e) {
    if (e instanceof DecodeError && /non-minimal|unsupported length form/.test(e.message)) {
      throw new DecodeError(e.message.replace(/ at offset \d+$/, ''), at)
    }
    throw e
  }
}

/** Reads one tagged Data value. */
export function readData(r: Reader, depth = 0): DlmsData {
  if (depth > 64) r.fail('DLMS data nested too deeply')
  const at = r.offset
  const tag = r.u8('DLMS data tag')
  const type = TYPE_BY_TAG.get(tag)
  if (!type) throw dataTagError(tag, at)
  if (type === 'array' || type === 'structure') {
    const n = readLength(r, `${type} count`)
    const value: DlmsData[] = []
    for (let i = 0; i < n; i++) value.push(readData(r, depth + 1))
    return { type, value }
  }
  if (type === 'compactArray') {
    const description = readTypeDescription(r, depth + 1)
    const length = readLength(r, 'compact-array contents length')
    const contents = r.sub(length, 'compact-array contents')
    const value: DlmsData[] = []
    while (!contents.done) value.push(readUntagged(contents, description, depth + 1))
    return { type, description, value }
  }
  return readUntagged(r, { type } as Shape, depth)
}

/** What an untagged value is read by: a type description, or the tag of a tagged value. */
type Shape = TypeDescription | { type: 'null' | 'dontCare' }

function readUntagged(r: Reader, d: Shape, depth: number): DlmsData {
  if (depth > 64) r.fail('DLMS data nested too deeply')
  if (d.type === 'array') {
    const value: DlmsData[] = []
    for (let i = 0; i < d.count; i++) value.push(readUntagged(r, d.element, depth + 1))
    return { type: 'array', value }
  }
  if (d.type === 'structure') {
    return { type: 'structure', value: d.elements.map((e) => readUntagged(r, e, depth + 1)) }
  }
  const t: SimpleType = d.type
  switch (t) {
    case 'null':
    case 'dontCare':
      return { type: t }
    case 'boolean': {
      const b = r.u8('boolean')
      return b === 0 || b === 1 ? { type: t, value: b === 1 } : { type: t, value: true, byte: b }
    }
    case 'bitString': {
      const bits = readLength(r, 'bit-string length')
      const bytes = r.take(Math.ceil(bits / 8), 'bit-string')
      let value = ''
      for (let i = 0; i < bits; i++) value += (bytes[i >> 3]! >> (7 - (i & 7))) & 1 ? '1' : '0'
      const unused = (8 - (bits % 8)) % 8
      const pad = bytes.length > 0 ? bytes[bytes.length - 1]! & ((1 << unused) - 1) : 0
      return pad ? { type: t, value, pad } : { type: t, value }
    }
    case 'int64':
    case 'uint64': {
      const b = r.take(8, t)
      let v = 0n
      for (const x of b) v = (v << 8n) | BigInt(x)
      if (t === 'int64' && v >= 1n << 63n) v -= 1n << 64n
      return { type: t, value: bigToJson(v) }
    }
    case 'octetString':
    case 'dateTime':
    case 'date':
    case 'time': {
      const n = FIXED_HEX[t] ?? readLength(r, `${t} length`)
      return { type: t, value: toHex(r.take(n, t)) }
    }
    case 'visibleString':
    case 'utf8String': {
      const bytes = r.take(readLength(r, `${t} length`), t)
      const text = t === 'visibleString' ? asciiText(bytes) : utf8Text(bytes)
      return text === undefined ? { type: t, hex: toHex(bytes) } : { type: t, value: text }
    }
    case 'float32':
    case 'float64': {
      const b = r.take(t === 'float32' ? 4 : 8, t)
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
      const v = t === 'float32' ? dv.getFloat32(0) : dv.getFloat64(0)
      return Number.isFinite(v) && !Object.is(v, -0) ? { type: t, value: v } : { type: t, hex: toHex(b) }
    }
    default: {
      const { size, signed } = FIXED_INT[t]
      let v = 0
      for (const x of r.take(size, t)) v = v * 256 + x
      if (signed && v >= 2 ** (size * 8 - 1)) v -= 2 ** (size * 8)
      return { type: t, value: v }
    }
  }
}

function readTypeDescription(r: Reader, depth: number): TypeDescription {
  if (depth > 64) r.fail('type description nested too deeply')
  const at = r.offset
  const tag = r.u8('type-description tag')
  const type = TYPE_BY_TAG.get(tag)
  if (type === 'array') {
    const count = r.u16('array type-description element count')
    return { type, count, element: readTypeDescription(r, depth + 1) }
  }
  if (type === 'structure') {
    const n = readLength(r, 'structure type-description count')
    const elements: TypeDescription[] = []
    for (let i = 0; i < n; i++) elements.push(readTypeDescription(r, depth + 1))
    return { type, elements }
  }
  if (!type || type === 'compactArray' || type === 'null' || type === 'dontCare') {
    throw dataTagError(tag, at, 'type-description')
  }
  return { type }
}

function asciiText(b: Uint8Array): string | undefined {
  let s = ''
  for (const x of b) {
    if (x < 0x20 || x > 0x7e) return undefined
    s += String.fromCharCode(x)
  }
  return s
}

function utf8Text(b: Uint8Array): string | undefined {
  try {
    const s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b)
    // Control characters would not survive a reader's eye; keep those as hex.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: deliberate
    return /[\u0000-\u001f\u007f]/.test(s) ? undefined : s
  } catch {
    return undefined
  }
}

function bigToJson(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString()
}

export function dataTagError(tag: number, offset: number, what = 'DLMS data'): DecodeError {
  return new DecodeError(`unknown ${what} tag 0x${tag.toString(16).toUpperCase().padStart(2, '0')}`, offset)
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Writes one tagged Data value given as JSON (checked; errors name `path`). */
export function writeData(w: Writer, x: Json, path = 'data', depth = 0): void {
  if (depth > 64) fail(path, 'nested too deeply')
  const o = obj(x, path)
  const type = str(o.type, `${path}.type`)
  if (!Object.hasOwn(TAGS, type)) fail(`${path}.type`, `unknown DLMS data type '${type}'`)
  const t = type as DataType
  w.u8(TAGS[t])
  if (t === 'array' || t === 'structure') {
    const items = arr(o.value, `${path}.value`)
    writeLength(w, items.length)
    for (const [i, item] of items.entries()) writeData(w, item, `${path}.value[${i}]`, depth + 1)
    return
  }
  if (t === 'compactArray') {
    const description = checkTypeDescription(o.description, `${path}.description`, depth + 1)
    writeTypeDescription(w, description)
    const inner = new Writer()
    for (const [i, item] of arr(o.value, `${path}.value`).entries()) {
      writeUntagged(inner, item, description, `${path}.value[${i}]`, depth + 1)
    }
    const contents = inner.finish()
    writeLength(w, contents.length)
    w.bytes(contents)
    return
  }
  writeUntagged(w, o, { type: t } as Shape, path, depth)
}

function writeUntagged(w: Writer, x: Json, d: Shape, path: string, depth: number): void {
  if (depth > 64) fail(path, 'nested too deeply')
  const o = obj(x, path)
  const type = str(o.type, `${path}.type`)
  if (type !== d.type) fail(`${path}.type`, `expected '${d.type}' as the compact-array type description says`)
  if (d.type === 'array') {
    const items = arr(o.value, `${path}.value`)
    if (items.length !== d.count) fail(`${path}.value`, `expected ${d.count} elements`)
    for (const [i, item] of items.entries())
      writeUntagged(w, item, d.element, `${path}.value[${i}]`, depth + 1)
    return
  }
  if (d.type === 'structure') {
    const items = arr(o.value, `${path}.value`)
    if (items.length !== d.elements.length) fail(`${path}.value`, `expected ${d.elements.length} elements`)
    for (const [i, item] of items.entries())
      writeUntagged(w, item, d.elements[i]!, `${path}.value[${i}]`, depth + 1)
    return
  }
  const t = type as SimpleType
  switch (t) {
    case 'null':
    case 'dontCare':
      return
    case 'boolean': {
      const v = bool(o.value, `${path}.value`)
      if (o.byte !== undefined) {
        const b = int(o.byte, `${path}.byte`, 2, 255)
        if (!v) fail(`${path}.byte`, 'a boolean byte other than 00/01 means true')
        w.u8(b)
      } else w.u8(v ? 1 : 0)
      return
    }
    case 'bitString': {
      const bits = str(o.value, `${path}.value`)
      if (!/^[01]*$/.test(bits)) fail(`${path}.value`, "expected a string of '0' and '1'")
      const bytes = new Uint8Array(Math.ceil(bits.length / 8))
      for (let i = 0; i < bits.length; i++) if (bits[i] === '1') bytes[i >> 3]! |= 0x80 >> (i & 7)
      if (o.pad !== undefined) {
        const unused = (8 - (bits.length % 8)) % 8
        bytes[bytes.length - 1]! |= int(o.pad, `${path}.pad`, 1, (1 << unused) - 1)
      }
      writeLength(w, bits.length)
      w.bytes(bytes)
      return
    }
    case 'int64':
    case 'uint64': {
      const v =
        t === 'int64'
          ? bigint(o.value, `${path}.value`, -(1n << 63n), (1n << 63n) - 1n)
          : bigint(o.value, `${path}.value`, 0n, (1n << 64n) - 1n)
      let u = BigInt.asUintN(64, v)
      const b = new Uint8Array(8)
      for (let i = 7; i >= 0; i--) {
        b[i] = Number(u & 0xffn)
        u >>= 8n
      }
      w.bytes(b)
      return
    }
    case 'octetString':
    case 'dateTime':
    case 'date':
    case 'time': {
      const fixed = FIXED_HEX[t]
      const b = hex(o.value, `${path}.value`, fixed)
      if (fixed === undefined) writeLength(w, b.length)
      w.bytes(b)
      return
    }
    case 'visibleString':
    case 'utf8String': {
      let b: Uint8Array
      if (o.hex !== undefined) b = hex(o.hex, `${path}.hex`)
      else {
        const s = str(o.value, `${path}.value`)
        if (t === 'visibleString' && asciiText(new TextEncoder().encode(s)) !== s) {
          fail(`${path}.value`, 'a visible-string value must be printable ASCII (use hex otherwise)')
        }
        b = new TextEncoder().encode(s)
      }
      writeLength(w, b.length)
      w.bytes(b)
      return
    }
    case 'float32':
    case 'float64': {
      const size = t === 'float32' ? 4 : 8
      if (o.hex !== undefined) {
        w.bytes(hex(o.hex, `${path}.hex`, size))
        return
      }
      const v = o.value
      if (typeof v !== 'number') fail(`${path}.value`, 'expected a number')
      const b = new Uint8Array(size)
      const dv = new DataView(b.buffer)
      if (size === 4) dv.setFloat32(0, v)
      else dv.setFloat64(0, v)
      w.bytes(b)
      return
    }
    default: {
      if (!isFixedInt(t)) fail(`${path}.type`, `unknown DLMS data type '${t}'`)
      const { size, signed } = FIXED_INT[t]
      const half = 2 ** (size * 8 - 1)
      let v = signed
        ? int(o.value, `${path}.value`, -half, half - 1)
        : int(o.value, `${path}.value`, 0, half * 2 - 1)
      if (v < 0) v += half * 2
      for (let i = size - 1; i >= 0; i--) w.u8(Math.floor(v / 256 ** i) % 256)
    }
  }
}

const DESCRIBABLE = new Set<string>(
  Object.keys(TAGS).filter((k) => !['null', 'dontCare', 'compactArray'].includes(k)),
)

function checkTypeDescription(x: Json | undefined, path: string, depth: number): TypeDescription {
  if (depth > 64) fail(path, 'nested too deeply')
  const o = obj(x, path)
  const type = str(o.type, `${path}.type`)
  if (!DESCRIBABLE.has(type)) fail(`${path}.type`, `'${type}' cannot appear in a type description`)
  if (type === 'array') {
    return {
      type,
      count: int(o.count, `${path}.count`, 0, 0xffff),
      element: checkTypeDescription(o.element, `${path}.element`, depth + 1),
    }
  }
  if (type === 'structure') {
    return {
      type,
      elements: arr(o.elements, `${path}.elements`).map((e, i) =>
        checkTypeDescription(e, `${path}.elements[${i}]`, depth + 1),
      ),
    }
  }
  return { type } as TypeDescription
}

function writeTypeDescription(w: Writer, d: TypeDescription): void {
  w.u8(TAGS[d.type])
  if (d.type === 'array') {
    w.u16(d.count)
    writeTypeDescription(w, d.element)
  } else if (d.type === 'structure') {
    writeLength(w, d.elements.length)
    for (const e of d.elements) writeTypeDescription(w, e)
  }
}

/**
 * ZCL attribute values (ZCL data types), as carried by Read Attributes Response and Write
 * Attributes: one type octet, then the value. JSON form { type, value } (or { type, hex } for a
 * string that is not printable text):
 *
 *   noData                                   no value
 *   data8..data64, bitmap8..bitmap64         hex, most significant byte first
 *   uint8..uint64, int8..int64, enum8/16     number (decimal string beyond 2^53)
 *   boolean                                  true / false (a number for other octets)
 *   semiFloat, float, double                 hex of the IEEE bits, most significant first
 *   octetString, longOctetString             hex
 *   charString, longCharString               text, or hex when not printable ASCII
 *   timeOfDay, bacnetOid                     hex, most significant first
 *   date                                     { year, month, day, dayOfWeek }
 *   utcTime                                  'YYYY-MM-DDTHH:MM:SSZ'
 *   clusterId, attributeId                   4 hex digits
 *   ieeeAddress                              16 hex digits, most significant first
 *   securityKey                              32 hex digits, as sent
 *
 * Arrays, structures, sets and bags are not decoded: a payload holding one fails to decode.
 */
import { toHex } from '@smetsim/core'
import { DecodeError, type Reader } from '../../codec/reader.ts'
import type { Writer } from '../../codec/writer.ts'
import { bool, fail, hex, type JsonObject, obj } from '../dlms/json.ts'
import {
  bytesToText,
  hex4,
  parseId,
  readDate,
  readInt,
  readLE,
  readMap,
  readUint,
  readUtc,
  textToBytes,
  writeDate,
  writeInt,
  writeLE,
  writeMap,
  writeUint,
  writeUtc,
} from './values.ts'

type Kind = 'none' | 'map' | 'uint' | 'int' | 'bool' | 'str' | 'text' | 'date' | 'utc' | 'id' | 'raw'

interface TypeInfo {
  name: string
  kind: Kind
  /** Octets of the value; for strings the octets of the length prefix. */
  size: number
}

const TYPES = new Map<number, TypeInfo>()
const BY_NAME = new Map<string, number>()

function def(code: number, name: string, kind: Kind, size: number): void {
  TYPES.set(code, { name, kind, size })
  BY_NAME.set(name, code)
}

def(0x00, 'noData', 'none', 0)
for (let i = 1; i <= 8; i++) {
  def(0x07 + i, `data${8 * i}`, 'map', i)
  def(0x17 + i, `bitmap${8 * i}`, 'map', i)
  def(0x1f + i, `uint${8 * i}`, 'uint', i)
  def(0x27 + i, `int${8 * i}`, 'int', i)
}
def(0x10, 'boolean', 'bool', 1)
def(0x30, 'enum8', 'uint', 1)
def(0x31, 'enum16', 'uint', 2)
def(0x38, 'semiFloat', 'map', 2)
def(0x39, 'float', 'map', 4)
def(0x3a, 'double', 'map', 8)
def(0x41, 'octetString', 'str', 1)
def(0x42, 'charString', 'text', 1)
def(0x43, 'longOctetString', 'str', 2)
def(0x44, 'longCharString', 'text', 2)
def(0xe0, 'timeOfDay', 'map', 4)
def(0xe1, 'date', 'date', 4)
def(0xe2, 'utcTime', 'utc', 4)
def(0xe8, 'clusterId', 'id', 2)
def(0xe9, 'attributeId', 'id', 2)
def(0xea, 'bacnetOid', 'map', 4)
def(0xf0, 'ieeeAddress', 'map', 8)
def(0xf1, 'securityKey', 'raw', 16)

/** The name of a ZCL data type code, or undefined when this decoder does not know it. */
export function typeName(code: number): string | undefined {
  return TYPES.get(code)?.name
}

export function typeCode(name: unknown, path: string): number {
  const code = typeof name === 'string' ? BY_NAME.get(name) : undefined
  if (code === undefined) fail(path, `expected a ZCL data type name (${[...BY_NAME.keys()].join(', ')})`)
  return code
}

/** Reads a type octet and the value it announces. */
export function readTyped(r: Reader): JsonObject {
  const at = r.offset
  const code = r.u8('ZCL data type')
  const t = TYPES.get(code)
  if (!t) throw new DecodeError(`unsupported ZCL data type 0x${code.toString(16).padStart(2, '0')}`, at)
  return { type: t.name, ...readValue(r, t) }
}

function readValue(r: Reader, t: TypeInfo): JsonObject {
  const what = `${t.name} value`
  switch (t.kind) {
    case 'none':
      return {}
    case 'map':
      return { value: readMap(r, t.size, what) }
    case 'uint':
      return { value: readUint(r, t.size, what) }
    case 'int':
      return { value: readInt(r, t.size, what) }
    case 'bool': {
      const b = r.u8(what)
      return { value: b === 0 ? false : b === 1 ? true : b }
    }
    case 'str':
    case 'text': {
      const n = Number(readLE(r, t.size, `${t.name} length`))
      const b = r.take(n, what)
      if (t.kind === 'str') return { value: toHex(b) }
      const text = bytesToText(b)
      return typeof text === 'string' ? { value: text } : (text as JsonObject)
    }
    case 'date':
      return { value: readDate(r, what) }
    case 'utc':
      return { value: readUtc(r, what) }
    case 'id':
      return { value: hex4(Number(readLE(r, 2, what))) }
    case 'raw':
      return { value: toHex(r.take(t.size, what)) }
  }
}

export function writeTyped(w: Writer, x: unknown, path: string): void {
  const o = obj(x, path)
  const code = typeCode(o.type, `${path}.type`)
  const t = TYPES.get(code)!
  w.u8(code)
  const p = `${path}.value`
  switch (t.kind) {
    case 'none':
      return
    case 'map':
      writeMap(w, o.value, t.size, p)
      return
    case 'uint':
      writeUint(w, o.value, t.size, p)
      return
    case 'int':
      writeInt(w, o.value, t.size, p)
      return
    case 'bool': {
      if (typeof o.value === 'number') {
        if (!Number.isInteger(o.value) || o.value < 2 || o.value > 255)
          fail(p, 'expected a boolean or 2..255')
        w.u8(o.value)
      } else w.u8(bool(o.value, p) ? 1 : 0)
      return
    }
    case 'str':
    case 'text': {
      const b =
        t.kind === 'str' ? hex(o.value, p) : textToBytes(o.hex !== undefined ? { hex: o.hex } : o.value, p)
      if (b.length >= 1 << (8 * t.size)) fail(p, `too long for a ${t.name}`)
      writeLE(w, BigInt(b.length), t.size)
      w.bytes(b)
      return
    }
    case 'date':
      writeDate(w, o.value, p)
      return
    case 'utc':
      writeUtc(w, o.value, p)
      return
    case 'id':
      writeLE(w, BigInt(parseId(o.value, p)), 2)
      return
    case 'raw':
      w.bytes(hex(o.value, p, t.size))
      return
  }
}

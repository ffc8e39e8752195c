/**
 * A small ASN.1 schema language for the use-case views: it maps a DER TLV tree (der.ts) to a
 * view made of GBCS field names and back.
 *
 *   toView(schema, node)   the view value, or undefined when the node is not of that shape
 *   fromView(schema, v)    the node; bad view input is a TypeError naming the field path
 *
 * Values: INTEGER / ENUMERATED as numbers (decimal strings beyond 2^53) or, with a names table,
 * the name; OCTET STRING as hex; GeneralizedTime YYYYMMDDHHMMSSZ as 'YYYY-MM-DDTHH:MM:SSZ'; a
 * named BIT STRING (KeyUsage) as the list of bit names; an embedded DER value (a certificate)
 * as the hex of its whole TLV; anything the view does not interpret as the generic TLV node.
 * Only DER-canonical encodings map to a view (a non-minimal INTEGER, a BIT STRING with stray
 * unused bits do not); non-minimal length forms are kept in `lengths`, keyed by view path
 * ('$', '$.executionOutcome', '$.replacements[0].targetTrustAnchorCell').
 */
import { fromHex, toHex } from '@smetsim/core'
import { DecodeError } from '../../codec/reader.ts'
import { arr, bigint, fail, hex, type JsonObject, obj, str } from '../dlms/json.ts'
import type { Json } from '../types.ts'
import { type DerNode, decodeDer, encodeDer } from './der.ts'

export type Names = Readonly<Record<number, string>>

export type Schema =
  | { kind: 'int'; tag: string; names?: Names }
  | { kind: 'alertCode'; tag: string }
  | { kind: 'octets'; tag: string }
  | { kind: 'time'; tag: string }
  | { kind: 'null'; tag: string }
  | { kind: 'bits'; tag: string; names: readonly string[] }
  | { kind: 'der' }
  | { kind: 'tlv' }
  | { kind: 'seq'; tag: string; fields: readonly Field[] }
  | { kind: 'seqOf'; tag: string; of: Schema }

/** A SEQUENCE component. An optional one is present when the next child has its tag. */
export interface Field {
  name: string
  schema: Schema
  optional?: boolean
}

// Constructors, tags as in X.690 (universal class unless given)
export const integer = (names?: Names, tag = '02'): Schema => ({ kind: 'int', tag, ...(names && { names }) })
export const enumerated = (names?: Names): Schema => integer(names, '0A')
export const alertCode: Schema = { kind: 'alertCode', tag: '02' }
export const octets = (tag = '04'): Schema => ({ kind: 'octets', tag })
export const generalizedTime: Schema = { kind: 'time', tag: '18' }
export const nul: Schema = { kind: 'null', tag: '05' }
export const bits = (names: readonly string[]): Schema => ({ kind: 'bits', tag: '03', names })
export const der: Schema = { kind: 'der' }
export const tlv: Schema = { kind: 'tlv' }
export const seq = (fields: readonly Field[], tag = '30'): Schema => ({ kind: 'seq', tag, fields })
export const seqOf = (of: Schema, tag = '30'): Schema => ({ kind: 'seqOf', tag, of })
/** [n] IMPLICIT: the same type under another tag (give the full identifier, e.g. '83', 'A2'). */
export function implicit(tag: string, s: Schema): Schema {
  if (s.kind === 'der' || s.kind === 'tlv') throw new TypeError('an untagged schema cannot be IMPLICIT')
  return { ...s, tag }
}
export const field = (name: string, schema: Schema): Field => ({ name, schema })
export const optional = (name: string, schema: Schema): Field => ({ name, schema, optional: true })

/** Non-minimal length forms by view path. */
export type Lengths = Record<string, number>

function tagOf(s: Schema): string | undefined {
  return s.kind === 'der' || s.kind === 'tlv' ? undefined : s.tag
}

const isConstructed = (n: DerNode): n is DerNode & { children: DerNode[] } => 'children' in n

// ---------------------------------------------------------------------------------------------
// INTEGER

function intFromContents(b: Uint8Array): bigint | undefined {
  if (b.length === 0) return undefined
  // DER: no redundant leading 00 / FF octet
  if (b.length > 1 && ((b[0] === 0 && b[1]! < 0x80) || (b[0] === 0xff && b[1]! >= 0x80))) return undefined
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  if (b[0]! & 0x80) v -= 1n << BigInt(8 * b.length)
  return v
}

function intToContents(v: bigint): Uint8Array {
  const out: number[] = []
  let x = v
  for (;;) {
    out.unshift(Number(x & 0xffn))
    x >>= 8n
    const sign = out[0]! & 0x80
    if ((x === 0n && !sign) || (x === -1n && sign)) break
  }
  return Uint8Array.from(out)
}

const INT_RANGE = 1n << 80n

function intToView(v: bigint, names: Names | undefined): Json {
  const n = Number(v)
  if (names && Number.isSafeInteger(n) && names[n] !== undefined) return names[n]!
  return Number.isSafeInteger(n) ? n : v.toString()
}

function intFromView(x: unknown, names: Names | undefined, path: string): bigint {
  if (typeof x === 'string' && names) {
    for (const [k, name] of Object.entries(names)) if (name === x) return BigInt(k)
    if (!/^-?\d+$/.test(x)) fail(path, `expected one of ${Object.values(names).join(', ')} or an integer`)
  }
  return bigint(x, path, -INT_RANGE, INT_RANGE)
}

// ---------------------------------------------------------------------------------------------
// GeneralizedTime

const DER_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
const VIEW_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/

function ascii(b: Uint8Array): string {
  return String.fromCharCode(...b)
}

// ---------------------------------------------------------------------------------------------
// Named BIT STRING (DER: no trailing zero bits)

function bitsToView(b: Uint8Array, names: readonly string[]): Json | undefined {
  if (b.length === 0) return undefined
  const unused = b[0]!
  const data = b.subarray(1)
  if (data.length === 0) return unused === 0 ? [] : undefined
  const last = data[data.length - 1]!
  if (last === 0 || unused > 7) return undefined
  let trailing = 0
  while (!((last >> trailing) & 1)) trailing++
  if (trailing !== unused) return undefined
  const out: string[] = []
  for (let i = 0; i < data.length * 8; i++) {
    if (!((data[i >> 3]! >> (7 - (i & 7))) & 1)) continue
    const name = names[i]
    if (name === undefined) return undefined
    out.push(name)
  }
  return out
}

function bitsFromView(x: unknown, names: readonly string[], path: string): Uint8Array {
  const positions = arr(x, path).map((n, i) => {
    const p = names.indexOf(str(n, `${path}[${i}]`))
    if (p < 0) fail(`${path}[${i}]`, `expected one of ${names.join(', ')}`)
    return p
  })
  if (positions.length === 0) return Uint8Array.of(0)
  const top = Math.max(...positions)
  const data = new Uint8Array((top >> 3) + 1)
  for (const p of positions) data[p >> 3]! |= 0x80 >> (p & 7)
  return Uint8Array.of(7 - (top & 7), ...data)
}

// ---------------------------------------------------------------------------------------------
// Mapping

/** The view of `node` as `s`, or undefined when it does not have that shape. */
export function toView(s: Schema, node: DerNode, path: string, lengths: Lengths): Json | undefined {
  if (s.kind === 'tlv') return node as unknown as JsonObject
  if (s.kind === 'der') return toHex(encodeDer(node as unknown as JsonObject))
  if (node.tag !== s.tag) return undefined
  if (node.lengthOctets !== undefined) lengths[path] = node.lengthOctets
  if (s.kind === 'seq' || s.kind === 'seqOf') {
    if (!isConstructed(node)) return undefined
    if (s.kind === 'seqOf') {
      const out: Json[] = []
      for (const [i, c] of node.children.entries()) {
        const v = toView(s.of, c, `${path}[${i}]`, lengths)
        if (v === undefined) return undefined
        out.push(v)
      }
      return out
    }
    const out: JsonObject = {}
    let i = 0
    for (const f of s.fields) {
      const c = node.children[i]
      if (f.optional && (c === undefined || c.tag !== tagOf(f.schema))) continue
      if (c === undefined) return undefined
      const v = toView(f.schema, c, `${path}.${f.name}`, lengths)
      if (v === undefined) return undefined
      if (f.schema.kind !== 'null') out[f.name] = v
      i++
    }
    return i === node.children.length ? out : undefined
  }
  if (isConstructed(node)) return undefined
  const b = fromHex(node.value)
  switch (s.kind) {
    case 'int': {
      const v = intFromContents(b)
      return v === undefined ? undefined : intToView(v, s.names)
    }
    case 'alertCode': {
      const v = intFromContents(b)
      return v === undefined || v < 0n || v > 0xffffn ? undefined : hex4(Number(v))
    }
    case 'octets':
      return node.value
    case 'time': {
      const m = DER_TIME.exec(ascii(b))
      return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined
    }
    case 'null':
      return b.length === 0 ? null : undefined
    case 'bits':
      return bitsToView(b, s.names)
  }
}

/** The node for view value `x` as `s`; a TypeError naming `path` when `x` does not fit. */
export function fromView(s: Schema, x: unknown, path: string, lengths: Lengths): DerNode {
  if (s.kind === 'tlv') {
    const n = obj(x, path)
    encodeDer(n) // checks it
    return n as unknown as DerNode
  }
  if (s.kind === 'der') {
    const b = hex(x, path)
    try {
      return decodeDer(b)
    } catch (e) {
      if (e instanceof DecodeError) fail(path, `not one DER value: ${e.message}`)
      throw e
    }
  }
  const form = lengths[path] !== undefined ? { lengthOctets: lengths[path] } : {}
  const prim = (b: Uint8Array): DerNode => ({ tag: s.tag, value: toHex(b), ...form })
  switch (s.kind) {
    case 'seqOf':
      return {
        tag: s.tag,
        children: arr(x, path).map((v, i) => fromView(s.of, v, `${path}[${i}]`, lengths)),
        ...form,
      }
    case 'seq': {
      const o = obj(x, path)
      const known = new Set(s.fields.map((f) => f.name))
      for (const k of Object.keys(o))
        if (!known.has(k) && o[k] !== undefined) fail(`${path}.${k}`, 'unknown field')
      const children: DerNode[] = []
      for (const f of s.fields) {
        if (f.schema.kind === 'null') {
          children.push(fromView(f.schema, null, `${path}.${f.name}`, lengths))
          continue
        }
        const v = o[f.name]
        if (v === undefined) {
          if (f.optional) continue
          fail(`${path}.${f.name}`, 'missing')
        }
        children.push(fromView(f.schema, v, `${path}.${f.name}`, lengths))
      }
      return { tag: s.tag, children, ...form }
    }
    case 'int':
      return prim(intToContents(intFromView(x, s.names, path)))
    case 'alertCode': {
      if (typeof x !== 'string' || !/^[0-9A-Fa-f]{4}$/.test(x)) fail(path, 'expected 4 hex digits')
      return prim(intToContents(BigInt(`0x${x}`)))
    }
    case 'octets':
      return prim(hex(x, path))
    case 'time': {
      const m = VIEW_TIME.exec(str(x, path))
      if (!m) fail(path, 'expected YYYY-MM-DDTHH:MM:SSZ')
      return prim(Uint8Array.from(`${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}${m[6]}Z`, (c) => c.charCodeAt(0)))
    }
    case 'null':
      return prim(new Uint8Array(0))
    case 'bits':
      return prim(bitsFromView(x, s.names, path))
  }
}

export function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

/**
 * The length encoding GBCS uses in the MAC header, the grouping header and the payloads it
 * borrows from ASN.1 (GBCS 7.2: the DER definite form): one byte below 0x80, else 0x81 + one
 * byte or 0x82 + two bytes. GBCS frames never need more than 0xFFFF.
 */
import type { Reader } from './reader.ts'
import type { Writer } from './writer.ts'

export function readLength(r: Reader, what = 'length'): number {
  const first = r.u8(what)
  if (first < 0x80) return first
  if (first === 0x81) {
    const v = r.u8(what)
    if (v < 0x80) r.fail(`${what}: non-minimal length 81 ${v.toString(16).padStart(2, '0')}`)
    return v
  }
  if (first === 0x82) {
    const v = r.u16(what)
    if (v < 0x100) r.fail(`${what}: non-minimal length 82 ${v.toString(16).padStart(4, '0')}`)
    return v
  }
  return r.fail(`${what}: unsupported length form 0x${first.toString(16)}`)
}

export function writeLength(w: Writer, n: number): Writer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`bad GBCS length ${n}`)
  if (n < 0x80) return w.u8(n)
  if (n < 0x100) return w.u8(0x81).u8(n)
  return w.u8(0x82).u16(n)
}

export function lengthSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : 3
}

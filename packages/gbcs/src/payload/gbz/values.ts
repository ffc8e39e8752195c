/**
 * ZCL scalar encodings shared by the GBZ structure and the ZCL commands: little-endian
 * integers, bitmaps, UTC times, dates and length-prefixed strings, each with its JSON form.
 *
 * JSON forms: integers are numbers (decimal strings beyond 2^53); bitmaps and other opaque
 * fixed-size values are upper-case hex of the value, most significant byte first (so a map16
 * 0x0C94 sent as 94 0C reads '0C94'); UTC times (seconds since 2000-01-01 00:00:00 UTC) are
 * 'YYYY-MM-DDTHH:MM:SSZ'; dates are { year, month, day, dayOfWeek } with the raw octets
 * (year as 1900 + octet, 0xFF meaning "any"); strings are text when every octet is printable
 * ASCII, else { hex }.
 */
import { fromHex, toHex } from '@smetsim/core'
import type { Reader } from '../../codec/reader.ts'
import type { Writer } from '../../codec/writer.ts'
import { fail, hex, int, type JsonObject, obj, str } from '../dlms/json.ts'
import type { Json } from '../types.ts'

/** Seconds between 1970-01-01 and 2000-01-01, the ZigBee UTCTime epoch. */
const EPOCH_2000 = 946684800

export function readLE(r: Reader, n: number, what: string): bigint {
  const b = r.take(n, what)
  let v = 0n
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!)
  return v
}

export function writeLE(w: Writer, v: bigint, n: number): void {
  for (let i = 0; i < n; i++) {
    w.u8(Number(v & 0xffn))
    v >>= 8n
  }
}

/** A bigint as a JSON number when safe, else its decimal string. */
export function bigToJson(v: bigint): Json {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : `${v}`
}

export function jsonToBig(x: unknown, path: string, min: bigint, max: bigint): bigint {
  let v: bigint | undefined
  if (typeof x === 'number' && Number.isSafeInteger(x)) v = BigInt(x)
  else if (typeof x === 'string' && /^-?\d+$/.test(x)) v = BigInt(x)
  if (v === undefined || v < min || v > max) fail(path, `expected an integer ${min}..${max}`)
  return v
}

export function readUint(r: Reader, n: number, what: string): Json {
  return bigToJson(readLE(r, n, what))
}

export function writeUint(w: Writer, x: unknown, n: number, path: string): void {
  writeLE(w, jsonToBig(x, path, 0n, (1n << BigInt(8 * n)) - 1n), n)
}

export function readInt(r: Reader, n: number, what: string): Json {
  const u = readLE(r, n, what)
  const bits = BigInt(8 * n)
  return bigToJson(u >= 1n << (bits - 1n) ? u - (1n << bits) : u)
}

export function writeInt(w: Writer, x: unknown, n: number, path: string): void {
  const bits = BigInt(8 * n)
  const v = jsonToBig(x, path, -(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n)
  writeLE(w, v < 0n ? v + (1n << bits) : v, n)
}

/** An opaque little-endian value (bitmap, data, float) as hex, most significant byte first. */
export function readMap(r: Reader, n: number, what: string): string {
  return toHex(r.take(n, what).slice().reverse())
}

export function writeMap(w: Writer, x: unknown, n: number, path: string): void {
  w.bytes(hex(x, path, n).reverse())
}

export function utcToIso(seconds: number): string {
  return new Date((seconds + EPOCH_2000) * 1000).toISOString().replace('.000Z', 'Z')
}

export function isoToUtc(x: unknown, path: string): number {
  const s = str(x, path)
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s) ? Date.parse(s) : Number.NaN
  const seconds = ms / 1000 - EPOCH_2000
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff || utcToIso(seconds) !== s) {
    fail(path, "expected a UTC time 'YYYY-MM-DDTHH:MM:SSZ' from 2000-01-01T00:00:00Z to 2136-02-07T06:28:15Z")
  }
  return seconds
}

/** ZCL UTCTime: uint32 little-endian. */
export function readUtc(r: Reader, what: string): string {
  return utcToIso(Number(readLE(r, 4, what)))
}

export function writeUtc(w: Writer, x: unknown, path: string): void {
  writeLE(w, BigInt(isoToUtc(x, path)), 4)
}

/** ZCL Date: year - 1900, month, day of month, day of week (0xFF each for "any"). */
export function readDate(r: Reader, what: string): JsonObject {
  const b = r.take(4, what)
  return { year: 1900 + b[0]!, month: b[1]!, day: b[2]!, dayOfWeek: b[3]! }
}

export function writeDate(w: Writer, x: unknown, path: string): void {
  const d = obj(x, path)
  w.u8(int(d.year, `${path}.year`, 1900, 2155) - 1900)
  w.u8(int(d.month, `${path}.month`, 0, 255))
  w.u8(int(d.day, `${path}.day`, 0, 255))
  w.u8(int(d.dayOfWeek, `${path}.dayOfWeek`, 0, 255))
}

function printable(b: Uint8Array): boolean {
  return b.every((c) => c >= 0x20 && c <= 0x7e)
}

/** Octets as text when printable ASCII, else { hex }. */
export function bytesToText(b: Uint8Array): Json {
  return printable(b) ? String.fromCharCode(...b) : { hex: toHex(b) }
}

export function textToBytes(x: unknown, path: string): Uint8Array {
  if (typeof x === 'string') {
    const b = Uint8Array.from(x, (c) => c.charCodeAt(0))
    if (!printable(b)) fail(path, 'expected printable ASCII text (give { hex } otherwise)')
    return b
  }
  const o = obj(x, path)
  const b = hex(o.hex, `${path}.hex`)
  if (printable(b)) fail(path, 'printable octets must be given as text')
  return b
}

/** A ZCL octet or character string: one length octet, then the octets. */
export function readString(r: Reader, what: string): Json {
  const n = r.u8(`${what} length`)
  return bytesToText(r.take(n, what))
}

export function writeString(w: Writer, x: unknown, path: string): void {
  const b = textToBytes(x, path)
  if (b.length > 255) fail(path, 'a ZCL string holds at most 255 octets')
  w.u8(b.length).bytes(b)
}

export function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0')
}

export function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

/** A 16-bit identifier given as 4 hex digits ('0705'). */
export function parseId(x: unknown, path: string): number {
  const s = str(x, path)
  if (!/^[0-9A-Fa-f]{4}$/.test(s)) fail(path, "expected 4 hex digits, e.g. '0705'")
  return Number.parseInt(s, 16)
}

export { fromHex, toHex }

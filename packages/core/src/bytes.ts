/** Byte helpers shared by every package: hex text, concatenation, comparison. */

const HEX_DIGITS = '0123456789ABCDEF'

/** The two hex digits of every byte value: one concatenation per byte instead of two. */
const HEX_PAIRS: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!,
)

/** Upper-case hex without separators, as GBCS and DUIS print bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!]!
  return out
}

/**
 * Parses hex text. White space, ':' and '-' between byte pairs are ignored, case is free.
 * Throws a RangeError naming the first bad character (or an odd digit count).
 */
export function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1)
  let n = 0
  let high = -1
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const v = hexValue(c)
    if (v < 0) {
      if (isSeparator(c)) continue
      throw new RangeError(`not hex: '${text[i]}' at hex digit ${digitsBefore(text, i)}`)
    }
    if (high < 0) high = v
    else {
      out[n++] = (high << 4) | v
      high = -1
    }
  }
  if (high >= 0) throw new RangeError(`odd number of hex digits (${2 * n + 1})`)
  return n === out.length ? out : out.slice(0, n)
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48 // 0-9
  if (c >= 65 && c <= 70) return c - 55 // A-F
  if (c >= 97 && c <= 102) return c - 87 // a-f
  return -1
}

function isSeparator(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 58 /* : */ || c === 45 /* - */
}

function digitsBefore(text: string, end: number): number {
  let n = 0
  for (let i = 0; i < end; i++) if (hexValue(text.charCodeAt(i)) >= 0) n++
  return n
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Big-endian unsigned integer of up to 8 bytes as a bigint. */
export function readUintBE(bytes: Uint8Array): bigint {
  if (bytes.length === 8) return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0)
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/** Big-endian unsigned integer in exactly `length` bytes; throws if it does not fit. */
export function writeUintBE(value: bigint, length: number): Uint8Array {
  if (value < 0n || value >= 1n << BigInt(8 * length)) {
    throw new RangeError(`${value} does not fit in ${length} unsigned bytes`)
  }
  const out = new Uint8Array(length)
  if (length === 8) {
    new DataView(out.buffer).setBigUint64(0, value)
    return out
  }
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn)
    value >>= 8n
  }
  return out
}

/** Bytes carved from one slab before a new one is started (see allocBytes). */
const SLAB_SIZE = 16 * 1024
/** V8 keeps typed arrays up to this size on the heap; larger ones get their own backing store. */
const ON_HEAP_MAX = 64
let slab = new ArrayBuffer(SLAB_SIZE)
let slabUsed = 0

/**
 * A new zero-filled byte array of length n, cheap whatever its size. V8 gives every Uint8Array
 * above 64 bytes its own off-heap backing store, which costs far more than the array's bytes
 * (node 20: 756 ns for `new Uint8Array(140)`, 33 ns for a view) and adds garbage-collector work;
 * a device or the DCC makes several such arrays per frame. So arrays above 64 bytes (up to 1 KiB)
 * are views into a shared 16 KiB slab, each region used once (a fresh ArrayBuffer is zero, so no
 * fill is needed), as Node pools its small Buffers. Two consequences, both as with Node's pool:
 * a view keeps its whole slab alive while it lives, and `.buffer` is the slab — always pair it
 * with `byteOffset` and `byteLength`.
 */
export function allocBytes(n: number): Uint8Array {
  if (n <= ON_HEAP_MAX || n > 1024) return new Uint8Array(n)
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE)
    slabUsed = 0
  }
  const view = new Uint8Array(slab, slabUsed, n)
  slabUsed += (n + 7) & ~7
  return view
}

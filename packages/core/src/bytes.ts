/** Byte helpers shared by every package: hex text, concatenation, comparison. */

const HEX_DIGITS = '0123456789ABCDEF'

/** Upper-case hex without separators, as GBCS and DUIS print bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!
  return out
}

/**
 * Parses hex text. White space, ':' and '-' between byte pairs are ignored, case is free.
 * Throws a RangeError naming the first bad character (or an odd digit count).
 */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:-]/g, '')
  const bad = clean.search(/[^0-9a-fA-F]/)
  if (bad >= 0) throw new RangeError(`not hex: '${clean[bad]}' at hex digit ${bad}`)
  if (clean.length % 2 !== 0) throw new RangeError(`odd number of hex digits (${clean.length})`)
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
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
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn)
    value >>= 8n
  }
  return out
}

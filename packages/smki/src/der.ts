/**
 * Just enough DER (the ASN.1 encoding of X.509) to write SMKI certificates and read back the
 * fields node:crypto does not expose: the EUI in x500UniqueIdentifier and hardwareModuleName,
 * key usage bits, key identifiers and validity dates. Single-byte tags only, as X.509 needs.
 */

export interface Tlv {
  tag: number
  /** The value bytes. */
  content: Uint8Array
  /** Tag, length and value. */
  raw: Uint8Array
}

// ---- writing ----

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]
  return concat([Uint8Array.of(tag, ...length), content])
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(0x30, concat(items))
export const set = (...items: Uint8Array[]): Uint8Array => tlv(0x31, concat(items))
/** [n] EXPLICIT / constructed context tag. */
export const context = (n: number, ...items: Uint8Array[]): Uint8Array => tlv(0xa0 | n, concat(items))
export const boolean = (value: boolean): Uint8Array => tlv(0x01, Uint8Array.of(value ? 0xff : 0x00))
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes)
/** A BIT STRING whose length is a whole number of bytes (0 unused bits). */
export const bitString = (bytes: Uint8Array): Uint8Array => tlv(0x03, concat([Uint8Array.of(0), bytes]))
export const utf8String = (text: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(text))
export const printableString = (text: string): Uint8Array => {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError(`not a PrintableString: '${text}'`)
  return tlv(0x13, new TextEncoder().encode(text))
}

/** A non-negative INTEGER from its big-endian magnitude. */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++
  const bytes = magnitude.subarray(start)
  return tlv(0x02, bytes.length === 0 || bytes[0]! & 0x80 ? concat([Uint8Array.of(0), bytes]) : bytes)
}

export const smallInteger = (n: number): Uint8Array => unsignedInteger(Uint8Array.of(n))

export function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number)
  const out = [40 * arcs[0]! + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80)
    out.push(...base128)
  }
  return tlv(0x06, Uint8Array.from(out))
}

/** RFC 5280 §4.1.2.5: UTCTime up to 2049, GeneralizedTime from 2050. */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
  const year = date.getUTCFullYear()
  if (year < 1950 || year > 9999) throw new RangeError(`date out of range for X.509: ${iso}`)
  return year < 2050
    ? tlv(0x17, new TextEncoder().encode(digits.slice(2)))
    : tlv(0x18, new TextEncoder().encode(digits))
}

// ---- reading ----

export function readTlv(bytes: Uint8Array, offset = 0): Tlv {
  const tag = bytes[offset]
  let first = bytes[offset + 1]
  if (tag === undefined || first === undefined) throw new RangeError(`DER: truncated at byte ${offset}`)
  if ((tag & 0x1f) === 0x1f) throw new RangeError(`DER: multi-byte tag at byte ${offset}`)
  let at = offset + 2
  let length = first
  if (first & 0x80) {
    const count = first & 0x7f
    if (count === 0 || count > 4) throw new RangeError(`DER: bad length at byte ${offset}`)
    length = 0
    for (let i = 0; i < count; i++) {
      first = bytes[at++]
      if (first === undefined) throw new RangeError(`DER: truncated at byte ${offset}`)
      length = length * 256 + first
    }
  }
  if (at + length > bytes.length) throw new RangeError(`DER: value at byte ${offset} runs past the end`)
  return { tag, content: bytes.subarray(at, at + length), raw: bytes.subarray(offset, at + length) }
}

/** The elements inside a constructed value (SEQUENCE, SET, context tag). */
export function children(parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = 0; at < parent.content.length; ) {
    const child = readTlv(parent.content, at)
    out.push(child)
    at += child.raw.length
  }
  return out
}

export function decodeObjectIdentifier(content: Uint8Array): string {
  const arcs: number[] = []
  let value = 0
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f)
    if (byte & 0x80) continue
    if (arcs.length === 0)
      arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
    else arcs.push(value)
    value = 0
  }
  return arcs.join('.')
}

/** UTCTime (tag 0x17) or GeneralizedTime (0x18) in the 'Z' form X.509 requires. */
export function decodeTime(node: Tlv): Date {
  const text = new TextDecoder().decode(node.content)
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (!m || (node.tag === 0x17) !== (m[1]!.length === 2))
    throw new RangeError(`DER: not an X.509 time: '${text}'`)
  let year = Number(m[1])
  if (node.tag === 0x17) year += year < 50 ? 2000 : 1900
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
}

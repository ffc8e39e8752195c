/**
 * EUI-64: the 64-bit identifier of every GB smart-metering party and device (a Device ID, a
 * User ID, the system title in a GBCS frame). Canonical text form here: 16 upper-case hex
 * digits, no separators. DUIS writes it with dashes ("90-B3-D5-1F-30-01-00-00"); the RTDS
 * keystore names files with 16 lower-case digits.
 */
import { fromHex, toHex } from './bytes.ts'

declare const euiBrand: unique symbol
export type Eui64 = string & { readonly [euiBrand]: true }

/** Accepts any case, with or without '-', ':' or spaces between bytes. Throws a RangeError otherwise. */
export function parseEui(text: string): Eui64 {
  const clean = text.replace(/[\s:-]/g, '').toUpperCase()
  if (!/^[0-9A-F]{16}$/.test(clean)) throw new RangeError(`not an EUI-64: '${text}'`)
  return clean as Eui64
}

export function isEui(text: string): text is Eui64 {
  return /^[0-9A-F]{16}$/.test(text)
}

export function euiFromBytes(bytes: Uint8Array): Eui64 {
  if (bytes.length !== 8) throw new RangeError(`an EUI-64 is 8 bytes, got ${bytes.length}`)
  return toHex(bytes) as Eui64
}

export function euiToBytes(eui: Eui64): Uint8Array {
  return fromHex(eui)
}

/** DUIS form: upper-case byte pairs joined by '-'. */
export function euiToDuis(eui: Eui64): string {
  return eui.match(/../g)!.join('-')
}

/** RTDS keystore form: 16 lower-case hex digits. */
export function euiToFileStem(eui: Eui64): string {
  return eui.toLowerCase()
}

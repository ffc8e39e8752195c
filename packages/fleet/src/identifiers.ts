/**
 * The identifiers of a premise, all computed from its index: the EUI-64s of its devices, its
 * MPAN core and MPRN. Nothing is stored to find them again: `locate` turns an EUI back into
 * (premise, role) by arithmetic.
 *
 * EUIs: premise i owns the block of eight EUIs starting at `first + 8i`, numbered as the DCC's
 * Reference Test Data Set numbers the devices of its one premise (…A0 ESME, …A1 GSME, …A2 CHF,
 * …A3 GPF, …A4 PPMID); the last three of the block are unused. That the GPF's EUI follows the
 * CHF's is the RTDS's numbering, not a rule we found in GBCS (unconfirmed).
 */
import type { Eui64 } from '@smetsim/core'

export const DEVICE_ROLES = ['ESME', 'GSME', 'CHF', 'GPF', 'PPMID'] as const
export type DeviceRole = (typeof DEVICE_ROLES)[number]

/** Where each role sits in a premise's block of EUIs. */
export const EUI_OFFSET: Readonly<Record<DeviceRole, number>> = { ESME: 0, GSME: 1, CHF: 2, GPF: 3, PPMID: 4 }
export const EUIS_PER_PREMISE = 8

/** Upper-case hex digits as ASCII codes, and a 16-character buffer to write an EUI into. */
const HEX = Uint8Array.from('0123456789ABCDEF', (ch) => ch.charCodeAt(0))
const text = Buffer.alloc(16)
const TWO_32 = 4_294_967_296

/** The EUI `first + n` (first as 16 hex digits), as a flat string. */
export function euiPlus(first: bigint, n: number): Eui64 {
  if (n < 0 || !Number.isSafeInteger(n) || first < 0n || first >= 1n << 64n) return euiText(first + BigInt(n))
  // In two 32-bit halves (no BigInt per EUI): the low half plus n, its carry into the high.
  const low = Number(first & 0xffffffffn) + n
  const high = Number(first >> 32n) + Math.floor(low / TWO_32)
  if (high >= TWO_32) return euiText(first + BigInt(n)) // past FFFFFFFFFFFFFFFF: refused there
  writeHex(high, 0)
  writeHex((low % TWO_32) >>> 0, 8)
  // latin1 decoding gives a flat (sequential) string: a concatenated one would cost a rope of
  // small pieces for as long as the device holds it.
  return text.toString('latin1', 0, 16) as Eui64
}

function euiText(value: bigint): Eui64 {
  if (value < 0n || value >= 1n << 64n) throw new RangeError(`EUI-64 out of range: ${value}`)
  writeHex(Number(value >> 32n), 0)
  writeHex(Number(value & 0xffffffffn), 8)
  return text.toString('latin1', 0, 16) as Eui64
}

function writeHex(word: number, at: number): void {
  for (let k = 7; k >= 0; k--, word >>>= 4) text[at + k] = HEX[word & 0xf]!
}

export function premiseEui(first: bigint, premise: number, role: DeviceRole): Eui64 {
  return euiPlus(first, premise * EUIS_PER_PREMISE + EUI_OFFSET[role])
}

/** Which premise and role an EUI is, or undefined when it is none of the fleet's devices. */
export function locate(
  first: bigint,
  premises: number,
  eui: string,
): { premise: number; role: DeviceRole } | undefined {
  if (!/^[0-9A-Fa-f]{16}$/.test(eui)) return undefined
  const offset = BigInt(`0x${eui}`) - first
  if (offset < 0n || offset >= BigInt(premises) * BigInt(EUIS_PER_PREMISE)) return undefined
  const n = Number(offset)
  const role = DEVICE_ROLES[n % EUIS_PER_PREMISE]
  return role && { premise: Math.floor(n / EUIS_PER_PREMISE), role }
}

/**
 * The check digit of a 13-digit MPAN core from its first 12 digits: each digit times the primes
 * 3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43 in turn, the sum modulo 11, then modulo 10 (the
 * MPAN core check as it is published; no DUIS or GBCS text defines it).
 */
export function mpanCheckDigit(first12: string): number {
  const primes = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]
  let sum = 0
  for (let k = 0; k < 12; k++) sum += (first12.charCodeAt(k) - 48) * primes[k]!
  return (sum % 11) % 10
}

/**
 * The MPAN core of a premise: the distributor ID (two digits), ten digits unique in the fleet
 * (the premise number from `first`), and the check digit.
 */
export function premiseMpan(distributorId: number, first: number, premise: number): string {
  const body = distributorId * 10_000_000_000 + first + premise
  // Made from a number, so the string is flat (a concatenation of 13 characters or more would
  // be a rope of pieces for as long as it is held).
  return String(body * 10 + mpanCheckDigit(String(body)))
}

/**
 * The MPRN of a premise: ten digits from `first`. Real MPRNs end in check digits whose
 * algorithm is not public here: these carry none (registration does not check them).
 */
export function premiseMprn(first: number, premise: number): string {
  return String(first + premise)
}

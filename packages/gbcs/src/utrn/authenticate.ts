/**
 * Making and checking a UTRN: the Supplier's side (generateUtrn) and the device's
 * (checkUtrn). checkUtrn answers only "is this a well-formed, authentic UTRN for me, and what
 * does it carry?". What a meter does next (reject a counter at or below its floor or already
 * in its UTRN counter cache, the maximum credit and maximum meter balance thresholds, the
 * keypad lock-out, the alerts) belongs to the device firmware, which gets the full counter
 * from here to do it.
 */
import { type CryptoBackend, getBackend, type SystemTitle, tagsEqual } from '../crypto/index.ts'
import { DEFAULT_COUNTER_BEHIND, reconstructTopUpCounter, topUpCounterBits } from './counter.ts'
import { type UtrnKeyAgreement, utrnKey, utrnMac } from './mac.ts'
import {
  type DecodedUtrn,
  decodeUtrn,
  encodeUtrn,
  type UtrnFormatError,
  utrnHeader,
  type ValueClass,
} from './utrn.ts'

export interface GenerateUtrnParams {
  /** The top-up counter: a multiple of 2^32 below 2^64, one step per UTRN. */
  counter: bigint
  /** 0…8191 in the unit of the value class. */
  value: number
  valueClass: ValueClass
  /** The Supplier's EUI. */
  originator: SystemTitle
  /** The device's EUI. */
  recipient: SystemTitle
  /** Supplier Prepayment Top-Up KA private key and device KA public key (or the device's pair). */
  key: UtrnKeyAgreement
  /** Defaults to the backend of `key.own`. */
  backend?: CryptoBackend
}

/** The 20-digit UTRN a Supplier issues. Throws a RangeError on a field out of range. */
export function generateUtrn(p: GenerateUtrnParams): string {
  const header = utrnHeader(topUpCounterBits(p.counter), p.valueClass, p.value)
  const backend = p.backend ?? getBackend(p.key.own.backend)
  const input = { supplier: p.originator, device: p.recipient, counter: p.counter }
  const key = utrnKey(backend.ecdh(p.key.own, p.key.other), input)
  const mac = utrnMac(key, { ...input, header })
  return encodeUtrn({ counter: p.counter, value: p.value, valueClass: p.valueClass, mac })
}

/**
 * Where the full 64-bit counter comes from:
 * - `{ exact }`: a UTRN sent in a command (CS01a, CS01b) is checked against that command's
 *   originator counter, which equals the UTRN's counter in every RTDS frame;
 * - `{ reference, behind? }`: a UTRN typed in (keypad, PPMID) is reconstructed from its
 *   10 counter bits around the device's highest accepted top-up counter (or its floor); see
 *   reconstructTopUpCounter for the rule, which is unconfirmed.
 */
export type UtrnCounterSource = { exact: bigint } | { reference: bigint; behind?: number }

export interface CheckUtrnParams {
  /** The device's own EUI. */
  device: SystemTitle
  /** The Supplier's EUI (the device's Supplier trust anchor). */
  supplier: SystemTitle
  /** Device KA private key and Supplier Prepayment Top-Up KA public key (or the Supplier's pair). */
  key: UtrnKeyAgreement
  counter: UtrnCounterSource
  /** Defaults to the backend of `key.own`. */
  backend?: CryptoBackend
}

export type UtrnCheck =
  | {
      ok: true
      /** The full 64-bit top-up counter, for the firmware's floor and duplicate checks. */
      counter: bigint
      /** The credit in pennies. */
      value: number
      valueClass: ValueClass
      utrn: DecodedUtrn
    }
  /** Not 20 digits, wrong check digit, fields out of range. */
  | { ok: false; reason: 'format'; error: UtrnFormatError }
  /**
   * No full counter to check against: an exact counter that is not a UTRN counter or whose
   * low 10 bits differ from the token's, or a reconstruction that overflows 64 bits.
   */
  | { ok: false; reason: 'counter'; message: string; utrn: DecodedUtrn }
  /** The MAC word does not match: forged, mistyped past the check digit, for another device or Supplier. */
  | { ok: false; reason: 'not-authentic'; counter: bigint; utrn: DecodedUtrn }

/**
 * The device's check of a UTRN: its format, then its MAC under the full counter. Never throws
 * on the digits; throws a RangeError on a malformed EUI.
 */
export function checkUtrn(digits: string, p: CheckUtrnParams): UtrnCheck {
  const decoded = decodeUtrn(digits)
  if (!decoded.ok) return { ok: false, reason: 'format', error: decoded.error }
  const utrn = decoded.value
  const counter = fullCounter(utrn.counterBits, p.counter)
  if (typeof counter === 'string') return { ok: false, reason: 'counter', message: counter, utrn }
  const backend = p.backend ?? getBackend(p.key.own.backend)
  const input = { supplier: p.supplier, device: p.device, counter }
  const key = utrnKey(backend.ecdh(p.key.own, p.key.other), input)
  if (!tagsEqual(utrnMac(key, { ...input, header: utrn.header }), utrn.mac)) {
    return { ok: false, reason: 'not-authentic', counter, utrn }
  }
  return { ok: true, counter, value: utrn.pennies, valueClass: utrn.valueClass, utrn }
}

/** The full counter, or why there is none. */
function fullCounter(counterBits: number, source: UtrnCounterSource): bigint | string {
  if ('exact' in source) {
    let bits: number
    try {
      bits = topUpCounterBits(source.exact)
    } catch (e) {
      return (e as Error).message
    }
    if (bits !== counterBits) {
      return `the UTRN carries counter bits ${counterBits}, the counter ${source.exact} has ${bits}`
    }
    return source.exact
  }
  const counter = reconstructTopUpCounter(
    counterBits,
    source.reference,
    source.behind ?? DEFAULT_COUNTER_BEHIND,
  )
  return counter ?? `counter bits ${counterBits} near ${source.reference} give a counter beyond 2^64`
}

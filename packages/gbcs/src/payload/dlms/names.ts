/**
 * Names the use-case views give to DLMS numbers: result codes, alert codes, COSEM date-times,
 * the prepayment credit and charge objects.
 */
import { fromHex, toHex } from '@smetsim/core'
import { fail, str } from './json.ts'

/** Data-Access-Result (Green Book), the result of a get or a set. */
export const DATA_ACCESS_RESULTS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'hardware-fault',
  2: 'temporary-failure',
  3: 'read-write-denied',
  4: 'object-undefined',
  9: 'object-class-inconsistent',
  11: 'object-unavailable',
  12: 'type-unmatched',
  13: 'scope-of-access-violated',
  14: 'data-block-unavailable',
  15: 'long-get-aborted',
  16: 'no-long-get-in-progress',
  17: 'long-set-aborted',
  18: 'no-long-set-in-progress',
  19: 'data-block-number-invalid',
  250: 'other-reason',
}

/** Action-Result (Green Book), the result of an action. */
export const ACTION_RESULTS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'hardware-fault',
  2: 'temporary-failure',
  3: 'read-write-denied',
  4: 'object-undefined',
  9: 'object-class-inconsistent',
  11: 'object-unavailable',
  12: 'type-unmatched',
  13: 'scope-of-access-violated',
  14: 'data-block-unavailable',
  15: 'long-action-aborted',
  16: 'no-long-action-in-progress',
  250: 'other-reason',
}

export function resultName(kind: 'get' | 'set' | 'action', code: number): string | number {
  return (kind === 'action' ? ACTION_RESULTS : DATA_ACCESS_RESULTS)[code] ?? code
}

const byName = (table: Readonly<Record<number, string>>) =>
  new Map(Object.entries(table).map(([code, name]) => [name, Number(code)]))
const ACTION_CODES = byName(ACTION_RESULTS)
const DATA_ACCESS_CODES = byName(DATA_ACCESS_RESULTS)

export function resultCode(kind: 'get' | 'set' | 'action', v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v
  const code = (kind === 'action' ? ACTION_CODES : DATA_ACCESS_CODES).get(v as string)
  if (code === undefined)
    fail(path, `expected a ${kind === 'action' ? 'action' : 'data-access'} result name or 0..255`)
  return code
}

/**
 * ESME alert codes (GBCS Alert Codes table) whose meaning we have confirmed. The RTDS frames
 * carry 8F0A, 8F12, 8F20, 8F26, 8F28, 8F2A, 8F2C, 8F2D, 8F30, 8F36, 8F66, 8F72, 810E, 81A0
 * and more; names are ours.
 */
export const ALERT_NAMES: Readonly<Record<number, string>> = {
  33037: 'Combined Credit Below Low Credit Threshold (prepayment mode)',
  33038: 'Credit Added Locally',
  33049: 'Emergency Credit Has Become Available (prepayment mode)',
  33128: 'Supply Disabled then Armed: Activate Emergency Credit triggered',
  33184: 'Smart Meter Integrity Issue: Warning',
  33194: 'Emergency Credit Exhausted',
  33195: 'Emergency Credit Activated',
  36618: 'Billing Data Log Updated',
  36623: 'Credit Below Disablement Threshold (prepayment mode)',
  36626: 'CHF Device Log Changed',
  36638: 'Command Content or Format Integrity Check Failed',
  36640: 'Limited Duty Cycle Action Taken',
  36646: 'Sub GHz Channel Changed',
  36648: 'Sub GHz Channel Scan Request Assessment Outcome',
  36650: 'Sub GHz Configuration Changed',
  36652: 'Message Discarded Due to Duty Cycle Management',
  36653: 'No More Sub GHz Device Capacity',
  36656: 'Source Does Not Have Authority for Command',
  36658: 'Supply Armed',
  36659: 'Supply Disabled then Armed: Load Limit triggered',
  36662: 'Supply Outage Restored (outage of 3 minutes or more)',
  36669: 'Trusted Source Authentication Failure',
  36710: 'Future-Dated Command Successfully Actioned',
  36711: 'Future-Dated Command Not Successfully Actioned',
  36722: 'Firmware Verification Successful',
  36740: 'Failure to Deliver Remote Party Message to ESME',
}

/** Four upper-case hex digits: 0x8F66 -> '8F66'. */
export function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

export function parseHex4(v: unknown, path: string): number {
  const s = str(v, path)
  if (!/^[0-9A-Fa-f]{4}$/.test(s)) fail(path, "expected four hex digits, e.g. '8F66'")
  return Number.parseInt(s, 16)
}

// ---------------------------------------------------------------------------------------------
// COSEM date-time (12 bytes: year:2 month day day-of-week hour minute second hundredths
// deviation:2 clock-status)

const NOW = '0000000000000000008000FF'
const UNSPECIFIED = 'FFFFFFFFFFFFFFFFFF8000FF'

/**
 * A 12-byte COSEM date-time as the views show it:
 *  'now'          all fields zero, deviation unspecified (GBCS: execute immediately)
 *  'unspecified'  all fields FF, deviation unspecified (GBCS: e.g. cancel a future-dated command)
 *  '2030-01-15T09:00:00Z'  a UTC time with day-of-week FF, hundredths 00, deviation 8000 and
 *                 clock status FF, the form GBCS uses
 *  otherwise the 24 hex digits.
 */
export function dateTimeToView(hex: string): string {
  const h = hex.toUpperCase()
  if (h === NOW) return 'now'
  if (h === UNSPECIFIED) return 'unspecified'
  const b = fromHex(h)
  if (b.length !== 12) return h
  const year = (b[0]! << 8) | b[1]!
  const [month, day, dow, hour, minute, second, hundredths] = [
    b[2]!,
    b[3]!,
    b[4]!,
    b[5]!,
    b[6]!,
    b[7]!,
    b[8]!,
  ]
  const tail = toHex(b.subarray(9))
  const valid =
    dow === 0xff &&
    hundredths === 0 &&
    tail === '8000FF' &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 31 &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    year <= 9999
  if (!valid) return h
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${p(year, 4)}-${p(month)}-${p(day)}T${p(hour)}:${p(minute)}:${p(second)}Z`
}

/** Inverse of dateTimeToView: the 24 hex digits. */
export function dateTimeFromView(v: unknown, path: string): string {
  const s = str(v, path)
  if (s === 'now') return NOW
  if (s === 'unspecified') return UNSPECIFIED
  if (/^[0-9A-Fa-f]{24}$/.test(s)) return s.toUpperCase()
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(s)
  if (!m) fail(path, "expected 'now', 'unspecified', 'YYYY-MM-DDTHH:MM:SSZ' or 24 hex digits")
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    fail(path, `not a valid date-time: ${s}`)
  }
  const bytes = Uint8Array.of(
    year >> 8,
    year & 0xff,
    month,
    day,
    0xff,
    hour,
    minute,
    second,
    0,
    0x80,
    0,
    0xff,
  )
  return toHex(bytes)
}

// ---------------------------------------------------------------------------------------------
// Prepayment objects referenced by an Account's credit-charge configuration (GBCS ESME object
// list): Credit (class 112) and Charge (class 113) instances.

export const CREDIT_NAMES: Readonly<Record<string, string>> = {
  '0.0.19.10.0.255': 'meterBalance',
  '0.0.19.10.1.255': 'emergencyCredit',
  '0.0.19.10.2.255': 'accumulatedDebt',
}

export const CHARGE_NAMES: Readonly<Record<string, string>> = {
  '0.0.19.20.0.255': 'priceMatrix',
  '0.0.19.20.1.255': 'debtRecoveryRate1',
  '0.0.19.20.2.255': 'debtRecoveryRate2',
  '0.0.19.20.3.255': 'debtRecoveryPerPayment',
  '0.0.19.20.4.255': 'standingCharge',
  '0.0.19.20.5.255': 'secondaryPriceMatrix',
}

export function nameOf(table: Readonly<Record<string, string>>, obis: string): string {
  return table[obis] ?? obis
}

export function obisOf(table: Readonly<Record<string, string>>, v: unknown, path: string): string {
  const s = str(v, path)
  const hit = Object.entries(table).find(([, n]) => n === s)
  return hit ? hit[0] : s
}

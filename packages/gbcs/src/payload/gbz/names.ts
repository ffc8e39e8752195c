/**
 * Names the GBZ use-case views give to numbers: ZCL status codes, GSME alert codes, supply
 * states, the meter-integrity "other info" codes, and the view form of UTC times.
 */
import { fail, int, str } from '../dlms/json.ts'
import { isoToUtc, utcToIso } from './values.ts'

/** ZCL status codes (ZCL 2.5.3), as the views show them. */
export const ZCL_STATUS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'failure',
  126: 'not-authorized',
  127: 'reserved-field-not-zero',
  128: 'malformed-command',
  129: 'unsupported-cluster-command',
  130: 'unsupported-general-command',
  131: 'unsupported-manufacturer-cluster-command',
  132: 'unsupported-manufacturer-general-command',
  133: 'invalid-field',
  134: 'unsupported-attribute',
  135: 'invalid-value',
  136: 'read-only',
  137: 'insufficient-space',
  138: 'duplicate-exists',
  139: 'not-found',
  140: 'unreportable-attribute',
  141: 'invalid-data-type',
  142: 'invalid-selector',
  143: 'write-only',
  144: 'inconsistent-startup-state',
  145: 'defined-out-of-band',
  146: 'inconsistent',
  147: 'action-denied',
  148: 'timeout',
  149: 'abort',
  150: 'invalid-image',
  151: 'wait-for-data',
  152: 'no-image-available',
  153: 'require-more-image',
  192: 'hardware-failure',
  193: 'software-failure',
  194: 'calibration-error',
}

/** A number by its name in `table`, or the number itself (0..max). */
export function codeOf(table: Readonly<Record<number, string>>, v: unknown, path: string, max = 255): number {
  if (typeof v === 'number') return int(v, path, 0, max)
  const hit = Object.entries(table).find(([, n]) => n === v)
  if (!hit) fail(path, `expected one of ${Object.values(table).join(', ')} or a number 0..${max}`)
  return Number(hit[0])
}

export function nameOf(table: Readonly<Record<number, string>>, n: number): string | number {
  return table[n] ?? n
}

/** ZSE Metering Supply Status (attribute 0x0014, Change Supply, Supply Status Response). */
export const SUPPLY_STATUS: Readonly<Record<number, string>> = { 0: 'disabled', 1: 'armed', 2: 'enabled' }

/** The 81A0 meter-integrity-issue warning's other-info codes (our wording). */
export const INTEGRITY_ISSUES: Readonly<Record<number, string>> = {
  0: 'other',
  1: 'non-volatile-memory-error',
  2: 'program-execution-error',
  3: 'program-storage-error',
  4: 'ram-error',
  5: 'unexpected-hardware-reset',
  6: 'watchdog-error',
  7: 'metrology-firmware-verification-failure',
  8: 'measurement-fault',
  9: 'unspecified-operational-integrity-error',
}

/**
 * GSME / GPF alert codes named after the GBCS alert titles (our wording), for the alerts in
 * DOMAIN.md section 6 and the GBZ alerts of RTDS 4.5.0.
 */
export const GBZ_ALERT_NAMES: Readonly<Record<number, string>> = {
  32881: 'GPF Device Log Changed',
  33037: 'Low Credit',
  33038: 'Credit Added Locally',
  33049: 'Emergency Credit Available',
  33128: 'Supply Armed by Emergency Credit Activation',
  33181: 'Command Not Retrieved by the GSME',
  33184: 'Meter Integrity Issue Warning',
  33191: 'Time Debt 1 Cleared',
  33192: 'Time Debt 2 Cleared',
  33193: 'Payment Debt Cleared',
  33194: 'Emergency Credit Exhausted',
  33195: 'Emergency Credit Activated',
  33214: 'Supply Locked after Tamper',
  33215: 'Supply Armed after Uncontrolled Gas Flow',
  36618: 'Billing Data Log Updated',
  36623: 'Credit Below Disablement Threshold',
  36626: 'CHF Device Log Changed',
  36637: 'Power Loss',
  36638: 'Command Integrity Check Failed',
  36639: 'Low Battery',
  36649: 'GSME Lost by the GPF',
  36656: 'Source Lacks Authority for Command',
  36658: 'Supply Armed',
  36659: 'Load Limit: Supply Disabled then Armed',
  36660: 'Load Limit: Supply Restored',
  36669: 'Authentication Failure',
  36679: 'Top Up Rejected: Maximum Meter Balance Exceeded',
  36680: 'Device Join Failed',
  36681: 'Device Joined',
  36684: 'Device Certificate Replacement Outcome',
  36685: 'Device Certificate Replacement Outcome',
  36686: 'Device Certificate Replacement Outcome',
  36687: 'Device Certificate Replacement Outcome',
  36689: 'Top Up Rejected: Already Used',
  36691: 'Command Authority Check Failed',
  36699: 'Top Up Rejected: Maximum Credit Threshold Exceeded',
  36707: 'Top Up Rejected: Not Authentic',
  36708: 'Top Up Rejected: For Another Device',
  36710: 'Future-Dated Command Executed',
  36711: 'Future-Dated Command Not Executed',
  36713: 'Device Commissioned',
  36720: 'Security Credentials Updated',
  36722: 'Firmware Distribution Receipt',
  36739: 'Disablement Suspended in Non-Disablement Period',
}

const NOW = '2000-01-01T00:00:00Z'
const UNSPECIFIED = '2136-02-07T06:28:15Z'

/** A UTC time as a view shows it: 'now' for 0 (immediately), 'unspecified' for 0xFFFFFFFF. */
export function timeToView(iso: string): string {
  return iso === NOW ? 'now' : iso === UNSPECIFIED ? 'unspecified' : iso
}

export function timeFromView(v: unknown, path: string): string {
  const s = str(v, path)
  if (s === 'now') return NOW
  if (s === 'unspecified') return UNSPECIFIED
  return utcToIso(isoToUtc(s, path))
}

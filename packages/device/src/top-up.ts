/**
 * Prepayment top-up by UTRN: sent by the supplier (SR 2.2, CS01a) or typed on the keypad or
 * the PPMID. The meter checks, in this order (the order is ours; GBCS does not publish it):
 *  1. keypad lock-out: after LOCKOUT_FAILURES rejected entries in a row, entries are refused
 *     (0x81C5 "UTRN rejected as locked out") for LOCKOUT_MS; the entry that starts a lock-out
 *     raises 0x81C4 "UTRN Manual Entry Suspended" (the names of GBCS's alert table, as
 *     SmartDCCInnovation/gbcs-parser src/util.ts lists them);
 *  2. the token's form and check digit, then its MAC under the key agreed between the
 *     device's key-agreement key and the supplier's prepayment top-up cell, with the full
 *     top-up counter rebuilt from the token's 10 counter bits (gbcs/utrn) → 0x8F63;
 *  3. not seen before: above the top-up floor and not in the UTRN counter cache → 0x8F51;
 *  4. the amount: above the max credit threshold → 0x8F5B, would exceed the max meter balance
 *     → 0x8F47 (prepayment/applyTopUp);
 * then credits the account (debt recovery first).
 *
 * The top-up counter is the supplier's prepayment top-up Originator Counter, kept apart from its
 * command counter (DOMAIN.md 3.4): the floor `counters.supplierPrepayment` and the cache of the
 * last RECENT_UTRNS accepted counters (`utrns`). A CS01a carries its UTRN's counter as the
 * command's Originator Counter (every RTDS 4.5.0 CS01a: 3·2^32 and 5·2^32, beside supplier command
 * counters of about 1000), and GBCS gives CS01a "additional cryptographic processing" of its own
 * (GBCS 14.3.4 and 14.3.5, as the use-case table of SmartDCCInnovation/duis-templates
 * src/gbcs-mapping-table.json says): so a CS01a is checked against, and moves, only this
 * counter, never the command counter (authenticate.ts, firmware.ts).
 *
 * 0x8F64 "UTRN not for this Device" is never raised: the device cannot tell a UTRN made for
 * another device from a forgery. The 64-bit PTUT inside a UTRN carries its lead and sub-class
 * bits, 10 bits of the counter, the value class, the value and a 32-bit MAC, and nothing naming
 * the device (GBCS 14, the PTUT bit assignments, as the Aclara SGM1430-B SMETS2 manual reproduces
 * them and gbcs-parser src/utrn.ts builds them); the device's identity enters only the MAC, through
 * the key derivation and its additional data. A UTRN for another device therefore fails the MAC
 * exactly like a forged one (0x8F63).
 */
import { type CryptoBackend, checkUtrn } from '@smetsim/gbcs'
import { keyAgreement } from './cells.ts'
import { applyTopUp, type AlertEvent as Event } from './prepayment/index.ts'
import { type DeviceState, prepaymentContext } from './state.ts'

export const LOCKOUT_FAILURES = 5
export const LOCKOUT_MS = 60 * 60 * 1000
/** Accepted top-up counters remembered for the duplicate check. */
export const RECENT_UTRNS = 100

export const UTRN_ALERTS = {
  duplicate: 0x8f51,
  notAuthentic: 0x8f63,
  aboveMaxCredit: 0x8f5b,
  aboveMaxBalance: 0x8f47,
  /** 0x81C5 UTRN rejected as locked out: an entry while the keypad is locked out. */
  rejectedLockedOut: 0x81c5,
  /** 0x81C4 UTRN Manual Entry Suspended: the rejected entry that starts a lock-out. */
  manualEntrySuspended: 0x81c4,
  creditAddedLocally: 0x810e,
} as const

export interface TopUpResult {
  state: DeviceState
  events: Event[]
  ok: boolean
  reason?: string
}

export function topUp(
  state: DeviceState,
  digits: string,
  via: 'remote' | 'keypad' | 'ppmid',
  now: number,
  backend: CryptoBackend,
  /** For a CS01a: the command's originator counter, which is the UTRN's full counter. */
  commandCounter?: bigint,
): TopUpResult {
  const local = via !== 'remote'
  if (local && state.utrnLockedUntil > now)
    return {
      state,
      events: [{ at: now, alert: UTRN_ALERTS.rejectedLockedOut }],
      ok: false,
      reason: 'keypad locked out',
    }

  const reject = (alert: number, reason: string): TopUpResult => {
    if (!local) return { state, events: [{ at: now, alert }], ok: false, reason }
    const failures = state.utrnFailures + 1
    const lock = failures >= LOCKOUT_FAILURES
    const events = [
      { at: now, alert },
      ...(lock ? [{ at: now, alert: UTRN_ALERTS.manualEntrySuspended }] : []),
    ]
    const next = { ...state, utrnFailures: lock ? 0 : failures, utrnLockedUntil: lock ? now + LOCKOUT_MS : 0 }
    return { state: next, events, ok: false, reason }
  }

  const cell = state.cells.supplierPrepaymentKa
  const pair = cell && keyAgreement(state.keys, cell, backend, true)
  if (!cell || !pair) return reject(UTRN_ALERTS.notAuthentic, 'no supplier prepayment key in the cells')
  const floor = state.counters.supplierPrepayment ?? 0n
  const newest = state.utrns.length > 0 ? state.utrns[state.utrns.length - 1]! : floor
  const check = checkUtrn(digits, {
    device: state.eui,
    supplier: cell.eui,
    key: pair,
    // A keypad entry carries 10 bits of its counter, rebuilt around the newest one accepted.
    counter:
      commandCounter !== undefined
        ? { exact: commandCounter }
        : { reference: newest > floor ? newest : floor },
    backend,
  })
  if (!check.ok) return reject(UTRN_ALERTS.notAuthentic, `UTRN ${check.reason}`)
  if (check.counter <= floor || state.utrns.includes(check.counter))
    return reject(UTRN_ALERTS.duplicate, `UTRN counter ${check.counter} already used`)

  const ctx = prepaymentContext(state)
  // A £0 UTRN is a valid token: it uses up its counter and credits nothing.
  const r =
    check.value > 0
      ? applyTopUp(state.account, state.supply, now, check.value * 1000, ctx)
      : { account: state.account, supply: state.supply, events: [], rejected: undefined }
  if (r.rejected !== undefined) return reject(r.rejected, 'top-up amount refused')

  let utrns = [...state.utrns, check.counter].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  let counters = state.counters
  if (utrns.length > RECENT_UTRNS) {
    // The oldest remembered counter becomes the floor, so it stays refused.
    counters = { ...counters, supplierPrepayment: utrns[0]! }
    utrns = utrns.slice(1)
  }
  const events = [...r.events, ...(local ? [{ at: now, alert: UTRN_ALERTS.creditAddedLocally }] : [])]
  return {
    state: { ...state, account: r.account, supply: r.supply, utrns, counters, utrnFailures: 0 },
    events,
    ok: true,
  }
}

/**
 * The top-up counters after the supplier's prepayment top-up cell is replaced (CS02b): the UTRN
 * counter cache is emptied and the floor becomes the command's prepayment top-up floor, when it
 * sets one (GBCS's newRemotePartySpecialistFloorSeqNumbers / the specialist floors of
 * otherRemotePartySeqNumberChanges, "required on Change of Supplier where the new Supplier has
 * decided to use a different sequence of Originator Counters for prepayment top ups": GBCS
 * v0.8.1 13.3, Requirements for AuthorisingRemotePartyControl elements). Without one the
 * highest counter the cache knew becomes the floor, so no UTRN accepted before can be accepted
 * again, whoever's key the new cell holds. That the cache is emptied at all is our reading: a
 * new supplier counting from its floor would otherwise find its first UTRNs "duplicate" of the
 * old supplier's (unconfirmed: the GBCS clause on the cache is not public here).
 */
export function resetTopUpCounters(state: DeviceState, floor: bigint | undefined): DeviceState {
  const newest = state.utrns.length > 0 ? state.utrns[state.utrns.length - 1]! : undefined
  const kept = state.counters.supplierPrepayment
  const highest = newest !== undefined && (kept === undefined || newest > kept) ? newest : kept
  const supplierPrepayment = floor ?? highest
  const { supplierPrepayment: _, ...others } = state.counters
  return {
    ...state,
    utrns: [],
    counters: supplierPrepayment === undefined ? others : { ...others, supplierPrepayment },
  }
}

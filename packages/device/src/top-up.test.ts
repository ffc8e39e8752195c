import type { Eui64 } from '@smetsim/core'
import { decodeFrame, decodePayload, generateUtrn, type ValueClass } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { type DeviceInput, type StepResult, step } from './firmware.ts'
import { randomPrivateKey } from './provision.ts'
import type { DeviceState } from './state.ts'
import { ARM, backend, command, PARTIES, T0, testDevice } from './testing.ts'

import { LOCKOUT_FAILURES, LOCKOUT_MS, UTRN_ALERTS } from './top-up.ts'

const { duplicate, notAuthentic, aboveMaxCredit, aboveMaxBalance } = UTRN_ALERTS
// GBCS: 0x81C4 UTRN Manual Entry Suspended, 0x81C5 UTRN rejected as locked out (gbcs-parser src/util.ts).
const lockOutStarted = UTRN_ALERTS.manualEntrySuspended
const lockedOut = UTRN_ALERTS.rejectedLockedOut
const CREDITED = UTRN_ALERTS.creditAddedLocally

/**
 * A prepayment ESME that costs nothing to run (no load, no standing charge), so every change to
 * its balance comes from a top-up. £10 on the meter; defaults: max credit threshold £250 (25 000 000
 * mp), max meter balance £500 (50 000 000 mp).
 */
const meter = (meterBalance = 1_000_000): DeviceState =>
  testDevice('ESME', {
    paymentMode: 'prepayment',
    meterBalance,
    watts: 0,
    tariff: { unitRate: 30_000, standingCharge: 0 },
  })

interface UtrnOptions {
  /** Whose prepayment key makes the MAC (default supplier A). */
  key?: Parameters<typeof backend.importPrivateKey>[0]
  originator?: Eui64
  /** The device the UTRN is for: its EUI and KA private key (default the meter itself). */
  recipient?: { eui: Eui64; ka: Uint8Array }
  valueClass?: ValueClass
}

/** Supplier A's n-th UTRN for `device` (counter n·2^32), worth `value` pounds. */
function utrn(device: DeviceState, n: bigint, value: number, o: UtrnOptions = {}): string {
  const recipient = o.recipient ?? { eui: device.eui, ka: device.keys.ka! }
  return generateUtrn({
    counter: n << 32n,
    value,
    valueClass: o.valueClass ?? 'pounds',
    originator: o.originator ?? PARTIES.supplierA.eui,
    recipient: recipient.eui,
    key: {
      own: backend.importPrivateKey(o.key ?? PARTIES.supplierA.pp!.privateKey),
      other: backend.importPrivateKey(recipient.ka).publicKey,
    },
    backend,
  })
}

const keypad = (device: DeviceState, digits: string, now = T0 + 1000): StepResult =>
  step(device, { kind: 'utrn', digits, via: 'keypad' } satisfies DeviceInput, now, { backend })

const codes = (r: StepResult) => r.outputs.alerts.map((a) => a.code)

/** What a top-up may change: the account (bar the instant it was settled at), the supply, the UTRN cache and the counters. */
const credit = ({ account: { at: _, ...account }, ...s }: DeviceState) => ({
  account,
  supply: s.supply,
  utrns: s.utrns,
  counters: s.counters,
})

/** A CS01a from supplier A, unsigned (non-critical), MACed by the ACB. */
function cs01a(device: DeviceState, digits: string, counter: bigint, invokeId = 1): Uint8Array {
  return command(0x0007, { name: 'CS01a Apply Prepayment Top Up', invokeId, utrn: digits }, device, {
    counter,
    sign: false,
  })
}

function remote(device: DeviceState, digits: string, counter: bigint, now = T0 + 1000) {
  const r = step(device, { kind: 'frame', bytes: cs01a(device, digits, counter) }, now, { backend })
  const response = decodePayload(decodeFrame(r.outputs.response!).signing.content, {
    messageCode: 0x0007,
    cra: 'response',
  }).useCase
  return { ...r, response }
}

describe('a UTRN typed on the keypad', () => {
  it('is accepted once: the credit goes to the meter balance, 0x810E', () => {
    const device = meter()
    const digits = utrn(device, 1n, 5)
    const first = keypad(device, digits)
    expect(codes(first)).toEqual([CREDITED])
    // £10 + £5 = 1 000 000 + 500 000 mp
    expect(first.state.account.meterBalance).toBe(1_500_000)
    expect(first.state.utrns).toEqual([1n << 32n])

    const again = keypad(first.state, digits, T0 + 2000)
    expect(codes(again)).toEqual([duplicate])
    expect(credit(again.state)).toEqual(credit(first.state))
  })

  it('counts pennies in the pennies value class', () => {
    const device = meter()
    const r = keypad(device, utrn(device, 1n, 1234, { valueClass: 'pennies' }))
    expect(codes(r)).toEqual([CREDITED])
    expect(r.state.account.meterBalance).toBe(1_000_000 + 1_234_000)
  })

  const otherDevice = { eui: '00DB120000000002' as Eui64, ka: randomPrivateKey() }
  const forgeries: [string, (d: DeviceState) => string][] = [
    ["another supplier's prepayment key", (d) => utrn(d, 1n, 5, { key: PARTIES.supplierB.pp!.privateKey })],
    [
      'another supplier altogether (its key and EUI)',
      (d) =>
        utrn(d, 1n, 5, { key: PARTIES.supplierB.pp!.privateKey, originator: PARTIES.supplierB.eui as Eui64 }),
    ],
    [
      "supplier A's ordinary KA key instead of its prepayment key",
      (d) => utrn(d, 1n, 5, { key: PARTIES.supplierA.ka.privateKey }),
    ],
    ['another device', (d) => utrn(d, 1n, 5, { recipient: otherDevice })],
    [
      "another device's EUI with this device's key",
      (d) => utrn(d, 1n, 5, { recipient: { ...otherDevice, ka: d.keys.ka! } }),
    ],
  ]
  it.each(forgeries)('made with %s is not authentic (0x8F63) and changes nothing', (_, make) => {
    const device = meter()
    const r = keypad(device, make(device))
    expect(codes(r)).toEqual([notAuthentic])
    expect(credit(r.state)).toEqual(credit(device))
    expect(r.state.utrnFailures).toBe(1)
  })

  it('with a wrong check digit is refused with 0x8F63', () => {
    const device = meter()
    const good = utrn(device, 1n, 5)
    const last = Number(good[19])
    const bad = good.slice(0, 19) + String((last + 1) % 10)
    const r = keypad(device, bad)
    expect(codes(r)).toEqual([notAuthentic])
    expect(credit(r.state)).toEqual(credit(device))
    // The same token with its right check digit is still good afterwards.
    expect(codes(keypad(r.state, good, T0 + 2000))).toEqual([CREDITED])
  })

  it('that is not 20 digits is refused with 0x8F63', () => {
    const device = meter()
    expect(codes(keypad(device, '1234'))).toEqual([notAuthentic])
    expect(codes(keypad(device, `${utrn(device, 1n, 5).slice(0, 19)}x`))).toEqual([notAuthentic])
  })
})

describe('the keypad lock-out', () => {
  const bad = (d: DeviceState) => utrn(d, 1n, 5, { key: PARTIES.supplierB.pp!.privateKey })

  /** Five rejected entries a second apart from T0 + 1 s; the last at T0 + 5 s starts the lock-out. */
  function lockOut(device: DeviceState): StepResult[] {
    const out: StepResult[] = []
    let s = device
    for (let i = 1; i <= LOCKOUT_FAILURES; i++) {
      const r = keypad(s, bad(device), T0 + i * 1000)
      out.push(r)
      s = r.state
    }
    return out
  }

  it('starts on the 5th consecutive bad entry (0x81C4 manual entry suspended), then refuses entries (0x81C5 rejected as locked out) for LOCKOUT_MS', () => {
    expect([lockOutStarted, lockedOut]).toEqual([0x81c4, 0x81c5])
    const device = meter()
    const entries = lockOut(device)
    expect(LOCKOUT_FAILURES).toBe(5)
    expect(entries.map(codes)).toEqual([
      [notAuthentic],
      [notAuthentic],
      [notAuthentic],
      [notAuthentic],
      [notAuthentic, lockOutStarted],
    ])
    const locked = entries.at(-1)!.state
    const lockedAt = T0 + 5000
    expect(locked.utrnLockedUntil).toBe(lockedAt + LOCKOUT_MS)

    // A good UTRN is refused while locked out, without being checked or counted.
    const good = utrn(device, 1n, 5)
    const during = keypad(locked, good, lockedAt + 1)
    expect(codes(during)).toEqual([lockedOut])
    expect(credit(during.state)).toEqual(credit(locked))
    const lastMs = keypad(during.state, good, lockedAt + LOCKOUT_MS - 1)
    expect(codes(lastMs)).toEqual([lockedOut])
    expect(lastMs.state.account.meterBalance).toBe(1_000_000)
    // A bad entry while locked out does not extend the lock-out either.
    expect(keypad(locked, bad(device), lockedAt + 2).state.utrnLockedUntil).toBe(lockedAt + LOCKOUT_MS)

    // Once LOCKOUT_MS has passed the same UTRN is accepted.
    const after = keypad(lastMs.state, good, lockedAt + LOCKOUT_MS)
    expect(codes(after)).toEqual([CREDITED])
    expect(after.state.account.meterBalance).toBe(1_500_000)
  })

  it('applies to UTRNs typed on the PPMID too', () => {
    const device = meter()
    const locked = lockOut(device).at(-1)!.state
    const r = step(locked, { kind: 'utrn', digits: utrn(device, 1n, 5), via: 'ppmid' }, T0 + 6000, {
      backend,
    })
    expect(codes(r)).toEqual([lockedOut])
  })

  it('counts only consecutive failures: an accepted UTRN starts the count again', () => {
    let s = meter()
    for (let i = 1; i < LOCKOUT_FAILURES; i++) s = keypad(s, bad(s), T0 + i * 1000).state
    expect(s.utrnFailures).toBe(LOCKOUT_FAILURES - 1)
    const ok = keypad(s, utrn(s, 1n, 5), T0 + 10_000)
    expect(codes(ok)).toEqual([CREDITED])
    expect(ok.state.utrnFailures).toBe(0)
    const next = keypad(ok.state, bad(s), T0 + 11_000)
    expect(codes(next)).toEqual([notAuthentic])
    expect(next.state.utrnLockedUntil).toBe(0)
  })

  it('does not stop a top-up sent by the supplier in CS01a', () => {
    const device = meter()
    const locked = lockOut(device).at(-1)!.state
    const r = remote(locked, utrn(device, 1n, 5), 1n << 32n, T0 + 6000)
    expect(r.response).toMatchObject({ result: 'success' })
    expect(r.state.account.meterBalance).toBe(1_500_000)
  })
})

describe('the amount of a top-up', () => {
  it('above the max credit threshold is refused with 0x8F5B; at it, accepted', () => {
    const device = meter()
    // £251 = 25 100 000 mp > 25 000 000
    const over = keypad(device, utrn(device, 1n, 251))
    expect(codes(over)).toEqual([aboveMaxCredit])
    expect(credit(over.state)).toEqual(credit(device))
    // £250 = 25 000 000 mp, not above: 1 000 000 + 25 000 000
    const at = keypad(device, utrn(device, 1n, 250))
    expect(codes(at)).toEqual([CREDITED])
    expect(at.state.account.meterBalance).toBe(26_000_000)
  })

  it('that would take the balance above the max meter balance is refused with 0x8F47; to it, accepted', () => {
    // 30 000 001 + £200 (20 000 000) = 50 000 001 > 50 000 000
    const full = meter(30_000_001)
    const over = keypad(full, utrn(full, 1n, 200))
    expect(codes(over)).toEqual([aboveMaxBalance])
    expect(credit(over.state)).toEqual(credit(full))
    // 30 000 000 + 20 000 000 = 50 000 000 exactly
    const almost = meter(30_000_000)
    const to = keypad(almost, utrn(almost, 1n, 200))
    expect(codes(to)).toEqual([CREDITED])
    expect(to.state.account.meterBalance).toBe(50_000_000)
  })

  it('refused leaves its counter unused: a UTRN with the same counter and a smaller amount is accepted', () => {
    const device = meter()
    const big = keypad(device, utrn(device, 1n, 251))
    expect(codes(big)).toEqual([aboveMaxCredit])
    expect(big.state.utrns).toEqual([])
    const small = keypad(big.state, utrn(device, 1n, 25), T0 + 2000)
    expect(codes(small)).toEqual([CREDITED])
    expect(small.state.account.meterBalance).toBe(3_500_000)
  })
})

describe('the top-up counter', () => {
  it('at or below the floor set by CS02b (counters.supplierPrepayment) is refused with 0x8F51', () => {
    const device: DeviceState = { ...meter(), counters: { supplierPrepayment: 5n << 32n } }
    for (const n of [1n, 4n, 5n]) {
      const r = keypad(device, utrn(device, n, 5))
      expect(codes(r), `counter ${n}`).toEqual([duplicate])
      expect(credit(r.state)).toEqual(credit(device))
    }
    const above = keypad(device, utrn(device, 6n, 5))
    expect(codes(above)).toEqual([CREDITED])
    expect(above.state.utrns).toEqual([6n << 32n])
  })

  it('out of order (3 then 2): both accepted, and each only once', () => {
    const device = meter()
    const three = keypad(device, utrn(device, 3n, 5), T0 + 1000)
    const two = keypad(three.state, utrn(device, 2n, 7), T0 + 2000)
    expect([codes(three), codes(two)]).toEqual([[CREDITED], [CREDITED]])
    // 1 000 000 + 500 000 + 700 000
    expect(two.state.account.meterBalance).toBe(2_200_000)
    expect(two.state.utrns).toEqual([2n << 32n, 3n << 32n])
    expect(codes(keypad(two.state, utrn(device, 3n, 5), T0 + 3000))).toEqual([duplicate])
    expect(codes(keypad(two.state, utrn(device, 2n, 7), T0 + 3000))).toEqual([duplicate])
  })
})

describe('a top-up sent in CS01a (SR 2.2)', () => {
  it('answers success and credits the meter, without 0x810E', () => {
    const device = meter()
    const r = remote(device, utrn(device, 1n, 5), 1n << 32n)
    expect(r.outputs.outcome).toBe('executed')
    expect(r.response).toEqual({ name: 'CS01a Apply Prepayment Top Up', invokeId: 1, result: 'success' })
    expect(codes(r)).toEqual([])
    expect(r.state.account.meterBalance).toBe(1_500_000)
  })

  const failures: [string, (d: DeviceState) => DeviceState, (d: DeviceState) => string, number][] = [
    ['a duplicate', (d) => keypad(d, utrn(d, 1n, 5)).state, (d) => utrn(d, 1n, 5), duplicate],
    ['a forgery', (d) => d, (d) => utrn(d, 1n, 5, { key: PARTIES.supplierB.pp!.privateKey }), notAuthentic],
    ['too much credit', (d) => d, (d) => utrn(d, 1n, 251), aboveMaxCredit],
  ]
  it.each(failures)("refused as %s answers 'other-reason' and raises its alert", (_, before, make, alert) => {
    const device = before(meter())
    const r = remote(device, make(device), 1n << 32n, T0 + 2000)
    expect(r.outputs.outcome).toBe('executed')
    expect(r.outputs.reason).toEqual(expect.any(String))
    expect(r.response).toEqual({ name: 'CS01a Apply Prepayment Top Up', invokeId: 1, result: 'other-reason' })
    expect(codes(r)).toEqual([alert])
    expect(credit(r.state)).toEqual(credit(device))
    // The supplier's command counter neither moves nor matters: the UTRN has its own.
    expect(r.state.counters.supplier).toBeUndefined()
  })

  it("uses the top-up counter, never the supplier's command counter (DOMAIN.md 3.4)", () => {
    // A supplier command counter far above the UTRN's does not refuse the top-up…
    const device: DeviceState = { ...meter(), counters: { supplier: 9n << 40n } }
    const r = remote(device, utrn(device, 1n, 5), 1n << 32n)
    expect(r.outputs.outcome).toBe('executed')
    expect(r.response).toMatchObject({ result: 'success' })
    expect(r.state.account.meterBalance).toBe(1_500_000)
    // …and the top-up does not move it: the supplier's next command, at a counter far below
    // the UTRN's, still executes.
    expect(r.state.counters.supplier).toBe(9n << 40n)
    const low: DeviceState = { ...meter(), counters: { supplier: 1000n } }
    const topped = remote(low, utrn(low, 3n, 5), 3n << 32n)
    expect(topped.state.counters).toEqual({ supplier: 1000n })
    expect(topped.state.utrns).toEqual([3n << 32n])
    const next = step(
      topped.state,
      { kind: 'frame', bytes: command(ARM.code, ARM.view, low, { counter: 1001n }) },
      T0 + 2000,
      {
        backend,
      },
    )
    expect(next.outputs.outcome).toBe('executed')
  })

  it('sent again is refused by the top-up counter (0x8F51), not by the command counter', () => {
    const device = meter()
    const once = remote(device, utrn(device, 1n, 5), 1n << 32n)
    const bytes = cs01a(device, utrn(device, 1n, 5), 1n << 32n)
    const again = step(once.state, { kind: 'frame', bytes }, T0 + 2000, { backend })
    expect(again.outputs.outcome).toBe('executed')
    expect(codes(again)).toEqual([duplicate])
    expect(again.state.account.meterBalance).toBe(1_500_000)
  })

  it('refused does not count towards the keypad lock-out', () => {
    let s = meter()
    const forged = utrn(s, 1n, 5, { key: PARTIES.supplierB.pp!.privateKey })
    for (let i = 1; i <= LOCKOUT_FAILURES + 1; i++) {
      const r = remote(s, forged, BigInt(i) << 32n, T0 + i * 1000)
      expect(codes(r)).toEqual([notAuthentic])
      s = r.state
    }
    expect(s.utrnFailures).toBe(0)
    expect(s.utrnLockedUntil).toBe(0)
  })
})

describe('edge cases', () => {
  // An authentic UTRN worth £0 (value 0 is in the token's range) once made step() throw.
  it('a £0 UTRN typed on the keypad does not crash the firmware', () => {
    const device = meter()
    expect(() => keypad(device, utrn(device, 1n, 0))).not.toThrow()
  })

  // A CS01a's UTRN counter is the command's originator counter; rebuilding it from the token's
  // 10 bits (as for a keypad entry) refused an authentic one far above the floor.
  it("a CS01a UTRN is checked against the command's counter, however far above the floor", () => {
    const device = meter()
    const n = 1100n
    const r = remote(device, utrn(device, n, 5), n << 32n)
    expect(r.response).toMatchObject({ result: 'success' })
  })
})

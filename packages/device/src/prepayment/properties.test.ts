import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Account,
  combinedCredit,
  DAY_MS,
  FLAT_SHAPE,
  newAccount,
  nextChange,
  type PrepaymentContext,
  type Supply,
  settle,
} from './index.ts'

const T0 = Date.UTC(2024, 0, 1)

const arbContext: fc.Arbitrary<PrepaymentContext> = fc
  .record({
    ecLimit: fc.integer({ min: 0, max: 1_000_000 }),
    ecThreshold: fc.integer({ min: 0, max: 500_000 }),
    low: fc.integer({ min: 0, max: 800_000 }),
    disable: fc.integer({ min: -200_000, max: 100_000 }),
    rates: fc.tuple(fc.integer({ min: 0, max: 500_000 }), fc.integer({ min: 0, max: 500_000 })),
    suspendDebtDisabled: fc.boolean(),
    suspendDebtEmergency: fc.boolean(),
    nd: fc.array(
      fc
        .record({
          day: fc.integer({ min: 0, max: 6 }),
          start: fc.integer({ min: 0, max: 1439 }),
          len: fc.integer({ min: 1, max: 720 }),
        })
        .map((p) => ({ day: p.day, start: p.start, end: Math.min(1440, p.start + p.len) })),
      { maxLength: 3 },
    ),
    unitRate: fc.integer({ min: 0, max: 60_000 }),
    standingCharge: fc.integer({ min: 0, max: 80_000 }),
    watts: fc.integer({ min: 0, max: 6_000 }),
    seed: fc.integer(),
    flat: fc.boolean(),
  })
  .map((r) => ({
    config: {
      emergencyCreditLimit: r.ecLimit,
      emergencyCreditThreshold: r.ecThreshold,
      lowCreditThreshold: r.low,
      disablementThreshold: r.disable,
      debtRecoveryRates: r.rates,
      debtRecoveryPerPayment: 10,
      debtRecoveryRateCap: { amount: 500_000, periodDays: 7 },
      maxMeterBalance: 100_000_000,
      maxCreditThreshold: 50_000_000,
      suspendDebtDisabled: r.suspendDebtDisabled,
      suspendDebtEmergency: r.suspendDebtEmergency,
      nonDisablement: r.nd,
    },
    tariff: { unitRate: r.unitRate, standingCharge: r.standingCharge },
    load: r.flat ? { watts: r.watts, seed: r.seed, shape: FLAT_SHAPE } : { watts: r.watts, seed: r.seed },
    paymentMode: 'prepayment' as const,
  }))

const arbAccount: fc.Arbitrary<Account> = fc
  .record({
    // Midnights too: whole days are settled at once from a midnight.
    at: fc.oneof(
      fc.integer({ min: T0, max: T0 + 7 * DAY_MS }),
      fc.integer({ min: 0, max: 7 }).map((d) => T0 + d * DAY_MS),
    ),
    meterBalance: fc.integer({ min: -500_000, max: 3_000_000 }),
    ec: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
    timeDebt: fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 200_000 })),
    accumulatedDebt: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map((r) =>
    newAccount(r.at, {
      meterBalance: r.meterBalance,
      emergencyCreditActive: r.ec !== undefined,
      emergencyCredit: r.ec ?? 0,
      timeDebt: r.timeDebt,
      accumulatedDebt: r.accumulatedDebt,
    }),
  )

const arbSupply = fc.constantFrom<Supply>('enabled', 'disabled', 'armed')
const arbSpan = fc.oneof(fc.integer({ min: 0, max: 3 * DAY_MS }), fc.integer({ min: 0, max: 40 * DAY_MS }))

describe('settle', () => {
  it('is additive: settling to t1 then t2 equals settling to t2', () => {
    fc.assert(
      fc.property(arbContext, arbAccount, arbSupply, arbSpan, arbSpan, (ctx, account, supply, d1, d2) => {
        const t1 = account.at + d1
        const t2 = t1 + d2
        const a = settle(account, supply, t1, ctx)
        const b = settle(a.account, a.supply, t2, ctx)
        const direct = settle(account, supply, t2, ctx)
        expect(b.account).toEqual(direct.account)
        expect(b.supply).toBe(direct.supply)
        expect([...a.events, ...b.events]).toEqual(direct.events)
      }),
      { numRuns: 300 },
    )
  })

  it('never increases the balance or the combined credit', () => {
    fc.assert(
      fc.property(arbContext, arbAccount, arbSupply, arbSpan, (ctx, account, supply, d) => {
        const r = settle(account, supply, account.at + d, ctx)
        expect(r.account.meterBalance).toBeLessThanOrEqual(account.meterBalance)
        expect(combinedCredit(r.account)).toBeLessThanOrEqual(combinedCredit(account))
        expect(r.account.importEnergy).toBeGreaterThanOrEqual(account.importEnergy)
        for (const e of r.events) expect(e.at >= account.at && e.at <= account.at + d).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('in credit mode never disconnects, alerts or moves money', () => {
    fc.assert(
      fc.property(arbContext, arbAccount, arbSupply, arbSpan, (ctx, account, supply, d) => {
        const credit = { ...ctx, paymentMode: 'credit' as const }
        const r = settle(account, supply, account.at + d, credit)
        expect(r.supply).toBe(supply)
        expect(r.events).toEqual([])
        expect({ ...r.account, at: 0, importEnergy: 0, carry: 0 }).toEqual({
          ...account,
          at: 0,
          importEnergy: 0,
          carry: 0,
        })
        expect(nextChange(account, supply, credit)).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })
})

describe('nextChange', () => {
  it('is exact: nothing happens up to one ms before it, something happens at it', () => {
    fc.assert(
      fc.property(arbContext, arbAccount, arbSupply, (ctx, account, supply) => {
        const start = settle(account, supply, account.at, ctx)
        const n = nextChange(start.account, start.supply, ctx, 10 * DAY_MS)
        if (n === undefined) {
          const r = settle(start.account, start.supply, start.account.at + 10 * DAY_MS, ctx)
          expect(r.events).toEqual([])
          expect(r.supply).toBe(start.supply)
          return
        }
        expect(n).toBeGreaterThan(start.account.at)
        const before = settle(start.account, start.supply, n - 1, ctx)
        expect(before.events).toEqual([])
        expect(before.supply).toBe(start.supply)
        const at = settle(start.account, start.supply, n, ctx)
        expect(at.events.length > 0 || at.supply !== start.supply).toBe(true)
        for (const e of at.events) expect(e.at).toBe(n)
        // Settling in two steps through n − 1 agrees.
        const split = settle(before.account, before.supply, n, ctx)
        expect(split.account).toEqual(at.account)
      }),
      { numRuns: 300 },
    )
  })
})

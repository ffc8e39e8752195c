import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Account,
  activateEmergencyCredit,
  applyTopUp,
  combinedCredit,
  DAY_MS,
  FLAT_SHAPE,
  HOUR_MS,
  type LoadProfile,
  NEXT_CHANGE_HORIZON_MS,
  newAccount,
  nextChange,
  type PrepaymentContext,
  type Settlement,
  type Supply,
  settle,
} from './index.ts'
import { referenceNextChange, referenceSettle } from './reference.test-support.ts'

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

// Wider than arbContext/arbAccount: any shape (hours of 0 ‰ included), fractional watts, odd
// thresholds, big balances, carries, raw flag bits, times before 1970, every horizon.
const money = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.integer({ min: -100_000_000, max: 100_000_000 }),
)
const threshold = fc.oneof(
  money,
  money.map((x) => x / 2),
)
const rate = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 100 }),
  fc.integer({ min: 0, max: 100_000 }),
  fc.integer({ min: 0, max: 10_000_000 }),
)
const arbShape = fc.oneof(
  fc.constant(undefined),
  fc.constant(FLAT_SHAPE),
  fc
    .array(fc.integer({ min: 0, max: 4000 }), { minLength: 24, maxLength: 24 })
    .map((xs) => xs.map((x) => x / 1000)),
)
const arbPeriod = fc
  .record({
    day: fc.integer({ min: 0, max: 6 }),
    start: fc.integer({ min: 0, max: 1439 }),
    len: fc.integer({ min: 1, max: 1440 }),
  })
  .map((p) => ({ day: p.day, start: p.start, end: Math.min(1440, p.start + p.len) }))
const allWeek = [0, 1, 2, 3, 4, 5, 6].map((day) => ({ day, start: 0, end: 1440 }))
/** Non-empty calendars. */
const arbCalendar = fc.oneof(
  fc.array(arbPeriod, { minLength: 1, maxLength: 12 }),
  fc.constant(allWeek),
  // Back-to-back periods (across midnight too): an edge inside the next period is no edge at all.
  fc
    .record({
      days: fc.subarray([0, 1, 2, 3, 4, 5, 6], { minLength: 1 }),
      cuts: fc.uniqueArray(fc.integer({ min: 0, max: 1440 }), { minLength: 2, maxLength: 6 }),
    })
    .map(({ days, cuts }) => {
      const edges = [...cuts].sort((x, y) => x - y)
      return days.flatMap((day) => edges.slice(1).map((end, i) => ({ day, start: edges[i]!, end })))
    }),
)
const ctxArb: fc.Arbitrary<PrepaymentContext> = fc
  .record({
    ecLimit: fc.oneof(fc.constant(0), fc.integer({ min: -10, max: 5_000_000 })),
    ecThreshold: threshold,
    low: threshold,
    disable: threshold,
    rates: fc.tuple(rate, rate),
    suspendDebtDisabled: fc.boolean(),
    suspendDebtEmergency: fc.boolean(),
    nd: fc.oneof(fc.array(arbPeriod, { maxLength: 4 }), fc.constant(allWeek)),
    unitRate: rate,
    standingCharge: rate,
    watts: fc.oneof(
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: -10, max: 40 }).map((x) => x / 40),
      fc.constant(400),
    ),
    seed: fc.integer(),
    shape: arbShape,
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
    load: r.shape ? { watts: r.watts, seed: r.seed, shape: r.shape } : { watts: r.watts, seed: r.seed },
    paymentMode: 'prepayment' as const,
  }))
const accountArb: fc.Arbitrary<Account> = fc
  .record({
    at: fc.oneof(
      fc.integer({ min: T0, max: T0 + 14 * DAY_MS }),
      fc.integer({ min: 0, max: 30 }).map((d) => T0 + d * DAY_MS),
      fc.integer({ min: -10 * DAY_MS, max: 10 * DAY_MS }),
      fc.integer({ min: 0, max: 24 }).map((h) => T0 + h * HOUR_MS + 1),
    ),
    meterBalance: money,
    ec: fc.option(fc.integer({ min: -1_000, max: 5_000_000 }), { nil: undefined }),
    timeDebt: fc.tuple(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: -10, max: 10_000 }),
        fc.integer({ min: 0, max: 50_000_000 }),
      ),
      fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50_000_000 })),
    ),
    accumulatedDebt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 })),
    flags: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 511 })),
    carry: fc.oneof(
      fc.constant<[number, number, number, number]>([0, 0, 0, 0]),
      fc.tuple(
        fc.integer({ min: 0, max: 86_400_000_000_000 - 1 }),
        fc.integer({ min: 0, max: 3_600_000_000 - 1 }),
        fc.integer({ min: 0, max: 86_400_000 - 1 }),
        fc.integer({ min: 0, max: 86_400_000 - 1 }),
      ),
    ),
  })
  .map((r) =>
    newAccount(r.at, {
      meterBalance: r.meterBalance,
      emergencyCreditActive: r.ec !== undefined,
      emergencyCredit: r.ec ?? 0,
      timeDebt: r.timeDebt,
      accumulatedDebt: r.accumulatedDebt,
      flags: r.flags,
      carry: r.carry,
    }),
  )
const horizonArb = fc.oneof(
  fc.constant(NEXT_CHANGE_HORIZON_MS),
  fc.integer({ min: 0, max: 2 * DAY_MS }),
  fc.integer({ min: 0, max: 400 * DAY_MS }),
)

describe('nextChange against the former search (reference.test-support.ts)', () => {
  it('gives exactly the same instant on random accounts, settings and horizons', () => {
    fc.assert(
      fc.property(
        ctxArb,
        accountArb,
        arbSupply,
        horizonArb,
        fc.boolean(),
        (ctx, raw, rawSupply, horizon, pre) => {
          // Half the time with the pending rules applied first (else most answers are `account.at`).
          const { account, supply } = pre
            ? settle(raw, rawSupply, raw.at, ctx)
            : { account: raw, supply: rawSupply }
          expect(nextChange(account, supply, ctx, horizon)).toBe(
            referenceNextChange(account, supply, ctx, horizon),
          )
        },
      ),
      { numRuns: 4000 },
    )
  })

  it('gives exactly the same instant along a settled history (consistent flags and carries)', () => {
    fc.assert(
      fc.property(
        ctxArb,
        accountArb,
        arbSupply,
        fc.array(fc.oneof(fc.integer({ min: 0, max: DAY_MS }), fc.integer({ min: 0, max: 20 * DAY_MS })), {
          minLength: 1,
          maxLength: 4,
        }),
        (ctx, account, supply, steps) => {
          let s = settle(account, supply, account.at, ctx)
          for (const d of steps) {
            expect(nextChange(s.account, s.supply, ctx)).toBe(referenceNextChange(s.account, s.supply, ctx))
            s = settle(s.account, s.supply, s.account.at + d, ctx)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('gives exactly the same instant while held on by a non-disablement period (rule 6)', () => {
    fc.assert(
      fc.property(
        ctxArb,
        accountArb,
        arbCalendar,
        fc.nat(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        horizonArb,
        (ctx0, raw, nd, pick, into, week, horizon) => {
          const ctx = { ...ctx0, config: { ...ctx0.config, nonDisablement: nd } }
          // An instant inside one of the periods (T0 is a Monday), below the disablement threshold.
          const p = nd[pick % nd.length]!
          const at =
            T0 +
            (week * 7 + ((p.day + 6) % 7)) * DAY_MS +
            p.start * 60_000 +
            Math.floor(into * (p.end - p.start) * 60_000)
          const meterBalance = Math.ceil(ctx.config.disablementThreshold) - 1 - (raw.meterBalance & 0xff)
          const held = settle({ ...raw, at, meterBalance, periodStart: at }, 'enabled', at, ctx)
          expect(held.supply).toBe('enabled')
          expect(nextChange(held.account, held.supply, ctx, horizon)).toBe(
            referenceNextChange(held.account, held.supply, ctx, horizon),
          )
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('gives exactly the same instant on realistic meters (seeded shapes, £0–£500)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 50, max: 6_000 }),
        fc.integer(),
        fc.integer({ min: T0, max: T0 + 7 * DAY_MS }),
        fc.tuple(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 200_000 })),
        (balance, watts, seed, at, [timeDebt, debtRate]) => {
          const ctx: PrepaymentContext = {
            config: {
              emergencyCreditLimit: 1_000_000,
              emergencyCreditThreshold: 200_000,
              lowCreditThreshold: 500_000,
              disablementThreshold: 0,
              debtRecoveryRates: [debtRate, 0],
              debtRecoveryPerPayment: 0,
              debtRecoveryRateCap: { amount: 0, periodDays: 7 },
              maxMeterBalance: 50_000_000,
              maxCreditThreshold: 25_000_000,
              suspendDebtDisabled: true,
              suspendDebtEmergency: false,
              nonDisablement: [],
            },
            tariff: { unitRate: 30_000, standingCharge: 50_000 },
            load: { watts, seed },
            paymentMode: 'prepayment',
          }
          const s = settle(
            newAccount(at, { meterBalance: balance, timeDebt: [timeDebt, 0] }),
            'enabled',
            at,
            ctx,
          )
          expect(nextChange(s.account, s.supply, ctx)).toBe(referenceNextChange(s.account, s.supply, ctx))
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('settle against the former loop (reference.test-support.ts)', () => {
  type Outcome = Settlement | { error: string }
  /** A settlement, or the error it threw (both must agree). */
  const outcome = (f: () => Settlement): Outcome => {
    try {
      return f()
    } catch (e) {
      return { error: String(e) }
    }
  }
  const same = (account: Account, supply: Supply, t: number, ctx: PrepaymentContext) => {
    const fast = outcome(() => settle(account, supply, t, ctx))
    expect(fast).toStrictEqual(outcome(() => referenceSettle(account, supply, t, ctx)))
    return fast
  }
  // Mostly days to weeks; some long ones (the reference is slow over months).
  const spanArb = fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 2 * DAY_MS }) },
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 40 * DAY_MS }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 400 * DAY_MS }) },
  )
  // Also registers the direct path does not take (left to the loop): an energy carry out of range,
  // a fractional energy register, fractional balances, a carry above its denominator.
  const oddArb = fc.oneof(
    { weight: 12, arbitrary: fc.constant((a: Account) => a) },
    { weight: 1, arbitrary: fc.constant((a: Account) => ({ ...a, importEnergy: 0.5 })) },
    {
      weight: 1,
      arbitrary: fc.constant((a: Account) => ({
        ...a,
        carry: [a.carry[0], -1_000, a.carry[2], a.carry[3]] as Account['carry'],
      })),
    },
    { weight: 1, arbitrary: fc.constant((a: Account) => ({ ...a, meterBalance: a.meterBalance + 0.25 })) },
    {
      weight: 1,
      arbitrary: fc.constant((a: Account) => ({
        ...a,
        carry: [86_400_000_000_000 + 5, a.carry[1], a.carry[2], a.carry[3]] as Account['carry'],
      })),
    },
  )
  const modeArb = fc.oneof(
    { weight: 9, arbitrary: fc.constant('prepayment' as const) },
    { weight: 1, arbitrary: fc.constant('credit' as const) },
  )

  it('gives exactly the same account, supply and alerts on random accounts, settings and spans', () => {
    fc.assert(
      fc.property(
        ctxArb,
        accountArb,
        arbSupply,
        spanArb,
        oddArb,
        modeArb,
        (ctx0, raw, supply, span, odd, paymentMode) => {
          const ctx = { ...ctx0, paymentMode }
          same(odd(raw), supply, raw.at + span, ctx)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('gives exactly the same along histories of settles, top-ups and EC activations', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('settle' as const), d: spanArb }),
      fc.record({
        kind: fc.constant('topUp' as const),
        d: fc.integer({ min: 0, max: DAY_MS }),
        amount: fc.integer({ min: 1, max: 20_000_000 }),
      }),
      fc.record({ kind: fc.constant('ec' as const), d: fc.integer({ min: 0, max: DAY_MS }) }),
    )
    fc.assert(
      fc.property(
        ctxArb,
        accountArb,
        arbSupply,
        fc.array(action, { minLength: 1, maxLength: 6 }),
        (ctx, account, supply, actions) => {
          let s = same(account, supply, account.at, ctx)
          if ('error' in s) return
          for (const x of actions) {
            const t = s.account.at + x.d
            const r = same(s.account, s.supply, t, ctx)
            if ('error' in r) return
            if (x.kind === 'settle') s = r
            else if (x.kind === 'ec') s = activateEmergencyCredit(s.account, s.supply, t, ctx)
            else s = applyTopUp(s.account, s.supply, t, x.amount, ctx)
          }
        },
      ),
      { numRuns: 600 },
    )
  })

  it('gives exactly the same while held on by a non-disablement period (rule 6)', () => {
    fc.assert(
      fc.property(ctxArb, accountArb, arbCalendar, spanArb, (ctx0, raw, nd, span) => {
        const ctx = { ...ctx0, config: { ...ctx0.config, nonDisablement: nd } }
        const meterBalance = Math.ceil(ctx.config.disablementThreshold) - 1 - (raw.meterBalance & 0xff)
        same({ ...raw, meterBalance }, 'enabled', raw.at + span, ctx)
      }),
      { numRuns: 600 },
    )
  })

  it('gives exactly the same on realistic meters (seeded shapes, £0–£500, debts, weekday evenings)', () => {
    const evenings = [1, 2, 3, 4, 5].map((day) => ({ day, start: 16 * 60, end: 20 * 60 }))
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 50, max: 6_000 }),
        fc.integer(),
        fc.integer({ min: T0, max: T0 + 7 * DAY_MS }),
        fc.tuple(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 200_000 })),
        fc.boolean(),
        fc.oneof(fc.integer({ min: 0, max: 30 * DAY_MS }), fc.constantFrom(DAY_MS, 7 * DAY_MS, 30 * DAY_MS)),
        (balance, watts, seed, at, [timeDebt, debtRate], calendar, span) => {
          const ctx: PrepaymentContext = {
            config: {
              emergencyCreditLimit: 1_000_000,
              emergencyCreditThreshold: 200_000,
              lowCreditThreshold: 500_000,
              disablementThreshold: 0,
              debtRecoveryRates: [debtRate, 0],
              debtRecoveryPerPayment: 0,
              debtRecoveryRateCap: { amount: 0, periodDays: 7 },
              maxMeterBalance: 50_000_000,
              maxCreditThreshold: 25_000_000,
              suspendDebtDisabled: true,
              suspendDebtEmergency: false,
              nonDisablement: calendar ? evenings : [],
            },
            tariff: { unitRate: 30_000, standingCharge: 50_000 },
            load: { watts, seed },
            paymentMode: 'prepayment',
          }
          const account = newAccount(at, { meterBalance: balance, timeDebt: [timeDebt, 0] })
          same(account, 'enabled', at + span, ctx)
        },
      ),
      { numRuns: 600 },
    )
  })

  it('follows a LoadProfile whose seed or watts change in place (the per-profile table cache)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(400, 1_000)), {
          minLength: 2,
          maxLength: 6,
        }),
        (changes) => {
          const load: LoadProfile = { watts: 400, seed: 1 }
          const ctx: PrepaymentContext = {
            config: {
              emergencyCreditLimit: 0,
              emergencyCreditThreshold: 0,
              lowCreditThreshold: 500_000,
              disablementThreshold: 0,
              debtRecoveryRates: [0, 0],
              debtRecoveryPerPayment: 0,
              debtRecoveryRateCap: { amount: 0, periodDays: 0 },
              maxMeterBalance: 50_000_000,
              maxCreditThreshold: 25_000_000,
              suspendDebtDisabled: false,
              suspendDebtEmergency: false,
              nonDisablement: [],
            },
            tariff: { unitRate: 30_000, standingCharge: 50_000 },
            load,
            paymentMode: 'prepayment',
          }
          const account = newAccount(T0 + 5 * HOUR_MS, { meterBalance: 5_000_000 })
          for (const [seed, watts] of changes) {
            load.seed = seed
            load.watts = watts
            same(account, 'enabled', account.at + 3 * DAY_MS + 17, ctx)
            // Another device's profile with every seed: nothing cached under the wrong seed.
            for (let other = 0; other < 4; other++)
              same(account, 'enabled', account.at + DAY_MS, { ...ctx, load: { watts, seed: other } })
          }
        },
      ),
      { numRuns: 40 },
    )
  })
})

import { describe, expect, it } from 'vitest'
import {
  type Account,
  Alert,
  activateEmergencyCredit,
  applyTopUp,
  combinedCredit,
  DAY_MS,
  FLAT_SHAPE,
  Flag,
  HOUR_MS,
  newAccount,
  nextChange,
  type PrepaymentConfig,
  type PrepaymentContext,
  type Supply,
  settle,
} from './index.ts'

/** Monday 2024-01-01 00:00 UTC. */
const T0 = Date.UTC(2024, 0, 1)

const baseConfig: PrepaymentConfig = {
  emergencyCreditLimit: 500_000,
  emergencyCreditThreshold: 100_000,
  lowCreditThreshold: 200_000,
  disablementThreshold: 0,
  debtRecoveryRates: [0, 0],
  debtRecoveryPerPayment: 0,
  debtRecoveryRateCap: { amount: 0, periodDays: 0 },
  maxMeterBalance: 100_000_000,
  maxCreditThreshold: 50_000_000,
  suspendDebtDisabled: false,
  suspendDebtEmergency: false,
  nonDisablement: [],
}

/** 1 kW flat; unit rate 36 p/kWh = 10 mp per second; no standing charge unless given. */
function ctx(
  config: Partial<PrepaymentConfig> = {},
  more: Partial<PrepaymentContext> & { standingCharge?: number; unitRate?: number; watts?: number } = {},
): PrepaymentContext {
  return {
    config: { ...baseConfig, ...config },
    tariff: { unitRate: more.unitRate ?? 36_000, standingCharge: more.standingCharge ?? 0 },
    load: { watts: more.watts ?? 1000, seed: 1, shape: FLAT_SHAPE },
    paymentMode: more.paymentMode ?? 'prepayment',
  }
}

const codes = (events: { alert: number }[]) => events.map((e) => e.alert)

describe('consumption and charges (rule 1)', () => {
  it('charges 1 kW at 30 p/kWh with a 50 p/day standing charge for 10 h exactly', () => {
    const c = ctx({}, { unitRate: 30_000, standingCharge: 50_000 })
    const r = settle(newAccount(T0, { meterBalance: 1_000_000 }), 'enabled', T0 + 10 * HOUR_MS, c)
    // 10 kWh × 30 000 mp = 300 000 mp; 50 000 mp × 10/24 = 20 833⅓ mp (⅓ carried).
    expect(r.account.meterBalance).toBe(1_000_000 - 300_000 - 20_833)
    expect(r.account.importEnergy).toBe(10_000)
    expect(r.account.carry[0]).toBe(86_400_000_000_000 / 3)
    expect(r.events).toEqual([])
    expect(r.supply).toBe('enabled')
    // Two more hours: the carried third completes a whole mp at the 10 h 48 min… instant, not lost.
    const r2 = settle(r.account, 'enabled', T0 + 12 * HOUR_MS, c)
    expect(r2.account.meterBalance).toBe(1_000_000 - 360_000 - 25_000)
  })

  it('charges only the standing charge while the supply is off', () => {
    const c = ctx({}, { standingCharge: 48_000 })
    const r = settle(newAccount(T0, { meterBalance: 1_000_000 }), 'disabled', T0 + DAY_MS, c)
    expect(r.account.meterBalance).toBe(952_000)
    expect(r.account.importEnergy).toBe(0)
  })

  it('follows the seeded daily shape hour by hour', () => {
    const c: PrepaymentContext = { ...ctx(), load: { watts: 1000, seed: 7 } }
    const r = settle(newAccount(T0, { meterBalance: 10_000_000 }), 'enabled', T0 + DAY_MS, c)
    expect(r.account.importEnergy).toBe(24_000)
    expect(r.account.meterBalance).toBe(10_000_000 - 24 * 36_000)
  })
})

describe('thresholds, emergency credit and self-disconnection (rules 2–6)', () => {
  it('raises low credit, EC available and disconnects at the hand-computed instants', () => {
    const c = ctx()
    const a = newAccount(T0, { meterBalance: 1_000_000 })
    // 10 mp/s: combined < 200 000 once 800 001 mp are drawn, i.e. after 80 000.1 s.
    expect(nextChange(a, 'enabled', c)).toBe(T0 + 80_000_100)
    const r = settle(a, 'enabled', T0 + 2 * DAY_MS, c)
    expect(r.events).toEqual([
      { at: T0 + 80_000_100, alert: Alert.lowCredit },
      { at: T0 + 90_000_100, alert: Alert.emergencyCreditAvailable },
      { at: T0 + 100_000_100, alert: Alert.belowDisablementThreshold },
    ])
    expect(r.supply).toBe('disabled')
    expect(r.account.meterBalance).toBe(-1)
    expect(r.account.flags & Flag.selfDisconnected).toBeTruthy()
    expect(nextChange(r.account, r.supply, c)).toBeUndefined()
  })

  it('activates EC, draws the balance then the EC, and reports exhaustion', () => {
    const c = ctx()
    const start = settle(newAccount(T0, { meterBalance: 50_000 }), 'enabled', T0, c)
    expect(codes(start.events)).toEqual([Alert.lowCredit, Alert.emergencyCreditAvailable])
    const act = activateEmergencyCredit(start.account, start.supply, T0, c)
    expect(act.ok).toBe(true)
    expect(codes(act.events)).toEqual([Alert.emergencyCreditActivated])
    expect(act.account.emergencyCredit).toBe(500_000)
    expect(combinedCredit(act.account)).toBe(550_000)
    // Balance first: after 5 000 s the meter balance is 0 and the EC is untouched.
    const mid = settle(act.account, act.supply, T0 + 5_000_000, c)
    expect([mid.account.meterBalance, mid.account.emergencyCredit]).toEqual([0, 500_000])
    const r = settle(act.account, act.supply, T0 + DAY_MS, c)
    expect(r.events).toEqual([
      { at: T0 + 35_000_100, alert: Alert.lowCredit },
      { at: T0 + 55_000_000, alert: Alert.emergencyCreditExhausted },
      { at: T0 + 55_000_100, alert: Alert.belowDisablementThreshold },
    ])
    expect(r.supply).toBe('disabled')
    expect([r.account.meterBalance, r.account.emergencyCredit]).toEqual([-1, 0])
  })

  it('refuses EC when not available and accepts a repeat while active', () => {
    const c = ctx()
    const a = newAccount(T0, { meterBalance: 150_000 })
    expect(activateEmergencyCredit(a, 'enabled', T0, c).ok).toBe(false)
    const act = activateEmergencyCredit(newAccount(T0, { meterBalance: 0 }), 'enabled', T0, c)
    const again = activateEmergencyCredit(act.account, 'enabled', T0 + 1000, c)
    expect(again.ok).toBe(true)
    expect(again.events).toEqual([])
    expect(activateEmergencyCredit(a, 'enabled', T0, ctx({}, { paymentMode: 'credit' })).ok).toBe(false)
  })

  it('arms a disabled supply on EC activation (0x8168)', () => {
    const c = ctx()
    const off = settle(newAccount(T0, { meterBalance: -1 }), 'enabled', T0, c)
    expect(off.supply).toBe('disabled')
    const act = activateEmergencyCredit(off.account, off.supply, T0 + 1000, c)
    expect(act.supply).toBe('armed')
    expect(codes(act.events)).toEqual([Alert.emergencyCreditActivated, Alert.disabledThenArmed])
  })

  it('holds the supply on inside a non-disablement period and disconnects at its end', () => {
    // Monday 00:00–16:00 UTC.
    const c = ctx({ emergencyCreditLimit: 0, nonDisablement: [{ day: 1, start: 0, end: 16 * 60 }] })
    const a = newAccount(T0, { meterBalance: 300_000 })
    const r = settle(a, 'enabled', T0 + 15 * HOUR_MS, c)
    expect(r.events).toEqual([
      { at: T0 + 10_000_100, alert: Alert.lowCredit },
      { at: T0 + 30_000_100, alert: Alert.belowDisablementThreshold },
      { at: T0 + 30_000_100, alert: Alert.disablementSuspended },
    ])
    expect(r.supply).toBe('enabled')
    expect(r.account.meterBalance).toBe(300_000 - 540_000)
    expect(nextChange(r.account, r.supply, c)).toBe(T0 + 16 * HOUR_MS)
    const end = settle(r.account, r.supply, T0 + 17 * HOUR_MS, c)
    expect(end.supply).toBe('disabled')
    expect(end.events).toEqual([])
    expect(end.account.meterBalance).toBe(300_000 - 576_000)
  })

  it('disconnects at the end of a daily period even when settling across whole days', () => {
    // Every day 00:00–06:00; already below the threshold at midnight, supply held on.
    const nd = [0, 1, 2, 3, 4, 5, 6].map((day) => ({ day, start: 0, end: 360 }))
    const c = ctx({ emergencyCreditLimit: 0, nonDisablement: nd })
    const held = settle(newAccount(T0, { meterBalance: -5 }), 'enabled', T0, c)
    expect(held.supply).toBe('enabled')
    expect(codes(held.events)).toEqual([
      Alert.lowCredit,
      Alert.belowDisablementThreshold,
      Alert.disablementSuspended,
    ])
    expect(nextChange(held.account, held.supply, c)).toBe(T0 + 6 * HOUR_MS)
    const r = settle(held.account, held.supply, T0 + 5 * DAY_MS, c)
    expect(r.supply).toBe('disabled')
    expect(r.account.meterBalance).toBe(-5 - 216_000)
  })
})

describe('top-up (rule 7)', () => {
  const debtCtx = ctx({ debtRecoveryPerPayment: 10, debtRecoveryRateCap: { amount: 500_000, periodDays: 7 } })

  it('takes 10 % for debt, capped at £5 a week', () => {
    let a: Account = newAccount(T0, { meterBalance: 10_000_000, accumulatedDebt: 2_000_000 })
    const idle: PrepaymentContext = { ...debtCtx, load: { watts: 0, seed: 0 } }
    let supply: Supply = 'enabled'
    for (let i = 1; i <= 6; i++) {
      const r = applyTopUp(a, supply, T0 + i * HOUR_MS, 1_000_000, idle)
      expect(r.rejected).toBeUndefined()
      a = r.account
      supply = r.supply
    }
    // Five top-ups give £1 each to the debt; the sixth is not taxed.
    expect(a.accumulatedDebt).toBe(1_500_000)
    expect(a.recoveredThisPeriod).toBe(500_000)
    expect(a.meterBalance).toBe(10_000_000 + 6_000_000 - 500_000)
    // A week later the cap has rolled over.
    const next = applyTopUp(a, supply, T0 + 7 * DAY_MS, 1_000_000, idle)
    expect(next.account.accumulatedDebt).toBe(1_400_000)
    expect(next.account.recoveredThisPeriod).toBe(100_000)
    expect(next.account.periodStart).toBe(T0 + 7 * DAY_MS)
  })

  it('announces the accumulated debt cleared (0x81A9)', () => {
    const idle: PrepaymentContext = { ...debtCtx, load: { watts: 0, seed: 0 } }
    const a = newAccount(T0, { meterBalance: 1_000_000, accumulatedDebt: 30_000 })
    const r = applyTopUp(a, 'enabled', T0, 1_000_000, idle)
    expect(r.account.accumulatedDebt).toBe(0)
    expect(r.account.meterBalance).toBe(1_970_000)
    expect(codes(r.events)).toEqual([Alert.accumulatedDebtCleared])
  })

  it('repays the EC used, then credits the balance', () => {
    const c = ctx()
    const act = activateEmergencyCredit(newAccount(T0, { meterBalance: 0 }), 'enabled', T0, c)
    // 20 000 s at 10 mp/s uses 200 000 mp of the EC.
    const r = applyTopUp(act.account, act.supply, T0 + 20_000_000, 1_000_000, c)
    expect(r.account.emergencyCreditActive).toBe(false)
    expect(r.account.meterBalance).toBe(800_000)
    // A top-up smaller than the EC used only repays part of it; EC stays active.
    const small = applyTopUp(act.account, act.supply, T0 + 20_000_000, 50_000, c)
    expect(small.account.emergencyCreditActive).toBe(true)
    expect(small.account.emergencyCredit).toBe(350_000)
    expect(small.account.meterBalance).toBe(0)
  })

  it('rejects above the max credit threshold and beyond the max meter balance', () => {
    const c = ctx({ maxCreditThreshold: 2_000_000, maxMeterBalance: 5_000_000 })
    const a = newAccount(T0, { meterBalance: 4_000_000 })
    const big = applyTopUp(a, 'enabled', T0, 2_000_001, c)
    expect(big.rejected).toBe(Alert.topUpAboveMaxCredit)
    expect(big.account.meterBalance).toBe(4_000_000)
    expect(applyTopUp(a, 'enabled', T0, 1_000_001, c).rejected).toBe(Alert.topUpExceedsMaxBalance)
    expect(applyTopUp(a, 'enabled', T0, 1_000_000, c).rejected).toBeUndefined()
    expect(() => applyTopUp(a, 'enabled', T0, 0, c)).toThrow(RangeError)
  })

  it('arms a self-disconnected supply once credit is back (0x8F32), not one disabled by command', () => {
    const c = ctx()
    const off = settle(newAccount(T0, { meterBalance: 1_000 }), 'enabled', T0 + HOUR_MS, c)
    expect(off.supply).toBe('disabled')
    const r = applyTopUp(off.account, off.supply, T0 + 2 * HOUR_MS, 1_000_000, c)
    expect(r.supply).toBe('armed')
    expect(codes(r.events)).toEqual([Alert.supplyArmed])
    expect(r.account.meterBalance).toBe(-1 + 1_000_000)
    const commanded = applyTopUp(newAccount(T0, { meterBalance: 1_000 }), 'disabled', T0, 1_000_000, c)
    expect(commanded.supply).toBe('disabled')
  })

  it('re-arms the low-credit alert after a top-up', () => {
    const c = ctx()
    const low = settle(newAccount(T0, { meterBalance: 150_000 }), 'enabled', T0, c)
    expect(codes(low.events)).toEqual([Alert.lowCredit])
    const up = applyTopUp(low.account, low.supply, T0, 100_000, c)
    expect(up.account.flags & Flag.lowCredit).toBe(0)
    const again = settle(up.account, up.supply, T0 + 10_000_000, c)
    expect(again.events).toEqual([{ at: T0 + 5_000_100, alert: Alert.lowCredit }])
  })
})

describe('time debt (rules 1 and 8)', () => {
  it('recovers 1 mp/s and announces the register cleared', () => {
    const c = ctx({ debtRecoveryRates: [86_400, 172_800] }, { watts: 0 })
    const a = newAccount(T0, { meterBalance: 1_000_000, timeDebt: [3_600, 3_600] })
    expect(nextChange(a, 'enabled', c)).toBe(T0 + 1_800_000)
    const r = settle(a, 'enabled', T0 + 2 * HOUR_MS, c)
    expect(r.events).toEqual([
      { at: T0 + 1_800_000, alert: Alert.timeDebt2Cleared },
      { at: T0 + 3_600_000, alert: Alert.timeDebt1Cleared },
    ])
    expect(r.account.timeDebt).toEqual([0, 0])
    expect(r.account.meterBalance).toBe(1_000_000 - 7_200)
  })

  it('pauses while disabled or on EC when the suspend flags say so', () => {
    const c = ctx({ debtRecoveryRates: [86_400, 0], suspendDebtDisabled: true, suspendDebtEmergency: true })
    const a = newAccount(T0, { meterBalance: 1_000_000, timeDebt: [10_000, 0] })
    expect(settle(a, 'disabled', T0 + HOUR_MS, c).account.timeDebt[0]).toBe(10_000)
    expect(settle(a, 'armed', T0 + HOUR_MS, c).account.timeDebt[0]).toBe(10_000)
    expect(settle(a, 'enabled', T0 + 1000, { ...c, load: { watts: 0, seed: 0 } }).account.timeDebt[0]).toBe(
      9_999,
    )
    const onEc = newAccount(T0, { meterBalance: 0, emergencyCreditActive: true, emergencyCredit: 500_000 })
    expect(settle({ ...onEc, timeDebt: [10_000, 0] }, 'enabled', T0 + HOUR_MS, c).account.timeDebt[0]).toBe(
      10_000,
    )
  })
})

describe('credit mode', () => {
  it('accumulates import energy only', () => {
    const c = ctx({}, { paymentMode: 'credit', standingCharge: 50_000 })
    const a = newAccount(T0, { meterBalance: -5_000_000 })
    const r = settle(a, 'enabled', T0 + 3 * DAY_MS, c)
    expect(r.account.importEnergy).toBe(72_000)
    expect(r.account.meterBalance).toBe(-5_000_000)
    expect(r.supply).toBe('enabled')
    expect(r.events).toEqual([])
    expect(nextChange(a, 'enabled', c)).toBeUndefined()
  })
})

it('refuses to settle backwards', () => {
  expect(() => settle(newAccount(T0), 'enabled', T0 - 1, ctx())).toThrow(RangeError)
})

/**
 * The prepayment engine of a GB SMETS2 meter (DOMAIN 2.3 and 2.4): a pure, lazy account model.
 *
 * Nothing ticks. An Account records the credit registers at the instant of its last settlement;
 * `settle` carries it forward to a later instant from the load profile, the tariff and the
 * prepayment configuration, stopping only where a rule fires (a threshold crossed, Emergency Credit
 * exhausted, a time-debt register cleared, the end of a non-disablement period while below the
 * disablement threshold) and applying the rules there; in between, the charges are read off a table
 * of the daily shape. `nextChange` tells the firmware when to wake it next.
 *
 * Units: money is integer milli-pence (mp), energy integer Wh, time integer ms since the epoch (UTC).
 *
 * Rounding: every charge stream accrues exactly as a rational number; the whole part is charged and
 * the remainder is carried in `Account.carry` (as an integer numerator over a fixed denominator). So
 * nothing is lost or double-counted however often the account is settled: settling to t1 then to t2
 * gives exactly the same account as settling to t2 directly.
 */

import { Alert } from './alerts.ts'
import {
  DAY_MS,
  HOUR_MS,
  inNonDisablement,
  type NonDisablementPeriod,
  nextNonDisablementEdge,
} from './calendar.ts'
import { HOURS_PER_DAY, shapePerMille } from './shape.ts'

/** Average demand in watts; its spread over the day is the daily shape drawn from `seed`. */
export interface LoadProfile {
  watts: number
  seed: number
  /** Overrides the seeded shape with 24 hourly multipliers (mean 1 expected, resolution 1/1000), e.g. FLAT_SHAPE. */
  shape?: readonly number[]
}

/** The active tariff: unit rate in mp per kWh and standing charge in mp per day (both integers). */
export interface Tariff {
  unitRate: number
  standingCharge: number
}

/** Prepayment configuration (SR 2.1, 2.3, 1.6): all money in mp. */
export interface PrepaymentConfig {
  emergencyCreditLimit: number
  emergencyCreditThreshold: number
  lowCreditThreshold: number
  disablementThreshold: number
  /** Time-debt recovery in mp per day for Time Debt Registers 1 and 2 (integers). */
  debtRecoveryRates: [number, number]
  /** Percent of each top-up taken for the Accumulated Debt Register. */
  debtRecoveryPerPayment: number
  /** Cap on the payment-based recovery per period; periodDays ≤ 0 means no cap. */
  debtRecoveryRateCap: { amount: number; periodDays: number }
  maxMeterBalance: number
  maxCreditThreshold: number
  /** Pause time-debt recovery while the supply is not enabled. */
  suspendDebtDisabled: boolean
  /** Pause time-debt recovery while Emergency Credit is active. */
  suspendDebtEmergency: boolean
  nonDisablement: readonly NonDisablementPeriod[]
}

export type PaymentMode = 'credit' | 'prepayment'

export interface PrepaymentContext {
  config: PrepaymentConfig
  tariff: Tariff
  load: LoadProfile
  paymentMode: PaymentMode
}

/** The credit registers of one meter at the instant `at` (plain data, stored per device). */
export interface Account {
  /** Instant of the last settlement (ms). */
  at: number
  /** Meter Balance; may go negative inside a non-disablement period or once EC is exhausted. */
  meterBalance: number
  /** Remaining Emergency Credit Balance while EC is active. */
  emergencyCredit: number
  emergencyCreditActive: boolean
  /** Accumulated (payment-based) Debt Register, recovered from top-ups. */
  accumulatedDebt: number
  /** Time Debt Registers 1 and 2, recovered at the debt recovery rates while > 0. */
  timeDebt: [number, number]
  /** Payment-based recovery taken in the current cap period, which began at `periodStart`. */
  recoveredThisPeriod: number
  periodStart: number
  /** Bit set of alert and debt states (see Flag). */
  flags: number
  /** Active Import Energy register (Wh). */
  importEnergy: number
  /**
   * Sub-unit remainders not yet charged: [money / 86.4e12 mp, energy / 3.6e9 Wh,
   * time debt 1 / 86.4e6 mp, time debt 2 / 86.4e6 mp]; each an integer below its denominator.
   */
  carry: [number, number, number, number]
}

export type Supply = 'enabled' | 'disabled' | 'armed'

/** A device alert raised at an instant. */
export interface AlertEvent {
  at: number
  alert: number
}

export interface Settlement {
  account: Account
  supply: Supply
  events: AlertEvent[]
}

/** Bits of Account.flags: an alert bit is set once the alert is raised and cleared when its condition lapses. */
export const Flag = {
  lowCredit: 1 << 0,
  emergencyCreditAvailable: 1 << 1,
  emergencyCreditExhausted: 1 << 2,
  belowDisablement: 1 << 3,
  disablementSuspended: 1 << 4,
  /** Time Debt Register 1 has been seen > 0 (so its clearing is announced once). */
  timeDebt1Owed: 1 << 5,
  timeDebt2Owed: 1 << 6,
  accumulatedDebtOwed: 1 << 7,
  /** The supply is disabled because credit ran out (self-disconnection), not by command. */
  selfDisconnected: 1 << 8,
} as const

/** How far ahead nextChange looks by default. */
export const NEXT_CHANGE_HORIZON_MS = 400 * DAY_MS

const MONEY_DEN = 86_400_000_000_000n // mp × ms: (mW × mp/kWh × 24 + mp/day × 10^6) per ms
const ENERGY_DEN = 3_600_000_000n // Wh × ms: mW per ms
const DEBT_DEN = 86_400_000n // mp × ms: mp/day per ms

/** A fresh account: all registers 0 unless given. */
export function newAccount(at: number, init: Partial<Account> = {}): Account {
  return {
    at,
    meterBalance: 0,
    emergencyCredit: 0,
    emergencyCreditActive: false,
    accumulatedDebt: 0,
    timeDebt: [0, 0],
    recoveredThisPeriod: 0,
    periodStart: at,
    flags: 0,
    importEnergy: 0,
    carry: [0, 0, 0, 0],
    ...init,
  }
}

/** Meter Balance plus the Emergency Credit Balance while EC is active (rule 2, operand (unconfirmed)). */
export function combinedCredit(account: Account): number {
  return account.meterBalance + (account.emergencyCreditActive ? account.emergencyCredit : 0)
}

function copy(a: Account): Account {
  return {
    ...a,
    timeDebt: [a.timeDebt[0], a.timeDebt[1]],
    carry: [a.carry[0], a.carry[1], a.carry[2], a.carry[3]],
  }
}

const shapeCache = new WeakMap<readonly number[], readonly number[]>()

/** The per-mille shape of a load profile. */
function perMille(load: LoadProfile): readonly number[] {
  if (!load.shape) return shapePerMille(load.seed)
  let s = shapeCache.get(load.shape)
  if (!s) {
    if (load.shape.length !== HOURS_PER_DAY) throw new RangeError('a daily shape has 24 hours')
    s = load.shape.map((m) => Math.round(m * 1000))
    shapeCache.set(load.shape, s)
  }
  return s
}

function hourOfDay(t: number): number {
  return Math.floor((((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)
}

/** The constant rates of one stretch of time between two stops. */
interface Segment {
  /** Demand in mW (0 unless the supply is enabled). */
  mW: number
  /** Whether money is charged at all (prepayment mode). */
  charging: boolean
  /** Money numerator per ms over MONEY_DEN. */
  money: bigint
  /** Time-debt instalment rates in mp/day, 0 while a register is empty or suspended. */
  debt: [number, number]
}

/** The demand at t in mW: the load profile's hour of the day, 0 unless the supply is enabled. */
export function demandMilliwatts(load: LoadProfile, supply: Supply, t: number): number {
  return supply === 'enabled' && load.watts > 0 ? Math.round(load.watts * perMille(load)[hourOfDay(t)]!) : 0
}

function segmentOf(a: Account, supply: Supply, ctx: PrepaymentContext): Segment {
  const { config, tariff, load } = ctx
  const mW = demandMilliwatts(load, supply, a.at)
  if (ctx.paymentMode === 'credit') return { mW, charging: false, money: 0n, debt: [0, 0] }
  return {
    mW,
    charging: true,
    money: BigInt(mW) * BigInt(tariff.unitRate) * 24n + BigInt(tariff.standingCharge) * 1_000_000n,
    debt: debtRates(a, supply, config),
  }
}

/** The time-debt instalment rates (mp/day) of a: 0 while a register is empty or suspended. */
function debtRates(a: Account, supply: Supply, config: PrepaymentConfig): [number, number] {
  // Rule 1: time-debt collection pauses while EC is in use / while disabled when the suspend flags say so.
  const suspended =
    (config.suspendDebtEmergency && a.emergencyCreditActive) ||
    (config.suspendDebtDisabled && supply !== 'enabled')
  if (suspended) return [0, 0]
  const [r0, r1] = config.debtRecoveryRates
  return [a.timeDebt[0] > 0 ? r0 : 0, a.timeDebt[1] > 0 ? r1 : 0]
}

/** Charge numerators accrued over some stretch of time (over ENERGY_DEN, MONEY_DEN and DEBT_DEN). */
interface Accrual {
  energy: bigint
  money: bigint
  debt: [bigint, bigint]
  charging: boolean
}

function accrual(seg: Segment, d: number): Accrual {
  const dd = BigInt(d)
  return {
    energy: BigInt(seg.mW) * dd,
    money: seg.money * dd,
    debt: [BigInt(seg.debt[0]) * dd, BigInt(seg.debt[1]) * dd],
    charging: seg.charging,
  }
}

/** The account d ms later under constant rates, before any rule is applied (rule 1). */
function advance(a: Account, seg: Segment, d: number): Account {
  return accrue(a, accrual(seg, d), d)
}

/**
 * Adds an accrual to the account: whole units are charged, remainders carried. Exactly additive:
 * accruing x then y gives the same account as accruing x + y.
 */
function accrue(a: Account, x: Accrual, d: number): Account {
  const n = copy(a)
  n.at = a.at + d
  if (x.energy > 0n) {
    const e = BigInt(a.carry[1]) + x.energy
    n.importEnergy += Number(e / ENERGY_DEN)
    n.carry[1] = Number(e % ENERGY_DEN)
  }
  if (!x.charging) return n
  let draw = 0
  if (x.money > 0n) {
    const m = BigInt(a.carry[0]) + x.money
    draw += Number(m / MONEY_DEN)
    n.carry[0] = Number(m % MONEY_DEN)
  }
  for (const i of [0, 1] as const) {
    if (x.debt[i] <= 0n) continue
    const v = BigInt(a.carry[2 + i]!) + x.debt[i]
    let instalment = Number(v / DEBT_DEN)
    if (instalment >= a.timeDebt[i]) {
      instalment = a.timeDebt[i]
      n.carry[2 + i] = 0
    } else n.carry[2 + i] = Number(v % DEBT_DEN)
    n.timeDebt[i] = a.timeDebt[i] - instalment
    draw += instalment
  }
  // Rule 1: charges draw on the Meter Balance while > 0, then on active EC, then the balance goes negative.
  const fromBalance = Math.min(Math.max(n.meterBalance, 0), draw)
  n.meterBalance -= fromBalance
  draw -= fromBalance
  if (n.emergencyCreditActive) {
    const fromEc = Math.min(Math.max(n.emergencyCredit, 0), draw)
    n.emergencyCredit -= fromEc
    draw -= fromEc
  }
  n.meterBalance -= draw
  return n
}

/**
 * Fast path over whole UTC days while consuming (the daily shape repeats): the number of whole days
 * from a.at (a midnight) that can be crossed in one accrual because nothing fires, judged on a
 * pessimistic account charged all day at the peak hour's rate (every rule condition is monotone in
 * the amount drawn); with the exact accrual of one day. Credit mode never fires.
 */
function wholeDays(
  a: Account,
  supply: Supply,
  ctx: PrepaymentContext,
  maxDays: number,
): { days: number; day: Accrual } | undefined {
  const hourly = Array.from({ length: HOURS_PER_DAY }, (_, h) =>
    segmentOf({ ...a, at: a.at + h * HOUR_MS }, supply, ctx),
  )
  const h = BigInt(HOUR_MS)
  const day: Accrual = { energy: 0n, money: 0n, debt: [0n, 0n], charging: hourly[0]!.charging }
  for (const seg of hourly) {
    day.energy += BigInt(seg.mW) * h
    day.money += seg.money * h
    day.debt[0] += BigInt(seg.debt[0]) * h
    day.debt[1] += BigInt(seg.debt[1]) * h
  }
  if (!day.charging) return { days: maxDays, day }
  const peak = hourly.reduce((p, s) => (s.money > p.money ? s : p))
  const safe = (k: number) => !fires(advance(a, peak, k * DAY_MS), supply, ctx)
  let lo = 0
  let hi = maxDays
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (safe(mid)) lo = mid
    else hi = mid - 1
  }
  return lo > 0 ? { days: lo, day } : undefined
}

function times(x: Accrual, k: number): Accrual {
  const kk = BigInt(k)
  return {
    energy: x.energy * kk,
    money: x.money * kk,
    debt: [x.debt[0] * kk, x.debt[1] * kk],
    charging: x.charging,
  }
}

/**
 * Applies the prepayment rules at the instant a.at (mutating the working copy a): raises each alert
 * whose condition newly holds, re-arms those whose condition lapsed, and self-disconnects.
 * Order at one instant: debts cleared, EC exhausted, low credit, EC available, disablement, suspension.
 */
function applyRules(a: Account, supply: Supply, ctx: PrepaymentContext, events: AlertEvent[]): Supply {
  const c = ctx.config
  cleared(a, events, Flag.timeDebt1Owed, a.timeDebt[0], Alert.timeDebt1Cleared)
  cleared(a, events, Flag.timeDebt2Owed, a.timeDebt[1], Alert.timeDebt2Cleared)
  cleared(a, events, Flag.accumulatedDebtOwed, a.accumulatedDebt, Alert.accumulatedDebtCleared)
  // Rule 5: EC used up.
  raise(
    a,
    events,
    Flag.emergencyCreditExhausted,
    a.emergencyCreditActive && a.emergencyCredit <= 0,
    Alert.emergencyCreditExhausted,
  )
  const combined = combinedCredit(a)
  // Rule 2: low credit.
  raise(a, events, Flag.lowCredit, combined < c.lowCreditThreshold, Alert.lowCredit)
  // Rule 3: EC available (only when there is EC to offer).
  raise(
    a,
    events,
    Flag.emergencyCreditAvailable,
    !a.emergencyCreditActive && c.emergencyCreditLimit > 0 && a.meterBalance < c.emergencyCreditThreshold,
    Alert.emergencyCreditAvailable,
  )
  // Rule 6: below the disablement threshold; self-disconnect unless inside a non-disablement period.
  const below = combined < c.disablementThreshold
  raise(a, events, Flag.belowDisablement, below, Alert.belowDisablementThreshold)
  const protectedNow = inNonDisablement(c.nonDisablement, a.at)
  raise(
    a,
    events,
    Flag.disablementSuspended,
    below && supply === 'enabled' && protectedNow,
    Alert.disablementSuspended,
  )
  if (below && supply === 'enabled' && !protectedNow) {
    a.flags |= Flag.selfDisconnected
    return 'disabled'
  }
  if (supply !== 'disabled') a.flags &= ~Flag.selfDisconnected
  return supply
}

/** Raises an alert when its condition newly holds, re-arms it when the condition has lapsed. */
function raise(a: Account, events: AlertEvent[], bit: number, condition: boolean, alert: number): void {
  if (!condition) a.flags &= ~bit
  else if (!(a.flags & bit)) {
    a.flags |= bit
    events.push({ at: a.at, alert })
  }
}

/** Rule 8: a debt register reaching 0 (having been seen > 0). */
function cleared(a: Account, events: AlertEvent[], bit: number, value: number, alert: number): void {
  if (value > 0) a.flags |= bit
  else if (a.flags & bit) {
    a.flags &= ~bit
    events.push({ at: a.at, alert })
  }
}

/** Whether applying the rules to a would raise an alert or change the supply. */
function fires(a: Account, supply: Supply, ctx: PrepaymentContext): boolean {
  const events: AlertEvent[] = []
  return applyRules(copy(a), supply, ctx, events) !== supply || events.length > 0
}

/** The end of the stretch starting at a.at over which rates are constant (hour edge, calendar edge, target). */
function segmentEnd(
  a: Account,
  supply: Supply,
  seg: Segment,
  ctx: PrepaymentContext,
  target: number,
): number {
  let end = target
  if (seg.mW > 0) end = Math.min(end, Math.floor(a.at / HOUR_MS) * HOUR_MS + HOUR_MS)
  if (seg.charging && supply === 'enabled') {
    const edge = nextNonDisablementEdge(ctx.config.nonDisablement, a.at)
    if (edge !== undefined) end = Math.min(end, edge)
  }
  return end
}

interface Run extends Settlement {
  /** The first instant at which an alert was raised or the supply changed. */
  first: number | undefined
}

/**
 * Carries the account to target segment by segment (hour edges, calendar edges). Within a stretch of
 * constant rates every rule condition is monotone in time, so the first instant a rule fires is
 * found by bisection over whole milliseconds. The general path: settle and nextChange use it only
 * for inputs outside the direct solver's assumptions (see solvable, settleable, dayTable).
 */
function run(
  account: Account,
  supply: Supply,
  target: number,
  ctx: PrepaymentContext,
  stopAtFirst: boolean,
): Run {
  if (!Number.isSafeInteger(target)) throw new RangeError(`settlement instant ${target} is not an integer ms`)
  if (target < account.at) throw new RangeError(`cannot settle backwards from ${account.at} to ${target}`)
  let a = copy(account)
  const events: AlertEvent[] = []
  const prepayment = ctx.paymentMode === 'prepayment'
  let first: number | undefined
  const rules = () => {
    if (!prepayment) return false
    const before = events.length
    const was = supply
    supply = applyRules(a, supply, ctx, events)
    if (first === undefined && (events.length > before || supply !== was)) first = a.at
    return first !== undefined && stopAtFirst
  }
  if (rules()) return { account: a, supply, events, first }
  while (a.at < target) {
    // Whole days at once while consuming, unless already below the disablement threshold (then the
    // non-disablement period edges matter).
    if (
      a.at % DAY_MS === 0 &&
      target - a.at >= DAY_MS &&
      supply === 'enabled' &&
      ctx.load.watts > 0 &&
      (!prepayment || combinedCredit(a) >= ctx.config.disablementThreshold)
    ) {
      const jump = wholeDays(a, supply, ctx, Math.floor((target - a.at) / DAY_MS))
      if (jump) {
        a = accrue(a, times(jump.day, jump.days), jump.days * DAY_MS)
        if (rules()) break
        continue
      }
    }
    const seg = segmentOf(a, supply, ctx)
    const len = segmentEnd(a, supply, seg, ctx, target) - a.at
    let step = len
    if (prepayment && len > 1 && fires(advance(a, seg, len - 1), supply, ctx)) {
      let lo = 1
      let hi = len - 1
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2)
        if (fires(advance(a, seg, mid), supply, ctx)) hi = mid
        else lo = mid + 1
      }
      step = lo
    }
    a = advance(a, seg, step)
    if (rules()) break
  }
  return { account: a, supply, events, first }
}

/**
 * Settles the account from account.at to t (rule 1–6, 8): consumption only while the supply is
 * enabled; standing charge and time-debt instalments always (unless suspended). Returns the new
 * account, the supply state (self-disconnection 'enabled' → 'disabled') and the alerts raised, in
 * order, each at its own instant. Credit mode accumulates import energy only.
 *
 * Jumps from one firing to the next (settleDirect): a few µs per rule fired, however long the span.
 */
export function settle(account: Account, supply: Supply, t: number, ctx: PrepaymentContext): Settlement {
  if (!Number.isSafeInteger(t)) throw new RangeError(`settlement instant ${t} is not an integer ms`)
  if (t < account.at) throw new RangeError(`cannot settle backwards from ${account.at} to ${t}`)
  if (settleable(account, ctx)) return settleDirect(account, supply, t, ctx)
  const { first: _, ...result } = run(account, supply, t, ctx, false)
  return result
}

/**
 * settle from one rule firing to the next (see README, `settle`): after the rules are applied at
 * `a.at` the rates stay constant up to the next firing, which `solveFrom` gives, and accruals are
 * exactly additive, so the account is carried there in one accrual read off the day table (whole
 * days by multiplication), the rules are applied, and so on until t. Cases outside the solver's
 * assumptions (a demand hour rounding to 0 mW) continue in `run`.
 */
function settleDirect(account: Account, supply: Supply, t: number, ctx: PrepaymentContext): Settlement {
  let a = copy(account)
  const events: AlertEvent[] = []
  const prepayment = ctx.paymentMode === 'prepayment'
  if (prepayment) supply = applyRules(a, supply, ctx, events)
  while (a.at < t) {
    const table = dayTable(ctx, supply === 'enabled' && ctx.load.watts > 0)
    const next = !table ? null : prepayment ? solveFrom(a, supply, ctx, t, table) : undefined
    if (!table || next === null || (next !== undefined && next <= a.at)) {
      const rest = run(a, supply, t, ctx, false)
      return { account: rest.account, supply: rest.supply, events: [...events, ...rest.events] }
    }
    const d = (next ?? t) - a.at
    a = accrue(a, spanAccrual(a, supply, ctx, table, d), d)
    if (prepayment) supply = applyRules(a, supply, ctx, events)
  }
  return { account: a, supply, events }
}

/**
 * Whether settleDirect gives exactly what `run` gives: the solver's assumptions, and sums that stay
 * exactly additive (the energy carry in range, a whole Wh count).
 */
function settleable(a: Account, ctx: PrepaymentContext): boolean {
  return (
    solvable(a, ctx) &&
    Number.isSafeInteger(a.carry[1]) &&
    a.carry[1] >= 0 &&
    a.carry[1] < 3_600_000_000 &&
    Number.isSafeInteger(a.importEnergy)
  )
}

/**
 * The exact accrual over the d ms from a.at under the rates of a (as segmentOf gives them hour by
 * hour): money and energy from the day table, time-debt streams linear.
 */
function spanAccrual(
  a: Account,
  supply: Supply,
  ctx: PrepaymentContext,
  table: DayTable,
  d: number,
): Accrual {
  const o = ((a.at % DAY_MS) + DAY_MS) % DAY_MS
  const energy = energyAt(table, o + d) - energyAt(table, o)
  if (ctx.paymentMode !== 'prepayment') return { energy, money: 0n, debt: [0n, 0n], charging: false }
  const dd = BigInt(d)
  const rates = debtRates(a, supply, ctx.config)
  return {
    energy,
    money: moneyAt(table, o + d) - moneyAt(table, o),
    debt: [BigInt(rates[0]) * dd, BigInt(rates[1]) * dd],
    charging: true,
  }
}

/**
 * The first instant ≥ account.at at which settling would raise an alert or change the supply
 * (account.at itself when a rule is already pending), or undefined if none within the horizon or in
 * credit mode. Exact: settling to one ms before it raises nothing.
 *
 * Solved directly (see solveNextChange); accounts or settings outside what the solver assumes
 * (non-integer or negative rates, carries out of range, a demand hour rounding to 0 mW) take the
 * general path, `run`, which gives the same answer by bisection.
 */
export function nextChange(
  account: Account,
  supply: Supply,
  ctx: PrepaymentContext,
  horizon: number = NEXT_CHANGE_HORIZON_MS,
): number | undefined {
  if (ctx.paymentMode === 'credit') return undefined
  const target = account.at + horizon
  if (!Number.isSafeInteger(target)) throw new RangeError(`settlement instant ${target} is not an integer ms`)
  if (target < account.at) throw new RangeError(`cannot settle backwards from ${account.at} to ${target}`)
  const solved = solveNextChange(account, supply, ctx, target)
  return solved === null ? run(account, supply, target, ctx, true).first : solved
}

/** MONEY_DEN / DEBT_DEN: a time-debt numerator expressed over MONEY_DEN. */
const DEBT_TO_MONEY = 1_000_000n
const DAY_N = BigInt(DAY_MS)
const HOUR_N = BigInt(HOUR_MS)

/**
 * One UTC day at one demand and tariff (the daily shape repeats, so it describes every day): the
 * demand `mW[h]` in hour h (as segmentOf gives it, all > 0, or all 0 without demand) and
 * `mWBefore[h]` = Σ mW[k] for k < h (exact integers), from which the money numerators (over
 * MONEY_DEN; per ms `mW·unit + standing`) and the energy numerators (over ENERGY_DEN; per ms `mW`)
 * accrued from midnight follow (moneyAt, energyAt). Numbers and four BigInts: about 0.6 kB.
 */
interface DayTable {
  mW: number[]
  mWBefore: number[]
  /** Money numerator per ms: per mW of demand (unit rate × 24), and the standing charge (× 10⁶). */
  unit: bigint
  standing: bigint
  /** The whole day's money and energy numerators. */
  dayMoney: bigint
  dayEnergy: bigint
}

/** The money numerator accrued from midnight to the start of hour h (0 ≤ h ≤ 24). */
function moneyBefore(t: DayTable, h: number): bigint {
  return HOUR_N * (t.unit * BigInt(t.mWBefore[h]!) + t.standing * BigInt(h))
}

/** The money numerator per ms in hour h. */
function moneyRate(t: DayTable, h: number): bigint {
  return BigInt(t.mW[h]!) * t.unit + t.standing
}

/** The money numerator accrued from a midnight to u ms later (u ≥ 0). */
function moneyAt(t: DayTable, u: number): bigint {
  const days = Math.floor(u / DAY_MS)
  const inDay = u - days * DAY_MS
  const h = Math.floor(inDay / HOUR_MS)
  return BigInt(days) * t.dayMoney + moneyBefore(t, h) + moneyRate(t, h) * BigInt(inDay - h * HOUR_MS)
}

/** The energy numerator accrued from a midnight to u ms later (u ≥ 0). */
function energyAt(t: DayTable, u: number): bigint {
  const days = Math.floor(u / DAY_MS)
  const inDay = u - days * DAY_MS
  const h = Math.floor(inDay / HOUR_MS)
  return (
    BigInt(days) * t.dayEnergy +
    BigInt(t.mWBefore[h]!) * HOUR_N +
    BigInt(t.mW[h]!) * BigInt(inDay - h * HOUR_MS)
  )
}

/**
 * Day tables, shared by every device with the same shape: by `load.shape` (an array) or by seed (so
 * that a seeded shape need not be drawn again once shape.ts has dropped it), then by
 * watts/unit rate/standing charge. Bounded: a full map is emptied (at most MAX_SEEDS seeds ×
 * MAX_TABLES_PER_SHAPE tables, in practice one table per seed). On top of that each LoadProfile
 * object remembers the last demand table it used (`lastTable`, weak: it goes with the profile), so a
 * fleet of more devices than those bounds, each with its own seed or watts and stepped in turn,
 * does not rebuild its table on every step; that costs about 1 kB per live profile.
 */
const tablesByShape = new WeakMap<readonly number[], Map<string, DayTable>>()
const tablesBySeed = new Map<number, Map<string, DayTable>>()
/** The shape key of days without demand (supply off or no load): the standing charge only. */
const NO_DEMAND: readonly number[] = Object.freeze([])
const MAX_SEEDS = 4096
const MAX_TABLES_PER_SHAPE = 256

/** The inputs a demand table was built from, and the table. */
interface LastTable {
  seed: number
  shape: readonly number[] | undefined
  watts: number
  unitRate: number
  standingCharge: number
  table: DayTable
}
const lastTable = new WeakMap<LoadProfile, LastTable>()

/**
 * The day table of ctx with demand (supply enabled and watts > 0) or without; undefined when a
 * demand hour rounds to 0 mW or below (then `run` stops at no hour edge in that hour, which only it
 * models) or a day's demand is beyond exact integers.
 */
function dayTable(ctx: PrepaymentContext, demand: boolean): DayTable | undefined {
  const { tariff, load } = ctx
  if (!demand) return sharedDayTable(ctx, false)
  // Compared by value: a profile or a tariff may be changed in place.
  const last = lastTable.get(load)
  if (
    last &&
    last.seed === load.seed &&
    last.shape === load.shape &&
    last.watts === load.watts &&
    last.unitRate === tariff.unitRate &&
    last.standingCharge === tariff.standingCharge
  )
    return last.table
  const table = sharedDayTable(ctx, true)
  if (table) {
    const { seed, shape, watts } = load
    const { unitRate, standingCharge } = tariff
    lastTable.set(load, { seed, shape, watts, unitRate, standingCharge, table })
  }
  return table
}

/** dayTable from the shared caches (built on a miss). */
function sharedDayTable(ctx: PrepaymentContext, demand: boolean): DayTable | undefined {
  const { tariff, load } = ctx
  const watts = demand ? load.watts : 0
  let tables: Map<string, DayTable> | undefined
  if (!demand || load.shape) {
    const shape = demand ? load.shape! : NO_DEMAND
    tables = tablesByShape.get(shape)
    if (!tables) {
      tables = new Map()
      tablesByShape.set(shape, tables)
    }
  } else {
    tables = tablesBySeed.get(load.seed)
    if (!tables) {
      if (tablesBySeed.size >= MAX_SEEDS) tablesBySeed.clear()
      tables = new Map()
      tablesBySeed.set(load.seed, tables)
    }
  }
  const key = `${watts} ${tariff.unitRate} ${tariff.standingCharge}`
  const hit = tables.get(key)
  if (hit) return hit
  const pm = demand ? perMille(load) : undefined
  const mW: number[] = []
  const mWBefore: number[] = [0]
  for (let h = 0; h < HOURS_PER_DAY; h++) {
    const m = pm ? Math.round(watts * pm[h]!) : 0
    if (pm && !(m > 0)) return undefined
    mW.push(m)
    mWBefore.push(mWBefore[h]! + m)
  }
  const dayMW = mWBefore[HOURS_PER_DAY]!
  if (!Number.isSafeInteger(dayMW)) return undefined
  if (tables.size >= MAX_TABLES_PER_SHAPE) tables.clear()
  const unit = BigInt(tariff.unitRate) * 24n
  const standing = BigInt(tariff.standingCharge) * 1_000_000n
  const t: DayTable = {
    mW,
    mWBefore,
    unit,
    standing,
    dayMoney: HOUR_N * (unit * BigInt(dayMW) + standing * BigInt(HOURS_PER_DAY)),
    dayEnergy: BigInt(dayMW) * HOUR_N,
  }
  tables.set(key, t)
  return t
}

/** Whether the direct solver's assumptions hold (integers where the engine says integers, carries in range). */
function solvable(a: Account, ctx: PrepaymentContext): boolean {
  const { config: c, tariff } = ctx
  const int = Number.isSafeInteger
  return (
    int(a.at) &&
    int(a.meterBalance) &&
    int(a.emergencyCredit) &&
    int(a.timeDebt[0]) &&
    int(a.timeDebt[1]) &&
    carry(a.carry[0], 86_400_000_000_000) &&
    carry(a.carry[2], 86_400_000) &&
    carry(a.carry[3], 86_400_000) &&
    nonNegative(tariff.unitRate) &&
    nonNegative(tariff.standingCharge) &&
    nonNegative(c.debtRecoveryRates[0]) &&
    nonNegative(c.debtRecoveryRates[1]) &&
    Number.isFinite(c.lowCreditThreshold) &&
    Number.isFinite(c.emergencyCreditThreshold) &&
    Number.isFinite(c.disablementThreshold) &&
    Number.isFinite(ctx.load.watts)
  )
}

function nonNegative(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0
}

function carry(x: number, den: number): boolean {
  return nonNegative(x) && x < den
}

/** ⌈x / y⌉ for x ≥ 0, y > 0. */
function ceilDiv(x: bigint, y: bigint): bigint {
  return (x + y - 1n) / y
}

/**
 * The least total draw D (mp: charges plus time-debt instalments, rule 1) at which a threshold rule
 * fires for an account on which the rules have just been applied (so each alert bit says whether its
 * condition holds): EC exhausted (5), low credit (2), EC available (3), below disablement (6).
 * Drawing D leaves combined credit C − D, a Meter Balance of m − D while EC is inactive, and uses
 * EC up once D ≥ max(m, 0) + EC. Infinity when none can fire.
 */
function drawToFire(a: Account, c: PrepaymentConfig): number {
  const f = a.flags
  const combined = combinedCredit(a)
  let need = Number.POSITIVE_INFINITY
  if (a.emergencyCreditActive && !(f & Flag.emergencyCreditExhausted))
    need = Math.max(a.meterBalance, 0) + a.emergencyCredit
  if (!(f & Flag.lowCredit)) need = Math.min(need, Math.floor(combined - c.lowCreditThreshold) + 1)
  if (!a.emergencyCreditActive && c.emergencyCreditLimit > 0 && !(f & Flag.emergencyCreditAvailable))
    need = Math.min(need, Math.floor(a.meterBalance - c.emergencyCreditThreshold) + 1)
  if (!(f & Flag.belowDisablement)) need = Math.min(need, Math.floor(combined - c.disablementThreshold) + 1)
  return need
}

/**
 * nextChange without search. Up to the first instant anything fires, the rates are those of
 * `account.at` (debt rates change only when a register clears, which fires; EC activation and the
 * supply change only by firing), the charges follow the daily shape hour by hour, and every rule
 * condition is monotone in time. So the first instant is the least of:
 * - each time-debt register's clearing (rule 8): a linear stream, one division;
 * - the instant the total draw reaches drawToFire: the money numerator accrued is a known piecewise
 *   linear function of time (whole days of the day table, then its hours, then ms), solved by
 *   division; with time-debt streams too, the sum of their floors lies within one mp per stream of
 *   the exact rational sum, which brackets the instant to a few mp's worth of ms, bisected exactly;
 * - for an enabled supply already below the disablement threshold (so held on by a non-disablement
 *   period), the first calendar edge outside any period (rule 6).
 * The same as `run(…, true).first`, checked against the former search (reference.test-support.ts).
 * null: not solvable here (see solvable).
 */
function solveNextChange(
  account: Account,
  supply: Supply,
  ctx: PrepaymentContext,
  target: number,
): number | undefined | null {
  if (ctx.paymentMode !== 'prepayment') return null
  // A rule pending at account.at: the same first step as run's.
  const a = copy(account)
  const events: AlertEvent[] = []
  if (applyRules(a, supply, ctx, events) !== supply || events.length > 0) return a.at
  if (!solvable(a, ctx)) return null
  const table = dayTable(ctx, supply === 'enabled' && ctx.load.watts > 0)
  if (!table) return null
  return solveFrom(a, supply, ctx, target, table)
}

/**
 * solveNextChange once the rules have been applied at a.at (nothing pending) and a is solvable,
 * with the day table of a's demand: the first firing instant in (a.at, target], undefined if none,
 * null if left to run.
 */
function solveFrom(
  a: Account,
  supply: Supply,
  ctx: PrepaymentContext,
  target: number,
  table: DayTable,
): number | undefined | null {
  const horizon = target - a.at
  if (horizon === 0) return undefined
  const c = ctx.config
  const need = drawToFire(a, c)
  if (need < 1) return null // cannot happen once the rules are applied; left to run if it does
  const rates = debtRates(a, supply, c) // the same time-debt rates as segmentOf
  let best = Number.POSITIVE_INFINITY
  const streams: { rate: bigint; carry: bigint }[] = []
  for (const i of [0, 1] as const) {
    const r = rates[i]
    if (r <= 0) continue
    const stream = { rate: BigInt(r), carry: BigInt(a.carry[2 + i]!) }
    streams.push(stream)
    // Rule 8: the register is cleared once the instalments reach it.
    best = Math.min(best, Number(ceilDiv(BigInt(a.timeDebt[i]) * DEBT_DEN - stream.carry, stream.rate)))
  }
  if (need < Number.POSITIVE_INFINITY) best = Math.min(best, firstDraw(a, table, streams, need, horizon))
  // Rule 6: held on by a non-disablement period until an edge outside every period.
  if (supply === 'enabled' && combinedCredit(a) < c.disablementThreshold) {
    const periods = c.nonDisablement
    let edge = nextNonDisablementEdge(periods, a.at)
    while (edge !== undefined && edge - a.at <= horizon && inNonDisablement(periods, edge))
      edge = nextNonDisablementEdge(periods, edge)
    if (edge !== undefined) best = Math.min(best, edge - a.at)
  }
  return best <= horizon ? a.at + best : undefined
}

/**
 * The least τ ≤ horizon (ms after a.at) at which the draw — whole mp of money charged plus the
 * whole instalments of each time-debt stream — reaches `need` mp, or Infinity.
 */
function firstDraw(
  a: Account,
  table: DayTable,
  streams: readonly { rate: bigint; carry: bigint }[],
  need: number,
  horizon: number,
): number {
  const o = ((a.at % DAY_MS) + DAY_MS) % DAY_MS // a.at's offset in its UTC day
  const carry0 = BigInt(a.carry[0])
  // Everything over MONEY_DEN: the exact sum of the streams is base + money(o + τ) − money0 + R·τ.
  let R = 0n
  let base = carry0
  for (const s of streams) {
    R += s.rate * DEBT_TO_MONEY
    base += s.carry * DEBT_TO_MONEY
  }
  const p: Draw = {
    table,
    streams,
    o,
    horizon,
    carry0,
    money0: moneyAt(table, o),
    R,
    base,
    perDay: table.dayMoney + R * DAY_N,
    lastDay: BigInt(Math.floor((o + horizon) / DAY_MS) + 1),
  }
  const first = reach(p, BigInt(need) * MONEY_DEN)
  if (streams.length === 0 || first === Number.POSITIVE_INFINITY) return first
  // Each floor loses less than 1 mp: the draw reaches need by the time the exact sum reaches
  // need + (number of streams).
  let hi = reach(p, BigInt(need + streams.length) * MONEY_DEN)
  if (hi === Number.POSITIVE_INFINITY) {
    if (drawn(p, horizon) < need) return hi
    hi = horizon
  }
  let lo = first
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (drawn(p, mid) >= need) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** firstDraw's problem (plain functions below rather than closures: this runs at every settle step). */
interface Draw {
  table: DayTable
  streams: readonly { rate: bigint; carry: bigint }[]
  /** a.at's offset in its UTC day. */
  o: number
  horizon: number
  carry0: bigint
  /** Money numerator accrued from the midnight before a.at to a.at. */
  money0: bigint
  /** The time-debt streams' rates, over MONEY_DEN per ms. */
  R: bigint
  /** The carries, over MONEY_DEN. */
  base: bigint
  /** All the streams over a whole day. */
  perDay: bigint
  lastDay: bigint
}

/** The least τ at which the exact sum of the streams reaches x (over MONEY_DEN), or Infinity beyond the horizon. */
function reach(p: Draw, x: bigint): number {
  const { table, R, o } = p
  const y = x - p.base
  if (y <= 0n) return 0
  if (p.perDay === 0n) return Number.POSITIVE_INFINITY
  const total = y + p.money0 + R * BigInt(o) // to reach from the midnight before a.at
  const days = (total - 1n) / p.perDay
  if (days > p.lastDay) return Number.POSITIVE_INFINITY
  const rest = total - days * p.perDay // in (0, perDay]: within day `days`
  // The hour: the last whose start is reached before rest (by the start of hour h: moneyBefore + R·h hours).
  let lo = 0
  let hi = HOURS_PER_DAY - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (moneyBefore(table, mid + 1) + R * BigInt(mid + 1) * HOUR_N >= rest) hi = mid
    else lo = mid + 1
  }
  const ms = ceilDiv(rest - (moneyBefore(table, lo) + R * BigInt(lo) * HOUR_N), moneyRate(table, lo) + R)
  const tau = Number(days) * DAY_MS + lo * HOUR_MS + Number(ms) - o
  return tau <= p.horizon ? tau : Number.POSITIVE_INFINITY
}

/** The whole mp drawn by τ (each stream floored on its own, as accrue does). */
function drawn(p: Draw, tau: number): number {
  let d = Number((p.carry0 + moneyAt(p.table, p.o + tau) - p.money0) / MONEY_DEN)
  for (const s of p.streams) d += Number((s.carry + s.rate * BigInt(tau)) / DEBT_DEN)
  return d
}

/**
 * Activates Emergency Credit at t (rule 4: button, PPMID, SR 2.5): available only in prepayment mode
 * while the Meter Balance is below the EC Threshold. EC Balance = EC Limit, alert 0x81AB; a disabled
 * supply becomes armed with 0x8168. Already active → ok without change (SR 2.5 reports success
 * whenever EC ends up active).
 */
export function activateEmergencyCredit(
  account: Account,
  supply: Supply,
  t: number,
  ctx: PrepaymentContext,
): Settlement & { ok: boolean } {
  const s = settle(account, supply, t, ctx)
  const c = ctx.config
  if (ctx.paymentMode !== 'prepayment') return { ...s, ok: false }
  if (s.account.emergencyCreditActive) return { ...s, ok: true }
  if (c.emergencyCreditLimit <= 0 || !(s.account.meterBalance < c.emergencyCreditThreshold))
    return { ...s, ok: false }
  const a = copy(s.account)
  const events = s.events
  let next = s.supply
  a.emergencyCreditActive = true
  a.emergencyCredit = c.emergencyCreditLimit
  events.push({ at: t, alert: Alert.emergencyCreditActivated })
  if (next === 'disabled') {
    next = 'armed'
    a.flags &= ~Flag.selfDisconnected
    events.push({ at: t, alert: Alert.disabledThenArmed })
  }
  next = applyRules(a, next, ctx, events)
  return { account: a, supply: next, events, ok: true }
}

/**
 * Applies a top-up of `amount` mp at t (rule 7). Rejects (alert code in `rejected`, account settled
 * but otherwise unchanged) above the Max Credit Threshold (0x8F5B) or when the resulting Meter Balance
 * would exceed the Max Meter Balance (0x8F47). Otherwise: debt recovery per payment (capped per cap
 * period) to the Accumulated Debt Register, then repayment of the EC used, then the rest to the
 * Meter Balance. A supply self-disconnected for lack of credit is armed (0x8F32) once combined
 * credit is back at or above the Disablement Threshold. 0x810E is left to the caller.
 */
export function applyTopUp(
  account: Account,
  supply: Supply,
  t: number,
  amount: number,
  ctx: PrepaymentContext,
): Settlement & { rejected?: number } {
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw new RangeError(`top-up ${amount} is not a positive integer`)
  const s = settle(account, supply, t, ctx)
  const c = ctx.config
  if (amount > c.maxCreditThreshold) return { ...s, rejected: Alert.topUpAboveMaxCredit }
  const a = copy(s.account)
  const cap = c.debtRecoveryRateCap
  let capLeft = Number.POSITIVE_INFINITY
  if (cap.periodDays > 0) {
    const period = cap.periodDays * DAY_MS
    if (t >= a.periodStart + period) {
      a.periodStart += Math.floor((t - a.periodStart) / period) * period
      a.recoveredThisPeriod = 0
    }
    capLeft = Math.max(0, cap.amount - a.recoveredThisPeriod)
  }
  const take = Math.max(
    0,
    Math.min(a.accumulatedDebt, Math.floor((amount * c.debtRecoveryPerPayment) / 100), capLeft),
  )
  a.accumulatedDebt -= take
  a.recoveredThisPeriod += take
  let rest = amount - take
  if (a.emergencyCreditActive) {
    const used = Math.max(0, c.emergencyCreditLimit - a.emergencyCredit)
    if (rest >= used) {
      rest -= used
      a.emergencyCreditActive = false
      a.emergencyCredit = 0
    } else {
      a.emergencyCredit += rest
      rest = 0
    }
  }
  a.meterBalance += rest
  if (a.meterBalance > c.maxMeterBalance) return { ...s, rejected: Alert.topUpExceedsMaxBalance }
  const events = s.events
  let next = s.supply
  if (ctx.paymentMode === 'prepayment') {
    next = applyRules(a, next, ctx, events)
    if (
      next === 'disabled' &&
      a.flags & Flag.selfDisconnected &&
      combinedCredit(a) >= c.disablementThreshold
    ) {
      next = 'armed'
      a.flags &= ~Flag.selfDisconnected
      events.push({ at: t, alert: Alert.supplyArmed })
    }
  }
  return { account: a, supply: next, events }
}

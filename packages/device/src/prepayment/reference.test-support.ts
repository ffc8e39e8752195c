/**
 * Test support: `nextChange` and `settle` as they were before the direct solver (engine.ts,
 * solveNextChange, settleDirect) — the settlement loop: whole days crossed by a binary search on a
 * pessimistic (peak-hour) account, then hourly segments bisected to the millisecond. Copied
 * verbatim from engine.ts (where `run` remains the fallback for inputs outside the solver's
 * assumptions) so that it stays a fixed oracle for properties.test.ts; not used by the engine.
 */

import { Alert } from './alerts.ts'
import { DAY_MS, HOUR_MS, inNonDisablement, nextNonDisablementEdge } from './calendar.ts'
import {
  type Account,
  type AlertEvent,
  combinedCredit,
  Flag,
  type LoadProfile,
  NEXT_CHANGE_HORIZON_MS,
  type PrepaymentContext,
  type Settlement,
  type Supply,
} from './engine.ts'
import { HOURS_PER_DAY, shapePerMille } from './shape.ts'

const MONEY_DEN = 86_400_000_000_000n // mp × ms: (mW × mp/kWh × 24 + mp/day × 10^6) per ms
const ENERGY_DEN = 3_600_000_000n // Wh × ms: mW per ms
const DEBT_DEN = 86_400_000n // mp × ms: mp/day per ms

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

function segmentOf(a: Account, supply: Supply, ctx: PrepaymentContext): Segment {
  const { config, tariff, load } = ctx
  const mW =
    supply === 'enabled' && load.watts > 0 ? Math.round(load.watts * perMille(load)[hourOfDay(a.at)]!) : 0
  if (ctx.paymentMode === 'credit') return { mW, charging: false, money: 0n, debt: [0, 0] }
  // Rule 1: time-debt collection pauses while EC is in use / while disabled when the suspend flags say so.
  const suspended =
    (config.suspendDebtEmergency && a.emergencyCreditActive) ||
    (config.suspendDebtDisabled && supply !== 'enabled')
  const rate = (i: 0 | 1) => (!suspended && a.timeDebt[i] > 0 ? config.debtRecoveryRates[i] : 0)
  return {
    mW,
    charging: true,
    money: BigInt(mW) * BigInt(tariff.unitRate) * 24n + BigInt(tariff.standingCharge) * 1_000_000n,
    debt: [rate(0), rate(1)],
  }
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
  const raise = (bit: number, condition: boolean, alert: number) => {
    if (!condition) a.flags &= ~bit
    else if (!(a.flags & bit)) {
      a.flags |= bit
      events.push({ at: a.at, alert })
    }
  }
  // Rule 8: a debt register reaching 0 (having been seen > 0).
  const cleared = (bit: number, value: number, alert: number) => {
    if (value > 0) a.flags |= bit
    else if (a.flags & bit) {
      a.flags &= ~bit
      events.push({ at: a.at, alert })
    }
  }
  cleared(Flag.timeDebt1Owed, a.timeDebt[0], Alert.timeDebt1Cleared)
  cleared(Flag.timeDebt2Owed, a.timeDebt[1], Alert.timeDebt2Cleared)
  cleared(Flag.accumulatedDebtOwed, a.accumulatedDebt, Alert.accumulatedDebtCleared)
  // Rule 5: EC used up.
  raise(
    Flag.emergencyCreditExhausted,
    a.emergencyCreditActive && a.emergencyCredit <= 0,
    Alert.emergencyCreditExhausted,
  )
  const combined = combinedCredit(a)
  // Rule 2: low credit.
  raise(Flag.lowCredit, combined < c.lowCreditThreshold, Alert.lowCredit)
  // Rule 3: EC available (only when there is EC to offer).
  raise(
    Flag.emergencyCreditAvailable,
    !a.emergencyCreditActive && c.emergencyCreditLimit > 0 && a.meterBalance < c.emergencyCreditThreshold,
    Alert.emergencyCreditAvailable,
  )
  // Rule 6: below the disablement threshold; self-disconnect unless inside a non-disablement period.
  const below = combined < c.disablementThreshold
  raise(Flag.belowDisablement, below, Alert.belowDisablementThreshold)
  const protectedNow = inNonDisablement(c.nonDisablement, a.at)
  raise(Flag.disablementSuspended, below && supply === 'enabled' && protectedNow, Alert.disablementSuspended)
  if (below && supply === 'enabled' && !protectedNow) {
    a.flags |= Flag.selfDisconnected
    return 'disabled'
  }
  if (supply !== 'disabled') a.flags &= ~Flag.selfDisconnected
  return supply
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
 * Carries the account to target. Within a stretch of constant rates every rule condition is monotone in
 * time, so the first instant a rule fires is found by bisection over whole milliseconds.
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

/** nextChange as it was: the oracle for the fast implementation. */
export function referenceNextChange(
  account: Account,
  supply: Supply,
  ctx: PrepaymentContext,
  horizon: number = NEXT_CHANGE_HORIZON_MS,
): number | undefined {
  if (ctx.paymentMode === 'credit') return undefined
  return run(account, supply, account.at + horizon, ctx, true).first
}

/** settle as it was: the oracle for the direct settlement. */
export function referenceSettle(
  account: Account,
  supply: Supply,
  t: number,
  ctx: PrepaymentContext,
): Settlement {
  const { first: _, ...result } = run(account, supply, t, ctx, false)
  return result
}

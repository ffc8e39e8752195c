/**
 * The prepayment households of a running fleet, acting on their top-up habits (premise.ts
 * `TopUpHabit`, drawn from the fleet seed): when a top-up is due, the household asks its supplier
 * for one; if the supplier answers, it sells a UTRN (made with the supplier's prepayment top-up key
 * for that meter, GBCS 14) and the household types it on its PPMID, or on the meter's keypad where
 * there is no PPMID; the meter decides (packages/device top-up.ts). A supplier that does not answer
 * (a failed one: `answers`) sells nothing, and the household tries again `noAnswerDays` later. A
 * household that presses the button when its supply is Armed does so at its daily look at the
 * meter and after each top-up. Everything runs on the run's scheduler.
 *
 * Modelling choices (README "Households"): the supplier is the meter's Registered Supplier at the
 * time (Registration Data), whose certificates may not be in the meter's cells (after a Change of
 * Supplier without SR 6.23 its UTRNs fail: 0x8F63); its UTRN counter for a meter is the next one
 * above the highest the meter has accepted (the supplier's own bookkeeping is not modelled); a
 * top-up buys the same amount for each prepayment meter of the premise; the daily look happens at
 * an hour drawn from the premise index.
 */
import type { Eui64, ScheduledEvent } from '@smetsim/core'
import { type DeviceState, privateKeyOf } from '@smetsim/device'
import { type CryptoBackend, generateUtrn, type PrivateKeyRef } from '@smetsim/gbcs'
import { consumerAction } from './consumer.ts'
import type { Premise } from './premise.ts'
import type { HubsRun } from './run.ts'
import { shardPremises } from './shard.ts'

const DAY = 86_400_000
/** A UTRN counter is n · 2^32 (gbcs utrn/counter.ts). */
const COUNTER_STEP = 1n << 32n

export interface HouseholdsOptions {
  backend: CryptoBackend
  /** Whether `supplier` answers a top-up request at `at` (sells a UTRN). Default: every supplier, always. */
  answers?(supplier: Eui64, at: number): boolean
  /**
   * Whether the household tops up when a top-up falls due at `at`; one that does not skips it
   * (no request, not counted in `attempts`) and is due again a habit's `everyDays` later.
   * Default: always.
   */
  topsUp?(premise: Premise, at: number): boolean
}

/** What the households did. */
export interface HouseholdStats {
  /** Top-ups due (each retry counts). */
  attempts: number
  /** Of those, the supplier did not answer. */
  unanswered: number
  /** UTRNs typed, and how many the meters took. */
  utrnsTyped: number
  utrnsAccepted: number
  /** The GBCS alert codes the meters raised for UTRNs they refused, by code ('8F63', …). */
  refused: Record<string, number>
  /** Presses of the button on an Armed supply. */
  buttonPresses: number
}

/** `a` + `b` (a new object; `a` undefined: a copy of `b`): the households of several shards together. */
export function addHouseholdStats(a: HouseholdStats | undefined, b: HouseholdStats): HouseholdStats {
  const refused: Record<string, number> = { ...a?.refused }
  for (const [code, n] of Object.entries(b.refused)) refused[code] = (refused[code] ?? 0) + n
  return {
    attempts: (a?.attempts ?? 0) + b.attempts,
    unanswered: (a?.unanswered ?? 0) + b.unanswered,
    utrnsTyped: (a?.utrnsTyped ?? 0) + b.utrnsTyped,
    utrnsAccepted: (a?.utrnsAccepted ?? 0) + b.utrnsAccepted,
    refused,
    buttonPresses: (a?.buttonPresses ?? 0) + b.buttonPresses,
  }
}

export interface Households {
  readonly stats: HouseholdStats
  /** Cancels everything still scheduled. */
  stop(): void
}

/**
 * A household's first top-up of this run: `firstDueAt`, or for a run that starts after it (one
 * restored from a snapshot, which keeps no household state) the first instant of its rhythm
 * `firstDueAt + k · everyDays` not before `now`, so households do not all top up at the restart.
 */
export function firstTopUp(habit: { firstDueAt: number; everyDays: number }, now: number): number {
  if (habit.firstDueAt >= now) return habit.firstDueAt
  const every = habit.everyDays * DAY
  return habit.firstDueAt + Math.ceil((now - habit.firstDueAt) / every) * every
}

export function startHouseholds(run: HubsRun, o: HouseholdsOptions): Households {
  const { fleet, scheduler } = run
  const stats: HouseholdStats = {
    attempts: 0,
    unanswered: 0,
    utrnsTyped: 0,
    utrnsAccepted: 0,
    refused: {},
    buttonPresses: 0,
  }
  const events = new Set<ScheduledEvent>()
  const at = (t: number, f: (now: number) => void) => {
    const e: ScheduledEvent = scheduler.at(Math.max(t, scheduler.now()), (now) => {
      events.delete(e)
      f(now)
    })
    events.add(e)
  }
  const supplierKeys = new Map<Eui64, PrivateKeyRef | null>()
  const topUpKey = (supplier: Eui64): PrivateKeyRef | null => {
    let key = supplierKeys.get(supplier)
    if (key === undefined) {
      const pp = fleet.pki.parties.get(supplier)?.pp
      key = pp ? o.backend.importPrivateKey(pp.privateKey) : null
      supplierKeys.set(supplier, key)
    }
    return key
  }

  const meters = (p: Premise): DeviceState[] =>
    [p.esme, p.gsme]
      .map((eui) => (eui ? (run.device(eui) as DeviceState | undefined) : undefined))
      .filter((d): d is DeviceState => d !== undefined && d.paymentMode === 'prepayment')

  const pressIfArmed = (p: Premise) => {
    if (!p.topUp?.pressesButtonWhenArmed) return
    for (const m of meters(p))
      if (m.supply === 'armed' && consumerAction(run, m.eui, { kind: 'button' }).ok) stats.buttonPresses++
  }

  const topUp = (p: Premise, now: number) => {
    const habit = p.topUp!
    if (o.topsUp && !o.topsUp(p, now)) {
      at(now + habit.everyDays * DAY, (t) => topUp(p, t))
      return
    }
    stats.attempts++
    const mpan = fleet.registration.registeredSupplierAt(p.mpan, new Date(now).toISOString())
    const supplier = mpan?.user ?? p.supplierEui
    const key = topUpKey(supplier)
    if (!key || !(o.answers?.(supplier, now) ?? true)) {
      stats.unanswered++
      at(now + habit.noAnswerDays * DAY, (t) => topUp(p, t))
      return
    }
    for (const m of meters(p)) {
      // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
      const highest = m.utrns.reduce((a, b) => (b > a ? b : a), m.counters.supplierPrepayment ?? 0n)
      const utrn = generateUtrn({
        counter: (highest / COUNTER_STEP + 1n) * COUNTER_STEP,
        value: habit.amount / 100_000,
        valueClass: 'pounds',
        originator: supplier,
        recipient: m.eui,
        key: { own: key, other: privateKeyOf(m.keys.ka!, o.backend).publicKey },
        backend: o.backend,
      })
      stats.utrnsTyped++
      const r = consumerAction(run, p.ppmid ?? m.eui, { kind: 'utrn', digits: utrn }, { meter: m.eui })
      if (r.ok && r.report.accepted) stats.utrnsAccepted++
      else if (r.ok) for (const a of r.report.alerts) stats.refused[a] = (stats.refused[a] ?? 0) + 1
    }
    pressIfArmed(p)
    at(now + habit.everyDays * DAY, (t) => topUp(p, t))
  }

  const look = (p: Premise, now: number) => {
    pressIfArmed(p)
    at(now + DAY, (t) => look(p, t))
  }

  // A shard's households are those of its own premises: the others' meters are on another shard's hubs.
  for (const i of shardPremises(run.shard, fleet.size)) {
    const p = fleet.premise(i)!
    if (p.paymentMode !== 'prepayment' || !p.topUp || p.install !== 'commissioned') continue
    at(firstTopUp(p.topUp, scheduler.now()), (t) => topUp(p, t))
    if (p.topUp.pressesButtonWhenArmed) at(scheduler.now() + ((i * 3_617_000) % DAY), (t) => look(p, t))
  }

  return {
    stats,
    stop() {
      for (const e of events) e.cancel()
      events.clear()
    },
  }
}

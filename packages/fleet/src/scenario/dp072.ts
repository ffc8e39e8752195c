/**
 * DP072 (DOMAIN.md 4; seed "DP072 problem statement v0.6"): after a Change of Supplier whose
 * gaining Supplier sends SR 6.23 late or never, what keeps reaching the losing Supplier. Its
 * schedules were set up before the change, on its own meters, in the two ways the seed contrasts:
 *
 * - a **device schedule**: a billing calendar held by the ESME (SR 6.8, ECS30). At each billing
 *   instant the meter sends the Billing Data Log alert 0x8F0A — a critical alert, signed — to
 *   whichever supplier's certificate is in its cells; the DCC does not check it against
 *   Registration Data, so until SR 6.23 replaces the cells it goes to the losing Supplier;
 * - a **DCC Schedule** (SR 5.1) of a daily read the DUIS lets the DCC schedule (SR 4.16 Read
 *   Active Power Import, on each ESME): the DCC runs it through access control at each due time,
 *   so from the Supply Start Date the losing Supplier's runs get E4 instead of data.
 *
 * Its meters' other alerts (a prepayment meter's low credit 0x810D, emergency credit 0x8119 …,
 * non-critical, MACed) follow the cells the same way. The DP072 remedy that was not adopted —
 * the DCC blocking non-critical alerts to a supplier not registered for the device — is the DCC's
 * optional `blockAlertsToUnregisteredSuppliers` (packages/dcc pipeline/device-alerts.ts).
 *
 * Events (`at` from the fleet's start):
 * - `deviceBillingCalendar`: at `at`, `supplier` sends SR 6.8 to each of its commissioned ESMEs:
 *   a daily billing instant at `time` (UTC, `HH:MM`, default 00:30), COSEM date pattern
 *   FFFFFFFFFF (every day).
 * - `dccDailyRead`: at `at`, `supplier` sends SR 5.1 for each of its commissioned ESMEs: a daily
 *   SR 4.16 from the next day, at an instant spread over the day by premise. The part drives the
 *   DCC's timer (`runDueSchedules`) every 10 virtual minutes from then on, and once just before
 *   the end; the runner waits for those runs' answers.
 * - `dccBlocksNonCriticalAlerts`: the DCC runs with `blockAlertsToUnregisteredSuppliers` on.
 *
 * The moved meters are read from Registration Data once every part is set up: the losing
 * Supplier's premises (as built) whose MPAN (ESME) or MPRN (GSME) has another supplier
 * registered at the run's end; the Supply Start Date is that registration's start. The alerts
 * are the DCC's own SAT `alert` records to the losing Supplier from those meters that it marked
 * as to a supplier not registered for the device (`toUnregisteredSupplier`).
 */
import type { Eui64 } from '@smetsim/core'
import { DAY_MS, type ScheduleRunResult } from '@smetsim/dcc'
import { durationMs } from './duration.ts'
import { eventsOf, FIELD, type ScenarioPart, type TimelineEvent } from './part.ts'

export type Dp072Event =
  | { event: 'deviceBillingCalendar'; at: string; supplier: string; srv: '6.8'; time?: string }
  | { event: 'dccDailyRead'; at: string; supplier: string; srv: '4.16' }
  | { event: 'dccBlocksNonCriticalAlerts' }

const { duration, name } = FIELD
/** How often the part runs the DCC's due schedule runs. */
const TIMER_MS = 10 * 60_000
const BILLING_ALERT = '8F0A'

const losingOf = (timeline: readonly TimelineEvent[]): string[] => [
  ...new Set(
    timeline
      .filter((e) => e.event === 'deviceBillingCalendar' || e.event === 'dccDailyRead')
      .map((e) => String(e.supplier)),
  ),
]

/** A COSEM time (hh mm ss hundredths, hex) from `HH:MM`. */
const cosemTime = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return [h, m, 0, 0].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('')
}

export const dp072Part: ScenarioPart = {
  name: 'DP072 (stalled Change of Supplier)',
  events: {
    deviceBillingCalendar: {
      fields: { at: duration, supplier: name, srv: { const: '6.8' } },
      optional: { time: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } },
    },
    dccDailyRead: { fields: { at: duration, supplier: name, srv: { const: '4.16' } } },
    dccBlocksNonCriticalAlerts: { fields: {} },
  },
  once: ['deviceBillingCalendar', 'dccDailyRead', 'dccBlocksNonCriticalAlerts'],
  metrics: {
    movedMeters:
      "the losing Supplier's meters (ESME, GSME) whose MPAN / MPRN another supplier was registered for",
    alertsToLosingSupplier:
      'device alerts from the moved meters delivered to the losing Supplier while it was not registered for them',
    criticalAlertsToLosingSupplier: 'of those, critical ones (signed: 0x8Fxx)',
    nonCriticalAlertsToLosingSupplier: 'of those, non-critical ones (MACed: 0x80xx / 0x81xx)',
    billingAlertsToLosingSupplier:
      'of those, Billing Data Log alerts 0x8F0A (the device-held billing calendar)',
    alertsBlocked: 'alerts from the moved meters to the losing Supplier the DCC blocked (the DP072 remedy)',
    dccReadsBeforeSsd:
      "the losing Supplier's DCC Schedule runs on moved ESMEs due before the Supply Start Date answered I0 (data)",
    dccReadsAfterSsd: 'its runs on moved ESMEs due from the Supply Start Date on answered I0 (data)',
    dccReadsE4:
      'its runs on moved ESMEs due from the Supply Start Date on answered E4 (not an Eligible User)',
    metersReachedBy623:
      'moved meters whose supplier certificate cells name the gaining Supplier at the end (SR 6.23 took)',
  },
  check(timeline) {
    const problems: string[] = []
    const losing = losingOf(timeline)
    if (losing.length > 1)
      problems.push(`the DP072 events name more than one losing Supplier (${losing.join(', ')})`)
    if (!losing.length && timeline.some((e) => e.event === 'dccBlocksNonCriticalAlerts'))
      problems.push(
        "'dccBlocksNonCriticalAlerts' needs a 'deviceBillingCalendar' or 'dccDailyRead' (they name the losing Supplier)",
      )
    return problems
  },

  setUp({ fleet, timeline, start, end, supplierOf }) {
    const calendar = eventsOf<Extract<Dp072Event, { event: 'deviceBillingCalendar' }>>(
      timeline,
      'deviceBillingCalendar',
    )[0]
    const reads = eventsOf<Extract<Dp072Event, { event: 'dccDailyRead' }>>(timeline, 'dccDailyRead')[0]
    const block = timeline.some((e) => e.event === 'dccBlocksNonCriticalAlerts')
    const losing = supplierOf(losingOf(timeline)[0]!)

    // The losing Supplier's commissioned premises, as built: its schedules are set up on them.
    const own: number[] = []
    for (let i = 0; i < fleet.size; i++) {
      const p = fleet.premise(i)!
      if (p.supplierEui === losing.eui && p.install === 'commissioned') own.push(i)
    }
    /** Moved meters: device → its Supply Start Date and the supplier registered from then. */
    const moved = new Map<Eui64, { ssd: number; to: string }>()
    const endIso = new Date(end).toISOString()
    const reads623 = { before: 0, after: 0, e4: 0 }

    return {
      ...(block && { dcc: { blockAlertsToUnregisteredSuppliers: true } }),
      description: [
        calendar && `${losing.name} sets a daily billing calendar (SR 6.8) on its ESMEs`,
        reads && `a daily DCC Schedule of SR 4.16 (SR 5.1) on its ESMEs`,
        block && 'the DCC blocks non-critical alerts to unregistered suppliers',
      ]
        .filter(Boolean)
        .join('; '),
      play({ at, send, awaits, run, scheduler }) {
        // Every part is set up by now: the Change of Supplier is in Registration Data.
        for (const i of own) {
          const p = fleet.premise(i)!
          const meters: [Eui64, string][] = [[p.esme, p.mpan]]
          if (p.gsme && p.mprn) meters.push([p.gsme, p.mprn])
          for (const [eui, mpxn] of meters) {
            const reg = fleet.registration.registeredSupplierAt(mpxn, endIso)
            if (reg?.user && reg.user !== losing.eui)
              moved.set(eui, { ssd: Date.parse(reg.from), to: reg.user })
          }
        }
        if (calendar) {
          const time = cosemTime(calendar.time ?? '00:30')
          at(start + durationMs(calendar.at)!, () => {
            for (const i of own)
              send('6.8', losing.eui, fleet.premise(i)!.esme, {
                role: 'IS',
                srv: '6.8',
                commandVariant: 4,
                deviceType: 'ESME',
                parameters: { executionTimes: [{ time, date: 'FFFFFFFFFF' }] },
              })
          })
        }
        if (reads) {
          const from = start + durationMs(reads.at)!
          at(from, (now) => {
            const day = new Date(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS).toISOString().slice(0, 10)
            for (const [k, i] of own.entries()) {
              const offset = Math.floor(((k + 0.5) / own.length) * DAY_MS)
              send('5.1', losing.eui, fleet.premise(i)!.esme, {
                role: 'IS',
                srv: '5.1',
                commandVariant: 8,
                deviceType: 'ESME',
                parameters: {
                  scheduleFrequency: 'Daily',
                  scheduleStartDate: day,
                  scheduleExecutionStartTime: new Date(offset).toISOString().slice(11, 19),
                  dspScheduledServiceReference: '4.16',
                  dspScheduledServiceReferenceVariant: '4.16',
                },
              })
            }
          })
          const count = (results: ScheduleRunResult[]) => {
            for (const r of results) {
              const m = r.owner === losing.eui ? moved.get(r.deviceId) : undefined
              if (!m) continue
              if (Date.parse(r.dueAt) < m.ssd) {
                if (r.result.code === 'I0') reads623.before++
              } else if (r.result.code === 'I0') reads623.after++
              else if (r.result.code === 'E4') reads623.e4++
            }
          }
          // Every TIMER_MS, and a last time just before the end, so that every run due in the
          // scenario's time is made and counted (the runner awaits them).
          const tick = () => {
            awaits(run.dcc.runDueSchedules(Math.min(scheduler.now(), end - 1)).then(count))
            const next = Math.min(scheduler.now() + TIMER_MS, end - 1)
            if (next > scheduler.now()) scheduler.at(next, tick)
          }
          at(from + TIMER_MS, tick)
        }
      },
      finish({ run }) {
        const out = {
          movedMeters: moved.size,
          alertsToLosingSupplier: 0,
          criticalAlertsToLosingSupplier: 0,
          nonCriticalAlertsToLosingSupplier: 0,
          billingAlertsToLosingSupplier: 0,
          alertsBlocked: 0,
          dccReadsBeforeSsd: reads623.before,
          dccReadsAfterSsd: reads623.after,
          dccReadsE4: reads623.e4,
          metersReachedBy623: 0,
        }
        // The DCC's SAT alert records to the losing Supplier.
        for (let afterSeq = 0; ; ) {
          const page = run.sat.page({ user: losing.eui, kind: 'alert', afterSeq, limit: 10_000 })
          for (const r of page.records) {
            const d = r.detail as {
              delivered?: boolean
              critical?: boolean
              toUnregisteredSupplier?: boolean
              blocked?: string
            }
            if (!r.device || !moved.has(r.device) || !d?.toUnregisteredSupplier) continue
            if (d.blocked) out.alertsBlocked++
            if (!d.delivered) continue
            out.alertsToLosingSupplier++
            if (d.critical) out.criticalAlertsToLosingSupplier++
            else out.nonCriticalAlertsToLosingSupplier++
            if (r.code === BILLING_ALERT) out.billingAlertsToLosingSupplier++
          }
          if (page.next === undefined) break
          afterSeq = page.next
        }
        for (const [eui, m] of moved) {
          const d = run.device(eui) as { cells?: { supplierDs?: { eui: string } } } | undefined
          if (d?.cells?.supplierDs?.eui === m.to) out.metersReachedBy623++
        }
        return out
      },
    }
  },
}

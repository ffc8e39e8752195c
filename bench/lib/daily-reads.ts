/**
 * Every meter of a fleet read once a virtual day by its supplier through the DCC: the work a
 * fleet's day carries besides the meters living on their own. Used by bench/virtual-day.ts and
 * bench/shard.ts, so both time the same day.
 *
 * - Each ESME by a DCC Schedule: before the first day its supplier sets up, with SR 5.1, a daily
 *   scheduled SR 4.16 Read Active Power Import (ECS17c) at an instant drawn per meter, and the DCC
 *   runs the due runs once a virtual minute (`runDueSchedules`, driven here as the DCC's timer):
 *   access control at the due time, the command built and MACed, the answer decoded.
 * - Each GSME by an SR 4.1.1 Read Instantaneous Import Registers (GCS13a) submitted at an instant
 *   drawn per meter, once a day: none of the SRVs DUIS lets the DCC schedule (DSPScheduledService-
 *   ReferenceVariant) has a GSME command built here and answered by the GSME's firmware.
 */
import type { Scheduler } from '../../packages/core/src/index.ts'
import type { DuisResult, ScheduleRunResult } from '../../packages/dcc/src/index.ts'
import type { Fleet, FleetDcc } from '../../packages/fleet/src/index.ts'

const DAY = 86_400_000

export interface DailyReads {
  /** Meters read each day (an ESME at every premise, and each GSME). */
  reads: number
  /** SR 5.1 schedules the DCC accepted (I0), and the codes of any it refused. */
  scheduled: number
  refused: Record<string, number>
  /** The GSME reads' answers, as they are submitted (one per GSME per day). */
  answers: Promise<DuisResult>[]
  /** The DCC timer's rounds of schedule runs, as they start (one a virtual minute). */
  runs: Promise<ScheduleRunResult[]>[]
}

/**
 * Sets up `days` days of reads from the scheduler's now (the fleet's start): the ESMEs' schedules
 * at once (awaited), the GSMEs' reads and the DCC's timer on the scheduler. `answered`, if given,
 * hears each read's result as it comes in (a GSME read's, or an ESME schedule run's).
 */
export async function setUpDailyReads(
  fleet: Fleet,
  run: Pick<FleetDcc, 'dcc' | 'submit'>,
  scheduler: Scheduler,
  days = 1,
  answered?: (result: DuisResult) => void,
): Promise<DailyReads> {
  const start = scheduler.now()
  const end = start + days * DAY
  const today = new Date(start).toISOString().slice(0, 10)
  const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19)
  const out: DailyReads = { reads: 0, scheduled: 0, refused: {}, answers: [], runs: [] }
  for (let i = 0; i < fleet.size; i++) {
    const p = fleet.premise(i)!
    const meters: [string, 'ESME' | 'GSME', string][] = [[p.esme, 'ESME', 'IS']]
    if (p.gsme) meters.push([p.gsme, 'GSME', 'GS'])
    for (const [k, [device, deviceType, role]] of meters.entries()) {
      const offset = (i * 7_919 + k * 43_200_017) % DAY
      out.reads++
      if (deviceType === 'ESME') {
        const created = await run.submit({
          requestId: `${p.supplierEui}:${device}:1`,
          role,
          srv: '5.1',
          commandVariant: 8,
          deviceType,
          parameters: {
            scheduleFrequency: 'Daily',
            scheduleStartDate: today,
            scheduleExecutionStartTime: hms(offset),
            dspScheduledServiceReference: '4.16',
            dspScheduledServiceReferenceVariant: '4.16',
          },
        })
        if (created.code === 'I0') out.scheduled++
        else out.refused[created.code] = (out.refused[created.code] ?? 0) + 1
        continue
      }
      for (let d = 0; d < days; d++)
        scheduler.at(start + d * DAY + offset, () => {
          const answer = run.submit({
            requestId: `${p.supplierEui}:${device}:${d + 1}`,
            role,
            srv: '4.1.1',
            commandVariant: 1,
            deviceType,
          })
          if (answered) void answer.then(answered)
          out.answers.push(answer)
        })
    }
  }
  // The DCC's timer: every virtual minute it runs the schedule runs due by then (not past the
  // last day: the run of a schedule due at the next midnight is not one of these days' reads).
  const tick = () => {
    const round = run.dcc.runDueSchedules(Math.min(scheduler.now(), end - 1))
    if (answered)
      void round.then((runs) => {
        for (const r of runs) answered(r.result)
      })
    out.runs.push(round)
    if (scheduler.now() < end) scheduler.after(60_000, tick)
  }
  scheduler.at(start + 60_000, tick)
  return out
}

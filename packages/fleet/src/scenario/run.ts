/**
 * Runs a scenario (scenario.ts) under each of its control settings, in virtual time, on a fleet
 * built afresh from the same spec and seed for every setting, and reports what happened to the
 * households (report.ts).
 *
 * One run: every scenario part (part.ts) with events in the setting's timeline sets itself up —
 * the DCC configuration it needs, who answers top-ups, whose households are counted — then the
 * fleet (buildFleet) is brought up in-process (startFleet) with that DCC, the prepayment
 * households act on their top-up habits (startHouseholds), and each part schedules its events on
 * the run's scheduler. Time moves a sample interval at a time; after each, the prepayment
 * households with a meter whose supply is not enabled (disabled, or armed and waiting for the
 * button) are counted. At the end each part adds its metrics.
 *
 * Modelling choices (README "Scenarios"): a household counts as off supply while any of its
 * prepayment meters is; the parts' own are in their modules.
 */
import type { Eui64 } from '@smetsim/core'
import { createRealTimeDriver, createScheduler, type Scheduler } from '@smetsim/core'
import { DAY_MS, type DuisResult } from '@smetsim/dcc'
import type { CryptoBackend } from '@smetsim/gbcs'
import type { Hub } from '@smetsim/hub'
import { buildFleet, type Fleet } from '../build.ts'
import { startHouseholds } from '../households.ts'
import { ADVANCE_SLICE_MS, type FleetRun, type FleetWan, startFleet } from '../run.ts'
import { type FleetSpec, parseFleetSpec } from '../spec.ts'
import { durationMs } from './duration.ts'
import { checkExpectation, parseExpectation } from './expect.ts'
import { dccOfParts, type PartRun, type PlayContext, type SetUpContext, type TimelineEvent } from './part.ts'
import { PARTS } from './parts.ts'
import type { RunReport, ScenarioReport } from './report.ts'
import type { Scenario } from './scenario.ts'
import { runSettingsOnThreads } from './threads.ts'

export { solrSettingOf } from './solr.ts'

export interface RunScenarioOptions {
  backend: CryptoBackend
  /** Overrides the scenario's fleet size and seed. */
  premises?: number
  seed?: string | number
  /**
   * Real time: virtual time runs `speed` times as fast as the wall clock (1: real time), the
   * scenario's events, reads and top-ups happening as the clock reaches them. `max`: virtual
   * time, as fast as the CPU goes. Default: the scenario's `realTime.speed`, else virtual time.
   */
  speed?: number | 'max'
  /**
   * How the DCC reaches the hubs (packages/fleet run.ts). Default: the scenario's `realTime.broker`
   * when it runs in real time by its file (`embedded`: aedes in-process), else in-process.
   */
  wan?: FleetWan
  /** Real time: wall ms to wait at the end for answers still on their way (default 30 000). */
  settleMs?: number
  /**
   * Worker threads to run the settings on side by side (threads.ts), virtual time only; default 1:
   * every setting in turn on this thread. The same report either way.
   */
  threads?: number
  /** Called as virtual time moves: the setting, and how far through its run (0 … 1). */
  onProgress?(setting: string, done: number): void
}

/** One setting's run: its report, and the households it counted. */
export interface SettingResult {
  report: RunReport
  households: { failed: number; all: number; name: string }
}

export class ScenarioRunError extends Error {
  override name = 'ScenarioRunError'
}

/** Virtual time a run goes on past its end for the answers to requests sent just before it. */
const SETTLE_MS = 3_600_000

/** Runs every setting of `scenario` in turn and checks its expectations. */
export async function runScenario(scenario: Scenario, o: RunScenarioOptions): Promise<ScenarioReport> {
  const settings = Object.keys(scenario.settings)
  const expectations = scenario.expect.map((e) => parseExpectation(e, settings))
  const spec = fleetSpecOf(scenario, o)
  const speed = o.speed === 'max' ? undefined : (o.speed ?? scenario.realTime?.speed)
  const fileWan = scenario.realTime && o.speed === undefined ? wanOf(scenario.realTime.broker) : undefined
  const wan = o.wan ?? fileWan
  const mode = { speed, ...(wan && { wan }) }
  const threads = Math.max(1, Math.floor(o.threads ?? 1))
  const results =
    threads > 1 && speed === undefined && settings.length > 1
      ? await runSettingsOnThreads(scenario, settings, {
          threads,
          backend: o.backend.name,
          ...(o.premises !== undefined && { premises: o.premises }),
          ...(o.seed !== undefined && { seed: o.seed }),
          ...(o.onProgress && { onProgress: o.onProgress }),
        })
      : undefined
  const runs: Record<string, RunReport> = {}
  let households = { failed: 0, all: 0, name: '' }
  for (const name of settings) {
    const r = results?.get(name) ?? (await runSetting(scenario, name, buildFleet(spec), { ...o, ...mode }))
    runs[name] = r.report
    households = r.households
  }
  return {
    version: 1,
    scenario: { name: scenario.name, description: scenario.description },
    generatedAt: new Date().toISOString(),
    fleet: {
      premises: spec.premises,
      seed: spec.seed,
      start: spec.start,
      prepaymentHouseholds: households.all,
    },
    ...(households.name && {
      failedSupplier: { name: households.name, prepaymentHouseholds: households.failed },
    }),
    mode: {
      time: speed === undefined ? 'virtual' : 'real',
      ...(speed !== undefined && { speed }),
      wan: typeof wan === 'object' ? withoutCredentials(wan.broker) : (wan ?? 'in-process'),
    },
    durationMs: durationMs(scenario.duration)!,
    habits: { ...spec.topUp },
    runs,
    expectations: expectations.map((e) => checkExpectation(e, runs)),
  }
}

/** The scenario's fleet spec, checked, with `premises` and `seed` overridden where given. */
export function fleetSpecOf(scenario: Scenario, o: { premises?: number; seed?: string | number }): FleetSpec {
  const spec = parseFleetSpec({
    ...scenario.fleet,
    ...(o.premises !== undefined && { premises: o.premises }),
    ...(o.seed !== undefined && { seed: o.seed }),
  })
  if (!spec.ok) throw new ScenarioRunError(`scenario '${scenario.name}': ${spec.error.message}`)
  return spec.value
}

/** A broker as a scenario file or the CLI names it: `embedded` (aedes, in-process) or a URL. */
export function wanOf(broker: string): FleetWan {
  return broker === 'embedded' ? 'embedded-broker' : { broker }
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '(a broker URL that does not parse)'
  }
}

/** A Supplier by name or EUI in the fleet spec. */
function supplierOf(fleet: Fleet, text: string): { eui: Eui64; name: string } {
  const s = fleet.spec.suppliers.find((x) => x.name === text || x.eui.toUpperCase() === text.toUpperCase())
  if (!s)
    throw new ScenarioRunError(
      `'${text}' is not a Supplier of the fleet (${fleet.spec.suppliers.map((x) => x.name).join(', ')})`,
    )
  return { eui: s.eui.toUpperCase() as Eui64, name: s.name }
}

/** One setting of `scenario` on `fleet` (built for it alone): what runScenario and threads.ts run. */
export async function runSetting(
  scenario: Scenario,
  setting: string,
  fleet: Fleet,
  o: Omit<RunScenarioOptions, 'speed' | 'threads'> & { speed: number | undefined },
): Promise<SettingResult> {
  const timeline: TimelineEvent[] = [...scenario.timeline, ...scenario.settings[setting]!.timeline]
  const start = Date.parse(fleet.spec.start)
  const end = start + durationMs(scenario.duration)!
  const sampleMs = durationMs(scenario.sampleEvery)!
  const { backend } = o

  const setUp: SetUpContext = {
    fleet,
    timeline,
    srp: scenario.srp,
    backend,
    start,
    end,
    supplierOf: (text) => supplierOf(fleet, text),
  }
  const named: { name: string; run: PartRun }[] = []
  for (const part of PARTS)
    if (timeline.some((e) => e.event in part.events)) {
      try {
        named.push({ name: part.name, run: part.setUp(setUp) })
      } catch (e) {
        throw e instanceof ScenarioRunError
          ? e
          : new ScenarioRunError(`${part.name}: ${(e as Error).message}`)
      }
    }
  const parts = named.map((p) => p.run)
  let dcc: NonNullable<PartRun['dcc']>
  try {
    dcc = dccOfParts(named)
  } catch (e) {
    throw new ScenarioRunError(`scenario '${scenario.name}': ${(e as Error).message}`)
  }
  const scheduler = createScheduler({ start })
  const run = await startFleet(fleet, { scheduler, backend, dcc, ...(o.wan && { wan: o.wan }) })
  const households = startHouseholds(run, {
    backend,
    answers: (supplier, at) => parts.every((p) => p.answers?.(supplier, at) ?? true),
    ...(parts.some((p) => p.topsUp) && {
      topsUp: (premise, at) => parts.every((p) => p.topsUp?.(premise, at) ?? true),
    }),
  })
  const counted = parts.find((p) => p.households)?.households

  const commands: Record<string, Record<string, number>> = {}
  const pending = new Set<Promise<void>>()
  let counter = BigInt(start) * 1000n
  const play: PlayContext = {
    fleet,
    run,
    scheduler,
    start,
    end,
    at: (t, f) => void scheduler.at(Math.max(t, start), f),
    send(srv, user, device, request) {
      const answer = run.submit({ ...request, requestId: `${user}:${device}:${++counter}` })
      play.awaits(
        answer.then((r: DuisResult) => {
          commands[srv] ??= {}
          commands[srv][r.code] = (commands[srv][r.code] ?? 0) + 1
        }),
      )
      return answer
    },
    awaits(work) {
      const p = work.then(() => {
        pending.delete(p)
      })
      pending.add(p)
    },
    daily(from, perDay, items, each) {
      for (let d = 0, k = 0; k < items.length; d++, k += perDay) {
        const batch = items.slice(k, k + perDay)
        if (from + d * DAY_MS >= end) break
        play.at(from + d * DAY_MS, () => {
          for (const item of batch) each(item)
        })
      }
    },
  }
  for (const p of parts) p.play?.(play)

  // The prepayment households counted (the named Supplier's, or all), and the others.
  /** A household's prepayment meters, read from its hub at each sample. */
  type Household = { hub: Hub; meters: Eui64[] }
  const prepayment: Household[] = []
  const others: Household[] = []
  for (let i = 0; i < fleet.size; i++) {
    const p = fleet.premise(i)!
    if (p.install !== 'commissioned' || p.paymentMode !== 'prepayment') continue
    const household = { hub: run.hub(i)!, meters: [p.esme, ...(p.gsme ? [p.gsme] : [])] }
    ;(!counted || p.supplierEui === counted.eui ? prepayment : others).push(household)
  }

  // Time moves a sample interval at a time; after each, the households off supply are counted.
  const offSupply: number[] = []
  const everOff = new Set<number>()
  let othersOff = 0
  const isOff = ({ hub, meters }: Household) =>
    meters.some((eui) => {
      const d = hub.device(eui)
      return d !== undefined && d.paymentMode === 'prepayment' && d.supply !== 'enabled'
    })
  const sample = (first: boolean) => {
    let off = 0
    prepayment.forEach((household, h) => {
      if (!isOff(household)) return
      off++
      everOff.add(h)
    })
    offSupply.push(off)
    if (!first) for (const household of others) if (isOff(household)) othersOff++
  }
  sample(true)
  const progress = () => o.onProgress?.(setting, (scheduler.now() - start) / (end - start))
  let unsettled = 0
  if (o.speed === undefined) {
    while (scheduler.now() < end) {
      await run.advance(Math.min(sampleMs, end - scheduler.now()))
      sample(false)
      progress()
    }
    // Requests sent just before the end are answered after it: time goes on (unsampled) until
    // they are, for at most SETTLE_MS of virtual time.
    for (let t = 0; pending.size && t < SETTLE_MS; t += ADVANCE_SLICE_MS) await run.advance(ADVANCE_SLICE_MS)
    unsettled = pending.size
  } else {
    unsettled = await inRealTime(
      run,
      o.speed,
      { end, sampleMs, settleMs: o.settleMs ?? 30_000, pending },
      () => {
        sample(false)
        progress()
      },
    )
  }

  const alerts: Record<string, number> = {}
  for (const s of fleet.spec.suppliers) alerts[s.name] = run.dcc.alertCounters(s.eui.toUpperCase()).delivered
  const metrics: Record<string, number> = {}
  for (const p of parts) Object.assign(metrics, p.finish?.(play))
  metrics.requestsUnanswered = unsettled
  const st = households.stats
  households.stop()
  await run.close()
  const sampleHours = sampleMs / 3_600_000
  const hours = (n: number) => Math.round(n * sampleHours * 100) / 100
  return {
    households: {
      failed: prepayment.length,
      all: prepayment.length + others.length,
      name: counted?.name ?? '',
    },
    report: {
      description:
        scenario.settings[setting]!.description ||
        parts
          .map((p) => p.description)
          .filter(Boolean)
          .join('; '),
      householdHoursOffSupply: hours(offSupply.slice(1).reduce((a, n) => a + n, 0)),
      householdsDisconnected: everOff.size,
      householdsOffAtEnd: offSupply.at(-1) ?? 0,
      series: { intervalMs: sampleMs, offSupply },
      othersHouseholdHoursOffSupply: hours(othersOff),
      commands,
      alerts,
      topUps: {
        attempts: st.attempts,
        unanswered: st.unanswered,
        accepted: st.utrnsAccepted,
        rejected: st.utrnsTyped - st.utrnsAccepted,
      },
      metrics,
    },
  }
}

/**
 * Runs `run` on the wall clock, `speed` times as fast, to `end`, calling `sample` every `sampleMs`
 * of virtual time; then keeps the clock going until the requests still `pending` are answered,
 * for at most `settleMs` of wall time. Returns how many were not.
 */
async function inRealTime(
  run: FleetRun,
  speed: number,
  o: { end: number; sampleMs: number; settleMs: number; pending: Set<Promise<void>> },
  sample: () => void,
): Promise<number> {
  const scheduler: Scheduler = run.scheduler
  let fail: (e: unknown) => void = () => {}
  const failed = new Promise<never>((_, reject) => {
    fail = reject
  })
  const driver = createRealTimeDriver(scheduler, { acceleration: speed, onError: (e) => fail(e) })
  const reached = new Promise<void>((resolve) => {
    const next = (t: number) =>
      scheduler.at(Math.min(t, o.end), (now) => {
        sample()
        if (now >= o.end) resolve()
        else next(now + o.sampleMs)
      })
    next(scheduler.now() + o.sampleMs)
  })
  driver.start()
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([reached, failed])
    const settled = Promise.all(o.pending).then(() => true)
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), o.settleMs)
    })
    await Promise.race([settled, late, failed])
    return o.pending.size
  } finally {
    clearTimeout(timer)
    driver.stop()
  }
}

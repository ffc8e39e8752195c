/**
 * Worker-thread sharding (packages/fleet workers.ts): the wall time of one virtual day of a fleet
 * whose hubs run in 2 worker threads (shards 1/2, 2/2) against the same fleet in 1 worker thread
 * (shard 1/1), the DCC in the main thread both times, measured in the same run. Goal (issue 12):
 * 2 shards ≥ 1.7 × 1 shard on a 2-core machine. The single-thread runner (startFleet,
 * in-process WAN, no workers) is timed too, as the reference the sharding costs are read against.
 *
 *   node --import tsx bench/shard.ts [--quick] [--sizes 4000]
 *
 * Each round starts the fleets afresh (workers restore the main thread's snapshot; not timed),
 * times `advance(1 day)` twice in a row, and alternates which goes first; the figures are medians
 * over the rounds. Day 1 starts each worker thread cold: a fresh V8 isolate compiles the hot code
 * as it goes, on its own thread and on V8's background threads, which need the same cores; day 2
 * is the same fleet warm (the single-thread runner's main thread is warm from round 2 on, day 1
 * too). On each day the meters live on their own (prepayment running down, GSMEs waking every
 * 30 minutes, alerts up to the DCC) and every meter is read once by its supplier through the DCC
 * (bench/lib/daily-reads.ts, the same reads as bench/virtual-day.ts: ESMEs by daily DCC
 * Schedules, GSMEs by SR 4.1.1). Every run must report the same alerts raised at the hubs and
 * supply states on each day, and the same reads answered I0 as the other runs of its kind (worker
 * or single-thread), or the bench stops: a faster wrong answer is not a result. (Between the kinds
 * the reads answered, and the DCC's own alert count, may differ by those still on the windowed
 * WAN, one latency, at a day's end.)
 *
 * Besides wall time, per day: CPU s of the main thread, the busiest worker and the process's other
 * threads (V8's compiler and collector threads: process.cpuUsage less the threads read), the
 * windows (barriers), the barriers' own cost (Σ window wall − Σ of each window's busiest worker's
 * busy wall: messages there and back, a thread waking or waiting for a core) and the most a worker
 * waited at barriers (Σ window wall − its busy wall), from the worker fleet's stats().windows.
 */
import { availableParallelism } from 'node:os'
import { createScheduler, type Scheduler } from '../packages/core/src/index.ts'
import type { Fleet } from '../packages/fleet/src/index.ts'
import {
  buildFleet,
  parseFleetSpec,
  startFleet,
  startWorkerFleet,
  threadCpuMs,
} from '../packages/fleet/src/index.ts'
import { getBackend } from '../packages/gbcs/src/index.ts'
import { setUpDailyReads } from './lib/daily-reads.ts'
import { consoleReport, isMain, optionsFromArgv, type Report } from './lib/report.ts'

const SUITE = 'shard'
const DAY = 86_400_000
const GOAL = 1.7

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

interface DayResult {
  seconds: number
  /** How the day ended for the fleet: alerts at the hubs, supply states, devices, schedules accepted. */
  outcome: string
  /** Reads answered I0 by the day's end. */
  readsI0: number
  /** CPU s of the main thread during the day, and of each worker thread (Linux; else undefined). */
  mainCpu: number | undefined
  workerCpu: (number | undefined)[]
  /**
   * CPU s of the process's other threads (process.cpuUsage less the main and worker threads'):
   * V8's background threads, which compile hot functions (TurboFan) and help the collector for
   * every isolate. Undefined where per-thread CPU cannot be read.
   */
  otherCpu: number | undefined
  /** Worker fleets: windows, and wall s per window summed (stats().windows, shard-window.ts). */
  windows?: { count: number; windowS: number; busiestS: number; waitS: number[] }
}

const delta = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : (b - a) / 1000

const startOf = (fleet: Fleet) => Date.parse(fleet.spec.start)

const processCpuS = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1e6
}

// The threads' CPU is read in 10 ms ticks, the process's in µs: near nothing, the difference can
// come out a tick below zero, which is nothing.
const otherThreads = (processS: number, threads: (number | undefined)[]) =>
  threads.every((c) => c !== undefined)
    ? Math.max(0, processS - (threads as number[]).reduce((a, c) => a + c, 0))
    : undefined

const outcomeOf = (
  s: { hubTraffic: { alerts: number }; supply: object; devices: number },
  answered: { scheduled: number; ok: number },
) =>
  JSON.stringify({
    alerts: s.hubTraffic.alerts,
    supply: s.supply,
    devices: s.devices,
    scheduled: answered.scheduled,
  })

/**
 * The daily reads set up on a started fleet for all DAYS days, with the count of schedules the DCC
 * accepted and of the reads answered I0 so far (GSME reads and the ESMEs' schedule runs). (Some
 * ESMEs' SR 5.1 is refused with E5, the same ones in every run: the outcome carries the count.)
 */
async function withReads(fleet: Fleet, run: Parameters<typeof setUpDailyReads>[1], scheduler: Scheduler) {
  const answered = { scheduled: 0, ok: 0 }
  const reads = await setUpDailyReads(fleet, run, scheduler, DAYS, (r) => {
    if (r.code === 'I0') answered.ok++
  })
  answered.scheduled = reads.scheduled
  return answered
}

/** One virtual day advanced: its wall s, this thread's CPU s and the whole process's CPU s. */
async function timedDay(run: { advance(ms: number): Promise<unknown> }) {
  const proc = process.cpuUsage()
  const cpu = threadCpuMs()
  const t = performance.now()
  await run.advance(DAY)
  const seconds = (performance.now() - t) / 1000
  return { seconds, mainCpu: delta(cpu, threadCpuMs()), processS: processCpuS(proc) }
}

/** `days` virtual days one after another on one fleet, each timed on its own. */
async function daysInWorkers(fleet: Fleet, workers: number, days: number): Promise<DayResult[]> {
  const scheduler = createScheduler({ start: startOf(fleet) })
  const run = await startWorkerFleet(fleet, { scheduler, backend: 'native', workers })
  try {
    const answered = await withReads(fleet, run, scheduler)
    const results: DayResult[] = []
    let before = await run.stats()
    for (let d = 0; d < days; d++) {
      const { seconds, mainCpu, processS } = await timedDay(run)
      const s = await run.stats()
      if (Object.keys(s.wanDrops).length > 0)
        throw new Error(`windowed WAN drops: ${JSON.stringify(s.wanDrops)}`)
      const workerCpu = s.workerCpuMs.map((after, k) => delta(before.workerCpuMs[k], after))
      const w = s.windows
      const b = before.windows
      const windowS = (w.windowMs - b.windowMs) / 1000
      results.push({
        seconds,
        outcome: outcomeOf(s, answered),
        readsI0: answered.ok,
        mainCpu,
        workerCpu,
        otherCpu: otherThreads(processS, [mainCpu, ...workerCpu]),
        windows: {
          count: w.windows - b.windows,
          windowS,
          busiestS: (w.criticalBusyMs - b.criticalBusyMs) / 1000,
          waitS: w.laneBusyMs.map((x, k) => windowS - ((x ?? 0) - (b.laneBusyMs[k] ?? 0)) / 1000),
        },
      })
      before = s
    }
    return results
  } finally {
    await run.close()
  }
}

async function daysInOneThread(fleet: Fleet, days: number): Promise<DayResult[]> {
  const scheduler = createScheduler({ start: startOf(fleet) })
  const run = await startFleet(fleet, { scheduler, backend: getBackend('native') })
  try {
    const answered = await withReads(fleet, run, scheduler)
    const results: DayResult[] = []
    for (let d = 0; d < days; d++) {
      const { seconds, mainCpu, processS } = await timedDay(run)
      results.push({
        seconds,
        outcome: outcomeOf(run.snapshot(), answered),
        readsI0: answered.ok,
        mainCpu,
        workerCpu: [],
        otherCpu: otherThreads(processS, [mainCpu]),
      })
    }
    return results
  } finally {
    await run.close()
  }
}

type Run = 'one-thread' | 'w1' | 'w2'
const RUNS: Run[] = ['one-thread', 'w1', 'w2']
const LABEL: Record<Run, string> = {
  'one-thread': 'single-thread runner (startFleet, in-process)',
  w1: '1 shard (1 worker thread + DCC in main)',
  w2: '2 shards (2 worker threads + DCC in main)',
}
/** Day 1 starts every worker thread cold (a fresh isolate: V8 compiles as it goes); day 2 is warm. */
const DAYS = 2

/** The figures of one run on one day, over the rounds. */
interface Series {
  seconds: number[]
  mainCpu: number[]
  /** The busiest worker's CPU s (what bounds a window). */
  workerCpu: number[]
  otherCpu: number[]
  windows: number[]
  /** Σ window wall − Σ busiest worker's busy wall: the barriers' own cost. */
  barrierS: number[]
  /** The most any worker waited at the barriers (Σ window wall − its busy wall). */
  waitS: number[]
}
const series = (): Series => ({
  seconds: [],
  mainCpu: [],
  workerCpu: [],
  otherCpu: [],
  windows: [],
  barrierS: [],
  waitS: [],
})

export async function run(report: Report): Promise<void> {
  const { quick } = report.options
  const premises = report.options.sizes?.[0] ?? (quick ? 1000 : 4000)
  const rounds = quick ? 3 : 5
  const spec = parseFleetSpec({ seed: 'bench-shard', premises })
  if (!spec.ok) throw spec.error
  // One build: its device states are never advanced (each run takes its own copy), so every run
  // starts from the same fleet.
  const fleet = buildFleet(spec.value)
  report.log(
    `${premises} premises, ${DAYS} virtual days each timed (day 1 from cold worker threads), ${rounds} rounds; ${availableParallelism()} cores available to this process`,
  )

  const by: Record<Run, Series>[] = Array.from({ length: DAYS }, () => ({
    'one-thread': series(),
    w1: series(),
    w2: series(),
  }))
  const keep = (k: Run, d: number, r: DayResult) => {
    const x = by[d]![k]
    x.seconds.push(r.seconds)
    if (r.mainCpu !== undefined) x.mainCpu.push(r.mainCpu)
    if (r.otherCpu !== undefined) x.otherCpu.push(r.otherCpu)
    if (r.workerCpu.length && r.workerCpu.every((c) => c !== undefined))
      x.workerCpu.push(Math.max(...(r.workerCpu as number[])))
    if (r.windows) {
      x.windows.push(r.windows.count)
      x.barrierS.push(r.windows.windowS - r.windows.busiestS)
      x.waitS.push(Math.max(...r.windows.waitS))
    }
  }
  // Every run of a kind must end each day the same way. Across the kinds the reads answered by a
  // day's end may differ by those still on the windowed WAN (one latency each way); the rest may not.
  const expected = new Map<string, string>()
  const same = (key: string, outcome: string, what: string, d: number) => {
    const want = expected.get(key) ?? outcome
    expected.set(key, want)
    if (outcome !== want) throw new Error(`${what} lived day ${d + 1} another way: ${outcome}, not ${want}`)
  }
  const check = (kind: 'workers' | 'one-thread', what: string, d: number, r: DayResult) => {
    same(`life:${d}`, r.outcome, what, d)
    same(`reads:${kind}:${d}`, `${r.readsI0} reads answered I0`, what, d)
  }
  for (let round = 0; round < rounds; round++) {
    const order: ('w1' | 'w2')[] = round % 2 ? ['w2', 'w1'] : ['w1', 'w2']
    for (const k of order) {
      const days = await daysInWorkers(fleet, k === 'w1' ? 1 : 2, DAYS)
      days.forEach((r, d) => {
        check('workers', k, d, r)
        keep(k, d, r)
      })
    }
    const days = await daysInOneThread(fleet, DAYS)
    days.forEach((r, d) => {
      check('one-thread', 'the single-thread runner', d, r)
      keep('one-thread', d, r)
    })
  }

  const med = (xs: number[]) => (xs.length ? median(xs) : undefined)
  const text = (x: number | undefined, digits = 2) => (x === undefined ? 'n/a' : x.toFixed(digits))
  const rows: object[] = []
  by.forEach((day, d) => {
    const one = median(day.w1.seconds)
    for (const k of RUNS) {
      const x = day[k]
      rows.push({
        run: LABEL[k],
        day: d + 1,
        'wall s': median(x.seconds).toFixed(3),
        'vs 1 shard': `${(one / median(x.seconds)).toFixed(2)}×`,
        'main CPU s': text(med(x.mainCpu)),
        'busiest worker CPU s': k === 'one-thread' ? '—' : text(med(x.workerCpu)),
        'other threads CPU s': text(med(x.otherCpu)),
        windows: k === 'one-thread' ? '—' : text(med(x.windows), 0),
        'barrier s': k === 'one-thread' ? '—' : text(med(x.barrierS), 3),
        'worker wait s': k === 'one-thread' ? '—' : text(med(x.waitS), 3),
      })
    }
  })
  report.table(rows)

  const baseline = '1 shard: the same day in 1 worker thread'
  by.forEach((day, d) => {
    // Day 1 keeps the names the figures had when only one day was timed.
    const suffix = d === 0 ? '' : `, day ${d + 1} (warm)`
    const one = median(day.w1.seconds)
    const two = median(day.w2.seconds)
    const single = median(day['one-thread'].seconds)
    const name = (what: string) => `${what}${suffix}`
    report.figure({
      suite: SUITE,
      name: name('1 shard: virtual day'),
      unit: 's',
      median: one,
      ratio: 1,
      baseline,
    })
    report.figure({
      suite: SUITE,
      name: name('2 shards: virtual day'),
      unit: 's',
      median: two,
      ratio: two / one,
      baseline,
    })
    report.figure({
      suite: SUITE,
      name: name('single-thread runner: virtual day'),
      unit: 's',
      median: single,
      ratio: single / one,
      baseline,
    })
    report.figure({
      suite: SUITE,
      name: name('2 shards vs 1 (speed-up)'),
      unit: '×',
      median: one / two,
      ratio: null,
      baseline: null,
    })
    const w1 = med(day.w1.workerCpu)
    const w2 = med(day.w2.workerCpu)
    const m1 = med(day.w1.mainCpu)
    const m2 = med(day.w2.mainCpu)
    // How evenly the shard rule splits the work, whatever the machine's load: the one worker's CPU
    // over the busier of the two (2.0: a perfect split). Not a wall-time figure.
    if (w1 !== undefined && w2 !== undefined)
      report.figure({
        suite: SUITE,
        name: name('worker CPU, 1 shard vs the busier of 2'),
        unit: '×',
        median: w1 / w2,
        ratio: null,
        baseline: null,
      })
    // The speed-up the code allows with a free core per thread, whatever the load: the CPU of the
    // longest thread chain of a day (the main thread's plus the busiest worker's; a window waits
    // for its slowest thread) at 1 shard over that at 2. An estimate from CPU time, not a wall
    // figure; it leaves out the other threads (V8's compiler and collector), which need cores too.
    if (w1 !== undefined && w2 !== undefined && m1 !== undefined && m2 !== undefined)
      report.figure({
        suite: SUITE,
        name: name('critical-path CPU, 1 shard vs 2'),
        unit: '×',
        median: (m1 + w1) / (m2 + w2),
        ratio: null,
        baseline: null,
      })
  })
  const one = median(by[0]!.w1.seconds)
  const two = median(by[0]!.w2.seconds)
  report.log(
    `goal: 2 shards ≥ ${GOAL} × 1 shard (day 1): ${one / two >= GOAL ? 'PASS' : 'FAIL'} (${(one / two).toFixed(2)}×)` +
      (availableParallelism() < 2 ? ' — one core: the second thread has none of its own' : ''),
  )
}

// Last: the top-level await must not run before the constants above are set.
if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

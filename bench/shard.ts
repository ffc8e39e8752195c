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
 * times `advance(1 day)` only, and alternates which goes first; the figures are medians over the
 * rounds. The day is the meters living on their own (prepayment running down, GSMEs waking every
 * 30 minutes, alerts up to the DCC); every run must report the same alerts raised at the hubs
 * and supply states, or the bench stops: a faster wrong answer is not a result. (The DCC's own
 * count may differ by the alerts still on the windowed WAN, one latency, at the day's end.)
 */
import { availableParallelism } from 'node:os'
import { createScheduler } from '../packages/core/src/index.ts'
import type { Fleet } from '../packages/fleet/src/index.ts'
import {
  buildFleet,
  parseFleetSpec,
  startFleet,
  startWorkerFleet,
  threadCpuMs,
} from '../packages/fleet/src/index.ts'
import { getBackend } from '../packages/gbcs/src/index.ts'
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
  outcome: string
  /** CPU s of the main thread during the day, and of each worker thread (Linux; else undefined). */
  mainCpu: number | undefined
  workerCpu: (number | undefined)[]
}

const delta = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : (b - a) / 1000

const startOf = (fleet: Fleet) => Date.parse(fleet.spec.start)

async function dayInWorkers(fleet: Fleet, workers: number): Promise<DayResult> {
  const run = await startWorkerFleet(fleet, {
    scheduler: createScheduler({ start: startOf(fleet) }),
    backend: 'native',
    workers,
  })
  try {
    const before = (await run.stats()).workerCpuMs
    const cpu = threadCpuMs()
    const t = performance.now()
    await run.advance(DAY)
    const seconds = (performance.now() - t) / 1000
    const mainCpu = delta(cpu, threadCpuMs())
    const s = await run.stats()
    if (Object.keys(s.wanDrops).length > 0)
      throw new Error(`windowed WAN drops: ${JSON.stringify(s.wanDrops)}`)
    return {
      seconds,
      outcome: JSON.stringify({ alerts: s.hubTraffic.alerts, supply: s.supply, devices: s.devices }),
      mainCpu,
      workerCpu: s.workerCpuMs.map((after, k) => delta(before[k], after)),
    }
  } finally {
    await run.close()
  }
}

async function dayInOneThread(fleet: Fleet): Promise<DayResult> {
  const run = await startFleet(fleet, {
    scheduler: createScheduler({ start: startOf(fleet) }),
    backend: getBackend('native'),
  })
  try {
    const cpu = threadCpuMs()
    const t = performance.now()
    await run.advance(DAY)
    const seconds = (performance.now() - t) / 1000
    const mainCpu = delta(cpu, threadCpuMs())
    const s = run.snapshot()
    return {
      seconds,
      outcome: JSON.stringify({ alerts: s.hubTraffic.alerts, supply: s.supply, devices: s.devices }),
      mainCpu,
      workerCpu: [],
    }
  } finally {
    await run.close()
  }
}

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
    `${premises} premises, one virtual day, ${rounds} rounds; ${availableParallelism()} cores available to this process`,
  )

  const times: Record<'one-thread' | 'w1' | 'w2', number[]> = { 'one-thread': [], w1: [], w2: [] }
  // CPU s per thread: the main thread's, and the busiest worker's (what bounds a window).
  const mainCpu: Record<'one-thread' | 'w1' | 'w2', number[]> = { 'one-thread': [], w1: [], w2: [] }
  const workerCpu: Record<'w1' | 'w2', number[]> = { w1: [], w2: [] }
  const keep = (k: 'one-thread' | 'w1' | 'w2', r: DayResult) => {
    times[k].push(r.seconds)
    if (r.mainCpu !== undefined) mainCpu[k].push(r.mainCpu)
    const busiest = r.workerCpu.every((c) => c !== undefined)
      ? Math.max(...(r.workerCpu as number[]))
      : undefined
    if (k !== 'one-thread' && busiest !== undefined) workerCpu[k].push(busiest)
  }
  let expected: string | undefined
  const check = (what: string, r: DayResult) => {
    expected ??= r.outcome
    if (r.outcome !== expected) throw new Error(`${what} lived another day: ${r.outcome}, not ${expected}`)
  }
  for (let round = 0; round < rounds; round++) {
    const order: ('w1' | 'w2')[] = round % 2 ? ['w2', 'w1'] : ['w1', 'w2']
    for (const k of order) {
      const r = await dayInWorkers(fleet, k === 'w1' ? 1 : 2)
      check(k, r)
      keep(k, r)
    }
    const r = await dayInOneThread(fleet)
    check('the single-thread runner', r)
    keep('one-thread', r)
  }

  const one = median(times.w1)
  const two = median(times.w2)
  const single = median(times['one-thread'])
  const cpuText = (xs: number[]) => (xs.length ? median(xs).toFixed(2) : 'n/a')
  report.table([
    {
      run: 'single-thread runner (startFleet, in-process)',
      'day wall s': single.toFixed(3),
      'speed vs 1 shard': `${(one / single).toFixed(2)}×`,
      'main CPU s': cpuText(mainCpu['one-thread']),
      'busiest worker CPU s': '—',
    },
    {
      run: '1 shard (1 worker thread + DCC in main)',
      'day wall s': one.toFixed(3),
      'speed vs 1 shard': '1.00×',
      'main CPU s': cpuText(mainCpu.w1),
      'busiest worker CPU s': cpuText(workerCpu.w1),
    },
    {
      run: '2 shards (2 worker threads + DCC in main)',
      'day wall s': two.toFixed(3),
      'speed vs 1 shard': `${(one / two).toFixed(2)}×`,
      'main CPU s': cpuText(mainCpu.w2),
      'busiest worker CPU s': cpuText(workerCpu.w2),
    },
  ])
  const baseline = '1 shard: the same day in 1 worker thread'
  report.figure({ suite: SUITE, name: '1 shard: virtual day', unit: 's', median: one, ratio: 1, baseline })
  report.figure({
    suite: SUITE,
    name: '2 shards: virtual day',
    unit: 's',
    median: two,
    ratio: two / one,
    baseline,
  })
  report.figure({
    suite: SUITE,
    name: 'single-thread runner: virtual day',
    unit: 's',
    median: single,
    ratio: single / one,
    baseline,
  })
  report.figure({
    suite: SUITE,
    name: '2 shards vs 1 (speed-up)',
    unit: '×',
    median: one / two,
    ratio: null,
    baseline: null,
  })
  // How evenly the shard rule splits the work, whatever the machine's load: the one worker's CPU
  // over the busier of the two (2.0: a perfect split). Not a wall-time figure.
  if (workerCpu.w1.length && workerCpu.w2.length)
    report.figure({
      suite: SUITE,
      name: 'worker CPU, 1 shard vs the busier of 2',
      unit: '×',
      median: median(workerCpu.w1) / median(workerCpu.w2),
      ratio: null,
      baseline: null,
    })
  // The speed-up the code allows with a free core per thread, whatever the load: the CPU of the
  // longest thread chain of a day (the main thread's plus the busiest worker's; a window waits for
  // its slowest thread) at 1 shard over that at 2. An estimate from CPU time, not a wall figure.
  if (workerCpu.w1.length && workerCpu.w2.length && mainCpu.w1.length && mainCpu.w2.length)
    report.figure({
      suite: SUITE,
      name: 'critical-path CPU, 1 shard vs 2',
      unit: '×',
      median: (median(mainCpu.w1) + median(workerCpu.w1)) / (median(mainCpu.w2) + median(workerCpu.w2)),
      ratio: null,
      baseline: null,
    })
  report.log(
    `goal: 2 shards ≥ ${GOAL} × 1 shard: ${one / two >= GOAL ? 'PASS' : 'FAIL'} (${(one / two).toFixed(2)}×)` +
      (availableParallelism() < 2 ? ' — one core: the second thread has none of its own' : ''),
  )
}

// Last: the top-level await must not run before the constants above are set.
if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

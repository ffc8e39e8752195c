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
 * 30 minutes, alerts up to the DCC); every run must report the same alerts and supply states, or
 * the bench stops: a faster wrong answer is not a result.
 */
import { availableParallelism } from 'node:os'
import { createScheduler } from '../packages/core/src/index.ts'
import type { Fleet } from '../packages/fleet/src/index.ts'
import { buildFleet, parseFleetSpec, startFleet, startWorkerFleet } from '../packages/fleet/src/index.ts'
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
}

const startOf = (fleet: Fleet) => Date.parse(fleet.spec.start)

async function dayInWorkers(fleet: Fleet, workers: number): Promise<DayResult> {
  const run = await startWorkerFleet(fleet, {
    scheduler: createScheduler({ start: startOf(fleet) }),
    backend: 'native',
    workers,
  })
  try {
    const t = performance.now()
    await run.advance(DAY)
    const seconds = (performance.now() - t) / 1000
    const s = await run.stats()
    if (Object.keys(s.wanDrops).length > 0)
      throw new Error(`windowed WAN drops: ${JSON.stringify(s.wanDrops)}`)
    return { seconds, outcome: JSON.stringify({ alerts: s.alerts, supply: s.supply, devices: s.devices }) }
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
    const t = performance.now()
    await run.advance(DAY)
    const seconds = (performance.now() - t) / 1000
    const s = run.snapshot()
    return { seconds, outcome: JSON.stringify({ alerts: s.alerts, supply: s.supply, devices: s.devices }) }
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
      times[k].push(r.seconds)
    }
    const r = await dayInOneThread(fleet)
    check('the single-thread runner', r)
    times['one-thread'].push(r.seconds)
  }

  const one = median(times.w1)
  const two = median(times.w2)
  const single = median(times['one-thread'])
  const rows = [
    {
      run: 'single-thread runner (startFleet, in-process)',
      'day wall s (median)': single,
      'vs 1 shard': one / single,
    },
    { run: '1 shard (1 worker thread + DCC in main)', 'day wall s (median)': one, 'vs 1 shard': 1 },
    { run: '2 shards (2 worker threads + DCC in main)', 'day wall s (median)': two, 'vs 1 shard': one / two },
  ]
  report.table(
    rows.map((r) => ({
      ...r,
      'day wall s (median)': r['day wall s (median)'].toFixed(3),
      'vs 1 shard': `${r['vs 1 shard'].toFixed(2)}×`,
    })),
  )
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
  report.log(
    `goal: 2 shards ≥ ${GOAL} × 1 shard: ${one / two >= GOAL ? 'PASS' : 'FAIL'} (${(one / two).toFixed(2)}×)` +
      (availableParallelism() < 2 ? ' — one core: the second thread has none of its own' : ''),
  )
}

// Last: the top-level await must not run before the constants above are set.
if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

/**
 * The table every suite prints: each task's median ops/s and µs/op and its ratio to the
 * suite's baseline task, measured in the same run. (In a folder of its own: bench/run.ts runs
 * every *.ts directly in bench/ as a suite.)
 */
import type { Bench } from 'tinybench'
import type { Figure } from './report.ts'

/** Median ops/s of a finished task; throws when the task has no result. */
export function medianOps(bench: Bench, name: string): number {
  const r = bench.tasks.find((t) => t.name === name)?.result
  if (!r || !('throughput' in r)) throw new Error(`no result for ${name}`)
  return r.throughput.p50
}

export function ratioRows(bench: Bench, baselineName: string) {
  const baseline = medianOps(bench, baselineName)
  return bench.tasks.map((t) => {
    const r = t.result
    const ok = 'throughput' in r
    const ops = ok ? r.throughput.p50 : Number.NaN
    return {
      task: t.name,
      'ops/s (median)': ok ? Math.round(ops).toLocaleString('en-GB') : r.state,
      'µs/op (median)': ok ? (r.latency.p50 * 1000).toFixed(1) : '',
      'vs baseline': ok ? `${(ops / baseline).toFixed(3)}×` : '',
      samples: ok ? r.latency.samplesCount : 0,
    }
  })
}

/** Each finished task of `bench` as a figure: its median ops/s and its ratio to the baseline task. */
export function benchFigures(suite: string, bench: Bench, baselineName: string): Figure[] {
  const baseline = medianOps(bench, baselineName)
  return bench.tasks.flatMap((t) => {
    const r = t.result
    if (!('throughput' in r)) return []
    const median = r.throughput.p50
    return [{ suite, name: t.name, unit: 'ops/s', median, ratio: median / baseline, baseline: baselineName }]
  })
}

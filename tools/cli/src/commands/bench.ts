/**
 * `smetsim bench [suite...] [--workers N] [--json] [--quick]`: the benchmark suites of bench/
 * (the very code `pnpm bench` runs), as tables, or with --json one figure per line on stdout.
 */
import { consoleReport, defaultWorkers, jsonReport, parseWorkers } from '../../../../bench/lib/report.ts'
import { isSuiteName, SUITE_NAMES, SUITES, type SuiteName } from '../../../../bench/lib/suites.ts'

export interface BenchOptions {
  workers?: string
  json: boolean
  quick: boolean
}

export async function bench(names: string[], opts: BenchOptions): Promise<void> {
  // Every name and option is checked before any suite starts.
  const unknown = names.filter((n) => !isSuiteName(n))
  if (unknown.length > 0)
    throw new Error(
      `unknown suite${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}: ` +
        `the suites are ${SUITE_NAMES.join(', ')}`,
    )
  const options = {
    quick: opts.quick,
    workers: opts.workers === undefined ? defaultWorkers() : parseWorkers(opts.workers),
  }
  const report = opts.json ? jsonReport(options) : consoleReport(options)
  const chosen: SuiteName[] = names.length > 0 ? [...new Set(names.filter(isSuiteName))] : SUITE_NAMES
  for (const name of chosen) {
    report.log(`\n=== ${name} ===`)
    await (await SUITES[name]()).run(report)
  }
}

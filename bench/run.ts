/**
 * Runs every benchmark suite in bench/ (each `*.ts` file but this one), one after another.
 *
 *   pnpm bench                              (node --import tsx bench/run.ts)
 *   pnpm bench -- --quick [--workers N]     (shorter runs, for a smoke test)
 *
 * A suite that exports `run(report)` (bench/lib/report.ts; the ones `smetsim bench` offers) is
 * called with the options from the command line; any other runs at import (top-level await)
 * and prints its own table.
 */
import { readdirSync } from 'node:fs'
import { consoleReport, optionsFromArgv, type Report } from './lib/report.ts'

const here = new URL('./', import.meta.url)
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
  .sort()
const report = consoleReport(optionsFromArgv(process.argv))

for (const suite of suites) {
  console.log(`\n=== bench/${suite} ===`)
  const module = (await import(new URL(suite, here).href)) as { run?: (r: Report) => Promise<void> }
  if (typeof module.run === 'function') await module.run(report)
}

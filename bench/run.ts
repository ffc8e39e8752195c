/**
 * Runs every benchmark suite in bench/ (each `*.ts` file but this one), one after another.
 *
 *   pnpm bench            (node --import tsx bench/run.ts)
 *   pnpm bench -- --quick (shorter runs, for a smoke test; suites may ignore it)
 */
import { readdirSync } from 'node:fs'

const here = new URL('./', import.meta.url)
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
  .sort()

for (const suite of suites) {
  console.log(`\n=== bench/${suite} ===`)
  // Each suite runs at import (top-level await) and prints its own table.
  await import(new URL(suite, here).href)
}

/**
 * What a suite is given and where its results go, so that one suite serves both `pnpm bench`
 * (and `node --import tsx bench/<suite>.ts`) and `smetsim bench`: the suite reads its options
 * here instead of process.argv, prints through `log` and `table`, and hands each figure it
 * measured to `figure`. A console report prints tables; a JSON report prints one figure per
 * line on stdout and sends the human-readable text to stderr.
 */
import { Console } from 'node:console'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

export interface SuiteOptions {
  /** Shorter runs and smaller sizes: a smoke test. */
  quick: boolean
  /** The most worker threads a suite that scales over threads uses (1…workers). */
  workers: number
  /** Fleet sizes (premises) for bench/fleet.ts; its defaults when absent. */
  sizes?: number[]
}

/** One measured figure. `ratio` is `median` over the baseline's median, measured in the same run. */
export interface Figure {
  suite: string
  name: string
  /** 'ops/s', 'B', 's', or '×' for a figure that is itself a ratio of two measured in the run. */
  unit: string
  median: number
  /** null when the figure has no baseline in the run (said so in bench/README.md). */
  ratio: number | null
  baseline: string | null
}

export interface Report {
  readonly options: SuiteOptions
  log(text: string): void
  table(rows: readonly object[] | Record<string, unknown>): void
  figure(f: Figure): void
}

/** Tables and lines on stdout; figures are already in the tables. */
export function consoleReport(options: SuiteOptions): Report {
  return {
    options,
    log: (text) => console.log(text),
    table: (rows) => console.table(rows),
    figure: () => {},
  }
}

/** One JSON object per figure on stdout, nothing else there; the tables go to stderr. */
export function jsonReport(options: SuiteOptions): Report {
  const err = new Console(process.stderr)
  return {
    options,
    log: (text) => err.log(text),
    table: (rows) => err.table(rows),
    figure: (f) => process.stdout.write(`${JSON.stringify(f)}\n`),
  }
}

export const defaultWorkers = (): number => availableParallelism()

/**
 * The options of a suite run as a script: `--quick`, `--workers N`, `--sizes N,M`. Throws on a
 * malformed value (the suite is then not run).
 */
export function optionsFromArgv(argv: readonly string[]): SuiteOptions {
  const flagValue = (flag: string) => {
    const at = argv.indexOf(flag)
    return at >= 0 ? (argv[at + 1] ?? '') : undefined
  }
  const workers = flagValue('--workers')
  const sizes = flagValue('--sizes')
  return {
    quick: argv.includes('--quick'),
    workers: workers === undefined ? defaultWorkers() : parseWorkers(workers),
    ...(sizes === undefined ? {} : { sizes: parseSizes(sizes) }),
  }
}

/** A worker-thread count: an integer 1…64. */
export function parseWorkers(text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > 64)
    throw new Error(`--workers wants a whole number from 1 to 64, not '${text}'`)
  return n
}

/** Fleet sizes: comma-separated whole numbers of premises, each 1…10,000,000. */
export function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => s.trim())
  if (!sizes.every((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 10_000_000))
    throw new Error(`--sizes wants premises counts such as 10000,100000, not '${text}'`)
  return sizes.map(Number)
}

/** True when the module with this import.meta.url is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1]
}

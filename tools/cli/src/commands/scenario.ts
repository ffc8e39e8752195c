/**
 * `smetsim scenario list` and `smetsim scenario run FILE|NAME` (issue 13), and the main job,
 * `smetsim demo`: the built-in `fleet-smoke` in real time over the embedded MQTT broker, then
 * `solr-disorderly-exit` on 10 000 premises under its four control settings, each one's
 * comparison table printed and its report written. `--speed` and `--broker` choose real time and
 * MQTT for any scenario.
 *
 * Output: a progress bar over simulated time on stderr (a plain line per tenth of each setting's
 * run when stderr is not a terminal), then the comparison table and the expectations on stdout;
 * with `--json` those go to stderr and stdout's last (only) line is one JSON object, the runs keyed
 * by setting (their series left out: `--out` keeps everything). `--out DIR` writes report.json and
 * report.html there. Exit status 1 when an expectation fails, 2 for a bad file or option.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import {
  builtinScenarios,
  type FleetWan,
  loadScenario,
  type RunReport,
  renderHtmlReport,
  runScenario,
  type Scenario,
  type ScenarioReport,
} from '@smetsim/fleet'
import { getBackend } from '@smetsim/gbcs'
import cliProgress from 'cli-progress'
import ms from 'ms'
import { brokerOption, speedOption, threadsOption } from '../options.ts'

export function list(): void {
  for (const name of builtinScenarios()) {
    const s = loadScenario(name)
    process.stdout.write(`${name}\t${s.description.split(/(?<=\.)\s/)[0]}\n`)
  }
}

export interface RunOptions {
  premises?: string
  seed?: string
  out?: string
  json?: boolean
  speed?: string
  broker?: string
  threads?: string
}

export async function run(file: string, opts: RunOptions): Promise<void> {
  let scenario: Scenario
  let premises: number | undefined
  let speed: number | 'max' | undefined
  let wan: FleetWan | undefined
  let threads = availableParallelism()
  try {
    scenario = loadScenario(file)
    if (opts.speed !== undefined) speed = speedOption(opts.speed)
    if (opts.broker !== undefined) wan = brokerOption(opts.broker)
    if (opts.threads !== undefined) threads = threadsOption('--threads', opts.threads)
    if (opts.premises !== undefined) {
      premises = Number(opts.premises)
      if (!Number.isSafeInteger(premises) || premises < 1)
        throw new Error(`--premises must be a whole number above 0, not '${opts.premises}'`)
    }
  } catch (e) {
    process.stderr.write(`smetsim: ${(e as Error).message}\n`)
    process.exitCode = 2
    return
  }
  const out = await runAndPrint(scenario, {
    ...(premises !== undefined && { premises }),
    ...(opts.seed !== undefined && { seed: opts.seed }),
    ...(opts.json !== undefined && { json: opts.json }),
    ...(opts.out !== undefined && { out: opts.out }),
    ...(speed !== undefined && { speed }),
    ...(wan !== undefined && { wan }),
    threads,
  })
  if (out && !out.expectations.every((e) => e.ok)) process.exitCode = 1
}

/**
 * The main job (README's first command): `fleet-smoke` (the fleet over MQTT on the embedded
 * broker, in real time: report in ./smetsim-report/fleet-smoke), then `solr-disorderly-exit` at
 * 10 000 premises in virtual time (report in ./smetsim-report). Exit 1 when either fails an
 * expectation; a smoke run that cannot start (exit 2) stops the demo there.
 */
export async function demo(opts: { premises?: string; out?: string }): Promise<void> {
  const out = opts.out ?? 'smetsim-report'
  await run('fleet-smoke', { out: join(out, 'fleet-smoke') })
  if (process.exitCode === 2) return
  const smoke = process.exitCode
  await run('solr-disorderly-exit', { premises: opts.premises ?? '10000', out })
  process.exitCode = process.exitCode || smoke
}

async function runAndPrint(
  scenario: Scenario,
  o: {
    premises?: number
    seed?: string
    out?: string
    json?: boolean
    speed?: number | 'max'
    wan?: FleetWan
    threads: number
  },
): Promise<ScenarioReport | undefined> {
  const settings = Object.keys(scenario.settings)
  const bar = progress(settings)
  const started = performance.now()
  let report: ScenarioReport
  try {
    report = await runScenario(scenario, {
      backend: getBackend(),
      ...(o.premises !== undefined && { premises: o.premises }),
      ...(o.seed !== undefined && { seed: o.seed }),
      ...(o.speed !== undefined && { speed: o.speed }),
      ...(o.wan !== undefined && { wan: o.wan }),
      threads: o.threads,
      onProgress: bar.update,
    })
  } catch (e) {
    bar.done()
    process.stderr.write(`smetsim: ${(e as Error).message}\n`)
    process.exitCode = 2
    return undefined
  }
  bar.done()
  const seconds = (performance.now() - started) / 1000
  const text = `${summaryTable(report)}\n${expectationLines(report)}\n(${seconds.toFixed(1)} s)\n`
  if (o.out) {
    const dir = resolve(o.out)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
    writeFileSync(join(dir, 'report.html'), renderHtmlReport(report))
    process.stderr.write(`report: ${join(dir, 'report.html')} (data: report.json)\n`)
  }
  if (o.json) {
    process.stderr.write(text)
    const line: Record<string, Omit<RunReport, 'series'>> = {}
    for (const [name, { series: _series, ...rest }] of Object.entries(report.runs)) line[name] = rest
    process.stdout.write(`${JSON.stringify(line)}\n`)
  } else process.stdout.write(text)
  return report
}

/** One row per setting: the failed Supplier's households, then what the actors' requests got. */
export function summaryTable(r: ScenarioReport): string {
  const head = [
    'setting',
    'household-hours off supply',
    'households disconnected',
    'off at end',
    'others’ household-hours',
    'SRs by outcome',
  ]
  const rows = Object.entries(r.runs).map(([name, run]) => [
    name,
    run.householdHoursOffSupply.toFixed(0),
    String(run.householdsDisconnected),
    String(run.householdsOffAtEnd),
    run.othersHouseholdHoursOffSupply.toFixed(0),
    Object.entries(run.commands)
      .map(
        ([srv, codes]) =>
          `${srv} ${Object.entries(codes)
            .map(([c, n]) => `${c}×${n}`)
            .join(' ')}`,
      )
      .join(', '),
  ])
  const households = r.failedSupplier
    ? `${r.failedSupplier.prepaymentHouseholds} prepayment households of ${r.failedSupplier.name}`
    : `${r.fleet.prepaymentHouseholds} prepayment households`
  // The scenario parts' own counts, a column each, when there are any.
  const names = [...new Set(Object.values(r.runs).flatMap((run) => Object.keys(run.metrics)))]
  const metrics = names.length
    ? [
        '',
        ...table(
          ['setting', ...names],
          Object.entries(r.runs).map(([name, run]) => [
            name,
            ...names.map((m) => String(run.metrics[m] ?? 0)),
          ]),
        ),
      ]
    : []
  return [
    `${r.scenario.name}: ${r.fleet.premises} premises (seed ${r.fleet.seed}), ${households}, ${ms(r.durationMs, { long: true })} from ${r.fleet.start}${r.mode.time === 'real' ? `, in real time at ${r.mode.speed}× over ${r.mode.wan}` : ''}`,
    ...table(head, rows),
    ...metrics,
  ].join('\n')
}

/** Rows under a head, the first column left-aligned and the others right-aligned. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), ...rows.map(line)]
}

function expectationLines(r: ScenarioReport): string {
  if (!r.expectations.length) return 'no expectations'
  return r.expectations
    .map(
      (e) =>
        `${e.ok ? 'PASS' : 'FAIL'}  ${e.text}  (${Object.entries(e.actual)
          .map(([k, v]) => `${k} = ${v}`)
          .join(', ')})`,
    )
    .join('\n')
}

/** Progress over simulated time on stderr: one bar over all settings on a terminal, a line per tenth of each otherwise. */
function progress(settings: string[]) {
  const total = settings.length * 100
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'simulating {setting} [{bar}] {percentage}%', stream: process.stderr, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0, { setting: settings[0] })
    // Settings may run side by side (threads): the bar is their sum, labelled with those running.
    const done = new Map<string, number>()
    return {
      update: (setting: string, part: number) => {
        done.set(setting, part)
        let sum = 0
        for (const v of done.values()) sum += v
        const running = settings.filter((x) => (done.get(x) ?? 1) < 1)
        bar.update(Math.round(sum * 100), { setting: running.join(', ') || setting })
      },
      done: () => bar.stop(),
    }
  }
  const shown = new Map<string, number>()
  return {
    update(setting: string, done: number) {
      const tenth = Math.floor(done * 10)
      if (shown.get(setting) === tenth) return
      shown.set(setting, tenth)
      process.stderr.write(`simulating ${setting}: ${tenth * 10}%\n`)
    },
    done() {},
  }
}

/**
 * The scenario report as one self-contained HTML page (issue 13): the summary per control setting,
 * the expectations, the habit parameters and three charts drawn with uPlot — households off supply
 * over time, commands by outcome, alerts per supplier.
 *
 * Self-contained: the page fetches nothing. uPlot (MIT) and its stylesheet are read from the
 * installed package once per process and inlined with their licence; a Content-Security-Policy of
 * `default-src 'none'` stops the page loading anything even if something tried. Everything taken
 * from the report (scenario, setting, supplier names are user input from scenario files) is
 * escaped as HTML text, and the charts' data is embedded as JSON with `<`, `>` and `&` escaped, so
 * no name can close the `<script>` it sits in.
 *
 * When the page has drawn a chart, the chart's container gets `data-drawn="1"` (what the browser
 * test in html.test.ts waits for); a chart with no data is a sentence saying so instead.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ExpectationResult, RunReport, ScenarioReport } from './report.ts'

/** Households off supply over time: one line per control setting, x in Unix seconds (UTC). */
export interface LineChart {
  x: number[]
  series: { label: string; color: string; values: (number | null)[] }[]
}

/**
 * Counts per control setting, drawn as one stacked bar per setting (`categories`, in run order);
 * `series[k].values[i]` is stack part k of setting i, stacked bottom-up in series order.
 */
export interface BarChart {
  categories: string[]
  series: { label: string; color: string; values: number[] }[]
}

/** What the page draws; a chart is `null` when the report has no data for it. */
export interface ReportCharts {
  offSupply: LineChart | null
  commands: BarChart | null
  alerts: BarChart | null
}

/** One colour per control setting (Okabe–Ito, without black and yellow: readable on white). */
const SETTING_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9']

/**
 * Colour k of the parts of a stacked bar: hues a golden angle apart at saturation 65 %, lightness
 * 45 % (HSL), as `#rrggbb`.
 */
function partColour(k: number): string {
  return hslHex((k * 137.508) % 360, 0.65, 0.45)
}

/**
 * A command outcome's colour by its DUIS response code's class: I (success) green, W (warning)
 * amber, E (error) red, anything else a part colour; the k-th of a class a shade darker or lighter.
 */
function outcomeColour(code: string, nth: number, k: number): string {
  const hue = { I: 140, W: 38, E: 4 }[code[0] as 'I' | 'W' | 'E']
  return hue === undefined ? partColour(k) : hslHex(hue, 0.65, 0.32 + (nth % 4) * 0.1)
}

/** HSL (h in degrees, s and l in 0 … 1) as `#rrggbb`. */
function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l)
  const channel = (n: number) => {
    const t = (n + h / 30) % 12
    const v = l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1))
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0')
  }
  return `#${channel(0)}${channel(8)}${channel(4)}`
}

/** Setting i's colour: the fixed palette, then golden-angle hues (never a colour twice). */
function settingColour(i: number): string {
  return SETTING_COLOURS[i] ?? partColour(i)
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

function count(v: unknown): number {
  const n = finite(v)
  return n !== null && n > 0 ? n : 0
}

/** The charts' data from a report (pure; what the page embeds as JSON). */
export function reportCharts(report: ScenarioReport): ReportCharts {
  const runs = Object.entries(report.runs ?? {})
  return { offSupply: offSupplyChart(report, runs), commands: commandsChart(runs), alerts: alertsChart(runs) }
}

function offSupplyChart(report: ScenarioReport, runs: [string, RunReport][]): LineChart | null {
  const start = Date.parse(report.fleet?.start ?? '')
  const startMs = Number.isFinite(start) ? start : 0
  // Settings may sample at different intervals: the chart's x is the union of their instants.
  const points = runs.map(([, run]) => {
    const interval = finite(run.series?.intervalMs)
    const values = Array.isArray(run.series?.offSupply) ? run.series.offSupply : []
    const at = new Map<number, number | null>()
    if (interval !== null && interval > 0)
      values.forEach((v, i) => {
        at.set((startMs + i * interval) / 1000, finite(v))
      })
    return at
  })
  const xs = new Set<number>()
  for (const at of points) for (const x of at.keys()) xs.add(x)
  if (xs.size === 0) return null
  const x = [...xs].sort((a, b) => a - b)
  return {
    x,
    series: runs.map(([name], i) => ({
      label: name,
      color: settingColour(i),
      values: x.map((t) => points[i]?.get(t) ?? null),
    })),
  }
}

/** SRVs in numeric order ('1.6' < '6.23' < '11.2'), then response codes: I before E, then by number. */
function compareSrv(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1)
    if (d !== 0 && !Number.isNaN(d)) return d
  }
  return a < b ? -1 : a > b ? 1 : 0
}

function compareCode(a: string, b: string): number {
  const rank = (c: string) => [c.startsWith('I') ? 0 : 1, Number.parseInt(c.slice(1), 10) || 0] as const
  const [ka, na] = rank(a)
  const [kb, nb] = rank(b)
  return ka - kb || na - nb || (a < b ? -1 : a > b ? 1 : 0)
}

function commandsChart(runs: [string, RunReport][]): BarChart | null {
  const pairs = new Map<string, [string, string]>()
  for (const [, run] of runs)
    for (const [srv, codes] of Object.entries(run.commands ?? {}))
      for (const [code, n] of Object.entries(codes ?? {}))
        if (count(n) > 0) pairs.set(JSON.stringify([srv, code]), [srv, code])
  if (pairs.size === 0) return null
  const ordered = [...pairs.values()].sort((a, b) => compareSrv(a[0], b[0]) || compareCode(a[1], b[1]))
  return {
    categories: runs.map(([name]) => name),
    series: ordered.map(([srv, code], k) => ({
      label: `SR ${srv} ${code}`,
      color: outcomeColour(code, ordered.slice(0, k).filter(([, c]) => c[0] === code[0]).length, k),
      values: runs.map(([, run]) => count(run.commands?.[srv]?.[code])),
    })),
  }
}

function alertsChart(runs: [string, RunReport][]): BarChart | null {
  const totals = new Map<string, number>()
  for (const [, run] of runs)
    for (const [user, n] of Object.entries(run.alerts ?? {}))
      if (count(n) > 0) totals.set(user, (totals.get(user) ?? 0) + count(n))
  if (totals.size === 0) return null
  // The User with the most alerts at the bottom of each bar.
  const users = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([u]) => u)
  return {
    categories: runs.map(([name]) => name),
    series: users.map((user, k) => ({
      label: user,
      color: partColour(k),
      values: runs.map(([, run]) => count(run.alerts?.[user])),
    })),
  }
}

// --- the vendored chart library ---

interface Vendored {
  version: string
  licence: string
  js: string
  css: string
}

let vendored: Vendored | undefined

/** uPlot's script, stylesheet and licence from the installed package, read once per process. */
function uplot(): Vendored {
  if (vendored) return vendored
  const require = createRequire(import.meta.url)
  const read = (file: string) => readFileSync(require.resolve(`uplot/${file}`), 'utf8')
  const pkg = JSON.parse(read('package.json')) as { version?: unknown }
  const v: Vendored = {
    version: String(pkg.version),
    licence: read('LICENSE').trim(),
    js: read('dist/uPlot.iife.min.js').trim(),
    css: read('dist/uPlot.min.css').trim(),
  }
  // Inlined as is, so nothing in them may end the element they sit in (or the licence comment).
  if (/<\/script|<!--/i.test(v.js) || /<\/style/i.test(v.css) || v.licence.includes('*/'))
    throw new Error(`uplot ${v.version}: its files cannot be inlined into a <script>/<style> as they are`)
  vendored = v
  return v
}

// --- HTML ---

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)
}

/**
 * JSON that can sit inside a `<script>` element: `<`, `>` and `&` as \u escapes (so neither
 * `</script>` nor `<!--` can appear), and the line separators U+2028/U+2029 too.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function formatNumber(v: unknown, digits = 0): string {
  const n = finite(v)
  return n === null ? '–' : n.toLocaleString('en-GB', { maximumFractionDigits: digits })
}

function formatDuration(ms: unknown): string {
  const n = finite(ms)
  if (n === null || n < 0) return '–'
  const minutes = Math.round(n / 60_000)
  const d = Math.floor(minutes / 1440)
  const h = Math.floor((minutes % 1440) / 60)
  const m = minutes % 60
  const parts = [d ? `${d} day${d === 1 ? '' : 's'}` : '', h ? `${h} h` : '', m ? `${m} min` : '']
  const text = parts.filter(Boolean).join(' ')
  return text || `${formatNumber(n / 1000, 3)} s`
}

/** Any value as text: JSON where it has one, else String() (a bigint, a cycle, undefined). */
function text(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

function isRange(v: unknown): v is { min: number; max: number } {
  if (typeof v !== 'object' || v === null) return false
  const keys = Object.keys(v)
  const r = v as Record<string, unknown>
  return keys.length === 2 && finite(r['min']) !== null && finite(r['max']) !== null
}

/** The habit parameters as rows: a {min, max} as "min – max", other objects by dotted key. */
function habitRows(habits: unknown, prefix = '', depth = 0): [string, string][] {
  if (typeof habits !== 'object' || habits === null) return []
  const rows: [string, string][] = []
  for (const [key, v] of Object.entries(habits)) {
    const name = prefix + key
    if (isRange(v)) rows.push([name, `${formatNumber(v.min, 3)} – ${formatNumber(v.max, 3)}`])
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && depth < 4)
      rows.push(...habitRows(v, `${name}.`, depth + 1))
    else if (typeof v === 'number') rows.push([name, formatNumber(v, 6)])
    else rows.push([name, typeof v === 'string' ? v : text(v)])
  }
  return rows
}

function summaryTable(runs: [string, RunReport][], failing: boolean): string {
  const households = failing ? 'the failing Supplier’s households' : 'prepayment households'
  if (runs.length === 0) return '<p class="none">The report has no runs.</p>'
  const rows = runs.map(([name, run], i) => {
    const t = run.topUps ?? ({} as RunReport['topUps'])
    return `<tr><th scope="row"><span class="swatch" style="background:${settingColour(i)}"></span>${escapeHtml(name)}</th>
<td class="text">${escapeHtml(run.description ?? '')}</td>
<td>${formatNumber(run.householdHoursOffSupply, 1)}</td><td>${formatNumber(run.householdsDisconnected)}</td>
<td>${formatNumber(run.householdsOffAtEnd)}</td><td>${formatNumber(run.othersHouseholdHoursOffSupply, 1)}</td><td>${formatNumber(t.attempts)}</td><td>${formatNumber(t.unanswered)}</td>
<td>${formatNumber(t.accepted)}</td><td>${formatNumber(t.rejected)}</td></tr>`
  })
  return `<div class="scroll"><table class="summary">
<thead><tr><th rowspan="2" class="text">setting</th><th rowspan="2" class="text">what it does</th>
<th colspan="3">${households}</th><th rowspan="2">other Suppliers’ household-hours off supply</th>
<th colspan="4">top-ups</th></tr>
<tr><th>household-hours off supply</th><th>disconnected</th><th>off at end</th>
<th>tried</th><th>unanswered</th><th>accepted</th><th>rejected</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`
}

/** The scenario parts' own counts (RunReport `metrics`), a column each, when there are any. */
function metricsTable(runs: [string, RunReport][]): string {
  const names = [...new Set(runs.flatMap(([, run]) => Object.keys(run.metrics ?? {})))]
  if (names.length === 0) return ''
  const rows = runs.map(
    ([name, run]) =>
      `<tr><th scope="row">${escapeHtml(name)}</th>${names.map((m) => `<td>${formatNumber(run.metrics?.[m])}</td>`).join('')}</tr>`,
  )
  return `<div class="scroll"><table class="metrics">
<thead><tr><th class="text">setting</th>${names.map((m) => `<th>${escapeHtml(m)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`
}

function expectationsSection(expectations: ExpectationResult[]): string {
  if (expectations.length === 0) return '<p class="none">The scenario states no expectations.</p>'
  const rows = expectations.map((e) => {
    const actual = Object.entries(e.actual ?? {})
      .map(([k, v]) => `<code>${escapeHtml(k)}</code> = ${formatNumber(v, 3)}`)
      .join(', ')
    return `<tr class="${e.ok ? 'pass' : 'fail'}"><td class="verdict">${e.ok ? 'pass' : 'FAIL'}</td>
<td class="text"><code>${escapeHtml(e.text)}</code></td><td class="text">${actual || '–'}</td></tr>`
  })
  return `<table class="expectations"><thead><tr><th>result</th><th class="text">expectation</th><th class="text">values compared</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`
}

/** The numbers behind a bar chart, as a table (readable without the chart, and when printed). */
function barTable(chart: BarChart, what: string): string {
  const head = chart.categories.map((c) => `<th>${escapeHtml(c)}</th>`).join('')
  const rows = chart.series.map(
    (s) =>
      `<tr><th scope="row" class="text"><span class="swatch" style="background:${s.color}"></span>${escapeHtml(s.label)}</th>${s.values
        .map((v) => `<td>${formatNumber(v)}</td>`)
        .join('')}</tr>`,
  )
  return `<details><summary>The numbers</summary><table class="counts"><thead><tr><th class="text">${what}</th>${head}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table></details>`
}

function chartSection(id: string, title: string, chart: unknown, none: string, extra = ''): string {
  const body =
    chart === null
      ? `<p class="none">${none}</p>`
      : `<div class="chart" id="chart-${id}" data-chart="${id}" role="img" aria-label="${escapeHtml(title)}"></div>${extra}`
  return `<section><h2>${escapeHtml(title)}</h2>\n${body}</section>`
}

const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; background: #fff;
  margin: 0 auto; padding: 1.5rem; max-width: 72rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d5dbe1; padding-bottom: .2rem; }
p.lead { margin: .25rem 0; color: #3b454f; overflow-wrap: anywhere; }
p.fleet, p.generated { margin: .25rem 0; color: #59636e; }
p.verdict { font-weight: 600; padding: .4rem .7rem; border-radius: 4px; display: inline-block; }
p.verdict.pass { background: #e3f4e8; color: #155724; }
p.verdict.fail { background: #fbe4e4; color: #8a1c1c; }
p.none { color: #59636e; font-style: italic; }
table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d5dbe1; padding: .3rem .6rem; text-align: right; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
th.text, td.text { text-align: left; overflow-wrap: anywhere; }
table.summary td.text { min-width: 10rem; }
table.summary thead th { font-size: .9em; }
th[colspan] { text-align: center; }
.scroll { overflow-x: auto; }
tbody th { text-align: left; white-space: nowrap; }
tr.pass td.verdict { color: #155724; font-weight: 600; }
tr.fail td.verdict { color: #8a1c1c; font-weight: 700; }
tr.fail { background: #fdf3f3; }
code { font: .92em ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em; border-radius: 2px; vertical-align: baseline; }
.chart { width: 100%; min-height: 2rem; }
.chart .error { color: #8a1c1c; }
details { margin: .5rem 0; }
summary { cursor: pointer; color: #3b454f; }
@media print { details { display: block; } .u-legend { font-size: 11px; } }
`

/**
 * What the page runs after uPlot: draws each chart from the embedded JSON and marks its container
 * `data-drawn="1"` in uPlot's draw hook. A chart that cannot be drawn says so in its place and on
 * the console (which the browser test fails on).
 */
const PAGE_SCRIPT = `
(function () {
  'use strict'
  var charts = JSON.parse(document.getElementById('report-charts').textContent)
  var HEIGHT = 320
  var incrs = []
  for (var m = 1; m < 1e12; m *= 10) incrs.push(m, 2 * m, 5 * m)
  var utc = function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') }
  var stamp = uPlot.fmtDate('{YYYY}-{MM}-{DD} {HH}:{mm} UTC')
  var day = uPlot.fmtDate('{D} {MMM}')
  var dayTime = uPlot.fmtDate('{D} {MMM} {HH}:{mm}')
  var time = uPlot.fmtDate('{HH}:{mm}')
  // Time ticks in UTC, day first: "5 Jan", then "06:00" within a day (the day again at midnight).
  var timeTicks = function (u, splits, ax, space, incr) {
    return splits.map(function (ts) {
      var d = utc(ts)
      if (incr >= 86400) return day(d)
      return d.getHours() === 0 && d.getMinutes() === 0 ? dayTime(d) : time(d)
    })
  }
  var width = function (el) { return Math.max(320, Math.floor(el.clientWidth || 800)) }
  var yRange = function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1] }
  var drawn = function (el) { return function (u) { if (u.ctx.canvas.width > 0) el.dataset.drawn = '1' } }
  var plots = []

  function lines(el, c) {
    var series = [{ label: 'time', value: function (u, v) { return v == null ? '--' : stamp(utc(v)) } }]
    c.series.forEach(function (s) {
      series.push({ label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: false } })
    })
    return new uPlot({
      width: width(el), height: HEIGHT, tzDate: utc,
      scales: { x: { time: true }, y: { range: yRange } },
      axes: [{ values: timeTicks }, { label: 'households off supply', size: 70, incrs: incrs }],
      series: series,
      hooks: { draw: [drawn(el)] },
    }, [c.x].concat(c.series.map(function (s) { return s.values })), el)
  }

  // One stacked bar per setting: part k is drawn as a bar from 0 to the sum of parts 0..k, the top
  // part first, so each later (shorter) bar covers the lower part of the one before.
  function stacked(el, c, yLabel) {
    var n = c.categories.length
    var x = c.categories.map(function (_, i) { return i })
    var sums = x.map(function () { return 0 })
    var tops = c.series.map(function (s) {
      return s.values.map(function (v, i) { sums[i] += v; return v > 0 ? sums[i] : null })
    })
    var order = c.series.map(function (_, k) { return k }).reverse()
    var bars = uPlot.paths.bars({ size: [0.6, 140], align: 0 })
    var series = [{ label: 'setting', value: function (u, v) { return v == null ? '--' : c.categories[v] } }]
    order.forEach(function (k) {
      var s = c.series[k]
      series.push({
        label: s.label, stroke: s.color, fill: s.color, width: 0, paths: bars, points: { show: false },
        value: function (u, v, si, i) { return i == null ? '--' : String(s.values[i]) },
      })
    })
    return new uPlot({
      width: width(el), height: HEIGHT,
      scales: { x: { time: false, range: [-0.5, n - 0.5] }, y: { range: yRange } },
      axes: [
        { splits: function () { return x }, values: function (u, splits) {
          return splits.map(function (i) { return c.categories[i] == null ? '' : c.categories[i] }) }, grid: { show: false } },
        { label: yLabel, size: 70, incrs: incrs },
      ],
      series: series,
      hooks: { draw: [drawn(el)] },
    }, [x].concat(order.map(function (k) { return tops[k] })), el)
  }

  function draw(id, make) {
    var el = document.getElementById('chart-' + id)
    if (!el) return
    try {
      plots.push({ el: el, u: make(el) })
    } catch (e) {
      var p = document.createElement('p')
      p.className = 'error'
      p.textContent = 'This chart could not be drawn: ' + (e && e.message ? e.message : String(e))
      el.replaceChildren(p)
      console.error('chart ' + id + ':', e)
    }
  }

  draw('off-supply', function (el) { return lines(el, charts.offSupply) })
  draw('commands', function (el) { return stacked(el, charts.commands, 'Service Requests') })
  draw('alerts', function (el) { return stacked(el, charts.alerts, 'alerts') })

  var pending = false
  window.addEventListener('resize', function () {
    if (pending) return
    pending = true
    requestAnimationFrame(function () {
      pending = false
      plots.forEach(function (p) { p.u.setSize({ width: width(p.el), height: HEIGHT }) })
    })
  })
})()
`

/**
 * The report as one HTML document (pure but for reading uPlot once per process): the same report
 * gives the same page.
 */
export function renderHtmlReport(report: ScenarioReport): string {
  const lib = uplot()
  const runs = Object.entries(report.runs ?? {})
  const charts = reportCharts(report)
  const expectations = Array.isArray(report.expectations) ? report.expectations : []
  const failed = expectations.filter((e) => !e.ok).length
  const name = report.scenario?.name ?? ''
  const fleet = report.fleet ?? ({} as ScenarioReport['fleet'])
  const habits = habitRows(report.habits)

  const verdict =
    expectations.length === 0
      ? ''
      : `<p class="verdict ${failed ? 'fail' : 'pass'}">${
          failed
            ? `${failed} of ${expectations.length} expectations failed`
            : `All ${expectations.length} expectations met`
        }</p>`

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="generator" content="smetsim scenario report">
<title>Scenario ${escapeHtml(name)}</title>
<style>
${lib.css}
${CSS}
</style>
</head>
<body>
<header>
<h1>Scenario ${escapeHtml(name)}</h1>
<p class="lead">${escapeHtml(report.scenario?.description ?? '')}</p>
<p class="fleet">Fleet: ${formatNumber(fleet.premises)} premises (${formatNumber(fleet.prepaymentHouseholds)} prepayment households),
seed <code>${escapeHtml(fleet.seed)}</code>, start ${escapeHtml(fleet.start)}; each setting run for ${formatDuration(report.durationMs)} of virtual time.</p>
${
  report.failedSupplier
    ? `<p class="fleet">Failing Supplier: ${escapeHtml(report.failedSupplier.name)}, with ${formatNumber(report.failedSupplier.prepaymentHouseholds)} prepayment households: the households the figures and the off-supply chart count.</p>`
    : '<p class="fleet">No Supplier fails: the figures and the off-supply chart count every prepayment household.</p>'
}
<p class="fleet">Run in ${report.mode?.time === 'real' ? `real time, virtual time ${formatNumber(report.mode.speed)}× the wall clock` : 'virtual time'}; WAN: ${escapeHtml(report.mode?.wan ?? 'in-process')}.</p>
<p class="generated">Generated ${escapeHtml(report.generatedAt)}.</p>
${verdict}
</header>
<section><h2>Control settings</h2>
${summaryTable(runs, report.failedSupplier !== undefined)}
${metricsTable(runs)}
</section>
<section><h2>Expectations</h2>
${expectationsSection(expectations)}
</section>
${chartSection('off-supply', 'Households off supply over time', charts.offSupply, 'No setting sampled households off supply, so there is no chart.')}
${chartSection(
  'commands',
  'Commands by outcome (SRV and DUIS response code)',
  charts.commands,
  'No setting sent any Service Request, so there is no chart.',
  charts.commands ? barTable(charts.commands, 'SRV, response code') : '',
)}
${chartSection(
  'alerts',
  'Alerts per supplier',
  charts.alerts,
  'No setting had any alert reach the DCC, so there is no chart.',
  charts.alerts ? barTable(charts.alerts, 'alerts for') : '',
)}
<section><h2>Top-up habits</h2>
${
  habits.length
    ? `<table class="habits"><tbody>${habits
        .map(
          ([k, v]) =>
            `<tr><th scope="row"><code>${escapeHtml(k)}</code></th><td class="text">${escapeHtml(v)}</td></tr>`,
        )
        .join('\n')}</tbody></table>`
    : '<p class="none">The report names no habit parameters.</p>'
}
</section>
<script type="application/json" id="report-charts">${scriptJson(charts)}</script>
<script>
/* uPlot ${lib.version}, inlined from its npm package under its licence:

${lib.licence}
*/
${lib.js}
</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`
}

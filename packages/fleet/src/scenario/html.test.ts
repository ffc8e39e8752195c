import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import puppeteer, { type Browser } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { escapeHtml, renderHtmlReport, reportCharts, scriptJson } from './html.ts'
import type { RunReport, ScenarioReport } from './report.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/**
 * Households off supply, sampled hourly for 30 days: none until the supplier fails on day 3, then
 * rising as credit runs out towards `peak` (with a daily swing: households top up by day), and
 * falling with `recoveryDays` once the SoLR is at work from day 12.
 */
function offSupply(peak: number, recoveryDays: number): number[] {
  const out: number[] = []
  for (let i = 0; i <= 30 * 24; i++) {
    const day = i / 24
    if (day < 3) {
      out.push(0)
      continue
    }
    const rise = 1 - Math.exp(-(day - 3) / 3)
    const fall = Math.exp(-Math.max(0, day - 12) / recoveryDays)
    const swing = 0.15 * Math.sin((Math.PI * (i % 24)) / 24) ** 2
    out.push(Math.round(peak * rise * fall * (1 - swing)))
  }
  return out
}

function run(
  description: string,
  peak: number,
  recoveryDays: number,
  commands: RunReport['commands'],
  alerts: RunReport['alerts'],
): RunReport {
  const series = offSupply(peak, recoveryDays)
  const attempts = 540 * 4
  const unanswered = Math.round(peak * 3.1)
  return {
    description,
    householdHoursOffSupply: series.reduce((a, b) => a + b, 0),
    householdsDisconnected: Math.round(peak * 1.25),
    householdsOffAtEnd: series.at(-1) ?? 0,
    series: { intervalMs: HOUR, offSupply: series },
    othersHouseholdHoursOffSupply: Math.round(peak * 2.5),
    commands,
    alerts,
    topUps: { attempts, unanswered, accepted: attempts - unanswered - 7, rejected: 7 },
    metrics: {},
  }
}

/** A report as the built-in `solr-disorderly-exit` scenario gives one, four control settings. */
function fixture(): ScenarioReport {
  const runs: ScenarioReport['runs'] = {
    baseline: run(
      'No control: the failed supplier’s meters stay in prepayment until the SoLR sends SR 6.23.',
      140,
      9,
      { '6.23': { I0: 310, E4: 45 }, '7.4': { I0: 520, E21: 38 } },
      { 'Supplier A': 1240, 'Supplier B': 310, 'Network Operator': 120 },
    ),
    mp134a: run(
      'MP134A: an SRP in the SoLR Contingency role sends SR 1.6 to prepayment meters.',
      85,
      7,
      { '1.6': { I0: 260, E4: 22, E21: 14 }, '6.23': { I0: 330, E4: 25 }, '7.4': { I0: 500, E21: 30 } },
      { 'Supplier A': 980, 'Supplier B': 330, 'Network Operator': 118 },
    ),
    'mp134a+mp185': run(
      'MP134A with MP185: the MPID transfer is not delayed by the Panel.',
      48,
      5,
      { '1.6': { I0: 275, E21: 9 }, '6.23': { I0: 470, I99: 30 }, '7.4': { I0: 480, E21: 25 } },
      { 'Supplier A': 450, 'Supplier B': 520, 'Network Operator': 117 },
    ),
    mp134b: run(
      'MP134B: the DCC keeps the failed supplier’s credentials usable by the SoLR.',
      14,
      3,
      { '6.23': { I0: 530, I99: 12 }, '7.4': { I0: 470, E21: 20 } },
      { 'Supplier A': 210, 'Supplier B': 640, 'Network Operator': 121 },
    ),
  }
  const r = (name: string) => runs[name] as RunReport
  const expect = (text: string, values: Record<string, number>, ok: (v: number[]) => boolean) => ({
    text,
    ok: ok(Object.values(values)),
    actual: values,
  })
  return {
    version: 1,
    scenario: {
      name: 'solr-disorderly-exit',
      description: 'A small supplier with a 30 % prepayment book fails in winter; a SoLR is appointed.',
    },
    generatedAt: '2026-12-07T17:00:00.000Z',
    fleet: { premises: 2000, seed: 'north', start: '2026-01-05T00:00:00Z', prepaymentHouseholds: 540 },
    failedSupplier: { name: 'Supplier A', prepaymentHouseholds: 360 },
    mode: { time: 'virtual', wan: 'in-process' },
    durationMs: 30 * DAY,
    habits: {
      everyDays: { min: 3, max: 14 },
      amountPounds: { min: 10, max: 30 },
      noAnswerDays: { min: 1, max: 5 },
      pressesButtonWhenArmed: 0.9,
    },
    runs,
    expectations: [
      expect(
        'mp134b.householdsDisconnected <= baseline.householdsDisconnected',
        {
          'mp134b.householdsDisconnected': r('mp134b').householdsDisconnected,
          'baseline.householdsDisconnected': r('baseline').householdsDisconnected,
        },
        ([a, b]) => (a as number) <= (b as number),
      ),
      expect(
        'mp134a+mp185.householdHoursOffSupply < mp134a.householdHoursOffSupply',
        {
          'mp134a+mp185.householdHoursOffSupply': r('mp134a+mp185').householdHoursOffSupply,
          'mp134a.householdHoursOffSupply': r('mp134a').householdHoursOffSupply,
        },
        ([a, b]) => (a as number) < (b as number),
      ),
      expect(
        'baseline.householdsOffAtEnd == 0',
        { 'baseline.householdsOffAtEnd': r('baseline').householdsOffAtEnd },
        ([a]) => a === 0,
      ),
    ],
  }
}

const HOSTILE = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">&amp;\'"'

/** The fixture with a hostile string in every name the HTML shows. */
function hostile(): ScenarioReport {
  const base = fixture()
  const runs: ScenarioReport['runs'] = {}
  for (const [name, r] of Object.entries(base.runs))
    runs[`${name}${HOSTILE}`] = {
      ...r,
      description: HOSTILE,
      alerts: { [`Supplier ${HOSTILE}`]: 5, ...r.alerts },
      commands: { ...r.commands, [HOSTILE]: { [HOSTILE]: 3 } },
      metrics: { [HOSTILE]: 7 },
    }
  return {
    ...base,
    scenario: { name: `x${HOSTILE}`, description: HOSTILE },
    fleet: { ...base.fleet, seed: HOSTILE },
    failedSupplier: { name: HOSTILE, prepaymentHouseholds: 360 },
    generatedAt: HOSTILE,
    mode: { time: 'real', speed: 720, wan: HOSTILE },
    habits: { ...base.habits, [HOSTILE]: HOSTILE },
    runs,
    expectations: base.expectations.map((e) => ({ ...e, text: e.text + HOSTILE, actual: { [HOSTILE]: 1 } })),
  }
}

/** The fixture with no commands and no alerts in any setting. */
function quiet(): ScenarioReport {
  const base = fixture()
  const runs: ScenarioReport['runs'] = {}
  for (const [name, r] of Object.entries(base.runs)) runs[name] = { ...r, commands: {}, alerts: {} }
  return { ...base, runs }
}

/** The page's markup with the contents of its script and style elements taken out. */
function markup(html: string): string {
  return html.replace(/(<(script|style)\b[^>]*>)[\s\S]*?(<\/\2>)/gi, '$1$3')
}

describe('renderHtmlReport', () => {
  it('shows every name from the report as text, never as markup', () => {
    const html = renderHtmlReport(hostile())
    const tags = markup(html)
    // Only the page's own three scripts and no element the hostile names carry.
    expect(tags.match(/<script\b/gi)).toHaveLength(3)
    expect(html.match(/<\/script/gi)).toHaveLength(3)
    expect(tags).not.toMatch(/<img\b/i)
    expect(tags).not.toMatch(/<[a-z][^>]*\sonerror\s*=/i)
    expect(tags).toContain(escapeHtml(`x${HOSTILE}`))
    expect(escapeHtml(HOSTILE)).toBe(
      '&lt;/script&gt;&lt;script&gt;window.pwned = 1&lt;/script&gt;&lt;img src=x onerror=&quot;window.pwned = 2&quot;&gt;&amp;amp;&#39;&quot;',
    )
  })

  it('shows the parts’ metrics and how it ran, and what it counts when no Supplier fails', () => {
    const base = fixture()
    const runs: ScenarioReport['runs'] = {}
    for (const [name, r] of Object.entries(base.runs))
      runs[name] = { ...r, metrics: { premisesChanged: 12, readsAnswered: 1408 } }
    const { failedSupplier: _, ...rest } = base
    const html = markup(
      renderHtmlReport({ ...rest, mode: { time: 'real', speed: 720, wan: 'embedded-broker' }, runs }),
    )
    expect(html).toMatch(/<table class="metrics">[\s\S]*<th>premisesChanged<\/th><th>readsAnswered<\/th>/)
    expect(html).toMatch(/<th scope="row">mp134b<\/th><td>12<\/td><td>1,408<\/td>/)
    expect(html).toContain(
      'No Supplier fails: the figures and the off-supply chart count every prepayment household.',
    )
    expect(html).toContain('Run in real time, virtual time 720× the wall clock; WAN: embedded-broker.')
    // The fixture as it is: a failing Supplier, virtual time, no metrics table.
    const plain = markup(renderHtmlReport(base))
    expect(plain).toContain('Failing Supplier: Supplier A')
    expect(plain).toContain('Run in virtual time; WAN: in-process.')
    expect(plain).not.toContain('class="metrics"')
  })

  it('embeds the charts as JSON that no name can break out of', () => {
    const report = hostile()
    const html = renderHtmlReport(report)
    const data = /<script type="application\/json" id="report-charts">([\s\S]*?)<\/script>/.exec(html)?.[1]
    expect(data).toBeDefined()
    expect(data).not.toMatch(/[<>&]/)
    expect(JSON.parse(data as string)).toEqual(reportCharts(report))
    expect(scriptJson({ a: '</script><!--\u2028&' })).toBe(
      '{"a":"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}',
    )
    expect(JSON.parse(scriptJson({ a: '</script><!--\u2028&' }))).toEqual({ a: '</script><!--\u2028&' })
  })

  it('refers to nothing on the network: no src, href or url() at all, and no URL but uPlot’s own in its licence comment', () => {
    const html = renderHtmlReport(fixture())
    const tags = markup(html)
    expect(tags).not.toMatch(/<[a-z][^>]*\s(src|href|srcset|action|poster|data|formaction)\s*=/i)
    expect(html).not.toMatch(/url\s*\(|@import/i)
    expect(html.match(/https?:\/\/[^\s)"'*]*/g)).toEqual(['https://github.com/leeoniya/uPlot'])
    expect(html).toContain('/*! https://github.com/leeoniya/uPlot (v')
    expect(html).toContain('The MIT License (MIT)')
    expect(tags).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`)
  })

  it('draws a chart for every kind of data the fixture has, and says so where a report has none', () => {
    const full = renderHtmlReport(fixture())
    for (const id of ['off-supply', 'commands', 'alerts']) expect(full).toContain(`id="chart-${id}"`)
    const html = renderHtmlReport(quiet())
    expect(html).toContain('id="chart-off-supply"')
    expect(html).not.toContain('id="chart-commands"')
    expect(html).not.toContain('id="chart-alerts"')
    expect(html).toContain('No setting sent any Service Request, so there is no chart.')
    expect(html).toContain('No setting had any alert reach the DCC, so there is no chart.')
  })

  it('colours a command outcome by its DUIS code class: I green, E red', () => {
    const rgb = (hex: string) =>
      [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]
    for (const s of reportCharts(fixture()).commands!.series) {
      const [r, g] = rgb(s.color)
      if (/ I\d+$/.test(s.label)) expect(g, s.label).toBeGreaterThan(r)
      if (/ E\d+$/.test(s.label)) expect(r, s.label).toBeGreaterThan(g)
    }
  })

  it('lays the data out as the charts draw it', () => {
    const report = fixture()
    const charts = reportCharts(report)
    const off = charts.offSupply!
    expect(off.series.map((s) => s.label)).toEqual(['baseline', 'mp134a', 'mp134a+mp185', 'mp134b'])
    expect(off.x).toHaveLength(721)
    expect(off.x[0]).toBe(Date.parse('2026-01-05T00:00:00Z') / 1000)
    expect(off.x[1]! - off.x[0]!).toBe(3600)
    expect(off.series[0]!.values).toEqual(report.runs['baseline']!.series.offSupply)
    const commands = charts.commands!
    expect(commands.categories).toEqual(['baseline', 'mp134a', 'mp134a+mp185', 'mp134b'])
    expect(commands.series.map((s) => s.label)).toEqual([
      'SR 1.6 I0',
      'SR 1.6 E4',
      'SR 1.6 E21',
      'SR 6.23 I0',
      'SR 6.23 I99',
      'SR 6.23 E4',
      'SR 7.4 I0',
      'SR 7.4 E21',
    ])
    expect(commands.series[0]!.values).toEqual([0, 260, 275, 0])
    const alerts = charts.alerts!
    expect(alerts.series.map((s) => s.label)).toEqual(['Supplier A', 'Supplier B', 'Network Operator'])
    expect(alerts.series[1]!.values).toEqual([310, 330, 520, 640])
    const colours = [...off.series, ...commands.series].map((s) => s.color)
    for (const c of colours) expect(c).toMatch(/^#[0-9a-f]{6}$/i)
    expect(new Set(commands.series.map((s) => s.color)).size).toBe(commands.series.length)
  })

  it('puts settings sampled at different intervals on one time axis', () => {
    const report = fixture()
    report.runs['mp134b'] = {
      ...report.runs['mp134b']!,
      series: { intervalMs: 2 * HOUR, offSupply: [1, 2, 3] },
    }
    const off = reportCharts(report).offSupply!
    expect(off.x).toHaveLength(721)
    expect(off.series[3]!.values.slice(0, 5)).toEqual([1, null, 2, null, 3])
    expect(off.series[3]!.values.slice(5).every((v) => v === null)).toBe(true)
  })

  it('gives the same page for the same report', () => {
    expect(renderHtmlReport(fixture())).toBe(renderHtmlReport(fixture()))
  })

  it('survives values a report should not have', () => {
    const report = fixture()
    const bad = report.runs['baseline'] as unknown as Record<string, unknown>
    bad['series'] = { intervalMs: -1, offSupply: [Number.NaN] }
    bad['commands'] = { '1.6': { I0: Number.NaN, E4: -3 } }
    bad['householdHoursOffSupply'] = Number.POSITIVE_INFINITY
    bad['topUps'] = undefined
    report.habits = { big: 1n, nested: { a: { b: { c: { d: { e: 1 } } } } } }
    const html = renderHtmlReport(report)
    expect(html).toContain('<code>big</code>')
    const charts = reportCharts(report)
    expect(charts.offSupply!.series[0]!.values.every((v) => v === null)).toBe(true)
    expect(charts.commands!.series.find((s) => s.label === 'SR 1.6 I0')?.values[0]).toBe(0)
  })
})

/** The system Chromium: the first of `chromium`, `chromium-browser` on PATH, else /usr/bin/chromium. */
function findChromium(): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)
  for (const name of ['chromium', 'chromium-browser'])
    for (const dir of dirs) {
      const file = join(dir, name)
      try {
        accessSync(file, constants.X_OK)
        if (statSync(file).isFile()) return file
      } catch {}
    }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined
}

const chromium = findChromium()
/** CI set to anything but empty, `false` or `0` (CI services set `CI=true`). */
const inCi = !['', 'false', '0'].includes(process.env['CI'] ?? '')
if (!chromium && !inCi)
  console.warn(
    'html.test.ts: no Chromium found (chromium, chromium-browser, /usr/bin/chromium): browser check skipped',
  )

interface ChartState {
  id: string
  drawn: string | null
  width: number
  height: number
  /** Pixels that are not fully transparent. */
  painted: number
  /** Opaque, saturated pixels: the series' colours, not the grey axes and grid. */
  coloured: number
  /** For each colour asked about, how many pixels have about that colour. */
  matches: number[]
}

/** Evaluated in the page: every chart container's state and what its canvas holds. */
const INSPECT = (colours: string[]) => `(() => {
  const want = ${JSON.stringify(colours)}.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)))
  return [...document.querySelectorAll('[data-chart]')].map((el) => {
    const canvas = el.querySelector('canvas')
    const state = { id: el.id, drawn: el.getAttribute('data-drawn'), width: 0, height: 0, painted: 0, coloured: 0, matches: want.map(() => 0) }
    if (!canvas) return state
    state.width = canvas.width
    state.height = canvas.height
    if (!canvas.width || !canvas.height) return state
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue
      state.painted++
      if (d[i + 3] < 200) continue
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) state.coloured++
      want.forEach(([r, g, b], k) => {
        if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 24) state.matches[k]++
      })
    }
    return state
  })
})()`

// In CI the browser check must run: no Chromium there is a failed test, not a skipped one.
if (!chromium && inCi)
  it('finds the system Chromium (CI)', () => {
    throw new Error(
      'CI is set but no Chromium was found (chromium or chromium-browser on PATH, /usr/bin/chromium): .ci/run installs it with apt-get',
    )
  })

describe.skipIf(!chromium)('the report in headless Chromium', () => {
  let browser: Browser | undefined
  let dir: string | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smetsim-report-'))
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    })
  }, 15_000)

  afterAll(async () => {
    await browser?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** The report written to a file and opened from it, with every non-file request refused and counted. */
  async function open(report: ScenarioReport, name: string) {
    const file = join(dir as string, `${name}.html`)
    writeFileSync(file, renderHtmlReport(report))
    const page = await (browser as Browser).newPage()
    await page.setViewport({ width: 1200, height: 900 })
    const network: string[] = []
    const errors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`)
    })
    page.on('pageerror', (e) => errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`))
    await page.setRequestInterception(true)
    page.on('request', (req) => {
      if (req.url().startsWith('file:')) void req.continue()
      else {
        network.push(req.url())
        void req.abort()
      }
    })
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })
    const expected = await page.evaluate(`document.querySelectorAll('[data-chart]').length`)
    // Every chart drawn, or give up after 5 s and let the assertions say which did not.
    await page
      .waitForFunction(
        `[...document.querySelectorAll('[data-chart]')].every((el) => el.dataset.drawn === '1')`,
        {
          timeout: 5_000,
        },
      )
      .catch(() => {})
    return { page, network, errors, expected: expected as number }
  }

  it('draws every chart from the file with no network and no errors', async () => {
    const report = fixture()
    const charts = reportCharts(report)
    const lines = charts.offSupply!.series.map((s) => s.color)
    const { page, network, errors } = await open(report, 'full')
    const states = (await page.evaluate(INSPECT(lines))) as ChartState[]
    expect(network).toEqual([])
    expect(errors).toEqual([])
    expect(states.map((s) => s.id)).toEqual(['chart-off-supply', 'chart-commands', 'chart-alerts'])
    for (const s of states) {
      expect(s.drawn, s.id).toBe('1')
      expect(s.width, s.id).toBeGreaterThan(0)
      expect(s.height, s.id).toBeGreaterThan(0)
      expect(s.painted, s.id).toBeGreaterThan(0)
      expect(s.coloured, s.id).toBeGreaterThan(100)
    }
    // Each setting's line is on the canvas in its colour.
    const off = states[0] as ChartState
    for (const [k, n] of off.matches.entries()) expect(n, `line of ${lines[k]}`).toBeGreaterThan(20)
    // The page's text is the report's.
    expect(await page.evaluate(`document.querySelector('h1').textContent`)).toBe(
      'Scenario solr-disorderly-exit',
    )
    expect(await page.evaluate(`document.querySelectorAll('tr.fail').length`)).toBe(1)
    await page.close()
  })

  it('shows hostile names as text and runs none of them', async () => {
    const report = hostile()
    const { page, network, errors, expected } = await open(report, 'hostile')
    expect(network).toEqual([])
    expect(errors).toEqual([])
    expect(await page.evaluate('window.pwned')).toBeUndefined()
    expect(await page.evaluate('document.querySelectorAll("img").length')).toBe(0)
    expect(await page.evaluate(`document.querySelector('h1').textContent`)).toBe(`Scenario x${HOSTILE}`)
    const states = (await page.evaluate(INSPECT([]))) as ChartState[]
    expect(states).toHaveLength(expected)
    expect(states.map((s) => s.drawn)).toEqual(['1', '1', '1'])
    // uPlot's legend has the names as text too.
    const legend = (await page.evaluate(
      `[...document.querySelectorAll('#chart-alerts .u-legend .u-label')].map((e) => e.textContent)`,
    )) as string[]
    expect(legend).toContain(`Supplier ${HOSTILE}`)
    await page.close()
  })

  it('says so instead of drawing a chart with no data', async () => {
    const { page, network, errors } = await open(quiet(), 'quiet')
    expect(network).toEqual([])
    expect(errors).toEqual([])
    const states = (await page.evaluate(INSPECT([]))) as ChartState[]
    expect(states.map((s) => [s.id, s.drawn])).toEqual([['chart-off-supply', '1']])
    const text = (await page.evaluate('document.body.innerText')) as string
    expect(text).toContain('No setting sent any Service Request, so there is no chart.')
    expect(text).toContain('No setting had any alert reach the DCC, so there is no chart.')
    await page.close()
  })
})

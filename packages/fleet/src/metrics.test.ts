/**
 * The metrics: counters from DUIS answers, percentiles over a bounded window, the JSON line, and
 * the Prometheus text exposition read back by a strict parser of the format (every line a
 * comment of HELP/TYPE or a sample `name{labels} value`, every sample's family declared first).
 */
import { describe, expect, it } from 'vitest'
import {
  createMetrics,
  type FleetGauges,
  jsonLine,
  LATENCY_WINDOW,
  percentile,
  recordLatency,
  recordRequest,
  snapshotMetrics,
  withHouseholds,
} from './metrics.ts'
import { fleetPrometheus } from './prometheus.ts'

const GAUGES: FleetGauges = {
  now: '2026-01-05T00:00:00.000Z',
  premises: 20,
  shard: '2/2',
  hubs: 10,
  hubsConnected: 9,
  devices: 18,
  supply: { enabled: 15, disabled: 2, armed: 1 },
  hubDrops: { malformed: 3 },
  hubTraffic: { commands: 7, responses: 5, alerts: 4 },
}

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The text exposition format 0.0.4, strictly: anything else fails the test. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const samples: Sample[] = []
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  const sample = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`)
  const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/
  for (const line of text.split('\n')) {
    if (line === '') continue
    const help = line.match(new RegExp(`^# HELP (${NAME}) .+$`))
    if (help) {
      helps.add(help[1]!)
      continue
    }
    const type = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`))
    if (type) {
      types.set(type[1]!, type[2]!)
      continue
    }
    const m = line.match(sample)
    if (!m) throw new Error(`not an exposition line: ${line}`)
    const [, name, labelText, value] = m
    if (!types.has(name!) || !helps.has(name!)) throw new Error(`sample before its HELP/TYPE: ${line}`)
    const labels: Record<string, string> = {}
    for (const part of labelText ? labelText.split(',') : []) {
      const l = part.match(label)
      if (!l) throw new Error(`bad label ${part} in ${line}`)
      labels[l[1]!] = l[2]!
    }
    const v = Number(value)
    if (Number.isNaN(v)) throw new Error(`bad value in ${line}`)
    samples.push({ name: name!, labels, value: v })
  }
  return { types, samples }
}

const sampleValue = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

describe('fleet metrics', () => {
  it('counts answers and refusals by DUIS code', () => {
    const m = createMetrics()
    recordRequest(m, { code: 'I0' }, 3)
    recordRequest(m, { code: 'I99' }, 4)
    recordRequest(m, { code: 'E4', reason: 'not registered' }, 1)
    recordRequest(m, { code: 'E4' }, 1)
    recordRequest(m, { code: 'E21' }, 2)
    expect(m).toMatchObject({ requests: 5, answered: 2, rejections: { E4: 2, E21: 1 } })
  })

  it('gives nearest-rank percentiles over the last LATENCY_WINDOW samples only, and ignores nonsense', () => {
    const m = createMetrics()
    expect(percentile(m, 50)).toBeUndefined()
    for (let i = 1; i <= 100; i++) recordLatency(m, i)
    expect([percentile(m, 50), percentile(m, 90), percentile(m, 99), percentile(m, 100)]).toEqual([
      50, 90, 99, 100,
    ])
    recordLatency(m, Number.NaN)
    recordLatency(m, -1)
    expect(m.latency.count).toBe(100)
    for (let i = 0; i < LATENCY_WINDOW; i++) recordLatency(m, 1000)
    expect(m.latency.samples).toHaveLength(LATENCY_WINDOW)
    expect(percentile(m, 1)).toBe(1000) // the first hundred have gone round the ring
  })

  it('snapshots as one JSON line with the gauges', () => {
    const m = createMetrics()
    recordRequest(m, { code: 'I0' }, 7)
    const line = jsonLine(snapshotMetrics(m, GAUGES))
    expect(line.endsWith('\n')).toBe(true)
    expect(line.trimEnd()).not.toContain('\n')
    expect(JSON.parse(line)).toMatchObject({
      premises: 20,
      requests: 1,
      supply: { disabled: 2 },
      latencyMs: { p50: 7, p99: 7, window: 1 },
    })
    expect(snapshotMetrics(createMetrics(), GAUGES)).not.toHaveProperty('latencyMs')
  })

  it('exposes every counter and gauge in the Prometheus text format, read back as written', async () => {
    const m = createMetrics()
    recordRequest(m, { code: 'I0' }, 5)
    recordRequest(m, { code: 'E4' }, 1)
    m.commands = 3
    m.responses = 2
    m.alerts = 4
    m.alertsDelivered = 3
    m.alertsUndelivered = 1
    const prom = fleetPrometheus(() => snapshotMetrics(m, GAUGES))
    expect(prom.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    const { types, samples } = parseExposition(await prom.text())
    expect(types.get('smetsim_service_requests_total')).toBe('counter')
    expect(types.get('smetsim_supply')).toBe('gauge')
    expect(sampleValue(samples, 'smetsim_service_requests_total')).toBe(2)
    expect(sampleValue(samples, 'smetsim_service_requests_answered_total')).toBe(1)
    expect(sampleValue(samples, 'smetsim_rejections_total', { code: 'E4' })).toBe(1)
    expect(sampleValue(samples, 'smetsim_commands_total')).toBe(3)
    expect(sampleValue(samples, 'smetsim_responses_total')).toBe(2)
    expect(sampleValue(samples, 'smetsim_alerts_total')).toBe(4)
    expect(sampleValue(samples, 'smetsim_alerts_undelivered_total')).toBe(1)
    expect(sampleValue(samples, 'smetsim_hub_drops_total', { reason: 'malformed' })).toBe(3)
    expect(sampleValue(samples, 'smetsim_supply', { state: 'armed' })).toBe(1)
    expect(sampleValue(samples, 'smetsim_hubs_connected')).toBe(9)
    expect(sampleValue(samples, 'smetsim_hubs')).toBe(10)
    expect(sampleValue(samples, 'smetsim_hub_commands_total')).toBe(7)
    expect(sampleValue(samples, 'smetsim_hub_responses_total')).toBe(5)
    expect(sampleValue(samples, 'smetsim_hub_alerts_total')).toBe(4)
    expect(sampleValue(samples, 'smetsim_virtual_time_seconds')).toBe(Date.parse(GAUGES.now) / 1000)
    expect(sampleValue(samples, 'smetsim_service_request_latency_ms', { quantile: '0.99' })).toBe(5)

    // A second scrape reads the counters as they are then, not as they were.
    recordRequest(m, { code: 'E4' }, 1)
    const again = parseExposition(await prom.text()).samples
    expect(sampleValue(again, 'smetsim_service_requests_total')).toBe(3)
    expect(sampleValue(again, 'smetsim_rejections_total', { code: 'E4' })).toBe(2)
  })

  it("exposes the households' top-ups when the snapshot has them (withHouseholds), zero when not", async () => {
    const m = createMetrics()
    const stats = {
      attempts: 5,
      unanswered: 1,
      utrnsTyped: 6,
      utrnsAccepted: 4,
      refused: { '8F63': 2 },
      buttonPresses: 3,
    }
    const read = (h: boolean) =>
      h ? withHouseholds(snapshotMetrics(m, GAUGES), stats) : snapshotMetrics(m, GAUGES)
    const { types, samples } = parseExposition(await fleetPrometheus(() => read(true)).text())
    expect(types.get('smetsim_household_topups_total')).toBe('counter')
    expect(sampleValue(samples, 'smetsim_household_topups_total')).toBe(5)
    expect(sampleValue(samples, 'smetsim_household_topups_unanswered_total')).toBe(1)
    expect(sampleValue(samples, 'smetsim_household_utrns_typed_total')).toBe(6)
    expect(sampleValue(samples, 'smetsim_household_utrns_accepted_total')).toBe(4)
    expect(sampleValue(samples, 'smetsim_household_utrns_refused_total', { code: '8F63' })).toBe(2)
    expect(sampleValue(samples, 'smetsim_household_button_presses_total')).toBe(3)
    const none = parseExposition(await fleetPrometheus(() => read(false)).text()).samples
    expect(sampleValue(none, 'smetsim_household_topups_total')).toBe(0)
    // The snapshot keeps the counts as they were when it was taken.
    const taken = withHouseholds(snapshotMetrics(m, GAUGES), stats)
    stats.attempts++
    stats.refused['8F63']++
    expect(taken.households).toMatchObject({ attempts: 5, refused: { '8F63': 2 } })
  })

  it('the test parser refuses what is not the format', () => {
    expect(() => parseExposition('smetsim_x 1\n')).toThrow(/before its HELP/)
    expect(() => parseExposition('# TYPE a counter\n# HELP a h\na{b=c} 1\n')).toThrow(/bad label/)
    expect(() => parseExposition('what is this\n')).toThrow(/not an exposition line/)
  })
})

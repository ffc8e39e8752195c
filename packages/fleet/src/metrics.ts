/**
 * A running fleet's counters, as pure data: Service Requests and their DUIS answers, commands the
 * DCC sent down the WAN and the responses that came back, device alerts and what the DCC did
 * with them, refusals counted by DUIS response code, and the latency of Service Requests as
 * percentiles over a bounded window. The runner (run.ts) feeds it; `snapshotMetrics` gives a
 * plain-JSON view, `jsonLine` one line of it, `prometheusText` (prometheus.ts) the exposition.
 *
 * Bounded whatever a caller sends: refusals are keyed by response code, which comes from the DCC
 * (a fixed DUIS set), the latency window keeps the last `LATENCY_WINDOW` samples.
 */
import type { DuisResult } from '@smetsim/dcc'
import type { HouseholdStats } from './households.ts'

/** Latency samples kept for the percentiles (a ring: the oldest is overwritten). */
export const LATENCY_WINDOW = 1024

/** DUIS codes that are not refusals: I0 (success) and I99 (acknowledged, more to come). */
const ANSWERED = new Set(['I0', 'I99'])

export interface FleetMetrics {
  /** Service Requests submitted to the DCC through the runner. */
  requests: number
  /** …answered I0 or I99. */
  answered: number
  /** …refused or failed, by DUIS response code (E4, E21, …). */
  rejections: Record<string, number>
  /** GBCS commands the DCC handed to the WAN (transport calls). */
  commands: number
  /** …that came back with a response. */
  responses: number
  /** Alerts that came up the WAN (devices, CHFs, GPFs). */
  alerts: number
  /** …delivered by the DCC to a User. */
  alertsDelivered: number
  /** …the DCC could not deliver (undecodable, nobody to go to, blocked). */
  alertsUndelivered: number
  /** Faults: a transport that threw, a submit that threw (neither should happen). */
  errors: number
  /** Service Request latency, wall ms, last LATENCY_WINDOW samples (a ring). */
  latency: { samples: number[]; next: number; count: number }
}

export function createMetrics(): FleetMetrics {
  return {
    requests: 0,
    answered: 0,
    rejections: {},
    commands: 0,
    responses: 0,
    alerts: 0,
    alertsDelivered: 0,
    alertsUndelivered: 0,
    errors: 0,
    latency: { samples: [], next: 0, count: 0 },
  }
}

/** A Service Request's answer and how long it took (wall ms). */
export function recordRequest(m: FleetMetrics, result: DuisResult, ms: number): void {
  m.requests++
  if (ANSWERED.has(result.code)) m.answered++
  else m.rejections[result.code] = (m.rejections[result.code] ?? 0) + 1
  recordLatency(m, ms)
}

export function recordLatency(m: FleetMetrics, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return
  const l = m.latency
  if (l.samples.length < LATENCY_WINDOW) l.samples.push(ms)
  else l.samples[l.next] = ms
  l.next = (l.next + 1) % LATENCY_WINDOW
  l.count++
}

/** Nearest-rank percentile (0 < p ≤ 100) of the window, or undefined when it is empty. */
export function percentile(m: FleetMetrics, p: number): number | undefined {
  const s = m.latency.samples
  if (s.length === 0) return undefined
  const sorted = [...s].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]
}

/** What the runner counts beside the metrics, at the moment of the snapshot. */
export interface FleetGauges {
  /** Virtual time, ISO 8601. */
  now: string
  premises: number
  /** The shard this run serves, `i/n` (`1/1`: the whole fleet). */
  shard: string
  /** Communications Hubs of this run (its shard's premises). */
  hubs: number
  /** …up (in-process: made; MQTT: connected). */
  hubsConnected: number
  /** ESMEs and GSMEs on the hubs. */
  devices: number
  /** Meters by supply state. */
  supply: { enabled: number; disabled: number; armed: number }
  /** Frames the hubs dropped, by reason (packages/hub DropReason). */
  hubDrops: Record<string, number>
  /**
   * What this run's hubs took from the WAN and sent up it, counted at the hubs: in a sharded
   * fleet, the commands the DCC of shard 1 sent to this shard's hubs and what they answered.
   */
  hubTraffic: { commands: number; responses: number; alerts: number }
}

/** The counters (but the latency ring) and the gauges, with the latency as percentiles. */
export interface MetricsSnapshot extends FleetGauges, Omit<FleetMetrics, 'latency'> {
  /** Wall ms over the last LATENCY_WINDOW Service Requests; absent before the first. */
  latencyMs?: { p50: number; p90: number; p99: number; max: number; window: number }
  /** The prepayment households' top-ups, when the run has them (`withHouseholds`). */
  households?: HouseholdStats
}

/** A snapshot with the households' counters as they stand (a copy: the snapshot stays as taken). */
export const withHouseholds = (s: MetricsSnapshot, h: HouseholdStats): MetricsSnapshot => ({
  ...s,
  households: { ...h, refused: { ...h.refused } },
})

export function snapshotMetrics(m: FleetMetrics, gauges: FleetGauges): MetricsSnapshot {
  const { latency, rejections, ...counts } = m
  const p = (q: number) => percentile(m, q)
  return {
    ...gauges,
    ...counts,
    rejections: { ...rejections },
    ...(latency.samples.length > 0 && {
      latencyMs: {
        p50: p(50)!,
        p90: p(90)!,
        p99: p(99)!,
        max: p(100)!,
        window: latency.samples.length,
      },
    }),
  }
}

/** One JSON line (with its newline) of a snapshot: the JSON-lines form of the metrics. */
export const jsonLine = (s: MetricsSnapshot): string => `${JSON.stringify(s)}\n`

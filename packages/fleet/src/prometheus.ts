/**
 * The fleet's metrics in the Prometheus text exposition format (prom-client, on a registry of its
 * own, never the global one). Every metric reads the snapshot at scrape time: nothing is copied
 * between scrapes. Names carry the `smetsim_` prefix; counters end in `_total`.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { HouseholdStats } from './households.ts'
import type { MetricsSnapshot } from './metrics.ts'

export interface FleetPrometheus {
  /** The exposition text (what GET /metrics answers). */
  text(): Promise<string>
  /** Its Content-Type. */
  readonly contentType: string
}

type Read = () => MetricsSnapshot

export function fleetPrometheus(read: Read): FleetPrometheus {
  const registry = new Registry()
  let current: MetricsSnapshot | undefined
  const snap = () => {
    current ??= read()
    return current
  }

  const counter = (name: string, help: string, value: (s: MetricsSnapshot) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(value(snap()))
      },
    })
  counter('smetsim_service_requests_total', 'Service Requests submitted to the DCC', (s) => s.requests)
  counter('smetsim_service_requests_answered_total', 'Service Requests answered I0 or I99', (s) => s.answered)
  counter('smetsim_commands_total', 'GBCS commands the DCC sent down the WAN', (s) => s.commands)
  counter('smetsim_responses_total', 'GBCS responses that came back up the WAN', (s) => s.responses)
  counter('smetsim_alerts_total', 'alerts that came up the WAN', (s) => s.alerts)
  counter('smetsim_alerts_delivered_total', 'alerts the DCC delivered to a User', (s) => s.alertsDelivered)
  counter('smetsim_alerts_undelivered_total', 'alerts the DCC could not deliver', (s) => s.alertsUndelivered)
  counter('smetsim_errors_total', 'faults of the transport or the DCC', (s) => s.errors)
  counter(
    'smetsim_hub_commands_total',
    "GBCS commands this run's hubs took from the WAN",
    (s) => s.hubTraffic.commands,
  )
  counter(
    'smetsim_hub_responses_total',
    "GBCS responses this run's hubs sent up the WAN",
    (s) => s.hubTraffic.responses,
  )
  counter('smetsim_hub_alerts_total', "alerts this run's hubs sent up the WAN", (s) => s.hubTraffic.alerts)

  // The prepayment households' top-ups (households.ts): zero when a run has none.
  const household = (name: string, help: string, key: Exclude<keyof HouseholdStats, 'refused'>) =>
    counter(name, help, (s) => s.households?.[key] ?? 0)
  household(
    'smetsim_household_topups_total',
    'top-ups the households went for (each retry counts)',
    'attempts',
  )
  household(
    'smetsim_household_topups_unanswered_total',
    "top-ups the household's supplier did not answer",
    'unanswered',
  )
  household('smetsim_household_utrns_typed_total', 'UTRNs the households typed', 'utrnsTyped')
  household('smetsim_household_utrns_accepted_total', 'UTRNs the meters accepted', 'utrnsAccepted')
  household(
    'smetsim_household_button_presses_total',
    'presses of the supply button on an Armed meter',
    'buttonPresses',
  )
  new Counter({
    name: 'smetsim_household_utrns_refused_total',
    help: 'UTRNs the meters refused, by the GBCS alert code raised',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [code, n] of Object.entries(snap().households?.refused ?? {})) this.inc({ code }, n)
    },
  })

  new Counter({
    name: 'smetsim_rejections_total',
    help: 'Service Requests refused or failed, by DUIS response code',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [code, n] of Object.entries(snap().rejections)) this.inc({ code }, n)
    },
  })
  new Counter({
    name: 'smetsim_hub_drops_total',
    help: 'frames the Communications Hubs dropped, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [reason, n] of Object.entries(snap().hubDrops)) this.inc({ reason }, n)
    },
  })

  const gauge = (name: string, help: string, value: (s: MetricsSnapshot) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(snap()))
      },
    })
  gauge('smetsim_premises', 'premises in the fleet', (s) => s.premises)
  gauge('smetsim_hubs', 'Communications Hubs of this run (its shard)', (s) => s.hubs)
  gauge('smetsim_hubs_connected', 'Communications Hubs up', (s) => s.hubsConnected)
  gauge('smetsim_devices', 'meters on the hubs', (s) => s.devices)
  gauge('smetsim_virtual_time_seconds', 'the virtual clock, Unix seconds', (s) => Date.parse(s.now) / 1000)
  new Gauge({
    name: 'smetsim_supply',
    help: 'meters by supply state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(snap().supply)) this.set({ state }, n)
    },
  })
  new Gauge({
    name: 'smetsim_service_request_latency_ms',
    help: 'Service Request latency over the last requests (wall ms), by quantile',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      this.reset()
      const l = snap().latencyMs
      if (!l) return
      this.set({ quantile: '0.5' }, l.p50)
      this.set({ quantile: '0.9' }, l.p90)
      this.set({ quantile: '0.99' }, l.p99)
      this.set({ quantile: '1' }, l.max)
    },
  })

  return {
    contentType: registry.contentType,
    async text() {
      current = undefined
      try {
        return await registry.metrics()
      } finally {
        current = undefined
      }
    },
  }
}

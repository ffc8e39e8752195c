/**
 * `smetsim fleet up`: a fleet built from a seed (or restored from a snapshot), every premise's
 * meters behind a Communications Hub, the hubs connected to a DCC over the in-process WAN or MQTT,
 * and the run going on until stopped or for a duration.
 *
 * Time: `--for` is always virtual time (what the meters live through). Without `--speed` (or with
 * `--speed max`) the run is virtual: as fast as the CPU goes, and `--for` defaults to one day.
 * With `--speed X` virtual time runs X times as fast as the wall clock (1: real time) and a run
 * without `--for` serves until SIGINT/SIGTERM. `--port` serves the DCC HTTP API (fleet-api.ts);
 * in a virtual run it then serves until stopped, virtual time moving only by POST /fleet/advance.
 * `--metrics-port` serves the Prometheus text exposition at GET /metrics.
 *
 * Households: the prepayment households act on their top-up habits (@smetsim/fleet
 * households.ts) on the run's scheduler — this process's premises, or each worker thread's —
 * unless `--no-households`; their counters go in the summary, the metrics lines and /metrics.
 *
 * Output: a progress bar on stderr while the fleet comes up (plain lines when stderr is not a
 * terminal), a one-line status about once a second (stderr), and a summary at the end on stdout;
 * with `--json` the summary goes to stderr and stdout's last (only) line is one JSON object.
 * `--metrics FILE` appends the metrics as a JSON line at every status.
 *
 * Snapshots (`--snapshot FILE`): restored from FILE when it exists; written to it every
 * `--snapshot-every` of wall time (default 60s, in every mode; 'off': not) and when the run stops
 * (its end, SIGINT, SIGTERM), each write atomic (fleet-snapshot.ts), so a process killed at any
 * instant restarts from the last snapshot written whole. A write that fails is reported once and
 * the run goes on; a failed last write makes the exit status 1.
 *
 * Sharding (`--shard i/n`, with `--broker URL` and `--speed`): every shard builds the whole
 * fleet from the seed and brings up only the hubs of its premises (index mod n = i − 1). Shard 1
 * also runs the DCC, its head end and the API, and keeps the fleet's PKI on the broker for the
 * others (@smetsim/fleet shard-pki.ts), which wait for it before they build. With `--speed` each
 * shard's clock follows the wall clock, which is what keeps them together. Without it (virtual
 * time) the shards advance in lock-step windows on the broker (@smetsim/fleet shard-time.ts):
 * shard 1 moves time (`--for`, or POST /fleet/advance with `--port`) and the others follow it,
 * ending when it ends; a shard not heard from within `--shard-timeout` fails the run.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRealTimeDriver, createScheduler } from '@smetsim/core'
import {
  buildFleet,
  type Fleet,
  type FleetPki,
  type FleetRun,
  type FleetWan,
  fetchSharedPki,
  fleetPrometheus,
  type Households,
  type HubsRun,
  joinVirtualShards,
  jsonLine,
  type MetricsSnapshot,
  parseFleetSpec,
  parseShard,
  restoredRunOptions,
  restoreRun,
  type Shard,
  shardSize,
  shardText,
  sharePki,
  snapshotRun,
  startFleet,
  startHouseholds,
  startHubs,
  startVirtualShards,
  startWorkerFleet,
  type VirtualShardHubs,
  WHOLE_FLEET,
  type WorkerFleet,
  withdrawPki,
  withHouseholds,
} from '@smetsim/fleet'
import { type BackendName, getBackend } from '@smetsim/gbcs'
import cliProgress from 'cli-progress'
import ms from 'ms'
import { brokerOption, speedOption, threadsOption } from '../options.ts'
import { type FleetApi, serveApi } from './fleet-api.ts'
import { snapshotFile } from './fleet-snapshot.ts'

export interface UpOptions {
  premises: string
  seed: string
  broker?: string
  speed?: string
  for?: string
  snapshot?: string
  /** Wall time between periodic writes of --snapshot (default 60s; 'off': only when stopped). */
  snapshotEvery?: string
  json: boolean
  metrics?: string
  metricsPort?: string
  port?: string
  tls?: string
  shard?: string
  /** Virtual-time shards: wall time to wait for a window or a word from shard 1 (default 30s). */
  shardTimeout?: string
  workers?: string
  /** Run the prepayment households' top-ups (default; `--no-households`: false). */
  households?: boolean
  backend: BackendName
}

/** Most premises `fleet up` takes (the builder goes to 10 million; a run here is one process). */
export const MAX_PREMISES = 100_000
const STATUS_EVERY_MS = 1000
const DEFAULT_VIRTUAL_FOR = '1d'
/** `--snapshot-every` when not given: a minute of wall time (taking a 10 000-premise snapshot stalls the run about 1 s). */
export const DEFAULT_SNAPSHOT_EVERY = '60s'

interface Plan {
  premises: number
  seed: string
  wan: FleetWan
  /** undefined: virtual time. */
  speed: number | undefined
  /** Virtual ms; undefined: until stopped. */
  forMs: number | undefined
  metricsPort: number | undefined
  /** The DCC HTTP API's port and where its TLS credentials are written. */
  api: { port: number; tls: string } | undefined
  /** The premises this process serves; shard 1 (and the whole fleet) runs the DCC. */
  shard: Shard
  /** Virtual-time shards (sharded, no --speed): wall ms to wait for a window or shard 1. */
  shardTimeoutMs: number
  /** Worker threads the hubs are split across (startWorkerFleet); undefined: none. */
  workers: number | undefined
  /** Wall ms between periodic writes of --snapshot; undefined: only when the run stops (or no --snapshot). */
  snapshotEveryMs: number | undefined
}

/** A TCP port from an option's text. */
function tcpPort(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`${flag} must be a TCP port, got '${v}'`)
  return Number(v)
}

/** The options checked before anything is built: every problem is one clear error. */
export function plan(o: UpOptions): Plan {
  if (!/^\d+$/.test(o.premises)) throw new Error(`--premises must be a whole number, got '${o.premises}'`)
  const premises = Number(o.premises)
  if (premises < 1 || premises > MAX_PREMISES)
    throw new Error(`--premises must be 1 to ${MAX_PREMISES}, got ${premises}`)
  const speedGiven = o.speed === undefined ? undefined : speedOption(o.speed)
  const speed = speedGiven === 'max' ? undefined : speedGiven
  const served = o.port !== undefined || o.tls !== undefined
  // A virtual run serving the API waits for POST /fleet/advance, so it has no end of its own.
  const forText = o.for ?? (speed === undefined && !served ? DEFAULT_VIRTUAL_FOR : undefined)
  let forMs: number | undefined
  if (forText !== undefined) {
    forMs = ms(forText as ms.StringValue) as number | undefined
    if (typeof forMs !== 'number' || !Number.isFinite(forMs) || forMs < 0)
      throw new Error(`--for must be a duration such as 30s, 2h or 1d, got '${forText}'`)
  }
  let metricsPort: number | undefined
  if (o.metricsPort !== undefined) {
    if (speed === undefined && !served)
      throw new Error('--metrics-port needs --speed or --port (a run that serves until stopped)')
    metricsPort = tcpPort('--metrics-port', o.metricsPort)
  }
  let api: Plan['api']
  if (o.port !== undefined || o.tls !== undefined) {
    if (o.port === undefined || o.tls === undefined)
      throw new Error(
        '--port and --tls go together: the API authenticates callers with the TLS certificates written to --tls',
      )
    api = { port: tcpPort('--port', o.port), tls: o.tls }
  }
  const wan: FleetWan = o.broker === undefined ? 'in-process' : brokerOption(o.broker)
  let shard = WHOLE_FLEET
  if (o.shard !== undefined) {
    const parsed = parseShard(o.shard)
    if (!parsed.ok) throw new Error(`--shard: ${parsed.error}`)
    shard = parsed.value
    if (typeof wan !== 'object')
      throw new Error('--shard needs --broker URL: the shards meet on an external MQTT broker')
    if (speed === undefined && shard.count > 1) {
      // Lock-step windows (shard-time.ts): a run snapshot would need every shard's at one window
      // barrier, kept so that a kill at any moment leaves one instant every shard holds: not built.
      if (o.snapshot !== undefined || o.snapshotEvery !== undefined)
        throw new Error(
          `${o.snapshot !== undefined ? '--snapshot' : '--snapshot-every'}: not with virtual-time shards ` +
            '(only with --speed): their snapshots would have to be of one window barrier in every shard, ' +
            'which is not built; such a run starts again from the seed',
        )
      if (shard.index !== 1 && o.for !== undefined)
        throw new Error(`--for: in virtual time shard 1/${shard.count} moves time for every shard`)
    }
    if (shard.index !== 1 && api)
      throw new Error(`--port: the DCC HTTP API is served by shard 1/${shard.count}, which runs the DCC`)
  }
  let workers: number | undefined
  if (o.workers !== undefined) {
    workers = threadsOption('--workers', o.workers)
    // The worker-thread fleet is virtual time over its windowed WAN, with no run snapshot or API.
    const alone = [
      ['--speed', speed !== undefined],
      ['--broker', o.broker !== undefined],
      ['--shard', o.shard !== undefined],
      ['--snapshot', o.snapshot !== undefined],
      ['--port', served],
      ['--metrics-port', o.metricsPort !== undefined],
    ] as const
    const clash = alone.find(([, given]) => given)
    if (clash) throw new Error(`--workers runs in virtual time on its own WAN: not with ${clash[0]}`)
  }
  let snapshotEveryMs: number | undefined
  if (o.snapshotEvery !== undefined && o.snapshot === undefined)
    throw new Error('--snapshot-every needs --snapshot FILE (the file it writes)')
  if (o.snapshot !== undefined && o.snapshotEvery !== 'off') {
    const text = o.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY
    snapshotEveryMs = ms(text as ms.StringValue) as number | undefined
    if (typeof snapshotEveryMs !== 'number' || !(snapshotEveryMs >= 1000) || snapshotEveryMs > 86_400_000)
      throw new Error(
        `--snapshot-every must be a duration from 1s to 1d (wall time), or 'off', got '${text}'`,
      )
  }
  const timeoutText = o.shardTimeout ?? '30s'
  const shardTimeoutMs = ms(timeoutText as ms.StringValue) as number | undefined
  if (typeof shardTimeoutMs !== 'number' || !(shardTimeoutMs >= 100) || shardTimeoutMs > 86_400_000)
    throw new Error(`--shard-timeout must be a duration from 100ms to 1d, got '${timeoutText}'`)
  return {
    premises,
    seed: o.seed,
    wan,
    speed,
    forMs,
    metricsPort,
    api,
    shard,
    shardTimeoutMs,
    workers,
    snapshotEveryMs,
  }
}

/** Progress on stderr: a bar on a terminal, a plain line per tenth otherwise. */
function progress(label: string, total: number) {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0)
    return { update: (n: number) => bar.update(n), done: () => bar.stop() }
  }
  let shown = -1
  return {
    update(n: number) {
      const tenth = Math.floor((n / total) * 10)
      if (tenth === shown) return
      shown = tenth
      process.stderr.write(`${label}: ${n}/${total}\n`)
    },
    done() {},
  }
}

function statusLine(s: MetricsSnapshot): string {
  const p = s.latencyMs ? ` p99 ${s.latencyMs.p99.toFixed(1)} ms` : ''
  return (
    `${s.now} ${s.shard === '1/1' ? '' : `shard ${s.shard} `}hubs ${s.hubsConnected}/${s.hubs} devices ${s.devices} ` +
    `supply on ${s.supply.enabled} off ${s.supply.disabled} armed ${s.supply.armed} ` +
    `commands ${s.commands} responses ${s.responses} alerts ${s.alerts}${p}`
  )
}

/** The end-of-run summary: a line, and with `--json` the object as stdout's last line (the line then on stderr). */
function printSummary(summary: ReturnType<typeof summaryOf>, json: boolean | undefined): void {
  const h = summary.households
  const topUps = h ? `, ${h.attempts} top-ups (${h.utrnsAccepted} UTRNs accepted)` : ''
  const text =
    `${summary.virtualTime} (${summary.mode}): ${summary.hubsConnected} hubs connected, ${summary.devices} devices, ` +
    `${summary.commands} commands, ${summary.responses} responses, ${summary.alerts} alerts${topUps}, ${summary.errors} errors\n`
  if (json) {
    process.stderr.write(text)
    process.stdout.write(`${JSON.stringify(summary)}\n`)
  } else process.stdout.write(text)
}

function summaryOf(s: MetricsSnapshot, mode: string) {
  const hubDrops = Object.values(s.hubDrops).reduce((a, b) => a + b, 0)
  const rejections = Object.values(s.rejections).reduce((a, b) => a + b, 0)
  return {
    mode,
    virtualTime: s.now,
    premises: s.premises,
    shard: s.shard,
    hubs: s.hubs,
    hubsConnected: s.hubsConnected,
    devices: s.devices,
    supply: s.supply,
    requests: s.requests,
    commands: s.commands,
    responses: s.responses,
    alerts: s.alerts,
    alertsDelivered: s.alertsDelivered,
    rejections: s.rejections,
    // At this process's hubs: what they took from the WAN and sent up it (shard 1's DCC, or another's).
    hubTraffic: s.hubTraffic,
    // The prepayment households' top-ups (absent with --no-households).
    ...(s.households && { households: s.households }),
    // Faults, undeliverable alerts and frames the hubs dropped: what a tester looks at first.
    errors: s.errors + s.alertsUndelivered + hubDrops,
    ...(rejections > 0 && { rejected: rejections }),
  }
}

/** A run of this process's shard: with the DCC (shard 1, or the whole fleet) or its hubs only. */
type Run = FleetRun | HubsRun
const runsDcc = (run: Run): run is FleetRun => 'dcc' in run
/** A virtual-time shard other than 1: its time is shard 1's, and it ends when shard 1 does. */
const follows = (run: Run): run is VirtualShardHubs => 'ended' in run
/** A virtual-time shard 1's failure (a shard gone), once there is one. */
const failureOf = (run: Run): Error | undefined =>
  'failure' in run ? (run.failure as Error | undefined) : undefined

async function bringUp(p: Plan, o: UpOptions): Promise<Run> {
  const backend = getBackend(o.backend)
  const { shard } = p
  const sharded = shard.count > 1
  const broker = typeof p.wan === 'object' ? p.wan.broker : undefined
  let fleet: Fleet
  let start: number
  let restored: ReturnType<typeof restoreRun> | undefined
  if (o.snapshot && existsSync(o.snapshot)) {
    restored = restoreRun(new Uint8Array(readFileSync(o.snapshot)))
    if (!restored.ok) throw new Error(`${o.snapshot}: ${restored.error.message}`)
    // A shard's snapshot holds that shard's devices as they ran: restore it as the same shard.
    if (shardText(restored.value.shard) !== shardText(shard))
      throw new Error(
        `${o.snapshot}: a snapshot of shard ${shardText(restored.value.shard)}, not of ${shardText(shard)}`,
      )
    fleet = restored.value.fleet
    start = restored.value.now
    process.stderr.write(
      `restored ${fleet.size} premises at ${new Date(start).toISOString()} from ${o.snapshot}\n`,
    )
  } else {
    const spec = parseFleetSpec({ seed: p.seed, premises: p.premises })
    if (!spec.ok) throw new Error(spec.error.message)
    // Every shard builds the same fleet, but the PKI is random: the others take shard 1's.
    let pki: FleetPki | undefined
    if (sharded && shard.index !== 1) {
      process.stderr.write(`shard ${shardText(shard)}: waiting for the fleet PKI from shard 1 on ${broker}\n`)
      const shared = await fetchSharedPki(broker!, spec.value)
      if (!shared.ok) throw new Error(shared.error)
      pki = shared.value
    }
    const built = progress('building', p.premises)
    fleet = buildFleet(spec.value, {
      onProgress: (n) => built.update(n),
      progressEvery: 100,
      ...(pki && { pki }),
    })
    built.done()
    start = Date.parse(spec.value.start)
  }
  if (sharded && shard.index === 1) await sharePki(broker!, fleet.spec, fleet.pki)
  const scheduler = createScheduler({ start })
  const up = progress('hubs up', shardSize(shard, fleet.size))
  // A restored run goes on with its counters, its hubs' state and (shard 1) the DCC's state.
  const kept = restored?.ok ? restoredRunOptions(restored.value, scheduler) : undefined
  const common = {
    scheduler,
    backend,
    shard,
    ...(kept && { metrics: kept.metrics, hubs: kept.hubs }),
    onProgress: (n: number) => up.update(n),
  }
  if (sharded && p.speed === undefined) {
    // Virtual time across the shards: lock-step windows on the broker (shard-time.ts).
    const virtual = { ...common, broker: broker!, timeoutMs: p.shardTimeoutMs }
    if (shard.index !== 1)
      process.stderr.write(`shard ${shardText(shard)}: hubs up, waiting for shard 1's windows\n`)
    const run =
      shard.index === 1 ? await startVirtualShards(fleet, virtual) : await joinVirtualShards(fleet, virtual)
    up.done()
    return run
  }
  const run =
    shard.index === 1
      ? await startFleet(fleet, {
          ...common,
          wan: p.wan,
          ...(kept && { dcc: kept.dcc, ...(kept.sat && { sat: kept.sat }) }),
        })
      : await startHubs(fleet, { ...common, wan: { broker: broker! } })
  up.done()
  return run
}

export async function up(o: UpOptions): Promise<void> {
  const p = plan(o)
  if (p.workers !== undefined) return upInWorkers(p, o)
  let run: Run
  try {
    run = await bringUp(p, o)
  } catch (e) {
    // A broker that never answered leaves mqtt.js's connect timers behind for a while after the
    // clients are closed: a failed bring-up ends the command at once rather than waiting on them.
    process.stderr.write(`smetsim: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(2)
  }
  const mode = p.speed === undefined ? 'virtual' : `real-time x${p.speed}`
  let stopping = false
  const stop = () => {
    stopping = true
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  // The prepayment households act on their top-up habits on the run's scheduler (this shard's).
  const households: Households | undefined =
    o.households === false ? undefined : startHouseholds(run, { backend: getBackend(o.backend) })
  const snapshot = () => (households ? withHouseholds(run.snapshot(), households.stats) : run.snapshot())
  const status = () => {
    const s = snapshot()
    if (o.metrics) appendFileSync(o.metrics, jsonLine(s))
    process.stderr.write(process.stderr.isTTY ? `\r${statusLine(s)}\x1b[K` : `${statusLine(s)}\n`)
  }
  // --snapshot FILE: written every --snapshot-every (wall time) and when the run stops, atomically.
  const snapshots = o.snapshot
    ? snapshotFile({
        file: o.snapshot,
        everyMs: p.snapshotEveryMs,
        // In real time the clock moves while the snapshot is taken: `at` is when it began (no
        // event runs until it is done, so the state is that of this instant).
        take: () => {
          const at = run.scheduler.now()
          return { bytes: snapshotRun(run), at }
        },
        log: (line) => process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`),
      })
    : undefined
  // What the run loops call about once a second: the status, and a periodic snapshot when due.
  const tick = () => {
    status()
    snapshots?.tick()
  }

  let server: Server | undefined
  let api: FleetApi | undefined
  let snapshotFailed = false
  try {
    const end = p.forMs === undefined ? undefined : run.scheduler.now() + p.forMs
    if (p.metricsPort !== undefined) server = await serveMetrics(snapshot, p.metricsPort)
    if (p.api && runsDcc(run)) api = await serveApi(run, { ...p.api, advance: p.speed === undefined })
    if (p.speed !== undefined) await runRealTime(run, p.speed, end, () => stopping, tick)
    else if (follows(run)) await runFollowing(run, () => stopping, tick)
    else if (p.api) await runServed(run, end, () => stopping, tick)
    else await runVirtual(run, end!, () => stopping, tick)
    status()
    if (process.stderr.isTTY) process.stderr.write('\n')
    if (snapshots) snapshotFailed = !(await snapshots.final())
    printSummary(summaryOf(snapshot(), mode), o.json)
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    households?.stop()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    await api?.close()
    await run.close()
    // Shard 1 ends the sharded fleet's PKI on the broker (a later run shares its own).
    if (p.shard.count > 1 && p.shard.index === 1 && typeof p.wan === 'object')
      await withdrawPki(p.wan.broker).catch(() => {})
  }
  // The run went on, but what it was asked to keep is not kept: a script must see that.
  if (snapshotFailed) process.exitCode = 1
}

/** Virtual time as fast as it goes, a virtual hour at a time, with a status about once a second. */
async function runVirtual(run: Run, end: number, stopped: () => boolean, status: () => void) {
  const HOUR = 3_600_000
  let last = performance.now()
  while (run.scheduler.now() < end && !stopped()) {
    await run.advance(Math.min(HOUR, end - run.scheduler.now()))
    if (performance.now() - last >= STATUS_EVERY_MS) {
      status()
      last = performance.now()
    }
  }
}

/** Virtual time that moves only when the API is asked to (POST /fleet/advance), until `end` or a signal. */
async function runServed(run: Run, end: number | undefined, stopped: () => boolean, status: () => void) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, STATUS_EVERY_MS / 4))
    const failure = failureOf(run)
    if (failure) throw failure
    if (stopped() || (end !== undefined && run.scheduler.now() >= end)) break
    status()
  }
}

/** A virtual-time shard other than 1: runs shard 1's windows until shard 1 ends the run or a signal. */
async function runFollowing(run: VirtualShardHubs, stopped: () => boolean, status: () => void) {
  let over = false
  const ended = run.ended.then(() => {
    over = true
  })
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, STATUS_EVERY_MS)))])
    clearTimeout(timer)
    if (over || stopped()) break
    status()
  }
}

/** Virtual time on the wall clock, `speed` times as fast, until `end` or a signal. */
async function runRealTime(
  run: Run,
  speed: number,
  end: number | undefined,
  stopped: () => boolean,
  status: () => void,
) {
  let failure: unknown
  const driver = createRealTimeDriver(run.scheduler, {
    acceleration: speed,
    onError: (e) => {
      failure = e
    },
  })
  // The end is an event of its own, so the run stops when virtual time reaches it (the clock
  // may be a timer tick past it by then: a wall-clock tick times the speed).
  let wake: (() => void) | undefined
  let reached = false
  const endEvent =
    end === undefined
      ? undefined
      : run.scheduler.at(end, () => {
          reached = true
          wake?.()
        })
  driver.start()
  try {
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STATUS_EVERY_MS)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      if (failure) throw failure
      if (stopped() || reached) break
      status()
    }
  } finally {
    endEvent?.cancel()
    driver.stop()
  }
}

/** GET /metrics: the Prometheus text exposition, on 127.0.0.1. */
async function serveMetrics(snapshot: () => MetricsSnapshot, port: number): Promise<Server> {
  const prom = fleetPrometheus(snapshot)
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n')
      return
    }
    prom.text().then(
      (text) => res.writeHead(200, { 'content-type': prom.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const { port: bound } = server.address() as AddressInfo
  process.stderr.write(`metrics: http://127.0.0.1:${bound}/metrics\n`)
  return server
}

/**
 * `--workers N`: the hubs in N worker threads (shards k/N), the DCC in this one, virtual time in
 * windows of the windowed WAN's latency (@smetsim/fleet workers.ts); a virtual hour at a time,
 * with a status about once a second and the summary at the end.
 */
async function upInWorkers(p: Plan, o: UpOptions): Promise<void> {
  const spec = parseFleetSpec({ seed: p.seed, premises: p.premises })
  if (!spec.ok) throw new Error(spec.error.message)
  const built = progress('building', p.premises)
  const fleet = buildFleet(spec.value, { onProgress: (n) => built.update(n), progressEvery: 100 })
  built.done()
  process.stderr.write(`hubs in ${p.workers} worker threads\n`)
  let run: WorkerFleet
  try {
    run = await startWorkerFleet(fleet, {
      scheduler: createScheduler({ start: Date.parse(spec.value.start) }),
      backend: o.backend,
      workers: p.workers!,
      households: o.households !== false,
    })
  } catch (e) {
    process.stderr.write(`smetsim: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(2)
  }
  let stopping = false
  const stop = () => {
    stopping = true
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const status = async () => {
    const s = await run.stats()
    if (o.metrics) appendFileSync(o.metrics, jsonLine(s))
    process.stderr.write(process.stderr.isTTY ? `\r${statusLine(s)}\x1b[K` : `${statusLine(s)}\n`)
  }
  try {
    const end = run.scheduler.now() + p.forMs!
    const HOUR = 3_600_000
    let last = performance.now()
    while (run.scheduler.now() < end && !stopping) {
      await run.advance(Math.min(HOUR, end - run.scheduler.now()))
      if (performance.now() - last >= STATUS_EVERY_MS) {
        await status()
        last = performance.now()
      }
    }
    await status()
    if (process.stderr.isTTY) process.stderr.write('\n')
    const mode = `virtual, ${p.workers} worker threads`
    printSummary(summaryOf(await run.stats(), mode), o.json)
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await run.close()
  }
}

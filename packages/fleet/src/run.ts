/**
 * The fleet runner: a built fleet brought to life. Every premise's meters go behind a
 * Communications Hub (@smetsim/hub) on one scheduler, the hubs are connected to the DCC's head
 * end over a WAN (in-process by default, or MQTT through a broker), and a real DCC (createDcc)
 * serves them: its `transport` is the head end's `send(commsHub, bytes)` to the hub the Smart
 * Metering Inventory names for the device, its SR 8.11 goes through `headEnd.addDevice`, and
 * every alert that comes up the WAN is handed to `dcc.deliverAlert`. As the scheduler's time
 * moves, each hub steps its devices at their own wake-ups: prepayment runs down, meters disable
 * their supply, GSMEs wake every 30 minutes and collect what waits for them in the GPF.
 *
 * Sharded (`shard`, shard.ts): a run brings up only the hubs of its shard's premises, the fleet
 * being built whole in every shard. `startFleet` also runs the DCC and its head end (what shard
 * 1/n does); `startHubs` runs hubs only, reaching the DCC of another process through the broker.
 *
 * Once running, the hubs own the device states (`run.device(eui)` reads them there); `sync()`
 * copies them back into the fleet's slots, which is what `snapshotRun` does before it keeps them.
 *
 * Modelling choices (README "The runner"):
 *  - a commissioned premise's ESME and GSME are on their hub's HAN from the start: attached as
 *    joined and put in the CHF Device Log (hub.addInstalledDevice), as after an installation that
 *    happened before the run: the CHF's CS14 (0x8F12) alerts for those additions are not sent;
 *  - an InstalledNotCommissioned premise's meters are attached and not in the log, each with a
 *    KA Device Certificate from the fleet's Device CA (made at bring-up, for them only), which
 *    every CHF trusts: SR 8.11 adds one to the log and it joins (the CHF checks the certificate);
 *  - a premise's PPMID is on its hub's HAN as its meters are (in the CHF Device Log with its
 *    install code when commissioned) and passes the consumer's requests to them
 *    (Hub.consumerInput); the fleet's PPMID model (PpmidState) has no keys, so it runs no GBCS
 *    commands from the WAN;
 *  - the CHF's key-agreement key and the GPF's keys are drawn from the seed ('chf-ka',
 *    'gpf-ds', 'gpf-ka'), like the meters'; the CHF holds the ACB's cells.
 */
import type { Eui64, Scheduler } from '@smetsim/core'
import {
  createDcc,
  createMemorySat,
  type Dcc,
  type DccConfig,
  type DuisRequest,
  type DuisResult,
  INTERNAL_FAULT_CODE,
  type ServiceAuditTrail,
} from '@smetsim/dcc'
import {
  type DeviceState,
  type PpmidState,
  privateKeyOf,
  type Supply,
  type TrustAnchorCells,
} from '@smetsim/device'
import type { CryptoBackend } from '@smetsim/gbcs'
import { type ChfState, type DeviceCertificateAuthority, type GpfState, Hub, type Uplink } from '@smetsim/hub'
import type { EmbeddedBroker } from '../../hub/src/wan/broker.ts'
import { startBroker } from '../../hub/src/wan/broker.ts'
// The WAN adapters are not exported from @smetsim/hub's index (yet): reached by path, as bench/ does.
import { createInProcessWan } from '../../hub/src/wan/in-process.ts'
import { MqttHeadEnd, MqttHubLink } from '../../hub/src/wan/mqtt.ts'
import type { HeadEnd } from '../../hub/src/wan/types.ts'
import { type Fleet, ppmidInstallCode } from './build.ts'
import { dccParts } from './dcc.ts'
import { ByteSlab, drawScalar } from './draws.ts'
import {
  createMetrics,
  type FleetGauges,
  type FleetMetrics,
  type MetricsSnapshot,
  recordRequest,
  snapshotMetrics,
} from './metrics.ts'
import { meterKaCertificate } from './pki.ts'
import { compileSpec, type Premise } from './premise.ts'
import { inShard, type Shard, shardPremises, shardSize, shardText, WHOLE_FLEET } from './shard.ts'

/** In-process (default), MQTT through the embedded aedes broker, or MQTT through a broker by URL. */
export type FleetWan = 'in-process' | 'embedded-broker' | { broker: string }

export interface StartFleetOptions {
  scheduler: Scheduler
  backend: CryptoBackend
  wan?: FleetWan
  /** The DCC's Service Audit Trail; default a memory one on the scheduler's clock. */
  sat?: ServiceAuditTrail
  /**
   * Anything else of the DCC's configuration (MP121, CV5 limits, SoLR controls, …); the fleet's
   * parts win, except `users` (a view of the fleet's own, such as solr.ts `grantableUsers`) and
   * `signers`, which are added to the fleet's.
   */
  dcc?: Partial<Omit<DccConfig, 'transport' | 'now' | 'hanDeviceLog'>>
  /** MQTT: how long to wait for the head end and each hub to connect (default 10 s); then startFleet fails. */
  connectTimeoutMs?: number
  /** Counters to go on from (a restored run's); default new ones. */
  metrics?: FleetMetrics
  /** Called after each of this run's hubs is up (and connected, over MQTT). */
  onProgress?(done: number, total: number): void
  /** The premises whose hubs this run brings up (shard.ts); default the whole fleet. */
  shard?: Shard
  /** Hubs kept by a run snapshot (run-snapshot.ts `restoredRunOptions`): premise i's, or undefined (made as at bring-up). */
  hubs?: (premise: number) => KeptHub | undefined
}

/** `KeptHub.joined` bits: which of the premise's devices are joined to the HAN. */
export const JOINED_ESME = 1
export const JOINED_GSME = 2
export const JOINED_PPMID = 4

/**
 * A hub's state as a run snapshot keeps it (run-snapshot.ts): the CHF's and GPF's state without
 * their identities and keys (which come from the seed again), and which devices are joined.
 */
export interface KeptHub {
  chf: Pick<ChfState, 'counters' | 'alertCounter' | 'log'>
  gpf: Omit<GpfState, 'eui' | 'keys'> | undefined
  joined: number
}

/** What `startHubs` takes: a hub shard reaches the DCC's head end through a broker only. */
export type StartHubsOptions = Omit<StartFleetOptions, 'sat' | 'dcc' | 'wan'> & {
  /** A broker, or a WAN of the caller's (the worker threads' windowed one, workers.ts). */
  wan: { broker: string } | HubWan
  shard: Shard
}

/** The hubs of a run (of its shard): what every run has, whether or not it runs the DCC. */
export interface HubsRun {
  readonly fleet: Fleet
  readonly scheduler: Scheduler
  readonly metrics: FleetMetrics
  readonly shard: Shard
  /** Premise i's Communications Hub; undefined for a premise of another shard. */
  hub(premise: number): Hub | undefined
  /** A device's current state, from its hub (none for another shard's). */
  device(eui: string): DeviceState | PpmidState | undefined
  /**
   * Virtual time only: moves the clock `ms` on, running every event due, and lets pending I/O
   * (responses that an event released, MQTT traffic) through between slices of virtual time.
   */
  advance(ms: number): Promise<void>
  /** Copies the hubs' device states into the fleet's slots. */
  sync(): void
  /** The metrics with the gauges as they stand. */
  snapshot(): MetricsSnapshot
  /** Disconnects the hubs and the head end (and stops the embedded broker). */
  close(): Promise<void>
}

/** A run with the DCC and its head end: the whole fleet, or shard 1/n of a sharded one. */
export interface FleetRun extends HubsRun {
  /** The DCC; its `submit` is the run's (counted in the metrics). */
  readonly dcc: Dcc
  /** The DCC's Service Audit Trail (what the DCC HTTP API reads). */
  readonly sat: ServiceAuditTrail
  readonly headEnd: HeadEnd
  /** The embedded broker's URL, when the run started one. */
  readonly brokerUrl: string | undefined
  /** A Service Request to the DCC, counted in the metrics. Never throws. */
  submit(request: DuisRequest): Promise<DuisResult>
}

/** Virtual time between two looks at pending I/O while advancing. */
export const ADVANCE_SLICE_MS = 60_000

/** `p`, or an Error saying what did not happen within `ms`. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * The WAN as the hubs see it. Calls on the WAN naming the hub, not closures per hub: a fleet
 * keeps one function per hub (its counted uplink, below), whatever the WAN.
 */
export interface HubWan {
  /** Readies premise `p`'s way up the WAN (MQTT: its connection) before its hub is made. */
  open(p: Premise): void
  /** What hub `commsHub` sends up the WAN. */
  send(commsHub: Eui64, u: Uplink): void
  /** Connects premise `p`'s hub (after `open(p)`). */
  connect(p: Premise, hub: Hub): Promise<void>
  /** GBCS commands the hubs have taken from the WAN so far. */
  commandsIn(): number
  close(): Promise<void>
}

/** One MQTT connection per hub to the broker at `url`. */
function mqttHubWan(url: string, timeout: number): HubWan {
  const links = new Map<string, MqttHubLink>()
  return {
    open(p) {
      links.set(p.chf, new MqttHubLink(p.chf, { url }))
    },
    send: (commsHub, u) => links.get(commsHub)?.uplink(u),
    connect(p, hub) {
      const link = links.get(p.chf)
      if (!link) return Promise.reject(new Error(`hub ${p.chf}: not opened`))
      return within(timeout, `hub ${p.chf} could not connect to ${url}`, link.serve(hub))
    },
    commandsIn: () => {
      let n = 0
      for (const l of links.values()) n += l.commands
      return n
    },
    close: async () => {
      await Promise.all([...links.values()].map((l) => l.close()))
    },
  }
}

/** What the hubs of a run sent up the WAN (counted at the hubs, whoever receives it). */
interface HubTraffic {
  responses: number
  alerts: number
}

/**
 * Hub i's uplink: counted, and closed until the hub is up (`hubs[i]` set), so nothing of its
 * bring-up goes up the WAN. An anonymous arrow returned from a function, not one assigned to a
 * name: under tsx (esbuild keepNames) a named closure gets `__name`, whose defineProperty puts
 * the function's properties in dictionary mode, 256 B more for each of a fleet's hubs.
 */
function countedUplink(
  traffic: HubTraffic,
  wan: HubWan,
  hubs: readonly (Hub | undefined)[],
  i: number,
): (u: Uplink) => void {
  return (u) => {
    const hub = hubs[i]
    if (hub === undefined) return
    if (u.kind === 'response') traffic.responses++
    else traffic.alerts++
    wan.send(hub.eui, u)
  }
}

/**
 * Premise i's CHF key-agreement and GPF scalars, drawn from the seed ('chf-ka', 'gpf-ds',
 * 'gpf-ka'), as views of the slab's buffers (draws.ts ByteSlab: about 180 B less each).
 */
function hubScalars(key: Uint8Array, i: number, slab: ByteSlab) {
  return {
    chfKa: drawScalar(key, i, 'chf-ka', slab),
    gpfDs: drawScalar(key, i, 'gpf-ds', slab),
    gpfKa: drawScalar(key, i, 'gpf-ka', slab),
  }
}

/** A CHF's cells (the ACB's), one frozen object for every hub whose meters hold the same ACB cells. */
const chfCellSets = new WeakMap<object, TrustAnchorCells>()
function chfCells(meterCells: TrustAnchorCells): TrustAnchorCells {
  const ds = meterCells.accessControlBrokerDs!
  let cells = chfCellSets.get(ds)
  if (!cells || cells.accessControlBrokerKa !== meterCells.accessControlBrokerKa) {
    cells = Object.freeze({
      accessControlBrokerDs: ds,
      accessControlBrokerKa: meterCells.accessControlBrokerKa!,
    })
    chfCellSets.set(ds, cells)
  }
  return cells
}

/**
 * Brings up the hubs of `shard`'s premises in order, each connected before the next is made.
 * `hubs[i]` stays undefined for another shard's premise.
 */
async function bringUpHubs(
  fleet: Fleet,
  o: Pick<StartFleetOptions, 'scheduler' | 'backend' | 'onProgress' | 'hubs'>,
  shard: Shard,
  wan: HubWan,
): Promise<{ hubs: (Hub | undefined)[]; traffic: HubTraffic; connected: () => number }> {
  const { scheduler, backend } = o
  const c = compileSpec(fleet.spec)
  const hubs: (Hub | undefined)[] = new Array(fleet.size)
  const traffic: HubTraffic = { responses: 0, alerts: 0 }
  const total = shardSize(shard, fleet.size)
  // One Device CA list for every CHF: the fleet's, which certifies its joining meters (pki.ts).
  const deviceCas: readonly DeviceCertificateAuthority[] = [fleet.pki.deviceCa.certificate]
  const slab = new ByteSlab()
  let connected = 0
  for (const i of shardPremises(shard, fleet.size)) {
    const p = fleet.premise(i)!
    const esme = fleet.esme[i]!
    const gsme = fleet.gsme[i]
    // Until the hub is up its uplink is closed: nothing of bring-up goes up the WAN. Its log
    // entries stand for an installation before the run (addInstalledDevice: no CS14 alerts).
    const keys = hubScalars(c.key, i, slab)
    wan.open(p)
    // The CHF's and GPF's EUIs as the inventory holds them: one string each for the fleet, not a
    // second copy made by premise(i) for every hub.
    const chf = (fleet.inventory.get(esme.eui)?.commsHub ?? p.chf) as Eui64
    const gpf = (fleet.inventory.get(p.gpf)?.deviceId ?? p.gpf) as Eui64
    // A restored run's hub: its CHF and GPF as kept, its devices joined as they were (no new log entries).
    const kept = o.hubs?.(i)
    const chfOptions = { eui: chf, ka: keys.chfKa, cells: chfCells(esme.cells) }
    const gpfOptions = { eui: gpf, keys: { ds: keys.gpfDs, ka: keys.gpfKa } }
    const hub = new Hub({
      scheduler,
      backend,
      chf: chfOptions,
      gpf: gpfOptions,
      deviceCas,
      uplink: countedUplink(traffic, wan, hubs, i),
      ...(kept && {
        restore: {
          chf: { ...chfOptions, gpfEui: gpf, ...kept.chf },
          gpf: kept.gpf && { ...kept.gpf, ...gpfOptions },
        },
      }),
    })
    const onHan = p.install === 'commissioned'
    for (const d of gsme ? [esme, gsme] : [esme]) {
      if (kept ? kept.joined & (d === esme ? JOINED_ESME : JOINED_GSME) : onHan) {
        hub.attach(d, { joined: true })
        if (!kept)
          hub.addInstalledDevice({ deviceId: d.eui, deviceType: d.type, installCode: d.installCode! })
      } else {
        // Not yet on the HAN: it presents its KA Device Certificate when SR 8.11 lets it join.
        const point = privateKeyOf(d.keys.ka!, backend).publicKey.point
        hub.attach(d, { certificate: meterKaCertificate(fleet.pki, d.eui, point) })
      }
    }
    const ppmid = fleet.ppmid[i]
    if (ppmid) {
      hub.attachPpmid(ppmid, { joined: kept ? (kept.joined & JOINED_PPMID) !== 0 : onHan })
      if (onHan && !kept)
        hub.addInstalledDevice({
          deviceId: ppmid.eui,
          deviceType: 'PPMID',
          installCode: slab.copy(ppmidInstallCode(c, i)),
        })
    }
    hubs[i] = hub
    await wan.connect(p, hub)
    connected++
    o.onProgress?.(connected, total)
  }
  return { hubs, traffic, connected: () => connected }
}

/** The part of a run every shard has: its hubs, their devices, time, the gauges. */
function hubsRun(
  fleet: Fleet,
  o: Pick<StartFleetOptions, 'scheduler'>,
  shard: Shard,
  metrics: FleetMetrics,
  up: Awaited<ReturnType<typeof bringUpHubs>>,
  wan: HubWan,
  close: () => Promise<void>,
): HubsRun {
  const { scheduler } = o
  const { hubs } = up
  const meterStates = function* () {
    for (const i of shardPremises(shard, fleet.size)) {
      const hub = hubs[i]!
      const esme = hub.device(fleet.esme[i]!.eui)
      if (esme) yield esme
      const g = fleet.gsme[i]
      const gsme = g && hub.device(g.eui)
      if (gsme) yield gsme
    }
  }
  const gauges = (): FleetGauges => {
    const supply: Record<Supply, number> = { enabled: 0, disabled: 0, armed: 0 }
    let devices = 0
    for (const d of meterStates()) {
      devices++
      supply[d.supply]++
    }
    const hubDrops: Record<string, number> = {}
    for (const hub of hubs)
      if (hub)
        for (const [reason, n] of Object.entries(hub.drops)) hubDrops[reason] = (hubDrops[reason] ?? 0) + n!
    return {
      now: new Date(scheduler.now()).toISOString(),
      premises: fleet.size,
      shard: shardText(shard),
      hubs: shardSize(shard, fleet.size),
      hubsConnected: up.connected(),
      devices,
      supply,
      hubDrops,
      hubTraffic: { commands: wan.commandsIn(), ...up.traffic },
    }
  }
  return {
    fleet,
    scheduler,
    metrics,
    shard,
    hub: (i) => hubs[i],
    device(eui) {
      const at = fleet.locate(eui)
      if (!at || !inShard(shard, at.premise)) return undefined
      const hub = hubs[at.premise]
      if (at.role === 'ESME' || at.role === 'GSME') return hub?.device(eui as Eui64)
      return hub?.ppmid(eui as Eui64) ?? fleet.device(eui)
    },
    async advance(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance by ${ms} ms`)
      const target = scheduler.now() + ms
      for (;;) {
        const next = scheduler.next()
        if (next === undefined || next > target) break
        scheduler.run({ until: Math.min(target, next + ADVANCE_SLICE_MS) })
        await yieldToIo()
      }
      scheduler.run({ until: target })
      await yieldToIo()
    },
    sync() {
      for (const d of meterStates()) fleet.replaceDevice(d)
      for (const i of shardPremises(shard, fleet.size)) {
        const p = fleet.ppmid[i] && hubs[i]?.ppmid(fleet.ppmid[i]!.eui)
        if (p) fleet.replaceDevice(p)
      }
    },
    snapshot: () => snapshotMetrics(metrics, gauges()),
    close,
  }
}

/**
 * The hubs of `o.shard` only, over the broker at `o.wan.broker`, without a DCC: a shard other
 * than 1/n of a sharded fleet, whose commands come from shard 1's head end through the broker.
 */
export async function startHubs(fleet: Fleet, o: StartHubsOptions): Promise<HubsRun> {
  const wan = 'broker' in o.wan ? mqttHubWan(o.wan.broker, o.connectTimeoutMs ?? 10_000) : o.wan
  let up: Awaited<ReturnType<typeof bringUpHubs>>
  try {
    up = await bringUpHubs(fleet, o, o.shard, wan)
  } catch (e) {
    await wan.close()
    throw e
  }
  return hubsRun(fleet, o, o.shard, o.metrics ?? createMetrics(), up, wan, () => wan.close())
}

/**
 * The DCC, its head end and the hubs (of `o.shard`, default all). A sharded run (count > 1)
 * needs an external broker: the other shards' hubs are reached through it.
 */
export async function startFleet(fleet: Fleet, o: StartFleetOptions): Promise<FleetRun> {
  const { scheduler } = o
  const shard = o.shard ?? WHOLE_FLEET
  const wanChoice = o.wan ?? 'in-process'
  if (shard.count > 1 && typeof wanChoice !== 'object')
    throw new RangeError(
      `shard ${shardText(shard)}: a sharded run needs an external broker ({ broker: url })`,
    )
  const metrics = o.metrics ?? createMetrics()

  let broker: EmbeddedBroker | undefined
  let headEnd: HeadEnd
  let wan: HubWan
  if (wanChoice === 'in-process') {
    const inProcess = createInProcessWan(scheduler)
    headEnd = inProcess.headEnd
    wan = {
      open: () => {},
      // The in-process WAN's uplink for the hub, made for the message (nothing kept per hub).
      send: (commsHub, u) => inProcess.uplinkFor(commsHub)(u),
      connect: async (_p, hub) => inProcess.register(hub),
      commandsIn: () => inProcess.commandsDelivered,
      close: async () => {},
    }
  } else {
    if (wanChoice === 'embedded-broker') broker = await startBroker()
    const url = broker?.url ?? (wanChoice as { broker: string }).broker
    const timeout = o.connectTimeoutMs ?? 10_000
    const mqtt = new MqttHeadEnd(scheduler, { url })
    try {
      await within(timeout, `the DCC head end could not connect to ${url}`, mqtt.connect())
    } catch (e) {
      await mqtt.close()
      await broker?.close()
      throw e
    }
    headEnd = mqtt
    wan = mqttHubWan(url, timeout)
  }

  const closeWan = async () => {
    await wan.close()
    await headEnd.close()
    await broker?.close()
  }
  let up: Awaited<ReturnType<typeof bringUpHubs>>
  try {
    up = await bringUpHubs(fleet, o, shard, wan)
  } catch (e) {
    await closeWan()
    throw e
  }

  const { dcc, sat, submit } = createFleetDcc(fleet, { ...o, headEnd, metrics })

  return {
    ...hubsRun(fleet, o, shard, metrics, up, wan, closeWan),
    // As given (the scheduler's type may be richer than Scheduler).
    scheduler: o.scheduler,
    dcc,
    sat,
    headEnd,
    brokerUrl: broker?.url,
    submit,
  }
}

/** The parts of a run that are the DCC's: what startFleet and the worker-thread fleet share. */
export interface FleetDcc {
  /** The DCC, its `submit` counted in the metrics. */
  dcc: Dcc
  sat: ServiceAuditTrail
  /** A Service Request to the DCC, counted in the metrics. Never throws. */
  submit(request: DuisRequest): Promise<DuisResult>
}

/**
 * A DCC over the fleet (createDcc with dccParts), on the scheduler's clock, whose transport is
 * `headEnd.send` to the hub the Smart Metering Inventory names, SR 8.11 `headEnd.addDevice`, and
 * every alert from `headEnd` handed to `dcc.deliverAlert`; all counted in `metrics`.
 */
export function createFleetDcc(
  fleet: Fleet,
  o: Pick<StartFleetOptions, 'scheduler' | 'backend' | 'sat' | 'dcc'> & {
    headEnd: HeadEnd
    metrics: FleetMetrics
  },
): FleetDcc {
  const { scheduler, backend, headEnd, metrics } = o
  const sat = o.sat ?? createMemorySat({ now: () => new Date(scheduler.now()) })
  const parts = dccParts(fleet, backend)
  const pipeline = createDcc({
    ...o.dcc,
    ...parts,
    // A caller's view of the fleet's Users (one that grants roles, solr.ts grantableUsers), and
    // signers for Users of its own (a Shared Resource Provider), next to the fleet's.
    users: o.dcc?.users ?? parts.users,
    signers: { ...parts.signers, ...o.dcc?.signers },
    sat,
    now: () => scheduler.now(),
    async transport(deviceId, bytes) {
      const commsHub = fleet.inventory.get(deviceId)?.commsHub
      if (!commsHub) return undefined
      metrics.commands++
      try {
        const response = await headEnd.send(commsHub as Eui64, bytes)
        if (response) metrics.responses++
        return response
      } catch (e) {
        metrics.errors++
        throw e
      }
    },
    hanDeviceLog: { addDevice: (commsHub, entry) => headEnd.addDevice(commsHub, entry) },
  })
  async function submit(request: DuisRequest): Promise<DuisResult> {
    const started = performance.now()
    let result: DuisResult
    try {
      result = await pipeline.submit(request)
    } catch (e) {
      // createDcc promises never to throw; should it, the caller still gets an answer.
      metrics.errors++
      result = { code: INTERNAL_FAULT_CODE, reason: `internal fault: ${(e as Error).message}` }
    }
    recordRequest(metrics, result, performance.now() - started)
    return result
  }
  // The DCC as the runner hands it out (to the HTTP API too): its submit counted in the metrics.
  const dcc = new Proxy(pipeline, {
    get(target, key) {
      if (key === 'submit') return submit
      const v = Reflect.get(target, key, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  headEnd.onAlert((a) => {
    metrics.alerts++
    const r = dcc.deliverAlert(a.from, a.bytes)
    if (r.delivered) metrics.alertsDelivered++
    else metrics.alertsUndelivered++
  })

  return { dcc, sat, submit }
}

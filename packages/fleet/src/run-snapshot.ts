/**
 * A running fleet kept and brought back: one CBOR document (cbor-x) with the virtual time it was
 * taken at, the fleet (snapshotFleet: spec, PKI, every device's state as its hub holds it,
 * Registration Data, the Smart Metering Inventory, Users), the metrics, and (version 2, issue 12)
 * every hub's own state and the DCC's:
 *
 *  - **Hubs** (`hubs[i]`, premise i; null for another shard's): the CHF's anti-replay counters,
 *    alert counter and Device Log (with the Historic Device Log), the GPF's counters, alert counter,
 *    queue, mirror and lost-GSME count, and which of the premise's devices are joined. Compact: a
 *    tuple per hub, a log entry naming its device by role (0 ESME, 1 GSME, 2 PPMID) and its install
 *    code as `1` when it is that device's own, a GPF mirror as `1` when it is the GSME's state
 *    itself (the usual case: it is the state the GSME left at its last wake-up) and otherwise the
 *    GSME's snapshot without the cells, configuration and tariff it shares with the GSME. The queued
 *    commands keep their bytes and time, not their WAN ids: the head end that waited for their
 *    responses is gone (a restored run's starts its ids again at 1), so the GSME still runs them at
 *    its next wake-up and its response finds nobody waiting (the DCC's request got E21 or was
 *    never answered before the stop).
 *  - **DCC** (`dcc`, @smetsim/dcc `exportDccState`): alert seq, queues and counters, Pre-Commands
 *    awaiting a signature, the CoS Party's counter, anomaly detection state, DCC Schedules, and the
 *    newest `satRecords` SAT records (default DCC_STATE_SAT_RECORDS, 10,000: bounded whatever the
 *    SAT holds; a restored memory SAT continues their chain).
 *
 * Not kept: future-dated commands awaiting their outcome (packages/dcc state.ts), the hubs' drop
 * counts and their cache of recent WAN ids, which devices a test made unreachable, the households.
 *
 * Version 1 documents (no hubs, no DCC state, `schedules` on their own) still restore: hubs as at
 * bring-up, a DCC with its Schedules only.
 */
import { type Eui64, err, ok, type Result, type Scheduler } from '@smetsim/core'
import {
  DCC_STATE_SAT_RECORDS,
  type Dcc,
  type DccState,
  exportDccState,
  type RestoredDccState,
  restoreDccState,
  type ServiceAuditTrail,
} from '@smetsim/dcc'
import { type DeviceState, restoreDevice, snapshotDevice } from '@smetsim/device'
import type { DeviceLogEntry, HistoricEntry, Hub } from '@smetsim/hub'
import { Encoder } from 'cbor-x'
import { type Fleet, ppmidInstallCode } from './build.ts'
import { createMetrics, type FleetMetrics, LATENCY_WINDOW } from './metrics.ts'
import { compileSpec } from './premise.ts'
import {
  type HubsRun,
  JOINED_ESME,
  JOINED_GSME,
  JOINED_PPMID,
  type KeptHub,
  type StartFleetOptions,
} from './run.ts'
import { parseShard, type Shard, shardPremises, shardText } from './shard.ts'
import { FleetSnapshotError, restoreFleet, snapshotFleet } from './snapshot.ts'

type ScheduleBook = Dcc['scheduleBook']

const FORMAT = 'smetsim-fleet-run'
/** 2: hubs and DCC state (issue 12); 1: neither (still read). */
const VERSION = 2
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** A CHF Device Log entry: device (0 ESME, 1 GSME, 2 PPMID, or its EUI), type (0: the role's, null: none), install code (1: the device's own, 0: none), join window, link key hash (0: none), CCS01 type code (0: none). */
type EntryData = [
  who: 0 | 1 | 2 | string,
  deviceType: 0 | string | null,
  installCode: 0 | 1 | Uint8Array,
  joinUntil: number,
  joinFrom: number,
  linkKeyHash: 0 | Uint8Array,
  typeCode: number | null,
]
/** The GPF: counters (0: none), alert counter, queue ([bytes, queuedAt]), mirror (0 none, 1 the GSME's state, { s } stripped snapshot, { f } full), mirrorAt, missed wakes, lost raised. */
type GpfData = [
  counters: 0 | Record<string, bigint>,
  alertCounter: bigint,
  queue: [Uint8Array, number][],
  mirror: 0 | 1 | { s: Uint8Array } | { f: Uint8Array },
  mirrorAt: number | null,
  missedWakes: number,
  lostRaised: 0 | 1,
]
/** A hub: CHF counters (0: none), CHF alert counter, log entries, historic log (0: empty), GPF (0: none), joined bits. */
type HubData = [
  counters: 0 | Record<string, bigint>,
  alertCounter: bigint,
  log: EntryData[],
  historic: 0 | HistoricEntry[],
  gpf: 0 | GpfData,
  joined: number,
]

interface RunSnapshot {
  format: typeof FORMAT
  version: 1 | 2
  /** Virtual time, epoch ms. */
  now: number
  fleet: Uint8Array
  /** Version 1 only (version 2 has them in `dcc`). */
  schedules?: ScheduleBook
  metrics: FleetMetrics
  /** The shard the run served, `i/n`; absent for the whole fleet (snapshots from before sharding). */
  shard?: string
  /** Version 2: the DCC's state; null for a shard without the DCC. */
  dcc?: DccState | null
  /** Version 2: premise i's hub, null for another shard's. */
  hubs?: (HubData | null)[]
}

export interface RestoredRun {
  fleet: Fleet
  /** The virtual time the snapshot was taken at: start the scheduler here. */
  now: number
  /** The DCC Schedules (also in `dcc`); give to startFleet as `dcc: { schedules }` for a version 1 document. */
  schedules: ScheduleBook
  metrics: FleetMetrics
  /** The shard the run served (`1/1`: the whole fleet): restore it as that shard. */
  shard: Shard
  /** The DCC's state (version 2 and the DCC's shard); undefined otherwise. */
  dcc: RestoredDccState | undefined
  /** Premise i's hub as kept (version 2); undefined: made again as at bring-up. */
  hubs: (premise: number) => KeptHub | undefined
}

export interface SnapshotRunOptions {
  /** SAT records kept, the newest (default DCC_STATE_SAT_RECORDS). */
  satRecords?: number
}

/**
 * A run (the whole fleet, or one shard of it) as CBOR. A shard without the DCC keeps no DCC
 * state: the DCC and its state live with shard 1.
 */
export function snapshotRun(
  run: HubsRun & { dcc?: Dcc; sat?: ServiceAuditTrail },
  o: SnapshotRunOptions = {},
): Uint8Array {
  run.sync()
  const { fleet } = run
  const c = compileSpec(fleet.spec)
  const hubs: (HubData | null)[] = new Array(fleet.size).fill(null)
  for (const i of shardPremises(run.shard, fleet.size)) {
    const hub = run.hub(i)
    if (hub) hubs[i] = hubData(hub, fleet, i, () => ppmidInstallCode(c, i))
  }
  const snapshot: RunSnapshot = {
    format: FORMAT,
    version: VERSION,
    now: run.scheduler.now(),
    fleet: snapshotFleet(fleet),
    metrics: run.metrics,
    ...(run.shard.count > 1 && { shard: shardText(run.shard) }),
    dcc: run.dcc
      ? exportDccState(run.dcc, {
          ...(run.sat && { sat: run.sat }),
          satRecords: o.satRecords ?? DCC_STATE_SAT_RECORDS,
        })
      : null,
    hubs,
  }
  return cbor.encode(snapshot)
}

/**
 * What startFleet (or startHubs) takes from a restored run, on `scheduler` (started at `now`):
 * the metrics, the kept hubs, the DCC's state and a memory SAT continuing the kept one.
 */
export function restoredRunOptions(
  r: RestoredRun,
  scheduler: Scheduler,
): Pick<StartFleetOptions, 'metrics' | 'hubs' | 'dcc' | 'sat'> {
  return {
    metrics: r.metrics,
    hubs: r.hubs,
    dcc: { schedules: r.schedules, ...r.dcc?.config },
    ...(r.dcc && { sat: r.dcc.createSat(() => new Date(scheduler.now())) }),
  }
}

/** A run back from snapshotRun's bytes. Never throws: anything else is an error naming the problem. */
export function restoreRun(bytes: Uint8Array): Result<RestoredRun, FleetSnapshotError> {
  const fail = (why: string) => err(new FleetSnapshotError(`not a fleet run snapshot: ${why}`))
  let data: Partial<RunSnapshot>
  try {
    data = cbor.decode(bytes)
  } catch (e) {
    return fail((e as Error).message)
  }
  if (data === null || typeof data !== 'object') return fail('not a map')
  if (data.format !== FORMAT) return fail(`expected format '${FORMAT}'`)
  if (data.version !== 1 && data.version !== VERSION)
    return fail(`version ${String(data.version)}, this reads 1 and ${VERSION}`)
  if (typeof data.now !== 'number' || !Number.isFinite(data.now)) return fail('no virtual time')
  if (!(data.fleet instanceof Uint8Array)) return fail('no fleet')
  let dcc: RestoredDccState | undefined
  let schedules: ScheduleBook
  if (data.version === 1) {
    if (data.schedules === null || typeof data.schedules !== 'object') return fail('no DCC schedules')
    schedules = data.schedules
  } else {
    if (data.dcc !== null) {
      const d = restoreDccState(data.dcc)
      if (!d.ok) return fail(`dcc: ${d.error.message}`)
      dcc = d.value
    }
    schedules = dcc?.config.schedules ?? { version: 2, nextNumber: 1, schedules: [], counters: {} }
  }
  const shard = data.shard === undefined ? ok({ index: 1, count: 1 }) : parseShard(data.shard)
  if (!shard.ok) return fail(`shard: ${shard.error}`)
  const fleet = restoreFleet(data.fleet)
  if (!fleet.ok) return err(fleet.error)
  let kept: (KeptHub | undefined)[] = []
  if (data.version === VERSION) {
    if (!Array.isArray(data.hubs) || data.hubs.length !== fleet.value.size)
      return fail(`hubs: expected ${fleet.value.size} entries`)
    try {
      kept = keptHubs(data.hubs, fleet.value)
    } catch (e) {
      return fail(`hubs: ${(e as Error).message}`)
    }
  }
  return ok({
    shard: shard.value,
    fleet: fleet.value,
    now: data.now,
    schedules,
    metrics: restoredMetrics(data.metrics),
    dcc,
    hubs: (i) => kept[i],
  })
}

// ---------------------------------------------------------------------------------------------
// Hubs

const ROLE_TYPES = ['ESME', 'GSME', 'PPMID'] as const

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

/** Premise i's devices as the log names them: ESME, GSME, PPMID (EUI and own install code). */
function premiseDevices(fleet: Fleet, i: number, ppmidCode: () => Uint8Array) {
  const esme = fleet.esme[i]!
  const gsme = fleet.gsme[i]
  const ppmid = fleet.ppmid[i]
  return [
    { eui: esme.eui, code: () => esme.installCode },
    gsme && { eui: gsme.eui, code: () => gsme.installCode },
    ppmid && { eui: ppmid.eui, code: ppmidCode },
  ] as const
}

function hubData(hub: Hub, fleet: Fleet, i: number, ppmidCode: () => Uint8Array): HubData {
  const { chf, gpf } = hub.state
  const devices = premiseDevices(fleet, i, ppmidCode)
  const entry = (e: DeviceLogEntry): EntryData => {
    const role = devices.findIndex((d) => d?.eui === e.eui)
    const own = role >= 0 ? devices[role]!.code() : undefined
    return [
      role >= 0 ? (role as 0 | 1 | 2) : e.eui,
      role >= 0 && e.deviceType === ROLE_TYPES[role] ? 0 : (e.deviceType ?? null),
      e.installCode === undefined ? 0 : sameBytes(e.installCode, own) ? 1 : e.installCode,
      e.joinUntil,
      e.joinFrom,
      e.linkKeyHash ?? 0,
      e.typeCode ?? null,
    ]
  }
  let joined = 0
  if (hub.isJoined(fleet.esme[i]!.eui)) joined |= JOINED_ESME
  const gsme = fleet.gsme[i]
  if (gsme && hub.isJoined(gsme.eui)) joined |= JOINED_GSME
  const ppmid = fleet.ppmid[i]
  if (ppmid && hub.isJoined(ppmid.eui)) joined |= JOINED_PPMID
  let g: 0 | GpfData = 0
  if (gpf) {
    const now = gsme && hub.device(gsme.eui)
    const m = gpf.mirror
    const mirror: GpfData[3] = !m
      ? 0
      : m === now
        ? 1
        : now && m.cells === now.cells && m.config === now.config && m.tariff === now.tariff
          ? { s: snapshotDevice({ ...m, cells: {}, config: undefined as never, tariff: undefined as never }) }
          : { f: snapshotDevice(m) }
    g = [
      Object.keys(gpf.counters).length > 0 ? (gpf.counters as Record<string, bigint>) : 0,
      gpf.alertCounter,
      gpf.queue.map((q) => [q.bytes, q.queuedAt]),
      mirror,
      gpf.mirrorAt ?? null,
      gpf.missedWakes,
      gpf.lostRaised ? 1 : 0,
    ]
  }
  return [
    Object.keys(chf.counters).length > 0 ? (chf.counters as Record<string, bigint>) : 0,
    chf.alertCounter,
    chf.log.entries.map(entry),
    chf.log.historic.length > 0 ? [...chf.log.historic] : 0,
    g,
    joined,
  ]
}

/** Throws an Error naming the premise and field on anything that is not such a hub. */
function keptHubs(list: unknown[], fleet: Fleet): (KeptHub | undefined)[] {
  const c = compileSpec(fleet.spec)
  return list.map((h, i) => {
    if (h === null || h === undefined) return undefined
    const at = (field: string) => `premise ${i}: ${field}`
    const bad = (field: string): never => {
      throw new Error(at(field))
    }
    if (!Array.isArray(h) || h.length !== 6) return bad('expected a hub')
    const [counters, alertCounter, log, historic, gpf, joined] = h as HubData
    const byRole: readonly ({ eui: string; code: () => Uint8Array | undefined } | undefined)[] =
      premiseDevices(fleet, i, () => ppmidInstallCode(c, i))
    const checkCounters = (v: unknown, field: string) => {
      if (v === 0) return {}
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(`${field}: expected counters`)
      for (const n of Object.values(v))
        if (typeof n !== 'bigint' || n < 0n) bad(`${field}: expected counters`)
      return v as Record<string, bigint>
    }
    const counter = (v: unknown, field: string) =>
      typeof v === 'bigint' && v >= 0n ? v : bad(`${field}: expected a counter`)
    const time = (v: unknown, field: string) =>
      typeof v === 'number' && Number.isFinite(v) ? v : bad(`${field}: expected a time`)
    const bytes = (v: unknown, field: string) =>
      v instanceof Uint8Array ? v : bad(`${field}: expected bytes`)
    if (!Array.isArray(log)) bad('log: expected entries')
    const entries = log.map((e, k): DeviceLogEntry => {
      const f = `log[${k}]`
      if (!Array.isArray(e) || e.length !== 7) return bad(f)
      const [who, type, code, joinUntil, joinFrom, hash, typeCode] = e
      const role: number = typeof who === 'number' ? who : -1
      const device = role >= 0 ? byRole[role] : undefined
      if (role >= 0 && !device) bad(`${f}: no such device on the premise`)
      if (role < 0 && typeof who !== 'string') bad(`${f}: expected a device`)
      const eui = (device?.eui ?? who) as Eui64
      const installCode =
        code === 0
          ? undefined
          : code === 1
            ? (device?.code() ?? bad(`${f}.installCode`))
            : bytes(code, `${f}.installCode`)
      const deviceType =
        type === 0
          ? role >= 0
            ? (ROLE_TYPES as readonly string[])[role]
            : bad(`${f}.deviceType`)
          : type === null
            ? undefined
            : typeof type === 'string'
              ? type
              : bad(`${f}.deviceType`)
      return {
        eui,
        ...(deviceType !== undefined && { deviceType }),
        ...(typeCode !== null && {
          typeCode: typeof typeCode === 'number' ? typeCode : bad(`${f}.typeCode`),
        }),
        ...(installCode && { installCode }),
        joinUntil: time(joinUntil, `${f}.joinUntil`),
        joinFrom: time(joinFrom, `${f}.joinFrom`),
        ...(hash !== 0 && { linkKeyHash: bytes(hash, `${f}.linkKeyHash`) }),
      }
    })
    const historicEntries =
      historic === 0
        ? []
        : Array.isArray(historic)
          ? historic.map((x, k) =>
              typeof x?.eui === 'string' && x.linkKeyHash instanceof Uint8Array ? x : bad(`historic[${k}]`),
            )
          : bad('historic')
    let gpfState: KeptHub['gpf']
    if (gpf !== 0) {
      if (!Array.isArray(gpf) || gpf.length !== 7) return bad('gpf')
      const gsme = fleet.gsme[i]
      const [gc, ga, queue, mirror, mirrorAt, missed, lost] = gpf
      let m: DeviceState | undefined
      try {
        if (mirror === 1) m = gsme ?? bad('gpf.mirror: no GSME')
        else if (mirror !== 0 && mirror instanceof Object && 's' in mirror) {
          if (!gsme) bad('gpf.mirror: no GSME')
          m = { ...restoreDevice(mirror.s), cells: gsme!.cells, config: gsme!.config, tariff: gsme!.tariff }
        } else if (mirror !== 0 && mirror instanceof Object && 'f' in mirror) m = restoreDevice(mirror.f)
        else if (mirror !== 0) bad('gpf.mirror')
      } catch (e) {
        bad(`gpf.mirror: ${(e as Error).message}`)
      }
      if (!Array.isArray(queue)) bad('gpf.queue')
      gpfState = {
        counters: checkCounters(gc, 'gpf.counters'),
        alertCounter: counter(ga, 'gpf.alertCounter'),
        queue: queue.map((q, k) => {
          if (!Array.isArray(q) || q.length !== 2) return bad(`gpf.queue[${k}]`)
          return {
            bytes: bytes(q[0], `gpf.queue[${k}]`),
            queuedAt: time(q[1], `gpf.queue[${k}]`),
            id: undefined,
          }
        }),
        mirror: m,
        ...(mirrorAt !== null && { mirrorAt: time(mirrorAt, 'gpf.mirrorAt') }),
        missedWakes: Number.isSafeInteger(missed) && missed >= 0 ? missed : bad('gpf.missedWakes'),
        lostRaised: lost === 1,
      }
    }
    if (!Number.isSafeInteger(joined) || joined < 0 || joined > 7) bad('joined')
    return {
      chf: {
        counters: checkCounters(counters, 'counters'),
        alertCounter: counter(alertCounter, 'alertCounter'),
        log: { entries, historic: historicEntries },
      },
      gpf: gpfState,
      joined,
    }
  })
}

/** The counters as kept, each checked; what is not a count starts again at zero. */
function restoredMetrics(kept: unknown): FleetMetrics {
  const m = createMetrics()
  if (kept === null || typeof kept !== 'object') return m
  const k = kept as Record<string, unknown>
  const count = (v: unknown) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : 0)
  for (const key of [
    'requests',
    'answered',
    'commands',
    'responses',
    'alerts',
    'alertsDelivered',
    'alertsUndelivered',
    'errors',
  ] as const)
    m[key] = count(k[key])
  if (k.rejections && typeof k.rejections === 'object')
    for (const [code, n] of Object.entries(k.rejections as Record<string, unknown>))
      if (/^[EIW]\d{1,7}$/.test(code)) m.rejections[code] = count(n)
  // The latency window, when it is one (at most LATENCY_WINDOW samples of wall ms).
  const l = k.latency as { samples?: unknown; next?: unknown; count?: unknown } | undefined
  if (
    l &&
    Array.isArray(l.samples) &&
    l.samples.length <= LATENCY_WINDOW &&
    l.samples.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) &&
    Number.isSafeInteger(l.next) &&
    (l.next as number) >= 0 &&
    (l.next as number) < LATENCY_WINDOW
  )
    m.latency = { samples: [...(l.samples as number[])], next: l.next as number, count: count(l.count) }
  return m
}

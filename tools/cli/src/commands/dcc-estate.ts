/**
 * The estate `smetsim dcc serve` runs, and its keeping across restarts.
 *
 * Each premises (an ESME, a GSME, or an ESME and its GSME) sits behind a Communications Hub of its
 * own (CHF and GPF, packages/hub) on the in-process WAN; every hub runs on the one scheduler the
 * caller moves (the real-time driver). The PKI issues no hub certificates, so a hub's EUIs follow
 * the PKI's highest device (CHF, GPF, CHF, GPF …: `hubEuis`) and its keys are made on its first
 * start and kept here.
 *
 * The estate file (CBOR, cbor-x) holds the scheduler's time and, per hub, its keys, its CHF state
 * (counters, Device Log), its GPF state (counters, queue, mirror and the wake-up it is as of) and its devices (packages/device
 * `snapshotDevice`), each with whether it has joined the HAN, and the DCC's in-memory state
 * (packages/dcc `exportDccState`: the DCC Schedules, alert queues and seq, Pre-Commands awaiting
 * CV5, the CoS Party's counter, anomaly-detection state; the SAT is on disk, so none of it here).
 * Version 1 files (one device a hub, before GSMEs) and version 2 files (before the DCC's state was
 * kept: the DCC starts fresh) still read. `readEstate` checks every field before anything is built from it and
 * answers why not otherwise; it never throws.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { type Eui64, isEui, newP256KeyPair } from '@smetsim/core'
import { type DccState, type RestoredDccState, restoreDccState } from '@smetsim/dcc'
import { type DeviceState, restoreDevice, snapshotDevice } from '@smetsim/device'
import type { DeviceLog, GpfState, Hub, HubState } from '@smetsim/hub'
import { Encoder } from 'cbor-x'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

const FORMAT = 'smetsim dcc serve estate'

/** A hub's identity: its EUIs and keys (32-byte P-256 scalars). */
export interface HubIdentity {
  chf: Eui64
  chfKa: Uint8Array
  gpf: Eui64
  gpfKeys: { ds: Uint8Array; ka: Uint8Array }
}

/** One hub of a restored estate, ready to build again. */
export interface RestoredHub extends HubIdentity {
  state: HubState
  /** Its devices in the order they were attached (the premises' first device first). */
  devices: { device: DeviceState; joined: boolean }[]
}

export interface RestoredEstate {
  /** The scheduler's time when it was saved (virtual ms). */
  now: number
  /** By the EUI of the hub's first device. */
  hubs: Map<Eui64, RestoredHub>
  /** The DCC's state (spread `config` into createDcc's); none from a version 1 or 2 file. */
  dcc: RestoredDccState | undefined
}

/**
 * The CHF and GPF EUIs of each premises' hub, keyed by its first device: the EUIs after the
 * highest of `devices`, two per premises in the order of `premises`.
 */
export function hubEuis(
  premises: readonly Eui64[],
  taken: ReadonlySet<string>,
  devices: readonly Eui64[] = premises,
): Map<Eui64, { chf: Eui64; gpf: Eui64 }> {
  const top = devices.reduce((m, d) => (BigInt(`0x${d}`) > m ? BigInt(`0x${d}`) : m), 0n)
  const eui = (n: bigint) => {
    if (n > 0xffff_ffff_ffff_ffffn)
      throw new RangeError('the hub EUIs after the PKI devices run past FFFFFFFFFFFFFFFF')
    const e = n.toString(16).toUpperCase().padStart(16, '0') as Eui64
    if (taken.has(e)) throw new RangeError(`hub EUI ${e} is already a party of the PKI`)
    return e
  }
  return new Map(
    premises.map((d, i) => [d, { chf: eui(top + 1n + 2n * BigInt(i)), gpf: eui(top + 2n + 2n * BigInt(i)) }]),
  )
}

/**
 * The premises, each one hub: an ESME and the GSME the PKI lists right after it share one; any
 * other device (an ESME with no GSME after it, a GSME with no ESME before it) has a hub of its own.
 */
export function premisesOf(devices: readonly Eui64[], typeOf: (eui: Eui64) => 'ESME' | 'GSME'): Eui64[][] {
  const premises: Eui64[][] = []
  for (const eui of devices) {
    const last = premises.at(-1)
    if (typeOf(eui) === 'GSME' && last?.length === 1 && typeOf(last[0]!) === 'ESME') last.push(eui)
    else premises.push([eui])
  }
  return premises
}

/** A new P-256 private key as its 32-byte scalar (core newP256KeyPair: generateKeyPairSync + export can deadlock). */
export function newScalar(): Uint8Array {
  return newP256KeyPair().scalar
}

/**
 * A device's install code, derived from its EUI and key-agreement key so that the same PKI gives
 * the same codes (the registration data made on first start keeps them; a fresh estate must
 * match). How real install codes are made is the manufacturer's; this is a modelling choice.
 */
export function installCodeFor(eui: Eui64, ka: Uint8Array | undefined): Uint8Array {
  const h = createHash('sha256').update('smetsim install code').update(eui)
  if (ka) h.update(ka)
  return new Uint8Array(h.digest().subarray(0, 16))
}

/** The estate as bytes: every hub with its devices, and the DCC's state (`exportDccState`, no SAT). */
export function encodeEstate(
  now: number,
  hubs: readonly { identity: HubIdentity; hub: Hub; devices: readonly Eui64[] }[],
  dcc?: DccState,
): Uint8Array {
  return cbor.encode({
    format: FORMAT,
    version: 3,
    now,
    dcc: dcc ?? null,
    hubs: hubs.map(({ identity, hub, devices }) => {
      const { chf, gpf } = hub.state
      return {
        ...identity,
        chfState: { counters: chf.counters, alertCounter: chf.alertCounter, log: chf.log },
        gpfState: gpf && {
          counters: gpf.counters,
          alertCounter: gpf.alertCounter,
          queue: gpf.queue,
          mirror: gpf.mirror ? snapshotDevice(gpf.mirror) : null,
          mirrorAt: gpf.mirrorAt ?? null,
          missedWakes: gpf.missedWakes,
          lostRaised: gpf.lostRaised,
        },
        devices: devices.map((eui) => ({
          device: snapshotDevice(hub.device(eui)!),
          joined: hub.isJoined(eui),
        })),
      }
    }),
  })
}

/** Written to `path.tmp` and renamed over `path`: a crash mid-save leaves the previous file. */
export function writeEstateFile(path: string, bytes: Uint8Array): void {
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, bytes)
  renameSync(temp, path)
}

/** The estate file read back, or why not (missing, not CBOR, not an estate, a field wrong). */
export function readEstateFile(
  path: string,
): { ok: true; estate: RestoredEstate } | { ok: false; reason: string } {
  if (!existsSync(path)) return { ok: false, reason: 'no saved estate' }
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (e) {
    return { ok: false, reason: `cannot read it: ${(e as Error).message}` }
  }
  return decodeEstate(bytes)
}

class Bad extends Error {}

export function decodeEstate(
  bytes: Uint8Array,
): { ok: true; estate: RestoredEstate } | { ok: false; reason: string } {
  let data: unknown
  try {
    data = cbor.decode(bytes)
  } catch (e) {
    return { ok: false, reason: `not CBOR: ${(e as Error).message}` }
  }
  try {
    const top = record(data, 'the file')
    if (top.format !== FORMAT || (top.version !== 1 && top.version !== 2 && top.version !== 3))
      throw new Bad(`not a ${FORMAT} (version 1, 2 or 3)`)
    const hubs = new Map<Eui64, RestoredHub>()
    for (const [i, h] of array(top.hubs, 'hubs').entries()) {
      const hub = restoredHub(record(h, `hubs[${i}]`), `hubs[${i}]`, top.version)
      const first = hub.devices[0]
      if (!first) throw new Bad(`hubs[${i}].devices: a hub has at least one device`)
      hubs.set(first.device.eui, hub)
    }
    let dcc: RestoredDccState | undefined
    if (top.version === 3 && top.dcc !== null && top.dcc !== undefined) {
      const r = restoreDccState(top.dcc)
      if (!r.ok) throw new Bad(`dcc: ${r.error.message}`)
      dcc = r.value
    }
    return { ok: true, estate: { now: number(top.now, 'now'), hubs, dcc } }
  } catch (e) {
    return { ok: false, reason: e instanceof Bad ? e.message : `not an estate: ${(e as Error).message}` }
  }
}

function restoredHub(h: Record<string, unknown>, at: string, version: 1 | 2 | 3): RestoredHub {
  const gpfKeys = record(h.gpfKeys, `${at}.gpfKeys`)
  const chf = record(h.chfState, `${at}.chfState`)
  const gpf =
    h.gpfState === undefined || h.gpfState === null ? undefined : record(h.gpfState, `${at}.gpfState`)
  const restored = (value: unknown, where: string): DeviceState => {
    try {
      return restoreDevice(bytesOf(value, where))
    } catch (e) {
      throw new Bad(`${where}: ${(e as Error).message}`)
    }
  }
  // Version 1: one device a hub, its fields on the hub.
  const devices =
    version === 1
      ? [{ device: restored(h.device, `${at}.device`), joined: h.joined === true }]
      : array(h.devices, `${at}.devices`).map((v, j) => {
          const d = record(v, `${at}.devices[${j}]`)
          return { device: restored(d.device, `${at}.devices[${j}].device`), joined: d.joined === true }
        })
  const identity: HubIdentity = {
    chf: euiOf(h.chf, `${at}.chf`),
    chfKa: key(h.chfKa, `${at}.chfKa`),
    gpf: euiOf(h.gpf, `${at}.gpf`),
    gpfKeys: { ds: key(gpfKeys.ds, `${at}.gpfKeys.ds`), ka: key(gpfKeys.ka, `${at}.gpfKeys.ka`) },
  }
  const gpfState = (g: Record<string, unknown>): GpfState => {
    const mirror =
      g.mirror === null || g.mirror === undefined
        ? undefined
        : restoreDevice(bytesOf(g.mirror, `${at}.gpfState.mirror`))
    return {
      eui: identity.gpf,
      keys: identity.gpfKeys,
      counters: counters(g.counters, `${at}.gpfState.counters`),
      alertCounter: bigintOf(g.alertCounter, `${at}.gpfState.alertCounter`),
      queue: array(g.queue, `${at}.gpfState.queue`).map((q, j) => {
        const c = record(q, `${at}.gpfState.queue[${j}]`)
        return {
          bytes: bytesOf(c.bytes, `${at}.gpfState.queue[${j}].bytes`),
          queuedAt: number(c.queuedAt, `${at}.gpfState.queue[${j}].queuedAt`),
          id: c.id === undefined || c.id === null ? undefined : number(c.id, `${at}.gpfState.queue[${j}].id`),
        }
      }),
      mirror,
      // Files written before mirrorAt was kept have none: a GPF read then settles the mirror to its own time.
      ...(g.mirrorAt !== undefined &&
        g.mirrorAt !== null && { mirrorAt: number(g.mirrorAt, `${at}.gpfState.mirrorAt`) }),
      missedWakes: number(g.missedWakes, `${at}.gpfState.missedWakes`),
      lostRaised: g.lostRaised === true,
    }
  }
  return {
    ...identity,
    state: {
      chf: {
        eui: identity.chf,
        gpfEui: identity.gpf,
        ka: identity.chfKa,
        cells: {},
        counters: counters(chf.counters, `${at}.chfState.counters`),
        alertCounter: bigintOf(chf.alertCounter, `${at}.chfState.alertCounter`),
        log: deviceLog(chf.log, `${at}.chfState.log`),
      },
      gpf: gpf && gpfState(gpf),
    },
    devices,
  }
}

function deviceLog(value: unknown, at: string): DeviceLog {
  const log = record(value, at)
  return {
    entries: array(log.entries, `${at}.entries`).map((v, i) => {
      const e = record(v, `${at}.entries[${i}]`)
      const where = `${at}.entries[${i}]`
      return {
        eui: euiOf(e.eui, `${where}.eui`),
        ...(e.deviceType !== undefined && { deviceType: string(e.deviceType, `${where}.deviceType`) }),
        ...(e.typeCode !== undefined && { typeCode: number(e.typeCode, `${where}.typeCode`) }),
        ...(e.installCode !== undefined && { installCode: bytesOf(e.installCode, `${where}.installCode`) }),
        joinUntil: number(e.joinUntil, `${where}.joinUntil`),
        joinFrom: number(e.joinFrom, `${where}.joinFrom`),
        ...(e.linkKeyHash !== undefined && { linkKeyHash: bytesOf(e.linkKeyHash, `${where}.linkKeyHash`) }),
      }
    }),
    historic: array(log.historic, `${at}.historic`).map((v, i) => {
      const e = record(v, `${at}.historic[${i}]`)
      return {
        eui: euiOf(e.eui, `${at}.historic[${i}].eui`),
        linkKeyHash: bytesOf(e.linkKeyHash, `${at}.historic[${i}].linkKeyHash`),
      }
    }),
  }
}

// Field checks: each names the field that is wrong.

/** No saved estate holds more than this many of anything (hubs, log entries, queued commands). */
const MAX_ITEMS = 1_000_000

function record(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
    throw new Bad(`${at}: expected a map`)
  return v as Record<string, unknown>
}
function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v) || v.length > MAX_ITEMS) throw new Bad(`${at}: expected a list`)
  return v
}
function number(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Bad(`${at}: expected a number`)
  return v
}
function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new Bad(`${at}: expected text`)
  return v
}
function bigintOf(v: unknown, at: string): bigint {
  if (typeof v === 'bigint' && v >= 0n) return v
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  throw new Bad(`${at}: expected a counter`)
}
function counters(v: unknown, at: string): Record<string, bigint> {
  return Object.fromEntries(Object.entries(record(v, at)).map(([k, c]) => [k, bigintOf(c, `${at}.${k}`)]))
}
function bytesOf(v: unknown, at: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Bad(`${at}: expected bytes`)
  return v
}
function key(v: unknown, at: string): Uint8Array {
  const b = bytesOf(v, at)
  if (b.length !== 32) throw new Bad(`${at}: expected a 32-byte key`)
  return b
}
function euiOf(v: unknown, at: string): Eui64 {
  if (typeof v !== 'string' || !isEui(v)) throw new Bad(`${at}: expected an EUI-64`)
  return v
}

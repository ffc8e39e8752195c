/**
 * A Communications Hub at run time: the CHF and GPF, and the HAN between them and the premises'
 * devices (in-process: ZigBee is local, ARCHITECTURE.md principle 7). It takes GBCS bytes from
 * the WAN and routes them by recipient EUI — to the CHF, to the GPF's mirror, to a GSME's queue
 * (held until it wakes) or straight to an ESME or PPMID — and sends every response and alert
 * back up. Every time-driven thing runs on the scheduler: each device is stepped at its own
 * `wakeAt`, a GSME collects its commands at its wake-ups.
 *
 * Bad input never throws: a frame that is garbage, too large, or for nobody on this HAN is
 * dropped and counted by reason (`drops`).
 */
import { type Eui64, isEui, type ScheduledEvent, type Scheduler } from '@smetsim/core'
import {
  type DeviceInput,
  type DeviceState,
  installCodeMatches,
  type MeterReport,
  nextWake,
  type PpmidInput,
  type PpmidState,
  privateKeyOf,
  remainingBatteryDays,
  step,
  stepPpmid,
} from '@smetsim/device'
import { type CryptoBackend, defaultBackend, tryDecodeFrame } from '@smetsim/gbcs'
import {
  addDeviceDirect,
  type ChfState,
  createChf,
  handleChfFrame,
  joinDevice,
  type NewChfOptions,
  type RaisedAlert,
  removeDeviceDirect,
} from './chf.ts'
import { findEntry } from './device-log.ts'
import {
  collected,
  createGpf,
  enqueue,
  GPF_DEFAULTS,
  type GpfState,
  gpfRead,
  missedWake,
  updateMirror,
} from './gpf.ts'
import { checkJoiningCertificate, type DeviceCertificateAuthority } from './join-certificate.ts'

/** What the hub sends up the WAN. `re`: the WAN id of the command a response answers. */
export interface Uplink {
  kind: 'response' | 'alert'
  /** The GBCS originator: a device, the CHF or the GPF. */
  from: Eui64
  bytes: Uint8Array
  re?: number
}

/** Why the hub dropped a frame from the WAN. */
export type DropReason =
  | 'oversized'
  | 'malformed'
  | 'unknown-recipient'
  | 'not-joined'
  | 'unreachable'
  | 'queue-full'
  | 'duplicate'
  | 'refused'

/** What became of a frame from the WAN. */
export type Delivery =
  | { kind: 'executed' | 'rejected' | 'not-emulated'; reason?: string }
  | { kind: 'queued' }
  | { kind: 'dropped'; reason: DropReason; detail?: string }

/**
 * A consumer's action on a device in the premises (`Hub.consumerInput`). On a meter: its button,
 * accepting emergency credit on it, a UTRN on its keypad. On a PPMID: the PPMID's enable-supply
 * button (PECS03, ESME only), accepting emergency credit (PECS02 / PCS02) and a UTRN typed on it
 * (PCS01), each passed to a paired meter.
 */
export type ConsumerAction =
  | { kind: 'button' }
  | { kind: 'acceptEmergencyCredit' }
  /** A UTRN as typed: the digits (the device checks them). */
  | { kind: 'utrn'; digits: string }

/**
 * What became of a consumer action: the meter's state after and the alert codes it raised, in
 * order (`meter`: the meter that acted, which is the device itself unless a PPMID passed it on).
 * `unreachable`: the device, or the meter a PPMID passes the request to, is out of reach.
 */
export type ConsumerOutcome =
  | { ok: true; meter: Eui64; state: DeviceState; alerts: number[] }
  | {
      ok: false
      reason: 'unknown-device' | 'not-joined' | 'not-a-meter' | 'unreachable' | 'refused'
      detail?: string
    }

/** A GSME's last radio wake-up instant at or before `t` (packages/device `nextWake`'s grid). */
function lastWakeAtOrBefore(s: DeviceState, t: number): number | undefined {
  const next = nextWake(s, t)
  return next === undefined ? undefined : next - s.wake!.intervalMinutes * 60_000
}

/**
 * The first radio wake-up after `now` the GSME's battery is flat for (the hub does not hear it),
 * or undefined when there is none to find (no wake-ups; already flat).
 */
function flatWake(s: DeviceState, now: number): number | undefined {
  const wake = s.wake
  if (!wake || remainingBatteryDays(s, now) === 0) return undefined
  const w = nextWake(s, Math.max(now, wake.batteryAt + wake.batteryDays * 86_400_000 - 1))
  return w !== undefined && remainingBatteryDays(s, w) === 0 ? w : undefined
}

/** GBCS frames above this size are dropped (the largest RTDS frame is under 4 KiB; unconfirmed limit). */
export const MAX_FRAME_BYTES = 16 * 1024

export interface HubOptions {
  scheduler: Scheduler
  chf: NewChfOptions
  /** The GPF's identity (a hub serving a GSME has one). */
  gpf?: { eui: Eui64; keys: { ds: Uint8Array; ka: Uint8Array } }
  /** The Device CAs whose certificates the CHF accepts from joining devices. */
  deviceCas: readonly DeviceCertificateAuthority[]
  uplink: (message: Uplink) => void
  backend?: CryptoBackend
  /** CHF Device Log capacity (default chf.ts DEFAULT_LOG_CAPACITY). */
  logCapacity?: number
  /** GSME commands that may wait at once (default 16). */
  gsmeQueueLimit?: number
  /**
   * A restart: the CHF's and GPF's state as `Hub.state` gave it (counters, Device Log, GPF queue
   * and mirror). Their identities, keys and cells still come from `chf` and `gpf`.
   */
  restore?: HubState
}

/** The CHF's and GPF's state, for a caller that keeps a hub across restarts (devices: `device`). */
export interface HubState {
  chf: ChfState
  gpf: GpfState | undefined
}

interface HanDevice {
  state: DeviceState
  joined: boolean
  reachable: boolean
  /** Its key-agreement certificate (DER), presented when it joins; dropped once joined. */
  certificate: Uint8Array | undefined
  wake: ScheduledEvent | undefined
  /** The instant the device's own firmware last asked to be stepped at (its `wakeAt`). */
  ownWake?: number | undefined
  /**
   * GSME: the next radio wake-up the hub acts at. A quiet GSME's (`quietSince`) is the first one
   * its battery is flat for; undefined when it need act at none (not joined, no GPF).
   */
  expectedWake?: number
  /**
   * GSME, quiet: joined, in reach, nothing queued for it, no wake-up missed. Its radio wake-ups
   * until the battery is flat would only set the GPF mirror to its state, so no event is
   * scheduled for them: the mirror is brought to the last one when it is read or before the
   * GSME's state changes (`catchUpMirror`). The instant after which its wake-ups are to count.
   */
  quietSince?: number
}

/**
 * A PPMID on the HAN. It is no GBCS device here (the fleet's PPMID model has no keys and runs no
 * GBCS commands), so the hub keeps its display state and passes the consumer's requests to its
 * paired meters (`consumerInput`); a WAN frame for it is `not-emulated`.
 */
interface HanPpmid {
  ppmid: PpmidState
  joined: boolean
  reachable: boolean
}

type HanEntry = HanDevice | HanPpmid
const isPpmid = (e: HanEntry): e is HanPpmid => 'ppmid' in e

/** Per-hub limits other than the defaults; most hubs share this one empty object. */
type HubLimits = Pick<HubOptions, 'logCapacity' | 'gsmeQueueLimit'>
const DEFAULT_LIMITS: HubLimits = Object.freeze({})

/**
 * An idle hub is most of a fleet's hubs, so it holds little (bench/hub.ts measures it): the
 * options it needs, not the caller's objects; no device map, drop counts or duplicate memory
 * until it has something to put in them; CHF and GPF state that starts from shared empties.
 */
export class Hub {
  readonly eui: Eui64
  private chf: ChfState
  private gpf: GpfState | undefined
  /** Meters and PPMIDs by EUI: one map, so an idle hub pays for one (bench/hub.ts memory). */
  private devices: Map<Eui64, HanEntry> | undefined
  private readonly scheduler: Scheduler
  private readonly uplink: (message: Uplink) => void
  private readonly deviceCas: readonly DeviceCertificateAuthority[]
  private readonly limits: HubLimits
  private readonly backend: CryptoBackend
  private dropCounts: Partial<Record<DropReason, number>> | undefined
  /**
   * The last few WAN ids received (QoS 1 and resends bring duplicates), each with the response it
   * got or whether it waits in the GPF queue, so a duplicate is answered again without running.
   */
  private recent: { id: number; response?: Uplink; queued?: boolean }[] | undefined

  constructor(o: HubOptions) {
    this.scheduler = o.scheduler
    this.uplink = o.uplink
    this.deviceCas = o.deviceCas
    this.limits =
      o.logCapacity === undefined && o.gsmeQueueLimit === undefined
        ? DEFAULT_LIMITS
        : {
            ...(o.logCapacity !== undefined && { logCapacity: o.logCapacity }),
            ...(o.gsmeQueueLimit !== undefined && { gsmeQueueLimit: o.gsmeQueueLimit }),
          }
    this.backend = o.backend ?? defaultBackend
    const chf = createChf({ ...o.chf, ...(o.gpf && { gpfEui: o.gpf.eui }) })
    const r = o.restore
    this.chf = r
      ? { ...chf, counters: r.chf.counters, alertCounter: r.chf.alertCounter, log: r.chf.log }
      : chf
    this.eui = this.chf.eui
    if (o.gpf) this.gpf = r?.gpf ? { ...r.gpf, eui: o.gpf.eui, keys: o.gpf.keys } : createGpf(o.gpf)
  }

  /** The CHF's and GPF's state now (`HubOptions.restore` takes it back). */
  get state(): HubState {
    this.catchUpMirrors()
    return { chf: this.chf, gpf: this.gpf }
  }

  /** The GPF's EUI, when the hub has one. */
  get gpfEui(): Eui64 | undefined {
    return this.gpf?.eui
  }

  /** Frames dropped, by reason. */
  get drops(): Readonly<Partial<Record<DropReason, number>>> {
    return this.dropCounts ?? {}
  }

  get deviceLog() {
    return this.chf.log
  }

  /** A device's current state, if it is on this hub's premises. */
  device(eui: Eui64): DeviceState | undefined {
    return this.meter(eui)?.state
  }

  /** A PPMID's current state (its pairings and display), if it is on this hub's premises. */
  ppmid(eui: Eui64): PpmidState | undefined {
    const e = this.devices?.get(eui)
    return e && isPpmid(e) ? e.ppmid : undefined
  }

  isJoined(eui: Eui64): boolean {
    return this.devices?.get(eui)?.joined === true
  }

  /** The GSME commands waiting in the GPF. */
  get gsmeQueueLength(): number {
    return this.gpf?.queue.length ?? 0
  }

  /**
   * A device powered on in the premises, with its key-agreement certificate. It tries to join the
   * HAN at once (and again whenever a join window opens for it) and runs on the scheduler from now.
   */
  attach(state: DeviceState, o: { certificate?: Uint8Array; joined?: boolean } = {}): void {
    if (this.devices?.has(state.eui)) throw new Error(`device ${state.eui} is already on hub ${this.eui}`)
    const d: HanDevice = {
      state,
      joined: o.joined === true,
      reachable: true,
      certificate: o.certificate,
      wake: undefined,
    }
    this.devices ??= new Map()
    this.devices.set(state.eui, d)
    const now = this.scheduler.now()
    if (state.type === 'GSME') {
      // Another GSME on the same GPF: neither is quiet (the mirror is one GSME's).
      for (const e of this.devices.values()) if (e !== d && !isPpmid(e)) this.replanRadio(e, now)
      this.planRadio(d, now)
    }
    this.schedule(d, now)
    if (!d.joined) this.tryJoin(d, now)
  }

  /**
   * A PPMID in the premises, with its pairings (SR 8.7 is the DCC's; here they come as built).
   * `joined`: on the HAN already, as after an installation before the run. Its own HAN join is
   * not modelled (it has no key-agreement key in this model), so an unjoined PPMID stays unjoined.
   */
  attachPpmid(state: PpmidState, o: { joined?: boolean } = {}): void {
    if (this.devices?.has(state.eui)) throw new Error(`device ${state.eui} is already on hub ${this.eui}`)
    this.devices ??= new Map()
    this.devices.set(state.eui, { ppmid: state, joined: o.joined === true, reachable: true })
  }

  /** Takes a device away (it stops running). */
  detach(eui: Eui64): void {
    const d = this.devices?.get(eui)
    if (d && !isPpmid(d)) {
      this.catchUpMirror(d, this.scheduler.now())
      d.wake?.cancel()
    }
    this.devices?.delete(eui)
  }

  /** Out of range, or back: an unreachable device's messages neither reach it nor come from it. */
  setReachable(eui: Eui64, reachable: boolean): void {
    const d = this.devices?.get(eui)
    if (!d) return
    if (isPpmid(d)) {
      d.reachable = reachable
      return
    }
    const now = this.scheduler.now()
    this.catchUpMirror(d, now)
    d.reachable = reachable
    this.replanRadio(d, now)
  }

  /**
   * SR 8.11 add as the DCC's in-process interface has it (packages/dcc `HanDeviceLogTransport`):
   * the entry goes into the CHF Device Log and, when the device is on the premises, it tries to
   * join at once. Never throws.
   */
  addDevice(entry: { deviceId: Eui64; deviceType: string; installCode: Uint8Array; joinTimeout?: number }): {
    accepted: boolean
    joined?: boolean
    reason?: string
  } {
    const now = this.scheduler.now()
    if (!isEui(entry.deviceId)) return { accepted: false, reason: `not an EUI-64: ${entry.deviceId}` }
    const r = addDeviceDirect(this.chf, entry, now, this.chfOptions())
    this.chf = r.state
    this.sendAlerts(this.chf.eui, r.alerts)
    if (!r.accepted) return { accepted: false, ...(r.reason && { reason: r.reason }) }
    const e = this.devices?.get(entry.deviceId)
    if (e?.joined) return { accepted: true, joined: true, ...(r.reason && { reason: r.reason }) }
    if (e && isPpmid(e))
      return { accepted: true, joined: false, reason: 'a PPMID’s HAN join is not modelled' }
    const d = e
    if (!d) return { accepted: true, joined: false, reason: 'the device has not tried to join the HAN' }
    const j = this.tryJoin(d, now)
    return { accepted: true, joined: j.joined, ...(j.reason && { reason: j.reason }) }
  }

  /**
   * A device installed before the run: its entry in the CHF Device Log as that installation left
   * it. The CS14 alert (0x8F12) of that addition went up then, so none is raised — nor computed:
   * its MAC costs an ECDH per hub, most of a large fleet's bring-up. Never throws.
   */
  addInstalledDevice(entry: { deviceId: Eui64; deviceType: string; installCode: Uint8Array }): {
    accepted: boolean
    reason?: string
  } {
    if (!isEui(entry.deviceId)) return { accepted: false, reason: `not an EUI-64: ${entry.deviceId}` }
    const r = addDeviceDirect(this.chf, entry, this.scheduler.now(), this.chfOptions(), false)
    this.chf = r.state
    return { accepted: r.accepted, ...(r.reason && { reason: r.reason }) }
  }

  /** SR 8.11 remove (CCS02) in-process: the device leaves the log and the HAN. */
  removeDevice(eui: Eui64): { removed: boolean } {
    const r = removeDeviceDirect(this.chf, eui, this.scheduler.now(), this.chfOptions())
    this.chf = r.state
    this.sendAlerts(this.chf.eui, r.alerts)
    const d = this.devices?.get(eui)
    if (r.removed && d) {
      if (isPpmid(d)) d.joined = false
      else this.leftHan(d)
    }
    return { removed: r.removed }
  }

  /**
   * Local (HAN-side, non-WAN) consumer input on a joined device: on a meter, its button, accepting
   * emergency credit or a UTRN on its keypad; on a PPMID, the same requests passed to a paired
   * meter (`o.meter`, else its paired ESME, else its one paired meter). The meter runs its own use
   * case (its firmware step); the alerts it raises go up the WAN as its other output does. Refused,
   * changing nothing, for a device not on these premises, not joined or out of reach, or a
   * request the PPMID or meter does not take. Never throws. A smetsim control, not a GBCS command:
   * the consumer acts in the premises.
   */
  consumerInput(eui: Eui64, action: ConsumerAction, o: { meter?: Eui64 } = {}): ConsumerOutcome {
    const e = this.devices?.get(eui)
    if (!e) return { ok: false, reason: 'unknown-device' }
    if (!e.joined) return { ok: false, reason: 'not-joined' }
    if (isPpmid(e)) return this.viaPpmid(e, action, o.meter)
    if (e.state.type !== 'ESME' && e.state.type !== 'GSME') return { ok: false, reason: 'not-a-meter' }
    const input: DeviceInput =
      action.kind === 'utrn'
        ? { kind: 'utrn', digits: action.digits, via: 'keypad' }
        : action.kind === 'acceptEmergencyCredit'
          ? { kind: 'acceptEmergencyCredit', via: 'meter' }
          : { kind: 'button' }
    return this.consumerStep(e, input)
  }

  /** A PPMID's request: the PPMID decides what it sends (stepPpmid), the meter runs it. */
  private viaPpmid(p: HanPpmid, action: ConsumerAction, chosen: Eui64 | undefined): ConsumerOutcome {
    if (!p.reachable)
      return { ok: false, reason: 'unreachable', detail: `PPMID ${p.ppmid.eui} is out of reach` }
    const paired = Object.keys(p.ppmid.paired) as Eui64[]
    const meter =
      chosen ??
      paired.find((m) => p.ppmid.paired[m] === 'ESME') ??
      (paired.length === 1 ? paired[0] : undefined)
    if (!meter)
      return { ok: false, reason: 'refused', detail: `PPMID ${p.ppmid.eui} is paired with no meter` }
    const request: PpmidInput =
      action.kind === 'utrn'
        ? { kind: 'utrn', meter, digits: action.digits }
        : action.kind === 'acceptEmergencyCredit'
          ? { kind: 'acceptEmergencyCredit', meter }
          : { kind: 'enableSupply', meter }
    const asked = stepPpmid(p.ppmid, request)
    const toMeter = asked.outputs.toMeter
    if (!toMeter)
      return { ok: false, reason: 'refused', detail: asked.outputs.refused ?? 'the PPMID sent nothing' }
    const d = this.meter(toMeter.meter)
    if (!d?.joined || !d.reachable)
      return {
        ok: false,
        reason: 'unreachable',
        detail: `meter ${toMeter.meter} is not on this HAN or out of reach`,
      }
    const r = this.consumerStep(d, toMeter.input)
    if (r.ok) {
      const report: MeterReport = {
        at: this.scheduler.now(),
        meterBalance: r.state.account.meterBalance,
        emergencyCredit: r.state.account.emergencyCredit,
        supply: r.state.supply,
        paymentMode: r.state.paymentMode,
      }
      p.ppmid = stepPpmid(p.ppmid, { kind: 'report', meter: toMeter.meter, report }).state
    }
    return r
  }

  /**
   * Runs a consumer's input on a meter. The consumer is at the meter, so it runs even when the
   * meter is out of the hub's reach; its alerts then do not go up the WAN.
   */
  private consumerStep(d: HanDevice, input: DeviceInput): ConsumerOutcome {
    try {
      this.catchUpMirror(d, this.scheduler.now())
      const r = step(d.state, input, this.scheduler.now(), { backend: this.backend })
      d.state = r.state
      if (d.reachable) this.alertsUp(d, r.outputs.alerts)
      this.schedule(d, r.outputs.wakeAt)
      if (d.state.type === 'GSME' && this.gpf && d.reachable)
        this.gpf = updateMirror(this.gpf, d.state, this.scheduler.now())
      return { ok: true, meter: d.state.eui, state: d.state, alerts: r.outputs.alerts.map((a) => a.code) }
    } catch (e) {
      return { ok: false, reason: 'refused', detail: `hub fault: ${(e as Error).message}` }
    }
  }

  /** GBCS bytes from the WAN. `id` is the WAN message id (MQTT), echoed on the response. Never throws. */
  receive(bytes: Uint8Array, id?: number): Delivery {
    if (!(bytes instanceof Uint8Array)) return this.drop('malformed', 'not bytes')
    if (bytes.length > MAX_FRAME_BYTES) return this.drop('oversized', `${bytes.length} bytes`)
    const earlier = id === undefined ? undefined : this.recent?.find((r) => r.id === id)
    if (earlier) {
      this.drop('duplicate', `WAN message ${id} again`)
      if (earlier.response) this.uplink(earlier.response)
      return earlier.queued && !earlier.response
        ? { kind: 'queued' }
        : { kind: 'dropped', reason: 'duplicate' }
    }
    if (id !== undefined) this.remember(id)
    const decoded = tryDecodeFrame(bytes)
    if (!decoded.ok) return this.drop('malformed', decoded.error.message)
    const s = decoded.value.signing
    const now = this.scheduler.now()
    try {
      if (s.recipient === this.chf.eui) return this.toChf(bytes, now, id)
      if (this.gpf && s.recipient === this.gpf.eui) return this.toGpf(bytes, s.messageCode, id)
      const d = this.devices?.get(s.recipient)
      if (!d) return this.drop('unknown-recipient', s.recipient)
      if (isPpmid(d))
        return { kind: 'not-emulated', reason: `PPMID ${s.recipient} runs no GBCS commands here` }
      if (!d.joined || !findEntry(this.chf.log, s.recipient)) return this.drop('not-joined', s.recipient)
      if (d.state.type === 'GSME' && this.gpf) {
        const r = enqueue(
          this.gpf,
          { bytes, queuedAt: now, id },
          this.limits.gsmeQueueLimit ?? GPF_DEFAULTS.queueLimit,
        )
        this.gpf = r.gpf
        if (!r.queued) return this.drop('queue-full', s.recipient)
        const entry = this.recent?.find((x) => x.id === id)
        if (entry) entry.queued = true
        // Something waits for it now: its next wake-up collects it.
        if (d.quietSince !== undefined) this.replanRadio(d, now)
        return { kind: 'queued' }
      }
      if (!d.reachable) return this.drop('unreachable', s.recipient)
      return this.runCommand(d, bytes, now, id)
    } catch (e) {
      // A fault in the hub's own code must not take the process down: counted, nothing sent.
      return this.drop('refused', `hub fault: ${(e as Error).message}`)
    }
  }

  private toChf(bytes: Uint8Array, now: number, id: number | undefined): Delivery {
    const r = handleChfFrame(this.chf, bytes, now, this.chfOptions())
    this.chf = r.state
    if (r.response)
      this.respond({
        kind: 'response',
        from: this.chf.eui,
        bytes: r.response,
        ...(id !== undefined && { re: id }),
      })
    this.sendAlerts(this.chf.eui, r.alerts)
    if (r.removed) {
      const d = this.devices?.get(r.removed)
      if (d && isPpmid(d)) d.joined = false
      else if (d) this.leftHan(d)
    }
    if (r.joinWindowFor) {
      const d = this.meter(r.joinWindowFor)
      if (d && !d.joined) this.tryJoin(d, now)
    }
    return { kind: r.outcome, ...(r.reason && { reason: r.reason }) }
  }

  private toGpf(bytes: Uint8Array, messageCode: number, id: number | undefined): Delivery {
    this.catchUpMirrors()
    const gpf = this.gpf!
    const r = gpfRead(gpf, bytes, messageCode, this.backend)
    this.gpf = r.gpf
    if (r.response)
      this.respond({
        kind: 'response',
        from: gpf.eui,
        bytes: r.response,
        ...(id !== undefined && { re: id }),
      })
    this.sendAlerts(gpf.eui, r.alerts)
    if (r.outcome === 'no-mirror') return this.drop('unreachable', r.reason)
    return { kind: r.outcome, ...(r.reason && { reason: r.reason }) }
  }

  private runCommand(d: HanDevice, bytes: Uint8Array, now: number, id: number | undefined): Delivery {
    const r = step(d.state, { kind: 'frame', bytes }, now, { backend: this.backend })
    d.state = r.state
    const o = r.outputs
    if (o.response)
      this.respond({
        kind: 'response',
        from: d.state.eui,
        bytes: o.response,
        ...(id !== undefined && { re: id }),
      })
    this.alertsUp(d, o.alerts)
    this.schedule(d, o.wakeAt)
    return { kind: o.outcome ?? 'rejected', ...(o.reason && { reason: String(o.reason) }) }
  }

  /**
   * Steps a device at the instant its firmware asked for (`wakeAt`); a GSME at its radio wake-up
   * also collects its commands. A radio wake-up before the firmware's own instant does not step
   * it: the firmware would do nothing then (it asked to be woken later). That is most of a
   * fleet's GSME wake-ups.
   */
  private wake(d: HanDevice, now: number): void {
    let own = d.ownWake
    if (own !== undefined && now >= own) {
      // A quiet GSME's wake-ups before now saw the state this step replaces; one at now sees the
      // new state (the firmware steps before the radio, as when the wake-up has its event).
      const atWake = this.catchUpMirror(d, now)
      const r = step(d.state, { kind: 'time' }, now, { backend: this.backend })
      d.state = r.state
      if (atWake) this.gpf = updateMirror(this.gpf!, d.state, now)
      if (d.reachable) this.alertsUp(d, r.outputs.alerts)
      own = r.outputs.wakeAt
    }
    if (d.state.type === 'GSME' && d.expectedWake !== undefined && now >= d.expectedWake) {
      this.catchUpMirror(d, now)
      // The commands it runs may move its firmware's next instant (a future-dated one, say).
      const ran = this.radioWake(d, now)
      if (ran) own = ran.wakeAt
      d.quietSince = undefined
      this.planRadio(d, now)
    }
    this.schedule(d, own)
  }

  /**
   * A GSME's radio wake-ups from now (README "GSME wake-ups"): each one while something waits in
   * the GPF, it is out of reach or it has missed one; while quiet, only the first its battery is
   * flat for (the wake-ups before change nothing but the mirror, `catchUpMirror`).
   */
  private planRadio(d: HanDevice, now: number): void {
    if (d.state.type !== 'GSME') return
    const g = this.gpf
    if (!g || !d.joined) {
      // Its wake-ups would do nothing: it collects nothing unless joined to a hub with a GPF.
      d.quietSince = undefined
      d.expectedWake = undefined
      return
    }
    const quiet =
      d.reachable && g.queue.length === 0 && g.missedWakes === 0 && !g.lostRaised && this.oneGsme()
    const flat = quiet ? flatWake(d.state, now) : undefined
    if (flat === undefined) {
      d.quietSince = undefined
      d.expectedWake = nextWake(d.state, now)
      return
    }
    d.quietSince ??= now
    d.expectedWake = flat
  }

  /** planRadio after a change (reach, the queue, the HAN), the mirror brought up to now first. */
  private replanRadio(d: HanDevice, now: number): void {
    if (d.state.type !== 'GSME') return
    this.catchUpMirror(d, now)
    this.planRadio(d, now)
    this.moveWake(d)
  }

  /**
   * The device's event moved to what its own and radio wake-ups now ask for, if that changed
   * (an event left where it is keeps its place among those due at the same instant).
   */
  private moveWake(d: HanDevice): void {
    let at = d.ownWake
    if (d.expectedWake !== undefined && (at === undefined || d.expectedWake < at)) at = d.expectedWake
    if (at !== undefined && d.wake?.pending && d.wake.at === Math.max(at, this.scheduler.now())) return
    this.schedule(d, d.ownWake)
  }

  /** The device left the HAN (CCS02): its wake-ups do nothing from now. */
  private leftHan(d: HanDevice): void {
    const now = this.scheduler.now()
    this.catchUpMirror(d, now)
    d.joined = false
    this.replanRadio(d, now)
  }

  /**
   * A quiet GSME's radio wake-ups up to `t` (those before its battery-flat one) each set the GPF
   * mirror to its state, which has not changed since: the last of them does it now. True when
   * `t` is itself such a wake-up.
   */
  private catchUpMirror(d: HanDevice, t: number): boolean {
    const since = d.quietSince
    if (since === undefined || !this.gpf) return false
    const upTo = d.expectedWake === undefined ? t : Math.min(t, d.expectedWake - 1)
    const w = lastWakeAtOrBefore(d.state, upTo)
    if (w === undefined || w <= since) return false
    this.gpf = updateMirror(this.gpf, d.state, w)
    d.quietSince = w
    return w === t
  }

  /** Every quiet GSME's mirror brought up to now (before the mirror is read or handed out). */
  private catchUpMirrors(): void {
    if (!this.gpf || !this.devices) return
    const now = this.scheduler.now()
    for (const e of this.devices.values()) if (!isPpmid(e)) this.catchUpMirror(e, now)
  }

  /** One GSME on this HAN: the GPF mirrors it (quiet wake-ups are for that case only). */
  private oneGsme(): boolean {
    let n = 0
    for (const e of this.devices?.values() ?? []) if (!isPpmid(e) && e.state.type === 'GSME') n++
    return n === 1
  }

  /** A GSME's radio wake-up: it collects what waits in the GPF; `wakeAt`: its firmware's after the last one. */
  private radioWake(d: HanDevice, now: number): { wakeAt: number | undefined } | undefined {
    if (!this.gpf || !d.joined) return
    const heard = d.reachable && remainingBatteryDays(d.state, now) > 0
    if (!heard) {
      const interval = (d.state.wake?.intervalMinutes ?? 30) * 60_000
      const r = missedWake(this.gpf, d.state, now, GPF_DEFAULTS.retrievalWakes * interval, this.backend)
      this.gpf = r.gpf
      this.sendAlerts(this.gpf.eui, r.alerts)
      return
    }
    const c = collected(this.gpf)
    this.gpf = c.gpf
    let ran: { wakeAt: number | undefined } | undefined
    for (const cmd of c.commands) {
      const r = step(d.state, { kind: 'frame', bytes: cmd.bytes }, now, { backend: this.backend })
      d.state = r.state
      if (r.outputs.response)
        this.respond({
          kind: 'response',
          from: d.state.eui,
          bytes: r.outputs.response,
          ...(cmd.id !== undefined && { re: cmd.id }),
        })
      this.alertsUp(d, r.outputs.alerts)
      ran = { wakeAt: r.outputs.wakeAt }
    }
    this.gpf = updateMirror(this.gpf, d.state, this.scheduler.now())
    return ran
  }

  /** A device's alerts (those with a GBCS frame) go up the WAN from the device. */
  private alertsUp(d: HanDevice, alerts: readonly { frame?: Uint8Array }[]): void {
    for (const a of alerts) if (a.frame) this.uplink({ kind: 'alert', from: d.state.eui, bytes: a.frame })
  }

  private tryJoin(d: HanDevice, now: number): { joined: boolean; reason?: string } {
    const entry = findEntry(this.chf.log, d.state.eui)
    if (!entry) return { joined: false, reason: 'not in the CHF Device Log' }
    const ownKa = d.state.keys.ka && privateKeyOf(d.state.keys.ka, this.backend).publicKey.point
    const certificate = checkJoiningCertificate(d.certificate, d.state.eui, this.deviceCas, ownKa)
    const r = joinDevice(
      this.chf,
      d.state.eui,
      now,
      { knowsInstallCode: (code) => installCodeMatches(d.state, code), certificate },
      this.chfOptions(),
    )
    this.chf = r.state
    this.sendAlerts(this.chf.eui, r.alerts)
    if (r.joined) {
      d.joined = true
      d.certificate = undefined
      if (d.state.type === 'GSME' && this.gpf) {
        this.gpf = updateMirror(this.gpf, d.state, this.scheduler.now())
        // Quiet from the join on (its wake-ups after it count), or collecting what waits.
        d.quietSince = undefined
        this.planRadio(d, now)
        if (d.wake) this.moveWake(d)
      }
    }
    return { joined: r.joined, ...(r.reason && { reason: r.reason }) }
  }

  /** Runs the device at `at` (its firmware's `wakeAt`), or at its GSME radio wake-up if sooner. */
  private schedule(d: HanDevice, at: number | undefined): void {
    d.ownWake = at
    if (d.state.type === 'GSME' && d.expectedWake !== undefined && (at === undefined || d.expectedWake < at))
      at = d.expectedWake
    if (at === undefined) {
      d.wake?.cancel()
      return
    }
    const t = Math.max(at, this.scheduler.now())
    if (d.wake) this.scheduler.reschedule(d.wake, t)
    else d.wake = this.scheduler.at(t, (now) => this.wake(d, now))
  }

  private respond(u: Uplink): void {
    const entry = u.re === undefined ? undefined : this.recent?.find((x) => x.id === u.re)
    if (entry) entry.response = u
    this.uplink(u)
  }

  private sendAlerts(from: Eui64, alerts: readonly RaisedAlert[]): void {
    for (const a of alerts) if (a.frame) this.uplink({ kind: 'alert', from, bytes: a.frame })
  }

  /** Keeps the last 32 ids (bounded: enough for a burst of resends, small for an idle hub: none until used). */
  private remember(id: number): void {
    this.recent ??= []
    this.recent.push({ id })
    if (this.recent.length > 32) this.recent.shift()
  }

  private drop(reason: DropReason, detail?: string): Delivery {
    this.dropCounts ??= {}
    this.dropCounts[reason] = (this.dropCounts[reason] ?? 0) + 1
    return { kind: 'dropped', reason, ...(detail && { detail }) }
  }

  /** A meter (ESME or GSME) on this HAN; not a PPMID. */
  private meter(eui: Eui64): HanDevice | undefined {
    const e = this.devices?.get(eui)
    return e && !isPpmid(e) ? e : undefined
  }

  private chfOptions() {
    return {
      backend: this.backend,
      ...(this.limits.logCapacity !== undefined && { capacity: this.limits.logCapacity }),
    }
  }
}

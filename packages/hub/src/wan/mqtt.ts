/**
 * The WAN over MQTT (mqtt.js client; the embedded aedes broker of broker.ts or any broker by URL):
 * one connection per Communications Hub, one for the DCC's head end.
 *
 * Topics (prefix default 'smetsim'):
 *   <prefix>/chf/<CHF EUI>/down   DCC → hub: 'cmd', 'log', 'ack'      (the hub subscribes, QoS 1)
 *   <prefix>/chf/<CHF EUI>/up     hub → DCC: 'rsp', 'alr', 'lgr', 'ack', 'hi' (the head end
 *                                 subscribes <prefix>/chf/+/up, QoS 1)
 * Payloads are the CBOR envelopes of envelope.ts. Commands, responses, alerts and 8.11 messages go
 * at QoS 1; the end-to-end acks and a hub's 'hi' at QoS 0 (a lost one is a lost connection, and
 * every reconnect of either end starts the resends again).
 *
 * Nothing acknowledged is lost when the broker restarts. The broker's PUBACK only says the broker
 * has a message, and an in-memory broker forgets it when it goes, so each end keeps what it sent
 * until the other end acknowledges it end to end ('ack'): the head end its commands (answered by
 * the hub's 'ack' on receipt, or by the response), the hub its alerts, 8.11 outcomes and the
 * responses that come later (from the GPF queue; acknowledged by the head end). A response that
 * answers its command at once is not kept, nor acknowledged: until it arrives the head end still
 * holds the command and sends it again, and the hub answers the repeat with the same response.
 * On every reconnect each end sends again what is still unacknowledged; receivers drop what they
 * have seen (by id) — the hub also answers a repeated command with the response it already gave,
 * so no command runs twice on a device. Clients connect with clean: false, so a broker that keeps
 * sessions (mosquitto with persistence) also delivers what was queued while a client was away.
 * Reconnects back off: 100 ms doubling to 5 s, with jitter.
 *
 * mqtt.js keeps its own keep-alive and reconnect timers: network plumbing, not simulation time,
 * which stays with the scheduler. A hub link that receives garbage, an oversized or truncated
 * envelope, counts it in `drops` by reason and carries on.
 */
import { randomInt } from 'node:crypto'
import { type Eui64, isEui, type ScheduledEvent, type Scheduler } from '@smetsim/core'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Hub, Uplink } from '../hub.ts'
import { decodeEnvelope, type Envelope, type EnvelopeError, encodeEnvelope } from './envelope.ts'
import { DEFAULT_RESPONSE_TIMEOUT_MS } from './in-process.ts'
import type { HanDeviceLogRequest, HanDeviceLogResult, HeadEnd } from './types.ts'

export interface MqttWanOptions {
  url: string
  prefix?: string
  /** Reconnect back-off, ms. */
  backoff?: { minMs: number; maxMs: number }
  /** Unacknowledged messages a hub keeps for resending (the oldest go first when full). */
  outboxLimit?: number
  /** Extra mqtt.js options (keepalive, credentials, …). */
  client?: IClientOptions
}

export const downTopic = (prefix: string, chf: Eui64) => `${prefix}/chf/${chf}/down`
export const upTopic = (prefix: string, chf: Eui64) => `${prefix}/chf/${chf}/up`
/** Where the head end says 'hi' to every hub. */
export const helloTopic = (prefix: string) => `${prefix}/hello`

/** The bytes as a Buffer for mqtt.js, without a copy (cbor-x hands out Buffers already). */
const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)

const QOS1 = { qos: 1 } as const
const QOS0 = { qos: 0 } as const
/** 'hi' never changes: encoded once. */
const HI = asBuffer(encodeEnvelope({ t: 'hi' }))

/** A start for message ids that another run of the same program does not repeat. */
const freshIdBase = () => randomInt(2 ** 40) * 1024

const noLog = () => {}

function connect(url: string, clientId: string, o: MqttWanOptions): MqttClient {
  const backoff = o.backoff ?? { minMs: 100, maxMs: 5_000 }
  const client = mqtt.connect(url, {
    clientId,
    clean: false,
    reconnectPeriod: backoff.minMs,
    connectTimeout: 10_000,
    keepalive: 60,
    // serve() and connect() subscribe on every 'connect' themselves (a restarted broker may have
    // forgotten the session); mqtt.js's own resubscribe would send a second SUBSCRIBE each time.
    resubscribe: false,
    // mqtt.js formats a debug line for every packet; without DEBUG set nobody reads them.
    ...(!process.env.DEBUG && { log: noLog }),
    ...o.client,
  })
  let period = backoff.minMs
  client.on('close', () => {
    period = Math.min(backoff.maxMs, period * 2)
    client.options.reconnectPeriod = period / 2 + randomInt(Math.max(1, Math.floor(period / 2)))
  })
  client.on('connect', () => {
    period = backoff.minMs
    client.options.reconnectPeriod = period
  })
  // Errors (refused connection, broker gone) are the reconnect loop's business: never thrown.
  client.on('error', () => {})
  return client
}

/**
 * Settles when `ready` does (connected and subscribed), or fails when the client is closed first or
 * 30 s pass; either way it leaves no timer or listener behind, so closing a link or head end that
 * never reached its broker ends at once rather than after the 30 s.
 */
function whenReady(client: MqttClient, ready: Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer)
      client.off('end', onEnd)
      if (error) reject(error)
      else resolve()
    }
    const onEnd = () => settle(new Error('the MQTT client was closed before it was connected'))
    const timer = setTimeout(() => settle(new Error('no MQTT connection within 30 s')), 30_000)
    client.once('end', onEnd)
    ready.then(() => settle())
  })
}

export type LinkDropReason = EnvelopeError | 'unexpected-kind'

/** One Communications Hub's MQTT connection. Give `uplink` to the hub, then `serve(hub)`. */
export class MqttHubLink {
  readonly uplink: (u: Uplink) => void
  private client: MqttClient | undefined
  private hub: Hub | undefined
  private nextId = freshIdBase()
  private readonly outbox = new Map<number, Uint8Array>()
  /** The command id the hub's last response answered (to tell the head end one is on its way). */
  private respondedTo: number | undefined
  /** The id of the command the hub is running now: a response to it goes at once, not kept. */
  private answering: number | undefined
  private dropCounts: Partial<Record<LinkDropReason | 'outbox-full', number>> = {}
  private readonly prefix: string
  private readonly up: string
  resent = 0
  /** Commands taken from the WAN and handed to the hub (repeats included). */
  commands = 0

  constructor(
    readonly eui: Eui64,
    private readonly o: MqttWanOptions,
  ) {
    this.prefix = o.prefix ?? 'smetsim'
    this.up = upTopic(this.prefix, eui)
    this.uplink = (u) => {
      const id = this.nextId++
      if (u.kind === 'response') {
        this.respondedTo = u.re
        // The answer to the command being run: the head end holds that command until this
        // arrives and sends it again otherwise, so the response need not be kept here.
        if (u.re !== undefined && u.re === this.answering) {
          this.publishUp(encodeEnvelope({ t: 'rsp', id, re: u.re, f: u.from, g: u.bytes }), QOS1)
          return
        }
      }
      const env: Envelope =
        u.kind === 'response'
          ? { t: 'rsp', id, re: u.re ?? 0, f: u.from, g: u.bytes, k: true }
          : { t: 'alr', id, f: u.from, g: u.bytes }
      this.sendKept(id, encodeEnvelope(env))
    }
  }

  get drops(): Readonly<Partial<Record<LinkDropReason | 'outbox-full', number>>> {
    return this.dropCounts
  }

  /** Messages sent and not yet acknowledged by the head end. */
  get unacknowledged(): number {
    return this.outbox.size
  }

  async serve(hub: Hub): Promise<void> {
    this.hub = hub
    const client = connect(this.o.url, `chf-${this.eui}`, this.o)
    this.client = client
    client.on('message', (_topic, payload) => this.onDown(payload))
    const ready = new Promise<void>((resolve) => {
      // On every (re)connect: subscribe (a restarted broker may have forgotten us), then say hi
      // (the head end sends again what we have not acknowledged) and send again what it has not.
      client.on('connect', () => {
        client
          .subscribeAsync([downTopic(this.prefix, this.eui), helloTopic(this.prefix)], QOS1)
          .then(() => {
            client.publish(this.up, HI, QOS0)
            this.resendOutbox()
            resolve()
          })
          .catch(() => {}) // the connection went again: the next 'connect' retries
      })
    })
    await whenReady(client, ready)
  }

  private resendOutbox(): void {
    for (const [, bytes] of this.outbox) {
      this.resent++
      this.publishUp(bytes, QOS1)
    }
  }

  private publishUp(bytes: Uint8Array, qos: typeof QOS0 | typeof QOS1): void {
    this.client?.publish(this.up, asBuffer(bytes), qos)
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true)
  }

  private sendKept(id: number, bytes: Uint8Array): void {
    const limit = this.o.outboxLimit ?? 64
    if (this.outbox.size >= limit) {
      const oldest = this.outbox.keys().next().value as number
      this.outbox.delete(oldest)
      this.count('outbox-full')
    }
    this.outbox.set(id, bytes)
    this.publishUp(bytes, QOS1)
  }

  private ack(re: number, wait: boolean): void {
    const env: Envelope = wait ? { t: 'ack', re, w: true } : { t: 'ack', re }
    this.publishUp(encodeEnvelope(env), QOS0)
  }

  private count(reason: LinkDropReason | 'outbox-full'): void {
    this.dropCounts[reason] = (this.dropCounts[reason] ?? 0) + 1
  }

  private onDown(payload: Uint8Array): void {
    const d = decodeEnvelope(payload)
    if (!d.ok) {
      this.count(d.error)
      return
    }
    const e = d.envelope
    const hub = this.hub!
    switch (e.t) {
      case 'cmd': {
        // The hub answers a repeated id with its earlier response and runs nothing twice.
        this.respondedTo = undefined
        this.commands++
        this.answering = e.id
        const delivery = hub.receive(e.g, e.id) // never throws
        this.answering = undefined
        // A response sent at once acknowledges the command itself; otherwise an ack says whether
        // one will follow (queued for a GSME) or not (dropped, refused, nothing to say).
        if (this.respondedTo !== e.id) this.ack(e.id, delivery.kind === 'queued')
        return
      }
      case 'log': {
        const r = hub.addDevice({
          deviceId: e.d as Eui64,
          deviceType: e.dt,
          installCode: e.ic,
          ...(e.jt !== undefined && { joinTimeout: e.jt }),
        })
        const id = this.nextId++
        this.sendKept(
          id,
          encodeEnvelope({
            t: 'lgr',
            id,
            re: e.id,
            ok: r.accepted,
            ...(r.joined !== undefined && { j: r.joined }),
            ...(r.reason && { r: r.reason }),
          }),
        )
        return
      }
      case 'ack':
        this.outbox.delete(e.re)
        return
      case 'hi':
        this.resendOutbox()
        return
      default:
        this.count('unexpected-kind')
    }
  }
}

interface PendingCommand {
  hub: Eui64
  bytes: Uint8Array
  /** The hub said it has it (its ack, or the response): no need to send it again. */
  received: boolean
  finish: (response: Uint8Array | undefined) => void
  timer: ScheduledEvent | undefined
}

/**
 * The DCC's end: one connection subscribed to every hub's up topic. Commands wait for their
 * response up to `responseTimeoutMs` of scheduler time.
 *
 * Commands to one hub reach it in the order they were sent: a device refuses a command whose
 * originator counter is not above the last it took from that party (GBCS anti-replay), so one
 * overtaken by a later one would be refused. A resend after a broker restart, or mqtt.js
 * replaying its own store on reconnect, could let a later command overtake an earlier one that
 * the dead broker had accepted and lost. So each hub has at most one command on the wire that
 * it has not acknowledged; the next goes when the hub acknowledges (or answers) it.
 */
export class MqttHeadEnd implements HeadEnd {
  private client: MqttClient | undefined
  private nextId = freshIdBase()
  private readonly pending = new Map<number, PendingCommand>()
  private closing = false
  /** Per hub: the id of its command on the wire that it has not acknowledged, and those waiting behind it. */
  private readonly lanes = new Map<Eui64, { onWire: number | undefined; waiting: number[] }>()
  private readonly logPending = new Map<
    number,
    { hub: Eui64; bytes: Uint8Array; resolve: (r: HanDeviceLogResult) => void }
  >()
  private readonly seen = new Map<Eui64, number[]>()
  private readonly listeners: ((a: { commsHub: Eui64; from: Eui64; bytes: Uint8Array }) => void)[] = []
  private readonly prefix: string
  /** Up messages dropped (not an envelope, unknown topic), by reason. */
  readonly drops: Partial<Record<string, number>> = {}
  resent = 0

  constructor(
    private readonly scheduler: Scheduler,
    private readonly o: MqttWanOptions & { responseTimeoutMs?: number; clientId?: string },
  ) {
    this.prefix = o.prefix ?? 'smetsim'
  }

  async connect(): Promise<void> {
    const client = connect(this.o.url, this.o.clientId ?? 'dcc-head-end', this.o)
    this.client = client
    client.on('message', (topic, payload) => this.onUp(topic, payload))
    const ready = new Promise<void>((resolve) => {
      client.on('connect', () => {
        client
          .subscribeAsync(`${this.prefix}/chf/+/up`, QOS1)
          .then(() => {
            client.publish(helloTopic(this.prefix), HI, QOS1)
            this.resendTo(undefined)
            resolve()
          })
          .catch(() => {})
      })
    })
    await whenReady(client, ready)
  }

  /** Sends again the commands (and 8.11 requests) a hub has not said it has; all hubs' when undefined. */
  private resendTo(hub: Eui64 | undefined): void {
    const client = this.client
    if (!client) return
    const resend = (h: Eui64, lane: { onWire: number | undefined }) => {
      const p = lane.onWire === undefined ? undefined : this.pending.get(lane.onWire)
      if (p && !p.received) {
        this.resent++
        client.publish(downTopic(this.prefix, h), asBuffer(p.bytes), QOS1)
      }
    }
    if (hub === undefined) for (const [h, lane] of this.lanes) resend(h, lane)
    else {
      const lane = this.lanes.get(hub)
      if (lane) resend(hub, lane)
    }
    for (const p of this.logPending.values())
      if (hub === undefined || p.hub === hub)
        client.publish(downTopic(this.prefix, p.hub), asBuffer(p.bytes), QOS1)
  }

  /** Commands sent and not yet answered. */
  get outstanding(): number {
    return this.pending.size
  }

  send(commsHub: Eui64, gbcs: Uint8Array): Promise<Uint8Array | undefined> {
    const id = this.nextId++
    const bytes = encodeEnvelope({ t: 'cmd', id, g: gbcs })
    return new Promise((resolve) => {
      const p: PendingCommand = {
        hub: commsHub,
        bytes,
        received: false,
        timer: undefined,
        finish: (response) => {
          if (!this.pending.delete(id)) return
          p.timer?.cancel()
          this.release(commsHub, id)
          resolve(response)
        },
      }
      this.pending.set(id, p)
      p.timer = this.scheduler.after(this.o.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS, () =>
        p.finish(undefined),
      )
      let lane = this.lanes.get(commsHub)
      if (!lane) {
        lane = { onWire: undefined, waiting: [] }
        this.lanes.set(commsHub, lane)
      }
      if (lane.onWire === undefined) this.put(commsHub, lane, id, p)
      else lane.waiting.push(id)
    })
  }

  private put(hub: Eui64, lane: { onWire: number | undefined }, id: number, p: PendingCommand): void {
    lane.onWire = id
    if (!this.closing) this.client?.publish(downTopic(this.prefix, hub), asBuffer(p.bytes), QOS1)
  }

  /** Command `id` to `hub` was acknowledged or is finished: the next waiting for that hub goes. */
  private release(hub: Eui64, id: number): void {
    const lane = this.lanes.get(hub)
    if (!lane || lane.onWire !== id) return
    lane.onWire = undefined
    for (let next = lane.waiting.shift(); next !== undefined; next = lane.waiting.shift()) {
      const p = this.pending.get(next)
      if (!p) continue // timed out while it waited
      this.put(hub, lane, next, p)
      return
    }
    this.lanes.delete(hub)
  }

  addDevice(commsHub: Eui64, entry: HanDeviceLogRequest): Promise<HanDeviceLogResult> {
    const id = this.nextId++
    const bytes = encodeEnvelope({
      t: 'log',
      id,
      d: entry.deviceId,
      dt: entry.deviceType,
      ic: entry.installCode,
      ...(entry.joinTimeout !== undefined && { jt: entry.joinTimeout }),
    })
    return new Promise((resolve) => {
      this.logPending.set(id, { hub: commsHub, bytes, resolve })
      this.client?.publish(downTopic(this.prefix, commsHub), asBuffer(bytes), QOS1)
    })
  }

  onAlert(listener: (a: { commsHub: Eui64; from: Eui64; bytes: Uint8Array }) => void): void {
    this.listeners.push(listener)
  }

  async close(): Promise<void> {
    this.closing = true
    for (const p of [...this.pending.values()]) p.finish(undefined)
    await this.client?.endAsync(true)
  }

  private count(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1
  }

  /** True the first time an up message id from this hub is seen (the last 64 are remembered). */
  private fresh(hub: Eui64, id: number): boolean {
    let ids = this.seen.get(hub)
    if (!ids) {
      ids = []
      this.seen.set(hub, ids)
    }
    if (ids.includes(id)) return false
    ids.push(id)
    if (ids.length > 64) ids.shift()
    return true
  }

  private onUp(topic: string, payload: Uint8Array): void {
    const hub = topic.split('/').at(-2) ?? ''
    if (!isEui(hub)) {
      this.count('topic')
      return
    }
    const d = decodeEnvelope(payload)
    if (!d.ok) {
      this.count(d.error)
      return
    }
    const e = d.envelope
    if (e.t === 'ack') {
      const p = this.pending.get(e.re)
      if (!p) return
      p.received = true
      // Nothing will follow (dropped, refused, no response): the answer is 'none'.
      if (!e.w) p.finish(undefined)
      else this.release(p.hub, e.re)
      return
    }
    if (e.t === 'hi') {
      this.resendTo(hub)
      return
    }
    if (e.t === 'cmd' || e.t === 'log') {
      this.count('unexpected-kind')
      return
    }
    // What the hub keeps for resending it drops when acknowledged; a response that answered its
    // command at once (no k) it did not keep.
    if (e.t !== 'rsp' || e.k)
      this.client?.publish(
        downTopic(this.prefix, hub),
        asBuffer(encodeEnvelope({ t: 'ack', re: e.id })),
        QOS0,
      )
    if (!this.fresh(hub, e.id)) return
    if (e.t === 'rsp') this.pending.get(e.re)?.finish(e.g)
    else if (e.t === 'lgr') {
      const p = this.logPending.get(e.re)
      if (!p) return
      this.logPending.delete(e.re)
      p.resolve({
        accepted: e.ok,
        ...(e.j !== undefined && { joined: e.j }),
        ...(e.r !== undefined && { reason: e.r }),
      })
    } else for (const l of this.listeners) l({ commsHub: hub, from: e.f as Eui64, bytes: e.g })
  }
}

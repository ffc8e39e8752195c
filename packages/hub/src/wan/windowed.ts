/**
 * A WAN with a fixed latency in virtual time, for shards that run on schedulers of their own
 * (worker threads, packages/fleet workers.ts) and meet only at the ends of time windows. Every
 * message is stamped with its arrival time (sent + `latencyMs`) and waits in its sender's outbox
 * until the coordinator carries it over (`take` on one side, `deliver` on the other), where the
 * receiver's scheduler runs it at that arrival time.
 *
 * Why that is safe: the coordinator moves every shard to `min(next event of any shard) +
 * latencyMs` at most per window, so nothing sent inside a window can be due before the window's
 * end (conservative synchronisation with the latency as lookahead). The latency is therefore
 * also the window: the larger, the fewer barriers, the coarser the WAN.
 *
 * The messages mirror the MQTT envelope (envelope.ts) without CBOR, as they cross a thread by
 * structured clone: `cmd`, its `rsp` or `none` (dropped, refused or nothing to say, and not
 * queued for a GSME), `alr`, and SR 8.11's `log` / `lgr`. Both ends are the program's own
 * threads; still, a message of an unknown kind, for an unknown hub or in the past is dropped
 * and counted, never thrown on.
 */
import type { Eui64, Scheduler } from '@smetsim/core'
import type { Hub, Uplink } from '../hub.ts'
import { DEFAULT_RESPONSE_TIMEOUT_MS } from './in-process.ts'
import type { HanDeviceLogRequest, HanDeviceLogResult, HeadEnd } from './types.ts'

export type WindowedMessage =
  | { t: 'cmd'; at: number; hub: string; id: number; g: Uint8Array }
  | { t: 'rsp'; at: number; hub: string; re: number; g: Uint8Array }
  | { t: 'none'; at: number; hub: string; re: number }
  | { t: 'alr'; at: number; hub: string; f: string; g: Uint8Array }
  | { t: 'log'; at: number; hub: string; id: number; entry: HanDeviceLogRequest }
  | { t: 'lgr'; at: number; hub: string; re: number; result: HanDeviceLogResult }

type Drops = Partial<Record<'unknown-kind' | 'unknown-hub' | 'late', number>>

/**
 * `msgs` ready to cross a thread by postMessage: every byte field copied into one ArrayBuffer of
 * their own, to be transferred (`transfer`), not cloned. Cloning a Uint8Array copies its whole
 * ArrayBuffer, and the frames here are mostly views into 16 KiB slabs (core `allocBytes`): a
 * day of 4,000 premises' alerts was 3 MB of slab copied for 16 kB of frames. The receiver's
 * views share the one buffer (a message keeps it alive while it lives, as a slab view does).
 */
export function packForTransfer(msgs: readonly WindowedMessage[]): {
  msgs: WindowedMessage[]
  transfer: ArrayBuffer[]
} {
  let total = 0
  for (const m of msgs)
    if ('g' in m) total += m.g.byteLength
    else if (m.t === 'log') total += m.entry.installCode.byteLength
  if (total === 0) return { msgs: [...msgs], transfer: [] }
  const buffer = new ArrayBuffer(total)
  let used = 0
  const copy = (b: Uint8Array) => {
    const view = new Uint8Array(buffer, used, b.byteLength)
    view.set(b)
    used += b.byteLength
    return view
  }
  const out = msgs.map((m): WindowedMessage => {
    if ('g' in m) return { ...m, g: copy(m.g) }
    if (m.t === 'log') return { ...m, entry: { ...m.entry, installCode: copy(m.entry.installCode) } }
    return m
  })
  return { msgs: out, transfer: [buffer] }
}

/** Schedules each message at its arrival (never before now: a late one is counted, and runs now). */
function schedule(
  scheduler: Scheduler,
  drops: Drops,
  msgs: readonly WindowedMessage[],
  handle: (m: WindowedMessage) => void,
) {
  for (const m of msgs) {
    const now = scheduler.now()
    if (!(m.at >= now)) drops.late = (drops.late ?? 0) + 1
    scheduler.at(Math.max(now, Number.isFinite(m.at) ? m.at : now), () => handle(m))
  }
}

/** The DCC's end: commands out to the lane (shard) serving each hub, answers back. */
export class WindowedHeadEnd implements HeadEnd {
  private nextId = 1
  private readonly outboxes: WindowedMessage[][]
  private readonly pending = new Map<number, (g: Uint8Array | undefined) => void>()
  private readonly logPending = new Map<number, (r: HanDeviceLogResult) => void>()
  private readonly listeners: ((a: { commsHub: Eui64; from: Eui64; bytes: Uint8Array }) => void)[] = []
  /** No command goes out due before this (the lanes may stand ahead of this end's clock). */
  private horizon = Number.NEGATIVE_INFINITY
  private delivering = 0
  readonly drops: Drops = {}

  constructor(
    private readonly scheduler: Scheduler,
    private readonly o: {
      latencyMs: number
      lanes: number
      /** The lane of the shard serving this hub, or undefined for no such hub. */
      route(commsHub: Eui64): number | undefined
      responseTimeoutMs?: number
    },
  ) {
    this.outboxes = Array.from({ length: o.lanes }, () => [])
  }

  /** The messages waiting for lane `k`, taken out. */
  take(lane: number): WindowedMessage[] {
    const msgs = this.outboxes[lane] ?? []
    this.outboxes[lane] = []
    return msgs
  }

  /** Earliest arrival among the messages not yet taken (undefined: none). */
  earliest(): number | undefined {
    let min: number | undefined
    for (const box of this.outboxes) for (const m of box) if (min === undefined || m.at < min) min = m.at
    return min
  }

  deliver(msgs: readonly WindowedMessage[]): void {
    this.delivering += msgs.length
    schedule(this.scheduler, this.drops, msgs, (m) => {
      this.delivering--
      this.handle(m)
    })
  }

  /** Commands sent and not yet answered. */
  get outstanding(): number {
    return this.pending.size
  }

  /** Messages handed to `deliver` whose arrival has not come yet (events on the scheduler). */
  get deliveriesDue(): number {
    return this.delivering
  }

  /**
   * Nothing this end has sent waits for an answer (no command, no SR 8.11 entry): what comes up
   * now can only be alerts (or answers too late to matter), which start nothing down the WAN.
   */
  get quiet(): boolean {
    return this.pending.size === 0 && this.logPending.size === 0
  }

  /**
   * The lanes will stand at `t` when next they take this end's messages: from now on a message
   * sent is due at `t` at the earliest (arrival = max(now + latency, t)). The coordinator calls it
   * as it sends the lanes to `t`; while the lanes are no further than this end's clock plus the
   * latency it changes nothing.
   */
  holdUntil(t: number): void {
    if (t > this.horizon) this.horizon = t
  }

  send(commsHub: Eui64, gbcs: Uint8Array): Promise<Uint8Array | undefined> {
    const lane = this.o.route(commsHub)
    if (lane === undefined) return Promise.resolve(undefined)
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = this.scheduler.after(this.o.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS, () =>
        finish(undefined),
      )
      const finish = (g: Uint8Array | undefined) => {
        if (!this.pending.delete(id)) return
        timer.cancel()
        resolve(g)
      }
      this.pending.set(id, finish)
      this.outboxes[lane]!.push({ t: 'cmd', at: this.arrival(), hub: commsHub, id, g: gbcs })
    })
  }

  addDevice(commsHub: Eui64, entry: HanDeviceLogRequest): Promise<HanDeviceLogResult> {
    const lane = this.o.route(commsHub)
    if (lane === undefined)
      return Promise.resolve({ accepted: false, reason: `no Communications Hub ${commsHub}` })
    const id = this.nextId++
    return new Promise((resolve) => {
      this.logPending.set(id, resolve)
      this.outboxes[lane]!.push({ t: 'log', at: this.arrival(), hub: commsHub, id, entry })
    })
  }

  onAlert(listener: (a: { commsHub: Eui64; from: Eui64; bytes: Uint8Array }) => void): void {
    this.listeners.push(listener)
  }

  async close(): Promise<void> {
    for (const finish of [...this.pending.values()]) finish(undefined)
    for (const [id, resolve] of this.logPending) {
      this.logPending.delete(id)
      resolve({ accepted: false, reason: 'the WAN was closed' })
    }
  }

  private arrival(): number {
    return Math.max(this.scheduler.now() + this.o.latencyMs, this.horizon)
  }

  private handle(m: WindowedMessage): void {
    switch (m.t) {
      case 'rsp':
        this.pending.get(m.re)?.(m.g)
        return
      case 'none':
        this.pending.get(m.re)?.(undefined)
        return
      case 'alr':
        for (const l of this.listeners) l({ commsHub: m.hub as Eui64, from: m.f as Eui64, bytes: m.g })
        return
      case 'lgr': {
        const resolve = this.logPending.get(m.re)
        this.logPending.delete(m.re)
        resolve?.(m.result)
        return
      }
      default:
        this.drops['unknown-kind'] = (this.drops['unknown-kind'] ?? 0) + 1
    }
  }
}

/** The hubs' end in one shard: commands in to its hubs, their responses and alerts out. */
export class WindowedHubSide {
  private readonly hubs = new Map<string, Hub>()
  private outbox: WindowedMessage[] = []
  private respondedTo: number | undefined
  readonly drops: Drops = {}
  /** Commands handed to a hub. */
  commands = 0

  constructor(
    private readonly scheduler: Scheduler,
    private readonly o: { latencyMs: number },
  ) {}

  /** The uplink to give hub `commsHub` at construction. */
  uplinkFor(commsHub: Eui64): (u: Uplink) => void {
    return (u) => {
      const at = this.scheduler.now() + this.o.latencyMs
      if (u.kind === 'response') {
        if (u.re === undefined) return
        this.respondedTo = u.re
        this.outbox.push({ t: 'rsp', at, hub: commsHub, re: u.re, g: u.bytes })
      } else this.outbox.push({ t: 'alr', at, hub: commsHub, f: u.from, g: u.bytes })
    }
  }

  register(hub: Hub): void {
    this.hubs.set(hub.eui, hub)
  }

  take(): WindowedMessage[] {
    const msgs = this.outbox
    this.outbox = []
    return msgs
  }

  deliver(msgs: readonly WindowedMessage[]): void {
    schedule(this.scheduler, this.drops, msgs, (m) => this.handle(m))
  }

  private handle(m: WindowedMessage): void {
    const hub = this.hubs.get(m.hub)
    if (!hub) {
      this.drops['unknown-hub'] = (this.drops['unknown-hub'] ?? 0) + 1
      return
    }
    const at = () => this.scheduler.now() + this.o.latencyMs
    if (m.t === 'cmd') {
      this.commands++
      this.respondedTo = undefined
      const d = hub.receive(m.g, m.id)
      // Answered at once, or queued for a GSME (its response comes when it wakes): nothing more.
      if (this.respondedTo !== m.id && d.kind !== 'queued')
        this.outbox.push({ t: 'none', at: at(), hub: m.hub, re: m.id })
    } else if (m.t === 'log') {
      this.outbox.push({ t: 'lgr', at: at(), hub: m.hub, re: m.id, result: hub.addDevice(m.entry) })
    } else this.drops['unknown-kind'] = (this.drops['unknown-kind'] ?? 0) + 1
  }
}

/**
 * Virtual time across processes: the shards of a fleet (shard.ts) advance in lock-step windows
 * over their shared MQTT broker, by the conservative synchronisation the worker threads use
 * (shard-window.ts): shard 1 runs the DCC and coordinates; every shard stands at a barrier at T
 * with every message carried over, then runs to `min(next event of any shard, earliest message not
 * yet carried) + latency`. Between the shards runs the windowed WAN (packages/hub wan/windowed.ts),
 * its messages carried in the window messages themselves, so "every message carried" is one
 * message per shard per window, whatever the broker does with ordering across connections.
 *
 * Topics (prefix default 'smetsim'), QoS 1, CBOR payloads (cbor-x):
 *   <prefix>/fleet/window/<i>/down   shard 1 → shard i: { t: 'go', w, until, msgs } (run window w
 *                                    to virtual ms `until`, these messages delivered first),
 *                                    { t: 'beat' } (every `beatMs`, so a shard knows shard 1 is
 *                                    there while time stands still), { t: 'end' } (the run ended)
 *   <prefix>/fleet/window/<i>/up     shard i → shard 1: { t: 'ready', fleet, pki, now, next, instance }
 *                                    (once its hubs are up, again every second until the first
 *                                    window), { t: 'done', w, next, msgs }, { t: 'failed', message }
 * `fleet` is the fleet's fingerprint (shard-pki.ts), `pki` SHA-256 of its root certificate, `now` the shard's virtual start, `next` its
 * next event, `instance` a random id of the process (a shard started again cannot rejoin a run
 * under way: its meters' state is gone, and shard 1 says so).
 *
 * A shard that disappears does not hang the others: shard 1 waits at most `timeoutMs` (wall) for a
 * shard's `done`, a shard at most `timeoutMs` between two words from shard 1 (its beats), and each
 * then fails with an error naming the shard. Windows are numbered; a repeated one (QoS 1 may
 * deliver twice) is ignored, one out of order fails the run. Garbage on these topics is dropped
 * and counted, never thrown on; a message whose fields do not check is dropped and counted.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createScheduler, type Eui64 } from '@smetsim/core'
import { Encoder } from 'cbor-x'
import { openWindowLink } from '../../hub/src/wan/window-link.ts'
import { WindowedHeadEnd, WindowedHubSide, type WindowedMessage } from '../../hub/src/wan/windowed.ts'
import type { Fleet } from './build.ts'
import { createMetrics } from './metrics.ts'
import {
  ADVANCE_SLICE_MS,
  createFleetDcc,
  type FleetRun,
  type HubsRun,
  type HubWan,
  type StartFleetOptions,
  startHubs,
} from './run.ts'
import { type Shard, shardText } from './shard.ts'
import { fleetFingerprint } from './shard-pki.ts'
import {
  isWindowedMessage,
  localLane,
  runWindow,
  type WindowLane,
  type WindowReply,
  windowedAdvance,
} from './shard-window.ts'

export const windowDownTopic = (i: number, prefix = 'smetsim') => `${prefix}/fleet/window/${i}/down`
export const windowUpTopic = (i: number, prefix = 'smetsim') => `${prefix}/fleet/window/${i}/up`

/** Default wall ms shard 1 waits for a shard's window, and a shard between two words from shard 1. */
export const SHARD_TIMEOUT_MS = 30_000
/** Default wall ms shard 1 waits for every shard to be up (each builds the fleet first). */
export const SHARD_JOIN_TIMEOUT_MS = 300_000

export interface VirtualShardOptions
  extends Pick<StartFleetOptions, 'scheduler' | 'backend' | 'metrics' | 'onProgress'> {
  shard: Shard
  /** The MQTT broker every shard shares. */
  broker: string
  prefix?: string
  /** The windowed WAN's latency and window, virtual ms (default ADVANCE_SLICE_MS); the same in every shard. */
  latencyMs?: number
  /** Wall ms to wait for a window (shard 1) or a word from shard 1 (the others). */
  timeoutMs?: number
  /** Wall ms to wait for the others to be up (shard 1) or for shard 1's first word. */
  joinTimeoutMs?: number
}

/** Words on the window topics that failed to decode or check, by reason. */
type Drops = Partial<Record<'garbage' | 'malformed' | 'unknown-shard', number>>

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

function decode(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const m: unknown = cbor.decode(payload)
    return m !== null && typeof m === 'object' && !Array.isArray(m)
      ? (m as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

const count = (drops: Drops, reason: keyof Drops, n = 1) => {
  drops[reason] = (drops[reason] ?? 0) + n
}

/** The messages of a window off the broker: those that check, the others counted. */
function checkedMessages(drops: Drops, msgs: unknown): WindowedMessage[] {
  if (!Array.isArray(msgs)) {
    count(drops, 'malformed')
    return []
  }
  const good = msgs.filter(isWindowedMessage)
  if (good.length < msgs.length) count(drops, 'malformed', msgs.length - good.length)
  return good
}

const nextOf = (x: unknown): number | undefined =>
  typeof x === 'number' && Number.isFinite(x) ? x : undefined

/** Which PKI a fleet holds: SHA-256 of its root certificate (the shards must share one, shard-pki.ts). */
const pkiFingerprint = (fleet: Fleet) =>
  createHash('sha256').update(fleet.pki.root.certificate.raw).digest('hex')

const windowHubWan = (side: WindowedHubSide): HubWan => ({
  open: () => {},
  send: (commsHub, u) => side.uplinkFor(commsHub)(u),
  connect: async (_p, hub) => side.register(hub),
  commandsIn: () => side.commands,
  close: async () => {},
})

/** Shard 1's run: a FleetRun whose `advance` moves every shard in windows over the broker. */
export interface VirtualShardRun extends FleetRun {
  readonly headEnd: WindowedHeadEnd
  readonly latencyMs: number
  /** Words on the window topics dropped, by reason. */
  readonly windowDrops: Readonly<Drops>
  /** Why the run cannot go on (a shard gone, failed or of another run), once it cannot. */
  readonly failure: Error | undefined
}

/**
 * Shard 1/n in virtual time: its hubs, the DCC and its head end (the windowed WAN, lane k serving
 * shard k+1), coordinating the others over the broker. Resolves once every shard is up and has
 * said so (`joinTimeoutMs`); fails if one is of another fleet or start time.
 */
export async function startVirtualShards(
  fleet: Fleet,
  o: VirtualShardOptions & Pick<StartFleetOptions, 'sat' | 'dcc'>,
): Promise<VirtualShardRun> {
  const { scheduler, shard } = o
  const n = shard.count
  if (shard.index !== 1)
    throw new RangeError(`shard ${shardText(shard)}: shard 1 coordinates, the others join`)
  const latencyMs = o.latencyMs ?? ADVANCE_SLICE_MS
  const timeoutMs = o.timeoutMs ?? SHARD_TIMEOUT_MS
  const prefix = o.prefix ?? 'smetsim'
  const metrics = o.metrics ?? createMetrics()
  // The hubs of shard 1 keep `scheduler` (the run's: households, consumer actions, the gauges);
  // the DCC has one of its own, so its quiet stretches show (shard-window.ts quiet windows).
  const dccScheduler = createScheduler({ start: scheduler.now() })
  const fingerprint = fleetFingerprint(fleet.spec)
  const pki = pkiFingerprint(fleet)
  const drops: Drops = {}

  const link = await openWindowLink(o.broker, {
    role: '1',
    filter: `${prefix}/fleet/window/+/up`,
    timeoutMs,
  })
  /** Per other shard (index 2 … n): its process, its window count, its wait for a window. */
  interface Remote {
    instance?: string
    next: number | undefined
    w: number
    waiting?: { w: number; resolve(r: WindowReply): void; reject(e: Error): void }
  }
  const remotes = new Map<number, Remote>()
  for (let i = 2; i <= n; i++) remotes.set(i, { next: undefined, w: 0 })
  const allJoined = () => [...remotes.values()].every((r) => r.instance !== undefined)
  let failure: Error | undefined
  let started = false
  /** Called when every shard has joined, or on a failure before that. */
  let onJoin: (() => void) | undefined
  const fail = (e: Error) => {
    failure ??= e
    for (const r of remotes.values()) {
      const waiting = r.waiting
      r.waiting = undefined
      waiting?.reject(failure)
    }
    onJoin?.()
  }
  const publish = (i: number, m: object) => link.publish(windowDownTopic(i, prefix), cbor.encode(m))

  link.onMessage((topic, payload) => {
    const i = Number(/\/fleet\/window\/(\d+)\/up$/.exec(topic)?.[1])
    const r = remotes.get(i)
    if (!r) return count(drops, 'unknown-shard')
    const m = decode(payload)
    if (!m) return count(drops, 'garbage')
    const who = `shard ${i}/${n}`
    if (m.t === 'ready') {
      if (typeof m.instance !== 'string') return count(drops, 'malformed')
      if (r.instance === m.instance) return // said again until its first window
      if (started || r.instance !== undefined)
        return fail(new Error(`${who} started again: it cannot rejoin a virtual-time run under way`))
      if (m.fleet !== fingerprint)
        return fail(new Error(`${who} is of another fleet (seed or premises differ from shard 1)`))
      if (m.pki !== pki)
        return fail(new Error(`${who} holds another PKI than shard 1's (a stale one left on the broker?)`))
      if (m.now !== scheduler.now())
        return fail(
          new Error(`${who} starts at ${String(m.now)}, shard 1 at ${scheduler.now()}: not one run`),
        )
      r.instance = m.instance
      r.next = nextOf(m.next)
      if (allJoined()) onJoin?.()
    } else if (m.t === 'done') {
      const waiting = r.waiting
      if (!waiting || m.w !== waiting.w) return // a repeat (QoS 1), or late after a failure
      r.waiting = undefined
      waiting.resolve({ msgs: checkedMessages(drops, m.msgs), next: nextOf(m.next) })
    } else if (m.t === 'failed') {
      const why = typeof m.message === 'string' ? m.message.slice(0, 500) : 'no reason given'
      fail(new Error(`${who} failed: ${why}`))
    } else count(drops, 'malformed')
  })

  const side = new WindowedHubSide(scheduler, { latencyMs })
  let beats: ReturnType<typeof setInterval> | undefined
  let hubs: HubsRun | undefined
  try {
    // Beats from the start: a shard waiting for its first window knows shard 1 is there.
    beats = setInterval(
      () => {
        for (const i of remotes.keys()) void publish(i, { t: 'beat' })
      },
      Math.max(100, Math.floor(timeoutMs / 4)),
    )
    beats.unref()
    hubs = await startHubs(fleet, {
      scheduler,
      backend: o.backend,
      shard,
      wan: windowHubWan(side),
      metrics,
      ...(o.onProgress && { onProgress: o.onProgress }),
    })
    const joinMs = o.joinTimeoutMs ?? SHARD_JOIN_TIMEOUT_MS
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = [...remotes].filter(([, r]) => r.instance === undefined).map(([i]) => `${i}/${n}`)
        reject(
          new Error(
            `shard ${missing.join(', ')} not up within ${joinMs} ms (started with the same --broker and --premises?)`,
          ),
        )
      }, joinMs)
      onJoin = () => {
        onJoin = undefined
        clearTimeout(timer)
        if (failure) reject(failure)
        else resolve()
      }
      if (failure || allJoined()) onJoin()
    })
    started = true
  } catch (e) {
    clearInterval(beats)
    await hubs?.close()
    await link.close()
    throw e
  }

  const headEnd = new WindowedHeadEnd(dccScheduler, {
    latencyMs,
    lanes: n,
    route: (commsHub: Eui64) => {
      const at = fleet.locate(commsHub)
      return at?.role === 'CHF' ? at.premise % n : undefined
    },
  })
  const { dcc, sat, submit } = createFleetDcc(fleet, { ...o, scheduler: dccScheduler, headEnd, metrics })

  /** Shard i as a lane: each window a 'go' and, within timeoutMs, its 'done'. */
  const remoteLane = (i: number, r: Remote): WindowLane => ({
    next: r.next,
    advance(until, msgs) {
      if (failure) return Promise.reject(failure)
      const w = ++r.w
      return new Promise<WindowReply>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            fail(
              new Error(
                `shard ${i}/${n} did not finish the window to ${new Date(until).toISOString()} within ${timeoutMs} ms: it stopped, or the broker is unreachable`,
              ),
            ),
          timeoutMs,
        )
        const done = () => clearTimeout(timer)
        r.waiting = {
          w,
          resolve: (x) => {
            done()
            resolve(x)
          },
          reject: (e) => {
            done()
            reject(e)
          },
        }
        void publish(i, { t: 'go', w, until, msgs })
      })
    },
  })
  const lanes: WindowLane[] = [localLane(scheduler, side), ...[...remotes].map(([i, r]) => remoteLane(i, r))]
  const advanceAll = windowedAdvance({ scheduler: dccScheduler, headEnd, lanes, latencyMs })
  const run = hubs
  let closed = false
  return {
    ...run,
    scheduler: o.scheduler,
    dcc,
    sat,
    submit,
    headEnd,
    brokerUrl: undefined,
    latencyMs,
    windowDrops: drops,
    get failure() {
      return failure
    },
    async advance(ms) {
      if (failure) throw failure
      await advanceAll(ms)
      if (failure) throw failure
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(beats)
      await headEnd.close()
      // The others end too (a failed run's have failed or timed out on their own).
      if (!failure) await Promise.all([...remotes.keys()].map((i) => publish(i, { t: 'end' })))
      await run.close()
      await link.close()
    },
  }
}

/** Any other shard's run in virtual time: its hubs, moved only by shard 1's windows. */
export interface VirtualShardHubs extends HubsRun {
  /** Settles when shard 1 ends the run; fails on a time-out or a failure (the error says which). */
  readonly ended: Promise<void>
  readonly windowDrops: Readonly<Drops & { late?: number; 'unknown-hub'?: number; 'unknown-kind'?: number }>
}

/**
 * Shard i/n (i > 1) in virtual time: brings up its hubs, says it is ready on the broker, and runs
 * each window shard 1 sends. `advance` is shard 1's: here it throws.
 */
export async function joinVirtualShards(fleet: Fleet, o: VirtualShardOptions): Promise<VirtualShardHubs> {
  const { scheduler, shard } = o
  const n = shard.count
  const me = shard.index
  if (me === 1) throw new RangeError(`shard ${shardText(shard)} coordinates: startVirtualShards`)
  const latencyMs = o.latencyMs ?? ADVANCE_SLICE_MS
  const timeoutMs = o.timeoutMs ?? SHARD_TIMEOUT_MS
  const joinMs = o.joinTimeoutMs ?? SHARD_JOIN_TIMEOUT_MS
  const prefix = o.prefix ?? 'smetsim'
  const drops: Drops = {}
  const instance = randomBytes(8).toString('hex')
  const link = await openWindowLink(o.broker, {
    role: String(me),
    filter: windowDownTopic(me, prefix),
    timeoutMs,
  })
  const up = (m: object) => link.publish(windowUpTopic(me, prefix), cbor.encode(m))

  const side = new WindowedHubSide(scheduler, { latencyMs })
  let hubs: HubsRun
  try {
    hubs = await startHubs(fleet, {
      scheduler,
      backend: o.backend,
      shard,
      wan: windowHubWan(side),
      ...(o.metrics && { metrics: o.metrics }),
      ...(o.onProgress && { onProgress: o.onProgress }),
    })
  } catch (e) {
    await link.close()
    throw e
  }

  let last = 0
  let heard = performance.now()
  let settle: ((e?: Error) => void) | undefined
  const ended = new Promise<void>((resolve, reject) => {
    settle = (e) => {
      settle = undefined
      clearInterval(ready)
      clearInterval(watch)
      if (e) {
        void up({ t: 'failed', message: e.message })
        reject(e)
      } else resolve()
    }
  })
  // Not unhandled if nobody is listening yet: the caller awaits it.
  ended.catch(() => {})
  const sayReady = () =>
    void up({
      t: 'ready',
      fleet: fleetFingerprint(fleet.spec),
      pki: pkiFingerprint(fleet),
      now: scheduler.now(),
      next: scheduler.next() ?? null,
      instance,
    })
  const ready = setInterval(() => {
    if (last === 0) sayReady()
  }, 1000)
  const watch = setInterval(() => {
    const limit = last === 0 ? joinMs : timeoutMs
    if (performance.now() - heard > limit)
      settle?.(
        new Error(
          `no word from shard 1/${n} (the DCC) within ${limit} ms: it stopped, or the broker is unreachable`,
        ),
      )
  }, 250)
  link.onMessage((_topic, payload) => {
    if (!settle) return
    const m = decode(payload)
    if (!m) return count(drops, 'garbage')
    heard = performance.now()
    if (m.t === 'beat') return
    if (m.t === 'end') return settle()
    if (m.t !== 'go') return count(drops, 'malformed')
    if (typeof m.w !== 'number' || typeof m.until !== 'number' || !Number.isFinite(m.until))
      return count(drops, 'malformed')
    if (m.w <= last) return // a repeat (QoS 1)
    if (m.w !== last + 1)
      return settle(
        new Error(
          last === 0
            ? `shard ${me}/${n} joined a virtual-time run under way (window ${m.w}): start every shard afresh`
            : `shard ${me}/${n} missed window ${last + 1} (got ${m.w})`,
        ),
      )
    last = m.w
    try {
      const r = runWindow(scheduler, side, m.until, checkedMessages(drops, m.msgs))
      void up({ t: 'done', w: m.w, next: r.next ?? null, msgs: r.msgs })
    } catch (e) {
      settle(e instanceof Error ? e : new Error(String(e)))
    }
  })
  sayReady()

  const run = hubs
  let closed = false
  return {
    ...run,
    ended,
    get windowDrops() {
      return { ...side.drops, ...drops }
    },
    advance: () => Promise.reject(new RangeError(`shard ${me}/${n}: virtual time is moved by shard 1/${n}`)),
    async close() {
      if (closed) return
      closed = true
      settle?.(new Error(`shard ${me}/${n} was closed`))
      await run.close()
      await link.close()
    },
  }
}

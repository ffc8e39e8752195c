/**
 * Lock-step windows of virtual time over the windowed WAN (packages/hub wan/windowed.ts): what the
 * worker-thread fleet (workers.ts) and the virtual-time shards over a broker (shard-time.ts)
 * share. A coordinator (the DCC's side) moves every lane (a shard's hubs on a scheduler of their
 * own) from a barrier at T, where every lane stands and every message has been carried over, to
 * `min(next event of any lane, earliest message not yet carried) + latency` (or the target, if
 * sooner): nothing sent inside a window is due before its end, so the lanes run a window each on
 * its own, in parallel, and agree with one scheduler under that WAN latency (conservative
 * synchronisation, the latency as lookahead). Windows with no events are skipped.
 */
import type { Scheduler } from '@smetsim/core'
import type { WindowedHeadEnd, WindowedHubSide, WindowedMessage } from '../../hub/src/wan/windowed.ts'

/** A lane's answer at the end of a window: what its hubs sent, and its next event. */
export interface WindowReply {
  msgs: WindowedMessage[]
  next: number | undefined
  /** Wall ms the lane spent running this window (runWindow), where it says (not over a broker). */
  busyMs?: number
}

/**
 * Where an advance's wall time goes, summed over its windows (wall ms, performance.now): what the
 * lock-step barriers cost. A window's wall is the longest of its lanes plus the barrier's round
 * trip, so the sum of windows is Σ max, not max Σ.
 */
export interface WindowTiming {
  /** Windows run (barriers). */
  windows: number
  /** Wall from sending the lanes a window to the last lane's reply, summed. */
  windowMs: number
  /** The coordinator's own work in windows (the DCC's scheduler run, its continuations), summed. */
  coordinatorMs: number
  /** Per lane: the wall it said it spent running its windows (undefined: a lane that does not say). */
  laneBusyMs: (number | undefined)[]
  /**
   * Σ over windows of the busiest lane's busy wall (lanes that say): the part of `windowMs` the
   * lanes' work accounts for; `windowMs − criticalBusyMs` is the barriers' own cost (messages
   * there and back, structured clone, a thread waking, a thread waiting for a core).
   */
  criticalBusyMs: number
}

/** One shard of hubs as the coordinator drives it. */
export interface WindowLane {
  /** The lane's next event as of its last reply (undefined: none). */
  next: number | undefined
  /** Delivers `msgs`, runs the lane to `until`, and answers. */
  advance(until: number, msgs: WindowedMessage[]): Promise<WindowReply>
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

function earliest(xs: (number | undefined)[]): number | undefined {
  let m: number | undefined
  for (const x of xs) if (x !== undefined && (m === undefined || x < m)) m = x
  return m
}

/**
 * The coordinator's `advance(ms)`: the DCC's scheduler and head end (lane k's messages are
 * `headEnd.take(k)`) and the lanes, moved together window by window to `now + ms`.
 *
 * Quiet windows: when the DCC waits for no answer (`headEnd.quiet`) and its scheduler holds
 * nothing but messages on their way to it (`size === headEnd.deliveriesDue`), nothing it does can
 * send a message down the WAN before a new Service Request comes in: what comes up meanwhile is
 * alerts, which start nothing. The lanes then run up to `quietWindowMs` ahead (they cannot hear
 * from the DCC sooner), while the DCC runs only to the earliest the lanes' messages can reach it
 * (their earliest event + latency) and catches up in the windows after. A Service Request that
 * arrives while the lanes stand ahead goes down due when they stand there (`holdUntil`), never
 * late. With the DCC busy, the windows are the plain ones above.
 */
export function windowedAdvance(o: {
  scheduler: Scheduler
  headEnd: WindowedHeadEnd
  lanes: readonly WindowLane[]
  latencyMs: number
  /** How far ahead the lanes may run in a quiet window (default 60 latencies); latencyMs: none. */
  quietWindowMs?: number
}): ((ms: number) => Promise<void>) & { readonly timing: WindowTiming } {
  const { scheduler, headEnd, lanes, latencyMs } = o
  const timing: WindowTiming = {
    windows: 0,
    windowMs: 0,
    coordinatorMs: 0,
    laneBusyMs: lanes.map(() => 0),
    criticalBusyMs: 0,
  }
  const quietWindowMs = Math.max(latencyMs, o.quietWindowMs ?? 60 * latencyMs)
  /** Where the lanes stand (the DCC's clock may be behind after a quiet window). */
  let lanesAt = scheduler.now()
  async function step(dccUntil: number, lanesUntil: number) {
    lanesAt = Math.max(lanesAt, lanesUntil)
    headEnd.holdUntil(lanesAt)
    const started = performance.now()
    const done = lanes.map((lane, k) => lane.advance(lanesAt, headEnd.take(k)))
    scheduler.run({ until: Math.max(scheduler.now(), dccUntil) })
    const ran = performance.now()
    // The DCC's continuations (a response handled, the next command of a request) run now.
    await yieldToIo()
    const replies = await Promise.all(done)
    timing.windows++
    timing.windowMs += performance.now() - started
    timing.coordinatorMs += ran - started
    let busiest = 0
    replies.forEach((r, k) => {
      lanes[k]!.next = r.next
      headEnd.deliver(r.msgs)
      const sum = timing.laneBusyMs[k]
      if (r.busyMs === undefined) timing.laneBusyMs[k] = undefined
      else {
        if (sum !== undefined) timing.laneBusyMs[k] = sum + r.busyMs
        busiest = Math.max(busiest, r.busyMs)
      }
    })
    timing.criticalBusyMs += busiest
  }
  const quiet = () => headEnd.quiet && scheduler.size === headEnd.deliveriesDue
  const advance = async (ms: number) => {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance by ${ms} ms`)
    const target = scheduler.now() + ms
    for (;;) {
      const lanesNext = earliest([headEnd.earliest(), ...lanes.map((l) => l.next)])
      const next = earliest([scheduler.next(), lanesNext])
      if (next === undefined || next > target) break
      if (quietWindowMs > latencyMs && quiet()) {
        const lanesUntil = Math.min(target, Math.max(next, lanesAt) + quietWindowMs)
        // The lanes' messages reach the DCC one latency after their earliest event at the soonest.
        const dccUntil = lanesNext === undefined ? lanesUntil : Math.min(lanesUntil, lanesNext + latencyMs)
        await step(dccUntil, lanesUntil)
      } else {
        const until = Math.min(target, Math.max(next, scheduler.now()) + latencyMs)
        await step(until, until)
      }
    }
    await step(target, target)
  }
  return Object.assign(advance, { timing })
}

/**
 * A lane's side of one window: the messages carried over, its scheduler run to `until` (the hubs
 * are synchronous: one run, no slicing), and what its hubs sent meanwhile.
 */
export function runWindow(
  scheduler: Scheduler,
  side: WindowedHubSide,
  until: number,
  msgs: readonly WindowedMessage[],
): WindowReply & { busyMs: number } {
  const started = performance.now()
  side.deliver(msgs)
  scheduler.run({ until: Math.max(scheduler.now(), until) })
  return { msgs: side.take(), next: scheduler.next(), busyMs: performance.now() - started }
}

/**
 * The coordinator's own shard as a lane: its hubs on a scheduler of their own in the
 * coordinator's process (not the DCC's, so the DCC's scheduler holds only the DCC and quiet
 * windows can tell when it has nothing to do), run synchronously at each window.
 */
export function localLane(scheduler: Scheduler, side: WindowedHubSide): WindowLane {
  return {
    next: scheduler.next(),
    advance: async (until, msgs) => runWindow(scheduler, side, until, msgs),
  }
}

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x)
const isText = (x: unknown, max = 64): x is string => typeof x === 'string' && x.length <= max

/**
 * Whether `m` (from another process: CBOR off the broker) has the shape of a windowed message,
 * every field the receiving side reads of the right type. A message failing this is dropped and
 * counted, never handed to a hub or the DCC.
 */
export function isWindowedMessage(m: unknown): m is WindowedMessage {
  if (m === null || typeof m !== 'object') return false
  const x = m as Record<string, unknown>
  if (typeof x.at !== 'number' || !Number.isFinite(x.at) || !isText(x.hub)) return false
  switch (x.t) {
    case 'cmd':
      return isId(x.id) && isBytes(x.g)
    case 'rsp':
      return isId(x.re) && isBytes(x.g)
    case 'none':
      return isId(x.re)
    case 'alr':
      return isText(x.f) && isBytes(x.g)
    case 'log': {
      const e = x.entry as Record<string, unknown> | null
      return (
        isId(x.id) &&
        e !== null &&
        typeof e === 'object' &&
        isText(e.deviceId) &&
        isText(e.deviceType) &&
        isBytes(e.installCode) &&
        (e.joinTimeout === undefined || typeof e.joinTimeout === 'number')
      )
    }
    case 'lgr': {
      const r = x.result as Record<string, unknown> | null
      return (
        isId(x.re) &&
        r !== null &&
        typeof r === 'object' &&
        typeof r.accepted === 'boolean' &&
        (r.joined === undefined || typeof r.joined === 'boolean') &&
        (r.reason === undefined || isText(r.reason, 1000))
      )
    }
    default:
      return false
  }
}

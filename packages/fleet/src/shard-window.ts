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
 */
export function windowedAdvance(o: {
  scheduler: Scheduler
  headEnd: WindowedHeadEnd
  lanes: readonly WindowLane[]
  latencyMs: number
}): (ms: number) => Promise<void> {
  const { scheduler, headEnd, lanes, latencyMs } = o
  async function step(until: number) {
    const done = lanes.map((lane, k) => lane.advance(until, headEnd.take(k)))
    scheduler.run({ until })
    // The DCC's continuations (a response handled, the next command of a request) run now.
    await yieldToIo()
    const replies = await Promise.all(done)
    replies.forEach((r, k) => {
      lanes[k]!.next = r.next
      headEnd.deliver(r.msgs)
    })
  }
  return async (ms) => {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance by ${ms} ms`)
    const target = scheduler.now() + ms
    for (;;) {
      const next = earliest([scheduler.next(), headEnd.earliest(), ...lanes.map((l) => l.next)])
      if (next === undefined || next > target) break
      await step(Math.min(target, Math.max(next, scheduler.now()) + latencyMs))
    }
    await step(target)
  }
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
): WindowReply {
  side.deliver(msgs)
  scheduler.run({ until: Math.max(scheduler.now(), until) })
  return { msgs: side.take(), next: scheduler.next() }
}

/**
 * The coordinator's own shard as a lane: its hubs on the coordinator's scheduler (`side` the
 * windowed WAN's hub side there). The scheduler is the coordinator's, run by `windowedAdvance`
 * itself, so the lane only delivers and, once the window has run, takes what its hubs sent; its
 * next event is the scheduler's, already counted.
 */
export function localLane(side: WindowedHubSide): WindowLane {
  return {
    next: undefined,
    async advance(_until, msgs) {
      side.deliver(msgs)
      // The window runs (windowedAdvance's scheduler.run) before this resumes.
      await yieldToIo()
      return { msgs: side.take(), next: undefined }
    },
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

/**
 * Asynchronous delivery: signed DUIS messages (a device's response, a device alert, a DCC alert)
 * POSTed to each User's own endpoint, as DCC Boxed delivers to its Users' "Receive Response
 * Service" address (`Content-Type: application/xml`; any 2xx is delivered).
 *
 * DOMAIN.md 6 (SEC glossary, Device Alert): undelivered messages are retried within 300 s, then
 * queued for 2 days. Here: attempts at 0, 10, 30, 60, 120 and 300 s after the first, then every
 * 15 minutes until 2 days after the first attempt, when the message is dropped with a SAT record
 * (the intervals are ours, unconfirmed). A User's queue holds at most `maxQueuedPerUser` messages;
 * past that the oldest is dropped, with a SAT record. A User with no endpoint registered has its
 * messages queued by the same rules (it may register one later).
 *
 * No timers: `run(now)` makes the attempts due by `now`; `smetsim dcc serve` calls it once a second.
 */
import type { Eui64 } from '@smetsim/core'
import type { ServiceAuditTrail } from '@smetsim/dcc'

export const RETRY_OFFSETS_MS: readonly number[] = [0, 10_000, 30_000, 60_000, 120_000, 300_000]
export const QUEUED_RETRY_INTERVAL_MS = 15 * 60_000
export const QUEUE_LIFETIME_MS = 2 * 86_400_000
export const DEFAULT_MAX_QUEUED_PER_USER = 10_000

export type MessageKind = 'response' | 'alert' | 'dccAlert'

export interface OutgoingMessage {
  user: Eui64
  kind: MessageKind
  /** Signed DUIS XML. */
  xml: string
  requestId?: string
  device?: Eui64
  /** DUIS response code or alert code, for the SAT record of a drop. */
  code?: string
}

interface Queued extends OutgoingMessage {
  firstAt: number
  attempts: number
  nextAt: number
}

/** POSTs the XML; resolves true when the endpoint took it (2xx). Never rejects. */
export type Post = (url: string, xml: string) => Promise<boolean>

/** The default Post: fetch with a 5 s time-out. */
export const httpPost: Post = async (url, xml) => {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml' },
      body: xml,
      signal: AbortSignal.timeout(5000),
    })
    await res.arrayBuffer().catch(() => undefined)
    return res.status >= 200 && res.status < 300
  } catch {
    return false
  }
}

export interface DeliveryOptions {
  /** The User's registered endpoint URL, if any. */
  endpointOf(user: Eui64): string | undefined
  post?: Post
  sat: ServiceAuditTrail
  maxQueuedPerUser?: number
}

export interface DeliveryRun {
  delivered: number
  failed: number
  dropped: number
}

export interface DeliveryQueue {
  /** Queues a message; its first attempt is due at `now`. */
  enqueue(message: OutgoingMessage, now: number): void
  /** Attempts every message due by `now`, a User's in the order queued; resolves when all are done. */
  run(now: number): Promise<DeliveryRun>
  /** Messages waiting, for one User or all. */
  pending(user?: Eui64): number
  /** Every message delivered, per User, in order (the latest `maxQueuedPerUser`; for tests and `duis` tooling). */
  delivered(user: Eui64): readonly OutgoingMessage[]
}

export function createDeliveryQueue(options: DeliveryOptions): DeliveryQueue {
  const post = options.post ?? httpPost
  const max = options.maxQueuedPerUser ?? DEFAULT_MAX_QUEUED_PER_USER
  const queues = new Map<Eui64, Queued[]>()
  const done = new Map<Eui64, OutgoingMessage[]>()
  let running: Promise<DeliveryRun> | undefined

  function drop(q: Queued, why: string): void {
    options.sat.append({
      kind: q.kind === 'response' ? 'response' : q.kind === 'alert' ? 'alert' : 'dccAlert',
      ...(q.requestId !== undefined && { requestId: q.requestId }),
      user: q.user,
      ...(q.device !== undefined && { device: q.device }),
      ...(q.code !== undefined && /^[A-Za-z0-9]{1,16}$/.test(q.code) && { code: q.code }),
      detail: {
        step: 'duis-delivery',
        dropped: why,
        attempts: q.attempts,
        queuedSince: new Date(q.firstAt).toISOString(),
      },
    })
  }

  function nextAttempt(q: Queued): number {
    const offset = RETRY_OFFSETS_MS[q.attempts]
    return offset !== undefined ? q.firstAt + offset : q.nextAt + QUEUED_RETRY_INTERVAL_MS
  }

  async function runUser(user: Eui64, now: number, tally: DeliveryRun): Promise<void> {
    // Take the queue: messages queued while this run awaits its posts go to a fresh one.
    const queue = queues.get(user) ?? []
    queues.set(user, [])
    const url = options.endpointOf(user)
    const keep: Queued[] = []
    for (const q of queue) {
      if (now - q.firstAt >= QUEUE_LIFETIME_MS) {
        drop(q, 'not delivered within 2 days')
        tally.dropped++
        continue
      }
      if (q.nextAt > now) {
        keep.push(q)
        continue
      }
      q.attempts++
      if (url !== undefined && (await post(url, q.xml))) {
        const list = done.get(user) ?? []
        list.push({ user: q.user, kind: q.kind, xml: q.xml, ...(q.requestId && { requestId: q.requestId }) })
        if (list.length > max) list.shift()
        done.set(user, list)
        tally.delivered++
        continue
      }
      tally.failed++
      q.nextAt = nextAttempt(q)
      keep.push(q)
    }
    const merged = [...keep, ...(queues.get(user) ?? [])]
    while (merged.length > max) drop(merged.shift()!, `more than ${max} messages queued for the User`)
    if (merged.length > 0) queues.set(user, merged)
    else queues.delete(user)
  }

  return {
    enqueue(message, now) {
      const queue = queues.get(message.user) ?? []
      queue.push({ ...message, firstAt: now, attempts: 0, nextAt: now })
      while (queue.length > max) {
        drop(queue.shift()!, `more than ${max} messages queued for the User`)
      }
      queues.set(message.user, queue)
    },
    run(now) {
      // One run at a time: a run started while another is under way waits for it, then runs.
      const previous = running ?? Promise.resolve(undefined)
      const next = previous.then(async () => {
        const tally: DeliveryRun = { delivered: 0, failed: 0, dropped: 0 }
        await Promise.all([...queues.keys()].map((user) => runUser(user, now, tally)))
        return tally
      })
      running = next
      return next
    },
    pending(user) {
      if (user !== undefined) return queues.get(user)?.length ?? 0
      let n = 0
      for (const q of queues.values()) n += q.length
      return n
    },
    delivered: (user) => done.get(user) ?? [],
  }
}

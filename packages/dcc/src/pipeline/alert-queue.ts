/**
 * The alerts the DCC holds for its Users — device alerts delivered to them and DCC Alerts raised
 * to them — as bounded queues, one per User, in `seq` order (contract C3).
 *
 * Every alert gets a `seq` from one DCC-wide counter, so a User (or the HTTP API's GET /alerts)
 * pages through its alerts with `afterSeq` and never sees one twice. A queue keeps an alert for
 * DUIS's retention of undelivered Device Alerts — two days (SEC glossary "Device Alert": the DCC
 * "shall hold failed Device Alerts for 2 days for re-delivery", DOMAIN.md §6) — and at most
 * `perUser` alerts (the oldest go first); both are configurable. Every alert is in the SAT either
 * way: the queue is what is still there to fetch.
 */
import type { Eui64 } from '@smetsim/core'

const DAY_MS = 86_400_000

export interface AlertQueueLimits {
  /** Most alerts kept per User (default 10,000). */
  perUser: number
  /** How long an alert is kept, ms (default two days, DUIS's queue of undelivered Device Alerts). */
  retentionMs: number
}

export const DEFAULT_ALERT_QUEUE_LIMITS: Readonly<AlertQueueLimits> = Object.freeze({
  perUser: 10_000,
  retentionMs: 2 * DAY_MS,
})

/** Which page of a User's alerts: those after `afterSeq`, at most `limit` of them, in seq order. */
export interface AlertPage {
  afterSeq?: number
  limit?: number
}

/** An alert in a queue: the item, its seq and the DCC time (epoch ms) it was queued. */
export interface Held<T> {
  item: T
  seq: number
  at: number
}

export interface AlertQueues<T> {
  /** Queues `item` (it already carries `seq`) for `user`, dropping what is too old or too many. */
  push(user: Eui64, item: T, seq: number): void
  /** The User's page in seq order (the whole queue without a page). */
  page(user: Eui64, page?: AlertPage): T[]
  /** Every User's queue as it stands (for a DCC state snapshot, `state.ts`; the arrays are copies). */
  held(): [Eui64, Held<T>[]][]
}

export function createAlertQueues<T>(
  limits: Partial<AlertQueueLimits> | undefined,
  now: () => number,
  /** Queues to start from (`held()` of an earlier DCC, `state.ts`). */
  restore?: readonly (readonly [Eui64, readonly Held<T>[]])[],
): AlertQueues<T> {
  const perUser = positive(limits?.perUser, DEFAULT_ALERT_QUEUE_LIMITS.perUser)
  const retentionMs = positive(limits?.retentionMs, DEFAULT_ALERT_QUEUE_LIMITS.retentionMs)
  const queues = new Map<Eui64, Held<T>[]>()
  for (const [user, held] of restore ?? []) if (held.length > 0) queues.set(user, [...held].slice(-perUser))

  function prune(user: Eui64, queue: Held<T>[]): void {
    const oldest = now() - retentionMs
    let drop = Math.max(0, queue.length - perUser)
    while (drop < queue.length && queue[drop]!.at < oldest) drop++
    if (drop > 0) queue.splice(0, drop)
    if (queue.length === 0) queues.delete(user)
  }

  return {
    push(user, item, seq) {
      let queue = queues.get(user)
      if (!queue) {
        queue = []
        queues.set(user, queue)
      }
      queue.push({ item, seq, at: now() })
      prune(user, queue)
    },
    page(user, page = {}) {
      const queue = queues.get(user)
      if (!queue) return []
      prune(user, queue)
      const after = Number.isFinite(page.afterSeq) ? Number(page.afterSeq) : -Infinity
      // Binary search for the first seq after `after`: seqs only grow.
      let lo = 0
      let hi = queue.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (queue[mid]!.seq <= after) lo = mid + 1
        else hi = mid
      }
      const limit = page.limit === undefined ? queue.length : Math.max(0, Math.floor(Number(page.limit)) || 0)
      return queue.slice(lo, lo + limit).map((h) => h.item)
    },
    held: () => [...queues].map(([user, queue]) => [user, queue.slice()]),
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback
}

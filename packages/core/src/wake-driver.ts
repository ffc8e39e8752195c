/**
 * Wake-ups for many state machines on one scheduler: each member (a device, keyed by its EUI)
 * says when it next needs to run (`wakeAt`), the driver wakes it then, and the member answers
 * with its next instant. One scheduler event per member, moved in place on every reschedule, so
 * 100 000 devices cost 100 000 small objects and no garbage per wake-up.
 *
 * A member may ask for the instant it is woken at (a device whose rule is due at that very
 * instant: packages/device README, "what wakeAt = now means"); it is then woken again after the
 * other events of that instant. One that keeps asking for the same instant more than
 * `maxWakesPerInstant` times is parked (not woken again until `set` is called for it) and
 * counted in `stalled`, so a faulty member cannot stop the simulation.
 */
import type { ScheduledEvent, Scheduler } from './scheduler.ts'

export interface WakeDriver<K> {
  /** Wake `key` at `at` (replacing any wake-up it had); undefined: no wake-up. */
  set(key: K, at: number | undefined): void
  /** The instant `key` is due, if it has one. */
  due(key: K): number | undefined
  /** Forgets `key` and its wake-up. */
  delete(key: K): void
  /** Members with a wake-up pending. */
  readonly size: number
  /** Members parked because they asked for one instant too many times. */
  readonly stalled: readonly K[]
}

export interface WakeDriverOptions {
  /** Default 16. */
  maxWakesPerInstant?: number
}

interface Member<K> {
  key: K
  event: ScheduledEvent | undefined
  /** The instant of the last wake and how many wakes it has had at that instant. */
  lastAt: number
  wakesAtLast: number
}

/**
 * `wake(key, now)` runs the member and returns its next instant (undefined: none). It must not
 * throw; an exception propagates out of `scheduler.run`.
 */
export function createWakeDriver<K>(
  scheduler: Scheduler,
  wake: (key: K, now: number) => number | undefined,
  options: WakeDriverOptions = {},
): WakeDriver<K> {
  const maxWakes = options.maxWakesPerInstant ?? 16
  const members = new Map<K, Member<K>>()
  const stalled: K[] = []
  let pending = 0

  const arm = (m: Member<K>, at: number | undefined) => {
    if (at === undefined) {
      if (m.event?.cancel()) pending--
      return
    }
    const t = Math.max(at, scheduler.now())
    if (m.event) {
      if (!m.event.pending) pending++
      scheduler.reschedule(m.event, t)
    } else {
      m.event = scheduler.at(t, () => fire(m))
      pending++
    }
  }

  const fire = (m: Member<K>) => {
    pending--
    const now = scheduler.now()
    if (now === m.lastAt) m.wakesAtLast++
    else {
      m.lastAt = now
      m.wakesAtLast = 1
    }
    const next = wake(m.key, now)
    if (next !== undefined && next <= now && m.wakesAtLast >= maxWakes) {
      stalled.push(m.key)
      return
    }
    arm(m, next)
  }

  return {
    set(key, at) {
      let m = members.get(key)
      if (!m) {
        if (at === undefined) return
        m = { key, event: undefined, lastAt: Number.NaN, wakesAtLast: 0 }
        members.set(key, m)
      }
      const i = stalled.indexOf(key)
      if (i >= 0) stalled.splice(i, 1)
      arm(m, at)
    },
    due(key) {
      const e = members.get(key)?.event
      return e?.pending ? e.at : undefined
    },
    delete(key) {
      const m = members.get(key)
      if (!m) return
      if (m.event?.cancel()) pending--
      members.delete(key)
    },
    get size() {
      return pending
    },
    get stalled() {
      return stalled
    },
  }
}

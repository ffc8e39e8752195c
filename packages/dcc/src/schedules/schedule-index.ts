/**
 * The DCC's schedule book kept in place, for a DCC holding many schedules: the same schedules,
 * counters and rules as the pure book of schedules.ts (whose functions copy the whole book on every
 * change, O(N) each, and whose `dueRuns` looks at every schedule), with every operation O(1) or
 * O(log N):
 *
 * - schedules by id, in creation order (a Map keeps insertion order: the book's order);
 * - per owner, and per owner and device, the schedules (for the caps and SR 5.2) — counts are
 *   the sizes of those maps;
 * - the last RequestID counter per owner and device (bigint; decimal text in the book);
 * - a min-heap of each schedule's next run by (due time, schedule number), the order `dueRuns`
 *   gives; a deleted schedule leaves it at once (each heap entry knows its place), so creating and
 *   deleting schedules never leaves anything behind.
 *
 * Schedule objects are never changed once handed out: a run replaces the schedule with a new
 * object (`afterRun`), as the pure book does. `toBook()` gives the plain JSON book (the format of
 * ScheduleBook, version 2), `fromBook` takes one back.
 */
import type { Eui64 } from '@smetsim/core'
import { parseEui } from '@smetsim/core'
import {
  afterRun,
  counterAfter,
  counterKey,
  type DccSchedule,
  type DeleteOutcome,
  type DueRun,
  dueTime,
  type NewSchedule,
  newSchedule,
  type ScheduleBook,
  ScheduleError,
  type ScheduleLimits,
} from './schedules.ts'

interface HeapEntry {
  scheduleId: string
  number: number
  run: number
  dueAt: number
  /** Where it is in the heap's array. */
  at: number
}

const before = (a: HeapEntry, b: HeapEntry) =>
  a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.number < b.number)

function entry<K>(maps: Map<K, Map<string, DccSchedule>>, key: K): Map<string, DccSchedule> {
  let map = maps.get(key)
  if (!map) {
    map = new Map()
    maps.set(key, map)
  }
  return map
}

export class ScheduleIndex {
  #nextNumber = 1
  readonly #byId = new Map<string, DccSchedule>()
  readonly #byOwner = new Map<Eui64, Map<string, DccSchedule>>()
  readonly #byPair = new Map<string, Map<string, DccSchedule>>()
  readonly #counters = new Map<string, bigint>()
  readonly #heap: HeapEntry[] = []
  readonly #entries = new Map<string, HeapEntry>()
  readonly #setAside: string[] = []

  /** An index holding the schedules and counters of a book (validated as far as the index needs). */
  static fromBook(book: ScheduleBook): ScheduleIndex {
    const index = new ScheduleIndex()
    if (!Number.isSafeInteger(book.nextNumber) || book.nextNumber < 1)
      throw new ScheduleError('schedule book: nextNumber is not a whole number ≥ 1')
    index.#nextNumber = book.nextNumber
    if (!Array.isArray(book.schedules)) throw new ScheduleError('schedule book: schedules is not a list')
    for (const [key, value] of Object.entries(book.counters ?? {})) {
      let counter: bigint
      try {
        counter = BigInt(value)
      } catch {
        throw new ScheduleError(`schedule book: counter of ${key} is not decimal text`)
      }
      index.#counters.set(key, counter)
    }
    for (const given of book.schedules) {
      if (index.#byId.has(given.scheduleId))
        throw new ScheduleError(`schedule book: ${given.scheduleId} is there twice`)
      const schedule = structuredClone(given)
      index.#add(schedule)
      index.#reschedule(schedule)
    }
    return index
  }

  get size(): number {
    return this.#byId.size
  }

  /** The plain JSON book: schedules in creation order (shares the schedule objects: copy to hand out). */
  toBook(): ScheduleBook {
    const counters: { [ownerDevice: string]: string } = {}
    for (const [key, value] of this.#counters) counters[key] = value.toString()
    return { version: 2, nextNumber: this.#nextNumber, schedules: [...this.#byId.values()], counters }
  }

  /** As schedules.ts `createSchedule`, in place. */
  create(input: NewSchedule, limits: Partial<ScheduleLimits> = {}): DccSchedule {
    const schedule = newSchedule(
      this.#nextNumber,
      input,
      (owner, deviceId) => ({
        mine: this.#byOwner.get(owner)?.size ?? 0,
        onDevice: this.#byPair.get(counterKey(owner, deviceId))?.size ?? 0,
      }),
      limits,
    )
    this.#nextNumber = schedule.number + 1
    this.#add(schedule)
    const key = counterKey(schedule.owner, schedule.request.deviceId)
    if (!this.#counters.has(key)) this.#counters.set(key, 0n)
    this.#reschedule(schedule)
    return schedule
  }

  find(scheduleId: string): DccSchedule | undefined {
    return this.#byId.get(scheduleId)
  }

  /** As schedules.ts `schedulesOf`: the owner's schedules (on one device), in creation order. */
  of(owner: string, deviceId?: string): DccSchedule[] {
    const user = parseEui(owner)
    const map =
      deviceId === undefined
        ? this.#byOwner.get(user)
        : this.#byPair.get(counterKey(user, parseEui(deviceId)))
    return map ? [...map.values()] : []
  }

  /** As schedules.ts `deleteSchedule`, in place. */
  delete(user: string, scheduleId: string): { outcome: DeleteOutcome; schedule?: DccSchedule } {
    const schedule = this.#byId.get(scheduleId)
    if (!schedule) return { outcome: 'unknown' }
    if (schedule.owner !== parseEui(user)) return { outcome: 'not-owner', schedule }
    this.#byId.delete(scheduleId)
    const own = this.#byOwner.get(schedule.owner)!
    own.delete(scheduleId)
    if (own.size === 0) this.#byOwner.delete(schedule.owner)
    const key = counterKey(schedule.owner, schedule.request.deviceId)
    const pair = this.#byPair.get(key)!
    pair.delete(scheduleId)
    // The counter is kept while the pair has schedules (so it stays bounded by them).
    if (pair.size === 0) {
      this.#byPair.delete(key)
      this.#counters.delete(key)
    }
    this.#unqueue(scheduleId)
    return { outcome: 'deleted', schedule }
  }

  /** Sequence number the next schedule gets. */
  get nextNumber(): number {
    return this.#nextNumber
  }

  /**
   * The earliest run not yet run, by due time then schedule number (the order of schedules.ts
   * `dueRuns`), when it is due at or before `upTo`. A due schedule numbered `below` or higher
   * (made since a round of runs began) is set aside until `restoreSetAside()`.
   */
  nextDue(upTo: number, below = Number.POSITIVE_INFINITY): DueRun | undefined {
    for (let top = this.#heap[0]; top && top.dueAt <= upTo; top = this.#heap[0]) {
      if (top.number < below)
        return { schedule: this.#byId.get(top.scheduleId)!, run: top.run, dueAt: top.dueAt }
      this.#unqueue(top.scheduleId)
      this.#setAside.push(top.scheduleId)
    }
    return undefined
  }

  /** Puts back the schedules `nextDue` set aside (those not deleted since). */
  restoreSetAside(): void {
    for (const id of this.#setAside.splice(0)) {
      const schedule = this.#byId.get(id)
      if (schedule) this.#reschedule(schedule)
    }
  }

  /** As schedules.ts `runCounter`. */
  runCounter(schedule: DccSchedule, run: number): bigint {
    return counterAfter(
      this.#counters.get(counterKey(schedule.owner, schedule.request.deviceId)) ?? 0n,
      schedule,
      run,
    )
  }

  /** As schedules.ts `noteCounter`, in place. */
  noteCounter(owner: string, deviceId: string, counter: bigint): void {
    const key = counterKey(owner, deviceId)
    const last = this.#counters.get(key)
    if (last !== undefined && last < counter) this.#counters.set(key, counter)
  }

  /** As schedules.ts `recordRun`, in place: returns the schedule as it now stands. */
  recordRun(scheduleId: string, run: number): DccSchedule | undefined {
    const old = this.#byId.get(scheduleId)
    if (!old) return undefined
    const schedule = afterRun(old, run)
    if (schedule === old) return old
    this.#byId.set(scheduleId, schedule)
    this.#byOwner.get(schedule.owner)!.set(scheduleId, schedule)
    this.#byPair.get(counterKey(schedule.owner, schedule.request.deviceId))!.set(scheduleId, schedule)
    this.#reschedule(schedule)
    return schedule
  }

  #add(schedule: DccSchedule) {
    this.#byId.set(schedule.scheduleId, schedule)
    entry(this.#byOwner, schedule.owner).set(schedule.scheduleId, schedule)
    entry(this.#byPair, counterKey(schedule.owner, schedule.request.deviceId)).set(
      schedule.scheduleId,
      schedule,
    )
  }

  /** Puts the schedule's next run (from `nextRun`) in the heap, or takes it out when it has none. */
  #reschedule(schedule: DccSchedule) {
    const dueAt = dueTime(schedule, schedule.nextRun)
    const entry = this.#entries.get(schedule.scheduleId)
    if (dueAt === undefined) {
      if (entry) this.#unqueue(schedule.scheduleId)
      return
    }
    if (!entry) {
      const fresh: HeapEntry = {
        scheduleId: schedule.scheduleId,
        number: schedule.number,
        run: schedule.nextRun,
        dueAt,
        at: this.#heap.length,
      }
      this.#entries.set(schedule.scheduleId, fresh)
      this.#heap.push(fresh)
      this.#up(fresh.at)
      return
    }
    const later = dueAt >= entry.dueAt
    entry.run = schedule.nextRun
    entry.dueAt = dueAt
    if (later) this.#down(entry.at)
    else this.#up(entry.at)
  }

  #unqueue(scheduleId: string) {
    const entry = this.#entries.get(scheduleId)
    if (!entry) return
    this.#entries.delete(scheduleId)
    const last = this.#heap.pop()!
    if (last === entry) return
    this.#heap[entry.at] = last
    last.at = entry.at
    this.#down(last.at)
    this.#up(last.at)
  }

  #up(i: number) {
    const heap = this.#heap
    const entry = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent]!
      if (!before(entry, p)) break
      heap[i] = p
      p.at = i
      i = parent
    }
    heap[i] = entry
    entry.at = i
  }

  #down(i: number) {
    const heap = this.#heap
    const n = heap.length
    const entry = heap[i]!
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && before(heap[child + 1]!, heap[child]!)) child++
      const c = heap[child]!
      if (!before(c, entry)) break
      heap[i] = c
      c.at = i
      i = child
    }
    heap[i] = entry
    entry.at = i
  }
}

/**
 * The discrete-event scheduler: the one source of time in a simulation (ARCHITECTURE.md
 * principles 3 and 4). Nothing ticks: whoever needs to act later asks for an instant with
 * `at(t, fn)` or `after(dt, fn)`, and the scheduler runs the callbacks in time order. SimPy's
 * event loop is the model, without its processes: a callback that wants to act again schedules
 * itself again.
 *
 * Order is deterministic: by time, then by the order the events were scheduled (a sequence
 * number), so the same inputs give the same run. The queue is a binary heap whose entries know
 * their own position, so cancelling or moving an event is O(log n) and leaves nothing behind.
 *
 * Virtual time: `run({ until })` runs everything due up to `until` as fast as the CPU goes.
 * Real time: `createRealTimeDriver` (real-time.ts) maps virtual time onto the wall clock with an
 * acceleration factor; it is the only place in smetsim that sets a timer.
 */

/** A scheduled callback: cancel it, or ask when and whether it is still due. */
export interface ScheduledEvent {
  /** The virtual instant (ms) it runs at. */
  readonly at: number
  /** True until it has run or been cancelled. */
  readonly pending: boolean
  /** Takes it out of the queue; false if it had already run or been cancelled. */
  cancel(): boolean
}

/**
 * Called at the event's instant with that instant and the event itself, so one callback can
 * serve many events (and reschedule the one it was called for) without a closure per event.
 */
export type EventCallback = (now: number, event: ScheduledEvent) => void

export interface RunOptions {
  /** Run the events due at or before this instant, then leave the clock there. Default: until the queue is empty. */
  until?: number
  /** Stop after this many events (a guard against a run that never ends). Default: no limit. */
  maxEvents?: number
}

export interface RunResult {
  /** Events run. */
  events: number
  /** The clock afterwards. */
  now: number
  /** True when `maxEvents` stopped the run with events still due before `until`. */
  truncated: boolean
}

export interface Scheduler {
  /** The current virtual instant (ms): the time of the event running, or where the last run left it. */
  now(): number
  /** Runs `fn` at instant `t` (not before now). Throws a RangeError for a time before now or not a number. */
  at(t: number, fn: EventCallback): ScheduledEvent
  /** Runs `fn` `dt` ms from now (dt ≥ 0). */
  after(dt: number, fn: EventCallback): ScheduledEvent
  /**
   * Moves an event to instant `t` (not before now), as if it had been cancelled and scheduled
   * again: it goes after the events already due at `t`. An event that has run or was cancelled
   * is armed again with the same callback. Costs no allocation, which is what a driver of
   * 100 000 devices needs. Returns false for an event of another scheduler.
   */
  reschedule(event: ScheduledEvent, t: number): boolean
  /** Runs events in order; see RunOptions. Re-entrant calls (from inside a callback) throw. */
  run(options?: RunOptions): RunResult
  /** The instant of the next pending event, or undefined when none is. */
  next(): number | undefined
  /** How many events are pending. */
  readonly size: number
  /**
   * Real-time drivers only: a wall-clock view of virtual time. Outside a callback `now()` then
   * returns the later of the last event's time and `clock()`, so input arriving from outside
   * (a network message) is stamped with the current mapped wall time.
   */
  setClock(clock: (() => number) | undefined): void
  /** Real-time drivers only: called whenever the earliest pending instant may have changed. */
  onEarliestChanged(listener: (() => void) | undefined): void
}

class Event implements ScheduledEvent {
  /** Its slot in the scheduler's tables while pending; -1 once it has run or been cancelled. */
  slot = -1
  constructor(
    public at: number,
    public fn: EventCallback,
    private readonly owner: HeapScheduler,
  ) {}
  get pending(): boolean {
    return this.slot >= 0
  }
  belongsTo(scheduler: HeapScheduler): boolean {
    return this.owner === scheduler
  }
  cancel(): boolean {
    return this.owner.remove(this)
  }
}

/**
 * A binary heap by (time, sequence number) kept entirely in typed arrays. Each pending event
 * has a slot (a small integer, reused once the event has run or been cancelled); the heap holds
 * slots, with each position's time and sequence number beside it, and `position` says where
 * each slot is. Sifting therefore reads and writes only these arrays: with 100 000 members the
 * queue outgrows the CPU caches, and a heap of event objects that kept their own index would
 * load every object it moves past (the textbook heap does, to read its time). An event object is
 * touched only when it is scheduled and when it runs. The arrays double when full and are
 * never shrunk: memory follows the most events ever pending at once, 36 bytes each.
 */
class HeapScheduler implements Scheduler {
  /** The slot at each heap position. */
  private heap = new Int32Array(INITIAL_CAPACITY)
  /** Time and sequence number at each heap position, interleaved: [t0, s0, t1, s1, ...]. */
  private keys = new Float64Array(2 * INITIAL_CAPACITY)
  /** The heap position of each slot in use. */
  private position = new Int32Array(INITIAL_CAPACITY)
  /** The event in each slot (undefined when free). */
  private readonly events: (Event | undefined)[] = []
  /** Slots free for reuse, a stack. */
  private free = new Int32Array(INITIAL_CAPACITY)
  private freeCount = 0
  /** Slots ever made: the free ones and the ones in use. */
  private slots = 0
  private count = 0
  /** Written by run only so that the read before it is not optimised away (never read). */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: a store that keeps a prefetching read alive
  private touched = 0
  private current: number
  /** Sequence numbers as doubles: exact up to 2^53, more events than any run schedules. */
  private seq = 0
  private running = false
  private clock: (() => number) | undefined
  private earliestListener: (() => void) | undefined

  constructor(start: number) {
    this.current = start
  }

  get size(): number {
    return this.count
  }

  now(): number {
    if (this.running || !this.clock) return this.current
    return Math.max(this.clock(), this.current)
  }

  at(t: number, fn: EventCallback): ScheduledEvent {
    this.checkTime(t)
    const e = new Event(t, fn, this)
    this.push(e, t)
    return e
  }

  after(dt: number, fn: EventCallback): ScheduledEvent {
    if (!(dt >= 0)) throw new RangeError(`a delay must be a number ≥ 0, got ${dt}`)
    return this.at(this.now() + dt, fn)
  }

  reschedule(event: ScheduledEvent, t: number): boolean {
    if (!(event instanceof Event) || !event.belongsTo(this)) return false
    this.checkTime(t)
    event.at = t
    if (event.slot < 0) {
      this.push(event, t)
      return true
    }
    // Moved in place: a new sequence number puts it after the events already due at t.
    const p = this.position[event.slot]!
    this.keys[2 * p] = t
    this.keys[2 * p + 1] = this.seq++
    const to = this.down(this.up(p))
    if (p === 0 || to === 0) this.earliestListener?.()
    return true
  }

  next(): number | undefined {
    return this.count > 0 ? this.keys[0] : undefined
  }

  setClock(clock: (() => number) | undefined): void {
    this.clock = clock
  }

  onEarliestChanged(listener: (() => void) | undefined): void {
    this.earliestListener = listener
  }

  run(options: RunOptions = {}): RunResult {
    if (this.running) throw new Error('Scheduler.run is not re-entrant: schedule an event instead')
    const until = options.until ?? Number.POSITIVE_INFINITY
    const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY
    if (Number.isNaN(until)) throw new RangeError('until must be a number')
    let events = 0
    this.running = true
    try {
      while (this.count > 0) {
        const at = this.keys[0]!
        if (at > until) break
        if (events >= maxEvents) return { events, now: this.current, truncated: true }
        const first = this.events[this.heap[0]!]!
        this.removeAt(0)
        this.current = at
        events++
        // Reads the event now first in the queue before running this one's callback: in a queue
        // larger than the CPU caches its object is a cache miss, and this way the memory fetch
        // overlaps the callback instead of stalling the next turn of the loop. (A heap of event
        // objects gets this for free: it has just compared that object's time.)
        if (this.count > 0) this.touched = this.events[this.heap[0]!]!.slot
        first.fn(at, first)
      }
      if (until !== Number.POSITIVE_INFINITY && until > this.current) this.current = until
    } finally {
      this.running = false
    }
    return { events, now: this.current, truncated: false }
  }

  remove(e: Event): boolean {
    const slot = e.slot
    if (slot < 0) return false
    const p = this.position[slot]!
    this.removeAt(p)
    if (p === 0) this.earliestListener?.()
    return true
  }

  private checkTime(t: number): void {
    // The usual case first: a number at or after the clock, read without a wall clock.
    if (typeof t === 'number' && t >= this.current && (this.running || !this.clock)) return
    if (typeof t !== 'number' || Number.isNaN(t))
      throw new RangeError(`an instant must be a number, got ${t}`)
    if (t < this.now()) throw new RangeError(`instant ${t} is before now (${this.now()})`)
  }

  private push(e: Event, t: number): void {
    if (this.count === this.heap.length) this.grow()
    let slot: number
    if (this.freeCount > 0) {
      slot = this.free[--this.freeCount]!
      this.events[slot] = e
    } else {
      slot = this.slots++
      this.events.push(e)
    }
    e.slot = slot
    const p = this.count++
    this.heap[p] = slot
    this.keys[2 * p] = t
    this.keys[2 * p + 1] = this.seq++
    if (this.up(p) === 0) this.earliestListener?.()
  }

  /** Doubles every table (slots made never exceed the most events pending at once). */
  private grow(): void {
    const n = this.heap.length * 2
    const heap = new Int32Array(n)
    const keys = new Float64Array(2 * n)
    const position = new Int32Array(n)
    const free = new Int32Array(n)
    heap.set(this.heap)
    keys.set(this.keys)
    position.set(this.position)
    free.set(this.free)
    this.heap = heap
    this.keys = keys
    this.position = position
    this.free = free
  }

  /** Takes the event at heap position p out and frees its slot. */
  private removeAt(p: number): void {
    const slot = this.heap[p]!
    this.events[slot]!.slot = -1
    this.events[slot] = undefined
    this.free[this.freeCount++] = slot
    const last = --this.count
    if (p !== last) {
      const keys = this.keys
      const moved = this.heap[last]!
      this.heap[p] = moved
      keys[2 * p] = keys[2 * last]!
      keys[2 * p + 1] = keys[2 * last + 1]!
      this.position[moved] = p
      this.down(p === 0 ? 0 : this.up(p))
    }
  }

  /** Sifts position p towards the root; returns where it ends. */
  private up(p: number): number {
    const { heap, keys, position } = this
    const slot = heap[p]!
    const t = keys[2 * p]!
    const q = keys[2 * p + 1]!
    while (p > 0) {
      const parent = (p - 1) >> 1
      const pt = keys[2 * parent]!
      const pq = keys[2 * parent + 1]!
      if (pt < t || (pt === t && pq < q)) break
      const s = heap[parent]!
      heap[p] = s
      keys[2 * p] = pt
      keys[2 * p + 1] = pq
      position[s] = p
      p = parent
    }
    heap[p] = slot
    keys[2 * p] = t
    keys[2 * p + 1] = q
    position[slot] = p
    return p
  }

  /** Sifts position p towards the leaves; returns where it ends. */
  private down(p: number): number {
    const { heap, keys, position } = this
    const n = this.count
    const slot = heap[p]!
    const t = keys[2 * p]!
    const q = keys[2 * p + 1]!
    for (;;) {
      let child = 2 * p + 1
      if (child >= n) break
      let ct = keys[2 * child]!
      let cq = keys[2 * child + 1]!
      const right = child + 1
      if (right < n) {
        const rt = keys[2 * right]!
        const rq = keys[2 * right + 1]!
        if (rt < ct || (rt === ct && rq < cq)) {
          child = right
          ct = rt
          cq = rq
        }
      }
      if (t < ct || (t === ct && q < cq)) break
      const s = heap[child]!
      heap[p] = s
      keys[2 * p] = ct
      keys[2 * p + 1] = cq
      position[s] = p
      p = child
    }
    heap[p] = slot
    keys[2 * p] = t
    keys[2 * p + 1] = q
    position[slot] = p
    return p
  }
}

/** Tables start this long and double when full. */
const INITIAL_CAPACITY = 64

/** A scheduler whose clock starts at `start` (virtual ms; default 0). */
export function createScheduler(options: { start?: number } = {}): Scheduler {
  const start = options.start ?? 0
  if (typeof start !== 'number' || !Number.isFinite(start))
    throw new RangeError('start must be a finite number')
  return new HeapScheduler(start)
}

/**
 * The discrete-event scheduler: the one source of time in a simulation (ARCHITECTURE.md
 * principles 3 and 4). Nothing ticks: whoever needs to act later asks for an instant with
 * `at(t, fn)` or `after(dt, fn)`, and the scheduler runs the callbacks in time order. SimPy's
 * event loop is the model, without its processes: a callback that wants to act again schedules
 * itself again.
 *
 * Order is deterministic: by time, then by the order the events were scheduled (a sequence
 * number), so the same inputs give the same run. The queue is a 4-ary heap whose entries know
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

export type EventCallback = (now: number) => void

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
  /** Position in the heap; -1 once it has run or been cancelled. */
  index = -1
  /** Its key while it waits is in the heap's arrays; this copy is what `at` reads. */
  constructor(
    public at: number,
    public fn: EventCallback,
    private readonly owner: HeapScheduler,
  ) {}
  get pending(): boolean {
    return this.index >= 0
  }
  belongsTo(scheduler: HeapScheduler): boolean {
    return this.owner === scheduler
  }
  cancel(): boolean {
    return this.owner.remove(this)
  }
}

/** Children per node: a 4-ary heap is half as deep as a binary one and its siblings sit together. */
const ARITY = 4

/**
 * The queue: a 4-ary min-heap ordered by (time, sequence number). The keys live in two
 * Float64Arrays beside the array of events, so sifting compares numbers in contiguous memory and
 * touches an event object only to move it (its `index` follows it). Sequence numbers are exact
 * up to 2^53 events.
 */
class HeapScheduler implements Scheduler {
  private events: Event[] = []
  private ats = new Float64Array(64)
  private seqs = new Float64Array(64)
  private n = 0
  private current: number
  private seq = 0
  private running = false
  private clock: (() => number) | undefined
  private earliestListener: (() => void) | undefined

  constructor(start: number) {
    this.current = start
  }

  get size(): number {
    return this.n
  }

  now(): number {
    if (this.running || !this.clock) return this.current
    return Math.max(this.clock(), this.current)
  }

  at(t: number, fn: EventCallback): ScheduledEvent {
    this.checkTime(t)
    const e = new Event(t, fn, this)
    this.push(e)
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
    if (event.index < 0) {
      this.push(event)
      return true
    }
    const i = event.index
    const wasFirst = i === 0
    this.ats[i] = t
    this.seqs[i] = this.seq++
    this.down(this.up(i))
    if (wasFirst || event.index === 0) this.earliestListener?.()
    return true
  }

  next(): number | undefined {
    return this.n > 0 ? this.ats[0] : undefined
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
      while (this.n > 0) {
        const at = this.ats[0]!
        if (at > until) break
        if (events >= maxEvents) return { events, now: this.current, truncated: true }
        const first = this.events[0]!
        this.removeAt(0)
        this.current = at
        events++
        first.fn(at)
      }
      if (until !== Number.POSITIVE_INFINITY && until > this.current) this.current = until
    } finally {
      this.running = false
    }
    return { events, now: this.current, truncated: false }
  }

  remove(e: Event): boolean {
    if (e.index < 0 || this.events[e.index] !== e) return false
    const wasFirst = e.index === 0
    this.removeAt(e.index)
    if (wasFirst) this.earliestListener?.()
    return true
  }

  private checkTime(t: number): void {
    if (typeof t !== 'number' || Number.isNaN(t))
      throw new RangeError(`an instant must be a number, got ${t}`)
    if (t < this.now()) throw new RangeError(`instant ${t} is before now (${this.now()})`)
  }

  private push(e: Event): void {
    const i = this.n++
    if (i === this.ats.length) this.grow()
    this.events[i] = e
    this.ats[i] = e.at
    this.seqs[i] = this.seq++
    e.index = i
    if (this.up(i) === 0) this.earliestListener?.()
  }

  private grow(): void {
    const ats = new Float64Array(this.ats.length * 2)
    const seqs = new Float64Array(this.seqs.length * 2)
    ats.set(this.ats)
    seqs.set(this.seqs)
    this.ats = ats
    this.seqs = seqs
  }

  /** Takes out the entry at i: the last entry fills the hole and sifts to its place. */
  private removeAt(i: number): void {
    const events = this.events
    const gone = events[i]!
    gone.index = -1
    const last = --this.n
    const moved = events[last]!
    events[last] = undefined as unknown as Event // no reference kept to what has gone
    if (i === last) return
    events[i] = moved
    moved.index = i
    this.ats[i] = this.ats[last]!
    this.seqs[i] = this.seqs[last]!
    this.down(this.up(i))
  }

  /** Sifts entry i towards the root; returns where it ends. */
  private up(i: number): number {
    const { events, ats, seqs } = this
    const e = events[i]!
    const at = ats[i]!
    const seq = seqs[i]!
    while (i > 0) {
      const parent = ((i - 1) / ARITY) | 0
      const pa = ats[parent]!
      if (pa < at || (pa === at && seqs[parent]! < seq)) break
      const p = events[parent]!
      events[i] = p
      ats[i] = pa
      seqs[i] = seqs[parent]!
      p.index = i
      i = parent
    }
    events[i] = e
    ats[i] = at
    seqs[i] = seq
    e.index = i
    return i
  }

  /** Sifts entry i towards the leaves. */
  private down(i: number): void {
    const { events, ats, seqs, n } = this
    const e = events[i]!
    const at = ats[i]!
    const seq = seqs[i]!
    for (;;) {
      const first = ARITY * i + 1
      if (first >= n) break
      // The earliest child.
      let c = first
      let ca = ats[first]!
      let cs = seqs[first]!
      const end = Math.min(first + ARITY, n)
      for (let k = first + 1; k < end; k++) {
        const ka = ats[k]!
        if (ka < ca || (ka === ca && seqs[k]! < cs)) {
          c = k
          ca = ka
          cs = seqs[k]!
        }
      }
      if (at < ca || (at === ca && seq < cs)) break
      const child = events[c]!
      events[i] = child
      ats[i] = ca
      seqs[i] = cs
      child.index = i
      i = c
    }
    events[i] = e
    ats[i] = at
    seqs[i] = seq
    e.index = i
  }
}

/** A scheduler whose clock starts at `start` (virtual ms; default 0). */
export function createScheduler(options: { start?: number } = {}): Scheduler {
  const start = options.start ?? 0
  if (typeof start !== 'number' || !Number.isFinite(start))
    throw new RangeError('start must be a finite number')
  return new HeapScheduler(start)
}

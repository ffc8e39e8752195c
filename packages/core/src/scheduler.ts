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
  constructor(
    public at: number,
    public seq: number,
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

/** a runs before b: earlier time, or the same time and scheduled first. */
const before = (a: Event, b: Event): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

class HeapScheduler implements Scheduler {
  private readonly heap: Event[] = []
  private current: number
  private seq = 0
  private running = false
  private clock: (() => number) | undefined
  private earliestListener: (() => void) | undefined

  constructor(start: number) {
    this.current = start
  }

  get size(): number {
    return this.heap.length
  }

  now(): number {
    if (this.running || !this.clock) return this.current
    return Math.max(this.clock(), this.current)
  }

  at(t: number, fn: EventCallback): ScheduledEvent {
    this.checkTime(t)
    const e = new Event(t, this.seq++, fn, this)
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
    if (event.index < 0) {
      event.at = t
      event.seq = this.seq++
      this.push(event)
      return true
    }
    const wasFirst = event.index === 0
    event.at = t
    event.seq = this.seq++
    this.up(event.index)
    this.down(event.index)
    if (wasFirst || event.index === 0) this.earliestListener?.()
    return true
  }

  next(): number | undefined {
    return this.heap[0]?.at
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
      for (;;) {
        const first = this.heap[0]
        if (!first || first.at > until) break
        if (events >= maxEvents) return { events, now: this.current, truncated: true }
        this.removeAt(0)
        this.current = first.at
        events++
        first.fn(first.at)
      }
      if (until !== Number.POSITIVE_INFINITY && until > this.current) this.current = until
    } finally {
      this.running = false
    }
    return { events, now: this.current, truncated: false }
  }

  remove(e: Event): boolean {
    if (e.index < 0 || this.heap[e.index] !== e) return false
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
    e.index = this.heap.length
    this.heap.push(e)
    this.up(e.index)
    if (e.index === 0) this.earliestListener?.()
  }

  private removeAt(i: number): void {
    const heap = this.heap
    const gone = heap[i]!
    const last = heap.pop()!
    gone.index = -1
    if (last !== gone) {
      heap[i] = last
      last.index = i
      this.up(i)
      this.down(last.index)
    }
  }

  private up(i: number): void {
    const heap = this.heap
    const e = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent]!
      if (!before(e, p)) break
      heap[i] = p
      p.index = i
      i = parent
    }
    heap[i] = e
    e.index = i
  }

  private down(i: number): void {
    const heap = this.heap
    const n = heap.length
    const e = heap[i]!
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left
      const c = heap[child]!
      if (!before(c, e)) break
      heap[i] = c
      c.index = i
      i = child
    }
    heap[i] = e
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

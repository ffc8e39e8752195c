import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRealTimeDriver, type WallClock } from './real-time.ts'
import { createScheduler, type ScheduledEvent } from './scheduler.ts'
import { createWakeDriver } from './wake-driver.ts'

/**
 * The naive reference: a list of (time, seq, id), sorted in full before every pop. What the heap
 * must agree with, operation for operation.
 */
class ReferenceQueue {
  items: { at: number; seq: number; id: number }[] = []
  seq = 0
  now = 0
  add(at: number, id: number) {
    this.items.push({ at, seq: this.seq++, id })
  }
  cancel(id: number): boolean {
    const i = this.items.findIndex((e) => e.id === id)
    if (i < 0) return false
    this.items.splice(i, 1)
    return true
  }
  move(id: number, at: number) {
    this.cancel(id)
    this.add(at, id)
  }
  runUntil(until: number, onRun: (id: number, at: number) => void) {
    for (;;) {
      this.items.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const first = this.items[0]
      if (!first || first.at > until) break
      this.items.shift()
      this.now = first.at
      onRun(first.id, first.at)
    }
    if (until > this.now) this.now = until
  }
}

type Op =
  | { kind: 'add'; delay: number }
  | { kind: 'cancel'; which: number }
  | { kind: 'move'; which: number; delay: number }
  | { kind: 'run'; span: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), delay: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('cancel' as const), which: fc.nat(40) }),
  fc.record({
    kind: fc.constant('move' as const),
    which: fc.nat(40),
    delay: fc.integer({ min: 0, max: 50 }),
  }),
  fc.record({ kind: fc.constant('run' as const), span: fc.integer({ min: 0, max: 30 }) }),
)

describe('scheduler', () => {
  it('runs events in time order, then in the order they were scheduled', () => {
    const s = createScheduler({ start: 100 })
    const seen: string[] = []
    s.at(130, () => seen.push('c'))
    s.at(110, () => seen.push('a'))
    s.after(10, () => seen.push('b')) // also at 110, scheduled later
    s.at(100, (now) => seen.push(`now ${now}`))
    const r = s.run()
    expect(seen).toEqual(['now 100', 'a', 'b', 'c'])
    expect(r).toEqual({ events: 4, now: 130, truncated: false })
  })

  it('agrees with a naive sorted list for any sequence of adds, cancels, moves and runs', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const s = createScheduler()
        const ref = new ReferenceQueue()
        const handles: ScheduledEvent[] = []
        const ran: [number, number][] = []
        const refRan: [number, number][] = []
        for (const op of ops) {
          if (op.kind === 'add') {
            const id = handles.length
            handles.push(s.at(s.now() + op.delay, (now) => ran.push([id, now])))
            ref.add(ref.now + op.delay, id)
          } else if (op.kind === 'cancel' && handles.length > 0) {
            const id = op.which % handles.length
            expect(handles[id]!.cancel()).toBe(ref.cancel(id))
          } else if (op.kind === 'move' && handles.length > 0) {
            const id = op.which % handles.length
            const h = handles[id]!
            if (!h.pending) continue // a finished event is re-armed: covered by its own test
            s.reschedule(h, s.now() + op.delay)
            ref.move(id, ref.now + op.delay)
          } else if (op.kind === 'run') {
            s.run({ until: s.now() + op.span })
            ref.runUntil(ref.now + op.span, (id, at) => refRan.push([id, at]))
          }
          expect(s.now()).toBe(ref.now)
          expect(s.size).toBe(ref.items.length)
        }
        s.run()
        ref.runUntil(Number.POSITIVE_INFINITY, (id, at) => refRan.push([id, at]))
        expect(ran).toEqual(refRan)
      }),
      { numRuns: 300 },
    )
  })

  it('agrees with the naive list when callbacks re-arm, cancel and add, through table growth and slot reuse', () => {
    type Reaction =
      | { kind: 'none' }
      | { kind: 'rearm'; delay: number }
      | { kind: 'cancel'; which: number }
      | { kind: 'add'; delay: number }
    const reactionArb: fc.Arbitrary<Reaction> = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('rearm' as const), delay: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('cancel' as const), which: fc.nat(1000) }),
      fc.record({ kind: fc.constant('add' as const), delay: fc.integer({ min: 0, max: 40 }) }),
    )
    const LIMIT = 1500 // reactions stop after this many runs, so every run ends
    fc.assert(
      fc.property(
        // Up to 300 events at once: the tables start at 64 and double twice.
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 300 }),
        fc.array(reactionArb, { minLength: 1, maxLength: 40 }),
        (delays, reactions) => {
          const s = createScheduler()
          const handles: ScheduledEvent[] = []
          const ids = new Map<ScheduledEvent, number>()
          const ran: [number, number, boolean?][] = []
          let runs = 0
          // One callback for every event: it learns which one from its second argument.
          const onRun = (now: number, e: ScheduledEvent) => {
            const r = runs < LIMIT ? reactions[runs % reactions.length]! : { kind: 'none' as const }
            runs++
            expect(e.pending).toBe(false)
            ran.push([ids.get(e)!, now])
            if (r.kind === 'rearm') s.reschedule(e, now + r.delay)
            else if (r.kind === 'cancel')
              ran.push([r.which % handles.length, now, handles[r.which % handles.length]!.cancel()])
            else if (r.kind === 'add') {
              const h = s.at(now + r.delay, onRun)
              ids.set(h, handles.length)
              handles.push(h)
            }
          }
          for (const d of delays) {
            const h = s.at(d, onRun)
            ids.set(h, handles.length)
            handles.push(h)
          }
          s.run()

          const ref = new ReferenceQueue()
          const refRan: [number, number, boolean?][] = []
          let refRuns = 0
          let refCount = 0
          for (const d of delays) ref.add(d, refCount++)
          ref.runUntil(Number.POSITIVE_INFINITY, (id, at) => {
            const r = refRuns < LIMIT ? reactions[refRuns % reactions.length]! : { kind: 'none' as const }
            refRuns++
            refRan.push([id, at])
            if (r.kind === 'rearm') ref.add(at + r.delay, id)
            else if (r.kind === 'cancel')
              refRan.push([r.which % refCount, at, ref.cancel(r.which % refCount)])
            else if (r.kind === 'add') ref.add(at + r.delay, refCount++)
          })
          expect(ran).toEqual(refRan)
          expect(s.size).toBe(0)
          expect(handles.every((h) => !h.pending)).toBe(true)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('cancels and moves events in place after its tables have grown, in FIFO order for equal times', () => {
    const s = createScheduler()
    const ref = new ReferenceQueue()
    const ran: [number, number][] = []
    const refRan: [number, number][] = []
    let x = 12345
    const next = () => {
      x = (x * 1103515245 + 12345) % 2147483648
      return x % 50 // few distinct times: many ties
    }
    const handles = Array.from({ length: 1000 }, (_, id) => {
      const at = next()
      ref.add(at, id)
      return s.at(at, (now) => ran.push([id, now]))
    })
    for (let id = 0; id < handles.length; id++) {
      if (id % 3 === 0) expect(handles[id]!.cancel()).toBe(ref.cancel(id))
      else if (id % 5 === 0) {
        const at = next()
        s.reschedule(handles[id]!, at)
        ref.move(id, at)
      }
    }
    expect(s.size).toBe(ref.items.length)
    s.run()
    ref.runUntil(Number.POSITIVE_INFINITY, (id, at) => refRan.push([id, at]))
    expect(ran).toEqual(refRan)
  })

  it('an event that has run is not confused with the one that takes its slot', () => {
    const s = createScheduler()
    const ran: string[] = []
    const a = s.at(1, () => ran.push('a'))
    s.run({ until: 1 })
    const b = s.at(2, () => ran.push('b')) // reuses a's slot
    expect(a.pending).toBe(false)
    expect(a.cancel()).toBe(false)
    expect(b.pending).toBe(true)
    expect(s.reschedule(a, 3)).toBe(true) // a is armed again, in a slot of its own
    expect([a.pending, b.pending, s.size]).toEqual([true, true, 2])
    expect(b.cancel()).toBe(true)
    expect(a.pending).toBe(true)
    s.run()
    expect(ran).toEqual(['a', 'a'])
  })

  it('gives the same order for the same inputs (determinism)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), (times) => {
        const once = () => {
          const s = createScheduler()
          const order: number[] = []
          for (const [i, t] of times.entries())
            s.at(t, () => {
              order.push(i)
              // events scheduled from inside a callback, at the same instant, come after
              if (i % 3 === 0) s.after(0, () => order.push(1000 + i))
            })
          s.run()
          return order
        }
        expect(once()).toEqual(once())
      }),
    )
  })

  it('cancels, and a cancelled or finished event reports it', () => {
    const s = createScheduler()
    let ran = 0
    const a = s.at(5, () => ran++)
    const b = s.at(6, () => ran++)
    expect(a.cancel()).toBe(true)
    expect(a.cancel()).toBe(false)
    expect(a.pending).toBe(false)
    s.run()
    expect(ran).toBe(1)
    expect(b.pending).toBe(false)
    expect(b.cancel()).toBe(false)
    expect(s.size).toBe(0)
  })

  it('re-arms a finished event with reschedule, without a new object', () => {
    const s = createScheduler()
    const times: number[] = []
    const e: ScheduledEvent = s.at(1, (now) => {
      times.push(now)
      if (now < 4) s.reschedule(e, now + 1)
    })
    s.run()
    expect(times).toEqual([1, 2, 3, 4])
    expect(
      s.reschedule(
        createScheduler().at(1, () => {}),
        5,
      ),
    ).toBe(false) // another scheduler's event
  })

  it('stops at until and leaves the clock there; maxEvents truncates', () => {
    const s = createScheduler()
    const ran: number[] = []
    for (const t of [1, 2, 3, 10]) s.at(t, (now) => ran.push(now))
    expect(s.run({ until: 5 })).toEqual({ events: 3, now: 5, truncated: false })
    expect(s.next()).toBe(10)
    expect(s.run({ maxEvents: 0 })).toEqual({ events: 0, now: 5, truncated: true })
    expect(s.run({ until: 20 })).toEqual({ events: 1, now: 20, truncated: false })
    expect(ran).toEqual([1, 2, 3, 10])
  })

  it('refuses instants before now, NaN, negative delays and re-entrant runs, and changes nothing', () => {
    const s = createScheduler({ start: 50 })
    expect(() => s.at(49, () => {})).toThrow(RangeError)
    expect(() => s.at(Number.NaN, () => {})).toThrow(RangeError)
    expect(() => s.at('60' as unknown as number, () => {})).toThrow(RangeError)
    expect(() => s.after(-1, () => {})).toThrow(RangeError)
    expect(s.size).toBe(0)
    s.at(60, () => s.run())
    expect(() => s.run()).toThrow('not re-entrant')
  })
})

describe('wake driver', () => {
  it('wakes each member at the instants it asks for, and only then', () => {
    const s = createScheduler()
    const wakes: [string, number][] = []
    const every: Record<string, number> = { a: 30, b: 45 }
    const d = createWakeDriver<string>(s, (key, now) => {
      wakes.push([key, now])
      return now + every[key]!
    })
    d.set('a', 30)
    d.set('b', 45)
    s.run({ until: 100 })
    expect(wakes).toEqual([
      ['a', 30],
      ['b', 45],
      ['a', 60],
      ['b', 90],
      ['a', 90],
    ])
    expect(d.due('a')).toBe(120)
    d.set('a', undefined)
    expect(d.due('a')).toBeUndefined()
    expect(d.size).toBe(1)
    d.delete('b')
    expect(d.size).toBe(0)
    expect(s.size).toBe(0)
  })

  it('wakes again at the same instant when asked, after the other events there', () => {
    const s = createScheduler()
    const log: string[] = []
    let left = 2
    const d = createWakeDriver<string>(s, (key, now) => {
      log.push(`${key}@${now}`)
      return key === 'a' && left-- > 0 ? now : undefined
    })
    d.set('a', 10)
    d.set('b', 10)
    s.run()
    expect(log).toEqual(['a@10', 'b@10', 'a@10', 'a@10'])
  })

  it('parks a member that asks for the same instant forever, and the run ends', () => {
    const s = createScheduler()
    let calls = 0
    const d = createWakeDriver<string>(
      s,
      (_, now) => {
        calls++
        return now
      },
      { maxWakesPerInstant: 5 },
    )
    d.set('stuck', 7)
    const r = s.run()
    expect(r.truncated).toBe(false)
    expect(calls).toBe(5)
    expect(d.stalled).toEqual(['stuck'])
    d.set('stuck', undefined)
    expect(d.stalled).toEqual([])
  })
})

describe('real-time driver', () => {
  /** A wall clock the test moves by hand: timers fire when it passes their moment. */
  function manualWall() {
    let t = 0
    const timers: { at: number; fn: () => void; id: number }[] = []
    let ids = 0
    const wall: WallClock = {
      now: () => t,
      setTimer: (ms, fn) => {
        const id = ids++
        timers.push({ at: t + ms, fn, id })
        return id
      },
      clearTimer: (id) => {
        const i = timers.findIndex((x) => x.id === id)
        if (i >= 0) timers.splice(i, 1)
      },
    }
    const advance = (ms: number) => {
      const end = t + ms
      for (;;) {
        timers.sort((a, b) => a.at - b.at)
        const first = timers[0]
        if (!first || first.at > end) break
        timers.shift()
        t = first.at
        first.fn()
      }
      t = end
    }
    return { wall, advance, timers }
  }

  it('gives now() in whole ms, rounded down, whatever fractions the wall clock and factor make', () => {
    const { wall, advance } = manualWall()
    const s = createScheduler({ start: 1_000 })
    const driver = createRealTimeDriver(s, { acceleration: 3, wall })
    driver.start()
    advance(0.25)
    expect(s.now()).toBe(1_000) // 0.75 ms of virtual time
    advance(1234.317) // 3703.701 ms in all
    expect(s.now()).toBe(4_703)
    const at: number[] = []
    s.after(10, (now) => at.push(now))
    advance(4)
    expect(at).toEqual([4_713])
    driver.stop()
  })

  it('maps virtual time onto the wall clock with the acceleration factor', () => {
    const { wall, advance } = manualWall()
    const s = createScheduler({ start: 1_000 })
    const seen: [number, number][] = []
    s.at(1_600, (now) => seen.push([now, wall.now()]))
    s.at(3_000, (now) => seen.push([now, wall.now()]))
    const driver = createRealTimeDriver(s, { acceleration: 60, wall })
    driver.start()
    advance(9)
    expect(seen).toEqual([])
    advance(1) // wall 10 ms = virtual 600 ms
    expect(seen).toEqual([[1_600, 10]])
    // outside an event, now() follows the wall clock
    advance(5)
    expect(s.now()).toBe(1_000 + 15 * 60)
    // input from outside schedules an earlier event: the driver wakes for it
    s.after(60, (now) => seen.push([now, wall.now()]))
    advance(1)
    expect(seen[1]).toEqual([1_000 + 16 * 60, 16])
    advance(100)
    expect(seen[2]![0]).toBe(3_000)
    expect(seen[2]![1]).toBeCloseTo(2_000 / 60, 9)
    driver.stop()
    expect(driver.running).toBe(false)
    const stoppedAt = s.now()
    advance(1_000)
    expect(s.now()).toBe(stoppedAt)
  })

  it('runs a fractional acceleration in whole virtual milliseconds', () => {
    const { wall, advance } = manualWall()
    const s = createScheduler({ start: 1_000 })
    const seen: number[] = []
    s.at(1_004, (now) => seen.push(now))
    const driver = createRealTimeDriver(s, { acceleration: 1.5, wall })
    driver.start()
    advance(1)
    expect(s.now()).toBe(1_001) // 1.5 virtual ms, floored
    advance(1)
    expect(s.now()).toBe(1_003)
    advance(1) // 4.5: the event at 1 004 runs, at its own instant
    expect(seen).toEqual([1_004])
    driver.stop()
    const slow = createScheduler({ start: 0 })
    const half = createRealTimeDriver(slow, { acceleration: 0.5, wall })
    half.start()
    advance(3)
    expect(slow.now()).toBe(1)
    half.stop()
  })

  it('refuses an acceleration that is not a positive finite number', () => {
    const s = createScheduler()
    for (const a of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => createRealTimeDriver(s, { acceleration: a })).toThrow(RangeError)
  })

  it('stops and reports when a callback throws', () => {
    const { wall, advance } = manualWall()
    const s = createScheduler()
    const errors: unknown[] = []
    s.at(5, () => {
      throw new Error('boom')
    })
    const driver = createRealTimeDriver(s, { wall, onError: (e) => errors.push(e) })
    driver.start()
    advance(10)
    expect((errors[0] as Error).message).toBe('boom')
    expect(driver.running).toBe(false)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScheduleIndex } from './schedule-index.ts'
import {
  createSchedule,
  deleteSchedule,
  dueRuns,
  emptyScheduleBook,
  type NewSchedule,
  noteCounter,
  recordRun,
  runCounter,
  type ScheduleBook,
  ScheduleError,
  schedulesOf,
} from './schedules.ts'

const USERS = ['90B3D51F30010000', '90B3D51F30020000']
const DEVICES = ['00DB120000000001', '00DB120000000002', '00DB120000000003']
/** 2026-01-05 12:00 UTC. */
const T = Date.UTC(2026, 0, 5, 12)
const DAY = 86_400_000

type Op =
  | {
      op: 'create'
      user: number
      device: number
      frequency: NewSchedule['frequency']
      start: number
      end?: number
      hour: number
    }
  | { op: 'delete'; user: number; n: number }
  | { op: 'counter'; user: number; device: number; counter: number }
  | { op: 'run'; days: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('create' as const),
    user: fc.nat(1),
    device: fc.nat(2),
    frequency: fc.constantFrom('Daily', 'Weekly', 'Monthly', 'Quarterly', 'Half-Yearly', 'Yearly' as const),
    start: fc.nat(40),
    end: fc.option(fc.nat(90), { nil: undefined }),
    hour: fc.nat(23),
  }),
  fc.record({ op: fc.constant('delete' as const), user: fc.nat(1), n: fc.nat(30) }),
  fc.record({ op: fc.constant('counter' as const), user: fc.nat(1), device: fc.nat(2), counter: fc.nat() }),
  fc.record({ op: fc.constant('run' as const), days: fc.nat(45) }),
)

const day = (d: number) => new Date(T + d * DAY).toISOString().slice(0, 10)

describe('ScheduleIndex: the schedule book kept in place', () => {
  it('does what the pure book does, for any sequence of creates, deletes, counters and rounds of runs', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let book: ScheduleBook = emptyScheduleBook()
        const index = ScheduleIndex.fromBook(book)
        let now = T
        const limits = { perUser: 12, perUserDevice: 5 }
        for (const o of ops) {
          if (o.op === 'create') {
            const input: NewSchedule = {
              owner: USERS[o.user]!,
              role: 'IS',
              deviceId: DEVICES[o.device]!,
              deviceType: 'ESME',
              srv: '4.16',
              parameters: { n: o.start },
              frequency: o.frequency,
              startDate: day(o.start),
              ...(o.end !== undefined && { endDate: day(o.start + o.end) }),
              executionTime: `${String(o.hour).padStart(2, '0')}:30:00`,
              at: new Date(now),
              createdBy: 'x',
            }
            let pure: string
            try {
              const created = createSchedule(book, input, limits)
              book = created.book
              pure = created.schedule.scheduleId
            } catch (e) {
              if (!(e instanceof ScheduleError)) throw e
              pure = e.message
            }
            let mine: string
            try {
              mine = index.create(input, limits).scheduleId
            } catch (e) {
              if (!(e instanceof ScheduleError)) throw e
              mine = e.message
            }
            expect(mine).toBe(pure)
          } else if (o.op === 'delete') {
            const id = `DS${String(o.n).padStart(6, '0')}`
            const pure = deleteSchedule(book, USERS[o.user]!, id)
            book = pure.book
            const mine = index.delete(USERS[o.user]!, id)
            expect(mine.outcome).toBe(pure.outcome)
            expect(mine.schedule).toEqual(pure.schedule)
          } else if (o.op === 'counter') {
            const counter = BigInt(o.counter) * 1_000_000_007n
            book = noteCounter(book, USERS[o.user]!, DEVICES[o.device]!, counter)
            index.noteCounter(USERS[o.user]!, DEVICES[o.device]!, counter)
          } else {
            now += o.days * DAY
            const pureRuns: [string, number, bigint][] = []
            for (const due of dueRuns(book, now)) {
              const s = book.schedules.find((x) => x.scheduleId === due.schedule.scheduleId)!
              const counter = runCounter(book, s, due.run)
              book = noteCounter(recordRun(book, s.scheduleId, due.run), s.owner, s.request.deviceId, counter)
              pureRuns.push([s.scheduleId, due.run, counter])
            }
            const indexRuns: [string, number, bigint][] = []
            for (let due = index.nextDue(now); due; due = index.nextDue(now)) {
              const counter = index.runCounter(due.schedule, due.run)
              index.recordRun(due.schedule.scheduleId, due.run)
              index.noteCounter(due.schedule.owner, due.schedule.request.deviceId, counter)
              indexRuns.push([due.schedule.scheduleId, due.run, counter])
            }
            expect(indexRuns).toEqual(pureRuns)
          }
          expect(index.toBook()).toEqual(book)
          for (const user of USERS) {
            expect(index.of(user)).toEqual(schedulesOf(book, user))
            for (const device of DEVICES)
              expect(index.of(user, device)).toEqual(schedulesOf(book, user, device))
          }
        }
        // And back from its book: the same index.
        const again = ScheduleIndex.fromBook(structuredClone(index.toBook()))
        expect(again.toBook()).toEqual(index.toBook())
        expect(again.nextDue(now + 400 * DAY)).toEqual(index.nextDue(now + 400 * DAY))
      }),
      { numRuns: 200 },
    )
  })

  it('sets aside schedules numbered from `below` until restoreSetAside, and forgets deleted ones', () => {
    const index = ScheduleIndex.fromBook(emptyScheduleBook())
    const input = (deviceId: string): NewSchedule => ({
      owner: USERS[0]!,
      role: 'IS',
      deviceId,
      deviceType: 'ESME',
      srv: '4.16',
      parameters: {},
      frequency: 'Daily',
      startDate: day(1),
      executionTime: '13:00:00',
      at: new Date(T),
      createdBy: 'x',
    })
    index.create(input(DEVICES[0]!))
    const below = index.nextNumber
    index.create(input(DEVICES[1]!))
    index.create(input(DEVICES[2]!))
    const upTo = T + 2 * DAY
    const first = index.nextDue(upTo, below)!
    expect(first.schedule.scheduleId).toBe('DS000001')
    index.recordRun('DS000001', first.run)
    expect(index.nextDue(upTo, below)).toBeUndefined()
    expect(index.delete(USERS[0]!, 'DS000003').outcome).toBe('deleted')
    index.restoreSetAside()
    expect(index.nextDue(upTo)?.schedule.scheduleId).toBe('DS000002')
    index.recordRun('DS000002', 1)
    expect(index.nextDue(upTo)).toBeUndefined()
  })

  it('refuses a book it cannot index', () => {
    expect(() => ScheduleIndex.fromBook({ ...emptyScheduleBook(), nextNumber: 0 })).toThrow(ScheduleError)
    expect(() => ScheduleIndex.fromBook({ ...emptyScheduleBook(), counters: { x: 'not a number' } })).toThrow(
      ScheduleError,
    )
    expect(() =>
      ScheduleIndex.fromBook({ ...emptyScheduleBook(), schedules: 'none' as unknown as [] }),
    ).toThrow(ScheduleError)
  })
})

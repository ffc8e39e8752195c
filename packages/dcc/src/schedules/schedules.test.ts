import { describe, expect, it } from 'vitest'
import {
  createSchedule,
  deleteSchedule,
  dueRuns,
  emptyScheduleBook,
  findSchedule,
  type NewSchedule,
  parseScheduleParameters,
  recordRun,
  runCounter,
  runDueAt,
  ScheduleError,
  schedulesOf,
} from './schedules.ts'

const A = '90B3D51F30010000'
const B = '90B3D51F30020000'
const ESME = '00DB120000000001'
const GSME = '00DB120000000002'
const T = Date.UTC(2026, 0, 5, 12)
const HOUR = 3_600_000
const DAY = 24 * HOUR

const input = (o: Partial<NewSchedule> = {}): NewSchedule => ({
  owner: A,
  role: 'IS',
  deviceId: ESME,
  deviceType: 'ESME',
  srv: '4.1.1',
  commandVariant: 1,
  parameters: {},
  start: new Date(T + HOUR).toISOString(),
  intervalMs: DAY,
  at: new Date(T),
  createdBy: `${A}:${ESME}:1`,
  ...o,
})

describe('DCC schedules (pure)', () => {
  it('creates schedules with sequential ids and the first due time', () => {
    let book = emptyScheduleBook()
    const first = createSchedule(book, input())
    book = first.book
    expect(first.schedule).toMatchObject({
      scheduleId: 'DS000001',
      number: 1,
      owner: A,
      role: 'IS',
      request: { srv: '4.1.1', deviceId: ESME, deviceType: 'ESME', commandVariant: 1, parameters: {} },
      nextRun: 1,
      nextDue: new Date(T + HOUR).toISOString(),
      createdAt: new Date(T).toISOString(),
    })
    const second = createSchedule(book, input({ owner: B, deviceId: GSME, role: 'GS' }))
    expect(second.schedule.scheduleId).toBe('DS000002')
    expect(second.book.schedules).toHaveLength(2)
    // The earlier book is not changed.
    expect(book.schedules).toHaveLength(1)
    expect(() => createSchedule(book, input({ intervalMs: 1000 }))).toThrow(ScheduleError)
    expect(() => createSchedule(book, input({ end: new Date(T).toISOString() }))).toThrow(
      /end is before start/,
    )
  })

  it('reads the owner’s schedules, optionally per device', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input()).book
    book = createSchedule(book, input({ deviceId: GSME, deviceType: 'GSME', role: 'GS' })).book
    book = createSchedule(book, input({ owner: B })).book
    expect(schedulesOf(book, A).map((s) => s.scheduleId)).toEqual(['DS000001', 'DS000002'])
    expect(schedulesOf(book, A, GSME).map((s) => s.scheduleId)).toEqual(['DS000002'])
    expect(schedulesOf(book, B).map((s) => s.scheduleId)).toEqual(['DS000003'])
    expect(findSchedule(book, 'DS000009')).toBeUndefined()
  })

  it('deletes only the owner’s schedule', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input()).book
    expect(deleteSchedule(book, B, 'DS000001')).toMatchObject({ outcome: 'not-owner', book })
    expect(deleteSchedule(book, A, 'DS000042')).toMatchObject({ outcome: 'unknown', book })
    const done = deleteSchedule(book, A, 'DS000001')
    expect(done.outcome).toBe('deleted')
    expect(done.book.schedules).toEqual([])
    // Numbers are not reused.
    expect(createSchedule(done.book, input()).schedule.scheduleId).toBe('DS000002')
  })

  it('lists due runs in due-time order and moves on once recorded', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input({ start: new Date(T + HOUR).toISOString(), intervalMs: DAY })).book
    book = createSchedule(
      book,
      input({ start: new Date(T + 2 * HOUR).toISOString(), intervalMs: 12 * HOUR }),
    ).book
    expect(dueRuns(book, T)).toEqual([])
    const due = dueRuns(book, T + DAY + HOUR)
    expect(due.map((r) => [r.schedule.scheduleId, r.run, r.dueAt])).toEqual([
      ['DS000001', 1, T + HOUR],
      ['DS000002', 1, T + 2 * HOUR],
      ['DS000002', 2, T + 14 * HOUR],
      ['DS000001', 2, T + DAY + HOUR],
    ])
    book = recordRun(book, 'DS000001', 1)
    book = recordRun(book, 'DS000002', 1)
    expect(dueRuns(book, T + DAY + HOUR).map((r) => [r.schedule.scheduleId, r.run])).toEqual([
      ['DS000002', 2],
      ['DS000001', 2],
    ])
    expect(findSchedule(book, 'DS000001')).toMatchObject({
      nextRun: 2,
      nextDue: new Date(T + DAY + HOUR).toISOString(),
    })
    // Recording an older run again changes nothing.
    expect(recordRun(book, 'DS000001', 1)).toEqual(book)
  })

  it('stops at the end time', () => {
    let book = emptyScheduleBook()
    book = createSchedule(
      book,
      input({ start: new Date(T).toISOString(), intervalMs: DAY, end: new Date(T + 2 * DAY).toISOString() }),
    ).book
    expect(dueRuns(book, T + 10 * DAY).map((r) => r.run)).toEqual([1, 2, 3])
    for (const run of [1, 2, 3]) book = recordRun(book, 'DS000001', run)
    expect(dueRuns(book, T + 10 * DAY)).toEqual([])
    expect(findSchedule(book, 'DS000001')?.nextDue).toBeUndefined()
    expect(findSchedule(book, 'DS000001')?.nextRun).toBe(4)
  })

  it('gives each run a RequestID counter that grows with the due time across schedules', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input({ start: new Date(T + HOUR).toISOString(), intervalMs: DAY })).book
    book = createSchedule(
      book,
      input({ start: new Date(T + 2 * HOUR).toISOString(), intervalMs: 12 * HOUR }),
    ).book
    const counters = dueRuns(book, T + 3 * DAY).map((r) => runCounter(r.schedule, r.run))
    expect(counters).toEqual([...counters].sort((a, b) => (a < b ? -1 : 1)))
    expect(new Set(counters).size).toBe(counters.length)
    const [s1] = book.schedules
    expect(runCounter(s1!, 2)).toBe(BigInt(runDueAt(s1!, 2)) * 1024n + 1n)
  })

  it('reads SR 5.1 parameters and says what is wrong', () => {
    const good = parseScheduleParameters(
      {
        serviceRequest: { srv: '4.1.1' },
        start: new Date(T + HOUR).toISOString(),
        repeatIntervalMs: DAY,
        end: '2026-02-01T00:00:00Z',
      },
      T,
    )
    expect(good).toEqual({
      ok: true,
      spec: {
        srv: '4.1.1',
        commandVariant: 1,
        parameters: {},
        start: new Date(T + HOUR).toISOString(),
        intervalMs: DAY,
        end: '2026-02-01T00:00:00.000Z',
      },
    })
    const start = new Date(T).toISOString()
    const cases: [unknown, RegExp][] = [
      [undefined, /expected an object/],
      [{ start, repeatIntervalMs: DAY }, /serviceRequest: expected an object/],
      [{ serviceRequest: { srv: 'x' }, start, repeatIntervalMs: DAY }, /serviceRequest.srv/],
      [
        { serviceRequest: { srv: '4.1.1', commandVariant: '1' }, start, repeatIntervalMs: DAY },
        /commandVariant/,
      ],
      [{ serviceRequest: { srv: '4.1.1', parameters: [] }, start, repeatIntervalMs: DAY }, /parameters/],
      [{ serviceRequest: { srv: '4.1.1' }, start: 'soon', repeatIntervalMs: DAY }, /'soon' is not a time/],
      [
        { serviceRequest: { srv: '4.1.1' }, start: new Date(T - 1).toISOString(), repeatIntervalMs: DAY },
        /before now/,
      ],
      [{ serviceRequest: { srv: '4.1.1' }, start, repeatIntervalMs: 5 }, /repeatIntervalMs/],
      [
        { serviceRequest: { srv: '4.1.1' }, start, repeatIntervalMs: DAY, end: '2020-01-01' },
        /end is before start/,
      ],
    ]
    for (const [parameters, why] of cases) {
      const r = parseScheduleParameters(parameters, T)
      expect(r.ok, JSON.stringify(parameters)).toBe(false)
      if (!r.ok) expect(r.reason).toMatch(why)
    }
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  counterKey,
  createSchedule,
  DSP_SCHEDULABLE_SRVS,
  deleteSchedule,
  dueRuns,
  emptyScheduleBook,
  findSchedule,
  type NewSchedule,
  noteCounter,
  parseScheduleParameters,
  recordRun,
  runCounter,
  runDueAt,
  SCHEDULE_FREQUENCIES,
  type ScheduleBook,
  ScheduleError,
  schedulesOf,
} from './schedules.ts'

const A = '90B3D51F30010000'
const B = '90B3D51F30020000'
const ESME = '00DB120000000001'
const GSME = '00DB120000000002'
/** 2026-01-05 12:00 UTC. */
const T = Date.UTC(2026, 0, 5, 12)
const DAY = 86_400_000

const input = (o: Partial<NewSchedule> = {}): NewSchedule => ({
  owner: A,
  role: 'IS',
  deviceId: ESME,
  deviceType: 'ESME',
  srv: '4.16',
  parameters: {},
  frequency: 'Daily',
  startDate: '2026-01-06',
  executionTime: '13:00:00',
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
      request: { srv: '4.16', deviceId: ESME, deviceType: 'ESME', commandVariant: 1, parameters: {} },
      frequency: 'Daily',
      nextRun: 1,
      nextDue: '2026-01-06T13:00:00.000Z',
      createdAt: new Date(T).toISOString(),
    })
    const second = createSchedule(book, input({ owner: B, deviceId: GSME, role: 'GS', srv: '4.17' }))
    expect(second.schedule.scheduleId).toBe('DS000002')
    expect(second.book.schedules).toHaveLength(2)
    // The earlier book is not changed.
    expect(book.schedules).toHaveLength(1)
    expect(() => createSchedule(book, input({ srv: '4.1.1' }))).toThrow(ScheduleError)
    expect(() => createSchedule(book, input({ endDate: '2026-01-01' }))).toThrow(/end date is before/)
  })

  it('only the SRVs and frequencies of the DUIS 5.4 XSD', () => {
    expect(DSP_SCHEDULABLE_SRVS).toEqual([
      '4.2',
      '4.6.1',
      '4.6.2',
      '4.8.1',
      '4.8.2',
      '4.8.3',
      '4.10',
      '4.12.1',
      '4.12.2',
      '4.14',
      '4.15',
      '4.16',
      '4.17',
      '14.1',
    ])
    expect(Object.keys(SCHEDULE_FREQUENCIES)).toEqual([
      'Daily',
      'Weekly',
      'Monthly',
      'Quarterly',
      'Half-Yearly',
      'Yearly',
    ])
    for (const srv of ['4.1.1', '4.3', '7.2', '1.6', '8.11'])
      expect(() => createSchedule(emptyScheduleBook(), input({ srv }))).toThrow(
        /not one DUIS lets the DCC schedule/,
      )
    expect(() => createSchedule(emptyScheduleBook(), input({ frequency: 'Hourly' as 'Daily' }))).toThrow(
      /frequency/,
    )
  })

  it('falls due on the calendar: days and weeks, months keeping the day or the month’s last', () => {
    const s = (o: Partial<NewSchedule>) => createSchedule(emptyScheduleBook(), input(o)).schedule
    const iso = (ms: number) => new Date(ms).toISOString()
    const weekly = s({ frequency: 'Weekly' })
    expect([1, 2, 3].map((n) => iso(runDueAt(weekly, n)))).toEqual([
      '2026-01-06T13:00:00.000Z',
      '2026-01-13T13:00:00.000Z',
      '2026-01-20T13:00:00.000Z',
    ])
    const monthly = s({ frequency: 'Monthly', startDate: '2026-01-31', executionTime: '00:30:00' })
    expect([1, 2, 3, 4].map((n) => iso(runDueAt(monthly, n)).slice(0, 10))).toEqual([
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
    ])
    const quarterly = s({ frequency: 'Quarterly', startDate: '2026-02-15' })
    expect(iso(runDueAt(quarterly, 2)).slice(0, 10)).toBe('2026-05-15')
    expect(iso(runDueAt(s({ frequency: 'Half-Yearly' }), 3)).slice(0, 10)).toBe('2027-01-06')
    expect(iso(runDueAt(s({ frequency: 'Yearly', startDate: '2028-02-29' }), 2)).slice(0, 10)).toBe(
      '2029-02-28',
    )
  })

  it('reads the owner’s schedules, optionally per device', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input()).book
    book = createSchedule(book, input({ deviceId: GSME, deviceType: 'GSME', role: 'GS', srv: '4.17' })).book
    book = createSchedule(book, input({ owner: B })).book
    expect(schedulesOf(book, A).map((s) => s.scheduleId)).toEqual(['DS000001', 'DS000002'])
    expect(schedulesOf(book, A, GSME).map((s) => s.scheduleId)).toEqual(['DS000002'])
    expect(schedulesOf(book, B).map((s) => s.scheduleId)).toEqual(['DS000003'])
    expect(findSchedule(book, 'DS000009')).toBeUndefined()
  })

  it('deletes only the owner’s schedule; the pair’s counter goes with its last schedule', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input()).book
    expect(deleteSchedule(book, B, 'DS000001')).toMatchObject({ outcome: 'not-owner', book })
    expect(deleteSchedule(book, A, 'DS000042')).toMatchObject({ outcome: 'unknown', book })
    expect(book.counters).toEqual({ [counterKey(A, ESME)]: '0' })
    const done = deleteSchedule(book, A, 'DS000001')
    expect(done.outcome).toBe('deleted')
    expect(done.book.schedules).toEqual([])
    expect(done.book.counters).toEqual({})
    // Numbers are not reused.
    expect(createSchedule(done.book, input()).schedule.scheduleId).toBe('DS000002')
  })

  it('caps schedules per User and device (99) and per User', () => {
    let book = emptyScheduleBook()
    for (let i = 0; i < 3; i++) book = createSchedule(book, input(), { perUserDevice: 3 }).book
    expect(() => createSchedule(book, input(), { perUserDevice: 3 })).toThrow(/at most 3/)
    expect(createSchedule(book, input({ deviceId: GSME }), { perUserDevice: 3 }).schedule.number).toBe(4)
    expect(() => createSchedule(book, input({ deviceId: GSME }), { perUser: 3 })).toThrow(/at most 3/)
    expect(createSchedule(book, input({ owner: B }), { perUser: 3 }).schedule.owner).toBe(B)
  })

  it('lists due runs in due-time order and moves on once recorded; none due before creation', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input({ executionTime: '13:00:00' })).book
    book = createSchedule(book, input({ executionTime: '12:00:00', frequency: 'Weekly' })).book
    // Created at 12:00 on the 5th with a start date of today at 11:00: the first run is tomorrow's.
    book = createSchedule(book, input({ startDate: '2026-01-05', executionTime: '11:00:00' })).book
    expect(findSchedule(book, 'DS000003')).toMatchObject({ nextRun: 2, nextDue: '2026-01-06T11:00:00.000Z' })
    expect(dueRuns(book, T)).toEqual([])
    const due = dueRuns(book, Date.UTC(2026, 0, 7, 13))
    expect(due.map((r) => [r.schedule.scheduleId, r.run, new Date(r.dueAt).toISOString()])).toEqual([
      ['DS000003', 2, '2026-01-06T11:00:00.000Z'],
      ['DS000002', 1, '2026-01-06T12:00:00.000Z'],
      ['DS000001', 1, '2026-01-06T13:00:00.000Z'],
      ['DS000003', 3, '2026-01-07T11:00:00.000Z'],
      ['DS000001', 2, '2026-01-07T13:00:00.000Z'],
    ])
    book = recordRun(book, 'DS000001', 1)
    expect(findSchedule(book, 'DS000001')).toMatchObject({ nextRun: 2, nextDue: '2026-01-07T13:00:00.000Z' })
    // Recording an older run again changes nothing.
    expect(recordRun(book, 'DS000001', 1)).toEqual(book)
  })

  it('stops after the end date', () => {
    let book = emptyScheduleBook()
    book = createSchedule(book, input({ endDate: '2026-01-08' })).book
    expect(dueRuns(book, T + 10 * DAY).map((r) => r.run)).toEqual([1, 2, 3])
    for (const run of [1, 2, 3]) book = recordRun(book, 'DS000001', run)
    expect(dueRuns(book, T + 10 * DAY)).toEqual([])
    expect(findSchedule(book, 'DS000001')?.nextDue).toBeUndefined()
  })

  it('run counters never go backwards for an owner and device: above every counter sent, growing with time', () => {
    // A property: any mix of schedules (numbers up to 2000, so `mod 1024` wraps), the User's own
    // counters (huge ones too), and runs in due order — each run's counter is above all before it.
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ time: fc.integer({ min: 0, max: 23 }), frequency: fc.constantFrom('Daily', 'Weekly') }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.integer({ min: 0, max: 2000 }),
        fc.array(fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }), { maxLength: 5 }),
        (specs, skip, own) => {
          let book: ScheduleBook = { ...emptyScheduleBook(), nextNumber: 1 + skip }
          for (const s of specs)
            book = createSchedule(
              book,
              input({
                executionTime: `${String(s.time).padStart(2, '0')}:00:00`,
                frequency: s.frequency as 'Daily',
              }),
            ).book
          let last = 0n
          const sent = (c: bigint) => {
            if (c > last) last = c
            book = noteCounter(book, A, ESME, c)
          }
          for (const c of own) sent(c)
          for (const due of dueRuns(book, T + 20 * DAY)) {
            const schedule = findSchedule(book, due.schedule.scheduleId)!
            const counter = runCounter(book, schedule, due.run)
            if (counter <= last) return false
            sent(counter)
            book = recordRun(book, schedule.scheduleId, due.run)
          }
          return true
        },
      ),
      { numRuns: 200 },
    )
  })

  it('run counters: the old `dueAt × 1024 + number` would have gone backwards across schedules', () => {
    let book = emptyScheduleBook()
    book = { ...book, nextNumber: 1023 }
    book = createSchedule(book, input({ executionTime: '13:00:00' })).book // number 1023
    book = createSchedule(book, input({ executionTime: '13:00:00' })).book // number 1024 → mod 1024 = 0
    const [first, second] = dueRuns(book, Date.parse('2026-01-06T13:00:00Z'))
    const old = (n: number) => BigInt(Date.parse('2026-01-06T13:00:00Z')) * 1024n + BigInt(n % 1024)
    expect(old(second!.schedule.number) < old(first!.schedule.number)).toBe(true)
    const c1 = runCounter(book, first!.schedule, 1)
    book = noteCounter(book, A, ESME, c1)
    expect(runCounter(book, second!.schedule, 1) > c1).toBe(true)
  })

  it('reads SR 5.1 parameters (DUIS CreateSchedule) and says what is wrong', () => {
    const good = parseScheduleParameters(
      {
        scheduleFrequency: 'Monthly',
        scheduleStartDate: '2026-01-05',
        scheduleEndDate: '2026-12-31',
        scheduleExecutionStartTime: '09:30:00.00Z',
        dspScheduledServiceReference: '4.16',
        dspScheduledServiceReferenceVariant: '4.16',
      },
      T,
    )
    expect(good).toEqual({
      ok: true,
      spec: {
        srv: '4.16',
        parameters: {},
        frequency: 'Monthly',
        startDate: '2026-01-05',
        endDate: '2026-12-31',
        executionTime: '09:30:00',
      },
    })
    const base = {
      scheduleFrequency: 'Daily',
      scheduleStartDate: '2026-01-06',
      dspScheduledServiceReferenceVariant: '4.6.1',
    }
    const cases: [unknown, RegExp][] = [
      [undefined, /expected an object/],
      [{ ...base, scheduleFrequency: 'Hourly' }, /scheduleFrequency/],
      [{ ...base, dspScheduledServiceReferenceVariant: '4.1.1' }, /lets the DCC schedule only/],
      [{ ...base, dspScheduledServiceReference: '4.8' }, /not the reference of 4.6.1/],
      [{ ...base, scheduleStartDate: '2026-02-30' }, /scheduleStartDate/],
      [{ ...base, scheduleStartDate: '2026-01-04' }, /before today/],
      [{ ...base, scheduleEndDate: '2026-01-05' }, /before scheduleStartDate/],
      [{ ...base, scheduleExecutionStartTime: '25:00:00' }, /scheduleExecutionStartTime/],
      [{ ...base, parameters: [] }, /parameters/],
      [{ ...base, parameters: { x: 'y'.repeat(5000) } }, /more than the/],
    ]
    for (const [parameters, why] of cases) {
      const r = parseScheduleParameters(parameters, T)
      expect(r.ok, JSON.stringify(parameters)?.slice(0, 80)).toBe(false)
      if (!r.ok) expect(r.reason).toMatch(why)
    }
  })
})

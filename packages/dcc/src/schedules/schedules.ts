/**
 * DCC Schedules (SR 5.1 Create, 5.2 Read, 5.3 Delete Schedule) as pure data: a User asks the
 * DCC to run a Service Request on a calendar, and the DCC runs it at each due time. Unlike a
 * device-held schedule (the billing calendar of SR 6.8, whose alert 0x8F0A keeps going to
 * whichever supplier's certificate is on the meter — DP072), every run of a DCC schedule goes
 * through the DCC's access control again at its due time, so after a Change of Supplier's Supply
 * Start Date the losing supplier's run is refused with E4 instead of returning data. The pipeline
 * does the running; this module keeps the schedules and says which runs are due.
 *
 * What may be scheduled is what DUIS lets the DCC schedule, from the DUIS 5.4 XSD's `DSPSchedule`
 * (CreateSchedule): the Service Reference Variants of `DSPScheduledServiceReferenceVariant`
 * (DSP_SCHEDULABLE_SRVS; the DUIS request matrix of SmartDCCInnovation/duis-parser marks the same
 * ones "DCC Scheduled", except 4.2, which the 5.4 schema adds) on the calendar of
 * `ScheduleFrequency` (Daily, Weekly, Monthly, Quarterly, Half-Yearly, Yearly) from a
 * `ScheduleStartDate`, optionally to a `ScheduleEndDate`, at a `ScheduleExecutionStartTime`
 * (default midnight). Run n (from 1) is due n − 1 periods after the start date at that time; a
 * month-based period keeps the start's day of month, or the month's last day when it is shorter.
 * Times are UTC (unconfirmed: DUIS may mean UK local time). A run due before the schedule was
 * created is skipped; none is due after the end date.
 *
 * Each run's DUIS RequestID counter (which becomes the command's GBCS Originator Counter) never
 * goes backwards for its owner and device: it is above every counter the DCC has sent for that
 * originator to that device (`counters`, kept in the book, so it survives a restart with it) and
 * at least `dueAt × 1024 + schedule number mod 1024`, so it grows with time too (`runCounter`).
 *
 * The book is plain JSON passed in and out (no timers: the caller drives time). Caps: at most
 * `perUserDevice` schedules per User and device (99: a DUIS ReadSchedule answer carries at most
 * 99, `DSPSchedulesRead`; our inference) and `perUser` per User (modelling choice).
 */
import { type Eui64, parseEui } from '@smetsim/core'
import type { Json } from '@smetsim/gbcs'
import { isoTime } from '../registration/time.ts'
import type { DuisRole } from '../roles.ts'

/** DUIS 5.4 XSD `DSPScheduledServiceReferenceVariant`: the SRVs the DCC may schedule. */
export const DSP_SCHEDULABLE_SRVS: readonly string[] = Object.freeze([
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

/** DUIS 5.4 XSD `ScheduleFrequency`, with each one's period in months or days. */
export const SCHEDULE_FREQUENCIES = {
  Daily: { days: 1 },
  Weekly: { days: 7 },
  Monthly: { months: 1 },
  Quarterly: { months: 3 },
  'Half-Yearly': { months: 6 },
  Yearly: { months: 12 },
} as const satisfies Record<string, { days: number } | { months: number }>
export type ScheduleFrequency = keyof typeof SCHEDULE_FREQUENCIES

export interface ScheduleLimits {
  /** Most schedules per User (default 100,000). */
  perUser: number
  /** Most schedules per User and device (default 99). */
  perUserDevice: number
}

export const DEFAULT_SCHEDULE_LIMITS: Readonly<ScheduleLimits> = Object.freeze({
  perUser: 100_000,
  perUserDevice: 99,
})

/** The Service Request a schedule runs. */
export interface ScheduledRequest {
  /** The scheduled SRV (DSPScheduledServiceReferenceVariant), e.g. '4.16'. */
  srv: string
  /** The target device (the SR 5.1 request's target). */
  deviceId: Eui64
  /** The target's device type, as SR 5.1 named it. */
  deviceType: string
  /** DUIS Command Variant of each run: 1 (unconfirmed which the DSP uses for its own runs). */
  commandVariant: number
  /** The scheduled SRV's own parameters (small: see parseScheduleParameters). */
  parameters: { [name: string]: Json }
}

export interface DccSchedule {
  /** The DCC's id for the schedule, e.g. 'DS000001' (DUIS's DSPScheduleID is its `number`). */
  scheduleId: string
  /** Its sequence number in the book (1, 2, …): DUIS's DSPScheduleID. */
  number: number
  /** The User that created it (the SR 5.1 Business Originator): the only one that may read or delete it. */
  owner: Eui64
  /** The DUIS role it was created in, and every run is sent in. */
  role: DuisRole
  request: ScheduledRequest
  frequency: ScheduleFrequency
  /** ScheduleStartDate, YYYY-MM-DD. */
  startDate: string
  /** ScheduleEndDate, YYYY-MM-DD: no run is due after that day. */
  endDate?: string
  /** ScheduleExecutionStartTime, HH:MM:SS (UTC). */
  executionTime: string
  /** When it was created, and by which DUIS request. */
  createdAt: string
  createdBy: string
  /** Number of the next run (1 = the first). */
  nextRun: number
  /** Due time of the next run; absent once the schedule has no more runs. */
  nextDue?: string
}

/** Every schedule the DCC holds; plain JSON. */
export interface ScheduleBook {
  version: 2
  /** Sequence number the next schedule gets. */
  nextNumber: number
  schedules: DccSchedule[]
  /**
   * The last RequestID counter the DCC has sent, per `owner:device` pair that has a schedule
   * (decimal text): every run's counter is above it.
   */
  counters: { [ownerDevice: string]: string }
}

/** What SR 5.1 asks for, read from its parameters. */
export interface ScheduleSpec {
  srv: string
  parameters: { [name: string]: Json }
  frequency: ScheduleFrequency
  startDate: string
  endDate?: string
  executionTime: string
}

export interface NewSchedule extends ScheduleSpec {
  owner: string
  role: DuisRole
  deviceId: string
  deviceType: string
  /** When it is created (ISO 8601 or a Date). */
  at: string | Date
  /** The SR 5.1 RequestID. */
  createdBy: string
}

/** A run that is due: the schedule as it stands, the run number and its due time (epoch ms). */
export interface DueRun {
  schedule: DccSchedule
  run: number
  dueAt: number
}

export class ScheduleError extends Error {
  override name = 'ScheduleError'
}

export function emptyScheduleBook(): ScheduleBook {
  return { version: 2, nextNumber: 1, schedules: [], counters: {} }
}

export const scheduleIdOf = (n: number) => `DS${String(n).padStart(6, '0')}`

/** Largest canonical size of the scheduled SRV's own parameters a schedule keeps (characters). */
export const SCHEDULED_PARAMETERS_MAX = 2048

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?Z?$/

/**
 * Reads SR 5.1's parameters, DUIS CreateSchedule's elements in lower camel case:
 * `{ scheduleFrequency, scheduleStartDate, scheduleEndDate?, scheduleExecutionStartTime?,
 * dspScheduledServiceReference?, dspScheduledServiceReferenceVariant, parameters? }` —
 * `parameters` for the scheduled SRV's own. The start date may not be before today (`now`'s UTC
 * date), nor the end before the start. Returns the spec, or why the parameters are not valid.
 */
export function parseScheduleParameters(
  parameters: unknown,
  now: number,
): { ok: true; spec: ScheduleSpec } | { ok: false; reason: string } {
  const bad = (reason: string) => ({ ok: false as const, reason: `SR 5.1 parameters: ${reason}` })
  if (!isObject(parameters))
    return bad(
      'expected an object { scheduleFrequency, scheduleStartDate, dspScheduledServiceReferenceVariant, … }',
    )
  const frequency = parameters.scheduleFrequency
  if (typeof frequency !== 'string' || !Object.hasOwn(SCHEDULE_FREQUENCIES, frequency))
    return bad(
      `scheduleFrequency: expected one of ${Object.keys(SCHEDULE_FREQUENCIES).join(', ')}, got ${show(frequency)}`,
    )
  const srv = parameters.dspScheduledServiceReferenceVariant
  if (typeof srv !== 'string' || !DSP_SCHEDULABLE_SRVS.includes(srv))
    return bad(
      `dspScheduledServiceReferenceVariant: DUIS lets the DCC schedule only ${DSP_SCHEDULABLE_SRVS.join(', ')}, not ${show(srv)}`,
    )
  const reference = parameters.dspScheduledServiceReference
  if (reference !== undefined && (typeof reference !== 'string' || !`${srv}.`.startsWith(`${reference}.`)))
    return bad(`dspScheduledServiceReference ${show(reference)} is not the reference of ${srv}`)
  const startDate = date(parameters.scheduleStartDate)
  if (!startDate)
    return bad(`scheduleStartDate: expected a date YYYY-MM-DD, got ${show(parameters.scheduleStartDate)}`)
  const today = new Date(now).toISOString().slice(0, 10)
  if (startDate < today) return bad(`scheduleStartDate ${startDate} is before today (${today})`)
  let endDate: string | undefined
  if (parameters.scheduleEndDate !== undefined) {
    endDate = date(parameters.scheduleEndDate)
    if (!endDate)
      return bad(`scheduleEndDate: expected a date YYYY-MM-DD, got ${show(parameters.scheduleEndDate)}`)
    if (endDate < startDate) return bad('scheduleEndDate is before scheduleStartDate')
  }
  const time = parameters.scheduleExecutionStartTime ?? '00:00:00'
  const executionTime = timeOfDay(time)
  if (!executionTime) return bad(`scheduleExecutionStartTime: expected a time HH:MM:SS, got ${show(time)}`)
  const inner = parameters.parameters ?? {}
  if (!isObject(inner)) return bad('parameters: expected an object (the scheduled SRV’s own parameters)')
  let size: number
  try {
    size = JSON.stringify(inner).length
  } catch {
    return bad('parameters: not JSON')
  }
  if (size > SCHEDULED_PARAMETERS_MAX)
    return bad(
      `parameters: ${size} characters of JSON, more than the ${SCHEDULED_PARAMETERS_MAX} a schedule keeps`,
    )
  return {
    ok: true,
    spec: {
      srv,
      parameters: JSON.parse(JSON.stringify(inner)),
      frequency: frequency as ScheduleFrequency,
      startDate,
      ...(endDate && { endDate }),
      executionTime,
    },
  }
}

/** Due time (epoch ms) of run `run` (from 1). */
export function runDueAt(
  schedule: Pick<DccSchedule, 'frequency' | 'startDate' | 'executionTime'>,
  run: number,
): number {
  // YYYY-MM-DD and HH:MM:SS, as createSchedule keeps them (read without splitting: per run).
  const date = schedule.startDate
  const time = schedule.executionTime
  const [y, m, d] = [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))]
  const [hh, mm, ss] = [Number(time.slice(0, 2)), Number(time.slice(3, 5)), Number(time.slice(6, 8))]
  const period = SCHEDULE_FREQUENCIES[schedule.frequency] as { days?: number; months?: number }
  const n = run - 1
  if (period.days !== undefined) return Date.UTC(y, m - 1, d + n * period.days, hh, mm, ss)
  const month = m - 1 + n * period.months!
  const last = new Date(Date.UTC(y, month + 1, 0)).getUTCDate()
  return Date.UTC(y, month, Math.min(d, last), hh, mm, ss)
}

/** Due time of run `run` as epoch ms, or undefined when that run falls after the end date. */
export function dueTime(
  schedule: Pick<DccSchedule, 'frequency' | 'startDate' | 'executionTime' | 'endDate'>,
  run: number,
) {
  const due = runDueAt(schedule, run)
  if (schedule.endDate !== undefined && due >= Date.parse(`${schedule.endDate}T00:00:00Z`) + 86_400_000)
    return undefined
  return due
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** The `counters` key of an owner and device. */
export const counterKey = (owner: string, deviceId: string) => `${owner}:${deviceId}`

/** Adds a schedule; returns the new book and the schedule. Throws a ScheduleError for bad input or a cap reached. */
export function createSchedule(
  book: ScheduleBook,
  input: NewSchedule,
  limits: Partial<ScheduleLimits> = {},
): { book: ScheduleBook; schedule: DccSchedule } {
  const schedule = newSchedule(
    book.nextNumber,
    input,
    (owner, deviceId) => {
      const mine = book.schedules.filter((s) => s.owner === owner)
      return { mine: mine.length, onDevice: mine.filter((s) => s.request.deviceId === deviceId).length }
    },
    limits,
  )
  const key = counterKey(schedule.owner, schedule.request.deviceId)
  return {
    book: {
      ...book,
      nextNumber: schedule.number + 1,
      schedules: [...book.schedules, schedule],
      counters: { ...book.counters, [key]: book.counters[key] ?? '0' },
    },
    schedule,
  }
}

/**
 * The schedule `createSchedule` adds as number `number`, given how many the owner has (`counts`:
 * in all and on the device). Throws a ScheduleError for bad input or a cap reached. Shared with
 * the in-place ScheduleIndex (schedule-index.ts), which counts without scanning.
 */
export function newSchedule(
  number: number,
  input: NewSchedule,
  counts: (owner: Eui64, deviceId: Eui64) => { mine: number; onDevice: number },
  limits: Partial<ScheduleLimits> = {},
): DccSchedule {
  if (!DSP_SCHEDULABLE_SRVS.includes(input.srv))
    throw new ScheduleError(`SR ${input.srv} is not one DUIS lets the DCC schedule`)
  if (!Object.hasOwn(SCHEDULE_FREQUENCIES, input.frequency))
    throw new ScheduleError(`unknown schedule frequency '${input.frequency}'`)
  if (!date(input.startDate) || (input.endDate !== undefined && !date(input.endDate)))
    throw new ScheduleError('start and end dates are YYYY-MM-DD')
  if (input.endDate !== undefined && input.endDate < input.startDate)
    throw new ScheduleError('the end date is before the start date')
  const executionTime = timeOfDay(input.executionTime)
  if (!executionTime) throw new ScheduleError('the execution time is HH:MM:SS')
  const owner = parseEui(input.owner)
  const deviceId = parseEui(input.deviceId)
  const { mine, onDevice } = counts(owner, deviceId)
  const perUser = limits.perUser ?? DEFAULT_SCHEDULE_LIMITS.perUser
  const perUserDevice = limits.perUserDevice ?? DEFAULT_SCHEDULE_LIMITS.perUserDevice
  if (mine >= perUser)
    throw new ScheduleError(`User ${owner} already has ${mine} DCC Schedules (at most ${perUser})`)
  if (onDevice >= perUserDevice)
    throw new ScheduleError(
      `User ${owner} already has ${onDevice} DCC Schedules on device ${deviceId} (at most ${perUserDevice})`,
    )
  const createdAt = isoTime(input.at, 'at')
  const base = {
    scheduleId: scheduleIdOf(number),
    number,
    owner,
    role: input.role,
    request: {
      srv: input.srv,
      deviceId,
      deviceType: input.deviceType,
      commandVariant: 1,
      parameters: structuredClone(input.parameters),
    },
    frequency: input.frequency,
    startDate: input.startDate,
    ...(input.endDate !== undefined && { endDate: input.endDate }),
    executionTime,
    createdAt,
    createdBy: input.createdBy,
  }
  // A run due before the schedule existed is not run: the first one is the first not before now.
  let first = 1
  const created = Date.parse(createdAt)
  for (let due = dueTime(base, first); due !== undefined && due < created; due = dueTime(base, ++first));
  const nextDue = iso(dueTime(base, first))
  return { ...base, nextRun: first, ...(nextDue && { nextDue }) }
}

export function findSchedule(book: ScheduleBook, scheduleId: string): DccSchedule | undefined {
  return book.schedules.find((s) => s.scheduleId === scheduleId)
}

/** The owner's schedules, optionally only those on one device, in creation order. */
export function schedulesOf(book: ScheduleBook, owner: string, deviceId?: string): DccSchedule[] {
  const user = parseEui(owner)
  const device = deviceId === undefined ? undefined : parseEui(deviceId)
  return book.schedules.filter(
    (s) => s.owner === user && (device === undefined || s.request.deviceId === device),
  )
}

export type DeleteOutcome = 'deleted' | 'unknown' | 'not-owner'

/** Deletes a schedule if `user` owns it; the book is unchanged otherwise. */
export function deleteSchedule(
  book: ScheduleBook,
  user: string,
  scheduleId: string,
): { book: ScheduleBook; outcome: DeleteOutcome; schedule?: DccSchedule } {
  const schedule = findSchedule(book, scheduleId)
  if (!schedule) return { book, outcome: 'unknown' }
  if (schedule.owner !== parseEui(user)) return { book, outcome: 'not-owner', schedule }
  const schedules = book.schedules.filter((s) => s !== schedule)
  const key = counterKey(schedule.owner, schedule.request.deviceId)
  const counters = { ...book.counters }
  // The counter is kept while the pair has schedules (so it stays bounded by them).
  if (!schedules.some((s) => counterKey(s.owner, s.request.deviceId) === key)) delete counters[key]
  return { book: { ...book, schedules, counters }, outcome: 'deleted', schedule }
}

/** Every run due at or before `upTo` (epoch ms) that has not run, by due time, then schedule number. */
export function dueRuns(book: ScheduleBook, upTo: number): DueRun[] {
  const runs: DueRun[] = []
  for (const schedule of book.schedules) {
    for (let run = schedule.nextRun; ; run++) {
      const due = dueTime(schedule, run)
      if (due === undefined || due > upTo) break
      runs.push({ schedule, run, dueAt: due })
    }
  }
  return runs.sort((a, b) => a.dueAt - b.dueAt || a.schedule.number - b.schedule.number)
}

/**
 * The RequestID counter of a run: above the last counter the DCC sent for the owner to the device
 * (`book.counters`), and at least `dueAt × 1024 + schedule number mod 1024`, so it also grows with
 * the due time. Never backwards, whatever the User's own counters or the other schedules did.
 */
export function runCounter(book: ScheduleBook, schedule: DccSchedule, run: number): bigint {
  const last = BigInt(book.counters[counterKey(schedule.owner, schedule.request.deviceId)] ?? '0')
  return counterAfter(last, schedule, run)
}

/** runCounter given the last counter sent for the schedule's owner and device. */
export function counterAfter(last: bigint, schedule: DccSchedule, run: number): bigint {
  const timed = BigInt(runDueAt(schedule, run)) * 1024n + BigInt(schedule.number % 1024)
  return last + 1n > timed ? last + 1n : timed
}

/**
 * The book after the DCC sent `counter` for `owner` to `device` (a run, or the User's own request):
 * kept only for pairs with a schedule, and only when it is higher.
 */
export function noteCounter(
  book: ScheduleBook,
  owner: string,
  deviceId: string,
  counter: bigint,
): ScheduleBook {
  const key = counterKey(owner, deviceId)
  const last = book.counters[key]
  if (last === undefined || BigInt(last) >= counter) return book
  return { ...book, counters: { ...book.counters, [key]: counter.toString() } }
}

/** The book after run `run` of a schedule has happened (whatever its outcome): the next run is the one after. */
export function recordRun(book: ScheduleBook, scheduleId: string, run: number): ScheduleBook {
  return {
    ...book,
    schedules: book.schedules.map((s) => (s.scheduleId !== scheduleId ? s : afterRun(s, run))),
  }
}

/** The schedule after its run `run` has happened (itself when that run is behind it already). */
export function afterRun(schedule: DccSchedule, run: number): DccSchedule {
  if (run < schedule.nextRun) return schedule
  const { nextDue: _, ...rest } = schedule
  const nextDue = iso(dueTime(schedule, run + 1))
  return { ...rest, nextRun: run + 1, ...(nextDue && { nextDue }) }
}

function date(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const m = DATE.exec(value)
  if (!m) return undefined
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return new Date(t).toISOString().slice(0, 10) === value ? value : undefined
}

function timeOfDay(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const m = TIME.exec(value)
  if (!m) return undefined
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)]
  if (h > 23 || min > 59 || s > 59) return undefined
  return [h, min, s].map((n) => String(n).padStart(2, '0')).join(':')
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value))
  return text.length > 64 ? `${text.slice(0, 64)}…` : text
}

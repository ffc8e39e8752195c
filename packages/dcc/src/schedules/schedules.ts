/**
 * DCC Schedules (SR 5.1 Create, 5.2 Read, 5.3 Delete DCC Schedule) as pure data: a User asks the
 * DCC to run a Service Request on a repeating schedule, and the DCC runs it at each due time.
 * Unlike a device-held schedule (the billing calendar of SR 6.8, whose alert 0x8F0A keeps going
 * to whichever supplier's certificate is on the meter — DP072), every run of a DCC schedule goes
 * through the DCC's access control again at its due time, so after a Change of Supplier's
 * Supply Start Date the losing supplier's run is refused with E4 instead of returning data. The
 * pipeline (`dcc.ts`) does the running; this module only keeps the schedules and says which runs
 * are due.
 *
 * Modelled simply (not DUIS-exact, the DUIS schedule elements are not used): a schedule is a
 * start instant, a repeat interval in milliseconds and an optional end instant; run n (from 1) is
 * due at `start + (n - 1) × interval`, and a run due after `end` never happens. The book of
 * schedules is plain JSON passed in and out (no timers: the caller drives time).
 */
import { type Eui64, parseEui } from '@smetsim/core'
import type { Json } from '@smetsim/gbcs'
import { isoTime } from '../registration/time.ts'
import type { DuisRole } from '../roles.ts'

/** Shortest repeat interval accepted: one minute (a modelling choice, unconfirmed). */
export const MIN_SCHEDULE_INTERVAL_MS = 60_000

/** The Service Request a schedule runs, as the owner gave it in SR 5.1. */
export interface ScheduledRequest {
  /** The scheduled SRV, e.g. '4.1.1'. */
  srv: string
  /** The target device (the SR 5.1 request's target). */
  deviceId: Eui64
  /** The target's device type, as SR 5.1 named it. */
  deviceType: string
  /** DUIS Command Variant of each run (a non-critical one, 1–3). */
  commandVariant: number
  /** The scheduled SRV's own parameters. */
  parameters: { [name: string]: Json }
}

export interface DccSchedule {
  /** The DCC's id for the schedule, e.g. 'DS000001'. */
  scheduleId: string
  /** Its sequence number in the book (1, 2, …); the low bits of each run's RequestID counter. */
  number: number
  /** The User that created it (the SR 5.1 Business Originator): the only one that may delete it. */
  owner: Eui64
  /** The DUIS role it was created in, and every run is sent in. */
  role: DuisRole
  request: ScheduledRequest
  /** Due time of run 1 (ISO 8601). */
  start: string
  /** Milliseconds between runs. */
  intervalMs: number
  /** No run is due after this (ISO 8601). */
  end?: string
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
  version: 1
  /** Sequence number the next schedule gets. */
  nextNumber: number
  schedules: DccSchedule[]
}

/** What SR 5.1 asks for, read from its parameters. */
export interface ScheduleSpec {
  srv: string
  commandVariant: number
  parameters: { [name: string]: Json }
  start: string
  intervalMs: number
  end?: string
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
  return { version: 1, nextNumber: 1, schedules: [] }
}

export const scheduleIdOf = (n: number) => `DS${String(n).padStart(6, '0')}`

/**
 * Reads SR 5.1's parameters: `{ serviceRequest: { srv, commandVariant?, parameters? }, start,
 * repeatIntervalMs, end? }` (`commandVariant` default 1). `start` may not be before `now`, nor
 * `end` before `start`. Returns the spec, or why the parameters are not valid.
 */
export function parseScheduleParameters(
  parameters: unknown,
  now: number,
): { ok: true; spec: ScheduleSpec } | { ok: false; reason: string } {
  const bad = (reason: string) => ({ ok: false as const, reason: `SR 5.1 parameters: ${reason}` })
  if (!isObject(parameters))
    return bad('expected an object { serviceRequest, start, repeatIntervalMs, end? }')
  const sr = parameters.serviceRequest
  if (!isObject(sr)) return bad('serviceRequest: expected an object { srv, commandVariant?, parameters? }')
  if (typeof sr.srv !== 'string' || !/^\d{1,2}(\.\d{1,2}){1,2}$/.test(sr.srv))
    return bad(`serviceRequest.srv: expected an SRV like '4.1.1', got ${show(sr.srv)}`)
  const commandVariant = sr.commandVariant ?? 1
  if (typeof commandVariant !== 'number' || !Number.isInteger(commandVariant))
    return bad(`serviceRequest.commandVariant: expected an integer, got ${show(sr.commandVariant)}`)
  const inner = sr.parameters ?? {}
  if (!isObject(inner)) return bad('serviceRequest.parameters: expected an object')
  const time = (value: unknown, what: string): number | string => {
    if (typeof value !== 'string') return `${what}: expected an ISO 8601 time, got ${show(value)}`
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? `${what}: '${value}' is not a time` : ms
  }
  const start = time(parameters.start, 'start')
  if (typeof start === 'string') return bad(start)
  if (start < now)
    return bad(`start ${new Date(start).toISOString()} is before now (${new Date(now).toISOString()})`)
  const interval = parameters.repeatIntervalMs
  if (typeof interval !== 'number' || !Number.isSafeInteger(interval) || interval < MIN_SCHEDULE_INTERVAL_MS)
    return bad(
      `repeatIntervalMs: expected a whole number of milliseconds of at least ${MIN_SCHEDULE_INTERVAL_MS}, got ${show(interval)}`,
    )
  let end: number | undefined
  if (parameters.end !== undefined) {
    const e = time(parameters.end, 'end')
    if (typeof e === 'string') return bad(e)
    if (e < start) return bad('end is before start')
    end = e
  }
  return {
    ok: true,
    spec: {
      srv: sr.srv,
      commandVariant,
      parameters: inner as { [name: string]: Json },
      start: new Date(start).toISOString(),
      intervalMs: interval,
      ...(end !== undefined && { end: new Date(end).toISOString() }),
    },
  }
}

/** Due time (epoch ms) of run `run` (from 1). */
export function runDueAt(schedule: Pick<DccSchedule, 'start' | 'intervalMs'>, run: number): number {
  return Date.parse(schedule.start) + (run - 1) * schedule.intervalMs
}

/** Due time of run `run` as ISO text, or undefined when that run falls after the schedule's end. */
function dueIso(
  schedule: Pick<DccSchedule, 'start' | 'intervalMs' | 'end'>,
  run: number,
): string | undefined {
  const due = runDueAt(schedule, run)
  if (schedule.end !== undefined && due > Date.parse(schedule.end)) return undefined
  return new Date(due).toISOString()
}

/** Adds a schedule; returns the new book and the schedule. Throws a ScheduleError for bad input. */
export function createSchedule(
  book: ScheduleBook,
  input: NewSchedule,
): { book: ScheduleBook; schedule: DccSchedule } {
  if (!Number.isSafeInteger(input.intervalMs) || input.intervalMs < MIN_SCHEDULE_INTERVAL_MS)
    throw new ScheduleError(`intervalMs must be a whole number of at least ${MIN_SCHEDULE_INTERVAL_MS}`)
  const start = isoTime(input.start, 'start')
  const end = input.end === undefined ? undefined : isoTime(input.end, 'end')
  if (end !== undefined && end < start) throw new ScheduleError('end is before start')
  const number = book.nextNumber
  const base = {
    scheduleId: scheduleIdOf(number),
    number,
    owner: parseEui(input.owner),
    role: input.role,
    request: {
      srv: input.srv,
      deviceId: parseEui(input.deviceId),
      deviceType: input.deviceType,
      commandVariant: input.commandVariant,
      parameters: structuredClone(input.parameters),
    },
    start,
    intervalMs: input.intervalMs,
    ...(end !== undefined && { end }),
    createdAt: isoTime(input.at, 'at'),
    createdBy: input.createdBy,
    nextRun: 1,
  }
  const nextDue = dueIso(base, 1)
  const schedule: DccSchedule = { ...base, ...(nextDue && { nextDue }) }
  return {
    book: { version: 1, nextNumber: number + 1, schedules: [...book.schedules, schedule] },
    schedule,
  }
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
  return {
    book: { ...book, schedules: book.schedules.filter((s) => s !== schedule) },
    outcome: 'deleted',
    schedule,
  }
}

/** Every run due at or before `upTo` (epoch ms) that has not run, by due time, then schedule number. */
export function dueRuns(book: ScheduleBook, upTo: number): DueRun[] {
  const runs: DueRun[] = []
  for (const schedule of book.schedules) {
    for (let run = schedule.nextRun; ; run++) {
      const due = dueIso(schedule, run)
      if (due === undefined || Date.parse(due) > upTo) break
      runs.push({ schedule, run, dueAt: Date.parse(due) })
    }
  }
  return runs.sort((a, b) => a.dueAt - b.dueAt || a.schedule.number - b.schedule.number)
}

/** The book after run `run` of a schedule has happened (whatever its outcome): the next run is the one after. */
export function recordRun(book: ScheduleBook, scheduleId: string, run: number): ScheduleBook {
  return {
    ...book,
    schedules: book.schedules.map((s) => {
      if (s.scheduleId !== scheduleId || run < s.nextRun) return s
      const { nextDue: _, ...rest } = s
      const nextDue = dueIso(s, run + 1)
      return { ...rest, nextRun: run + 1, ...(nextDue && { nextDue }) }
    }),
  }
}

/**
 * The DUIS RequestID counter of a run, which also becomes the command's GBCS Originator Counter:
 * `dueAt (epoch ms) × 1024 + (schedule number mod 1024)`. It is derived from the schedule and the
 * run number (run n is due at start + (n − 1) × interval) and, as the device refuses any counter
 * not above the last one it accepted from the User, it grows with the due time across all of a
 * User's schedules rather than per schedule (runs happen in due-time order). A User whose own
 * RequestID counters are smaller than this (not time-based) would see its later commands to that
 * device refused as replays — a modelling choice (unconfirmed how the DSP numbers its runs).
 */
export function runCounter(
  schedule: Pick<DccSchedule, 'number' | 'start' | 'intervalMs'>,
  run: number,
): bigint {
  return BigInt(runDueAt(schedule, run)) * 1024n + BigInt(schedule.number % 1024)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value)
}

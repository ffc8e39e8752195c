/**
 * SR 6.8 Update Billing Calendar: ECS30 / ECS30a on the ESME, GCS25 / GCS25a on the GSME, and
 * the calendar arithmetic behind the Billing Data Log alert (0x8F0A) the meter raises at each
 * billing instant.
 *
 * The ESME's calendar is the execution_time of its billing Single Action Schedule
 * (0.0.15.0.0.255): a list of (time of day, COSEM date pattern with wildcards). The GSME's is a
 * ZSE Price billing period: a start, a duration and the duration's timebase. Both are read on
 * the device clock (UTC: virtual time + `clockOffset`); the state keeps the next instant in
 * virtual time, as the firmware's other wake-up instants are.
 *
 * A command whose calendar the device cannot use is answered with the error the RTDS shows
 * (DLMS `hardware-fault`; ZCL `hardware-failure` on the failing component) and changes nothing.
 */
import type { Json } from '@smetsim/gbcs'
import type { BillingCalendar, BillingDate, BillingPeriod, BillingSchedule, DeviceState } from '../state.ts'
import type { Handler, View } from './index.ts'

const MINUTE = 60_000
const DAY = 86_400_000
/** The Gregorian calendar repeats every 400 years: a date pattern absent that long never occurs. */
const CYCLE_YEARS = 400
/** The most execution times an ECS30 may carry (modelling choice). */
export const MAX_BILLING_DATES = 64

// ---------------------------------------------------------------------------------------------
// Next instants

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

/** ISO weekday, 1 Monday … 7 Sunday, of a UTC date. */
const weekdayOf = (t: number) => ((new Date(t).getUTCDay() + 6) % 7) + 1

const timeOfDay = (d: BillingDate) => ((d.hour * 60 + d.minute) * 60 + d.second) * 1000 + d.hundredths * 10

/** The first instant after `after` (device time) that `d` names, looking `years` years ahead at most. */
function nextForDate(d: BillingDate, after: number, years = CYCLE_YEARS): number | undefined {
  const a = new Date(after)
  const y0 = a.getUTCFullYear()
  const m0 = a.getUTCMonth() + 1
  const tod = timeOfDay(d)
  const firstYear = d.year ?? y0
  const lastYear = d.year ?? y0 + years
  for (let y = Math.max(firstYear, y0); y <= lastYear; y++) {
    for (let m = d.month ?? 1; m <= (d.month ?? 12); m++) {
      if (y === y0 && m < m0) continue
      const dim = daysInMonth(y, m)
      const from = d.day === undefined ? 1 : d.day > 0 ? d.day : dim + d.day + 1
      const to = d.day === undefined ? dim : from
      for (let day = from; day <= Math.min(to, dim); day++) {
        const midnight = Date.UTC(y, m - 1, day)
        const t = midnight + tod
        if (t <= after) continue
        if (d.weekday !== undefined && weekdayOf(midnight) !== d.weekday) continue
        return t
      }
    }
  }
  return undefined
}

/** The earliest instant after `after` (device time) any of the dates names. */
export function nextBillingDate(dates: readonly BillingDate[], after: number): number | undefined {
  let best: number | undefined
  for (const d of dates) {
    const t = nextForDate(d, after)
    if (t !== undefined && (best === undefined || t < best)) best = t
  }
  return best
}

const UNIT_MS = { minutes: MINUTE, days: DAY, weeks: 7 * DAY } as const

/**
 * The first billing instant of the period after `after` (device time): `start`, then every
 * `every` units. Months keep the start's day of month, or the month's last day when shorter
 * (31 January, monthly: 28/29 February, 31 March …), and its time of day.
 */
export function nextBillingPeriod(p: BillingPeriod, after: number): number {
  if (after < p.start) return p.start
  if (p.unit !== 'months') {
    const step = p.every * UNIT_MS[p.unit]
    return p.start + (Math.floor((after - p.start) / step) + 1) * step
  }
  const s = new Date(p.start)
  const y0 = s.getUTCFullYear()
  const m0 = s.getUTCMonth()
  const d0 = s.getUTCDate()
  const tod = p.start - Date.UTC(y0, m0, d0)
  const at = (k: number) => {
    const first = Date.UTC(y0, m0 + k * p.every, 1)
    const f = new Date(first)
    return first + (Math.min(d0, daysInMonth(f.getUTCFullYear(), f.getUTCMonth() + 1)) - 1) * DAY + tod
  }
  const a = new Date(after)
  let k = Math.max(0, Math.floor(((a.getUTCFullYear() - y0) * 12 + a.getUTCMonth() - m0) / p.every) - 1)
  while (at(k) <= after) k++
  return at(k)
}

/** The first instant after `after` (device time) of a date or period schedule. */
export function nextBillingInstant(
  schedule: Exclude<BillingSchedule, { everyDays: number }>,
  after: number,
): number | undefined {
  return 'dates' in schedule
    ? nextBillingDate(schedule.dates, after)
    : nextBillingPeriod(schedule.period, after)
}

/**
 * The billing instant after the one due at `at` (both virtual time). Every-N-days calendars
 * step in virtual time, as they always have; date and period calendars are read on the device
 * clock.
 */
export function followingBillingInstant(
  calendar: BillingCalendar,
  at: number,
  clockOffset: number,
): number | undefined {
  if ('everyDays' in calendar) return at + calendar.everyDays * DAY
  const t = nextBillingInstant(calendar, at + clockOffset)
  return t === undefined ? undefined : t - clockOffset
}

/** A calendar for `schedule` whose next instant is the first after `now` (virtual time). */
export function calendarFrom(
  schedule: Exclude<BillingSchedule, { everyDays: number }>,
  now: number,
  clockOffset: number,
): BillingCalendar {
  const t = nextBillingInstant(schedule, now + clockOffset)
  return t === undefined ? { ...schedule } : { ...schedule, next: t - clockOffset }
}

// ---------------------------------------------------------------------------------------------
// ECS30 / ECS30a: COSEM time and date patterns

const byte = (h: string, i: number) => Number.parseInt(h.slice(i * 2, i * 2 + 2), 16)

/**
 * One execution_time entry as a billing date, or why the device cannot use it. The time must
 * name an hour and a minute; wildcard seconds and hundredths are 0. Dates: year 0xFFFF or
 * 1970–9999, month 0xFF or 1–12 (the daylight-saving months 0xFD/0xFE are not supported), day
 * 0xFF, 1–31, 0xFE (last) or 0xFD (second last), weekday 0xFF or 1–7; the pattern must name a
 * date that exists.
 */
export function billingDateFrom(time: string, date: string): BillingDate | string {
  if (!/^[0-9A-Fa-f]{8}$/.test(time) || !/^[0-9A-Fa-f]{10}$/.test(date)) return 'not a COSEM time and date'
  const [hour, minute, second, hundredths] = [0, 1, 2, 3].map((i) => byte(time, i)) as [
    number,
    number,
    number,
    number,
  ]
  if (hour > 23) return `hour ${hour} is not supported`
  if (minute > 59) return `minute ${minute} is not supported`
  if (second > 59 && second !== 0xff) return `second ${second} is not a second`
  if (hundredths > 99 && hundredths !== 0xff) return `hundredths ${hundredths} is not valid`
  const year = Number.parseInt(date.slice(0, 4), 16)
  const [month, day, weekday] = [2, 3, 4].map((i) => byte(date, i)) as [number, number, number]
  if (year !== 0xffff && (year < 1970 || year > 9999)) return `year ${year} is not supported`
  if (month !== 0xff && (month < 1 || month > 12)) return `month 0x${month.toString(16)} is not supported`
  if (day !== 0xff && day !== 0xfe && day !== 0xfd && (day < 1 || day > 31))
    return `day of month 0x${day.toString(16)} is not supported`
  if (weekday !== 0xff && (weekday < 1 || weekday > 7)) return `day of week ${weekday} is not valid`
  const d: BillingDate = {
    hour,
    minute,
    second: second === 0xff ? 0 : second,
    hundredths: hundredths === 0xff ? 0 : hundredths,
    ...(year !== 0xffff && { year }),
    ...(month !== 0xff && { month }),
    ...(day !== 0xff && { day: day === 0xfe ? -1 : day === 0xfd ? -2 : day }),
    ...(weekday !== 0xff && { weekday }),
  }
  const from = d.year === undefined ? Date.UTC(2000, 0, 1) - 1 : Date.UTC(d.year, 0, 1) - 1
  if (nextForDate(d, from) === undefined) return `date pattern ${date.toUpperCase()} names no date`
  return d
}

/** The billing dates of an ECS30 view, or why the device cannot use them. */
export function billingDatesFrom(entries: Json | undefined): BillingDate[] | string {
  if (!Array.isArray(entries)) return 'no execution times'
  if (entries.length === 0) return 'an empty billing calendar is not supported'
  if (entries.length > MAX_BILLING_DATES) return `more than ${MAX_BILLING_DATES} billing dates`
  const dates: BillingDate[] = []
  for (const e of entries) {
    const o = e as { time?: Json; date?: Json }
    const d = billingDateFrom(String(o?.time), String(o?.date))
    if (typeof d === 'string') return d
    dates.push(d)
  }
  return dates
}

/** ECS30 / ECS30a: replace the ESME's billing calendar with the execution times given. */
export const updateBillingCalendarEsme: Handler = (state, v, _auth, now) => {
  const head = { name: v.name, invokeId: v.invokeId as number }
  const dates = billingDatesFrom(v.executionTimes)
  if (typeof dates === 'string')
    return { state, response: { ...head, result: 'hardware-fault' }, events: [], reason: dates }
  return {
    state: withCalendar(state, calendarFrom({ dates }, now, state.clockOffset)),
    response: { ...head, result: 'success' },
    events: [],
  }
}

// ---------------------------------------------------------------------------------------------
// GCS25 / GCS25a: ZSE billing and block periods

/** ZSE duration type timebases (low nibble). */
const TIMEBASES: Readonly<Record<number, BillingPeriod['unit']>> = {
  0: 'minutes',
  1: 'days',
  2: 'weeks',
  3: 'months',
}

/** ZSE duration control (high nibble): 0 start of timebase, 1 end of timebase, 2 not specified. */
const START_OF_TIMEBASE = 0
const NOT_SPECIFIED = 2

/** The start moved to the beginning of its day, week (Monday) or month. */
function startOfTimebase(t: number, unit: BillingPeriod['unit']): number {
  const d = new Date(t)
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  if (unit === 'minutes') return Math.floor(t / MINUTE) * MINUTE
  if (unit === 'days') return midnight
  if (unit === 'weeks') return midnight - (weekdayOf(midnight) - 1) * DAY
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

/**
 * A GSME billing period from a Publish Billing Period's fields, or why the device cannot use it:
 * a duration of at least one day (days, weeks or months), a duration control of "start of
 * timebase" or "not specified", and a start time ('now' is the device's now).
 */
export function billingPeriodFrom(
  start: Json | undefined,
  duration: Json | undefined,
  durationType: Json | undefined,
  deviceNow: number,
): BillingPeriod | string {
  const type = typeof durationType === 'string' ? Number.parseInt(durationType, 16) : Number.NaN
  const unit = TIMEBASES[type & 0x0f]
  const control = type >> 4
  if (!Number.isInteger(type) || unit === undefined)
    return `duration type ${String(durationType)} is not known`
  if (unit === 'minutes') return 'billing periods shorter than a day are not supported'
  if (control !== START_OF_TIMEBASE && control !== NOT_SPECIFIED)
    return `duration control ${control} is not supported`
  if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1)
    return `billing period duration ${String(duration)} is not valid`
  const at = start === 'now' ? deviceNow : typeof start === 'string' ? Date.parse(start) : Number.NaN
  if (!Number.isFinite(at)) return `billing period start ${String(start)} is not a time`
  return {
    start: control === START_OF_TIMEBASE ? startOfTimebase(at, unit) : at,
    every: duration,
    unit,
  }
}

/**
 * GCS25 / GCS25a: replace the GSME's billing calendar with the billing period. Its two ZCL
 * commands are answered one by one: a bad billing period fails both and changes nothing; a block
 * period that does not describe the same period (start, duration and duration type) fails on its
 * own, and the billing period, answered as a success, still takes effect (as the RTDS error
 * response reports it: billing period success, block period failure).
 */
export const updateBillingCalendarGsme: Handler = (state, v, _auth, now) => {
  const head = { name: v.name, sequenceNumber: v.sequenceNumber as number }
  const answer = (billingPeriod: string, blockPeriod: string): View => ({
    ...head,
    results: { billingPeriod, blockPeriod },
  })
  const period = billingPeriodFrom(
    v.billingPeriodStartTime,
    v.billingPeriodDuration,
    v.billingPeriodDurationType,
    now + state.clockOffset,
  )
  if (typeof period === 'string')
    return {
      state,
      response: answer('hardware-failure', 'hardware-failure'),
      events: [],
      reason: period,
    }
  const sameBlock =
    v.blockPeriodStartTime === v.billingPeriodStartTime &&
    v.blockPeriodDuration === v.billingPeriodDuration &&
    v.blockPeriodDurationType === v.billingPeriodDurationType
  const calendar = withCalendar(state, calendarFrom({ period }, now, state.clockOffset))
  if (!sameBlock)
    return {
      state: calendar,
      response: answer('success', 'hardware-failure'),
      events: [],
      reason: 'the block period does not match the billing period',
    }
  return {
    state: calendar,
    response: answer('success', 'success'),
    events: [],
  }
}

function withCalendar(state: DeviceState, billingCalendar: BillingCalendar): DeviceState {
  return { ...state, billingCalendar }
}

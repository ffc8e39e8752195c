import { toHex } from '@smetsim/core'
import { decodeFrame, decodePayload, type Json } from '@smetsim/gbcs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { step } from '../firmware.ts'
import { restoreDevice, snapshotDevice } from '../snapshot.ts'
import type { BillingDate, BillingPeriod, DeviceState } from '../state.ts'
import { backend, command, PARTIES, T0, testDevice } from '../testing.ts'
import {
  billingDateFrom,
  billingDatesFrom,
  billingPeriodFrom,
  nextBillingDate,
  nextBillingPeriod,
} from './billing-calendar.ts'

const MINUTE = 60_000
const DAY = 86_400_000
const utc = (iso: string) => Date.parse(iso)
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())

/** A billing date from the hex an ECS30 carries. */
function date(time: string, pattern: string): BillingDate {
  const d = billingDateFrom(time, pattern)
  if (typeof d === 'string') throw new Error(d)
  return d
}

const ECS30 = 0x0046
const ECS30A = 0x00d7
const GCS25 = 0x007e

const ecs30 = (entries: { time: string; date: string }[], invokeId = 536871913) => ({
  name: 'ECS30 Update Billing Calendar',
  invokeId,
  executionTimes: entries,
})

const gcs25 = (o: Partial<Record<string, Json>> = {}) => ({
  name: 'GCS25 Update Billing Calendar',
  sequenceNumber: 0,
  providerId: 0,
  issuerEventId: 473385600,
  billingPeriodStartTime: '2026-01-01T00:00:00Z',
  billingPeriodDuration: 1,
  billingPeriodDurationType: '23',
  tariffType: '00',
  blockPeriodStartTime: '2026-01-01T00:00:00Z',
  blockPeriodDuration: 1,
  blockPeriodControl: '02',
  blockPeriodDurationType: '23',
  tariffResolutionPeriod: 1,
  ...o,
})

function responseView(frame: Uint8Array, messageCode: number) {
  const s = decodeFrame(frame).signing
  return { signing: s, view: decodePayload(s.content, { messageCode, cra: 'response' }).useCase }
}

const billingAlerts = (alerts: { code: number; at: number; frame: Uint8Array | undefined }[]) =>
  alerts.filter((a) => a.code === 0x8f0a)

describe('ECS30 date patterns', () => {
  it('reads COSEM time and date patterns with their wildcards', () => {
    expect(date('0C000000', 'FFFFFF01FF')).toEqual({ hour: 12, minute: 0, second: 0, hundredths: 0, day: 1 })
    expect(date('173BFFFF', '07EA02FEFF')).toEqual({
      hour: 23,
      minute: 59,
      second: 0,
      hundredths: 0,
      year: 2026,
      month: 2,
      day: -1,
    })
    expect(date('00000000', 'FFFFFFFD07')).toMatchObject({ day: -2, weekday: 7 })
  })

  it('refuses what the device cannot use, saying why', () => {
    expect(billingDateFrom('FF000000', 'FFFFFF01FF')).toMatch(/hour/)
    expect(billingDateFrom('00FF0000', 'FFFFFF01FF')).toMatch(/minute/)
    expect(billingDateFrom('00000000', 'FFFFFF20FF')).toMatch(/day of month/)
    expect(billingDateFrom('00000000', 'FFFF0D01FF')).toMatch(/month/)
    expect(billingDateFrom('00000000', 'FFFFFE01FF')).toMatch(/month/) // daylight-saving begin
    expect(billingDateFrom('00000000', 'FFFFFF0108')).toMatch(/day of week/)
    expect(billingDateFrom('00000000', 'FFFF021EFF')).toMatch(/names no date/) // 30 February
    expect(billingDateFrom('00000000', '07E9021DFF')).toMatch(/names no date/) // 29 Feb 2025
    expect(billingDateFrom('00000000', 'FFFF021DFF')).not.toBeTypeOf('string') // 29 Feb, leap years
    expect(billingDatesFrom([])).toMatch(/empty/)
    expect(billingDatesFrom(undefined)).toMatch(/no execution times/)
  })
})

describe('the next billing date', () => {
  const next = (dates: BillingDate[], after: string) => iso(nextBillingDate(dates, utc(after)))

  it('on day 1 of every month, strictly after now', () => {
    const monthly = [date('00000000', 'FFFFFF01FF')]
    expect(next(monthly, '2026-01-05T12:00:00Z')).toBe('2026-02-01T00:00:00.000Z')
    expect(next(monthly, '2026-02-01T00:00:00Z')).toBe('2026-03-01T00:00:00.000Z')
    expect(next(monthly, '2026-12-31T23:59:59.999Z')).toBe('2027-01-01T00:00:00.000Z')
  })

  it('at month ends and in leap years', () => {
    const last = [date('00000000', 'FFFFFFFEFF')]
    expect(next(last, '2024-02-10T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z')
    expect(next(last, '2023-02-10T00:00:00Z')).toBe('2023-02-28T00:00:00.000Z')
    expect(next([date('00000000', 'FFFFFFFDFF')], '2024-02-10T00:00:00Z')).toBe('2024-02-28T00:00:00.000Z')
    // Day 31 skips the months without one.
    expect(next([date('06000000', 'FFFFFF1FFF')], '2025-04-01T00:00:00Z')).toBe('2025-05-31T06:00:00.000Z')
    // 29 February: the next leap year.
    expect(next([date('00000000', 'FFFF021DFF')], '2025-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z')
    expect(next([date('00000000', 'FFFF021DFF')], '2100-01-01T00:00:00Z')).toBe('2104-02-29T00:00:00.000Z')
  })

  it('with weekdays, specific years and several entries', () => {
    // Every Monday at noon; T0 is a Monday noon, so the next is a week on.
    expect(next([date('0C000000', 'FFFFFFFF01')], '2026-01-05T12:00:00Z')).toBe('2026-01-12T12:00:00.000Z')
    // Friday the 13th.
    expect(next([date('00000000', 'FFFFFF0D05')], '2026-01-01T00:00:00Z')).toBe('2026-02-13T00:00:00.000Z')
    expect(next([date('00000000', 'FFFFFF0D05')], '2026-03-13T00:00:00Z')).toBe('2026-11-13T00:00:00.000Z')
    // A date in a year gone by names nothing more.
    expect(next([date('00000000', '07DF0101FF')], '2026-01-01T00:00:00Z')).toBeUndefined()
    expect(next([date('00000000', '07EB0101FF')], '2026-01-01T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z')
    // Quarterly, as the RTDS ECS30a sets it: the earliest of the entries.
    const quarterly = ['01', '04', '07', '0A'].map((m) => date('00000000', `FFFF${m}01FF`))
    expect(next(quarterly, '2026-01-05T12:00:00Z')).toBe('2026-04-01T00:00:00.000Z')
    expect(next(quarterly, '2026-12-15T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z')
    // Hundredths and seconds count.
    expect(next([date('0C001E32', 'FFFFFFFFFF')], '2026-01-05T12:00:30.499Z')).toBe(
      '2026-01-05T12:00:30.500Z',
    )
  })

  /** Whether minute `t` is one a billing date names (brute force, field by field). */
  function matches(d: BillingDate, t: number): boolean {
    const x = new Date(t)
    const dim = new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 0)).getUTCDate()
    const day = d.day === undefined ? undefined : d.day > 0 ? d.day : dim + d.day + 1
    return (
      x.getUTCHours() === d.hour &&
      x.getUTCMinutes() === d.minute &&
      x.getUTCSeconds() === 0 &&
      x.getUTCMilliseconds() === 0 &&
      (d.year === undefined || x.getUTCFullYear() === d.year) &&
      (d.month === undefined || x.getUTCMonth() + 1 === d.month) &&
      (day === undefined || x.getUTCDate() === day) &&
      (d.weekday === undefined || ((x.getUTCDay() + 6) % 7) + 1 === d.weekday)
    )
  }

  const opt = <T>(a: fc.Arbitrary<T>, wildcard: number) =>
    fc.oneof({ arbitrary: fc.constant(undefined), weight: wildcard }, { arbitrary: a, weight: 10 - wildcard })
  const billingDate: fc.Arbitrary<BillingDate> = fc
    .record({
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      year: opt(fc.integer({ min: 2024, max: 2028 }), 8),
      month: opt(fc.integer({ min: 1, max: 12 }), 6),
      day: opt(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constantFrom(-1, -2)), 3),
      weekday: opt(fc.integer({ min: 1, max: 7 }), 7),
    })
    .map(({ year, month, day, weekday, ...t }) => ({
      ...t,
      second: 0,
      hundredths: 0,
      ...(year !== undefined && { year }),
      ...(month !== undefined && { month }),
      ...(day !== undefined && { day }),
      ...(weekday !== undefined && { weekday }),
    }))

  it('is after now and the first minute a brute-force search finds', () => {
    const RANGE = 45 * DAY
    fc.assert(
      fc.property(
        fc.array(billingDate, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: utc('2024-01-01T00:00:00Z'), max: utc('2028-06-01T00:00:00Z') }),
        (dates, now) => {
          const got = nextBillingDate(dates, now)
          if (got !== undefined) expect(got).toBeGreaterThan(now)
          let found: number | undefined
          for (let t = (Math.floor(now / MINUTE) + 1) * MINUTE; t <= now + RANGE; t += MINUTE) {
            if (dates.some((d) => matches(d, t))) {
              found = t
              break
            }
          }
          if (found !== undefined) expect(iso(got)).toBe(iso(found))
          else if (got !== undefined) expect(got).toBeGreaterThan(now + RANGE)
        },
      ),
      { numRuns: 80 },
    )
  })
})

describe('the GSME billing period', () => {
  const period = (start: string, every: number, unit: BillingPeriod['unit']): BillingPeriod => ({
    start: utc(start),
    every,
    unit,
  })
  const next = (p: BillingPeriod, after: string) => iso(nextBillingPeriod(p, utc(after)))

  it('reads the ZSE duration type: low nibble the timebase, high nibble the control', () => {
    const now = utc('2026-01-05T12:00:00Z')
    expect(billingPeriodFrom('2015-02-01T00:00:00Z', 1, '23', now)).toEqual(
      period('2015-02-01T00:00:00Z', 1, 'months'),
    )
    // Start of timebase: the start moves to the beginning of its month / week / day.
    expect(billingPeriodFrom('2026-01-15T10:00:00Z', 1, '03', now)).toEqual(
      period('2026-01-01T00:00:00Z', 1, 'months'),
    )
    expect(billingPeriodFrom('2026-01-15T10:00:00Z', 2, '02', now)).toEqual(
      period('2026-01-12T00:00:00Z', 2, 'weeks'),
    )
    expect(billingPeriodFrom('2026-01-15T10:00:00Z', 7, '21', now)).toEqual(
      period('2026-01-15T10:00:00Z', 7, 'days'),
    )
    expect(billingPeriodFrom('now', 1, '23', now)).toEqual({ start: now, every: 1, unit: 'months' })
    expect(billingPeriodFrom('2026-01-01T00:00:00Z', 30, '20', now)).toMatch(/shorter than a day/)
    expect(billingPeriodFrom('2026-01-01T00:00:00Z', 1, '13', now)).toMatch(/control 1/)
    expect(billingPeriodFrom('2026-01-01T00:00:00Z', 1, '24', now)).toMatch(/duration type/)
    expect(billingPeriodFrom('2026-01-01T00:00:00Z', 0, '23', now)).toMatch(/duration/)
    expect(billingPeriodFrom('unspecified', 1, '23', now)).toMatch(/start/)
  })

  it('steps months from the start, keeping its day or the month end', () => {
    const monthly = period('2015-02-01T00:00:00Z', 1, 'months')
    expect(next(monthly, '2026-01-05T12:00:00Z')).toBe('2026-02-01T00:00:00.000Z')
    expect(next(monthly, '2014-06-01T00:00:00Z')).toBe('2015-02-01T00:00:00.000Z')
    const end = period('2024-01-31T06:00:00Z', 1, 'months')
    expect(next(end, '2024-01-31T06:00:00Z')).toBe('2024-02-29T06:00:00.000Z')
    expect(next(end, '2024-02-29T06:00:00Z')).toBe('2024-03-31T06:00:00.000Z')
    expect(next(end, '2025-02-01T00:00:00Z')).toBe('2025-02-28T06:00:00.000Z')
    const halfYearly = period('2015-01-01T00:00:00Z', 6, 'months')
    expect(next(halfYearly, '2026-01-05T00:00:00Z')).toBe('2026-07-01T00:00:00.000Z')
    expect(next(halfYearly, '2026-07-01T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z')
    expect(next(period('2026-01-05T00:00:00Z', 10, 'days'), '2026-01-15T00:00:00Z')).toBe(
      '2026-01-25T00:00:00.000Z',
    )
  })

  it('is after now and the first billing day a day-by-day search finds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: utc('2020-01-01T00:00:00Z'), max: utc('2027-01-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 13 }),
        fc.constantFrom<BillingPeriod['unit']>('days', 'weeks', 'months'),
        fc.integer({ min: 0, max: 3 * 366 * DAY }),
        (start, every, unit, later) => {
          const p = { start, every, unit }
          const now = start + later
          const got = nextBillingPeriod(p, now)
          expect(got).toBeGreaterThan(now)
          // Brute force: each day from now's, is it a billing day, and is its instant after now?
          const s = new Date(start)
          const tod = start % DAY
          const found = (() => {
            for (let day = Math.floor(now / DAY) * DAY; ; day += DAY) {
              const t = day + tod
              if (t <= now) continue
              const x = new Date(day)
              if (unit !== 'months') {
                if (((day - (start - tod)) / DAY) % (unit === 'days' ? every : 7 * every) === 0) return t
                continue
              }
              const months =
                (x.getUTCFullYear() - s.getUTCFullYear()) * 12 + x.getUTCMonth() - s.getUTCMonth()
              const dim = new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 0)).getUTCDate()
              if (months % every === 0 && x.getUTCDate() === Math.min(s.getUTCDate(), dim)) return t
            }
          })()
          expect(iso(got)).toBe(iso(found))
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('SR 6.8 on the ESME (ECS30, ECS30a)', () => {
  const esme = testDevice('ESME')

  it('from the supplier: replaces the calendar, answers success, and 0x8F0A comes on day 1 of next month', () => {
    const bytes = command(ECS30, ecs30([{ time: '00000000', date: 'FFFFFF01FF' }]), esme, { counter: 10n })
    const r = step(esme, { kind: 'frame', bytes }, T0, { backend })
    expect(r.outputs.outcome).toBe('executed')
    const { signing, view } = responseView(r.outputs.response!, ECS30)
    expect(view).toEqual({ name: 'ECS30 Update Billing Calendar', invokeId: 536871913, result: 'success' })
    // As the RTDS response: access-response, the invoke id, no date-time, one null, one set success.
    expect(toHex(signing.content)).toBe('DA200003E900000100010200')
    expect(signing.signature.kind).toBe('ecdsa')
    expect(r.state.billingCalendar).toEqual({
      dates: [{ hour: 0, minute: 0, second: 0, hundredths: 0, day: 1 }],
      next: utc('2026-02-01T00:00:00Z'),
    })
    expect(r.outputs.wakeAt).toBeLessThanOrEqual(utc('2026-02-01T00:00:00Z'))

    const quiet = step(r.state, { kind: 'time' }, utc('2026-01-31T23:59:59Z'), { backend })
    expect(billingAlerts(quiet.outputs.alerts)).toEqual([])
    const due = step(quiet.state, { kind: 'time' }, utc('2026-03-15T00:00:00Z'), { backend })
    const alerts = billingAlerts(due.outputs.alerts)
    expect(alerts.map((a) => iso(a.at))).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'])
    expect(decodeFrame(alerts[0]!.frame!).signing.recipient).toBe(PARTIES.supplierA.eui)
    expect(due.state.billingCalendar?.next).toBe(utc('2026-04-01T00:00:00Z'))
  })

  it('ECS30a: several billing dates, read on the device clock', () => {
    const entries = ['01', '04', '07', '0A'].map((m) => ({ time: '00000000', date: `FFFF${m}01FF` }))
    const view = { ...ecs30(entries), name: 'ECS30a Update Billing Calendar (all periodicities)' }
    // The device clock runs an hour ahead of virtual time: its midnight is 23:00 virtual.
    const ahead: DeviceState = { ...esme, clockOffset: 3_600_000 }
    const r = step(ahead, { kind: 'frame', bytes: command(ECS30A, view, ahead, { counter: 11n }) }, T0, {
      backend,
    })
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.billingCalendar?.next).toBe(utc('2026-03-31T23:00:00Z'))
    const due = step(r.state, { kind: 'time' }, utc('2026-07-01T00:00:00Z'), { backend })
    expect(billingAlerts(due.outputs.alerts).map((a) => iso(a.at))).toEqual([
      '2026-03-31T23:00:00.000Z',
      '2026-06-30T23:00:00.000Z',
    ])
  })

  it('moves with the device clock when ECS70 sets it: one alert per billing date, at device midnight', () => {
    // Daily at 00:00 device time, the device clock right (offset 0).
    const daily = ecs30([{ time: '00000000', date: 'FFFFFFFFFF' }])
    let d = step(esme, { kind: 'frame', bytes: command(ECS30, daily, esme, { counter: 20n }) }, T0, {
      backend,
    }).state
    expect(iso(d.billingCalendar?.next)).toBe('2026-01-06T00:00:00.000Z')
    // 21:00: ECS70 puts the device clock two hours behind (validity interval around 19:00).
    const at = utc('2026-01-05T21:00:00Z')
    const clock = {
      name: 'ECS70 Set Clock',
      invokeId: 7,
      clockBase: 5,
      presetTime: 'unspecified',
      validityIntervalStart: '2026-01-05T18:59:00Z',
      validityIntervalEnd: '2026-01-05T19:01:00Z',
    }
    const set = step(d, { kind: 'frame', bytes: command(0x0062, clock, d, { counter: 21n }) }, at, {
      backend,
    })
    expect(set.outputs.outcome).toBe('executed')
    d = set.state
    expect(d.clockOffset).toBe(-2 * 3_600_000)
    // Device midnight is now 02:00 virtual time: the next billing instant moved with the clock.
    expect(iso(d.billingCalendar?.next)).toBe('2026-01-06T02:00:00.000Z')
    const day = step(d, { kind: 'time' }, utc('2026-01-07T03:00:00Z'), { backend })
    expect(billingAlerts(day.outputs.alerts).map((a) => iso(a.at))).toEqual([
      '2026-01-06T02:00:00.000Z',
      '2026-01-07T02:00:00.000Z',
    ])
  })

  it('from the network operator: refused (0x8F30), the calendar unchanged', () => {
    const before = testDevice('ESME', { billingCalendar: { first: T0 + DAY, everyDays: 7 } })
    const bytes = command(ECS30, ecs30([{ time: '00000000', date: 'FFFFFF01FF' }]), before, {
      counter: 10n,
      from: PARTIES.networkOperator,
    })
    const r = step(before, { kind: 'frame', bytes }, T0, { backend })
    expect(r.outputs).toMatchObject({ outcome: 'rejected', reason: 'unauthorised' })
    expect(r.outputs.alerts.map((a) => a.code)).toEqual([0x8f30])
    expect(r.outputs.response).toBeUndefined()
    // Nothing but the alert counter (and the remembered next prepayment change) moves.
    const { prepaymentNext: _, ...rest } = r.state
    expect({ ...rest, alertCounter: before.alertCounter }).toEqual(before)
  })

  it('a pattern it cannot use: the error response, the calendar unchanged', () => {
    const before = testDevice('ESME', { billingCalendar: { first: T0 + DAY, everyDays: 7 } })
    for (const [i, entries] of [
      [{ time: '00000000', date: 'FFFF021EFF' }], // 30 February
      [{ time: 'FF000000', date: 'FFFFFF01FF' }], // every hour
      [],
    ].entries()) {
      const bytes = command(ECS30, ecs30(entries, 7), before, { counter: 20n + BigInt(i) })
      const r = step(before, { kind: 'frame', bytes }, T0, { backend })
      expect(r.outputs.outcome).toBe('executed')
      expect(responseView(r.outputs.response!, ECS30).view).toEqual({
        name: 'ECS30 Update Billing Calendar',
        invokeId: 7,
        result: 'hardware-fault',
      })
      expect(r.state.billingCalendar).toEqual(before.billingCalendar)
    }
  })

  it('is refused on a GSME, and survives a snapshot', () => {
    const gsme = testDevice('GSME')
    const bytes = command(ECS30, ecs30([{ time: '00000000', date: 'FFFFFF01FF' }]), gsme, { counter: 10n })
    expect(step(gsme, { kind: 'frame', bytes }, T0, { backend }).outputs.reason).toBe('wrong-device-type')
    const set = step(
      esme,
      {
        kind: 'frame',
        bytes: command(ECS30, ecs30([{ time: '00000000', date: 'FFFFFFFE07' }]), esme, { counter: 10n }),
      },
      T0,
      { backend },
    ).state
    expect(restoreDevice(snapshotDevice(set)).billingCalendar).toEqual(set.billingCalendar)
  })
})

describe('SR 6.8 on the GSME (GCS25, GCS25a)', () => {
  const gsme = testDevice('GSME')

  it('from the supplier: replaces the calendar with the billing period, and 0x8F0A comes on the 1st', () => {
    const r = step(gsme, { kind: 'frame', bytes: command(GCS25, gcs25(), gsme, { counter: 10n }) }, T0, {
      backend,
    })
    expect(r.outputs.outcome).toBe('executed')
    const { signing, view } = responseView(r.outputs.response!, GCS25)
    expect(view).toEqual({
      name: 'GCS25 Update Billing Calendar',
      sequenceNumber: 0,
      results: { billingPeriod: 'success', blockPeriod: 'success' },
    })
    // As the RTDS response: two Default Responses (to commands 9 and 1) from the Price cluster.
    expect(toHex(signing.content)).toBe('010902000700000500000B0900010700000500010B0100')
    expect(r.state.billingCalendar).toEqual({
      period: { start: utc('2026-01-01T00:00:00Z'), every: 1, unit: 'months' },
      next: utc('2026-02-01T00:00:00Z'),
    })
    const due = step(r.state, { kind: 'time' }, utc('2026-02-01T00:00:00Z'), { backend })
    const alerts = billingAlerts(due.outputs.alerts)
    expect(alerts.map((a) => iso(a.at))).toEqual(['2026-02-01T00:00:00.000Z'])
    expect(decodeFrame(alerts[0]!.frame!).signing.recipient).toBe(PARTIES.supplierA.eui)
    expect(due.state.billingCalendar?.next).toBe(utc('2026-03-01T00:00:00Z'))
  })

  it('GCS25a: every six months from 1 January', () => {
    const view = {
      ...gcs25({ billingPeriodDuration: 6, blockPeriodDuration: 6 }),
      name: 'GCS25a Update Billing Calendar (all periodicities)',
    }
    const r = step(gsme, { kind: 'frame', bytes: command(0x00d8, view, gsme, { counter: 10n }) }, T0, {
      backend,
    })
    expect(r.state.billingCalendar?.next).toBe(utc('2026-07-01T00:00:00Z'))
  })

  it('from the network operator: refused (0x8F30), the calendar unchanged', () => {
    const bytes = command(GCS25, gcs25(), gsme, { counter: 10n, from: PARTIES.networkOperator })
    const r = step(gsme, { kind: 'frame', bytes }, T0, { backend })
    expect(r.outputs).toMatchObject({ outcome: 'rejected', reason: 'unauthorised' })
    expect(r.outputs.alerts.map((a) => a.code)).toEqual([0x8f30])
    expect(r.state.billingCalendar).toBeUndefined()
    expect(r.state.counters).toEqual(gsme.counters)
  })

  it('a period it cannot use: both fail, unchanged; a block period that does not match: it alone fails', () => {
    const cases: [Partial<Record<string, Json>>, string, string][] = [
      [
        { billingPeriodDurationType: '20', blockPeriodDurationType: '20' },
        'hardware-failure',
        'hardware-failure',
      ],
      [{ blockPeriodDuration: 3 }, 'success', 'hardware-failure'],
    ]
    for (const [i, [o, billing, block]] of cases.entries()) {
      const bytes = command(GCS25, gcs25(o), gsme, { counter: 10n + BigInt(i) })
      const r = step(gsme, { kind: 'frame', bytes }, T0, { backend })
      expect(responseView(r.outputs.response!, GCS25).view).toMatchObject({
        results: { billingPeriod: billing, blockPeriod: block },
      })
      // The billing period, answered as a success, takes effect; a failed one changes nothing.
      if (billing === 'success') expect(r.state.billingCalendar).toHaveProperty('period')
      else expect(r.state.billingCalendar).toBeUndefined()
    }
  })
})

describe('provisioning a billing calendar', () => {
  it('takes every-N-days, date patterns or a period', () => {
    expect(
      testDevice('ESME', { billingCalendar: { first: T0 + DAY, everyDays: 1 } }).billingCalendar,
    ).toEqual({
      next: T0 + DAY,
      everyDays: 1,
    })
    const dates = [date('00000000', 'FFFFFF01FF')]
    expect(testDevice('ESME', { billingCalendar: { dates } }).billingCalendar?.next).toBe(
      utc('2026-02-01T00:00:00Z'),
    )
    const p = { start: utc('2025-12-15T00:00:00Z'), every: 1, unit: 'months' as const }
    expect(testDevice('GSME', { billingCalendar: { period: p } }).billingCalendar?.next).toBe(
      utc('2026-01-15T00:00:00Z'),
    )
    expect(() => testDevice('ESME', { billingCalendar: { dates: [] } })).toThrow(/dates/)
    expect(() => testDevice('GSME', { billingCalendar: { period: { ...p, every: 0 } } })).toThrow(/period/)
  })
})

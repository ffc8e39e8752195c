/**
 * DCC Schedules (SR 5.1 Create, 5.2 Read, 5.3 Delete) end to end with an emulated ESME: the DCC
 * runs the owner's scheduled read (SR 4.16 Read Active Power Import, ECS17c — one DUIS lets the
 * DCC schedule) at each due time through the whole pipeline (access control, GBCS, the ACB MAC,
 * the device). The emulated ESME executes ECS17c and answers its Active Power Import (I0, the
 * response with the run's result to the owner). The DP072 contrast:
 * the DCC re-checks every run against
 * Registration Data, so after a Change of Supplier's Supply Start Date the losing supplier's run
 * is refused with E4 while the meter's own billing-calendar alerts (0x8F0A, a device-held
 * schedule) still reach it. (That the 0x8F0A alerts keep going to the losing supplier until SR
 * 6.23 is shown in full in test/dcc-pipeline.test.ts.)
 */
import type { Eui64 } from '@smetsim/core'
import { createDevice, type DeviceState, step } from '@smetsim/device'
import { describe, expect, it } from 'vitest'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import {
  CREATE_SCHEDULE_CODE,
  createDcc,
  type DuisRequest,
  SCHEDULE_NOT_FOUND_CODES,
} from '../packages/dcc/src/dcc.ts'
import { createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import { installedCells, kaPublic } from './support.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
const MPAN = '1200000000001'
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Supplier A's commissioned ESME (billing calendar daily from T0 + 1 day) behind a DCC; B is another supplier. */
function estate() {
  let clock = T0
  let meter: DeviceState = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: 'credit',
    billingCalendar: { first: T0 + DAY, everyDays: 1 },
  })
  const outbox: Uint8Array[] = []
  const outcomes: string[] = []
  const stepMeter = (input: Parameters<typeof step>[1]) => {
    const r = step(meter, input, clock, { backend })
    meter = r.state
    if (input.kind === 'frame') outcomes.push(r.outputs.outcome ?? '')
    for (const a of r.outputs.alerts) if (a.frame) outbox.push(a.frame)
    return r
  }
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: MPAN, status: 'Commissioned', at: '2024-01-02' })
  const sat = createMemorySat({ now: () => new Date(clock) })
  const dcc = createDcc({
    users: new UserDirectory([
      { userId: A, name: 'Supplier A', roles: ['IS', 'GS'] },
      { userId: B, name: 'Supplier B', roles: ['IS', 'GS'] },
    ]),
    registration,
    inventory,
    sat,
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: (id) => (id === ESME_EUI ? kaPublic(meter) : undefined),
    userCertificates: () => undefined,
    transport: async (id, bytes) =>
      id === ESME_EUI ? stepMeter({ kind: 'frame', bytes }).outputs.response : undefined,
    now: () => clock,
    backend,
    signers: { [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend) },
  })
  /** Time passes: the meter runs (billing dates fall due), its alerts reach the DCC, then the due schedule runs. */
  const advance = async (to: number) => {
    clock = to
    stepMeter({ kind: 'time' })
    for (const frame of outbox.splice(0)) dcc.deliverAlert(ESME_EUI, frame)
    return dcc.runDueSchedules(to)
  }
  return {
    dcc,
    sat,
    registration,
    inventory,
    advance,
    outcomes,
    meter: () => meter,
    setClock: (t: number) => {
      clock = t
    },
  }
}

const scheduleRequest = (
  user: Eui64,
  counter: number,
  srv: '5.1' | '5.2' | '5.3',
  parameters: DuisRequest['parameters'] = {},
): DuisRequest => ({
  requestId: `${user}:${ESME_EUI}:${counter}`,
  role: 'IS',
  srv,
  commandVariant: 8,
  deviceType: 'ESME',
  parameters,
})

const dailyRead = (startDate: string, extra: object = {}) => ({
  scheduleFrequency: 'Daily',
  scheduleStartDate: startDate,
  scheduleExecutionStartTime: '13:00:00',
  dspScheduledServiceReference: '4.16',
  dspScheduledServiceReferenceVariant: '4.16',
  ...extra,
})

/** T0 is 2026-01-05 12:00 UTC: the day's 13:00 run is an hour on. */
const TODAY = '2026-01-05'
const TOMORROW = '2026-01-06'

describe('DCC Schedules through the pipeline', () => {
  it("runs the owner's scheduled read at each due time, on the calendar, counters never backwards", async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    const created = await e.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(TODAY)))
    expect(created).toMatchObject({
      code: 'I0',
      schedule: {
        scheduleId: 'DS000001',
        owner: A,
        role: 'IS',
        frequency: 'Daily',
        request: { srv: '4.16', deviceId: ESME_EUI },
      },
    })
    // SR 5.2: the User's schedules on the device.
    const read = await e.dcc.submit(scheduleRequest(A, 2, '5.2'))
    expect(read.code).toBe('I0')
    expect(read.schedules?.map((s) => s.scheduleId)).toEqual(['DS000001'])
    expect(e.dcc.schedulesOf(A).map((s) => s.nextDue)).toEqual([new Date(T0 + HOUR).toISOString()])

    // Nothing due yet.
    expect(await e.advance(T0 + HOUR - 1)).toEqual([])
    // A's own command to the meter with a huge counter: later runs must count above it.
    const own = BigInt(T0 + DAY) * 1024n * 2n
    expect(
      (
        await e.dcc.submit({
          requestId: `${A}:${ESME_EUI}:${own}`,
          role: 'IS',
          srv: '7.4',
          commandVariant: 1,
          deviceType: 'ESME',
        })
      ).code,
    ).toBe('I0')
    // Two runs due (today and tomorrow at 13:00) when the caller catches up.
    const runs = await e.advance(T0 + DAY + HOUR)
    expect(runs.map((r) => [r.scheduleId, r.run, r.dueAt, r.result.code])).toEqual([
      ['DS000001', 1, new Date(T0 + HOUR).toISOString(), 'I0'],
      ['DS000001', 2, new Date(T0 + DAY + HOUR).toISOString(), 'I0'],
    ])
    // The meter authenticated each (MAC, counter, A's role for ECS17c) and answered its power.
    expect(e.outcomes.slice(-2)).toEqual(['executed', 'executed'])
    for (const run of runs)
      expect(run.result.response?.payload.useCase).toMatchObject({
        name: 'ECS17c Read Active Power Import',
        activePowerImport: expect.any(Number),
        result: 'success',
      })
    const counters = runs.map((r) => BigInt(r.requestId.split(':')[2]!))
    expect(counters[0]! > own && counters[1]! > counters[0]!).toBe(true)
    expect(e.meter().counters.supplier).toBe(counters[1])
    // A run that succeeds raises no CommandFailure DCC Alert.
    expect(e.dcc.dccAlertsFor(A)).toEqual([])
    // Delivered to the owner; in the SAT as requests, decisions and responses of A.
    expect(e.dcc.scheduleResultsFor(A).map((r) => r.run)).toEqual([1, 2])
    expect(e.dcc.scheduleResultsFor(B)).toEqual([])
    for (const run of runs) {
      const records = e.sat.query({ requestId: run.requestId })
      expect(records.map((r) => [r.kind, r.code ?? null])).toEqual([
        ['request', null],
        ['decision', 'I99'],
        ['response', 'I0'],
      ])
      expect(records[0]!.detail).toMatchObject({ schedule: { scheduleId: 'DS000001', run: run.run } })
      expect(records[1]!.detail).toMatchObject({ checkedAt: run.dueAt })
      expect(records.slice(0, 3).every((r) => r.user === A && r.srv === '4.16')).toBe(true)
    }
    // A run happens once: calling again at the same time runs nothing.
    expect(await e.advance(T0 + DAY + HOUR)).toEqual([])
    expect(e.dcc.schedulesOf(A)[0]).toMatchObject({ nextRun: 3 })
    expect(e.sat.verify()).toEqual({ ok: true })
  })

  it('reads and deletes only for the owner; another User’s schedule is answered as an unknown one', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    expect((await e.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(TODAY)))).code).toBe('I0')

    const byB = await e.dcc.submit(scheduleRequest(B, 1, '5.3', { scheduleId: 'DS000001' }))
    const unknownByB = await e.dcc.submit(scheduleRequest(B, 4, '5.3', { scheduleId: 'DS000042' }))
    expect(byB.code).toBe(SCHEDULE_NOT_FOUND_CODES['5.3'])
    // Same code, same wording: B cannot tell A's schedule from none.
    expect(byB.reason?.replace('DS000001', 'X')).toBe(unknownByB.reason?.replace('DS000042', 'X'))
    const readByB = await e.dcc.submit(scheduleRequest(B, 2, '5.2', { dspScheduleId: 1 }))
    expect(readByB.code).toBe(SCHEDULE_NOT_FOUND_CODES['5.2'])
    expect((await e.dcc.submit(scheduleRequest(B, 3, '5.2'))).schedules).toEqual([])

    expect((await e.dcc.submit(scheduleRequest(A, 3, '5.2', { scheduleId: 'DS000042' }))).code).toBe(
      'E050201',
    )
    expect((await e.dcc.submit(scheduleRequest(A, 4, '5.3'))).code).toBe('E050301')

    // The schedule still runs, until its owner deletes it (by DUIS's DSPScheduleID here).
    expect((await e.advance(T0 + HOUR)).map((r) => r.run)).toEqual([1])
    const deleted = await e.dcc.submit(scheduleRequest(A, 5, '5.3', { dspScheduleId: 1 }))
    expect(deleted).toMatchObject({ code: 'I0', schedule: { scheduleId: 'DS000001' } })
    expect(e.dcc.schedulesOf(A)).toEqual([])
    expect(await e.advance(T0 + 5 * DAY)).toEqual([])
    // Every refusal is in the SAT; the SAT (not the answer) says it was another User's.
    const refusals = e.sat.query({ kind: 'decision' }).filter((r) => r.code !== 'I99')
    expect(refusals.map((r) => r.code)).toEqual(['E050301', 'E050301', 'E050201', 'E050201', 'E050301'])
    expect(refusals[0]!.detail).toMatchObject({ actually: 'another User’s' })
  })

  it('creation: only what DUIS lets the DCC schedule, and what the role may do there', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    // 4.1.1 and a Critical SR are not DCC-schedulable in DUIS.
    for (const srv of ['4.1.1', '7.2']) {
      const r = await e.dcc.submit(
        scheduleRequest(A, srv === '7.2' ? 11 : 1, '5.1', {
          ...dailyRead(TODAY),
          dspScheduledServiceReference: srv.split('.').slice(0, 2).join('.'),
          dspScheduledServiceReferenceVariant: srv,
        }),
      )
      expect(r).toMatchObject({
        code: CREATE_SCHEDULE_CODE,
        reason: expect.stringMatching(/lets the DCC schedule only/),
      })
    }
    // An hourly schedule is not a DUIS ScheduleFrequency.
    const hourly = await e.dcc.submit(
      scheduleRequest(A, 2, '5.1', dailyRead(TODAY, { scheduleFrequency: 'Hourly' })),
    )
    expect(hourly).toMatchObject({ code: 'E050101', reason: expect.stringMatching(/scheduleFrequency/) })
    // A role the scheduled SRV does not allow: 4.6.2 (export daily read log) is for ES only.
    const e2 = await e.dcc.submit(
      scheduleRequest(
        A,
        3,
        '5.1',
        dailyRead(TODAY, {
          dspScheduledServiceReference: '4.6',
          dspScheduledServiceReferenceVariant: '4.6.2',
        }),
      ),
    )
    expect(e2).toMatchObject({
      code: 'E2',
      reason: expect.stringMatching(/may not use the scheduled SRV 4.6.2/),
    })
    // Not the registered supplier: E4 for SR 5.1 itself.
    expect((await e.dcc.submit(scheduleRequest(B, 3, '5.1', dailyRead(TODAY)))).code).toBe('E4')
    // A start date in the past.
    expect((await e.dcc.submit(scheduleRequest(A, 4, '5.1', dailyRead('2026-01-04')))).code).toBe('E050101')
    // Not a Non-Device command variant.
    expect(
      (await e.dcc.submit({ ...scheduleRequest(A, 5, '5.1', dailyRead(TODAY)), commandVariant: 1 })).code,
    ).toBe('E12')
    expect(e.dcc.schedulesOf(A)).toEqual([])
    // At most 99 per User and device (DUIS ReadSchedule answers at most 99).
    for (let i = 0; i < 99; i++)
      expect((await e.dcc.submit(scheduleRequest(A, 100 + i, '5.1', dailyRead(TOMORROW)))).code).toBe('I0')
    const over = await e.dcc.submit(scheduleRequest(A, 300, '5.1', dailyRead(TOMORROW)))
    expect(over).toMatchObject({ code: 'E050101', reason: expect.stringMatching(/at most 99/) })
  })

  it('DP072 contrast: after the Supply Start Date the losing supplier’s DCC schedule run gets E4, while the meter’s billing alerts still reach it', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    expect((await e.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(TOMORROW)))).code).toBe('I0')
    const billing = () => e.dcc.alertsFor(A).filter((a) => a.alertCode === '8F0A').length

    // Day 1: A is registered: its billing alert arrives and its scheduled read reaches the meter.
    const day1 = await e.advance(T0 + DAY + HOUR)
    expect(day1.map((r) => r.result.code)).toEqual(['I0'])
    expect(e.outcomes.at(-1)).toBe('executed')
    expect(billing()).toBe(1)
    // Registration Data: B from a Supply Start Date on day 2 (no SR 6.23 yet: the meter still trusts A).
    const ssd = T0 + 2 * DAY
    e.registration.changeOfSupplier(MPAN, 'BBBB', new Date(ssd))
    const day2 = await e.advance(T0 + 2 * DAY + HOUR)
    expect(day2).toHaveLength(1)
    expect(day2[0]!.result).toMatchObject({
      code: 'E4',
      reason: expect.stringMatching(/not the registered supplier/),
    })
    expect(day2[0]!.result.response).toBeUndefined()
    // The device-held schedule does not care: the meter's 0x8F0A still reaches A (DP072).
    expect(billing()).toBe(2)
    expect(e.dcc.alertCounters(A).toUnregisteredSupplier).toBe(1)

    // The refusal is A's result, and in the SAT as A's E4 judged at the run's due time.
    expect(e.dcc.scheduleResultsFor(A).map((r) => r.result.code)).toEqual(['I0', 'E4'])
    const decision = e.sat.query({ requestId: day2[0]!.requestId, kind: 'decision' })
    expect(decision.map((r) => [r.user, r.code])).toEqual([[A, 'E4']])
    expect(decision[0]!.detail).toMatchObject({ step: 'eligibility', eligibleAt: day2[0]!.dueAt })
    // Nothing reached the meter: no response record for the run.
    expect(e.sat.query({ requestId: day2[0]!.requestId, kind: 'response' })).toEqual([])

    // A run that was due before the Supply Start Date but is only run later is judged at its due time.
    const late = estate()
    late.setClock(T0 + 1000)
    await late.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(TOMORROW)))
    late.registration.changeOfSupplier(MPAN, 'BBBB', new Date(ssd))
    const caughtUp = await late.advance(T0 + 3 * DAY)
    expect(caughtUp.map((r) => [r.run, r.result.code])).toEqual([
      [1, 'I0'],
      [2, 'E4'],
    ])

    // A can still read and delete its own schedule after losing the registration.
    expect((await e.dcc.submit(scheduleRequest(A, 2, '5.2'))).schedules?.map((s) => s.scheduleId)).toEqual([
      'DS000001',
    ])
    expect((await e.dcc.submit(scheduleRequest(A, 3, '5.3', { scheduleId: 'DS000001' }))).code).toBe('I0')
    expect(e.sat.verify()).toEqual({ ok: true })
  })
})

describe('SR 5.1–5.3 in DUIS’s form: the RequestID targets the DCC, the body’s DeviceID names the device', () => {
  // DUIS XSD DSPSchedule (CreateSchedule): DeviceID, minOccurs 1; ReadSchedule / DeleteSchedule: a
  // choice of DSPScheduleID or DeviceID. The device access control judges is the DeviceID.
  const viaDcc = (
    user: Eui64,
    counter: number,
    srv: '5.1' | '5.2' | '5.3',
    deviceId: string,
    parameters = {},
  ) => ({
    ...scheduleRequest(user, counter, srv, parameters),
    requestId: `${user}:${ACB.eui}:${counter}`,
    deviceId,
  })

  it('creates, reads and deletes the schedule on the named device', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    const created = await e.dcc.submit(viaDcc(A, 1, '5.1', ESME_EUI, dailyRead(TOMORROW)))
    expect(created).toMatchObject({
      code: 'I0',
      schedule: { owner: A, request: { srv: '4.16', deviceId: ESME_EUI } },
    })
    const read = await e.dcc.submit(viaDcc(A, 2, '5.2', ESME_EUI))
    expect(read.schedules?.map((s) => s.request.deviceId)).toEqual([ESME_EUI])
    const deleted = await e.dcc.submit(viaDcc(A, 3, '5.3', ESME_EUI, { dspScheduleId: 1 }))
    expect(deleted.code).toBe('I0')
    expect(e.dcc.schedulesOf(A)).toEqual([])
  })

  it('refuses a DeviceID that is no EUI-64, an unknown device and a missing DeviceID with E19; nothing is created', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    const bad = await e.dcc.submit(viaDcc(A, 1, '5.1', 'not-a-device', dailyRead(TOMORROW)))
    expect([bad.code, bad.reason]).toEqual(['E19', "DeviceID 'not-a-device' is not a Device ID (EUI-64)"])
    const unknown = await e.dcc.submit(viaDcc(A, 2, '5.1', '00DB1234567890FF', dailyRead(TOMORROW)))
    expect(unknown.code).toBe('E19')
    // Without a DeviceID the RequestID's target is the device: the DCC is none.
    const { deviceId: _, ...noDevice } = viaDcc(A, 3, '5.1', ESME_EUI, dailyRead(TOMORROW))
    expect((await e.dcc.submit(noDevice)).code).toBe('E19')
    expect(e.dcc.schedulesOf(A)).toEqual([])
  })

  it('judges eligibility on the named device: a supplier not registered for it gets E4, and cannot read the owner’s schedules', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    expect((await e.dcc.submit(viaDcc(A, 1, '5.1', ESME_EUI, dailyRead(TOMORROW)))).code).toBe('I0')
    expect((await e.dcc.submit(viaDcc(B, 1, '5.1', ESME_EUI, dailyRead(TOMORROW)))).code).toBe('E4')
    const read = await e.dcc.submit(viaDcc(B, 2, '5.2', ESME_EUI))
    expect(read.schedules ?? []).toEqual([])
    expect(e.dcc.schedulesOf(B)).toEqual([])
  })

  it('5.2 / 5.3 naming only a DSPScheduleID: the device, type and role are the User’s schedule’s; none of the User’s is the not-found code, recorded', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    expect((await e.dcc.submit(viaDcc(A, 1, '5.1', ESME_EUI, dailyRead(TOMORROW)))).code).toBe('I0')
    const { deviceId: _, ...byId } = viaDcc(A, 2, '5.2', ESME_EUI, { dspScheduleId: 1 })
    // The DUIS layer cannot know the device type or role here (ED is none of A's): the schedule's are taken.
    const read = await e.dcc.submit({ ...byId, deviceType: 'unknown', role: 'ED' })
    expect(read).toMatchObject({ code: 'I0' })
    expect(read.schedules?.map((s) => [s.number, s.request.deviceId])).toEqual([[1, ESME_EUI]])
    expect(e.sat.query({ requestId: byId.requestId, kind: 'request' })[0]).toMatchObject({ device: ESME_EUI })
    // Another User's schedule, or none: E050201 / E050301 (the same answer), in the SAT, nothing deleted.
    for (const [user, counter, srv, id] of [
      [B, 3, '5.2', 1],
      [A, 4, '5.2', 9],
      [B, 5, '5.3', 1],
    ] as const) {
      const { deviceId: _d, ...r } = viaDcc(user, counter, srv, ESME_EUI, { dspScheduleId: id })
      const answer = await e.dcc.submit(r)
      expect(answer.code).toBe(srv === '5.2' ? 'E050201' : 'E050301')
      expect(e.sat.query({ requestId: r.requestId }).map((x) => [x.kind, x.code ?? null])).toEqual([
        ['request', null],
        ['decision', answer.code],
      ])
    }
    expect(e.dcc.schedulesOf(A)).toHaveLength(1)
    const { deviceId: _e, ...del } = viaDcc(A, 6, '5.3', ESME_EUI, { dspScheduleId: 1 })
    expect((await e.dcc.submit(del)).code).toBe('I0')
    expect(e.dcc.schedulesOf(A)).toEqual([])
  })

  it('takes the RequestID target for other SRVs whatever deviceId says', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    const r = await e.dcc.submit({ ...viaDcc(A, 1, '5.1', ESME_EUI), srv: '7.4', commandVariant: 1 })
    expect(r.code).toBe('E19')
  })
})

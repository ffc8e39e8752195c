/**
 * DCC Schedules (SR 5.1 Create, 5.2 Read, 5.3 Delete) end to end with an emulated ESME: the DCC
 * runs the owner's scheduled read at each due time through the whole pipeline (access control,
 * GBCS, the ACB MAC, the device), and — the DP072 contrast — re-checks every run against
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
  createDcc,
  type DuisRequest,
  NOT_SCHEDULE_OWNER_CODE,
  UNKNOWN_SCHEDULE_CODE,
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
  const stepMeter = (input: Parameters<typeof step>[1]) => {
    const r = step(meter, input, clock, { backend })
    meter = r.state
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

const dailyRead = (start: number, extra: object = {}) => ({
  serviceRequest: { srv: '4.1.1', commandVariant: 1 },
  start: new Date(start).toISOString(),
  repeatIntervalMs: DAY,
  ...extra,
})

describe('DCC Schedules through the pipeline', () => {
  it("runs the owner's scheduled read at each due time, with the meter's data", async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    const created = await e.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(T0 + HOUR)))
    expect(created).toMatchObject({
      code: 'I0',
      schedule: {
        scheduleId: 'DS000001',
        owner: A,
        role: 'IS',
        request: { srv: '4.1.1', deviceId: ESME_EUI },
      },
    })
    // SR 5.2: the User's schedules on the device.
    const read = await e.dcc.submit(scheduleRequest(A, 2, '5.2'))
    expect(read.code).toBe('I0')
    expect(read.schedules?.map((s) => s.scheduleId)).toEqual(['DS000001'])
    expect(e.dcc.schedulesOf(A).map((s) => s.nextDue)).toEqual([new Date(T0 + HOUR).toISOString()])

    // Nothing due yet.
    expect(await e.advance(T0 + HOUR - 1)).toEqual([])
    // Two runs due (T0 + 1 h and T0 + 1 d + 1 h) when the caller catches up.
    const runs = await e.advance(T0 + DAY + HOUR)
    expect(runs.map((r) => [r.scheduleId, r.run, r.dueAt, r.result.code])).toEqual([
      ['DS000001', 1, new Date(T0 + HOUR).toISOString(), 'I0'],
      ['DS000001', 2, new Date(T0 + DAY + HOUR).toISOString(), 'I0'],
    ])
    for (const run of runs) {
      expect(run.result.response).toMatchObject({ cra: 'response', originator: ESME_EUI, recipient: A })
      expect(run.result.response?.payload.useCase).toMatchObject({
        name: expect.stringMatching(/^ECS17b /),
        result: 'success',
      })
    }
    // Each run its own RequestID; the meter took each as a new command from A.
    expect(new Set(runs.map((r) => r.requestId)).size).toBe(2)
    expect(e.meter().counters.supplier).toBe(BigInt(runs[1]!.requestId.split(':')[2]!))
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
      expect(records.every((r) => r.user === A && r.srv === '4.1.1')).toBe(true)
    }
    // A run happens once: calling again at the same time runs nothing.
    expect(await e.advance(T0 + DAY + HOUR)).toEqual([])
    expect(e.dcc.schedulesOf(A)[0]).toMatchObject({ nextRun: 3 })
    expect(e.sat.verify()).toEqual({ ok: true })
  })

  it('deletes only for the owner; unknown schedule ids are refused', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    expect((await e.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(T0 + HOUR)))).code).toBe('I0')

    const byB = await e.dcc.submit(scheduleRequest(B, 1, '5.3', { scheduleId: 'DS000001' }))
    expect(byB).toMatchObject({
      code: NOT_SCHEDULE_OWNER_CODE,
      reason: expect.stringMatching(/another User/),
    })
    const readByB = await e.dcc.submit(scheduleRequest(B, 2, '5.2', { scheduleId: 'DS000001' }))
    expect(readByB.code).toBe(NOT_SCHEDULE_OWNER_CODE)
    expect((await e.dcc.submit(scheduleRequest(B, 3, '5.2'))).schedules).toEqual([])

    const unknown = await e.dcc.submit(scheduleRequest(A, 2, '5.3', { scheduleId: 'DS000042' }))
    expect(unknown).toMatchObject({ code: UNKNOWN_SCHEDULE_CODE, reason: expect.stringMatching(/DS000042/) })
    expect((await e.dcc.submit(scheduleRequest(A, 3, '5.2', { scheduleId: 'DS000042' }))).code).toBe(
      UNKNOWN_SCHEDULE_CODE,
    )
    expect((await e.dcc.submit(scheduleRequest(A, 4, '5.3'))).code).toBe('EPARAMETERS')

    // The schedule still runs, until its owner deletes it.
    expect((await e.advance(T0 + HOUR)).map((r) => r.result.code)).toEqual(['I0'])
    const deleted = await e.dcc.submit(scheduleRequest(A, 5, '5.3', { scheduleId: 'DS000001' }))
    expect(deleted).toMatchObject({ code: 'I0', schedule: { scheduleId: 'DS000001' } })
    expect(e.dcc.schedulesOf(A)).toEqual([])
    expect(await e.advance(T0 + 5 * DAY)).toEqual([])
    // Every refusal is in the SAT.
    expect(
      e.sat
        .query({ kind: 'decision' })
        .map((r) => r.code)
        .filter((c) => c !== 'I99'),
    ).toEqual([
      NOT_SCHEDULE_OWNER_CODE,
      NOT_SCHEDULE_OWNER_CODE,
      UNKNOWN_SCHEDULE_CODE,
      UNKNOWN_SCHEDULE_CODE,
      'EPARAMETERS',
    ])
  })

  it('creation checks the scheduled request would be permitted', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    // A Critical SR cannot be scheduled (nobody is there to sign each run).
    const critical = await e.dcc.submit(
      scheduleRequest(A, 1, '5.1', {
        ...dailyRead(T0 + HOUR),
        serviceRequest: { srv: '7.2', commandVariant: 4 },
      }),
    )
    expect(critical).toMatchObject({
      code: 'EPARAMETERS',
      reason: expect.stringMatching(/cannot be scheduled/),
    })
    // A role the scheduled SRV does not allow.
    const e2 = await e.dcc.submit({
      ...scheduleRequest(A, 2, '5.1', { ...dailyRead(T0 + HOUR), serviceRequest: { srv: '4.18' } }),
      role: 'ES',
    })
    expect(e2.code).toBe('E1') // A does not hold ES at all: access control for 5.1 itself
    // Not the registered supplier: E4 for SR 5.1 itself.
    expect((await e.dcc.submit(scheduleRequest(B, 3, '5.1', dailyRead(T0 + HOUR)))).code).toBe('E4')
    // Bad schedule parameters.
    const bad = await e.dcc.submit(
      scheduleRequest(A, 4, '5.1', dailyRead(T0 + HOUR, { repeatIntervalMs: 10 })),
    )
    expect(bad).toMatchObject({ code: 'EPARAMETERS', reason: expect.stringMatching(/repeatIntervalMs/) })
    // Not a Non-Device command variant.
    expect(
      (await e.dcc.submit({ ...scheduleRequest(A, 5, '5.1', dailyRead(T0 + HOUR)), commandVariant: 1 })).code,
    ).toBe('E12')
    expect(e.dcc.schedulesOf(A)).toEqual([])
  })

  it('DP072 contrast: after the Supply Start Date the losing supplier’s DCC schedule run gets E4, while the meter’s billing alerts still reach it', async () => {
    const e = estate()
    e.setClock(T0 + 1000)
    expect((await e.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(T0 + DAY + HOUR)))).code).toBe('I0')
    const billing = () => e.dcc.alertsFor(A).filter((a) => a.alertCode === '8F0A').length

    // Day 1: A is registered: its billing alert and its scheduled read both arrive.
    const day1 = await e.advance(T0 + DAY + HOUR)
    expect(day1.map((r) => r.result.code)).toEqual(['I0'])
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
    await late.dcc.submit(scheduleRequest(A, 1, '5.1', dailyRead(T0 + DAY + HOUR)))
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

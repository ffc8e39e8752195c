/**
 * The DCC's Service Request pipeline end to end with emulated devices: the transport steps an
 * ESME (or GSME) of @smetsim/device with the GBCS the DCC sends, and the device's alerts come
 * back through `deliverAlert`.
 *
 * Change of Supplier: supplier A commands its meter through the DCC; Registration Data moves the
 * MPAN to supplier B from a Supply Start Date; until B sends SR 6.23 the meter's billing-calendar
 * alerts still go to A (DP072: they are critical, so they are delivered and counted even with the
 * remedy on, which blocks non-critical alerts only);
 * after 6.23 A's Critical requests get E4 at the DCC, a command built by hand past the DCC is
 * refused by the device, B's commands work, and the billing alerts reach B.
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import type { Eui64 } from '@smetsim/core'
import { createDevice, type DeviceState, step } from '@smetsim/device'
import { decodeFrame, encodeSignedFrame } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import { createDcc, type DuisRequest } from '../packages/dcc/src/dcc.ts'
import { constructCommand, createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import {
  ACB,
  backend,
  ESME_EUI,
  GSME_EUI,
  ORG_CA,
  PARTIES,
  type Party,
  privateRef,
  T0,
} from '../packages/dcc/src/gbcs/testing.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import { installedCells, kaPublic } from './support.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
const MPAN = '1200000000001'
const MPRN = '7000000001'
const DAY = 86_400_000
/** Supplier B's Supply Start Date: between the meter's second and third billing dates. */
const SSD = T0 + 2 * DAY + 12 * 3_600_000

/** A DCC over emulated devices: the transport steps the device; its alerts go back to the DCC. */
function estate(
  o: { blockAlertsToUnregisteredSuppliers?: boolean; esmeStatus?: 'InstalledNotCommissioned' } = {},
) {
  let clock = T0
  const devices = new Map<Eui64, DeviceState>()
  devices.set(
    ESME_EUI,
    createDevice({
      type: 'ESME',
      eui: ESME_EUI,
      cells: installedCells(),
      now: T0,
      paymentMode: 'credit',
      billingCalendar: { first: T0 + DAY, everyDays: 1 },
    }),
  )
  devices.set(GSME_EUI, createDevice({ type: 'GSME', eui: GSME_EUI, cells: installedCells(), now: T0 }))
  const outbox: { deviceId: Eui64; frame: Uint8Array }[] = []
  const stepDevice = (id: Eui64, input: Parameters<typeof step>[1]) => {
    const r = step(devices.get(id)!, input, clock, { backend })
    devices.set(id, r.state)
    for (const a of r.outputs.alerts) if (a.frame) outbox.push({ deviceId: id, frame: a.frame })
    return r
  }

  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('AGAS', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  registration.registerSupplier(MPRN, 'AGAS', '2024-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({
    deviceId: ESME_EUI,
    type: 'ESME',
    mpxn: MPAN,
    status: o.esmeStatus ?? 'Commissioned',
    at: '2024-01-02',
  })
  inventory.add({ deviceId: GSME_EUI, type: 'GSME', mpxn: MPRN, status: 'Commissioned', at: '2024-01-02' })
  const sat = createMemorySat({ now: () => new Date(clock) })
  const certificates = (p: Party) => ({
    digitalSigning: p.ds.certificate.raw,
    keyAgreement: p.ka.certificate.raw,
    ...(p.pp && { prepaymentTopUp: p.pp.certificate.raw }),
    certificationPath: [ORG_CA.certificate.raw],
  })

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
    deviceKeyAgreement: (id) => {
      const d = devices.get(id)
      return d && kaPublic(d)
    },
    userCertificates: (id) =>
      id === A ? certificates(PARTIES.supplierA) : id === B ? certificates(PARTIES.supplierB) : undefined,
    transport: async (id, bytes) => stepDevice(id, { kind: 'frame', bytes }).outputs.response,
    now: () => clock,
    backend,
    // A signs in-process; B uses the CV4/CV5 round trip.
    signers: { [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend) },
    ...(o.blockAlertsToUnregisteredSuppliers && { blockAlertsToUnregisteredSuppliers: true }),
  })

  /** Device alerts raised so far go to the DCC. */
  const flushAlerts = () => {
    for (const { deviceId, frame } of outbox.splice(0)) dcc.deliverAlert(deviceId, frame)
  }
  /** Time passes: the devices run (billing dates fall due) and their alerts reach the DCC. */
  const advance = (to: number) => {
    clock = to
    for (const id of devices.keys()) stepDevice(id, { kind: 'time' })
    flushAlerts()
  }
  /** A request through the DCC; B's Critical requests are signed by B after CV4. */
  const submit = async (request: DuisRequest) => {
    const first = await dcc.submit(request)
    const result =
      first.awaitingSignature && first.preCommand
        ? await dcc.submitSigned(
            request.requestId,
            encodeSignedFrame(
              decodeFrame(first.preCommand).signing,
              privateRef(PARTIES.supplierB.ds),
              backend,
            ),
          )
        : first
    flushAlerts()
    return result
  }
  const billingAlerts = (user: Eui64) => dcc.alertsFor(user).filter((a) => a.alertCode === '8F0A').length
  return {
    dcc,
    sat,
    registration,
    inventory,
    devices,
    submit,
    advance,
    billingAlerts,
    stepDevice,
    setClock: (t: number) => {
      clock = t
    },
  }
}

const request = (
  originator: Eui64,
  counter: number,
  srv: string,
  o: { deviceType?: 'ESME' | 'GSME'; parameters?: DuisRequest['parameters'] } = {},
): DuisRequest => {
  const deviceType = o.deviceType ?? 'ESME'
  return {
    requestId: `${originator}:${deviceType === 'ESME' ? ESME_EUI : GSME_EUI}:${counter}`,
    role: deviceType === 'ESME' ? 'IS' : 'GS',
    srv,
    commandVariant: ['6.23', '7.4', '4.1.1', '4.3'].includes(srv) ? 1 : 4,
    deviceType,
    ...(o.parameters && { parameters: o.parameters }),
  }
}

describe('the DCC pipeline with emulated devices', () => {
  it("supplier A's SR 7.2, 7.3 and 1.6 are executed on an ESME and a GSME", async () => {
    const e = estate()
    for (const deviceType of ['ESME', 'GSME'] as const) {
      const id = deviceType === 'ESME' ? ESME_EUI : GSME_EUI
      const disable = await e.submit(request(A, 101, '7.2', { deviceType }))
      expect(disable.code).toBe('I0')
      expect(e.devices.get(id)!.supply).toBe('disabled')
      const arm = await e.submit(request(A, 102, '7.3', { deviceType }))
      expect(arm).toMatchObject({ code: 'I0', response: { cra: 'response', originator: id, recipient: A } })
      expect(e.devices.get(id)!.supply).toBe('armed')
      const mode = await e.submit(
        request(A, 103, '1.6', {
          deviceType,
          parameters: { paymentMode: 'prepayment', disablementThreshold: -250 },
        }),
      )
      expect(mode.code).toBe('I0')
      expect(e.devices.get(id)!.paymentMode).toBe('prepayment')
      const status = await e.submit(request(A, 104, '7.4', { deviceType }))
      expect(status.response?.payload.useCase).toMatchObject({
        name: expect.stringMatching(/Read Supply Status/),
      })
    }
    // Every request: request, decision and response records, chained.
    expect(e.sat.query({ kind: 'response' }).map((r) => r.code)).toEqual(Array(8).fill('I0'))
    expect(e.sat.verify()).toEqual({ ok: true })
  })

  for (const blocking of [false, true])
    it(`Change of Supplier with SR 6.23 (DP072 remedy ${blocking ? 'on' : 'off'})`, async () => {
      const e = estate({ blockAlertsToUnregisteredSuppliers: blocking })
      e.setClock(T0 + 1000)
      expect((await e.submit(request(A, 201, '7.2'))).code).toBe('I0')

      // The first billing date: A is the registered supplier.
      e.advance(T0 + DAY)
      expect(e.billingAlerts(A)).toBe(1)

      // Registration Data: B from the Supply Start Date.
      e.registration.changeOfSupplier(MPAN, 'BBBB', new Date(SSD))
      e.advance(T0 + 2 * DAY)
      expect(e.billingAlerts(A)).toBe(2)
      expect((await e.submit(request(A, 202, '7.3'))).code).toBe('I0') // before the SSD, A may

      // After the SSD, before 6.23: the meter still sends its billing alerts to A (DP072). They are
      // critical, so even the DP072 remedy (which blocks non-critical alerts only) lets them through;
      // they are counted as going to a supplier no longer registered.
      e.advance(T0 + 3 * DAY)
      expect(e.billingAlerts(A)).toBe(3)
      expect(e.dcc.alertCounters(A)).toMatchObject({ toUnregisteredSupplier: 1, blocked: 0 })
      expect(e.billingAlerts(B)).toBe(0)
      // A may no longer send Critical commands through the DCC.
      const refused = await e.submit(request(A, 203, '7.1'))
      expect(refused.code).toBe('E4')
      expect(e.devices.get(ESME_EUI)!.supply).toBe('armed')

      // B sends SR 6.23: the CoS Party replaces the supplier cells.
      e.setClock(T0 + 3 * DAY + 3_600_000)
      const cos = await e.submit(request(B, 500, '6.23'))
      expect(cos.code).toBe('I0')
      expect(cos.response?.payload.useCase).toMatchObject({
        executionOutcome: {
          replacementOutcomes: [
            { statusCode: 'success' },
            { statusCode: 'success' },
            { statusCode: 'success' },
          ],
        },
      })
      const meter = e.devices.get(ESME_EUI)!
      expect(meter.cells.supplierDs?.eui).toBe(B)
      expect(meter.counters.supplier).toBe(500n) // the floor: B's RequestID counter
      expect(cos.dccAlerts?.map((a) => [a.type, a.recipient])).toEqual([
        ['SecurityCredentialsUpdated', B],
        ['ChangeOfSupplier', A],
      ])
      expect(e.dcc.dccAlertsFor(A).map((a) => a.type)).toEqual(['ChangeOfSupplier'])
      // The meter's own 0x8F70 (credentials updated) went to its new supplier.
      expect(e.dcc.alertsFor(B).map((a) => a.alertCode)).toContain('8F70')

      // A at the DCC: E4. A past the DCC (built by hand, MACed as the ACB would): refused by the meter.
      expect((await e.submit(request(A, 204, '7.1'))).code).toBe('E4')
      const byHand = constructCommand(
        { srv: '7.1', target: ESME_EUI, deviceType: 'ESME' },
        {
          originator: A,
          counter: 9000n,
          signer: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend),
          acb: ACB,
          deviceKaPublic: kaPublic(meter),
        },
        backend,
      )
      const direct = e.stepDevice(ESME_EUI, { kind: 'frame', bytes: byHand })
      expect(direct.outputs).toMatchObject({ outcome: 'rejected', reason: 'unknown-originator' })
      expect(e.devices.get(ESME_EUI)!.supply).toBe('armed')

      // B's Critical command (CV4/CV5) works.
      const enable = await e.submit(request(B, 501, '7.1'))
      expect(enable.code).toBe('I0')
      expect(e.devices.get(ESME_EUI)!.supply).toBe('enabled')

      // The next billing date: the alert reaches B, not A.
      const aBefore = e.billingAlerts(A)
      e.advance(T0 + 4 * DAY)
      expect(e.billingAlerts(B)).toBe(1)
      expect(e.billingAlerts(A)).toBe(aBefore)
      expect(e.dcc.alertCounters(A).toUnregisteredSupplier).toBe(1)
      expect(e.sat.verify()).toEqual({ ok: true })
      // Their DCCAlertCodes are not known to us: recorded by type, with no code.
      expect(
        e.sat.query({ kind: 'dccAlert' }).map((r) => [r.user, r.code, (r.detail as { type: string }).type]),
      ).toEqual([
        [B, undefined, 'SecurityCredentialsUpdated'],
        [A, undefined, 'ChangeOfSupplier'],
      ])
    })

  it('SR 6.23 future-dated: acknowledged (I99), completed when the meter actions it (0x8F70, 0x8F66)', async () => {
    const e = estate()
    e.registration.changeOfSupplier(MPAN, 'BBBB', new Date(SSD))
    e.setClock(SSD + 1000)
    const at = SSD + DAY
    const id = `${B}:${ESME_EUI}:500`
    const ack = await e.submit({
      ...request(B, 500, '6.23'),
      parameters: { executionDateTime: new Date(at).toISOString() },
    })
    expect(ack).toMatchObject({ code: 'I99', futureDated: { executionDateTime: new Date(at).toISOString() } })
    // Not yet: the meter holds the command and still trusts A.
    expect(e.devices.get(ESME_EUI)!.cells.supplierDs?.eui).toBe(A)
    expect(e.dcc.dccAlertsFor(B)).toEqual([])
    e.advance(at + 1000)
    expect(e.devices.get(ESME_EUI)!.cells.supplierDs?.eui).toBe(B)
    // The meter's outcome alerts complete the request: SAT response with the outcome, DCC Alerts.
    expect(e.sat.query({ requestId: id, kind: 'response' }).map((r) => r.code)).toEqual(['I99', '8F66'])
    expect(e.sat.query({ requestId: id, kind: 'response' })[1]!.detail).toMatchObject({
      credentialsUpdated: true,
    })
    expect(e.dcc.dccAlertsFor(B).map((a) => [a.type, a.requestId])).toEqual([
      ['SecurityCredentialsUpdated', id],
    ])
    expect(e.dcc.dccAlertsFor(A).map((a) => a.type)).toEqual(['ChangeOfSupplier'])
    expect(e.sat.verify()).toEqual({ ok: true })
  })

  it('SR 8.1.1 moves the SMI status to Commissioned when the meter sets its clock; not twice', async () => {
    const e = estate({ esmeStatus: 'InstalledNotCommissioned' })
    // Before commissioning, an SR for a commissioned device is refused on its SMI status.
    expect((await e.submit(request(A, 700, '7.4'))).code).toBe('E5')
    const commission = await e.submit(request(A, 701, '8.1.1'))
    expect(commission.code).toBe('I0')
    expect(e.inventory.get(ESME_EUI)?.status).toBe('Commissioned')
    expect(e.sat.query({ requestId: `${A}:${ESME_EUI}:701`, kind: 'decision' }).at(-1)?.detail).toMatchObject(
      {
        step: 'inventory',
        commissioned: true,
      },
    )
    expect((await e.submit(request(A, 702, '7.4'))).code).toBe('I0')
    // 8.1.1 is for an InstalledNotCommissioned device only.
    expect((await e.submit(request(A, 703, '8.1.1'))).code).toBe('E5')
  })
})

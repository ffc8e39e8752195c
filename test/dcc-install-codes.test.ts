/**
 * MP121 end to end: SR 8.11 (Update HAN Device Log) through the DCC pipeline to a fake
 * Communications Hub, and the install code register.
 *
 * The fake CHF (here, in test/, because the DCC never imports @smetsim/device) keeps a device
 * log and lets an emulated ESME join its HAN when the install code it was given matches the
 * meter's own (`installCodeMatches`). Supplier A installed the meter; a Change of Supplier moves
 * the MPAN to B while the meter is still InstalledNotCommissioned. Without the code B's 8.11
 * fails (no code: a DUIS error; a guessed code: the CHF logs it but the join fails); with MP121 on
 * B obtains A's code from the register, singly or in bulk, and its 8.11 succeeds.
 */
import type { Eui64 } from '@smetsim/core'
import { toHex } from '@smetsim/core'
import { createDevice, type DeviceState, installCodeMatches } from '@smetsim/device'
import { describe, expect, it } from 'vitest'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import {
  createDcc,
  type DuisRequest,
  HAN_DEVICE_LOG_REQUEST_CODE,
  type HanDeviceLogTransport,
  NO_INSTALL_CODE_CODE,
  NOT_BUILT_CODE,
} from '../packages/dcc/src/dcc.ts'
import { createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import type { InstallCodeSettings } from '../packages/dcc/src/registration/install-codes.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import { installedCells } from './support.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
/** A supplier User registered for nothing here. */
const C = '90B3D51F300C0000' as Eui64
const NO = PARTIES.networkOperator.eui
const CHF = '00DB1200000000C1' as Eui64
const ESME2 = '00DB120000000003' as Eui64
const MPAN = '1200000000001'
const MPAN2 = '1200000000002'
const DAY = 86_400_000
const SSD = T0 + 2 * DAY

const CODE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)
const CODE2 = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i)
const GUESS = new Uint8Array(16).fill(0x55)

function estate(settings: InstallCodeSettings = { mp121: false }) {
  let clock = T0
  const meters = new Map<Eui64, DeviceState>()
  for (const [eui, installCode] of [
    [ESME_EUI, CODE],
    [ESME2, CODE2],
  ] as const)
    meters.set(
      eui,
      createDevice({ type: 'ESME', eui, cells: installedCells(), now: T0, commissioned: false, installCode }),
    )

  /** The fake CHF: its device log, and which devices joined its HAN. */
  const deviceLog = new Map<Eui64, string>()
  const joined = new Set<Eui64>()
  const hanDeviceLog: HanDeviceLogTransport = {
    addDevice: async (hub, entry) => {
      if (hub !== CHF) return { accepted: false, reason: `no CHF ${hub}` }
      deviceLog.set(entry.deviceId, toHex(entry.installCode))
      const meter = meters.get(entry.deviceId)
      if (!meter || !installCodeMatches(meter, entry.installCode))
        return { accepted: true, joined: false, reason: 'the device could not join: install code mismatch' }
      joined.add(entry.deviceId)
      return { accepted: true, joined: true }
    },
  }

  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.assignMpid('NET1', NO, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  registration.registerSupplier(MPAN2, 'AAAA', '2024-01-01')
  registration.registerNetworkOperator(MPAN, 'NET1', '2020-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: CHF, type: 'CHF', status: 'InstalledNotCommissioned', at: '2025-12-01' })
  // The installing supplier A lodged ESME's code at installation; ESME2 is only pre-notified.
  inventory.add({
    deviceId: ESME_EUI,
    type: 'ESME',
    mpxn: MPAN,
    commsHub: CHF,
    installCode: toHex(CODE),
    installingSupplier: A,
    status: 'Whitelisted',
    at: '2025-12-01',
  })
  inventory.setStatus(ESME_EUI, 'InstalledNotCommissioned', '2025-12-02')
  inventory.add({ deviceId: ESME2, type: 'ESME', mpxn: MPAN2, commsHub: CHF, at: '2025-12-01' })

  const sat = createMemorySat({ now: () => new Date(clock) })
  const dcc = createDcc({
    users: new UserDirectory([
      { userId: A, name: 'Supplier A', roles: ['IS', 'GS'] },
      { userId: B, name: 'Supplier B', roles: ['IS', 'GS'] },
      { userId: C, name: 'Supplier C', roles: ['IS', 'GS'] },
      { userId: NO, name: 'Network Operator', roles: ['ED', 'GT'] },
    ]),
    registration,
    inventory,
    sat,
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: () => undefined,
    userCertificates: () => undefined,
    transport: async () => undefined,
    now: () => clock,
    backend,
    hanDeviceLog,
    installCodes: settings,
  })
  const changeOfSupplier = () => {
    registration.changeOfSupplier(MPAN, 'BBBB', new Date(SSD))
    clock = SSD + 1000
  }
  return { dcc, sat, inventory, deviceLog, joined, changeOfSupplier, settings }
}

let counter = 0
const updateHanLog = (user: Eui64, parameters: DuisRequest['parameters']): DuisRequest => ({
  requestId: `${user}:${CHF}:${++counter}`,
  role: 'IS',
  srv: '8.11',
  commandVariant: 1,
  deviceType: 'CHF',
  ...(parameters && { parameters }),
})

describe('SR 8.11 and the MP121 install code register', () => {
  it("the installing supplier's 8.11 with its code: the CHF logs the device and it joins", async () => {
    const e = estate()
    const result = await e.dcc.submit(updateHanLog(A, { deviceId: ESME_EUI, installCode: toHex(CODE) }))
    expect(result).toMatchObject({
      code: 'I0',
      hanDeviceLog: { commsHub: CHF, deviceId: ESME_EUI, accepted: true, joined: true },
    })
    expect(e.joined.has(ESME_EUI)).toBe(true)
    expect(e.deviceLog.get(ESME_EUI)).toBe(toHex(CODE))
    // The join result as DUIS DCC Alert N24 to the requester.
    expect(result.dccAlerts).toMatchObject([
      {
        type: 'UpdateHANDeviceLogResult',
        code: 'N24',
        recipient: A,
        device: ESME_EUI,
        detail: { joined: true },
      },
    ])
    expect(e.dcc.dccAlertsFor(A).map((a) => a.code)).toEqual(['N24'])

    // A pre-notified (Pending) device is Whitelisted once the CHF holds it.
    expect(e.dcc.lodgeInstallCode(A, ESME2, toHex(CODE2))).toMatchObject({ ok: true, suppliedBy: A })
    expect((await e.dcc.submit(updateHanLog(A, { deviceId: ESME2, installCode: toHex(CODE2) }))).code).toBe(
      'I0',
    )
    expect(e.inventory.get(ESME2)?.status).toBe('Whitelisted')
    expect(e.inventory.get(ESME_EUI)?.status).toBe('InstalledNotCommissioned')

    // The SAT has the requests, decisions and responses, but never the install code.
    const satText = JSON.stringify(e.sat.query({}))
    expect(satText).not.toContain(toHex(CODE))
    expect(satText).not.toContain(toHex(CODE2))
    expect(e.sat.query({ srv: '8.11', kind: 'response' }).map((r) => r.code)).toEqual(['I0', 'I0'])
    expect(e.sat.verify()).toEqual({ ok: true })
  })

  it('bad 8.11 requests get clear DUIS answers', async () => {
    const e = estate()
    expect(await e.dcc.submit(updateHanLog(A, { deviceId: ESME_EUI }))).toMatchObject({
      code: NO_INSTALL_CODE_CODE,
      reason: expect.stringMatching(/needs its install code/),
    })
    // SR 8.11's own E0811nn family (which member for which case: unconfirmed, see duis-codes.ts).
    expect((await e.dcc.submit(updateHanLog(A, { deviceId: ESME_EUI, installCode: 'ABCD' }))).code).toBe(
      HAN_DEVICE_LOG_REQUEST_CODE,
    )
    expect((await e.dcc.submit(updateHanLog(A, { installCode: toHex(CODE) }))).code).toBe(
      HAN_DEVICE_LOG_REQUEST_CODE,
    )
    expect(
      (await e.dcc.submit(updateHanLog(A, { deviceId: '00DB1200000000FF', installCode: toHex(CODE) }))).code,
    ).toBe('E19')
    expect(
      (
        await e.dcc.submit(
          updateHanLog(A, { deviceId: ESME_EUI, installCode: toHex(CODE), action: 'remove' }),
        )
      ).code,
    ).toBe(NOT_BUILT_CODE)
    // 8.11 targets a CHF.
    expect(
      (await e.dcc.submit({ ...updateHanLog(A, {}), requestId: `${A}:${ESME_EUI}:900`, deviceType: 'ESME' }))
        .code,
    ).toBe('E11')
    expect(e.deviceLog.size).toBe(0)
  })

  it('after a Change of Supplier the gaining supplier without the code fails (MP121 off)', async () => {
    const e = estate()
    e.changeOfSupplier()
    // The installing supplier is no longer eligible for ESME (it still is for ESME2 on the same hub,
    // so access control passes it for the CHF; the DCC then checks the device being added).
    expect((await e.dcc.submit(updateHanLog(A, { deviceId: ESME_EUI, installCode: toHex(CODE) }))).code).toBe(
      'E4',
    )
    // B has no code: the DCC refuses the request.
    expect((await e.dcc.submit(updateHanLog(B, { deviceId: ESME_EUI }))).code).toBe(NO_INSTALL_CODE_CODE)
    // B guesses: the CHF accepts the log entry, but the meter cannot join.
    const guessed = await e.dcc.submit(updateHanLog(B, { deviceId: ESME_EUI, installCode: toHex(GUESS) }))
    expect(guessed).toMatchObject({ code: 'I0', hanDeviceLog: { accepted: true, joined: false } })
    expect(guessed.dccAlerts).toMatchObject([{ code: 'N24', recipient: B, detail: { joined: false } }])
    expect(e.joined.has(ESME_EUI)).toBe(false)
    // Today's rule: only the installing supplier has the code.
    expect(e.dcc.obtainInstallCode(B, ESME_EUI)).toMatchObject({
      ok: false,
      code: 'E4',
      reason: expect.stringMatching(/MP121 is off/),
    })
    expect(e.dcc.obtainInstallCode(A, ESME_EUI)).toMatchObject({
      ok: true,
      installCode: toHex(CODE),
      grantedAs: 'installing-supplier',
      suppliedBy: A,
      suppliedAt: '2025-12-01T00:00:00.000Z',
    })
  })

  it('with MP121 on the gaining supplier obtains the code, singly and in bulk, and its 8.11 succeeds', async () => {
    const e = estate({ mp121: true })
    e.changeOfSupplier()
    const single = e.dcc.obtainInstallCode(B, ESME_EUI)
    expect(single).toMatchObject({
      ok: true,
      grantedAs: 'registered-supplier',
      installCode: toHex(CODE),
      suppliedBy: A,
    })

    const bulk = e.dcc.obtainInstallCodes(B, [ESME_EUI, ESME2, '00DB1200000000FF', 'not-an-eui', CHF])
    expect(bulk.map((a) => (a.ok ? a.installCode : a.code))).toEqual([
      toHex(CODE),
      'E4', // MPAN2 stays with A
      'E19',
      'E19',
      NO_INSTALL_CODE_CODE, // B is eligible for the CHF (through ESME) but the CHF has no code
    ])

    const installCode = single.ok ? single.installCode : ''
    const result = await e.dcc.submit(updateHanLog(B, { deviceId: ESME_EUI, installCode }))
    expect(result).toMatchObject({ code: 'I0', hanDeviceLog: { joined: true } })
    expect(e.joined.has(ESME_EUI)).toBe(true)

    // Every hand-out is in the SAT (kind installCode), without the code itself.
    const records = e.sat.query({ kind: 'installCode', user: B })
    expect(records.map((r) => [r.device ?? null, r.code])).toEqual([
      [ESME_EUI, 'I0'],
      [ESME_EUI, 'I0'],
      [ESME2, 'E4'],
      ['00DB1200000000FF', 'E19'],
      [null, 'E19'],
      [CHF, NO_INSTALL_CODE_CODE],
    ])
    expect(JSON.stringify(e.sat.query({}))).not.toContain(toHex(CODE))
  })

  it('never writes an install code to the SAT, however it is sent; an empty bulk request is recorded too', async () => {
    const e = estate({ mp121: true })
    // An SR 5.1 carrying an 8.11 with a code is refused, but its request record is written first.
    await e.dcc.submit({
      requestId: `${A}:${ESME_EUI}:950`,
      role: 'IS',
      srv: '5.1',
      commandVariant: 8,
      deviceType: 'ESME',
      parameters: {
        serviceRequest: { srv: '8.11', parameters: { deviceId: ESME2, installCode: toHex(CODE2) } },
      },
    })
    await e.dcc.submit({ ...updateHanLog(A, { deviceId: ESME_EUI, installCode: toHex(CODE) }), srv: '8.11 ' })
    const sat = JSON.stringify(e.sat.query({}))
    expect(sat).not.toContain(toHex(CODE))
    expect(sat).not.toContain(toHex(CODE2))
    expect(sat).toContain('(redacted)')
    expect(e.dcc.obtainInstallCodes(B, [])).toEqual([])
    expect(e.sat.query({ kind: 'installCode', user: B }).map((r) => r.code)).toEqual([NO_INSTALL_CODE_CODE])
  })

  it('a supplier not registered for the device cannot obtain codes, MP121 or not', () => {
    const e = estate({ mp121: true })
    e.changeOfSupplier()
    expect(e.dcc.obtainInstallCode(C, ESME_EUI)).toMatchObject({
      ok: false,
      code: 'E4',
      reason: expect.stringMatching(/not a supplier registered/),
    })
    expect(e.dcc.obtainInstallCodes(C, [ESME_EUI, ESME2]).map((a) => a.ok)).toEqual([false, false])
    // Not a supplier at all; not a DCC User.
    expect(e.dcc.obtainInstallCode(NO, ESME_EUI)).toMatchObject({ ok: false, code: 'E1' })
    expect(e.dcc.obtainInstallCode('90B3D51F30FF0000', ESME_EUI)).toMatchObject({ ok: false, code: 'E1' })
    // The switch is read at every call: MP121 off again, B is refused.
    e.settings.mp121 = false
    expect(e.dcc.obtainInstallCode(B, ESME_EUI)).toMatchObject({ ok: false, code: 'E4' })
    // Only a supplier eligible for the device (or its installer) may lodge a code.
    expect(e.dcc.lodgeInstallCode(C, ESME_EUI, toHex(GUESS))).toMatchObject({ ok: false, code: 'E4' })
    expect(e.inventory.get(ESME_EUI)?.installCode).toBe(toHex(CODE))
  })
})

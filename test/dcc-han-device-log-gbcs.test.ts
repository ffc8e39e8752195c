/**
 * SR 8.11 (Update HAN Device Log) as GBCS: the DCC's ACB sends a real Communications Hub's CHF a
 * CCS01 command, MACed with the key agreed with the CHF's key-agreement key, and the CHF's MACed
 * response is the answer (its bytes the DUIS GBCS payload). The CHF, not the DCC, decides: a full
 * Device Log is a refusal (E081102) that still carries the CHF's response; a wrong install code
 * is logged but the meter cannot join (the CHF's 0x8F48, no 0x8F49); no key for the CHF means
 * nothing is sent (E20). Two additions at the same instant both pass the CHF's anti-replay check.
 */

import { createScheduler, type Eui64, toHex } from '@smetsim/core'
import { decodeFrame, decodePayload, messageKey, verifyMac } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import { createDcc, type DuisRequest } from '../packages/dcc/src/dcc.ts'
import { createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import { Hub } from '../packages/hub/src/hub.ts'
import {
  backend,
  CHF_EUI,
  CHF_KA,
  chfCells,
  DEVICE_CA,
  deviceWithCertificate,
  ESME_EUI,
  GPF_EUI,
  GPF_KEYS,
  PARTIES,
  T0,
} from '../packages/hub/src/testing.ts'
import { createInProcessWan } from '../packages/hub/src/wan/in-process.ts'

const A = PARTIES.supplierA.eui
const ESME2 = '00DB1234567890B0' as Eui64
const CODE = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)
const CODE2 = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i)
const acbKa = backend.importPrivateKey(PARTIES.acb.ka.privateKey)
const chfKaPublic = backend.importPrivateKey(CHF_KA).publicKey

function estate(o: { logCapacity?: number; chfKeyKnown?: boolean; transportThrows?: unknown } = {}) {
  const scheduler = createScheduler({ start: T0 })
  const wan = createInProcessWan(scheduler)
  const hub = new Hub({
    scheduler,
    chf: { eui: CHF_EUI, ka: CHF_KA, cells: chfCells() },
    gpf: { eui: GPF_EUI, keys: GPF_KEYS },
    deviceCas: [DEVICE_CA.certificate],
    uplink: wan.uplinkFor(CHF_EUI),
    backend,
    ...(o.logCapacity !== undefined && { logCapacity: o.logCapacity }),
  })
  wan.register(hub)
  for (const [eui, installCode] of [
    [ESME_EUI, CODE],
    [ESME2, CODE2],
  ] as const) {
    const m = deviceWithCertificate('ESME', eui, { installCode })
    hub.attach(m.state, { certificate: m.certificate })
  }
  const chfAlerts: string[] = []
  wan.headEnd.onAlert(({ from, bytes }) => {
    if (from === CHF_EUI) chfAlerts.push(alertCode(bytes))
  })
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  for (const mpan of ['1200000000001', '1200000000002'])
    registration.registerSupplier(mpan, 'AAAA', '2020-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: CHF_EUI, type: 'CHF', status: 'Commissioned', at: '2020-01-02' })
  inventory.add({
    deviceId: ESME_EUI,
    type: 'ESME',
    mpxn: '1200000000001',
    commsHub: CHF_EUI,
    at: '2020-01-02',
  })
  inventory.add({ deviceId: ESME2, type: 'ESME', mpxn: '1200000000002', commsHub: CHF_EUI, at: '2020-01-02' })
  const sent: Uint8Array[] = []
  const sat = createMemorySat({ now: () => new Date(scheduler.now()) })
  const dcc = createDcc({
    users: new UserDirectory([{ userId: A, name: 'Supplier A', roles: ['IS', 'GS'] }]),
    registration,
    inventory,
    sat,
    acb: { eui: PARTIES.acb.eui, kaPrivateKeyRef: acbKa },
    cos: {
      eui: PARTIES.cos.eui,
      signer: createInProcessSigner(backend.importPrivateKey(PARTIES.cos.ds.privateKey), backend),
    },
    deviceKeyAgreement: (id) => (id === CHF_EUI && o.chfKeyKnown !== false ? chfKaPublic : undefined),
    userCertificates: () => undefined,
    transport: async (id, bytes) => {
      sent.push(bytes)
      if ('transportThrows' in o) throw o.transportThrows
      return wan.headEnd.send(inventory.get(id)?.type === 'CHF' ? id : inventory.get(id)!.commsHub!, bytes)
    },
    now: () => scheduler.now(),
    backend,
  })
  return { dcc, hub, inventory, sent, chfAlerts, sat }
}

/** The alert code of a CHF's GBCS alert, as its payload decodes ('8F49' …). */
function alertCode(bytes: Uint8Array): string {
  const s = decodeFrame(bytes).signing
  return String(decodePayload(s.content, { messageCode: s.messageCode, cra: 'alert' }).useCase?.alertCode)
}

let counter = 0
const add = (deviceId: Eui64, installCode: Uint8Array): DuisRequest => ({
  requestId: `${A}:${CHF_EUI}:${++counter}`,
  role: 'IS',
  srv: '8.11',
  commandVariant: 1,
  deviceType: 'CHF',
  parameters: { deviceId, installCode: toHex(installCode) },
})

describe('SR 8.11 as GBCS CCS01 to a real CHF', () => {
  it("answers I0 with the CHF's own MACed CCS01 response; the meter joins, Pending becomes Whitelisted", async () => {
    const e = estate()
    const r = await e.dcc.submit(add(ESME_EUI, CODE))
    expect(r.code).toBe('I0')
    expect(r.responseBytes).toBeDefined()
    const response = decodeFrame(r.responseBytes!)
    expect(response.signing).toMatchObject({ cra: 'response', originator: CHF_EUI, messageCode: 0x0001 })
    // MACed by the CHF with the key it agrees with the ACB: the command was the ACB's.
    const command = decodeFrame(e.sent[0]!)
    expect(command.signing).toMatchObject({
      cra: 'command',
      originator: PARTIES.acb.eui,
      recipient: CHF_EUI,
      supplementary: { remotePartyId: A },
    })
    expect(verifyMac(response, messageKey(response.signing, acbKa, chfKaPublic, backend))).toBe(true)
    expect(e.hub.isJoined(ESME_EUI)).toBe(true)
    expect(e.chfAlerts).toContain('8F49')
    expect(e.inventory.get(ESME_EUI)?.status).toBe('Whitelisted')
    expect(r.dccAlerts?.map((a) => a.code)).toEqual(['N24'])
  })

  it('a wrong install code is logged (I0) but the meter cannot join: the CHF raises 0x8F48, not 0x8F49', async () => {
    const e = estate()
    expect((await e.dcc.submit(add(ESME_EUI, CODE2))).code).toBe('I0')
    expect(e.hub.isJoined(ESME_EUI)).toBe(false)
    expect(e.chfAlerts).toContain('8F48')
    expect(e.chfAlerts).not.toContain('8F49')
  })

  it('a full Device Log is the CHF refusing (E081102), with its response as the payload; nothing joins', async () => {
    const e = estate({ logCapacity: 1 })
    expect((await e.dcc.submit(add(ESME_EUI, CODE))).code).toBe('I0')
    const full = await e.dcc.submit(add(ESME2, CODE2))
    expect(full.code).toBe('E081102')
    expect(decodeFrame(full.responseBytes!).signing.originator).toBe(CHF_EUI)
    expect(e.hub.isJoined(ESME2)).toBe(false)
    expect(e.inventory.get(ESME2)?.status).toBe('Pending')
  })

  it('two additions at the same instant both pass the CHF’s anti-replay check (the ACB counter rises)', async () => {
    const e = estate()
    const [first, second] = [await e.dcc.submit(add(ESME_EUI, CODE)), await e.dcc.submit(add(ESME2, CODE2))]
    expect([first.code, second.code]).toEqual(['I0', 'I0'])
    const counters = e.sent.map((b) => decodeFrame(b).signing.originatorCounter)
    expect(counters[1]! > counters[0]!).toBe(true)
    expect([e.hub.isJoined(ESME_EUI), e.hub.isJoined(ESME2)]).toEqual([true, true])
  })

  it('a transport that throws (an Error or anything else) is E20 with a response record, as for any command', async () => {
    for (const [thrown, why] of [
      [new Error('link down'), 'link down'],
      [null, 'null'],
      ['x'.repeat(1000), 'x'.repeat(256)],
    ] as const) {
      const e = estate({ transportThrows: thrown })
      const r = await e.dcc.submit(add(ESME_EUI, CODE))
      expect(r).toMatchObject({ code: 'E20', reason: `transport to CHF ${CHF_EUI} failed: ${why}` })
      expect(e.sent).toHaveLength(1)
      expect(e.inventory.get(ESME_EUI)?.status).toBe('Pending')
      const last = e.sat.query({ requestId: r.requestId! }).at(-1)!
      expect(last).toMatchObject({
        kind: 'response',
        code: 'E20',
        detail: { step: 'hanDeviceLog', via: 'gbcs' },
      })
    }
  })

  it('with no key for the CHF nothing is sent: E20, the meter stays Pending', async () => {
    const e = estate({ chfKeyKnown: false })
    expect((await e.dcc.submit(add(ESME_EUI, CODE))).code).toBe('E20')
    expect(e.sent).toHaveLength(0)
    expect(e.inventory.get(ESME_EUI)?.status).toBe('Pending')
  })
})

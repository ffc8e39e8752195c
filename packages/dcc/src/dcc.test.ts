/**
 * The Service Request pipeline without devices: a fake transport that records the GBCS the DCC
 * sends and answers with canned bytes. Every DUIS path: refusals with their SAT records, the
 * in-process signer, the CV4/CV5 round trip and bad CV5s, no response, SR 6.23 from the CoS
 * Party, and device alerts routed with the DP072 remedy off and on.
 */
import type { Eui64 } from '@smetsim/core'
import {
  applyMac,
  buildPayload,
  decodeFrame,
  encodeFrame,
  encodeSignedFrame,
  type GeneralSigning,
  messageKey,
  type PrivateKeyRef,
  verifyGeneralSigning,
  verifyMac,
} from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import type { AnomalyConfig } from './access/anomaly.ts'
import { UserDirectory } from './access/users.ts'
import {
  createDcc,
  type DccConfig,
  type DuisRequest,
  MALFORMED_REQUEST_CODE,
  NO_PRE_COMMAND_CODE,
  NOT_BUILT_CODE,
  PRE_COMMAND_EXPIRED_CODE,
  SIGNATURE_INVALID_CODE,
} from './dcc.ts'
import { createInProcessSigner } from './gbcs/construct.ts'
import { ACB, backend, cosParameters, ESME_EUI, GSME_EUI, PARTIES, privateRef, T0 } from './gbcs/testing.ts'
import { SmartMeteringInventory } from './registration/inventory.ts'
import { RegistrationData } from './registration/registration.ts'
import { createMemorySat } from './sat/sat.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
const MPAN = '1200000000001'
const MPRN = '7000000001'
const DAY = 86_400_000
/** Supply Start Date of supplier B for the ESME's MPAN: two days after T0. */
const SSD = T0 + 2 * DAY

const rid = (originator: string, target: string, counter: number | bigint) =>
  `${originator}:${target}:${counter}`

/** The fake devices' key agreement keys (the DCC knows only the public halves). */
const deviceKa: Record<string, PrivateKeyRef> = {
  [ESME_EUI]: backend.generatePrivateKey(),
  [GSME_EUI]: backend.generatePrivateKey(),
}

interface Sent {
  deviceId: Eui64
  bytes: Uint8Array
}

/** A canned device response to a command (raw content, empty signature). */
function responseTo(bytes: Uint8Array, content = Uint8Array.of(0x01, 0x02)): Uint8Array {
  const s = decodeFrame(bytes).signing
  return encodeFrame({
    signing: {
      cra: 'response',
      originatorCounter: s.originatorCounter,
      originator: s.recipient,
      recipient: s.originator,
      messageCode: s.messageCode,
      content,
      signature: { kind: 'empty' },
    },
  })
}

function fixture(
  o: {
    signers?: 'A' | 'none'
    answer?: (sent: Sent) => Promise<Uint8Array | undefined>
    blockAlertsToUnregisteredSuppliers?: boolean
    anomaly?: AnomalyConfig
    preCommandTtlMs?: number
  } = {},
) {
  let clock = T0
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('AGAS', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  registration.registerSupplier(MPRN, 'AGAS', '2024-01-01')
  registration.changeOfSupplier(MPAN, 'BBBB', new Date(SSD))
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: MPAN, status: 'Commissioned', at: '2024-01-02' })
  inventory.add({ deviceId: GSME_EUI, type: 'GSME', mpxn: MPRN, status: 'Commissioned', at: '2024-01-02' })
  const users = new UserDirectory([
    { userId: A, name: 'Supplier A', roles: ['IS', 'GS'] },
    { userId: B, name: 'Supplier B', roles: ['IS', 'GS'] },
  ])
  const sat = createMemorySat({ now: () => new Date(clock) })
  const sent: Sent[] = []
  const answer = o.answer ?? (async ({ bytes }: Sent) => responseTo(bytes))
  const config: DccConfig = {
    users,
    registration,
    inventory,
    sat,
    acb: ACB,
    cos: {
      eui: PARTIES.cos.eui,
      signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend),
      counter: 7000n,
    },
    deviceKeyAgreement: (id) => deviceKa[id]?.publicKey,
    userCertificates: (id) => {
      const party = id === A ? PARTIES.supplierA : id === B ? PARTIES.supplierB : undefined
      if (!party) return undefined
      return {
        digitalSigning: party.ds.certificate.raw,
        keyAgreement: party.ka.certificate.raw,
        ...(party.pp && { prepaymentTopUp: party.pp.certificate.raw }),
        certificationPath: [],
      }
    },
    transport: async (deviceId, bytes) => {
      sent.push({ deviceId, bytes })
      return answer({ deviceId, bytes })
    },
    now: () => clock,
    backend,
    ...(o.signers !== 'none' && {
      signers: { [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend) },
    }),
    ...(o.blockAlertsToUnregisteredSuppliers && { blockAlertsToUnregisteredSuppliers: true }),
    ...(o.anomaly && { anomaly: { config: o.anomaly } }),
    ...(o.preCommandTtlMs !== undefined && { preCommandTtlMs: o.preCommandTtlMs }),
  }
  const dcc = createDcc(config)
  return {
    dcc,
    sat,
    sent,
    setClock: (t: number) => {
      clock = t
    },
  }
}

const sr = (
  requestId: string,
  srv: string,
  extra: Partial<DuisRequest> = {},
  critical = ['1.6', '7.1', '7.2', '7.3', '2.5', '6.11'].includes(srv),
): DuisRequest => ({
  requestId,
  role: 'IS',
  srv,
  commandVariant: critical ? 4 : 1,
  deviceType: 'ESME',
  ...extra,
})

const kinds = (sat: ReturnType<typeof fixture>['sat'], requestId: string) =>
  sat.query({ requestId }).map((r) => `${r.kind}:${r.code ?? ''}`)

/** Whether the ACB's MAC on a command verifies with the device's key agreement key. */
function macVerifies(bytes: Uint8Array, deviceId: string): boolean {
  const frame = decodeFrame(bytes)
  const key = messageKey(frame.signing, deviceKa[deviceId]!, ACB.kaPrivateKeyRef.publicKey, backend)
  return verifyMac(frame, key)
}

describe('refusals', () => {
  it('E2: an SRV not in the permission matrix, or not for the role; SAT request + decision, nothing sent', async () => {
    const { dcc, sat, sent } = fixture()
    const unknown = await dcc.submit(sr(rid(A, ESME_EUI, 1), '99.9'))
    expect(unknown).toMatchObject({ code: 'E2', requestId: rid(A, ESME_EUI, 1) })
    expect(kinds(sat, rid(A, ESME_EUI, 1))).toEqual(['request:', 'decision:E2'])
    const role = await dcc.submit(sr(rid(A, ESME_EUI, 2), '7.1', { role: 'GS' }))
    expect(role.code).toBe('E2')
    expect(role.reason).toMatch(/GS may not use SRV 7.1/)
    expect(kinds(sat, rid(A, ESME_EUI, 2))).toEqual(['request:', 'decision:E2'])
    expect(sent).toEqual([])
  })

  it('E4: a supplier not registered for the device at the time', async () => {
    const { dcc, sat, sent, setClock } = fixture()
    const early = await dcc.submit(sr(rid(B, ESME_EUI, 10), '7.4'))
    expect(early.code).toBe('E4')
    expect(kinds(sat, rid(B, ESME_EUI, 10))).toEqual(['request:', 'decision:E4'])
    setClock(SSD + 1000)
    const late = await dcc.submit(sr(rid(A, ESME_EUI, 11), '7.2'))
    expect(late.code).toBe('E4')
    expect(sat.query({ requestId: rid(A, ESME_EUI, 11), kind: 'decision' })[0]?.detail).toMatchObject({
      step: 'eligibility',
    })
    expect(sent).toEqual([])
  })

  it('E1 for a bad role, E19 for an unknown device, each with its SAT records', async () => {
    const { dcc, sat } = fixture()
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 3), '7.4', { role: 'XX' }))).code).toBe('E1')
    expect(sat.query({ requestId: rid(A, ESME_EUI, 3), kind: 'request' })[0]?.detail).toMatchObject({
      claimedRole: 'XX',
    })
    expect((await dcc.submit(sr(rid(A, '00DB1200000000FF', 4), '7.4'))).code).toBe('E19')
    expect(kinds(sat, rid(A, '00DB1200000000FF', 4))).toEqual(['request:', 'decision:E19'])
  })

  it('a malformed RequestID is answered, not thrown, and has no SAT record (nobody to attribute it to)', async () => {
    const { dcc, sat } = fixture()
    for (const requestId of ['nonsense', `${A}:${ESME_EUI}`, `${A}:${ESME_EUI}:-1`, undefined]) {
      const result = await dcc.submit({ ...sr('x', '7.4'), requestId: requestId as unknown as string })
      expect(result.code).toBe(MALFORMED_REQUEST_CODE)
    }
    expect(await dcc.submit(null as unknown as DuisRequest)).toMatchObject({ code: MALFORMED_REQUEST_CODE })
    expect(sat.size).toBe(0)
    // A malformed sender: the RequestID identifies the request, so it is recorded.
    const bad = await dcc.submit(sr(rid(A, ESME_EUI, 5), '7.4', { sender: 'not-an-eui' }))
    expect(bad.code).toBe(MALFORMED_REQUEST_CODE)
    expect(kinds(sat, rid(A, ESME_EUI, 5))).toEqual(['request:', `decision:${MALFORMED_REQUEST_CODE}`])
  })

  it('after access control: a device type the SMI does not hold (E11), an SRV not built here, bad parameters', async () => {
    const { dcc, sat, sent } = fixture()
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 6), '7.4', { deviceType: 'GSME' }))).code).toBe('E11')
    expect(kinds(sat, rid(A, ESME_EUI, 6))).toEqual(['request:', 'decision:I99', 'decision:E11'])
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 7), '4.18'))).code).toBe(NOT_BUILT_CODE)
    const bad = await dcc.submit(sr(rid(A, ESME_EUI, 8), '1.6', { parameters: { paymentMode: 'barter' } }))
    expect(bad.code).toBe('EPARAMETERS')
    expect(sent).toEqual([])
  })

  it('AD1: a quarantined request raises a QuarantinedRequest DCC Alert to the User', async () => {
    const anomaly: AnomalyConfig = {
      version: 1,
      users: [{ user: A, srv: '7.4', limit: 1, windowMs: DAY }],
      roleDefaults: [],
      dcc: [],
    }
    const { dcc, sat } = fixture({ anomaly })
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 20), '7.4'))).code).toBe('I0')
    const second = await dcc.submit(sr(rid(A, ESME_EUI, 21), '7.4'))
    expect(second.code).toBe('AD1')
    expect(second.dccAlerts?.map((a) => [a.type, a.recipient])).toEqual([['QuarantinedRequest', A]])
    expect(dcc.dccAlertsFor(A)).toHaveLength(1)
    expect(kinds(sat, rid(A, ESME_EUI, 21))).toEqual(['request:', 'decision:AD1', 'dccAlert:AD1'])
  })
})

describe('accepted requests', () => {
  it('non-critical: built, MACed by the ACB with an empty signature, answered I0 with the response', async () => {
    const { dcc, sat, sent } = fixture()
    const result = await dcc.submit(sr(rid(A, ESME_EUI, 30), '7.4'))
    expect(result.code).toBe('I0')
    expect(result.response).toMatchObject({
      cra: 'response',
      originator: ESME_EUI,
      recipient: A,
      messageCode: '0052',
    })
    expect(sent).toHaveLength(1)
    const command = decodeFrame(sent[0]!.bytes)
    expect(command.signing).toMatchObject({ originator: A, recipient: ESME_EUI, originatorCounter: 30n })
    expect(command.signing.signature.kind).toBe('empty')
    expect(macVerifies(sent[0]!.bytes, ESME_EUI)).toBe(true)
    expect(kinds(sat, rid(A, ESME_EUI, 30))).toEqual(['request:', 'decision:I99', 'response:I0'])
  })

  it('critical with an in-process signer: the User signature verifies with its certificate key', async () => {
    const { dcc, sent } = fixture()
    const result = await dcc.submit(sr(rid(A, ESME_EUI, 31), '7.2'))
    expect(result.code).toBe('I0')
    const command = decodeFrame(sent[0]!.bytes)
    expect(command.signing.signature.kind).toBe('ecdsa')
    const aKey = backend.importPublicKey(PARTIES.supplierA.ds.certificate.publicKey)
    expect(verifyGeneralSigning(command.signing, aKey, backend)).toBe(true)
    expect(macVerifies(sent[0]!.bytes, ESME_EUI)).toBe(true)
  })

  it('a GSME gets its GCS command', async () => {
    const { dcc, sent } = fixture()
    const result = await dcc.submit(sr(rid(A, GSME_EUI, 32), '7.3', { role: 'GS', deviceType: 'GSME' }))
    expect(result.code).toBe('I0')
    expect(decodeFrame(sent[0]!.bytes).signing.messageCode).toBe(0x0085)
  })

  it('no response: E21; the transport failing: E20; an answer that is not a response: E21', async () => {
    const silent = fixture({ answer: async () => undefined })
    expect((await silent.dcc.submit(sr(rid(A, ESME_EUI, 40), '7.4'))).code).toBe('E21')
    expect(kinds(silent.sat, rid(A, ESME_EUI, 40))).toEqual(['request:', 'decision:I99', 'response:E21'])
    const broken = fixture({
      answer: async () => {
        throw new Error('hub unreachable')
      },
    })
    const e20 = await broken.dcc.submit(sr(rid(A, ESME_EUI, 41), '7.4'))
    expect(e20).toMatchObject({ code: 'E20', reason: expect.stringMatching(/hub unreachable/) })
    expect(kinds(broken.sat, rid(A, ESME_EUI, 41))).toEqual(['request:', 'decision:I99', 'response:E20'])
    const garbage = fixture({ answer: async () => Uint8Array.of(1, 2, 3) })
    expect((await garbage.dcc.submit(sr(rid(A, ESME_EUI, 42), '7.4'))).code).toBe('E21')
  })
})

describe('CV4 / CV5: the User signs the Pre-Command', () => {
  const signAs = (preCommand: Uint8Array, key: PrivateKeyRef, change?: Partial<GeneralSigning>) =>
    encodeSignedFrame({ ...decodeFrame(preCommand).signing, ...change }, key, backend)

  it('CV4 answers I99 with the Pre-Command; a good CV5 is MACed and sent', async () => {
    const { dcc, sat, sent } = fixture({ signers: 'none' })
    const id = rid(A, ESME_EUI, 50)
    const cv4 = await dcc.submit(sr(id, '7.3'))
    expect(cv4).toMatchObject({ code: 'I99', awaitingSignature: true })
    expect(decodeFrame(cv4.preCommand!).signing).toMatchObject({
      originator: A,
      originatorCounter: 50n,
      messageCode: 0x0051,
      signature: { kind: 'absent' },
    })
    expect(dcc.pendingSignatures()).toEqual([id])
    expect(sent).toEqual([])
    const cv5 = await dcc.submitSigned(id, signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds)))
    expect(cv5.code).toBe('I0')
    expect(dcc.pendingSignatures()).toEqual([])
    expect(decodeFrame(sent[0]!.bytes).signing.signature.kind).toBe('ecdsa')
    expect(macVerifies(sent[0]!.bytes, ESME_EUI)).toBe(true)
    expect(kinds(sat, id)).toEqual([
      'request:',
      'decision:I99',
      'response:I99',
      'request:',
      'decision:I99',
      'response:I0',
    ])
    // Once used, the Pre-Command is gone.
    expect((await dcc.submitSigned(id, signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds)))).code).toBe(
      NO_PRE_COMMAND_CODE,
    )
  })

  it('a Pre-Command not signed in time expires with its SAT record, and its late CV5 is refused', async () => {
    const { dcc, sat, sent, setClock } = fixture({ signers: 'none', preCommandTtlMs: 60_000 })
    const early = rid(A, ESME_EUI, 55)
    const late = rid(A, ESME_EUI, 56)
    const cv4 = await dcc.submit(sr(early, '7.3'))
    setClock(T0 + 30_000)
    await dcc.submit(sr(late, '7.3'))
    setClock(T0 + 59_999)
    expect(dcc.pendingSignatures()).toEqual([early, late])
    setClock(T0 + 60_000)
    expect(dcc.pendingSignatures()).toEqual([late])
    const expired = sat.query({ kind: 'decision', requestId: early }).map((r) => r.code)
    expect(expired).toEqual(['I99', PRE_COMMAND_EXPIRED_CODE])
    const cv5 = await dcc.submitSigned(early, signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds)))
    expect(cv5.code).toBe(NO_PRE_COMMAND_CODE)
    expect(sent).toEqual([])
    setClock(T0 + 90_000)
    expect(dcc.pendingSignatures()).toEqual([])
  })

  it('a RequestID sent again replaces its waiting Pre-Command and still expires in issue order', async () => {
    const { dcc, sat, setClock } = fixture({ signers: 'none', preCommandTtlMs: 60_000 })
    const a = rid(A, ESME_EUI, 57)
    const b = rid(A, ESME_EUI, 58)
    await dcc.submit(sr(a, '7.3'))
    setClock(T0 + 10_000)
    await dcc.submit(sr(b, '7.3'))
    setClock(T0 + 50_000)
    await dcc.submit(sr(a, '7.3')) // a again: the first one is superseded
    // Access control accepts the second a (I99), then its Pre-Command supersedes the first.
    expect(sat.query({ kind: 'decision', requestId: a }).map((r) => r.code)).toEqual([
      'I99',
      'I99',
      PRE_COMMAND_EXPIRED_CODE,
    ])
    setClock(T0 + 70_000) // b (issued at 10 s) is overdue; the new a (50 s) is not
    expect(dcc.pendingSignatures()).toEqual([a])
  })

  it('a bad CV5 is refused and the Pre-Command stays pending: wrong key, another Pre-Command, junk', async () => {
    const { dcc, sat, sent } = fixture({ signers: 'none' })
    const id = rid(A, ESME_EUI, 60)
    const cv4 = await dcc.submit(sr(id, '7.2'))
    const wrongKey = await dcc.submitSigned(id, signAs(cv4.preCommand!, privateRef(PARTIES.supplierB.ds)))
    expect(wrongKey).toMatchObject({
      code: SIGNATURE_INVALID_CODE,
      reason: expect.stringMatching(/does not verify/),
    })
    const other = await dcc.submitSigned(
      id,
      signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds), { originatorCounter: 61n }),
    )
    expect(other).toMatchObject({
      code: SIGNATURE_INVALID_CODE,
      reason: expect.stringMatching(/not the Pre-Command/),
    })
    expect((await dcc.submitSigned(id, Uint8Array.of(0xdf, 0x09))).code).toBe(SIGNATURE_INVALID_CODE)
    expect((await dcc.submitSigned(id, cv4.preCommand!)).code).toBe(SIGNATURE_INVALID_CODE) // unsigned
    expect(sent).toEqual([])
    expect(dcc.pendingSignatures()).toEqual([id])
    expect(sat.query({ requestId: id, kind: 'decision' }).map((r) => r.code)).toEqual([
      'I99',
      SIGNATURE_INVALID_CODE,
      SIGNATURE_INVALID_CODE,
      SIGNATURE_INVALID_CODE,
      SIGNATURE_INVALID_CODE,
    ])
    expect((await dcc.submitSigned(id, signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds)))).code).toBe(
      'I0',
    )
  })

  it('a CV5 for nothing pending, or after the Supply Start Date has passed, is refused', async () => {
    // Pre-Commands kept for a week here: the Supply Start Date is two days on.
    const { dcc, sat, setClock } = fixture({ signers: 'none', preCommandTtlMs: 7 * DAY })
    expect((await dcc.submitSigned(rid(A, ESME_EUI, 70), Uint8Array.of(1))).code).toBe(NO_PRE_COMMAND_CODE)
    expect(kinds(sat, rid(A, ESME_EUI, 70))).toEqual(['request:', `decision:${NO_PRE_COMMAND_CODE}`])
    expect((await dcc.submitSigned('junk', Uint8Array.of(1))).code).toBe(MALFORMED_REQUEST_CODE)
    const id = rid(A, ESME_EUI, 71)
    const cv4 = await dcc.submit(sr(id, '7.2'))
    setClock(SSD)
    const late = await dcc.submitSigned(id, signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds)))
    expect(late.code).toBe('E4')
    expect(dcc.pendingSignatures()).toEqual([])
  })
})

describe('SR 6.23', () => {
  it('the CoS Party builds and signs CS02b with the gaining supplier’s certificates; DCC Alert to it', async () => {
    const { dcc, sat, sent, setClock } = fixture()
    setClock(SSD + 1000)
    const id = rid(B, ESME_EUI, 800)
    const result = await dcc.submit(sr(id, '6.23'))
    expect(result.code).toBe('I0')
    const command = decodeFrame(sent[0]!.bytes).signing
    expect(command).toMatchObject({
      originator: PARTIES.cos.eui,
      originatorCounter: 7000n,
      messageCode: 0x0107,
    })
    const cosKey = backend.importPublicKey(PARTIES.cos.ds.certificate.publicKey)
    expect(verifyGeneralSigning(command, cosKey, backend)).toBe(true)
    expect(macVerifies(sent[0]!.bytes, ESME_EUI)).toBe(true)
    // It carries the gaining supplier's certificates.
    expect(Buffer.from(command.content).toString('hex').toUpperCase()).toContain(
      cosParameters(PARTIES.supplierB).supplierDigitalSigningCertificate,
    )
    expect(result.dccAlerts?.map((a) => [a.type, a.recipient])).toEqual([['SecurityCredentialsUpdated', B]])
    expect(kinds(sat, id)).toEqual(['request:', 'decision:I99', 'response:I0', 'dccAlert:SecCredsUpdated'])
    // The next one uses the CoS Party's next counter.
    await dcc.submit(sr(rid(B, ESME_EUI, 801), '6.23'))
    expect(decodeFrame(sent[1]!.bytes).signing.originatorCounter).toBe(7001n)
  })

  it('the losing supplier cannot send it (E4)', async () => {
    const { dcc, sent, setClock } = fixture()
    setClock(SSD + 1000)
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 900), '6.23'))).code).toBe('E4')
    expect(sent).toEqual([])
  })
})

describe('device alerts', () => {
  /** An alert frame from the ESME to `recipient`: non-critical (0x1001, MACed) or critical (0x1000, signed). */
  function alert(recipient: Eui64, code: string, critical: boolean, counter = 1n): Uint8Array {
    const view = {
      name: `ESME Alert ${code}`,
      invokeId: 0x20000001,
      alertCode: code,
      timestamp: '2026-01-05T12:00:00Z',
    }
    const messageCode = critical ? 0x1000 : 0x1001
    const s: GeneralSigning = {
      cra: 'alert',
      originatorCounter: counter,
      originator: ESME_EUI,
      recipient,
      messageCode,
      content: buildPayload(view, { messageCode, cra: 'alert' }, 'dlms'),
      signature: { kind: 'absent' },
    }
    if (critical) return encodeSignedFrame(s, backend.generatePrivateKey(), backend)
    const unsigned: GeneralSigning = { ...s, signature: { kind: 'empty' } }
    return encodeFrame(applyMac(unsigned, new Uint8Array(16)))
  }

  it('are routed to the User whose certificate the device used, with a SAT alert record', () => {
    const { dcc, sat } = fixture()
    const out = dcc.deliverAlert(ESME_EUI, alert(A, '8F35', true))
    expect(out).toMatchObject({ delivered: true, alert: { recipient: A, alertCode: '8F35', critical: true } })
    expect(dcc.alertsFor(A).map((a) => a.alertCode)).toEqual(['8F35'])
    expect(dcc.alertsFor(B)).toEqual([])
    expect(sat.query({ kind: 'alert' }).map((r) => [r.user, r.device, r.code])).toEqual([
      [A, ESME_EUI, '8F35'],
    ])
  })

  it('DP072 off (default): a non-critical alert to a supplier no longer registered is delivered, and counted', () => {
    const { dcc, setClock } = fixture()
    setClock(SSD + 1000)
    expect(dcc.deliverAlert(ESME_EUI, alert(A, '8F0A', false)).delivered).toBe(true)
    expect(dcc.alertsFor(A)).toHaveLength(1)
    expect(dcc.alertCounters(A)).toMatchObject({ delivered: 1, blocked: 0, toUnregisteredSupplier: 1 })
  })

  it('DP072 on: non-critical alerts to a supplier not registered now are blocked and counted; others delivered', () => {
    const { dcc, sat, setClock } = fixture({ blockAlertsToUnregisteredSuppliers: true })
    // Before the Supply Start Date A is registered: delivered.
    expect(dcc.deliverAlert(ESME_EUI, alert(A, '8F0A', false, 1n)).delivered).toBe(true)
    setClock(SSD + 1000)
    const blocked = dcc.deliverAlert(ESME_EUI, alert(A, '8F0A', false, 2n))
    expect(blocked).toMatchObject({ delivered: false, blocked: true })
    // A critical (signed) alert is never blocked: the billing data log alert of DP072 still reaches A.
    expect(dcc.deliverAlert(ESME_EUI, alert(A, '8F0A', true, 3n)).delivered).toBe(true)
    expect(dcc.deliverAlert(ESME_EUI, alert(A, '8F35', true, 4n)).delivered).toBe(true)
    // B (registered) gets its alerts.
    expect(dcc.deliverAlert(ESME_EUI, alert(B, '8F0A', false, 5n)).delivered).toBe(true)
    expect(dcc.alertsFor(A).map((a) => a.alertCode)).toEqual(['8F0A', '8F0A', '8F35'])
    expect(dcc.alertsFor(B).map((a) => a.alertCode)).toEqual(['8F0A'])
    expect(dcc.alertCounters(A)).toMatchObject({ delivered: 3, blocked: 1, toUnregisteredSupplier: 3 })
    expect(dcc.alertCounters()).toMatchObject({ delivered: 4, blocked: 1, toUnregisteredSupplier: 3 })
    expect(
      sat.query({ kind: 'alert', user: A }).map((r) => (r.detail as { delivered: boolean }).delivered),
    ).toEqual([true, false, true, true])
  })

  it('undeliverable alerts are counted, never thrown', () => {
    const { dcc } = fixture()
    expect(dcc.deliverAlert(ESME_EUI, Uint8Array.of(1, 2, 3)).delivered).toBe(false)
    expect(dcc.deliverAlert('nonsense', alert(A, '8F35', true)).delivered).toBe(false)
    expect(dcc.deliverAlert(GSME_EUI, alert(A, '8F35', true)).reason).toMatch(/arrived as from/)
    expect(dcc.deliverAlert(ESME_EUI, alert('90B3D51F300F0000' as Eui64, '8F35', true)).delivered).toBe(false)
    expect(dcc.alertCounters().undeliverable).toBe(4)
  })

  it('the SAT chain holds after every path', async () => {
    const { dcc, sat } = fixture({ signers: 'none' })
    await dcc.submit(sr(rid(A, ESME_EUI, 1), '7.4'))
    await dcc.submit(sr(rid(A, ESME_EUI, 2), '7.2'))
    await dcc.submit(sr(rid(B, ESME_EUI, 3), '7.2'))
    dcc.deliverAlert(ESME_EUI, alert(A, '8F35', true))
    expect(sat.verify()).toEqual({ ok: true })
  })
})

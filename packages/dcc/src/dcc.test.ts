/**
 * The Service Request pipeline without devices: a fake transport that records the GBCS the DCC
 * sends and answers with canned bytes. Every DUIS path: refusals with their SAT records, the
 * in-process signer, the CV4/CV5 round trip and bad CV5s, no response, SR 6.23 from the CoS
 * Party, and device alerts routed with the DP072 remedy off and on.
 */
import { KeyObject } from 'node:crypto'
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
import { normaliseSerial } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import type { AnomalyConfig } from './access/anomaly.ts'
import { UserDirectory } from './access/users.ts'
import {
  BAD_PARAMETERS_CODE,
  createDcc,
  type DccConfig,
  type DuisRequest,
  MALFORMED_REQUEST_CODE,
  NO_PRE_COMMAND_CODE,
  NOT_BUILT_CODE,
  PRE_COMMAND_EXPIRED_CODE,
  SIGNATURE_INVALID_CODE,
} from './dcc.ts'
import { XSD_DCC_ALERT_CODES, XSD_RESPONSE_CODES } from './duis-5.4-enumerations.ts'
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

const serialOf = (c: { certificate: { serialNumber: string } }) => normaliseSerial(c.certificate.serialNumber)
const A_DS = serialOf(PARTIES.supplierA.ds)
const A_KA = serialOf(PARTIES.supplierA.ka)

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
    config?: Partial<DccConfig>
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
    { userId: A, name: 'Supplier A', roles: ['IS', 'GS'], certificates: [A_DS, A_KA] },
    { userId: B, name: 'Supplier B', roles: ['IS', 'GS'], certificates: [serialOf(PARTIES.supplierB.ds)] },
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
    ...o.config,
  }
  const dcc = createDcc(config)
  return {
    dcc,
    sat,
    sent,
    config,
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

  it('a malformed RequestID is answered (E1; E19 for the target), never thrown, and recorded under counter 0', async () => {
    const { dcc, sat } = fixture()
    for (const requestId of ['nonsense', `${A}:${ESME_EUI}`, `${A}:${ESME_EUI}:-1`, undefined]) {
      const result = await dcc.submit({ ...sr('x', '7.4'), requestId: requestId as unknown as string })
      expect(result.code).toBe(MALFORMED_REQUEST_CODE)
    }
    expect(MALFORMED_REQUEST_CODE).toBe('E1')
    expect(await dcc.submit(null as unknown as DuisRequest)).toMatchObject({ code: 'E1' })
    expect((await dcc.submit({ ...sr('x', '7.4'), requestId: `${A}:not-a-device:9` })).code).toBe('E19')
    // Each one is in the SAT: a request and a decision record, the originator when it can be read,
    // else the DCC (its ACB EUI), under the marker counter 0; the text as received, clipped.
    const decisions = sat.query({ kind: 'decision' })
    expect(decisions).toHaveLength(6)
    expect(decisions.map((r) => r.requestId?.split(':')[2])).toEqual(['0', '0', '0', '0', '0', '0'])
    expect(decisions.map((r) => r.user)).toEqual([ACB.eui, A, A, ACB.eui, ACB.eui, A])
    expect(sat.query({ kind: 'request' })[1]?.detail).toMatchObject({ claimedRequestId: `${A}:${ESME_EUI}` })
    // With an authenticated caller it is the caller's.
    await dcc.submit({ ...sr('junk', '7.4'), caller: B })
    expect(sat.query({ kind: 'decision' }).at(-1)).toMatchObject({
      user: B,
      code: 'E1',
      requestId: `${B}:${B}:0`,
    })
    // A malformed sender: the RequestID identifies the request.
    const bad = await dcc.submit(sr(rid(A, ESME_EUI, 5), '7.4', { sender: 'not-an-eui' }))
    expect(bad.code).toBe(MALFORMED_REQUEST_CODE)
    expect(kinds(sat, rid(A, ESME_EUI, 5))).toEqual(['request:', `decision:${MALFORMED_REQUEST_CODE}`])
    expect(sat.verify()).toEqual({ ok: true })
  })

  it('huge, deeply nested or non-JSON parameters and endless strings: a bounded SAT record and a DUIS answer', async () => {
    const { dcc, sat } = fixture()
    let deep: Record<string, unknown> = { installCode: 'SECRET' }
    for (let i = 0; i < 50_000; i++) deep = { nested: deep }
    const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'x'.repeat(1000)]))
    const odd = { when: new Date(0), fn: () => 1, big: 10n, nan: Number.NaN, list: Array(10_000).fill(7) }
    const cases = [deep, wide, odd, 'x'.repeat(1_000_000), [1, 2, 3]]
    let n = 100
    for (const parameters of cases) {
      const id = rid(A, ESME_EUI, ++n)
      const result = await dcc.submit(sr(id, '7.4', { parameters: parameters as never }))
      expect(typeof result.code).toBe('string')
      const record = sat.query({ requestId: id, kind: 'request' })[0]!
      expect(JSON.stringify(record).length).toBeLessThan(8000)
    }
    expect(sat.query({ requestId: rid(A, ESME_EUI, 101), kind: 'request' })[0]?.detail).toMatchObject({
      parametersTruncated: true,
    })
    // Claimed texts of any length are clipped too.
    const long = 'Z'.repeat(1_000_000)
    const r = await dcc.submit({ ...sr(rid(A, ESME_EUI, 200), long), role: long, deviceType: long })
    expect(r.code).toBe('E1')
    expect(r.reason!.length).toBeLessThan(200)
    for (const rec of sat.query({ requestId: rid(A, ESME_EUI, 200) }))
      expect(JSON.stringify(rec).length).toBeLessThan(2000)
    expect(JSON.stringify(sat.query())).not.toContain('SECRET')
    expect(sat.verify()).toEqual({ ok: true })
  })

  it('C1: a transport-authenticated caller that is not the sender is refused (E1), with the caller in the SAT', async () => {
    const { dcc, sat, sent } = fixture()
    const id = rid(A, ESME_EUI, 300)
    const refusedCall = await dcc.submit(sr(id, '7.4', { caller: B }))
    expect(refusedCall).toMatchObject({ code: 'E1', reason: expect.stringMatching(/caller/) })
    expect(sat.query({ requestId: id }).map((r) => [r.kind, r.user, r.code ?? null])).toEqual([
      ['request', B, null],
      ['decision', B, 'E1'],
    ])
    expect(sat.query({ requestId: id, kind: 'decision' })[0]?.detail).toMatchObject({
      step: 'caller',
      caller: B,
    })
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 301), '7.4', { caller: 'not an eui' }))).code).toBe('E1')
    expect(sent).toEqual([])
    // The sender itself passes, as does in-process use without a caller.
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 302), '7.4', { caller: A }))).code).toBe('I0')
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 303), '7.4'))).code).toBe('I0')
  })

  it('never throws: a transport or a repository that throws, an SMI that throws, a getter that throws', async () => {
    const { dcc } = fixture({
      config: {
        deviceKeyAgreement: () => {
          throw new Error('repository down')
        },
      },
    })
    expect(await dcc.submit(sr(rid(A, ESME_EUI, 400), '7.4'))).toMatchObject({
      code: 'E20',
      reason: expect.stringMatching(/internal fault.*repository down/),
    })
    const hostile = {
      get requestId(): string {
        throw new Error('no')
      },
    }
    expect((await dcc.submit(hostile as unknown as DuisRequest)).code).toBe('E20')
    expect((await dcc.submitSigned(null as unknown as string, 5 as unknown as Uint8Array)).code).toBe('E1')
  })

  it('after access control: a device type the SMI does not hold (E11), an SRV not built here, bad parameters', async () => {
    const { dcc, sat, sent } = fixture()
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 6), '7.4', { deviceType: 'GSME' }))).code).toBe('E11')
    expect(kinds(sat, rid(A, ESME_EUI, 6))).toEqual(['request:', 'decision:I99', 'decision:E11'])
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 7), '4.18'))).code).toBe(NOT_BUILT_CODE)
    const bad = await dcc.submit(sr(rid(A, ESME_EUI, 8), '1.6', { parameters: { paymentMode: 'barter' } }))
    expect(bad.code).toBe(BAD_PARAMETERS_CODE)
    expect(bad.code).toBe('E11')
    expect(NOT_BUILT_CODE).toBe('E11')
    expect(sent).toEqual([])
  })

  it('a quarantined request is acknowledged (I99, quarantined, not sent) with a QuarantinedRequest DCC Alert (AD1)', async () => {
    const anomaly: AnomalyConfig = {
      version: 1,
      users: [{ user: A, srv: '7.4', limit: 1, windowMs: DAY }],
      roleDefaults: [],
      dcc: [],
    }
    const { dcc, sat } = fixture({ anomaly })
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 20), '7.4'))).code).toBe('I0')
    const second = await dcc.submit(sr(rid(A, ESME_EUI, 21), '7.4'))
    expect(second).toMatchObject({ code: 'I99', quarantined: true })
    expect(second.dccAlerts?.map((a) => [a.type, a.recipient, a.code])).toEqual([
      ['QuarantinedRequest', A, 'AD1'],
    ])
    expect(dcc.dccAlertsFor(A)).toHaveLength(1)
    expect(kinds(sat, rid(A, ESME_EUI, 21))).toEqual(['request:', 'decision:I99', 'dccAlert:AD1'])
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

  it('a signing certificate the repository hands out as a fresh copy each time is parsed once', async () => {
    let parses = 0
    const counting = {
      ...backend,
      importPublicKey: (
        key: Parameters<typeof backend.importPublicKey>[0],
        opts?: { trustAnchor?: boolean },
      ) => {
        if (key instanceof KeyObject) parses++ // only the certificate's key arrives as a KeyObject
        return backend.importPublicKey(key, opts)
      },
    }
    const raw = PARTIES.supplierA.ds.certificate.raw
    const { dcc } = fixture({
      signers: 'none',
      config: {
        backend: counting,
        userCertificates: (id) =>
          id === A
            ? {
                digitalSigning: new Uint8Array(raw),
                keyAgreement: new Uint8Array(PARTIES.supplierA.ka.certificate.raw),
                certificationPath: [],
              }
            : undefined,
      },
    })
    for (const counter of [60, 61, 62]) {
      const id = rid(A, ESME_EUI, counter)
      const cv4 = await dcc.submit(sr(id, '7.3'))
      expect(cv4.code).toBe('I99')
      const cv5 = await dcc.submitSigned(id, signAs(cv4.preCommand!, privateRef(PARTIES.supplierA.ds)))
      expect(cv5.code).toBe('I0')
    }
    expect(parses).toBe(1)
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
    // SecurityCredentialsUpdated's DCCAlertCode is not known to us: no code, never an invented one.
    expect(kinds(sat, id)).toEqual(['request:', 'decision:I99', 'response:I0', 'dccAlert:'])
    expect(result.dccAlerts?.[0]?.code).toBeUndefined()
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

describe('device alerts', () => {
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
    const { dcc, sat, setClock } = fixture({
      blockAlertsToUnregisteredSuppliers: true,
      config: { alerts: { retentionMs: 7 * DAY } },
    })
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

describe('revocation of the signer’s certificate', () => {
  const revocable = () => {
    const revoked = new Set<string>()
    return { revoked, list: { isRevoked: (s: string) => revoked.has(normaliseSerial(s)) } }
  }

  it('a Critical command signed with a revoked key is refused, whatever serial the request names', async () => {
    const { revoked, list } = revocable()
    const { dcc, sat, sent } = fixture({ config: { revocation: list } })
    revoked.add(A_DS)
    // Access control passes (the KA certificate named is good, not all of A's are revoked) …
    const r = await dcc.submit(sr(rid(A, ESME_EUI, 500), '7.2', { signerCertificate: A_KA }))
    // … but the certificate that verifies the signature is A's DS certificate, revoked.
    expect(r).toMatchObject({ code: 'E1', reason: expect.stringMatching(/verifies with .* revoked/) })
    expect(sat.query({ requestId: rid(A, ESME_EUI, 500), kind: 'decision' }).map((x) => x.code)).toEqual([
      'I99',
      'E1',
    ])
    expect(sent).toEqual([])
    // A non-critical request carries no signature: it still goes.
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 501), '7.4'))).code).toBe('I0')
  })

  it('reads config.revocation at every check: replacing the list takes effect at the next request', async () => {
    const { dcc, config } = fixture()
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 510), '7.2'))).code).toBe('I0')
    config.revocation = { isRevoked: (s) => normaliseSerial(s) === A_DS }
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 511), '7.2'))).code).toBe('E1')
    config.revocation = undefined
    expect((await dcc.submit(sr(rid(A, ESME_EUI, 512), '7.2'))).code).toBe('I0')
  })

  it('a CV5 is re-checked at submission: revoked since its CV4, it is refused and the Pre-Command dropped', async () => {
    const { revoked, list } = revocable()
    const { dcc, sent } = fixture({ signers: 'none', config: { revocation: list } })
    const id = rid(A, ESME_EUI, 520)
    const cv4 = await dcc.submit(sr(id, '7.2'))
    expect(cv4.code).toBe('I99')
    revoked.add(A_DS)
    const signed = encodeSignedFrame(
      decodeFrame(cv4.preCommand!).signing,
      privateRef(PARTIES.supplierA.ds),
      backend,
    )
    expect(await dcc.submitSigned(id, signed)).toMatchObject({
      code: 'E1',
      reason: expect.stringMatching(/revoked/),
    })
    expect(dcc.pendingSignatures()).toEqual([])
    expect(sent).toEqual([])
    // All of A's certificates revoked: refused as such too.
    revoked.add(A_KA)
    const id2 = rid(A, ESME_EUI, 521)
    expect((await dcc.submit(sr(id2, '7.2'))).code).toBe('E1')
  })
})

describe('CV5 from the User the Pre-Command went to (C1)', () => {
  it('another authenticated caller is refused (E1) and the Pre-Command stays for the right one', async () => {
    const { dcc, sat } = fixture({ signers: 'none' })
    const id = rid(A, ESME_EUI, 600)
    const cv4 = await dcc.submit(sr(id, '7.3'))
    const signed = encodeSignedFrame(
      decodeFrame(cv4.preCommand!).signing,
      privateRef(PARTIES.supplierA.ds),
      backend,
    )
    expect(await dcc.submitSigned(id, signed, B)).toMatchObject({
      code: 'E1',
      reason: expect.stringMatching(/caller/),
    })
    expect(sat.query({ requestId: id, kind: 'decision' }).at(-1)).toMatchObject({ user: B, code: 'E1' })
    expect(dcc.pendingSignatures()).toEqual([id])
    expect((await dcc.submitSigned(id, signed, A)).code).toBe('I0')
  })
})

describe('bounded state', () => {
  it('Pre-Commands waiting are capped per User: the oldest goes, recorded, and its CV5 finds nothing', async () => {
    const { dcc, sat } = fixture({ signers: 'none', config: { preCommands: { perUser: 2 } } })
    const ids = [700, 701, 702].map((n) => rid(A, ESME_EUI, n))
    const cv4s = []
    for (const id of ids) cv4s.push(await dcc.submit(sr(id, '7.3')))
    expect(dcc.pendingSignatures()).toEqual(ids.slice(1))
    expect(sat.query({ requestId: ids[0]!, kind: 'decision' }).at(-1)).toMatchObject({
      code: PRE_COMMAND_EXPIRED_CODE,
      detail: { dropped: 'over the User’s cap' },
    })
    const signed = encodeSignedFrame(
      decodeFrame(cv4s[0]!.preCommand!).signing,
      privateRef(PARTIES.supplierA.ds),
      backend,
    )
    expect((await dcc.submitSigned(ids[0]!, signed)).code).toBe(NO_PRE_COMMAND_CODE)
  })

  it('alerts carry a DCC-wide seq, page by afterSeq / limit, and are kept at most perUser and two days', async () => {
    const { dcc, setClock } = fixture({ config: { alerts: { perUser: 3 } } })
    for (let i = 1; i <= 5; i++) dcc.deliverAlert(ESME_EUI, alert(A, '8F35', true, BigInt(i)))
    const held = dcc.alertsFor(A)
    expect(held.map((a) => a.seq)).toEqual([3, 4, 5])
    expect(dcc.alertsFor(A, { afterSeq: 3 }).map((a) => a.seq)).toEqual([4, 5])
    expect(dcc.alertsFor(A, { afterSeq: 3, limit: 1 }).map((a) => a.seq)).toEqual([4])
    expect(dcc.alertsFor(A, { afterSeq: 5 })).toEqual([])
    // DCC Alerts number from the same counter.
    const quarantined = fixture({
      anomaly: {
        version: 1,
        users: [{ user: A, srv: '*', limit: 0, windowMs: DAY }],
        roleDefaults: [],
        dcc: [],
      },
    })
    const q = await quarantined.dcc.submit(sr(rid(A, ESME_EUI, 801), '7.4'))
    expect(q.dccAlerts?.[0]?.seq).toBe(1)
    // Two days on, the queue is empty (DUIS keeps undelivered Device Alerts two days).
    setClock(T0 + 2 * DAY + 1)
    expect(dcc.alertsFor(A)).toEqual([])
    expect(dcc.alertCounters(A).delivered).toBe(5)
  })
})

describe('future-dated SR 6.23', () => {
  const future = new Date(T0 + 2 * DAY + 3_600_000).toISOString()
  const cos = (counter: number) =>
    sr(rid(B, ESME_EUI, counter), '6.23', { parameters: { executionDateTime: future } })

  it('is acknowledged (I99), then completes with the device’s 0x8F70 + 0x8F66: SAT response, DCC Alerts', async () => {
    // The emulated device acknowledges a future-dated CS02b without a response.
    const { dcc, sat, setClock } = fixture({ answer: async () => undefined })
    setClock(SSD + 1000)
    const id = rid(B, ESME_EUI, 900)
    const ack = await dcc.submit(cos(900))
    expect(ack).toMatchObject({ code: 'I99', futureDated: { executionDateTime: future } })
    expect(kinds(sat, id)).toEqual(['request:', 'decision:I99', 'response:I99'])
    setClock(Date.parse(future) + 1000)
    dcc.deliverAlert(ESME_EUI, alert(B, '8F70', true, 1n))
    dcc.deliverAlert(ESME_EUI, alert(B, '8F66', true, 2n))
    expect(kinds(sat, id)).toEqual([
      'request:',
      'decision:I99',
      'response:I99',
      'alert:8F70',
      'alert:8F66',
      'response:8F66',
      'dccAlert:',
      'dccAlert:',
    ])
    expect(dcc.dccAlertsFor(B).map((a) => a.type)).toEqual(['SecurityCredentialsUpdated'])
    expect(dcc.dccAlertsFor(A).map((a) => a.type)).toEqual(['ChangeOfSupplier'])
    expect(dcc.alertsFor(B).map((a) => [a.alertCode, a.requestId])).toEqual([
      ['8F70', id],
      ['8F66', id],
    ])
    // Completed once: a second 0x8F66 belongs to nothing.
    dcc.deliverAlert(ESME_EUI, alert(B, '8F66', true, 3n))
    expect(sat.query({ requestId: id, kind: 'response' })).toHaveLength(2)
  })

  it('0x8F67 (not actioned): CommandFailure to the requester; no outcome in time: E30 and CommandFailure', async () => {
    const { dcc, sat, setClock } = fixture({
      answer: async () => undefined,
      config: { futureDated: { timeoutMs: DAY } },
    })
    setClock(SSD + 1000)
    await dcc.submit(cos(910))
    await dcc.submit(cos(911))
    setClock(Date.parse(future) + 1000)
    dcc.deliverAlert(ESME_EUI, alert(B, '8F67', true, 1n))
    expect(sat.query({ requestId: rid(B, ESME_EUI, 910), kind: 'response' }).map((r) => r.code)).toEqual([
      'I99',
      '8F67',
    ])
    setClock(Date.parse(future) + DAY)
    expect(dcc.pendingSignatures()).toEqual([]) // any call into the DCC ends what is overdue
    expect(sat.query({ requestId: rid(B, ESME_EUI, 911), kind: 'response' }).map((r) => r.code)).toEqual([
      'I99',
      'E30',
    ])
    expect(dcc.dccAlertsFor(B).map((a) => a.type)).toEqual(['CommandFailure', 'CommandFailure'])
  })
})

describe('every code answered and recorded is DUIS’s', () => {
  it('the SAT of a run through every path holds only XSD codes (device alert codes apart)', async () => {
    const { dcc, sat, setClock } = fixture({ signers: 'none' })
    await dcc.submit(sr(rid(A, ESME_EUI, 1), '7.4'))
    await dcc.submit(sr(rid(A, ESME_EUI, 2), '7.2'))
    await dcc.submit(sr(rid(B, ESME_EUI, 3), '7.2'))
    await dcc.submit(sr(rid(A, ESME_EUI, 4), '99.9'))
    await dcc.submit(sr(rid(A, ESME_EUI, 5), '7.4', { role: 'XX' }))
    await dcc.submit(sr(rid(A, ESME_EUI, 6), '7.4', { deviceType: 'GSME' }))
    await dcc.submit(sr(rid(A, ESME_EUI, 7), '4.18'))
    await dcc.submit(sr(rid(A, ESME_EUI, 8), '1.6', { parameters: { paymentMode: 'x' } }))
    await dcc.submit(sr(rid(A, ESME_EUI, 9), '7.4', { caller: B }))
    await dcc.submit(sr('junk', '7.4'))
    await dcc.submitSigned(rid(A, ESME_EUI, 10), Uint8Array.of(1))
    await dcc.submitSigned(rid(A, ESME_EUI, 2), Uint8Array.of(1))
    await dcc.submit(sr(rid(A, ESME_EUI, 11), '5.1', { commandVariant: 8, parameters: {} }))
    await dcc.submit(
      sr(rid(A, ESME_EUI, 12), '5.3', { commandVariant: 8, parameters: { scheduleId: 'DS000009' } }),
    )
    setClock(SSD + 1000)
    await dcc.submit(sr(rid(B, ESME_EUI, 13), '6.23'))
    dcc.deliverAlert(ESME_EUI, alert(A, '8F35', true))
    for (const r of sat.query()) {
      if (r.code === undefined) continue
      if (r.kind === 'alert') continue
      if (r.kind === 'dccAlert') expect(XSD_DCC_ALERT_CODES).toContain(r.code)
      else expect([r.kind, r.code, XSD_RESPONSE_CODES.includes(r.code)]).toEqual([r.kind, r.code, true])
    }
    expect(sat.verify()).toEqual({ ok: true })
  })
})

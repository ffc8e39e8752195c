/**
 * GBCS command construction without devices: every SRV's Pre-Command, the User's signature
 * (in-process and the CV4/CV5 round trip), the check before MACing, and the ACB's MAC as the
 * device recomputes it.
 */
import { toHex } from '@smetsim/core'
import {
  decodeFrame,
  decodePayload,
  encodeSignedFrame,
  type GeneralSigning,
  messageKey,
  type PrivateKeyRef,
  verifyGeneralSigning,
  verifyMac,
} from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import {
  buildPreCommand,
  CommandProtectionError,
  changeOfSupplierCommand,
  completeCommand,
  constructCommand,
  createInProcessSigner,
  isCritical,
  isCriticalMessageCode,
  preCommandBytes,
  signedFromUser,
} from './construct.ts'
import { commandFor, GBCS_SRVS, type GbcsServiceRequest, ServiceRequestError } from './service-requests.ts'
import { ACB, backend, CASES, cosParameters, ESME_EUI, GSME_EUI, PARTIES, privateRef, T0 } from './testing.ts'

const supplierA = PARTIES.supplierA
const userSigner = createInProcessSigner(privateRef(supplierA.ds), backend)
const deviceKa: PrivateKeyRef = backend.generatePrivateKey()

const request = (c: (typeof CASES)[number]): GbcsServiceRequest => ({
  srv: c.srv,
  target: c.deviceType === 'ESME' ? ESME_EUI : GSME_EUI,
  deviceType: c.deviceType,
  parameters: c.parameters,
})

/** What the device does with a command: the MAC with its own KA key against the ACB's. */
function deviceChecksMac(bytes: Uint8Array) {
  const frame = decodeFrame(bytes)
  const key = messageKey(frame.signing, deviceKa, privateRef(PARTIES.acb.ka).publicKey, backend)
  return { frame, macOk: verifyMac(frame, key) }
}

const errorOf = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error('did not throw')
}

describe('Service Request → GBCS use case and view', () => {
  it.each(CASES.map((c) => [`${c.srv} ${c.deviceType} → ${c.useCase}`, c] as const))('%s', (_, c) => {
    const pre = buildPreCommand(request(c), { originator: supplierA.eui, counter: 1000n, now: T0 })
    const spec = commandFor(request(c), { originator: supplierA.eui, counter: 1000n, now: T0 })
    expect(spec.useCase).toBe(c.useCase)
    expect(pre).toMatchObject({
      cra: 'command',
      originatorCounter: 1000n,
      originator: supplierA.eui,
      recipient: c.deviceType === 'ESME' ? ESME_EUI : GSME_EUI,
      messageCode: c.messageCode,
      signature: { kind: 'absent' },
    })
    // The payload decodes back to the very view (as the device will read it).
    const view = decodePayload(pre.content, { messageCode: c.messageCode, cra: 'command' }).useCase
    expect(view).toEqual(spec.view)
    expect(view!.name.startsWith(c.useCase)).toBe(true)
  })

  it('puts the originator and counter into a protected read, so the answer is encrypted for it', () => {
    const spec = commandFor(
      { srv: '4.1.1', target: ESME_EUI, deviceType: 'ESME' },
      { originator: supplierA.eui, counter: 0x1234n },
    )
    expect(spec.view!.protection).toEqual([
      expect.objectContaining({
        transactionId: '040000000000001234',
        originatorSystemTitle: supplierA.eui,
        recipientSystemTitle: ESME_EUI,
      }),
    ])
  })

  it('carries the execution date-time and the payment-mode flags', () => {
    const at = '2026-02-01T00:00:00.000Z'
    const gas = commandFor(
      {
        srv: '1.6',
        target: GSME_EUI,
        deviceType: 'GSME',
        parameters: { paymentMode: 'prepayment', suspendDebtEmergency: true, executionDateTime: at },
      },
      { originator: supplierA.eui, counter: 5n },
    )
    expect(gas.view).toMatchObject({
      executionDateTime: '2026-02-01T00:00:00Z',
      suspendDebtDisabled: true,
      suspendDebtEmergency: true,
      disablementThreshold: 0,
    })
    const elec = commandFor(
      {
        srv: '1.6',
        target: ESME_EUI,
        deviceType: 'ESME',
        parameters: { paymentMode: 'prepayment', executionDateTime: at, disablementThreshold: -100 },
      },
      { originator: supplierA.eui, counter: 5n },
    )
    expect(elec.view).toMatchObject({
      activationDateTime: '2026-02-01T00:00:00Z',
      disablementThreshold: -100,
    })
  })

  it('builds SR 2.2 CS01a with the UTRN', () => {
    const utrn = '12345678901234567890'
    const spec = commandFor(
      { srv: '2.2', target: ESME_EUI, deviceType: 'ESME', parameters: { utrn } },
      { originator: supplierA.eui, counter: 1n << 32n },
    )
    expect(spec).toMatchObject({ useCase: 'CS01a', messageCode: 0x0007, view: { utrn } })
  })

  it('builds SR 6.23 as CS02b supplierByTransCoS, message code 0x0107', () => {
    const spec = commandFor(
      { srv: '6.23', target: ESME_EUI, deviceType: 'ESME', parameters: cosParameters(PARTIES.supplierB) },
      { originator: PARTIES.cos.eui, counter: 7000n },
    )
    expect(spec.messageCode).toBe(0x0107)
    expect(spec.view!.authorisingRemotePartyControl).toMatchObject({
      credentialsReplacementMode: 'supplierByTransCoS',
      authorisingRemotePartySeqNumber: 7000,
      otherRemotePartySeqNumberChanges: [{ remotePartyRole: 'supplier', floorSeqNumber: 500 }],
    })
    expect(spec.view!.replacements).toHaveLength(3)
    const pre = buildPreCommand(
      { srv: '6.23', target: ESME_EUI, deviceType: 'ESME', parameters: cosParameters(PARTIES.supplierB) },
      { originator: PARTIES.cos.eui, counter: 7000n },
    )
    expect(decodePayload(pre.content, { messageCode: 0x0107, cra: 'command' }).useCase).toEqual(spec.view)
  })

  it('refuses unknown SRVs, wrong device types, unemulated use cases and bad parameters', () => {
    const ctx = { originator: supplierA.eui, counter: 1n }
    const kind = (sr: GbcsServiceRequest) => (errorOf(() => commandFor(sr, ctx)) as ServiceRequestError).kind
    expect(kind({ srv: '9.99', target: ESME_EUI, deviceType: 'ESME' })).toBe('unknown-srv')
    expect(
      errorOf(() => commandFor({ srv: '9.99', target: ESME_EUI, deviceType: 'ESME' }, ctx)),
    ).toBeInstanceOf(ServiceRequestError)
    expect(kind({ srv: '7.1', target: GSME_EUI, deviceType: 'GSME' })).toBe('wrong-device-type')
    expect(() => commandFor({ srv: '7.1', target: GSME_EUI, deviceType: 'GSME' }, ctx)).toThrow(
      /SR 7.1 Enable Supply is for ESME, not for a GSME/,
    )
    expect(kind({ srv: '2.2', target: GSME_EUI, deviceType: 'GSME', parameters: { utrn: '1' } })).toBe(
      'not-emulated',
    )
    expect(kind({ srv: '2.2', target: ESME_EUI, deviceType: 'ESME', parameters: { utrn: '12' } })).toBe(
      'bad-parameters',
    )
    expect(
      kind({ srv: '1.6', target: ESME_EUI, deviceType: 'ESME', parameters: { paymentMode: 'barter' } }),
    ).toBe('bad-parameters')
    expect(kind({ srv: '6.23', target: ESME_EUI, deviceType: 'ESME', parameters: {} })).toBe('bad-parameters')
    expect(kind({ srv: '7.3', target: 'nope', deviceType: 'ESME' })).toBe('bad-parameters')
    expect(kind({ srv: '6.8', target: ESME_EUI, deviceType: 'ESME', parameters: {} })).toBe('bad-parameters')
    expect(
      kind({
        srv: '6.8',
        target: ESME_EUI,
        deviceType: 'ESME',
        parameters: { executionTimes: [{ time: '001E00', date: 'FFFFFFFFFF' }] },
      }),
    ).toBe('bad-parameters')
    expect(kind({ srv: '6.8', target: GSME_EUI, deviceType: 'GSME', parameters: {} })).toBe('not-emulated')
    expect(() => isCritical('9.99')).toThrow(ServiceRequestError)
  })

  it('knows which SRVs the User signs (DUIS Critical) and which commands the device wants signed', () => {
    expect(GBCS_SRVS.filter(isCritical).sort()).toEqual([
      '1.6',
      '2.5',
      '6.11',
      '6.8',
      '7.1',
      '7.2',
      '7.3',
      '8.1.1',
    ])
    for (const c of CASES) expect(isCriticalMessageCode(c.messageCode)).toBe(isCritical(c.srv))
    // SR 6.23 is CV1 for the User, yet its CS02b is signed (by the CoS Party).
    expect(isCritical('6.23')).toBe(false)
    expect(isCriticalMessageCode(0x0107)).toBe(true)
  })
})

describe('signing and MACing', () => {
  const arm: GbcsServiceRequest = { srv: '7.3', target: ESME_EUI, deviceType: 'ESME' }
  const read: GbcsServiceRequest = { srv: '7.4', target: ESME_EUI, deviceType: 'ESME' }
  const pre = () => buildPreCommand(arm, { originator: supplierA.eui, counter: 42n })

  it('Critical: the User signs in-process, the DCC checks it, the ACB MACs', () => {
    const p = pre()
    const bytes = completeCommand(p, userSigner.sign(p), ACB, deviceKa.publicKey, backend)
    const { frame, macOk } = deviceChecksMac(bytes)
    expect(macOk).toBe(true)
    expect(frame.signing.signature.kind).toBe('ecdsa')
    expect(verifyGeneralSigning(frame.signing, privateRef(supplierA.ds).publicKey, backend)).toBe(true)
  })

  it('Critical: a forged User signature is refused before anything is MACed', () => {
    const p = pre()
    const forger = createInProcessSigner(privateRef(PARTIES.supplierB.ds), backend)
    // Signed by another key, but presented as supplier A's.
    const forged = { ...forger.sign(p), signerPublic: userSigner.publicKey }
    const e = errorOf(() => completeCommand(p, forged, ACB, deviceKa.publicKey, backend))
    expect(e).toBeInstanceOf(CommandProtectionError)
    expect((e as CommandProtectionError).kind).toBe('signature-invalid')
    // A signature over another command does not carry over either.
    const other = buildPreCommand(arm, { originator: supplierA.eui, counter: 43n })
    const replayed = userSigner.sign(other)
    expect(() => completeCommand(p, replayed, ACB, deviceKa.publicKey, backend)).toThrow(/does not verify/)
    const flipped = userSigner.sign(p)
    flipped.signature[10]! ^= 1
    expect(() => completeCommand(p, flipped, ACB, deviceKa.publicKey, backend)).toThrow(
      CommandProtectionError,
    )
  })

  it('Critical: no signature, no command', () => {
    const e = errorOf(() => completeCommand(pre(), undefined, ACB, deviceKa.publicKey, backend))
    expect((e as CommandProtectionError).kind).toBe('signature-missing')
  })

  it('non-critical: an empty signature field, then the MAC; a signature is refused', () => {
    const p = buildPreCommand(read, { originator: supplierA.eui, counter: 44n })
    const bytes = completeCommand(p, undefined, ACB, deviceKa.publicKey, backend)
    const { frame, macOk } = deviceChecksMac(bytes)
    expect(macOk).toBe(true)
    expect(frame.signing.signature).toEqual({ kind: 'empty' })
    const e = errorOf(() => completeCommand(p, userSigner.sign(p), ACB, deviceKa.publicKey, backend))
    expect((e as CommandProtectionError).kind).toBe('signature-unexpected')
  })

  it('a MAC for another device does not verify on this one', () => {
    const p = pre()
    const elsewhere = backend.generatePrivateKey()
    const bytes = completeCommand(p, userSigner.sign(p), ACB, elsewhere.publicKey, backend)
    expect(deviceChecksMac(bytes).macOk).toBe(false)
  })

  it('refuses to complete what is not a Pre-Command', () => {
    const p = pre()
    const signed: GeneralSigning = { ...p, signature: { kind: 'empty' } }
    expect(() => completeCommand(signed, undefined, ACB, deviceKa.publicKey, backend)).toThrow(/Pre-Command/)
    expect(() => buildPreCommand(arm, { originator: supplierA.eui, counter: 0n })).toThrow(/counter/)
  })

  it('constructCommand builds, signs when Critical, and MACs in one go', () => {
    const o = {
      originator: supplierA.eui,
      counter: 45n,
      signer: userSigner,
      acb: ACB,
      deviceKaPublic: deviceKa.publicKey,
    }
    expect(decodeFrame(constructCommand(arm, o, backend)).signing.signature.kind).toBe('ecdsa')
    expect(decodeFrame(constructCommand(read, o, backend)).signing.signature.kind).toBe('empty')
    const { signer: _, ...unsigned } = o
    expect(() => constructCommand(arm, unsigned, backend)).toThrow(/Critical/)
  })
})

describe('the DUIS CV4/CV5 round trip', () => {
  const arm: GbcsServiceRequest = { srv: '7.3', target: ESME_EUI, deviceType: 'ESME' }
  const userKey = privateRef(supplierA.ds)

  it('CV4 returns the Pre-Command bytes; the User signs offline; CV5 is checked and MACed', () => {
    const pre = buildPreCommand(arm, { originator: supplierA.eui, counter: 100n })
    const cv4 = preCommandBytes(pre)
    expect(cv4[0]).toBe(0xdf)
    // The User decodes the Pre-Command and returns it signed (General-Signing with its signature).
    const received = decodeFrame(cv4)
    expect(received.mac).toBeUndefined()
    expect(received.signing.signature).toEqual({ kind: 'absent' })
    const cv5 = encodeSignedFrame(received.signing, userKey, backend)
    const signature = signedFromUser(cv5, pre, userKey.publicKey)
    const bytes = completeCommand(pre, signature, ACB, deviceKa.publicKey, backend)
    expect(deviceChecksMac(bytes).macOk).toBe(true)
    expect(toHex(decodeFrame(bytes).signing.content)).toBe(toHex(pre.content))
  })

  it('CV5 with another command than the Pre-Command issued is refused', () => {
    const pre = buildPreCommand(arm, { originator: supplierA.eui, counter: 101n })
    const changed = buildPreCommand(
      { srv: '7.1', target: ESME_EUI, deviceType: 'ESME' },
      { originator: supplierA.eui, counter: 101n },
    )
    const cv5 = encodeSignedFrame(changed, userKey, backend)
    const e = errorOf(() => signedFromUser(cv5, pre, userKey.publicKey))
    expect((e as CommandProtectionError).kind).toBe('pre-command-mismatch')
    expect(() => signedFromUser(preCommandBytes(pre), pre, userKey.publicKey)).toThrow(/no ECDSA signature/)
    expect(() => signedFromUser(Uint8Array.of(1, 2, 3), pre, userKey.publicKey)).toThrow(/not a GBCS command/)
  })

  it('CV5 signed with a key other than the User certificate is refused before MACing', () => {
    const pre = buildPreCommand(arm, { originator: supplierA.eui, counter: 102n })
    const cv5 = encodeSignedFrame(pre, privateRef(PARTIES.supplierB.ds), backend)
    const signature = signedFromUser(cv5, pre, userKey.publicKey)
    expect(() => completeCommand(pre, signature, ACB, deviceKa.publicKey, backend)).toThrow(/does not verify/)
  })
})

describe('SR 6.23 by the CoS Party', () => {
  const sr: GbcsServiceRequest = {
    srv: '6.23',
    target: ESME_EUI,
    deviceType: 'ESME',
    parameters: cosParameters(PARTIES.supplierB),
  }
  const cos = { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) }

  it('is signed by the CoS Party and MACed by the ACB', () => {
    const bytes = changeOfSupplierCommand(
      sr,
      { cos, counter: 7000n, acb: ACB, deviceKaPublic: deviceKa.publicKey },
      backend,
    )
    const { frame, macOk } = deviceChecksMac(bytes)
    expect(macOk).toBe(true)
    expect(frame.signing).toMatchObject({
      originator: PARTIES.cos.eui,
      messageCode: 0x0107,
      originatorCounter: 7000n,
    })
    expect(verifyGeneralSigning(frame.signing, privateRef(PARTIES.cos.ds).publicKey, backend)).toBe(true)
  })

  it('is only for SR 6.23', () => {
    expect(() =>
      changeOfSupplierCommand(
        { srv: '7.3', target: ESME_EUI, deviceType: 'ESME' },
        { cos, counter: 1n, acb: ACB, deviceKaPublic: deviceKa.publicKey },
        backend,
      ),
    ).toThrow(/6.23 only/)
  })
})

import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import type { Cra, Json, PayloadContext } from '../types.ts'
import { asn1Family } from './der.ts'
import { asn1UseCases, type View } from './use-cases.ts'

const ctxOf = (messageCode: number, cra: Cra): PayloadContext => ({ messageCode, cra })

function codec(ctx: PayloadContext) {
  const uc = asn1UseCases.find((u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra))
  if (!uc) throw new Error(`no view for ${ctx.messageCode}`)
  return uc
}

/** build → bytes → decode → interpret gives the view back; returns the bytes. */
function viewRoundTrip(view: View, ctx: PayloadContext): string {
  const uc = codec(ctx)
  const bytes = asn1Family.encode(uc.build(view, ctx), ctx)
  const s = asn1Family.decode(bytes, ctx, 0)
  expect(uc.interpret(JSON.parse(JSON.stringify(s)) as Json, ctx)).toEqual(view)
  return toHex(bytes)
}

function interpret(h: string, ctx: PayloadContext): View | undefined {
  return codec(ctx).interpret(asn1Family.decode(fromHex(h), ctx, 0), ctx)
}

const CS02B = 'CS02b Update Security Credentials'

// Hand-built (not RTDS): supplierBySupplier, one replacement with a stand-in certificate 3003020101.
const COMMAND_HEX =
  '303F' +
  ('3013' + '020102' + 'A207' + '020102' + '03020780' + '830203E8' + '840100') +
  ('3013' + '3011' + '3003020101' + '300A' + '020102' + '03020308' + '020101') +
  ('3002' + '3000') +
  ('180F' + '32303330303131353039303030305A')

const COMMAND: View = {
  name: CS02B,
  authorisingRemotePartyControl: {
    credentialsReplacementMode: 'supplierBySupplier',
    authorisingRemotePartyTACellIdentifier: { remotePartyRole: 'supplier', keyUsage: ['digitalSignature'] },
    authorisingRemotePartySeqNumber: 1000,
    newRemotePartyFloorSeqNumber: 0,
  },
  replacements: [
    {
      replacementCertificate: '3003020101',
      targetTrustAnchorCell: {
        remotePartyRole: 'supplier',
        keyUsage: ['keyAgreement'],
        cellUsage: 'prePaymentTopUp',
      },
    },
  ],
  certificationPathCertificates: ['3000'],
  executionDateTime: '2030-01-15T09:00:00Z',
}

const OUTCOME_HEX =
  '3035' +
  '020203E8' +
  '020107' +
  ('3012' + '3010' + '020102' + '020100' + '3008' + '3006' + '020100' + '020105') +
  ('3018' + '3016' + '3006' + '020102' + '0301' + '00') +
  ('0A0105' + '0401' + 'AA' + '0400' + '0401' + 'BB' + '0401' + 'CC')

const OUTCOME = {
  authorisingRemotePartySeqNumber: 1000,
  credentialsReplacementMode: 'supplierByTransCoS',
  remotePartySeqNumberChanges: [
    {
      remotePartyRole: 'supplier',
      floorSeqNumber: 0,
      specialistFloorSeqNumbers: [{ seqNumberUsage: 'prePaymentTopUp', seqNumber: 5 }],
    },
  ],
  replacementOutcomes: [
    {
      affectedTrustAnchorCell: { remotePartyRole: 'supplier', keyUsage: [] },
      statusCode: 'badCertificate',
      existingSubjectUniqueID: 'AA',
      existingSubjectKeyIdentifier: '',
      replacingSubjectUniqueID: 'BB',
      replacingSubjectKeyIdentifier: 'CC',
    },
  ],
}

describe('ASN.1 use-case views', () => {
  it('lists the message codes and CRA flags', () => {
    expect(asn1UseCases.map((u) => [u.messageCodes.length, u.cra.join()])).toEqual([
      [10, 'command,response'],
      [1, 'alert'],
      [1, 'command,response'],
    ])
  })

  it('CS02b command: UpdateSecurityCredentials', () => {
    const ctx = ctxOf(0x0102, 'command')
    expect(viewRoundTrip(COMMAND, ctx)).toBe(COMMAND_HEX)
    expect(interpret(COMMAND_HEX, ctx)).toEqual(COMMAND)
    // the same structure under the supplierByTransCoS message code
    expect(interpret(COMMAND_HEX, ctxOf(0x0107, 'command'))?.name).toBe(CS02B)
  })

  it('CS02b command: optional fields', () => {
    const ctx = ctxOf(0x0107, 'command')
    const view: View = {
      name: CS02B,
      authorisingRemotePartyControl: {
        credentialsReplacementMode: 'supplierByTransCoS',
        plaintextSymmetricKey: '00112233',
        applyTimeBasedCPVChecks: 'disapply',
        authorisingRemotePartySeqNumber: '18446744073709551615',
        newRemotePartySpecialistFloorSeqNumbers: [{ seqNumberUsage: 'prePaymentTopUp', seqNumber: 1 }],
        otherRemotePartySeqNumberChanges: [{ remotePartyRole: 'networkOperator', floorSeqNumber: 128 }],
      },
      replacements: [],
      certificationPathCertificates: [],
    }
    expect(viewRoundTrip(view, ctx)).toBe(
      '3032' +
        ('302C' + '020107' + '800400112233' + '810101' + '830900FFFFFFFFFFFFFFFF') +
        ('A508' + '3006' + '020100' + '020101') +
        ('A609' + '3007' + '020103' + '02020080') +
        '3000' +
        '3000',
    )
  })

  it('CS02b response: command accepted, with and without the execution outcome', () => {
    const ctx = ctxOf(0x0102, 'response')
    expect(viewRoundTrip({ name: CS02B }, ctx)).toBe('30020500')
    const view = { name: CS02B, executionOutcome: OUTCOME }
    expect(viewRoundTrip(view, ctx)).toBe(`3039050030${OUTCOME_HEX.slice(2)}`)
    // GBCS devices send 82 00 xx lengths: kept in lengthOctets by view path
    const long = `3082003B050030820035${OUTCOME_HEX.slice(4)}`
    expect(interpret(long, ctx)).toEqual({ ...view, lengthOctets: { $: 2, '$.executionOutcome': 2 } })
    expect(viewRoundTrip({ ...view, lengthOctets: { $: 2, '$.executionOutcome': 2 } }, ctx)).toBe(long)
  })

  it('CS02b alert 0x00CB', () => {
    const ctx = ctxOf(0x00cb, 'alert')
    const view: View = {
      name: 'CS02b Update Security Credentials Alert',
      alertCode: '8F66',
      executionDateTime: '2030-01-15T00:00:00Z',
      executionOutcome: OUTCOME,
    }
    expect(viewRoundTrip(view, ctx)).toBe(`304D0203008F66180F32303330303131353030303030305A${OUTCOME_HEX}`)
  })

  it('GCS28 set time command and response', () => {
    expect(
      viewRoundTrip(
        {
          name: 'GCS28 Set Clock on the GSME',
          validityIntervalStart: '2014-12-31T23:30:00Z',
          validityIntervalEnd: '2015-01-01T00:30:00Z',
        },
        ctxOf(0x007f, 'command'),
      ),
    ).toBe('3022180F32303134313233313233333030305A180F32303135303130313030333030305A')
    expect(interpret('3014180F32303135303130313030303030305A020102', ctxOf(0x007f, 'response'))).toEqual({
      name: 'GCS28 Set Clock on the GSME',
      deviceTime: '2015-01-01T00:00:00Z',
      deviceTimeStatus: 'unreliable',
    })
    expect(
      viewRoundTrip(
        { name: 'GCS28 Set Clock on the GSME', deviceTime: '2015-01-01T00:00:00Z', deviceTimeStatus: 9 },
        ctxOf(0x007f, 'response'),
      ),
    ).toBe('3014180F32303135303130313030303030305A020109')
  })

  it('leaves payloads of another shape to the structure', () => {
    const resp = ctxOf(0x0102, 'response')
    expect(interpret('3000', resp)).toBeUndefined()
    expect(interpret('0500', resp)).toBeUndefined()
    expect(interpret('300405000500', resp)).toBeUndefined()
    const time = ctxOf(0x007f, 'response')
    // not YYYYMMDDHHMMSSZ
    expect(interpret('3012180D3230313530313031303030305A020100', time)).toBeUndefined()
    // non-minimal INTEGER
    expect(interpret('3015180F32303135303130313030303030305A02020002', time)).toBeUndefined()
    // a BIT STRING with stray unused bits
    const cmd = ctxOf(0x0102, 'command')
    expect(interpret(COMMAND_HEX.replace('A20702010203020780', 'A20702010203020080'), cmd)).toBeUndefined()
    // an extra component
    expect(interpret('3016180F32303135303130313030303030305A0201000500', time)).toBeUndefined()
    // malformed structures given by hand
    expect(codec(time).interpret({ tag: '30' }, time)).toBeUndefined()
    expect(codec(time).interpret({ tag: '30', children: [{ tag: '18', value: 'XY' }] }, time)).toBeUndefined()
  })

  it('checks the view on build, naming the field', () => {
    const ctx = ctxOf(0x0102, 'command')
    const bad = (v: Json, re: RegExp) => expect(() => codec(ctx).build(v as View, ctx)).toThrow(re)
    bad({ ...COMMAND, executionDateTime: '2030-01-15' }, /\$\.executionDateTime: expected YYYY/)
    bad({ ...COMMAND, replacements: [{}] }, /\$\.replacements\[0\]\.replacementCertificate/)
    bad(
      {
        ...COMMAND,
        replacements: [{ ...(COMMAND.replacements as View[])[0], replacementCertificate: '3005' }],
      },
      /not one DER value/,
    )
    bad({ ...COMMAND, surplus: 1 }, /\$\.surplus: unknown field/)
    bad(
      { ...COMMAND, authorisingRemotePartyControl: { credentialsReplacementMode: 'sideways' } },
      /credentialsReplacementMode: expected one of/,
    )
    const cell = { remotePartyRole: 'supplier', keyUsage: ['flying'] }
    bad(
      { ...COMMAND, replacements: [{ replacementCertificate: '3000', targetTrustAnchorCell: cell }] },
      /keyUsage\[0\]/,
    )
    bad({ ...COMMAND, lengthOctets: { $: 9 } }, /lengthOctets/)
    expect(() => codec(ctx).build(COMMAND, ctxOf(0x0102, 'alert'))).toThrow(TypeError)
  })
})

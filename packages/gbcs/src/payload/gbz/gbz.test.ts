import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../codec/reader.ts'
import type { Cra, Json } from '../types.ts'
import { decodeGbz, encodeGbz, gbzFamily } from './gbz.ts'

const hx = (...parts: string[]) => fromHex(parts.join('').replace(/\s+/g, ''))
const ctxOf = (messageCode: number, cra: Cra) => ({ messageCode, cra })
const command = ctxOf(0x006d, 'command')
const response = ctxOf(0x006d, 'response')

/** A GBZ component: control, cluster, length (computed), body. */
function component(control: string, cluster: string, ...body: string[]): string {
  const b = body.join('').replace(/\s+/g, '')
  return control + cluster + (b.length / 2).toString(16).padStart(4, '0') + b
}

function gbz(...components: string[]): Uint8Array {
  return hx('0109', components.length.toString(16).padStart(2, '0'), ...components)
}

function roundTrip(bytes: Uint8Array, ctx = command): Json {
  const s = gbzFamily.decode(bytes, ctx, 0)
  expect(toHex(gbzFamily.encode(JSON.parse(JSON.stringify(s)) as Json, ctx))).toBe(toHex(bytes))
  return s
}

function decodeError(bytes: Uint8Array, ctx = command, base = 0): DecodeError {
  try {
    decodeGbz(bytes, ctx, base)
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error('expected a DecodeError')
}

describe('gbzFamily.matches', () => {
  it('sniffs the 0x0109 profile id, except for the message codes with other layouts', () => {
    expect(gbzFamily.matches(hx('0109 00'), command)).toBe(true)
    expect(gbzFamily.matches(hx('0109'), ctxOf(0x1000, 'alert'))).toBe(true)
    expect(gbzFamily.matches(hx('0108 00'), command)).toBe(false)
    expect(gbzFamily.matches(hx('01'), command)).toBe(false)
    expect(gbzFamily.matches(hx('D9 0109'), command)).toBe(false)
    // GCS28 (set clock) and CS02b alerts are ASN.1; ECS68 and 0x00CC are DLMS
    for (const code of [0x007f, 0x00cb, 0x0061, 0x00cc]) {
      expect(gbzFamily.matches(hx('0109 01'), ctxOf(code, 'command'))).toBe(false)
    }
  })
})

describe('GBZ components', () => {
  it('decodes a cluster-specific command (Change Payment Mode) into the documented shape', () => {
    const bytes = gbz(
      component(
        '01',
        '0705',
        '01 07 06', // frame control: cluster-specific, to server; sequence 7; command 6
        '2A000000', // provider id 42
        '10203040', // issuer event id
        '00000000', // implementation date-time: 0
        '9708', // proposed payment control configuration 0x0897
        'F4FFFFFF', // cut-off value -12
      ),
    )
    expect(roundTrip(bytes)).toEqual({
      components: [
        {
          clusterId: '0705',
          lastComponent: true,
          frameType: 'cluster',
          direction: 'toServer',
          disableDefaultResponse: false,
          sequenceNumber: 7,
          commandId: 6,
          command: 'changePaymentMode',
          payload: {
            providerId: 42,
            issuerEventId: 0x40302010,
            implementationDateTime: '2000-01-01T00:00:00Z',
            proposedPaymentControlConfiguration: '0897',
            cutOffValue: -12,
          },
        },
      ],
    })
  })

  it('decodes Read Attributes and a Read Attributes Response with values and failures', () => {
    const req = roundTrip(
      gbz(component('00', '0702', '00 03 00', '0000 1400'), component('01', '0000', '00 04 00 0400')),
    )
    expect((req as { components: { payload: Json }[] }).components.map((c) => c.payload)).toEqual([
      { attributes: ['0000', '0014'] },
      { attributes: ['0004'] },
    ])
    const rsp = roundTrip(
      gbz(
        component(
          '01',
          '0702',
          '08 03 01',
          '0000 00 25 010000000000', // uint48 1
          '1400 00 30 01', // enum8 1
          '0502 86', // unsupported attribute
          '0300 00 18 80', // bitmap8
          '0700 00 2B FEFFFFFF', // int32 -2
          '0400 00 42 03 414243', // char string 'ABC'
          '0500 00 42 02 00FF', // char string, not printable
          '0600 00 41 02 ABCD', // octet string
          '0800 00 E2 10000000', // UTC time
          '0900 00 10 01', // boolean
          '0A00 00 E1 7B0C19FF', // date 2023-12-25
          '0B00 00 F0 0102030405060708', // IEEE address
        ),
      ),
      response,
    )
    expect((rsp as { components: { payload: Json }[] }).components[0]!.payload).toEqual({
      records: [
        { attributeId: '0000', status: 0, type: 'uint48', value: 1 },
        { attributeId: '0014', status: 0, type: 'enum8', value: 1 },
        { attributeId: '0205', status: 0x86 },
        { attributeId: '0003', status: 0, type: 'bitmap8', value: '80' },
        { attributeId: '0007', status: 0, type: 'int32', value: -2 },
        { attributeId: '0004', status: 0, type: 'charString', value: 'ABC' },
        { attributeId: '0005', status: 0, type: 'charString', hex: '00FF' },
        { attributeId: '0006', status: 0, type: 'octetString', value: 'ABCD' },
        { attributeId: '0008', status: 0, type: 'utcTime', value: '2000-01-01T00:00:16Z' },
        { attributeId: '0009', status: 0, type: 'boolean', value: true },
        {
          attributeId: '000A',
          status: 0,
          type: 'date',
          value: { year: 2023, month: 12, day: 25, dayOfWeek: 255 },
        },
        { attributeId: '000B', status: 0, type: 'ieeeAddress', value: '0807060504030201' },
      ],
    })
  })

  it('decodes Default Response and Write Attributes with both response forms', () => {
    const s = roundTrip(
      gbz(
        component('00', '0705', '08 01 0B 06 C0'),
        component('00', '0705', '00 02 02 3100 23 E8030000'),
        component('00', '0705', '08 02 04 00'),
        component('01', '0705', '08 03 04 87 3100 88 3200'),
      ),
      response,
    )
    expect(
      (s as { components: { command: string; payload: Json }[] }).components.map((c) => [
        c.command,
        c.payload,
      ]),
    ).toEqual([
      ['defaultResponse', { commandId: 6, status: 0xc0 }],
      ['writeAttributes', { records: [{ attributeId: '0031', type: 'uint32', value: 1000 }] }],
      ['writeAttributesResponse', { records: [{ status: 0 }] }],
      [
        'writeAttributesResponse',
        {
          records: [
            { status: 0x87, attributeId: '0031' },
            { status: 0x88, attributeId: '0032' },
          ],
        },
      ],
    ])
  })

  it('keeps an encrypted component as additional header, security header, ciphertext and MAC', () => {
    const cipher = '00112233445566778899'
    const mac = 'A0A1A2A3A4A5A6A7A8A9AAAB'
    const body = `0305 18 04 01 ${(5 + 10 + 12).toString(16).padStart(4, '0')} 3100000009 ${cipher} ${mac}`
    const s = roundTrip(gbz(component('03', '0702', body)), response)
    expect((s as { components: Json[] }).components[0]).toEqual({
      clusterId: '0702',
      lastComponent: true,
      frameType: 'global',
      direction: 'toClient',
      disableDefaultResponse: true,
      sequenceNumber: 4,
      commandId: 1,
      command: 'readAttributesResponse',
      encrypted: {
        additionalHeaderControl: 3,
        additionalHeaderFrameCounter: 5,
        securityHeader: '3100000009',
        ciphertext: cipher,
        mac,
      },
    })
  })

  it('carries from-date-time, manufacturer codes, reserved bits and unknown commands', () => {
    const s = roundTrip(
      gbz(
        component('10', '0709', '2B438980', '01 00 00', '00 3412 00000000 00000000 05 0000'),
        component('40', '0700', '05 3412 09 80 DEADBEEF'), // manufacturer-specific, unknown command
        component('01', '0B05', 'E1 01 02'), // reserved frame-control bits, unknown cluster, empty payload
      ),
    )
    const cs = (s as { components: Record<string, Json>[] }).components
    expect(cs[0]!.fromDateTime).toBe('2023-01-01T00:00:00Z')
    expect(cs[0]!.command).toBe('getEventLog')
    expect(cs[1]).toMatchObject({
      controlReserved: 0x40,
      manufacturerCode: 0x1234,
      commandId: 0x80,
      payloadHex: 'DEADBEEF',
    })
    expect(cs[1]!.command).toBeUndefined()
    expect(cs[2]).toMatchObject({ frameType: 'cluster', frameControlReserved: 7, payloadHex: '' })
  })

  it('decodes repeated sub-payloads (price matrix, block thresholds, day profile)', () => {
    const s = roundTrip(
      gbz(
        component(
          '00',
          '0700',
          '09 00 05',
          '00000000 01000000 00000000 07000000 00 01 00',
          '01 64000000 02 C8000000',
        ),
        component(
          '00',
          '0700',
          '09 01 06',
          '00000000 01000000 00000000 07000000 00 01 01',
          '02 E80300000000 D00700000000',
        ),
        component('01', '0707', '09 02 01', '00000000 01000000 02000000 01 02 00 01 00', '0000 01 E001 02'),
      ),
    )
    const ps = (s as { components: { payload: Record<string, Json> }[] }).components.map((c) => c.payload)
    expect(ps[0]!.prices).toEqual([
      { tierBlockId: 1, price: 100 },
      { tierBlockId: 2, price: 200 },
    ])
    expect(ps[1]!.blockThresholds).toEqual([{ tier: 0, thresholds: [1000, 2000] }])
    expect(ps[2]!.entries).toEqual([
      { startTime: 0, value: 1 },
      { startTime: 480, value: 2 },
    ])
  })
})

describe('GBZ alerts', () => {
  it('decodes a generic alert with no components', () => {
    expect(roundTrip(hx('0109 00 8F1F 2B438980'), ctxOf(0x1000, 'alert'))).toEqual({
      alertCode: '8F1F',
      timestamp: '2023-01-01T00:00:00Z',
      components: [],
    })
  })

  it('decodes the future-dated outcome, firmware receipt and integrity warning layouts', () => {
    expect(
      roundTrip(hx('0109 01 8F67 2B438980 0E 006F 0000000000000102 0705 01 0B'), ctxOf(0x00cd, 'alert')),
    ).toEqual({
      alertCode: '8F67',
      timestamp: '2023-01-01T00:00:00Z',
      futureDatedCommand: {
        messageCode: '006F',
        originatorCounter: '258',
        clusterId: '0705',
        frameType: 'cluster',
        direction: 'toServer',
        disableDefaultResponse: false,
        commandId: 11,
        command: 'setMaximumCreditLimit',
      },
    })
    const hash = '5A'.repeat(32)
    expect(roundTrip(hx(`0109 01 8F72 2B438980 09 20 ${hash}`), ctxOf(0x00cf, 'alert'))).toMatchObject({
      manufacturerHash: hash,
    })
    expect(roundTrip(hx('0109 01 81A0 2B438980 0007'), ctxOf(0x00f2, 'alert'))).toMatchObject({
      otherInfo: 7,
    })
    expect(roundTrip(hx('0109 02 81A0 2B438980 0007'), ctxOf(0x00f2, 'alert'))).toMatchObject({
      componentCount: 2,
    })
  })
})

describe('decode errors', () => {
  it('names the absolute offset', () => {
    expect(decodeError(hx('0108 00'), command, 10).offset).toBe(10)
    // the component says 9 octets but only 3 follow
    expect(decodeError(hx('0109 01 01 0705 0009 010006'), command, 100).offset).toBe(108)
    // two components announced, one present
    expect(
      decodeError(gbz(component('01', '0705', '08 00 0B 00 00')).map((b, i) => (i === 2 ? 2 : b))).offset,
    ).toBe(13)
    // trailing octets after the last component
    expect(decodeError(hx('0109 00 FF')).offset).toBe(3)
  })

  it('rejects a known command whose payload does not fit', () => {
    const e = decodeError(gbz(component('01', '0705', '08 00 0B 06 00 FF')))
    expect(e.message).toMatch(/trailing/)
    expect(decodeError(gbz(component('01', '0705', '01 00 06 000000'))).message).toMatch(/providerId|needs/)
  })

  it('rejects inconsistent ciphered lengths and unknown ZCL data types', () => {
    expect(
      decodeError(
        gbz(component('03', '0702', '0000 08 00 01 0020 3100000000 00112233 A0A1A2A3A4A5A6A7A8A9AAAB')),
        response,
      ).message,
    ).toMatch(/ciphered information length/)
    expect(decodeError(gbz(component('01', '0702', '08 00 01 0000 00 48 00')), response).message).toMatch(
      /unsupported ZCL data type 0x48/,
    )
  })

  it('rejects a future-dated payload of the wrong length', () => {
    decodeError(hx('0109 01 8F66 2B438980 0D 006F 0000000000000102 0705 01'), ctxOf(0x00cd, 'alert'))
  })
})

describe('encode checks', () => {
  it('names the bad field', () => {
    const c = {
      clusterId: '0705',
      lastComponent: true,
      frameType: 'cluster',
      direction: 'toServer',
      disableDefaultResponse: false,
      sequenceNumber: 0,
      commandId: 6,
      payload: {
        providerId: 0,
        issuerEventId: 0,
        implementationDateTime: '2023-02-30T00:00:00Z',
        proposedPaymentControlConfiguration: '0C94',
        cutOffValue: 0,
      },
    }
    expect(() => encodeGbz({ components: [c] }, command)).toThrow(/implementationDateTime/)
    expect(() => encodeGbz({ components: [{ ...c, command: 'consumerTopUp' }] }, command)).toThrow(
      /changePaymentMode/,
    )
    expect(() => encodeGbz({ components: [{ ...c, clusterId: '705' }] }, command)).toThrow(/clusterId/)
    expect(() => encodeGbz({ components: [{ ...c, direction: 'up' }] }, command)).toThrow(/direction/)
    expect(() => encodeGbz({ components: [{ ...c, commandId: 0x42 }] }, command)).toThrow(/payloadHex/)
  })
})

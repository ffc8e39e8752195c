import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../codec/reader.ts'
import type { Json } from '../types.ts'
import { decodeApdu, dlmsFamily, encodeApdu } from './apdu.ts'

const ctx = { messageCode: 0x0051, cra: 'command' as const }
const hx = (...parts: string[]) => fromHex(parts.join('').replace(/\s+/g, ''))

function structureRoundTrip(bytes: Uint8Array): Json {
  const s = dlmsFamily.decode(bytes, ctx, 0)
  const again = JSON.parse(JSON.stringify(s)) as Json
  expect(toHex(dlmsFamily.encode(again, ctx))).toBe(toHex(bytes))
  return s
}

function decodeError(bytes: Uint8Array, base = 0): DecodeError {
  try {
    decodeApdu(bytes, base)
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error('expected a DecodeError')
}

describe('dlmsFamily', () => {
  it('sniffs the three APDU tags only', () => {
    for (const t of [0xd9, 0xda, 0x0f]) expect(dlmsFamily.matches(Uint8Array.of(t), ctx)).toBe(true)
    for (const t of [0x01, 0x30, 0xdd, 0xdb]) expect(dlmsFamily.matches(Uint8Array.of(t), ctx)).toBe(false)
    expect(dlmsFamily.matches(new Uint8Array(0), ctx)).toBe(false)
  })

  it('decodes an access-request into the documented shape', () => {
    const s = structureRoundTrip(hx('D9 20000001 00 01 03 0009 00000A006AFF 01 01 12 0036'))
    expect(s).toEqual({
      apdu: 'accessRequest',
      invokeId: 0x20000001,
      specs: [{ kind: 'action', classId: 9, instance: '0.0.10.0.106.255', method: 1 }],
      data: [{ type: 'uint16', value: 54 }],
    })
  })

  it('keeps a date-time, the with-selection specifications and a response echo of the request', () => {
    const req = structureRoundTrip(
      hx(
        'D9 00000002', // access-request, invoke id
        '0C 07EF0101FF000000008000FF', // date-time present
        '02', // 2 specifications
        '04 0007 0000636200FF 02', // get-with-selection: profile generic, attribute 2 (buffer)
        '01 02 04 090C07EF0101FF000000008000FF 090C07EF0102FF000000008000FF 0100 0100', // selector 1, range
        '05 0001 00005E2C0302 02', // set-with-selection
        '02 00', // selector 2, parameters null
        '02 00 00', // 2 null data items
      ),
    ) as { dateTime: string; specs: { kind: string }[] }
    expect(req.dateTime).toBe('07EF0101FF000000008000FF')
    expect(req.specs.map((x) => x.kind)).toEqual(['getWithSelection', 'setWithSelection'])
    const res = structureRoundTrip(hx('DA 00000002 00 01 01 01 0046 000060030AFF 03 01 16 01 01 01 00')) as {
      requestSpecs: unknown[]
    }
    expect(res.requestSpecs).toHaveLength(1)
  })

  it('round-trips long lists (A-XDR lengths 0x81 and 0x82)', () => {
    const data129 = `81 81 ${'00'.repeat(129)}` // 129 null data items
    structureRoundTrip(hx('D9 00000003 00 00', data129))
    const specs = `82 0100 ${'01 0001 0000000000FF 02'.repeat(256)}` // 256 get specifications
    structureRoundTrip(hx('D9 00000003 00', specs, '00'))
    const results = `81 90 ${'0300'.repeat(0x90)}` // 144 action results
    structureRoundTrip(hx('DA 00000003 00 00 00', results))
  })

  it('round-trips a notification body with nested arrays and structures', () => {
    const s = structureRoundTrip(
      hx('0F 00000004 00 02 02 01 02 02 02 11 01 01 01 03 01 02 00 0A 03 616263'),
    ) as { body: unknown }
    expect(s.body).toEqual({
      type: 'structure',
      value: [
        {
          type: 'array',
          value: [
            {
              type: 'structure',
              value: [
                { type: 'uint8', value: 1 },
                { type: 'array', value: [{ type: 'boolean', value: true }] },
              ],
            },
            { type: 'structure', value: [] },
          ],
        },
        { type: 'visibleString', value: 'abc' },
      ],
    })
  })
})

describe('malformed input', () => {
  it('a bad APDU tag, at the given base', () => {
    const e = decodeError(hx('D8 00000001 00 00 00'), 100)
    expect(e.offset).toBe(100)
    expect(e.message).toMatch(/not a DLMS APDU/)
  })
  it('truncated in the invoke id', () => {
    expect(decodeError(hx('D9 2000'), 10).offset).toBe(11)
  })
  it('truncated inside a specification', () => {
    const e = decodeError(hx('D9 20000001 00 01 03 0009 00000A'))
    expect(e.offset).toBe(10) // the instance-id starts at 10 and needs 6 bytes
  })
  it('truncated data', () => {
    expect(decodeError(hx('D9 20000001 00 00 01 09 05 0102')).offset).toBe(10)
  })
  it('an unknown data tag', () => {
    const e = decodeError(hx('D9 20000001 00 00 02 00 07 01'))
    expect(e.offset).toBe(9)
    expect(e.message).toMatch(/unknown DLMS data tag 0x07/)
  })
  it('an unknown specification choice', () => {
    expect(decodeError(hx('D9 20000001 00 01 06 0009 00000A006AFF 01 00')).offset).toBe(7)
    expect(decodeError(hx('DA 20000001 00 00 00 01 04 00')).offset).toBe(9)
  })
  it('a bad optional flag in a response', () => {
    expect(decodeError(hx('DA 20000001 00 02 00 00')).offset).toBe(6)
  })
  it('trailing bytes', () => {
    const e = decodeError(hx('DA 20000001 00 00 00 00 EE EE'), 50)
    expect(e.offset).toBe(50 + 9)
    expect(e.message).toMatch(/2 unexpected trailing bytes/)
  })
  it('a non-minimal length', () => {
    expect(decodeError(hx('D9 20000001 00 81 05')).offset).toBe(6)
  })
})

describe('encode checks its input', () => {
  it('names the bad field', () => {
    expect(() =>
      encodeApdu({ apdu: 'accessRequest', invokeId: 1, specs: [{ kind: 'get' }], data: [] }),
    ).toThrow(/specs\[0\]\.classId/)
    expect(() => encodeApdu({ apdu: 'dataNotification', invokeId: -1, body: { type: 'null' } })).toThrow(
      /invokeId/,
    )
    expect(() =>
      encodeApdu({
        apdu: 'accessRequest',
        invokeId: 1,
        specs: [{ kind: 'get', classId: 1, instance: '1.2.3', attribute: 2 }],
        data: [],
      }),
    ).toThrow(/OBIS/)
    expect(() => encodeApdu({ apdu: 'other', invokeId: 1 })).toThrow(/structure\.apdu/)
  })
})

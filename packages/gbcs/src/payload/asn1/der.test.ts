import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../codec/reader.ts'
import type { Json, PayloadContext } from '../types.ts'
import { asn1Family, decodeDer, encodeDer, looksLikeTag, MAX_DEPTH } from './der.ts'

const ctx: PayloadContext = { messageCode: 0x0102, cra: 'command' }

function roundTrip(h: string): Json {
  const s = asn1Family.decode(fromHex(h), ctx, 0)
  expect(toHex(asn1Family.encode(JSON.parse(JSON.stringify(s)) as Json, ctx))).toBe(h)
  return s
}

function decodeError(h: string, base = 0): DecodeError {
  try {
    decodeDer(fromHex(h), base)
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error(`${h} decoded`)
}

describe('ASN.1 DER structure', () => {
  it('decodes a tree of constructed and primitive values', () => {
    expect(roundTrip('300B020101A00404020A0B0500')).toEqual({
      tag: '30',
      children: [
        { tag: '02', value: '01' },
        { tag: 'A0', children: [{ tag: '04', value: '0A0B' }] },
        { tag: '05', value: '' },
      ],
    })
  })

  it('decodes the GCS28 set time command', () => {
    const h = '3022180F32303134313233313233333030305A180F32303135303130313030333030305A'
    const s = roundTrip(h) as { children: { tag: string }[] }
    expect(s.children.map((c) => c.tag)).toEqual(['18', '18'])
  })

  it('keeps non-minimal length forms', () => {
    expect(roundTrip('308200040500' + '0500')).toEqual({
      tag: '30',
      lengthOctets: 2,
      children: [
        { tag: '05', value: '' },
        { tag: '05', value: '' },
      ],
    })
    expect(roundTrip('04810100')).toEqual({ tag: '04', value: '00', lengthOctets: 1 })
    expect(roundTrip('0484000000020102')).toEqual({ tag: '04', value: '0102', lengthOctets: 4 })
    // minimal long forms carry no lengthOctets
    const long = `0481FF${'AB'.repeat(255)}`
    expect(roundTrip(long)).toEqual({ tag: '04', value: 'AB'.repeat(255) })
    expect(roundTrip(`04820100${'CD'.repeat(256)}`)).toEqual({ tag: '04', value: 'CD'.repeat(256) })
  })

  it('decodes high tag numbers and empty constructed values', () => {
    expect(roundTrip('9F2101AA')).toEqual({ tag: '9F21', value: 'AA' })
    expect(roundTrip('BF818001023000')).toEqual({ tag: 'BF818001', children: [{ tag: '30', children: [] }] })
    expect(roundTrip('3000')).toEqual({ tag: '30', children: [] })
  })

  it('fails with a DecodeError naming the frame offset', () => {
    expect(decodeError('3003020101FF', 100).offset).toBe(105)
    expect(decodeError('3003020101FF').message).toMatch(/1 trailing bytes/)
    const indefinite = decodeError('30800201010000', 40)
    expect(indefinite.message).toMatch(/indefinite length/)
    expect(indefinite.offset).toBe(41)
    const tooLong = decodeError('0485000000000100', 7)
    expect(tooLong.message).toMatch(/5 octets/)
    expect(tooLong.offset).toBe(8)
    expect(decodeError('30FF').message).toMatch(/reserved/)
    expect(decodeError('3005020101').message).toMatch(/needs 5 bytes but only 3 remain/)
    expect(decodeError('3003020201', 10).offset).toBe(14)
    expect(decodeError('3082').offset).toBe(2)
    expect(decodeError('').message).toMatch(/empty/)
    expect(decodeError('1F').message).toMatch(/tag number octet/)
    expect(decodeError('1F8080808001').message).toMatch(/tag number longer/)
  })

  it('refuses nesting beyond MAX_DEPTH with a DecodeError', () => {
    const nest = (n: number): string => {
      let h = '0500'
      for (let i = 0; i < n; i++) h = `A084${(h.length / 2).toString(16).padStart(8, '0').toUpperCase()}${h}`
      return h
    }
    expect(() => roundTrip(nest(MAX_DEPTH))).not.toThrow()
    expect(decodeError(nest(MAX_DEPTH + 1)).message).toMatch(/nested deeper/)
    expect(decodeError(nest(5000)).message).toMatch(/nested deeper/)
  })

  it('checks the structure on encode', () => {
    expect(() => encodeDer({ tag: '30', value: '' })).toThrow(/structure.value: a constructed tag/)
    expect(() => encodeDer({ tag: '02', children: [] })).toThrow(/structure.children: a primitive tag/)
    expect(() => encodeDer({ tag: '3030', children: [] })).toThrow(/structure.tag: not an identifier/)
    expect(() => encodeDer({ tag: '1F81', value: '' })).toThrow(/structure.tag: not an identifier/)
    expect(() => encodeDer({ tag: '04', value: 'ZZ' })).toThrow(/structure.value/)
    expect(() => encodeDer({ tag: '30', children: [{ tag: '04', value: '', lengthOctets: 5 }] })).toThrow(
      /structure.children\[0\].lengthOctets/,
    )
    expect(() => encodeDer({ tag: '04', value: 'AB'.repeat(256), lengthOctets: 1 })).toThrow(/does not fit/)
    expect(toHex(encodeDer({ tag: '04', value: 'AB', lengthOctets: 3 }))).toBe('0483000001AB')
  })

  it('matches by message code and a plausible first tag', () => {
    const p = fromHex('3000')
    expect(asn1Family.matches(p, ctx)).toBe(true)
    expect(asn1Family.matches(p, { messageCode: 0x00cb, cra: 'alert' })).toBe(true)
    expect(asn1Family.matches(p, { messageCode: 0x007f, cra: 'response' })).toBe(true)
    expect(asn1Family.matches(p, { messageCode: 0x0011, cra: 'command' })).toBe(false)
    expect(asn1Family.matches(fromHex('D9'), { messageCode: 0x0011, cra: 'command' })).toBe(false)
    expect(asn1Family.matches(new Uint8Array(0), ctx)).toBe(false)
    expect(asn1Family.matches(fromHex('0000'), ctx)).toBe(false)
    expect([0x02, 0x04, 0x05, 0x30, 0xa0, 0x80, 0x9f].every(looksLikeTag)).toBe(true)
    expect([0x00, 0x0f, 0x1f].some(looksLikeTag)).toBe(false)
  })
})

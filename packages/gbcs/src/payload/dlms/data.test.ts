import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { DecodeError, Reader } from '../../codec/reader.ts'
import { Writer } from '../../codec/writer.ts'
import type { Json } from '../types.ts'
import { type DlmsData, readData, writeData } from './data.ts'

function decode(hex: string): DlmsData {
  const r = new Reader(fromHex(hex.replace(/\s+/g, '')))
  const d = readData(r)
  r.end()
  return d
}
function encode(d: Json): string {
  const w = new Writer()
  writeData(w, d)
  return toHex(w.finish())
}
function roundTrip(hex: string, expected?: DlmsData): void {
  const h = hex.replace(/\s+/g, '').toUpperCase()
  const d = decode(h)
  if (expected) expect(d).toEqual(expected)
  expect(encode(JSON.parse(JSON.stringify(d)))).toBe(h)
}

describe('A-XDR data', () => {
  it('integers, signed and unsigned, of every width', () => {
    roundTrip('0F 80', { type: 'int8', value: -128 })
    roundTrip('10 FF38', { type: 'int16', value: -200 })
    roundTrip('05 80000000', { type: 'int32', value: -(2 ** 31) })
    roundTrip('06 FFFFFFFF', { type: 'uint32', value: 2 ** 32 - 1 })
    roundTrip('11 FF', { type: 'uint8', value: 255 })
    roundTrip('12 1234', { type: 'uint16', value: 0x1234 })
    roundTrip('16 03', { type: 'enum', value: 3 })
    roundTrip('0D 12', { type: 'bcd', value: 0x12 })
  })
  it('64-bit integers beyond 2^53 as decimal strings', () => {
    roundTrip('15 FFFFFFFFFFFFFFFF', { type: 'uint64', value: '18446744073709551615' })
    roundTrip('14 8000000000000000', { type: 'int64', value: '-9223372036854775808' })
    roundTrip('14 FFFFFFFFFFFFFFFF', { type: 'int64', value: -1 })
    roundTrip('15 0000000000000064', { type: 'uint64', value: 100 })
  })
  it('octet strings with short, 0x81 and 0x82 lengths', () => {
    roundTrip('09 00', { type: 'octetString', value: '' })
    roundTrip(`09 81 C8 ${'AB'.repeat(200)}`)
    roundTrip(`09 82 012C ${'CD'.repeat(300)}`)
    expect(decode(`09 82 012C ${'CD'.repeat(300)}`)).toEqual({ type: 'octetString', value: 'CD'.repeat(300) })
  })
  it('strings: text when plain, hex otherwise', () => {
    roundTrip('0A 02 4F4B', { type: 'visibleString', value: 'OK' })
    roundTrip('0A 02 0001', { type: 'visibleString', hex: '0001' })
    roundTrip('0C 03 E282AC', { type: 'utf8String', value: '€' })
    roundTrip('0C 01 FF', { type: 'utf8String', hex: 'FF' })
  })
  it('booleans and bit strings, keeping non-canonical bytes', () => {
    roundTrip('03 00', { type: 'boolean', value: false })
    roundTrip('03 01', { type: 'boolean', value: true })
    roundTrip('03 FF', { type: 'boolean', value: true, byte: 255 })
    roundTrip('04 03 A0', { type: 'bitString', value: '101' })
    roundTrip('04 03 A1', { type: 'bitString', value: '101', pad: 1 })
    roundTrip('04 00', { type: 'bitString', value: '' })
    roundTrip('04 10 8001', { type: 'bitString', value: '1000000000000001' })
  })
  it('date-time, date, time, floats, null and dont-care', () => {
    roundTrip('19 07EF0101FF000000008000FF', { type: 'dateTime', value: '07EF0101FF000000008000FF' })
    roundTrip('1A 07EF0101FF', { type: 'date', value: '07EF0101FF' })
    roundTrip('1B 0C000000', { type: 'time', value: '0C000000' })
    roundTrip('17 3FC00000', { type: 'float32', value: 1.5 })
    roundTrip('18 8000000000000000', { type: 'float64', hex: '8000000000000000' })
    roundTrip('17 7FC00000', { type: 'float32', hex: '7FC00000' })
    roundTrip('00', { type: 'null' })
    roundTrip('FF', { type: 'dontCare' })
  })
  it('nested arrays and structures, with 0x81 counts', () => {
    roundTrip('02 03 01 02 11 01 11 02 02 00 01 00', {
      type: 'structure',
      value: [
        {
          type: 'array',
          value: [
            { type: 'uint8', value: 1 },
            { type: 'uint8', value: 2 },
          ],
        },
        { type: 'structure', value: [] },
        { type: 'array', value: [] },
      ],
    })
    roundTrip(`01 81 80 ${'02 01 11 07'.repeat(128)}`)
  })
  it('compact arrays', () => {
    roundTrip(
      '13 02 02 12 09 09 1234 02 AABB 5678 01 CC', // structure{uint16, octet-string}; 9 bytes of contents
      {
        type: 'compactArray',
        description: { type: 'structure', elements: [{ type: 'uint16' }, { type: 'octetString' }] },
        value: [
          {
            type: 'structure',
            value: [
              { type: 'uint16', value: 0x1234 },
              { type: 'octetString', value: 'AABB' },
            ],
          },
          {
            type: 'structure',
            value: [
              { type: 'uint16', value: 0x5678 },
              { type: 'octetString', value: 'CC' },
            ],
          },
        ],
      },
    )
    roundTrip('13 01 0002 11 04 0102 0304') // array of 2 uint8 per element; 2 elements
    expect(() =>
      encode({ type: 'compactArray', description: { type: 'uint8' }, value: [{ type: 'uint16', value: 1 }] }),
    ).toThrow(/type description/)
  })
  it('malformed data throws DecodeError with the offset', () => {
    const err = (hex: string): DecodeError => {
      try {
        decode(hex)
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError)
        return e as DecodeError
      }
      throw new Error('expected a DecodeError')
    }
    expect(err('02 02 11 01 08').offset).toBe(4) // unknown tag 0x08 in the second element
    expect(err('09 05 0102').offset).toBe(2) // octet-string needs 5 bytes
    expect(err('01 82 0005').offset).toBe(1) // non-minimal 82 length
    expect(err('13 00').offset).toBe(1) // null has no type description
    expect(err('13 11 02 01').offset).toBe(3) // contents length 2, only 1 byte left
    expect(err('13 12 03 00 01 02').offset).toBe(5) // the last element cuts a uint16 in half
  })
  it('encode rejects values out of range', () => {
    expect(() => encode({ type: 'uint8', value: 256 })).toThrow(/data\.value/)
    expect(() => encode({ type: 'int64', value: '9223372036854775808' })).toThrow(/data\.value/)
    expect(() => encode({ type: 'dateTime', value: '00' })).toThrow(/12 bytes/)
    expect(() => encode({ type: 'bitString', value: '102' })).toThrow(/'0' and '1'/)
    expect(() => encode({ type: 'nope' })).toThrow(/unknown DLMS data type/)
  })
})

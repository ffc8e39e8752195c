import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allocBytes, bytesEqual, concatBytes, fromHex, readUintBE, toHex, writeUintBE } from './bytes.ts'
import { euiFromBytes, euiToDuis, euiToFileStem, parseEui } from './eui.ts'

describe('hex', () => {
  it('round-trips and ignores separators', () => {
    expect(toHex(fromHex('de:ad-be ef'))).toBe('DEADBEEF')
  })
  it('names the bad digit', () => {
    expect(() => fromHex('12x4')).toThrow("not hex: 'x' at hex digit 2")
    expect(() => fromHex('123')).toThrow('odd number of hex digits (3)')
  })
  it('concatenates and compares', () => {
    expect(bytesEqual(concatBytes(fromHex('01'), fromHex('0203')), fromHex('010203'))).toBe(true)
    expect(bytesEqual(fromHex('01'), fromHex('02'))).toBe(false)
  })
  it('reads and writes big-endian integers', () => {
    expect(readUintBE(fromHex('00000000000003E9'))).toBe(1001n)
    expect(toHex(writeUintBE(1001n, 8))).toBe('00000000000003E9')
    expect(() => writeUintBE(256n, 1)).toThrow('does not fit')
    expect(() => writeUintBE(1n << 64n, 8)).toThrow('does not fit')
    // an 8-byte view into a larger buffer reads its own bytes, not the buffer's start
    expect(readUintBE(fromHex('FF00000000000000002A').subarray(2))).toBe(42n)
  })
  it('round-trips any bytes through hex, and any width of integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(fromHex(toHex(b))).toEqual(b)
        expect(fromHex(toHex(b).toLowerCase())).toEqual(b)
      }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }), (n, v) => {
        const value = v % (1n << BigInt(8 * n))
        expect(readUintBE(writeUintBE(value, n))).toBe(value)
      }),
    )
  })
})

describe('EUI-64', () => {
  it('parses the DUIS and keystore forms to one canonical form', () => {
    const eui = parseEui('90-b3-d5-1f-30-01-00-00')
    expect(eui).toBe('90B3D51F30010000')
    expect(euiToDuis(eui)).toBe('90-B3-D5-1F-30-01-00-00')
    expect(euiToFileStem(eui)).toBe('90b3d51f30010000')
    expect(euiFromBytes(fromHex('00DB1234567890A0'))).toBe('00DB1234567890A0')
  })
  it('rejects anything else', () => {
    expect(() => parseEui('90B3D51F3001000')).toThrow('not an EUI-64')
    expect(() => euiFromBytes(new Uint8Array(7))).toThrow('8 bytes')
  })
})

describe('allocBytes', () => {
  it('gives zero-filled arrays of the size asked for that never share bytes', () => {
    const arrays = [0, 1, 64, 65, 140, 1024, 1025, 5000, 140, 900, 900, 900].map((n) => allocBytes(n))
    expect(arrays.map((a) => a.length)).toEqual([0, 1, 64, 65, 140, 1024, 1025, 5000, 140, 900, 900, 900])
    for (const a of arrays) expect(a.every((b) => b === 0)).toBe(true)
    for (const [i, a] of arrays.entries()) a.fill(i + 1)
    for (const [i, a] of arrays.entries()) expect(a.every((b) => b === i + 1)).toBe(true)
    // Enough to start new slabs: still zero when handed out.
    for (let i = 0; i < 200; i++) expect(allocBytes(700).every((b) => b === 0)).toBe(true)
  })
})

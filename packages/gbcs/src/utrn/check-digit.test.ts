import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hasValidCheckDigit, utrnCheckDigit } from './check-digit.ts'

const payload = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 19, maxLength: 19 })

describe('the UTRN check digit (GBCS Verhoeff variant)', () => {
  it('keeps its values (regression: digits produced by this implementation, checked against the RTDS)', () => {
    expect(
      ['0000000000000000000', '1234567890123456789', '7394156990786306048', '9999999999999999999'].map(
        utrnCheckDigit,
      ),
    ).toEqual([3, 8, 0, 4])
  })

  it('starts from permutation row 4 and maps through GBCS table, not the textbook inverse', () => {
    // No digits: the product is the identity 0, and GBCS maps 0 to 1 (textbook Verhoeff: 0).
    expect(utrnCheckDigit('')).toBe(1)
    // One digit d: row 4 of Verhoeff's permutation, then the GBCS map.
    const row4 = [9, 4, 5, 3, 1, 2, 6, 8, 7, 0]
    const map = [1, 2, 6, 7, 5, 8, 3, 0, 9, 4]
    for (let d = 0; d < 10; d++) expect(utrnCheckDigit(String(d))).toBe(map[row4[d]!])
  })

  it('catches every single wrong digit', () => {
    fc.assert(
      fc.property(payload, fc.nat(18), fc.integer({ min: 1, max: 9 }), (p, at, delta) => {
        const utrn = p + utrnCheckDigit(p)
        const wrong = utrn.slice(0, at) + ((Number(utrn[at]) + delta) % 10) + utrn.slice(at + 1)
        expect(hasValidCheckDigit(utrn)).toBe(true)
        expect(hasValidCheckDigit(wrong)).toBe(false)
      }),
    )
  })

  it('catches every swap of two different neighbours among the 19 digits', () => {
    fc.assert(
      fc.property(payload, fc.nat(17), (p, at) => {
        fc.pre(p[at] !== p[at + 1])
        const swapped = p.slice(0, at) + p[at + 1] + p[at] + p.slice(at + 2)
        expect(hasValidCheckDigit(swapped + utrnCheckDigit(p))).toBe(false)
      }),
    )
  })

  it('refuses what is not digits', () => {
    expect(() => utrnCheckDigit('12a')).toThrow(RangeError)
    expect(hasValidCheckDigit('')).toBe(false)
    expect(hasValidCheckDigit('1x')).toBe(false)
  })
})

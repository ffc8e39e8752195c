import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { utrnCheckDigit } from './check-digit.ts'
import { TOP_UP_COUNTER_STEP } from './counter.ts'
import {
  decodeUtrn,
  encodeUtrn,
  PPTD_OFFSET,
  UTRN_MAX_VALUE,
  type UtrnFields,
  UtrnFormatError,
  utrnHeader,
} from './utrn.ts'

const fields: fc.Arbitrary<UtrnFields> = fc.record({
  counter: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((n) => n * TOP_UP_COUNTER_STEP),
  value: fc.integer({ min: 0, max: UTRN_MAX_VALUE }),
  valueClass: fc.constantFrom('pennies' as const, 'pounds' as const),
  mac: fc.uint8Array({ minLength: 4, maxLength: 4 }),
})

/** A PPTD (19 digits) with its check digit. */
function withCheckDigit(pptd: bigint): string {
  const digits = pptd.toString()
  return digits + utrnCheckDigit(digits)
}

function formatError(digits: string): UtrnFormatError {
  const r = decodeUtrn(digits)
  if (r.ok) throw new Error(`${digits} decoded`)
  return r.error
}

describe('the UTRN header word', () => {
  it('is 7 zero bits, 10 counter bits, 2 value-class bits, 13 value bits', () => {
    expect(utrnHeader(1, 'pounds', 100)).toBe(0x0000a064) // 1<<15 | 1<<13 | 100
    expect(utrnHeader(1023, 'pennies', 8191)).toBe(0x01ff9fff)
    expect(utrnHeader(0, 'pennies', 0)).toBe(0)
  })

  it('refuses fields out of range', () => {
    expect(() => utrnHeader(1024, 'pennies', 0)).toThrow(RangeError)
    expect(() => utrnHeader(0, 'pennies', 8192)).toThrow(RangeError)
    expect(() => utrnHeader(0, 'pennies', 1.5)).toThrow(RangeError)
    expect(() => utrnHeader(0, 'euros' as 'pennies', 1)).toThrow(RangeError)
  })
})

describe('encodeUtrn / decodeUtrn', () => {
  it('lays the token out as PTUT + offset, then the check digit', () => {
    const utrn = encodeUtrn({
      counter: 3n * TOP_UP_COUNTER_STEP,
      value: 10,
      valueClass: 'pounds',
      mac: Uint8Array.of(0x01, 0x02, 0x03, 0x04),
    })
    expect(utrn).toBe(withCheckDigit(0x0001a00a_01020304n + PPTD_OFFSET))
    expect(decodeUtrn(utrn)).toEqual({
      ok: true,
      value: {
        digits: utrn,
        counterBits: 3,
        valueClass: 'pounds',
        value: 10,
        pennies: 1000,
        header: 0x0001a00a,
        mac: Uint8Array.of(1, 2, 3, 4),
        ptut: 0x0001a00a_01020304n,
      },
    })
  })

  it('gives 20 digits for the smallest and largest token', () => {
    const smallest = encodeUtrn({ counter: 0n, value: 0, valueClass: 'pennies', mac: new Uint8Array(4) })
    expect(smallest).toBe(withCheckDigit(PPTD_OFFSET))
    const largest = encodeUtrn({
      counter: 1023n * TOP_UP_COUNTER_STEP,
      value: 8191,
      valueClass: 'pounds',
      mac: Uint8Array.of(255, 255, 255, 255),
    })
    expect(largest).toHaveLength(20)
    expect(decodeUtrn(largest).ok).toBe(true)
  })

  it('round-trips any valid field set', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const utrn = encodeUtrn(f)
        expect(utrn).toMatch(/^7[0-9]{19}$/)
        const r = decodeUtrn(utrn)
        expect(r.ok).toBe(true)
        if (!r.ok) return
        expect(r.value.counterBits).toBe(Number((f.counter >> 32n) % 1024n))
        expect(r.value.valueClass).toBe(f.valueClass)
        expect(r.value.value).toBe(f.value)
        expect(r.value.pennies).toBe(f.valueClass === 'pounds' ? f.value * 100 : f.value)
        expect(r.value.mac).toEqual(f.mac)
        expect(encodeUtrn({ ...f, counter: BigInt(r.value.counterBits) << 32n })).toBe(utrn)
      }),
    )
  })

  it('decodes any 20-digit string or says why not, and never throws', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 20, maxLength: 20 }),
        (s) => {
          const r = decodeUtrn(s)
          if (r.ok) expect(encodeUtrn({ ...r.value, counter: BigInt(r.value.counterBits) << 32n })).toBe(s)
          else expect(r.error).toBeInstanceOf(UtrnFormatError)
        },
      ),
    )
    // strings in the UTRN range reach the later checks too
    fc.assert(
      fc.property(fc.bigInt({ min: PPTD_OFFSET - (1n << 40n), max: PPTD_OFFSET + (1n << 58n) }), (pptd) => {
        const r = decodeUtrn(withCheckDigit(pptd))
        if (!r.ok) expect(['out-of-range', 'value-class']).toContain(r.error.kind)
      }),
    )
  })

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        const r = decodeUtrn(s)
        if (!r.ok) expect(r.error).toBeInstanceOf(UtrnFormatError)
      }),
    )
    expect(decodeUtrn(undefined as unknown as string).ok).toBe(false)
  })

  it('says what is wrong', () => {
    const good = encodeUtrn({ counter: 0n, value: 5, valueClass: 'pennies', mac: Uint8Array.of(9, 9, 9, 9) })
    expect(formatError(good.slice(1)).kind).toBe('length')
    expect(formatError(`${good} `).message).toBe('a UTRN is 20 digits, got 21 characters')
    expect(formatError(`${good.slice(0, 10)}-${good.slice(11)}`).message).toBe(
      "a UTRN is decimal digits only: '-' at position 11",
    )
    const last = Number(good[19])
    const bad = good.slice(0, 19) + ((last + 1) % 10)
    const e = formatError(bad)
    expect(e.kind).toBe('check-digit')
    expect(e.message).toBe(
      `check digit wrong: the last digit is ${(last + 1) % 10}, the first 19 give ${last}`,
    )
    expect(formatError(withCheckDigit(PPTD_OFFSET - 1n)).kind).toBe('out-of-range')
    expect(formatError(withCheckDigit(PPTD_OFFSET + (1n << 57n))).message).toMatch(/7 top bits/)
    expect(formatError(withCheckDigit(PPTD_OFFSET + (2n << 45n))).message).toBe('value class 10 is not used')
    expect(formatError(withCheckDigit(PPTD_OFFSET + (3n << 45n))).kind).toBe('value-class')
  })

  it('refuses to encode fields out of range', () => {
    const ok: UtrnFields = { counter: 0n, value: 0, valueClass: 'pennies', mac: new Uint8Array(4) }
    expect(() => encodeUtrn({ ...ok, counter: 1n })).toThrow(RangeError) // low 32 bits not zero
    expect(() => encodeUtrn({ ...ok, counter: -TOP_UP_COUNTER_STEP })).toThrow(RangeError)
    expect(() => encodeUtrn({ ...ok, counter: 1n << 64n })).toThrow(RangeError)
    expect(() => encodeUtrn({ ...ok, value: -1 })).toThrow(RangeError)
    expect(() => encodeUtrn({ ...ok, mac: new Uint8Array(3) })).toThrow(RangeError)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isTopUpCounter, reconstructTopUpCounter, TOP_UP_COUNTER_STEP, topUpCounterBits } from './counter.ts'

const step = TOP_UP_COUNTER_STEP

describe('the UTRN top-up counter', () => {
  it('is a multiple of 2^32 below 2^64, of which a UTRN carries 10 bits', () => {
    expect(isTopUpCounter(0n)).toBe(true)
    expect(isTopUpCounter(5n * step)).toBe(true)
    expect(isTopUpCounter(step + 1n)).toBe(false)
    expect(isTopUpCounter(1n << 64n)).toBe(false)
    expect(topUpCounterBits(1025n * step)).toBe(1)
    expect(() => topUpCounterBits(7n)).toThrow(RangeError)
  })

  it('is rebuilt in the window 511 back, 512 forward from the reference', () => {
    const ref = 2000n * step
    expect(reconstructTopUpCounter(2001 % 1024, ref)).toBe(2001n * step)
    expect(reconstructTopUpCounter(2000 % 1024, ref)).toBe(2000n * step) // entered again: a duplicate
    expect(reconstructTopUpCounter((2000 - 511) % 1024, ref)).toBe(1489n * step)
    expect(reconstructTopUpCounter((2000 - 512) % 1024, ref)).toBe(2512n * step)
    expect(reconstructTopUpCounter(5, 0n)).toBe(5n * step) // window [0, 1023] near the start
    expect(reconstructTopUpCounter(5, 3n * step + 7n)).toBe(5n * step) // the reference need not be a step
  })

  it('with behind = 0: the first matching counter at or above the reference', () => {
    expect(reconstructTopUpCounter(2000 % 1024, 2000n * step, 0)).toBe(2000n * step)
    expect(reconstructTopUpCounter(1999 % 1024, 2000n * step, 0)).toBe(3023n * step)
    expect(reconstructTopUpCounter(2001 % 1024, 2000n * step, 0)).toBe(2001n * step)
  })

  it('gives null past 2^64, and refuses bad inputs', () => {
    const top = ((1n << 32n) - 1n) * step
    expect(reconstructTopUpCounter(1023, top)).toBe(top)
    expect(reconstructTopUpCounter(0, top)).toBeNull()
    expect(() => reconstructTopUpCounter(1024, 0n)).toThrow(RangeError)
    expect(() => reconstructTopUpCounter(0, 0n, 1024)).toThrow(RangeError)
  })

  it('finds every counter within the window', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
        fc.integer({ min: -511, max: 512 }),
        (r, offset) => {
          const n = r + BigInt(offset)
          fc.pre(n >= 0n && n < 1n << 32n)
          expect(reconstructTopUpCounter(topUpCounterBits(n * step), r * step)).toBe(n * step)
        },
      ),
    )
  })
})

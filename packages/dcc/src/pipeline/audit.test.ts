/** What the SAT keeps of a request's parameters: bounded, plain JSON, install codes never. */
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../sat/record.ts'
import { AUDIT_LIMITS, auditedParameters } from './audit.ts'

describe('auditedParameters', () => {
  it('keeps small plain JSON as it is, redacting install codes at any depth', () => {
    const p = {
      paymentMode: 'credit',
      n: 3,
      on: true,
      none: null,
      list: [1, { installCode: 'AB' }],
      installCode: 'CD',
    }
    expect(auditedParameters(p)).toEqual({
      value: {
        paymentMode: 'credit',
        n: 3,
        on: true,
        none: null,
        list: [1, { installCode: '(redacted)' }],
        installCode: '(redacted)',
      },
      truncated: false,
    })
  })

  it('bounds depth, width, string length and total size, and says so', () => {
    let deep: unknown = 'bottom'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))
    for (const input of [
      deep,
      wide,
      'x'.repeat(100_000),
      Array(100_000).fill('yy'),
      { ['k'.repeat(5000)]: 1 },
    ]) {
      const { value, truncated } = auditedParameters(input)
      expect(truncated).toBe(true)
      expect(canonicalJson(value).length).toBeLessThan(AUDIT_LIMITS.budget + 1000)
    }
  })

  it('turns what is not JSON into a marked note: dates, functions, bigints, NaN, class instances, throwing getters', () => {
    const hostile = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('no')
      },
    })
    for (const input of [new Date(0), () => 1, 10n, Number.NaN, new Map(), hostile, { u: undefined }]) {
      const { value } = auditedParameters(input)
      expect(() => canonicalJson(value)).not.toThrow()
    }
    expect(auditedParameters(hostile)).toMatchObject({
      truncated: true,
      value: expect.stringMatching(/unreadable/),
    })
    expect(auditedParameters({ u: undefined })).toEqual({ value: {}, truncated: false })
  })
})

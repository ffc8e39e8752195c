import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Json } from '../types.ts'
import { jsonEqual } from './json.ts'

/** The reference: the same canonical text (keys sorted, undefined members dropped). */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(x)
}

/** The same value with its object keys in reverse order and an undefined member here and there. */
function shuffled(x: unknown, salt: number): unknown {
  if (Array.isArray(x)) return x.map((v, i) => shuffled(v, salt + i))
  if (x !== null && typeof x === 'object') {
    // Object.fromEntries makes own members even of '__proto__' (an assignment would not).
    const entries = Object.entries(x as Record<string, unknown>)
      .reverse()
      .map(([k, v]): [string, unknown] => [k, shuffled(v, salt + 1)])
    if (salt % 3 === 0) entries.push(['__absent', undefined])
    return Object.fromEntries(entries)
  }
  return x
}

describe('jsonEqual', () => {
  it('agrees with comparing canonical text, on random pairs and on reordered copies', () => {
    const json = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>
    fc.assert(
      fc.property(json, json, fc.nat(), (a, b, salt) => {
        expect(jsonEqual(a, b)).toBe(canonical(a) === canonical(b))
        const c = shuffled(a, salt) as Json
        expect(jsonEqual(a, c)).toBe(true)
        expect(jsonEqual(c, a)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('tells objects with an extra or missing member apart, either way round', () => {
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false)
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1 })).toBe(false)
    expect(jsonEqual({ a: 1, b: undefined } as unknown as Json, { a: 1 })).toBe(true)
    expect(jsonEqual([1, 2], { 0: 1, 1: 2 })).toBe(false)
    // A member called __proto__ is a member like any other (JSON.parse makes such objects).
    expect(jsonEqual(JSON.parse('{"__proto__": 1}'), {})).toBe(false)
    expect(jsonEqual(JSON.parse('{"__proto__": 1}'), JSON.parse('{"__proto__": 1}'))).toBe(true)
  })
})

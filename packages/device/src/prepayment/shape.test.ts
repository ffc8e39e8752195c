import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  dailyShape,
  inNonDisablement,
  mulberry32,
  nextNonDisablementEdge,
  shapePerMille,
  weekday,
} from './index.ts'

describe('dailyShape', () => {
  it('has 24 positive hours with mean exactly 1, deterministic per seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const pm = shapePerMille(seed)
        expect(pm).toHaveLength(24)
        expect(pm.reduce((s, x) => s + x, 0)).toBe(24_000)
        for (const x of pm) expect(Number.isInteger(x) && x >= 1).toBe(true)
        expect(dailyShape(seed)).toEqual(pm.map((x) => x / 1000))
        expect(dailyShape(seed)).toEqual(dailyShape(seed))
      }),
    )
    expect(dailyShape(1)).not.toEqual(dailyShape(2))
  })

  it('peaks in the evening on average', () => {
    const sums = new Array<number>(24).fill(0)
    for (let s = 0; s < 200; s++) {
      for (const [h, x] of shapePerMille(s).entries()) sums[h]! += x
    }
    expect(sums[18]!).toBeGreaterThan(sums[3]! * 2)
  })

  it('mulberry32 is deterministic and in [0, 1)', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    for (let i = 0; i < 100; i++) {
      const x = a()
      expect(x).toBe(b())
      expect(x >= 0 && x < 1).toBe(true)
    }
  })
})

describe('non-disablement calendar', () => {
  const monday = Date.UTC(2024, 0, 1)
  const periods = [
    { day: 1, start: 22 * 60, end: 24 * 60 },
    { day: 0, start: 0, end: 60 },
  ]

  it('knows the weekday and the periods', () => {
    expect(weekday(monday)).toBe(1)
    expect(weekday(0)).toBe(4)
    expect(inNonDisablement(periods, monday + 22 * 3_600_000)).toBe(true)
    expect(inNonDisablement(periods, monday + 22 * 3_600_000 - 1)).toBe(false)
    expect(inNonDisablement(periods, monday + 24 * 3_600_000)).toBe(false)
    expect(inNonDisablement(periods, monday - 1)).toBe(false)
    expect(inNonDisablement(periods, monday - 86_400_000 + 1_800_000)).toBe(true)
  })

  it('finds the next edge', () => {
    expect(nextNonDisablementEdge(periods, monday)).toBe(monday + 22 * 3_600_000)
    expect(nextNonDisablementEdge(periods, monday + 22 * 3_600_000)).toBe(monday + 24 * 3_600_000)
    expect(nextNonDisablementEdge(periods, monday + 24 * 3_600_000)).toBe(monday + 6 * 86_400_000)
    expect(nextNonDisablementEdge([], monday)).toBeUndefined()
  })
})

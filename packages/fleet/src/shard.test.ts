import { describe, expect, it } from 'vitest'
import { inShard, MAX_SHARDS, parseShard, shardPremises, shardSize } from './shard.ts'

describe('parseShard', () => {
  it('takes i/n with 1 ≤ i ≤ n ≤ 1024', () => {
    expect(parseShard('1/1')).toEqual({ ok: true, value: { index: 1, count: 1 } })
    expect(parseShard('2/3')).toEqual({ ok: true, value: { index: 2, count: 3 } })
    expect(parseShard(`${MAX_SHARDS}/${MAX_SHARDS}`)).toEqual({
      ok: true,
      value: { index: 1024, count: 1024 },
    })
  })

  it('refuses anything else with one line saying what is wrong, and never throws', () => {
    const cases: [unknown, RegExp][] = [
      ['0/2', /index must be 1 to 2, got 0/],
      ['3/2', /index must be 1 to 2, got 3/],
      ['1/0', /count must be 1 to 1024, got 0/],
      ['1/1025', /count must be 1 to 1024, got 1025/],
      ['1', /i\/n/],
      ['1/2/3', /i\/n/],
      [' 1/2', /i\/n/],
      ['-1/2', /i\/n/],
      ['1.0/2', /i\/n/],
      ['a/b', /i\/n/],
      ['', /i\/n/],
      ['99999/99999', /i\/n/],
      [`1/${'9'.repeat(400)}`, /i\/n/],
      [undefined, /i\/n/],
      [12, /i\/n/],
    ]
    for (const [text, why] of cases) {
      const r = parseShard(text)
      expect(r.ok, String(text)).toBe(false)
      if (r.ok) continue
      expect(r.error).toMatch(why)
      expect(r.error).not.toContain('\n')
      expect(r.error.length).toBeLessThan(120)
    }
  })
})

describe('inShard', () => {
  it('puts every premise in exactly one shard: index mod n = i − 1', () => {
    for (const n of [1, 2, 3, 7]) {
      const shards = Array.from({ length: n }, (_, k) => ({ index: k + 1, count: n }))
      for (let p = 0; p < 50; p++) {
        const owners = shards.filter((s) => inShard(s, p))
        expect(owners, `premise ${p} of ${n}`).toEqual([{ index: (p % n) + 1, count: n }])
      }
      for (const s of shards) {
        const listed = [...shardPremises(s, 50)]
        expect(listed).toEqual([...Array(50).keys()].filter((p) => inShard(s, p)))
        expect(shardSize(s, 50)).toBe(listed.length)
        expect(shardSize(s, 0)).toBe(0)
      }
    }
    expect(shardSize({ index: 3, count: 4 }, 2)).toBe(0)
    expect(shardSize({ index: 3, count: 4 }, 3)).toBe(1)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fleetKey } from './draws.ts'
import { euiPlus, locate, mpanCheckDigit } from './identifiers.ts'
import { compileSpec, type Premise, premise } from './premise.ts'
import { type FleetSpec, parseFleetSpec } from './spec.ts'

const specOf = (input: object): FleetSpec => {
  const r = parseFleetSpec(input)
  if (!r.ok) throw r.error
  return r.value
}

describe('premise(spec, i)', () => {
  it('is a function of the seed and i alone: more premises leave the first ones as they were', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.nat()),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 200 }),
        (seed, small, extra) => {
          const few = specOf({ seed, premises: small })
          const more = specOf({ seed, premises: small + extra })
          for (let i = 0; i < small; i++) expect(premise(more, i)).toEqual(premise(few, i))
        },
      ),
      { numRuns: 40 },
    )
  })

  it('gives the same premise for the same seed and i, and another for another seed', () => {
    const a = specOf({ seed: 'north', premises: 50 })
    const again = specOf({ seed: 'north', premises: 50 })
    const b = specOf({ seed: 'south', premises: 50 })
    const all = (s: FleetSpec) => Array.from({ length: 50 }, (_, i) => premise(s, i))
    expect(all(again)).toEqual(all(a))
    const differ = all(a).filter((p, i) => p!.electricity.loadSeed !== all(b)[i]!.electricity.loadSeed)
    expect(differ.length).toBe(50)
    // 42 and "42" are one seed.
    expect(fleetKey(42)).toEqual(fleetKey('42'))
  })

  it('is undefined outside 0 ≤ i < premises', () => {
    const s = specOf({ premises: 3 })
    for (const i of [-1, 3, 1.5, Number.NaN]) expect(premise(s, i)).toBeUndefined()
    expect(premise(s, 2)?.index).toBe(2)
  })

  it('changing one share changes only what that share decides', () => {
    const base = specOf({ seed: 1, premises: 300 })
    const morePrepayment = specOf({
      seed: 1,
      premises: 300,
      suppliers: base.suppliers.map((s) => ({ ...s, prepaymentShare: 0.9 })),
    })
    for (let i = 0; i < 300; i++) {
      const p = premise(base, i)!
      const q = premise(morePrepayment, i)!
      expect(q.supplier).toBe(p.supplier)
      expect(q.gsme).toBe(p.gsme)
      expect(q.electricity.watts).toBe(p.electricity.watts)
      expect(q.electricity.loadSeed).toBe(p.electricity.loadSeed)
      if (p.paymentMode === 'prepayment') expect(q.paymentMode).toBe('prepayment')
    }
  })

  it('draws the shares and ranges the spec gives', () => {
    const s = specOf({ seed: 'shares', premises: 4000 })
    const ps = Array.from({ length: 4000 }, (_, i) => premise(s, i)!)
    const share = (f: (p: Premise) => boolean, among = ps) => among.filter(f).length / among.length
    const ofA = ps.filter((p) => p.supplier === 0)
    const ofB = ps.filter((p) => p.supplier === 1)
    // Binomial standard errors at n = 4000 are under 0.01; 0.03 is more than three of them.
    expect(share((p) => p.supplier === 0)).toBeCloseTo(0.6, 1)
    expect(Math.abs(share((p) => p.paymentMode === 'prepayment', ofA) - 0.3)).toBeLessThan(0.03)
    expect(Math.abs(share((p) => p.paymentMode === 'prepayment', ofB) - 0.1)).toBeLessThan(0.03)
    expect(Math.abs(share((p) => p.gsme !== undefined) - 0.8)).toBeLessThan(0.03)
    const prepayment = ps.filter((p) => p.paymentMode === 'prepayment')
    expect(Math.abs(share((p) => p.ppmid !== undefined, prepayment) - 0.9)).toBeLessThan(0.05)
    expect(Math.abs(share((p) => p.install === 'installedNotCommissioned') - 0.02)).toBeLessThan(0.01)

    // Median annual consumption near the spec's (lognormal median); watts = kWh / 8.76.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
    expect(median(ps.map((p) => p.electricity.watts)) * 8.76).toBeGreaterThan(2700 * 0.95)
    expect(median(ps.map((p) => p.electricity.watts)) * 8.76).toBeLessThan(2700 * 1.05)

    for (const p of ps) {
      if (p.paymentMode === 'credit') {
        expect(p.topUp).toBeUndefined()
        expect(p.electricity.meterBalance).toBe(0)
        continue
      }
      const t = p.topUp!
      expect(t.everyDays).toBeGreaterThanOrEqual(3)
      expect(t.everyDays).toBeLessThanOrEqual(14)
      expect(t.amount % 100_000).toBe(0)
      expect(t.amount).toBeGreaterThanOrEqual(1_000_000)
      expect(t.amount).toBeLessThanOrEqual(3_000_000)
      expect(t.firstDueAt - Date.parse(s.start)).toBeLessThan(t.everyDays * 86_400_000)
      expect(p.electricity.meterBalance).toBeGreaterThanOrEqual(200_000)
      expect(p.electricity.meterBalance).toBeLessThanOrEqual(4_000_000)
    }
    expect(share((p) => p.topUp!.pressesButtonWhenArmed, prepayment)).toBeGreaterThan(0.8)
  })

  it('numbers identifiers as the RTDS does, with valid MPAN check digits, unique in the fleet', () => {
    const s = specOf({ seed: 'ids', premises: 500, devices: { gas: 1, ppmid: { prepayment: 1, credit: 1 } } })
    const p = premise(s, 1)!
    expect([p.esme, p.gsme, p.chf, p.gpf, p.ppmid]).toEqual([
      '00DB120000000008',
      '00DB120000000009',
      '00DB12000000000A',
      '00DB12000000000B',
      '00DB12000000000C',
    ])
    expect(p.mpan).toMatch(/^12\d{11}$/)
    expect(p.mprn).toBe('1000000001')
    const c = compileSpec(s)
    const seen = new Set<string>()
    for (let i = 0; i < 500; i++) {
      const q = premise(s, i)!
      expect(Number(q.mpan.at(-1))).toBe(mpanCheckDigit(q.mpan.slice(0, 12)))
      for (const id of [q.esme, q.gsme!, q.chf, q.gpf, q.ppmid!, q.mpan, q.mprn!]) seen.add(id)
      expect(locate(c.first, 500, q.gpf)).toEqual({ premise: i, role: 'GPF' })
    }
    expect(seen.size).toBe(500 * 7)
    // By hand: 1×3 + 2×5 = 13; 13 mod 11 = 2; 2 mod 10 = 2.
    expect(mpanCheckDigit('120000000000')).toBe(2)
    expect(locate(c.first, 500, '00DB12000000000D')).toBeUndefined() // an unused slot
    expect(locate(c.first, 500, '00DB120000000FA0')).toBeUndefined() // past the last premise
    expect(locate(c.first, 500, 'not an eui')).toBeUndefined()
  })
})

describe('euiPlus', () => {
  it('is first + n as 16 upper-case hex digits, carrying across 32 bits; past FFFFFFFFFFFFFFFF a RangeError', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat({ max: 2 ** 40 }), (first, n) => {
        const sum = first + BigInt(n)
        if (sum >= 1n << 64n) expect(() => euiPlus(first, n)).toThrow(RangeError)
        else expect(euiPlus(first, n)).toBe(sum.toString(16).toUpperCase().padStart(16, '0'))
      }),
      { numRuns: 3000 },
    )
    expect(euiPlus(0x00000000fffffffen, 3)).toBe('0000000100000001')
    expect(() => euiPlus(0xfffffffffffffffen, 2)).toThrow(RangeError)
  })
})

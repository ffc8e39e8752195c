import { hash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteSlab, drawBytes, drawScalar, drawWords, fleetKey } from './draws.ts'

/** What a draw is defined as: SHA-256(key ‖ index, 4 bytes big-endian ‖ label), by node:crypto. */
function reference(key: Uint8Array, index: number, label: string): Uint8Array {
  const input = Buffer.alloc(36 + label.length)
  input.set(key, 0)
  input.writeUInt32BE(index >>> 0, 32)
  input.write(label, 36, 'latin1')
  return new Uint8Array(hash('sha256', input, 'buffer'))
}

describe('draws', () => {
  it("drawBytes is node:crypto's SHA-256 of key ‖ index ‖ label, for every label length", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat({ max: 0xffffffff }),
        fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-#0123456789'), maxLength: 19 }),
        (key, index, label) => {
          expect(drawBytes(key, index, label)).toEqual(reference(key, index, label))
        },
      ),
      { numRuns: 2000 },
    )
    expect(() => drawBytes(fleetKey(1), 0, 'x'.repeat(20))).toThrow(RangeError)
  })

  it('drawWords are the digest as big-endian words; out arrays and offsets are written in place', () => {
    const key = fleetKey('words')
    for (let i = 0; i < 200; i++) {
      const bytes = reference(key, i, 'draws0')
      const view = new DataView(bytes.buffer)
      const words = drawWords(key, i, 'draws0')
      for (let k = 0; k < 8; k++) expect(words[k]).toBe(view.getUint32(4 * k))
      const into = new Uint32Array(8)
      expect(drawWords(key, i, 'draws0', into)).toBe(into)
      expect(into).toEqual(words)
      const out = new Uint8Array(40)
      drawBytes(key, i, 'draws0', out, 5)
      expect(out.subarray(5, 37)).toEqual(bytes)
      expect([...out.subarray(0, 5), ...out.subarray(37)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    }
  })

  it('drawScalar is the digest (in range), as a new array or a view of a slab', () => {
    const slab = new ByteSlab(100)
    for (let i = 0; i < 300; i++) {
      const key = new Uint8Array(randomBytes(32))
      const expected = reference(key, i, 'esme-ka')
      expect(drawScalar(key, i, 'esme-ka')).toEqual(expected)
      const view = drawScalar(key, i, 'esme-ka', slab)
      expect(view).toEqual(expected)
      expect(view.byteLength).toBe(32)
    }
  })
})

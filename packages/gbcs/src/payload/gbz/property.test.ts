/**
 * Properties of the GBZ family: whatever decode accepts encodes back to the same bytes, and
 * garbage, truncated or mutated input only ever fails with a DecodeError.
 */
import { fromHex, toHex } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../codec/reader.ts'
import type { Cra, Json, PayloadContext } from '../types.ts'
import { gbzFamily } from './gbz.ts'
import { gbzUseCases } from './use-cases.ts'

/** Hand-built payloads covering the layouts (not RTDS data). */
const SAMPLES: [PayloadContext, string][] = [
  [{ messageCode: 0x006c, cra: 'command' }, '0109010107050015010306090000001100000000000000940CF6FFFFFF'],
  [{ messageCode: 0x006c, cra: 'response' }, '0109010107050010190302000300000010270000E8030000'],
  [{ messageCode: 0x0082, cra: 'response' }, '010901010702000E0800010502002132001400003001'],
  [
    { messageCode: 0x0075, cra: 'command' },
    '010902000700000700050017061606010705000F000600050002000100310211022102',
  ],
  [
    { messageCode: 0x0074, cra: 'response' },
    '01090103070200230102180401001C31000000070011223344556677889900A0A1A2A3A4A5A6A7A8A9AAAB',
  ],
  [{ messageCode: 0x00cd, cra: 'alert' }, '0109018F672B4389800E006F00000000000001020705010B'],
  [{ messageCode: 0x00f2, cra: 'alert' }, '01090181A02B4389800003'],
  [{ messageCode: 0x1001, cra: 'alert' }, '010900810D2B438980'],
  [
    { messageCode: 0x006b, cra: 'command' },
    '0109010107000020090205000000000100000000000000070000000001000164000000' + '02C8000000',
  ],
]

function decodeOrDecodeError(bytes: Uint8Array, ctx: PayloadContext): Json | undefined {
  try {
    return gbzFamily.decode(bytes, ctx, 0)
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e
    return undefined
  }
}

function checkRoundTrip(bytes: Uint8Array, ctx: PayloadContext): void {
  const s = decodeOrDecodeError(bytes, ctx)
  if (s === undefined) return
  expect(toHex(gbzFamily.encode(JSON.parse(JSON.stringify(s)) as Json, ctx))).toBe(toHex(bytes))
  const uc = gbzUseCases.find((u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra))
  const view = uc?.interpret(s, ctx)
  if (uc && view) expect(toHex(gbzFamily.encode(uc.build(view, ctx), ctx))).toBe(toHex(bytes))
}

const ctxArb: fc.Arbitrary<PayloadContext> = fc.record({
  messageCode: fc.constantFrom(
    0x006c,
    0x0074,
    0x0075,
    0x0082,
    0x00cd,
    0x00cf,
    0x00f2,
    0x1000,
    0x1001,
    0x0090,
  ),
  cra: fc.constantFrom<Cra>('command', 'response', 'alert'),
})

describe('GBZ properties', () => {
  it('the hand-built samples round-trip and get their views', () => {
    for (const [ctx, h] of SAMPLES) {
      const s = gbzFamily.decode(fromHex(h), ctx, 0)
      expect(toHex(gbzFamily.encode(s, ctx))).toBe(h)
      checkRoundTrip(fromHex(h), ctx)
    }
  })

  it('garbage after the profile id only ever throws DecodeError, and what decodes round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), ctxArb, (tail, ctx) => {
        checkRoundTrip(Uint8Array.of(0x01, 0x09, ...tail), ctx)
      }),
      { numRuns: 3000 },
    )
  })

  it('structured garbage (plausible component headers) only ever throws DecodeError', () => {
    const componentArb = fc
      .record({
        control: fc.constantFrom(0, 1, 2, 3, 0x10, 0x11, 0x41),
        cluster: fc.constantFrom(0x0000, 0x0700, 0x0702, 0x0703, 0x0705, 0x0707, 0x0708, 0x0709),
        fc: fc.constantFrom(0x00, 0x01, 0x08, 0x09, 0x18, 0x19, 0x05),
        cmd: fc.integer({ min: 0, max: 14 }),
        body: fc.uint8Array({ maxLength: 40 }),
      })
      .map(({ control, cluster, fc: f, cmd, body }) => {
        const zcl = [f, 0, cmd, ...body]
        return [control, cluster >> 8, cluster & 0xff, zcl.length >> 8, zcl.length & 0xff, ...zcl]
      })
    fc.assert(
      fc.property(fc.array(componentArb, { minLength: 1, maxLength: 3 }), ctxArb, (cs, ctx) => {
        const head = ctx.cra === 'alert' ? [0x80, 0x0e, 0x2b, 0x43, 0x89, 0x80] : []
        checkRoundTrip(Uint8Array.of(0x01, 0x09, cs.length, ...head, ...cs.flat()), ctx)
      }),
      { numRuns: 3000 },
    )
  })

  it('every truncation of a valid payload throws DecodeError', () => {
    for (const [ctx, h] of SAMPLES) {
      const bytes = fromHex(h)
      for (let n = 0; n < bytes.length; n++) {
        expect(() => gbzFamily.decode(bytes.subarray(0, n), ctx, 0)).toThrow(DecodeError)
      }
    }
  })

  it('mutated valid payloads decode to something that round-trips, or throw DecodeError', () => {
    const sample = fc.constantFrom(...SAMPLES)
    fc.assert(
      fc.property(sample, fc.nat(), fc.integer({ min: 0, max: 255 }), ([ctx, h], at, b) => {
        const bytes = fromHex(h)
        bytes[at % bytes.length] = b
        checkRoundTrip(bytes, ctx)
      }),
      { numRuns: 3000 },
    )
  })
})

/**
 * Properties of the ASN.1 family: whatever decode accepts encodes back to the same bytes (and
 * through a use-case view, when one applies), any TLV tree survives encode → decode, and
 * garbage, truncated or mutated input only ever fails with a DecodeError.
 */
import { fromHex, toHex } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../codec/reader.ts'
import type { Cra, Json, PayloadContext } from '../types.ts'
import { ASN1_MESSAGE_CODES, asn1Family, type DerNode, decodeDer, encodeDer } from './der.ts'
import { asn1UseCases } from './use-cases.ts'

/** Hand-built payloads of the shapes the views know (not RTDS data). */
const SAMPLES: [PayloadContext, string][] = [
  [
    { messageCode: 0x007f, cra: 'command' },
    '3022180F32303134313233313233333030305A180F32303135303130313030333030305A',
  ],
  [{ messageCode: 0x007f, cra: 'response' }, '3014180F32303135303130313030303030305A020102'],
  [{ messageCode: 0x0102, cra: 'response' }, '30020500'],
  [
    { messageCode: 0x0102, cra: 'command' },
    '303F3013020102A20702010203020780830203E88401003013301130030201013' +
      '00A020102030203080201013002300018' +
      '0F32303330303131353039303030305A',
  ],
  [
    { messageCode: 0x00cb, cra: 'alert' },
    '3082004F0203008F66180F32303330303131353030303030305A30820035020203E802010730123010020102020100300830060201' +
      '0002010530183016300602010203010' +
      '00A01050401AA04000401BB0401CC',
  ],
  [{ messageCode: 0x0012, cra: 'command' }, '300A0404AA758690020203E8'],
]

function decodeOrDecodeError(bytes: Uint8Array, ctx: PayloadContext): Json | undefined {
  try {
    return asn1Family.decode(bytes, ctx, 0)
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e
    return undefined
  }
}

/** Returns whether a use-case view applied. */
function checkRoundTrip(bytes: Uint8Array, ctx: PayloadContext): boolean {
  const s = decodeOrDecodeError(bytes, ctx)
  if (s === undefined) return false
  expect(toHex(asn1Family.encode(JSON.parse(JSON.stringify(s)) as Json, ctx))).toBe(toHex(bytes))
  const uc = asn1UseCases.find((u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra))
  const view = uc?.interpret(s, ctx)
  if (!uc || !view) return false
  expect(toHex(asn1Family.encode(uc.build(JSON.parse(JSON.stringify(view)), ctx), ctx))).toBe(toHex(bytes))
  return true
}

const ctxArb: fc.Arbitrary<PayloadContext> = fc.record({
  messageCode: fc.constantFrom(...ASN1_MESSAGE_CODES),
  cra: fc.constantFrom<Cra>('command', 'response', 'alert'),
})

/** An identifier: class, constructed bit, low or high tag number form (minimal or not). */
const identifierArb = (constructed: boolean): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.oneof(
        fc.integer({ min: 1, max: 30 }).map((n) => [n]),
        fc
          .array(fc.integer({ min: 0, max: 127 }), { minLength: 1, maxLength: 4 })
          .map((ns) => [0x1f, ...ns.map((n, i) => (i < ns.length - 1 ? n | 0x80 : n))]),
      ),
    )
    .map(([cls, [first, ...rest]]) =>
      toHex(Uint8Array.of((cls << 6) | (constructed ? 0x20 : 0) | first!, ...rest)),
    )

const lengthFormArb = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 3 })

const treeArb: fc.Arbitrary<DerNode> = fc
  .letrec<{ node: DerNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc
        .record({
          tag: identifierArb(false),
          value: fc.uint8Array({ maxLength: 140 }),
          lengthOctets: lengthFormArb,
        })
        .map(({ tag, value, lengthOctets }) => ({ tag, value: toHex(value), lengthOctets })),
      fc
        .record({
          tag: identifierArb(true),
          children: fc.array(tie('node'), { maxLength: 4 }),
          lengthOctets: lengthFormArb,
        })
        .map((n) => n),
    ),
  }))
  .node.map(normalise)

/** Drops lengthOctets that are DER's minimal form anyway (decode leaves those out). */
function normalise(n: DerNode): DerNode {
  const children = 'children' in n ? n.children.map(normalise) : undefined
  const length = children
    ? children.reduce((a, c) => a + encodeDer(c as unknown as Json).length, 0)
    : (n as { value: string }).value.length / 2
  const minimal = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : 3
  const out: DerNode = children
    ? { tag: n.tag, children }
    : { tag: n.tag, value: (n as { value: string }).value }
  if (n.lengthOctets !== undefined && n.lengthOctets !== minimal && length < 2 ** (8 * n.lengthOctets))
    out.lengthOctets = n.lengthOctets
  return out
}

describe('ASN.1 properties', () => {
  it('the hand-built samples round-trip and get their views', () => {
    for (const [ctx, h] of SAMPLES) {
      expect(toHex(asn1Family.encode(asn1Family.decode(fromHex(h), ctx, 0), ctx))).toBe(h)
      expect(checkRoundTrip(fromHex(h), ctx)).toBe(ctx.messageCode !== 0x0012)
    }
  })

  it('arbitrary bytes only ever throw DecodeError, and what decodes round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), ctxArb, (bytes, ctx) => {
        checkRoundTrip(bytes, ctx)
      }),
      { numRuns: 5000 },
    )
  })

  it('arbitrary bytes behind a plausible header only ever throw DecodeError', () => {
    const head = fc.constantFrom([0x30], [0x30, 0x81], [0x30, 0x82, 0x00], [0xa0], [0x02, 0x01], [0x1f, 0x81])
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 60 }), ctxArb, (h, tail, ctx) => {
        checkRoundTrip(Uint8Array.of(...h, ...tail), ctx)
      }),
      { numRuns: 5000 },
    )
  })

  it('arbitrary TLV trees encode → decode identically', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const bytes = encodeDer(tree as unknown as Json)
        const back = decodeDer(bytes, 0)
        expect(back).toEqual(JSON.parse(JSON.stringify(tree)))
        expect(toHex(encodeDer(back as unknown as Json))).toBe(toHex(bytes))
      }),
      { numRuns: 2000 },
    )
  })

  it('every truncation of a valid payload throws DecodeError', () => {
    for (const [ctx, h] of SAMPLES) {
      const bytes = fromHex(h)
      for (let n = 0; n < bytes.length; n++) {
        expect(() => asn1Family.decode(bytes.subarray(0, n), ctx, 0)).toThrow(DecodeError)
      }
    }
  })

  it('mutated valid payloads decode to something that round-trips, or throw DecodeError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLES),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        ([ctx, h], at, b) => {
          const bytes = fromHex(h)
          bytes[at % bytes.length] = b
          checkRoundTrip(bytes, ctx)
        },
      ),
      { numRuns: 5000 },
    )
  })
})

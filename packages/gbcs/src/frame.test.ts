import { bytesEqual, type Eui64, fromHex, parseEui, toHex } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from './codec/reader.ts'
import {
  decodeFrame,
  encodeFrame,
  type GbcsFrame,
  type GeneralSigning,
  signedBytes,
  tryDecodeFrame,
} from './frame.ts'

// Our own example: an "Arm Supply" style command from supplier 90B3D51F30010000 to ESME
// 0001020304050607, counter 0x1000, with a dummy content, a dummy signature and a dummy MAC.
const content = fromHex('D9 00000001 00 01 03 0009 00000A006AFF 01 01 12 0036')
const signatureBytes = new Uint8Array(64).fill(0xab)
const macBytes = new Uint8Array(12).fill(0xcd)
const signing: GeneralSigning = {
  cra: 'command',
  originatorCounter: 0x1000n,
  originator: parseEui('90B3D51F30010000'),
  recipient: parseEui('0001020304050607'),
  messageCode: 0x0051,
  content,
  signature: { kind: 'ecdsa', bytes: signatureBytes },
}
const grouping =
  'DF 09 01 0000000000001000' + // general-signing tag, transaction id: CRA command + counter
  ' 08 90B3D51F30010000 08 0001020304050607' + // originator and recipient system titles
  ' 00' + // no date-time
  ' 02 0051' + // other-information: message code only
  ' 15' // content length 21
const expected = fromHex(
  `DD 000000000000 81 89 11 00000000 ${grouping} ${toHex(content)} 40 ${'AB'.repeat(64)} ${'CD'.repeat(12)}`,
)

describe('GBCS frame codec', () => {
  it('encodes the MAC header, grouping header, content, signature and MAC as GBCS lays them out', () => {
    const bytes = encodeFrame({ signing, mac: macBytes })
    expect(toHex(bytes)).toBe(toHex(expected))
    // 0x89 = 5 (security header) + 120 (general-signing block: 34 header, 21 content, 65 signature) + 12 (MAC)
    expect(expected[8]).toBe(5 + 120 + 12)
  })

  it('decodes it back to the same fields', () => {
    const frame = decodeFrame(expected)
    expect(frame.signing).toEqual(signing)
    expect(frame.mac).toEqual(macBytes)
  })

  it('signs the block from after the 0xDF tag to the end of the content', () => {
    expect(toHex(signedBytes(signing))).toBe(toHex(fromHex(`${grouping.slice(3)} ${toHex(content)}`)))
  })

  it('handles Pre-Commands (no signature field), empty signatures, date-times and supplementary fields', () => {
    const variants: GbcsFrame[] = [
      { signing: { ...signing, signature: { kind: 'absent' } } },
      { signing: { ...signing, signature: { kind: 'empty' }, cra: 'response' }, mac: macBytes },
      { signing: { ...signing, dateTime: fromHex('07EA0B16FF0C000000800000') }, mac: macBytes },
      { signing: { ...signing, supplementary: { remotePartyId: parseEui('90B3D51F30020000') } } },
      {
        signing: {
          ...signing,
          supplementary: { remotePartyId: signing.originator, remotePartyCounter: 7n, originatorCounter: 9n },
        },
      },
      {
        signing: {
          ...signing,
          supplementary: {
            remotePartyId: signing.originator,
            remotePartyCounter: 7n,
            keyAgreementCertificate: new Uint8Array(300).fill(0x30),
          },
        },
      },
    ]
    for (const f of variants) {
      const bytes = encodeFrame(f)
      expect(decodeFrame(bytes)).toEqual(f)
    }
  })

  it('uses the long length forms when the content grows', () => {
    const big = { ...signing, content: new Uint8Array(300) }
    const bytes = encodeFrame({ signing: big, mac: macBytes })
    expect(toHex(bytes.subarray(7, 10))).toBe('8201A2') // 5 + (36 header + 300 content + 65 signature) + 12 = 418 = 0x01A2
    expect(decodeFrame(bytes).signing.content.length).toBe(300)
  })
})

describe('malformed frames', () => {
  const cases: [string, string, RegExp][] = [
    ['empty input', '', /unexpected end of input at offset 0/],
    ['wrong tag', 'DE00', /not a GBCS frame: tag 0xDE.* at offset 0/],
    ['general block transfer', 'DD01', /transaction-id must be empty in GBCS at offset 2/],
    [
      'truncated ciphered service',
      'DD00000000000081991100000000DF',
      /ciphered service needs 153 bytes but only 6 remain at offset 9/,
    ],
    ['bad CRA flag', 'DF0907', /CRA flag must be 1, 2 or 3 at offset 2/],
    [
      'bad signature length',
      `${toHex(encodeFrame({ signing: { ...signing, signature: { kind: 'absent' } } }))}20`,
      /signature length must be 0 or 64, got 32 at offset 56/,
    ],
  ]
  for (const [name, hex, message] of cases) {
    it(`${name} is a DecodeError naming the offset`, () => {
      const r = tryDecodeFrame(fromHex(hex))
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toMatch(message)
    })
  }

  it('trailing bytes after a frame are refused', () => {
    const r = tryDecodeFrame(fromHex(`${toHex(expected)}00`))
    expect(r.ok).toBe(false)
    if (!r.ok)
      expect(r.error.message).toBe(`1 unexpected trailing bytes after the frame at offset ${expected.length}`)
  })
})

const eui = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => toHex(b) as Eui64)
const counter = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const arbitrarySigning: fc.Arbitrary<GeneralSigning> = fc.record(
  {
    cra: fc.constantFrom('command', 'response', 'alert'),
    originatorCounter: counter,
    originator: eui,
    recipient: eui,
    dateTime: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    messageCode: fc.integer({ min: 0, max: 0xffff }),
    supplementary: fc.oneof(
      fc.record({ remotePartyId: eui }),
      fc.record({ remotePartyId: eui, remotePartyCounter: counter }),
      fc.record({ remotePartyId: eui, remotePartyCounter: counter, originatorCounter: counter }),
    ),
    content: fc.uint8Array({ maxLength: 600 }),
    signature: fc.oneof(
      fc.constant({ kind: 'absent' as const }),
      fc.constant({ kind: 'empty' as const }),
      fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes) => ({ kind: 'ecdsa' as const, bytes })),
    ),
  },
  {
    requiredKeys: [
      'cra',
      'originatorCounter',
      'originator',
      'recipient',
      'messageCode',
      'content',
      'signature',
    ],
  },
)
const arbitraryFrame: fc.Arbitrary<GbcsFrame> = fc.oneof(
  arbitrarySigning.map((signing) => ({ signing })),
  fc
    .tuple(arbitrarySigning, fc.uint8Array({ minLength: 12, maxLength: 12 }))
    .filter(([s]) => s.signature.kind !== 'absent')
    .map(([signing, mac]) => ({ signing, mac })),
)

describe('properties', () => {
  it('decode(encode(frame)) = frame and encode(decode(bytes)) = bytes', () => {
    fc.assert(
      fc.property(arbitraryFrame, (frame) => {
        const bytes = encodeFrame(frame)
        const back = decodeFrame(bytes)
        expect(back).toEqual(frame)
        expect(bytesEqual(encodeFrame(back), bytes)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('garbage, truncations and single-byte corruptions never escape as anything but a DecodeError', () => {
    const mutated = fc
      .tuple(arbitraryFrame, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
      .map(([frame, at, value, cut]) => {
        const bytes = encodeFrame(frame)
        const i = at % bytes.length
        bytes[i] = value
        return bytes.subarray(0, bytes.length - (cut % 3 === 0 ? cut % bytes.length : 0))
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) => {
        try {
          decodeFrame(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError)
          expect((e as DecodeError).offset).toBeGreaterThanOrEqual(0)
          expect((e as DecodeError).offset).toBeLessThanOrEqual(bytes.length)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

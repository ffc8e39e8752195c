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
import { frameFromJson, frameToJson } from './frame-json.ts'

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

  it('1 to 7 bytes after the supplementary remote party counter are refused (no counter, no certificate)', () => {
    const withTail = (n: number) => {
      // other-information: its length, message code, remote party id and counter, then n bytes
      const other = `${(2 + 8 + 8 + n).toString(16).padStart(2, '0')} 0051 90B3D51F30020000 0000000000000007 ${'30'.repeat(n)}`
      return fromHex(`DF 09 01 0000000000001000 08 90B3D51F30010000 08 0001020304050607 00 ${other} 00`)
    }
    for (let n = 1; n <= 7; n++) {
      const r = tryDecodeFrame(withTail(n))
      expect(r.ok, `${n} bytes`).toBe(false)
      if (!r.ok)
        expect(r.error.message).toBe(
          `${n} bytes after the supplementary remote party counter: neither an originator counter (8) nor a key agreement certificate at offset 49`,
        )
    }
    // 8 bytes are the supplementary originator counter, 9 or more a certificate: both round-trip.
    for (const n of [8, 9]) {
      const bytes = withTail(n)
      expect(toHex(encodeFrame(decodeFrame(bytes)))).toBe(toHex(bytes))
    }
  })

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
      fc.record({
        remotePartyId: eui,
        remotePartyCounter: counter,
        keyAgreementCertificate: fc.uint8Array({ minLength: 9, maxLength: 300 }),
      }),
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

  it('whatever decode accepts re-encodes to the very same bytes, also through the JSON form', () => {
    // Frames mutated the ways a wire or an attacker mutates them: a byte overwritten, bytes
    // inserted or deleted (so lengths and what they cover disagree), a tail cut off; and plain
    // garbage behind a GBCS tag. Most are refused; every one that is accepted must come back
    // byte for byte, or decode has accepted something it cannot represent.
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.nat(),
        count: fc.integer({ min: 1, max: 9 }),
      }),
      fc.record({ kind: fc.constant('cut' as const), count: fc.nat() }),
    )
    const mutated = fc
      .tuple(arbitraryFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([frame, ms]) => {
        let b = Array.from(encodeFrame(frame))
        for (const m of ms) {
          const at = m.kind === 'cut' ? 0 : m.at % (b.length + 1)
          if (m.kind === 'set' && b.length > 0) b[at % b.length] = m.value
          else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes)
          else if (m.kind === 'delete') b.splice(at, m.count)
          else if (m.kind === 'cut') b = b.slice(0, b.length - (m.count % (b.length + 1)))
        }
        return Uint8Array.from(b)
      })
    const tagged = fc
      .tuple(fc.constantFrom(0xdd, 0xdf), fc.uint8Array({ maxLength: 120 }))
      .map(([tag, rest]) => Uint8Array.of(tag, ...rest))
    // A General-Signing block whose other-information (after the message code) and signature
    // field are arbitrary bytes under correct lengths: the supplementary fields' parser gets every
    // tail length, not only the ones the encoder makes.
    const length = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff])
    const loose = fc
      .tuple(
        arbitrarySigning,
        // Every tail length from none to well past id, counter and counter (24 bytes) is as likely.
        fc.integer({ min: 0, max: 40 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 70 })),
      )
      .map(([s, tail, signature]) => {
        const head = Array.from(encodeFrame({ signing: { ...s, signature: { kind: 'absent' } } }))
        const cut = 29 + (s.dateTime ? 13 : 1)
        const other = [s.messageCode >> 8, s.messageCode & 0xff, ...tail]
        return Uint8Array.from([
          ...head.slice(0, cut),
          ...length(other.length),
          ...other,
          ...length(s.content.length),
          ...s.content,
          ...signature,
        ])
      })
    let accepted = 0
    fc.assert(
      fc.property(fc.oneof(mutated, tagged, loose), (bytes) => {
        const decoded = tryDecodeFrame(bytes)
        if (!decoded.ok) return
        accepted++
        expect(toHex(encodeFrame(decoded.value))).toBe(toHex(bytes))
        const json = JSON.parse(JSON.stringify(frameToJson(decoded.value)))
        expect(toHex(encodeFrame(frameFromJson(json)))).toBe(toHex(bytes))
      }),
      { numRuns: 3000 },
    )
    // The property is only worth something if some mutated frames still decode.
    expect(accepted).toBeGreaterThan(100)
  })
})

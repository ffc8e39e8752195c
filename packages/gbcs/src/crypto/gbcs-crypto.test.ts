/**
 * Known answers for the GBCS KDF, MAC and signature.
 *
 * Test data origin: the GBCS §18.4 "Cryptographic Test Vectors" (Supplier A, the ACB and
 * Device A, and the ECS04b Critical Command) and the NIST GCM example, as transcribed in
 * HenryGiraldo/gbcs, python/gbcs-tests.py (public domain, Unlicense). Only the data values are
 * used here.
 */
import { describe, expect, it } from 'vitest'
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  gbcsDecrypt,
  gbcsEncrypt,
  gbcsIv,
  gbcsKdf,
  gbcsMac,
  gbcsOtherInfo,
  tagsEqual,
  verifyGbcsMac,
  writeGbcsMac,
} from './gbcs-crypto.ts'
import { createNativeBackend } from './native.ts'
import { createNobleBackend } from './noble.ts'
import type { CryptoBackend } from './types.ts'

const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase()
const flip = (b: Uint8Array, i: number) => {
  const c = b.slice()
  c[i]! ^= 0x01
  return c
}

const supplierA = {
  id: '123456789ABCDEF0',
  dsPrivate: hex('3A6B2EAA0D9F25A9E455983FEB5BB947528121911BF3B76BE5661C89DBF24B26'),
  // 64 bytes x‖y, as the specification prints public keys.
  dsPublic: hex(
    '76628E1C84EF7935548AE5D62C7BB3AD28964CF794F0387A697EEC19CDD98F46' +
      '0A4D5E19087EF7216ED89C29831A6EE838C8DE88EF34F11D3F41F36D80B2A5D5',
  ),
}
const acb = { kaPrivate: hex('E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFB') }
const deviceA = {
  id: 'FFFFFFFFFFFFFFFE',
  kaPublic: hex(
    '2DB45A3F21889438B42C8F464C75292BACF5FDDB5DA0B492501B299CBFE92D8F' +
      'DB90FC8FF4026129838B1BCAD1402CAE47FE7D8084E409A41AFCE16D63579C5F',
  ),
}

// ECS04b Reset Meter Balance, from Supplier A to Device A (178 bytes).
const frame = hex(
  'DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE000200B3' +
    '35D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF0203050000000005' +
    '000000000500000000405904' +
    '5AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9FE2E12E2DA3632478A8DF678E418895' +
    '869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3',
)
// Offsets in the frame:
//   0..13    MAC header: DD; 00×6 (bytes 1..6, general-ciphering fields); 81 A9 (bytes 7..8, length
//            169 = bytes 9..177); security header 11 00 00 00 00 (bytes 9..13)
//   14..47   grouping header (34 bytes): DF; 09 01 <counter 00…01> (transaction id, CRA command);
//            08 <originator 123456789ABCDEF0>; 08 <recipient FFFFFFFFFFFFFFFE>; 00 (no date-time);
//            02 00 B3 (other-information: message code 0x00B3); 35 (content length 53)
//   48..100  payload (53 bytes)
//   101      signature length 40
//   102..165 signature r‖s (64 bytes)
//   166..177 MAC (12 bytes)
const GROUPING = 14
const PAYLOAD = 48
const SIG_LEN = 101
const SIGNATURE = 102
const MAC = 166
const signed = frame.slice(GROUPING + 1, SIG_LEN) // grouping header without DF, and the payload
const signature = frame.slice(SIGNATURE, MAC)
const mac = frame.slice(MAC)
// The security header 11 00000000, one zero byte, then the whole General-Signing block.
const aad = Uint8Array.from([0x11, 0, 0, 0, 0, 0, ...frame.subarray(GROUPING, MAC)])

const backends: CryptoBackend[] = [createNativeBackend(), createNobleBackend()]

describe('frame layout of the GBCS §18.4 ECS04b vector', () => {
  it('has the offsets the comments say', () => {
    expect(frame.length).toBe(178)
    expect(frame[8]).toBe(0xa9)
    expect(frame[9]).toBe(0x11)
    expect(frame.length - 9).toBe(0xa9)
    expect(frame[GROUPING]).toBe(0xdf)
    expect(frame[PAYLOAD - 1]).toBe(0x35)
    expect(SIG_LEN - PAYLOAD).toBe(0x35)
    expect(frame[SIG_LEN]).toBe(0x40)
    expect(signature.length).toBe(64)
    expect(mac.length).toBe(12)
  })
})

for (const backend of backends) {
  describe(`GBCS §18.4 vectors, ${backend.name} backend`, () => {
    it('the ECS04b signature verifies with Supplier A’s digital-signing key', () => {
      const key = backend.importPublicKey(supplierA.dsPublic, { trustAnchor: true })
      expect(backend.verify(key, signed, signature)).toBe(true)
      expect(backend.verify(key, flip(signed, 20), signature)).toBe(false)
      expect(backend.verify(key, signed, flip(signature, 63))).toBe(false)
      expect(backend.verify(key, signed, flip(signature, 5))).toBe(false)
      // The whole frame, or the grouping header with its DF, is not what is signed.
      expect(backend.verify(key, frame.slice(GROUPING, SIG_LEN), signature)).toBe(false)
    })

    it('Supplier A’s private key gives that public key and signs verifiable signatures', () => {
      const priv = backend.importPrivateKey(supplierA.dsPrivate)
      expect(priv.publicKey).toBe(backend.importPublicKey(supplierA.dsPublic))
      const sig = backend.sign(priv, signed)
      expect(sig.length).toBe(64)
      expect(backend.verify(priv.publicKey, signed, sig)).toBe(true)
    })

    it('the MAC recomputed from the ACB and Device A key-agreement keys equals the frame’s', () => {
      const z = backend.ecdh(
        backend.importPrivateKey(acb.kaPrivate),
        backend.importPublicKey(deviceA.kaPublic),
      )
      const key = gbcsKdf(z, { originator: supplierA.id, cra: 'command', counter: 1n, recipient: deviceA.id })
      expect(toHex(gbcsMac(key, supplierA.id, aad))).toBe(toHex(mac))
      // The additional data given in two parts, split anywhere, gives the same tag in place.
      for (const cut of [0, 6, 7, 37, aad.length]) {
        const out = new Uint8Array(20).fill(0xee)
        writeGbcsMac(key, supplierA.id, aad.subarray(0, cut), aad.subarray(cut), out, 4)
        expect(toHex(out.subarray(4, 16))).toBe(toHex(mac))
        expect(out[3]).toBe(0xee)
        expect(out[16]).toBe(0xee)
      }
      expect(verifyGbcsMac(key, supplierA.id, aad, mac)).toBe(true)
      expect(verifyGbcsMac(key, supplierA.id, flip(aad, 30), mac)).toBe(false)
      expect(verifyGbcsMac(key, supplierA.id, aad, flip(mac, 11))).toBe(false)
      expect(verifyGbcsMac(flip(key, 0), supplierA.id, aad, mac)).toBe(false)
      expect(verifyGbcsMac(key, deviceA.id, aad, mac)).toBe(false)
      // Another counter or CRA flag is another key.
      const other = gbcsKdf(z, {
        originator: supplierA.id,
        cra: 'response',
        counter: 1n,
        recipient: deviceA.id,
      })
      expect(verifyGbcsMac(other, supplierA.id, aad, mac)).toBe(false)
    })
  })
}

describe('GBCS KDF', () => {
  it('builds the 33-byte OtherInfo with the transaction id as the grouping header carries it', () => {
    const info = gbcsOtherInfo({
      originator: supplierA.id,
      cra: 'command',
      counter: 1n,
      recipient: deviceA.id,
    })
    expect(toHex(info)).toBe(`60857406080300${supplierA.id}09010000000000000001${deviceA.id}`)
    // The same transaction id as in the frame (bytes 15..24).
    expect(info.subarray(15, 25)).toEqual(frame.subarray(GROUPING + 1, GROUPING + 11))
    // Named and numeric CRA flags, bigint and byte counters, text and byte titles agree.
    expect(
      gbcsOtherInfo({
        originator: hex(supplierA.id),
        cra: 1,
        counter: hex('0000000000000001'),
        recipient: hex(deviceA.id),
      }),
    ).toEqual(info)
    expect(
      gbcsOtherInfo({ originator: supplierA.id, cra: 'encryption', counter: 1n, recipient: deviceA.id })[16],
    ).toBe(4)
  })

  it('takes a ready OtherInfo too', () => {
    const z = new Uint8Array(32).fill(7)
    const p = { originator: supplierA.id, cra: 'alert' as const, counter: 99n, recipient: deviceA.id }
    expect(gbcsKdf(z, { otherInfo: gbcsOtherInfo(p) })).toEqual(gbcsKdf(z, p))
    expect(gbcsKdf(z, p).length).toBe(16)
  })

  it('refuses malformed parameters', () => {
    const z = new Uint8Array(32)
    expect(() =>
      gbcsKdf(z.subarray(1), { originator: supplierA.id, cra: 1, counter: 1n, recipient: deviceA.id }),
    ).toThrow(RangeError)
    expect(() => gbcsKdf(z, { originator: 'XYZ', cra: 1, counter: 1n, recipient: deviceA.id })).toThrow(
      RangeError,
    )
    expect(() =>
      gbcsKdf(z, { originator: supplierA.id, cra: 5, counter: 1n, recipient: deviceA.id }),
    ).toThrow(RangeError)
    expect(() =>
      gbcsKdf(z, { originator: supplierA.id, cra: 1, counter: -1n, recipient: deviceA.id }),
    ).toThrow(RangeError)
    expect(() =>
      gbcsKdf(z, { originator: supplierA.id, cra: 1, counter: 1n << 64n, recipient: deviceA.id }),
    ).toThrow(RangeError)
  })
})

describe('AES-128-GCM', () => {
  // The NIST GCM example (AES-128, 96-bit IV, with AAD), tag cut to 12 bytes.
  const key = hex('FEFFE9928665731C6D6A8F9467308308')
  const iv = hex('CAFEBABEFACEDBADDECAF888')
  const aadN = hex('3AD77BB40D7A3660A89ECAF32466EF97F5D3D585')
  const plaintext = hex(
    'D9313225F88406E5A55909C5AFF5269A86A7A9531534F7DA2E4C303D8A318A721C3C0C95956809532FCF0E2449A6B525B16AEDF5AA0DE657BA637B39',
  )
  const ciphertext = hex(
    '42831EC2217774244B7221B784D0D49CE3AA212F2C02A4E035C17E2329ACA12E21D514B25466931C7D8F6A5AAC84AA051BA30B396A0AAC973D58E091',
  )
  const tag = hex('F07C2528EEA2FCA1211F905E')

  it('encrypts and decrypts the NIST known answer', () => {
    const out = aesGcmEncrypt(key, iv, aadN, plaintext, 12)
    expect(toHex(out.ciphertext)).toBe(toHex(ciphertext))
    expect(toHex(out.tag)).toBe(toHex(tag))
    expect(aesGcmDecrypt(key, iv, aadN, ciphertext, tag)).toEqual(plaintext)
  })

  it('refuses a flipped byte anywhere, without throwing', () => {
    expect(aesGcmDecrypt(key, iv, aadN, flip(ciphertext, 0), tag)).toBeNull()
    expect(aesGcmDecrypt(key, iv, flip(aadN, 19), ciphertext, tag)).toBeNull()
    expect(aesGcmDecrypt(key, iv, aadN, ciphertext, flip(tag, 3))).toBeNull()
    expect(aesGcmDecrypt(key, flip(iv, 11), aadN, ciphertext, tag)).toBeNull()
    expect(aesGcmDecrypt(key.subarray(1), iv, aadN, ciphertext, tag)).toBeNull()
  })

  it('gbcsEncrypt/gbcsDecrypt round-trip with the GBCS IV and a 12-byte tag', () => {
    expect(toHex(gbcsIv(supplierA.id))).toBe(`${supplierA.id}00000000`)
    const sealed = gbcsEncrypt(key, supplierA.id, aadN, plaintext)
    expect(sealed.length).toBe(plaintext.length + 12)
    expect(gbcsDecrypt(key, supplierA.id, aadN, sealed)).toEqual(plaintext)
    expect(gbcsDecrypt(key, supplierA.id, aadN, flip(sealed, 10))).toBeNull()
    expect(gbcsDecrypt(key, supplierA.id, aadN, flip(sealed, sealed.length - 1))).toBeNull()
    expect(gbcsDecrypt(key, deviceA.id, aadN, sealed)).toBeNull()
    expect(gbcsDecrypt(key, 'bad', aadN, sealed)).toBeNull()
    expect(gbcsDecrypt(key, supplierA.id, aadN, sealed.subarray(0, 5))).toBeNull()
    // Same IV rule as the MAC: with an empty plaintext the sealed bytes are the MAC.
    expect(gbcsEncrypt(key, supplierA.id, aadN, new Uint8Array(0))).toEqual(gbcsMac(key, supplierA.id, aadN))
  })

  it('compares tags in constant time, lengths included', () => {
    expect(tagsEqual(tag, tag.slice())).toBe(true)
    expect(tagsEqual(tag, flip(tag, 0))).toBe(false)
    expect(tagsEqual(tag, tag.subarray(0, 11))).toBe(false)
  })
})

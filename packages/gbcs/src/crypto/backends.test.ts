import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto'
import { newP256KeyPair } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { getBackend, nativeBackend, nobleBackend } from './index.ts'
import { bigintTo32, bytesToBigint, P256_N } from './keys.ts'
import { createNativeBackend } from './native.ts'
import { createNobleBackend } from './noble.ts'
import { type CryptoBackend, InvalidKeyError } from './types.ts'

const backends: CryptoBackend[] = [createNativeBackend(), createNobleBackend({ precomputeAfter: 2 })]
const message = new TextEncoder().encode('GBCS ECS04b reset meter balance')

/** The other valid signature of the same (r, s): (r, n − s). Exactly one of the two is high-S. */
function otherS(sig: Uint8Array): Uint8Array {
  const out = sig.slice()
  out.set(bigintTo32(P256_N - bytesToBigint(sig.subarray(32))), 32)
  return out
}
const isHighS = (sig: Uint8Array) => bytesToBigint(sig.subarray(32)) > P256_N / 2n

describe('getBackend', () => {
  it('names the two backends, native by default', () => {
    expect(getBackend()).toBe(nativeBackend)
    expect(getBackend('native').name).toBe('native')
    expect(getBackend('noble')).toBe(nobleBackend)
    expect(() => getBackend('openssl' as never)).toThrow(RangeError)
  })
})

for (const backend of backends) {
  const other = backends.find((b) => b !== backend)!

  describe(`${backend.name} backend`, () => {
    it('signs, and both backends verify; the message is hashed exactly once', () => {
      const priv = backend.generatePrivateKey()
      const sig = backend.sign(priv, message)
      expect(sig.length).toBe(64)
      expect(backend.verify(priv.publicKey, message, sig)).toBe(true)
      expect(other.verify(other.importPublicKey(priv.publicKey.point), message, sig)).toBe(true)
      // A ref from the other backend is accepted too (re-imported, interned).
      expect(other.verify(priv.publicKey, message, sig)).toBe(true)
      // node:crypto's own verify over the raw message agrees: the signed hash is SHA-256(message).
      const keyObject = createPublicKey({
        key: Buffer.concat([
          Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
          priv.publicKey.point,
        ]),
        format: 'der',
        type: 'spki',
      })
      expect(nodeVerify('sha256', message, { key: keyObject, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true)
      // And a signature over SHA-256(message) made by node verifies here over the message.
      const nodeKey = newP256KeyPair()
      const nodeSig = new Uint8Array(
        nodeSign('sha256', message, { key: nodeKey.privateKey, dsaEncoding: 'ieee-p1363' }),
      )
      expect(backend.verify(backend.importPublicKey(nodeKey.publicKey), message, nodeSig)).toBe(true)
      expect(backend.verify(priv.publicKey, message.subarray(1), sig)).toBe(false)
    })

    it('accepts high-S signatures (and their low-S twins)', () => {
      const priv = backend.importPrivateKey(new Uint8Array(32).fill(0x42))
      const sig = backend.sign(priv, message)
      const twin = otherS(sig)
      const high = isHighS(sig) ? sig : twin
      const low = isHighS(sig) ? twin : sig
      expect(isHighS(high)).toBe(true)
      for (const b of backends) {
        const pub = b.importPublicKey(priv.publicKey.point)
        expect(b.verify(pub, message, high)).toBe(true)
        expect(b.verify(pub, message, low)).toBe(true)
      }
    })

    it('verifies signatures made by OpenSSL directly', () => {
      const { privateKey, publicKey } = newP256KeyPair()
      const pub = backend.importPublicKey(publicKey)
      let highSeen = false
      for (let i = 0; i < 12; i++) {
        const sig = new Uint8Array(
          nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
        )
        highSeen ||= isHighS(sig)
        expect(backend.verify(pub, message, sig)).toBe(true)
        expect(backend.verify(pub, message, otherS(sig))).toBe(true)
      }
      // 12 random signatures are all low-S with probability 1/4096.
      expect(highSeen).toBe(true)
    })

    it('never throws on malformed signatures', () => {
      const pub = backend.generatePrivateKey().publicKey
      const sig = backend.sign(backend.importPrivateKey(new Uint8Array(32).fill(1)), message)
      const n = bigintTo32(P256_N)
      const cases = [
        new Uint8Array(0),
        new Uint8Array(63),
        new Uint8Array(65),
        new Uint8Array(64),
        Uint8Array.from([...n, ...sig.subarray(32)]),
        Uint8Array.from([...sig.subarray(0, 32), ...n]),
        new Uint8Array(64).fill(0xff),
        'not bytes' as unknown as Uint8Array,
      ]
      for (const bad of cases) expect(backend.verify(pub, message, bad)).toBe(false)
      expect(
        backend.verify({ kind: 'public', backend: 'native', point: new Uint8Array(65) }, message, sig),
      ).toBe(false)
    })

    it('interns public keys across encodings and KeyObjects', () => {
      const { publicKey, privateKey } = newP256KeyPair()
      const a = backend.importPublicKey(publicKey)
      expect(a.point.length).toBe(65)
      expect(backend.importPublicKey(publicKey)).toBe(a)
      expect(backend.importPublicKey(a.point.slice())).toBe(a)
      expect(backend.importPublicKey(a.point.slice(1))).toBe(a) // 64-byte x‖y
      const compressed = Uint8Array.from([2 + (a.point[64]! & 1), ...a.point.subarray(1, 33)])
      expect(backend.importPublicKey(compressed)).toBe(a)
      const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }))
      expect(backend.importPublicKey(spki)).toBe(a)
      expect(backend.importPublicKey(privateKey)).toBe(a)
      expect(backend.importPrivateKey(privateKey).publicKey).toBe(a)
    })

    it('interns private keys, from PEM, KeyObject or scalar', () => {
      const { privateKey } = newP256KeyPair()
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
      const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }) as string
      const d = new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'))
      const a = backend.importPrivateKey(pem)
      expect(backend.importPrivateKey(sec1)).toBe(a)
      expect(backend.importPrivateKey(createPrivateKey(pem))).toBe(a)
      expect(backend.importPrivateKey(d)).toBe(a)
    })

    it('refuses bad keys with InvalidKeyError, or a Result from the try forms', () => {
      const offCurve = new Uint8Array(65)
      offCurve[0] = 4
      offCurve[64] = 1
      expect(() => backend.importPublicKey(offCurve)).toThrow(InvalidKeyError)
      expect(backend.tryImportPublicKey(new Uint8Array(65)).ok).toBe(false) // 00…: not a point
      expect(backend.tryImportPublicKey(new Uint8Array(10)).ok).toBe(false)
      expect(backend.tryImportPublicKey(Uint8Array.of(2, ...new Uint8Array(32).fill(0xff))).ok).toBe(false)
      const ed = generateKeyPairSync('ed25519').publicKey
      expect(backend.tryImportPublicKey(ed).ok).toBe(false)
      const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey
      expect(backend.tryImportPrivateKey(p384).ok).toBe(false)
      expect(backend.tryImportPrivateKey(new Uint8Array(32)).ok).toBe(false) // d = 0
      expect(backend.tryImportPrivateKey(bigintTo32(P256_N)).ok).toBe(false) // d = n
      expect(backend.tryImportPrivateKey(new Uint8Array(31).fill(1)).ok).toBe(false)
      expect(
        backend.tryImportPrivateKey('-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----').ok,
      ).toBe(false)
      expect(() => backend.importPrivateKey(new Uint8Array(32))).toThrow(InvalidKeyError)
    })

    it('ECDH: both sides and both backends agree; the cache hands out copies', () => {
      const alice = backend.generatePrivateKey()
      const bob = other.generatePrivateKey()
      const z1 = backend.ecdh(alice, backend.importPublicKey(bob.publicKey.point))
      const z2 = other.ecdh(bob, other.importPublicKey(alice.publicKey.point))
      expect(z1.length).toBe(32)
      expect(z1).toEqual(z2)
      expect(backend.ecdhUncached(alice, bob.publicKey)).toEqual(z1)
      z1.fill(0)
      expect(backend.ecdh(alice, bob.publicKey)).toEqual(z2)
      expect(() => backend.sign(bob, message)).toThrow(TypeError)
    })
  })
}

describe('noble precomputed tables', () => {
  it('gives a trust anchor its table at import, others after repeated use, up to a bound', () => {
    const noble = createNobleBackend({ precomputeAfter: 3, maxPrecomputedKeys: 1 })
    const native = createNativeBackend()
    const keys = [1, 2, 3].map((i) => native.importPrivateKey(new Uint8Array(32).fill(i)))
    const sigs = keys.map((k) => native.sign(k, message))
    const pubs = keys.map((k) => noble.importPublicKey(k.publicKey.point))
    for (let round = 0; round < 5; round++) {
      pubs.forEach((p, i) => {
        expect(noble.verify(p, message, sigs[i]!)).toBe(true)
        expect(noble.verify(p, message.subarray(1), sigs[i]!)).toBe(false)
      })
    }
    expect(noble.precomputedKeys()).toBe(1)
    const anchor = noble.importPublicKey(keys[2]!.publicKey.point, { trustAnchor: true })
    expect(anchor).toBe(pubs[2])
    expect(noble.verify(anchor, message, sigs[2]!)).toBe(true)
    expect(noble.verify(anchor, message, otherS(sigs[2]!))).toBe(true)
  })
})

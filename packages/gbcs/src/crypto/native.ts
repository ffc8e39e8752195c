/**
 * The `native` backend: node:crypto, i.e. OpenSSL. One KeyObject per interned public key,
 * one KeyObject and one ECDH object per private key; verification is a single
 * `crypto.verify` call with the IEEE P1363 (r‖s) signature encoding.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  ECDH,
  KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto'
import { err, newP256KeyPair, ok, type Result } from '@smetsim/core'
import { hexKey, Interner, PairCache, PrivateKeyTable, publicKeyBytes } from './keys.ts'
import {
  type CryptoBackend,
  type ImportPublicKeyOptions,
  InvalidKeyError,
  type PrivateKeyInput,
  type PrivateKeyRef,
  type PublicKeyInput,
  type PublicKeyRef,
} from './types.ts'

type P1363Key = { key: KeyObject; dsaEncoding: 'ieee-p1363' }

class NativePublicKey implements PublicKeyRef {
  readonly kind = 'public'
  readonly backend = 'native'
  #verifyKey: P1363Key | undefined

  /** `keyObject` absent: the point is known to be on the curve (derived from a private key). */
  constructor(
    readonly point: Uint8Array,
    keyObject?: KeyObject,
  ) {
    if (keyObject) this.#verifyKey = { key: keyObject, dsaEncoding: 'ieee-p1363' }
  }

  /**
   * What crypto.verify takes: built once, reused for every verification. For a key derived
   * from a private one, built on first use: most such keys (a meter's key agreement key, as the
   * DCC derives it) never verify anything, and the JWK import is a third of an import's cost.
   */
  get verifyKey(): P1363Key {
    this.#verifyKey ??= {
      key: createPublicKey({ key: jwkOf(this.point), format: 'jwk' }),
      dsaEncoding: 'ieee-p1363',
    }
    return this.#verifyKey
  }
}

class NativePrivateKey implements PrivateKeyRef {
  readonly kind = 'private'
  readonly backend = 'native'
  #signKey: P1363Key | undefined
  /** Held until the signing KeyObject is made, then dropped (the ECDH object holds it too). */
  #scalar: Uint8Array | undefined

  constructor(
    readonly publicKey: NativePublicKey,
    scalar: Uint8Array,
    readonly agreement: ECDH,
  ) {
    this.#scalar = scalar
  }

  /** Built on first signature: a key-agreement key never signs, and the JWK import costs. */
  get signKey(): P1363Key {
    if (!this.#signKey) {
      const key = createPrivateKey({ key: jwkOf(this.publicKey.point, this.#scalar), format: 'jwk' })
      this.#signKey = { key, dsaEncoding: 'ieee-p1363' }
      this.#scalar = undefined
    }
    return this.#signKey
  }
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

function jwkOf(point: Uint8Array, scalar?: Uint8Array) {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: b64url(point.subarray(1, 33)),
    y: b64url(point.subarray(33, 65)),
    ...(scalar ? { d: b64url(scalar) } : {}),
  }
}

export function createNativeBackend(): CryptoBackend {
  const publicKeys = new Interner<NativePublicKey>()
  const privateKeys = new PrivateKeyTable<NativePrivateKey>()
  const byKeyObject = new WeakMap<KeyObject, NativePublicKey>()
  const secrets = new PairCache()

  function tryImportPublicKey(
    input: PublicKeyInput,
    _options?: ImportPublicKeyOptions,
  ): Result<PublicKeyRef, InvalidKeyError> {
    if (input instanceof KeyObject) {
      const known = byKeyObject.get(input)
      if (known) return ok(known)
    }
    const bytes = publicKeyBytes(input)
    if (!bytes.ok) return bytes
    const given = hexKey(bytes.value)
    const hit = publicKeys.get(given)
    if (hit) return ok(hit)
    let point = bytes.value
    try {
      // Decompression, and the on-curve check for compressed input.
      if (point.length === 33)
        point = new Uint8Array(
          ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer,
        )
      else point = point.slice()
    } catch {
      return err(new InvalidKeyError('point is not on P-256'))
    }
    const canonical = hexKey(point)
    let ref = publicKeys.get(canonical)
    if (!ref) {
      let keyObject: KeyObject
      try {
        // OpenSSL checks the point is on the curve when it imports the JWK.
        keyObject = createPublicKey({ key: jwkOf(point), format: 'jwk' })
      } catch {
        return err(new InvalidKeyError('point is not on P-256'))
      }
      ref = new NativePublicKey(point, keyObject)
      publicKeys.set(canonical, ref)
    }
    if (given !== canonical) publicKeys.set(given, ref)
    if (input instanceof KeyObject) byKeyObject.set(input, ref)
    return ok(ref)
  }

  function importPublicKey(input: PublicKeyInput, options?: ImportPublicKeyOptions): PublicKeyRef {
    const r = tryImportPublicKey(input, options)
    if (!r.ok) throw r.error
    return r.value
  }

  function tryImportPrivateKey(input: PrivateKeyInput): Result<PrivateKeyRef, InvalidKeyError> {
    return privateKeys.import(input, makePrivateKey)
  }

  function makePrivateKey(scalar: Uint8Array): Result<NativePrivateKey, InvalidKeyError> {
    try {
      const agreement = createECDH('prime256v1')
      agreement.setPrivateKey(scalar)
      // d·G for a d in [1, n-1] is on the curve: interned without the JWK import's check.
      const point = new Uint8Array(agreement.getPublicKey())
      const canonical = hexKey(point)
      let publicKey = publicKeys.get(canonical)
      if (!publicKey) {
        publicKey = new NativePublicKey(point)
        publicKeys.set(canonical, publicKey)
      }
      return ok(new NativePrivateKey(publicKey, scalar, agreement))
    } catch (e) {
      return err(new InvalidKeyError(`unusable private key: ${(e as Error).message}`))
    }
  }

  function importPrivateKey(input: PrivateKeyInput): PrivateKeyRef {
    const r = tryImportPrivateKey(input)
    if (!r.ok) throw r.error
    return r.value
  }

  function own(key: PublicKeyRef): NativePublicKey {
    return key instanceof NativePublicKey ? key : (importPublicKey(key.point) as NativePublicKey)
  }

  function ownPrivate(key: PrivateKeyRef): NativePrivateKey {
    if (key instanceof NativePrivateKey) return key
    throw new TypeError(`a ${key.backend} private key cannot be used with the native backend`)
  }

  function ecdhUncached(mine: PrivateKeyRef, other: PublicKeyRef): Uint8Array {
    return new Uint8Array(ownPrivate(mine).agreement.computeSecret(own(other).point))
  }

  return {
    name: 'native',
    importPublicKey,
    tryImportPublicKey,
    importPrivateKey,
    tryImportPrivateKey,
    generatePrivateKey() {
      // Not generateKeyPairSync: its keys can deadlock an export under GC (core key-pair.ts).
      return importPrivateKey(newP256KeyPair().scalar)
    },
    sign(key, message) {
      return new Uint8Array(nodeSign('sha256', message, ownPrivate(key).signKey))
    },
    verify(key, message, signature) {
      if (signature.length !== 64) return false
      try {
        const ref = key instanceof NativePublicKey ? key : own(key)
        return nodeVerify('sha256', message, ref.verifyKey, signature)
      } catch {
        return false
      }
    },
    ecdh(mine, other) {
      const o = own(other)
      const cached = secrets.get(mine, o)
      if (cached) return cached.slice()
      const secret = ecdhUncached(mine, o)
      secrets.set(mine, o, secret)
      return secret.slice()
    },
    ecdhUncached,
  }
}

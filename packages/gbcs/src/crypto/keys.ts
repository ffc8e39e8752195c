/**
 * Backend-independent key plumbing: P-256 constants, decoding of the accepted key encodings
 * into SEC 1 points and scalars, and the interning table both backends use.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import { err, ok, type Result } from '@smetsim/core'
import { InvalidKeyError, type PrivateKeyInput, type PublicKeyInput } from './types.ts'

/** Order n of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

/** DER SubjectPublicKeyInfo prefixes for id-ecPublicKey with the named curve prime256v1. */
const SPKI_UNCOMPRESSED = hexBytes('3059301306072a8648ce3d020106082a8648ce3d030107034200')
const SPKI_COMPRESSED = hexBytes('3039301306072a8648ce3d020106082a8648ce3d030107032200')

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** Lower-case hex, used as the interning key. */
export function hexKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n
  return BigInt(`0x${hexKey(bytes)}`)
}

export function bigintTo32(value: bigint): Uint8Array {
  return hexBytes(value.toString(16).padStart(64, '0'))
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

/**
 * The SEC 1 point inside a DER SubjectPublicKeyInfo for P-256 with a named curve, or null for
 * anything else (explicit curve parameters, other curves, trailing bytes, bad DER). DER is
 * canonical, so a fixed-prefix match is an exact parse of the only form GBCS certificates use.
 */
export function pointFromSpki(der: Uint8Array): Uint8Array | null {
  if (der.length === SPKI_UNCOMPRESSED.length + 65 && startsWith(der, SPKI_UNCOMPRESSED)) {
    return der.slice(SPKI_UNCOMPRESSED.length)
  }
  if (der.length === SPKI_COMPRESSED.length + 33 && startsWith(der, SPKI_COMPRESSED)) {
    return der.slice(SPKI_COMPRESSED.length)
  }
  return null
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
}

function fromB64url(text: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(text ?? '', 'base64url'))
}

/**
 * Brings a public-key input to SEC 1 bytes (65 uncompressed or 33 compressed), not yet
 * checked to be on the curve: that is the backend's job.
 */
export function publicKeyBytes(input: PublicKeyInput): Result<Uint8Array, InvalidKeyError> {
  if (input instanceof KeyObject) {
    try {
      const pub = input.type === 'private' ? createPublicKey(input) : input
      if (pub.type !== 'public' || !isP256(pub)) return err(new InvalidKeyError('not an EC P-256 key'))
      const jwk = pub.export({ format: 'jwk' })
      const x = fromB64url(jwk.x)
      const y = fromB64url(jwk.y)
      if (x.length !== 32 || y.length !== 32) return err(new InvalidKeyError('bad JWK coordinates'))
      const point = new Uint8Array(65)
      point[0] = 4
      point.set(x, 1)
      point.set(y, 33)
      return ok(point)
    } catch (e) {
      return err(new InvalidKeyError(`unusable KeyObject: ${(e as Error).message}`))
    }
  }
  if (!(input instanceof Uint8Array)) return err(new InvalidKeyError('a public key is bytes or a KeyObject'))
  if (input.length === 65 && input[0] === 4) return ok(input)
  if (input.length === 33 && (input[0] === 2 || input[0] === 3)) return ok(input)
  if (input.length === 64) {
    const point = new Uint8Array(65)
    point[0] = 4
    point.set(input, 1)
    return ok(point)
  }
  const inner = pointFromSpki(input)
  if (inner) return ok(inner)
  return err(new InvalidKeyError(`not a P-256 public key encoding (${input.length} bytes)`))
}

/** Brings a private-key input to its 32-byte scalar, checked to lie in [1, n-1]. */
export function privateScalar(input: PrivateKeyInput): Result<Uint8Array, InvalidKeyError> {
  let scalar: Uint8Array
  if (typeof input === 'string' || input instanceof KeyObject) {
    try {
      const key = typeof input === 'string' ? createPrivateKey({ key: input, format: 'pem' }) : input
      if (key.type !== 'private' || !isP256(key))
        return err(new InvalidKeyError('not an EC P-256 private key'))
      scalar = fromB64url(key.export({ format: 'jwk' }).d)
    } catch (e) {
      return err(new InvalidKeyError(`unusable private key: ${(e as Error).message}`))
    }
  } else if (input instanceof Uint8Array) {
    scalar = input.slice()
  } else {
    return err(new InvalidKeyError('a private key is a 32-byte scalar, PEM text or a KeyObject'))
  }
  if (scalar.length !== 32)
    return err(new InvalidKeyError(`a P-256 scalar is 32 bytes, got ${scalar.length}`))
  const d = bytesToBigint(scalar)
  if (d === 0n || d >= P256_N) return err(new InvalidKeyError('private scalar out of range [1, n-1]'))
  return ok(scalar)
}

/**
 * Values by key text, held weakly: the same key returns the same object for as long as anyone
 * holds it, and a dropped key leaves the table when the garbage collector takes it.
 */
export class Interner<T extends object> {
  readonly #map = new Map<string, WeakRef<T>>()
  readonly #registry = new FinalizationRegistry<string>((key) => {
    const entry = this.#map.get(key)
    if (entry !== undefined && entry.deref() === undefined) this.#map.delete(key)
  })

  get(key: string): T | undefined {
    return this.#map.get(key)?.deref()
  }

  set(key: string, value: T): void {
    this.#map.set(key, new WeakRef(value))
    this.#registry.register(value, key)
  }

  get size(): number {
    return this.#map.size
  }
}

/**
 * The two-level ECDH cache: per private ref, per public ref, the shared secret. Weak on both
 * keys, so it is bounded by the refs that are alive.
 */
export class PairCache {
  readonly #byOwn = new WeakMap<object, WeakMap<object, Uint8Array>>()

  get(own: object, other: object): Uint8Array | undefined {
    return this.#byOwn.get(own)?.get(other)
  }

  set(own: object, other: object, secret: Uint8Array): void {
    let inner = this.#byOwn.get(own)
    if (!inner) {
      inner = new WeakMap()
      this.#byOwn.set(own, inner)
    }
    inner.set(other, secret)
  }
}

/** Interning key for a private scalar: a digest, so the table does not keep secrets as text. */
export function privateInternKey(scalar: Uint8Array): string {
  return createHash('sha256').update('smetsim-private-key-intern').update(scalar).digest('base64')
}

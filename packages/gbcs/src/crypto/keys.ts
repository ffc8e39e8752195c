/**
 * Backend-independent key plumbing: P-256 constants, decoding of the accepted key encodings
 * into SEC 1 points and scalars, and the interning table both backends use.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import { err, ok, type Result } from '@smetsim/core'
import { RecentCache } from './recent.ts'
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

const P256_N_BYTES = bigintTo32(P256_N)

/** 1 ≤ d < n for a 32-byte big-endian d, compared bytewise (no bigint on every import). */
function inScalarRange(scalar: Uint8Array): boolean {
  let zero = true
  for (let i = 0; i < 32 && zero; i++) zero = scalar[i] === 0
  if (zero) return false
  for (let i = 0; i < 32; i++) {
    const a = scalar[i]!
    const b = P256_N_BYTES[i]!
    if (a !== b) return a < b
  }
  return false // d = n
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
  if (!inScalarRange(scalar)) return err(new InvalidKeyError('private scalar out of range [1, n-1]'))
  return ok(scalar)
}

/** How many values an `Interner` holds strongly by default, whoever else holds them. */
export const INTERNER_RECENT = 256

/**
 * Values by key text. The most recently used `recent` values are held strongly, so a caller
 * that imports the same key bytes for every message and drops the ref gets the same object
 * back instead of a fresh import; beyond that, values are held weakly: the same key returns the
 * same object for as long as anyone holds it, and a dropped key leaves the table when the
 * garbage collector takes it. Bounded whatever callers send: at most `recent` strong entries,
 * and the weak table only names values that are alive.
 */
export class Interner<T extends object> {
  readonly #map = new Map<string, WeakRef<T>>()
  readonly #recent: RecentCache<string, T>
  readonly #registry = new FinalizationRegistry<string>((key) => {
    const entry = this.#map.get(key)
    if (entry !== undefined && entry.deref() === undefined) this.#map.delete(key)
  })

  constructor(recent = INTERNER_RECENT) {
    this.#recent = new RecentCache(recent)
  }

  get(key: string): T | undefined {
    const hot = this.#recent.get(key)
    if (hot !== undefined) return hot
    const value = this.#map.get(key)?.deref()
    if (value !== undefined) this.#recent.set(key, value)
    return value
  }

  set(key: string, value: T): void {
    if (this.#map.get(key)?.deref() !== value) {
      this.#map.set(key, new WeakRef(value))
      this.#registry.register(value, key)
    }
    this.#recent.set(key, value)
  }

  /** Keys in the weak table (values alive, or collected and not yet swept). */
  get size(): number {
    return this.#map.size
  }

  /** Values held strongly (at most the `recent` the table was made with). */
  get strongSize(): number {
    return this.#recent.size
  }
}

/**
 * Private keys by any accepted input, for one backend: a KeyObject already seen returns its ref
 * without exporting the key again, PEM text already seen without parsing it again, and any
 * input is interned by a digest of its scalar. `make` builds the backend's ref from a checked
 * scalar; nothing is stored for an input that fails (a bad key is never interned).
 */
export class PrivateKeyTable<T extends object> {
  readonly interner: Interner<T>
  readonly #byKeyObject = new WeakMap<KeyObject, T>()

  constructor(recent = INTERNER_RECENT) {
    this.interner = new Interner<T>(recent)
  }

  import(
    input: PrivateKeyInput,
    make: (scalar: Uint8Array) => Result<T, InvalidKeyError>,
  ): Result<T, InvalidKeyError> {
    const keyObject = input instanceof KeyObject ? input : undefined
    if (keyObject) {
      const known = this.#byKeyObject.get(keyObject)
      if (known) return ok(known)
    }
    const pemKey = typeof input === 'string' ? internKeyOf('smetsim-private-pem-intern', input) : undefined
    if (pemKey !== undefined) {
      const known = this.interner.get(pemKey)
      if (known) return ok(known)
    }
    const scalar = privateScalar(input)
    if (!scalar.ok) return scalar
    const scalarKey = privateInternKey(scalar.value)
    let ref = this.interner.get(scalarKey)
    if (!ref) {
      const made = make(scalar.value)
      if (!made.ok) return made
      ref = made.value
      this.interner.set(scalarKey, ref)
    }
    if (pemKey !== undefined) this.interner.set(pemKey, ref)
    if (keyObject) this.#byKeyObject.set(keyObject, ref)
    return ok(ref)
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
  return internKeyOf('smetsim-private-key-intern', scalar)
}

function internKeyOf(label: string, secret: Uint8Array | string): string {
  return createHash('sha256').update(label).update(secret).digest('base64')
}

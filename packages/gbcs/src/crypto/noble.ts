/**
 * The `noble` backend: @noble/curves (pure JavaScript) for the elliptic-curve work; SHA-256
 * comes from node:crypto as in the native backend.
 *
 * Verification is written here rather than delegated to `p256.verify`, for two reasons:
 *  - `p256.verify` parses and validates the public key on every call; an interned ref holds
 *    the parsed point once;
 *  - it cannot use per-key precomputed tables. With a signed fixed-window table for the key
 *    (and a wider one for the generator) u1·G + u2·Q becomes additions only, several times
 *    faster than the joint double-and-add. A table costs about 0.9 MB and ~70 ms per key at
 *    window 8, so keys get one when imported as trust anchors, or after repeated use, up to a
 *    bound.
 * And one trap avoided: `p256.verify` defaults to `lowS: true`, which rejects the valid
 * high-S half of the signatures OpenSSL or an HSM produce. This verify accepts any s in
 * [1, n-1], as ECDSA (and GBCS) define it.
 */
import { p256 } from '@noble/curves/nist.js'
import { err, ok, type Result } from '@smetsim/core'
import {
  bigintTo32,
  bytesToBigint,
  hexKey,
  Interner,
  P256_N,
  PairCache,
  PrivateKeyTable,
  publicKeyBytes,
  sha256,
} from './keys.ts'
import {
  type CryptoBackend,
  type ImportPublicKeyOptions,
  InvalidKeyError,
  type PrivateKeyInput,
  type PrivateKeyRef,
  type PublicKeyInput,
  type PublicKeyRef,
} from './types.ts'

/** The curve itself, for comparisons with `p256.verify` (bench/). */
export { p256 as nobleP256 }

type Point = ReturnType<typeof p256.Point.fromBytes>
const Point = p256.Point
const Fn = Point.Fn

export interface NobleBackendOptions {
  /** wNAF window of a public key's table (2^(W-1) points per window). Default 8 (~0.9 MB). */
  windowSize?: number
  /** Window of the generator's table, built once per backend. Default 10 (~3 MB). */
  baseWindowSize?: number
  /** A key that is not a trust anchor gets a table after this many verifications. Default 8. */
  precomputeAfter?: number
  /** At most this many non-trust-anchor keys get tables. Default 64. */
  maxPrecomputedKeys?: number
}

class NoblePublicKey implements PublicKeyRef {
  readonly kind = 'public'
  readonly backend = 'noble'
  verifications = 0
  hasTable = false

  constructor(
    readonly point: Uint8Array,
    /** The parsed point; it carries the precomputed table once it has one. */
    readonly q: Point,
  ) {}
}

class NoblePrivateKey implements PrivateKeyRef {
  readonly kind = 'private'
  readonly backend = 'noble'

  constructor(
    readonly publicKey: NoblePublicKey,
    readonly scalar: Uint8Array,
    readonly d: bigint,
  ) {}
}

export function createNobleBackend(options: NobleBackendOptions = {}): CryptoBackend & {
  /** How many keys got a table by repeated use (trust anchors not counted). */
  precomputedKeys(): number
} {
  const windowSize = options.windowSize ?? 8
  const precomputeAfter = options.precomputeAfter ?? 8
  const maxPrecomputedKeys = options.maxPrecomputedKeys ?? 64
  // Our own copy of the generator, so that its wider table does not touch noble's shared BASE.
  const g = Point.fromAffine(Point.BASE.toAffine()).precompute(options.baseWindowSize ?? 10, true)

  const publicKeys = new Interner<NoblePublicKey>()
  const privateKeys = new PrivateKeyTable<NoblePrivateKey>()
  const secrets = new PairCache()
  let tabled = 0

  function giveTable(ref: NoblePublicKey, now: boolean): void {
    ref.q.precompute(windowSize, !now)
    ref.hasTable = true
  }

  function tryImportPublicKey(
    input: PublicKeyInput,
    options?: ImportPublicKeyOptions,
  ): Result<PublicKeyRef, InvalidKeyError> {
    const bytes = publicKeyBytes(input)
    if (!bytes.ok) return bytes
    const given = hexKey(bytes.value)
    let ref = publicKeys.get(given)
    if (!ref) {
      let q: Point
      try {
        q = Point.fromBytes(bytes.value) // checks the curve equation; rejects the identity
      } catch {
        return err(new InvalidKeyError('point is not on P-256'))
      }
      const point = q.toBytes(false)
      const canonical = hexKey(point)
      ref = publicKeys.get(canonical)
      if (!ref) {
        ref = new NoblePublicKey(point, q)
        publicKeys.set(canonical, ref)
      }
      if (given !== canonical) publicKeys.set(given, ref)
    }
    if (options?.trustAnchor && !ref.hasTable) giveTable(ref, true)
    return ok(ref)
  }

  function importPublicKey(input: PublicKeyInput, options?: ImportPublicKeyOptions): PublicKeyRef {
    const r = tryImportPublicKey(input, options)
    if (!r.ok) throw r.error
    return r.value
  }

  function tryImportPrivateKey(input: PrivateKeyInput): Result<PrivateKeyRef, InvalidKeyError> {
    return privateKeys.import(input, (scalar) => {
      const d = bytesToBigint(scalar)
      const publicKey = importPublicKey(Point.BASE.multiply(d).toBytes(false)) as NoblePublicKey
      return ok(new NoblePrivateKey(publicKey, scalar, d))
    })
  }

  function importPrivateKey(input: PrivateKeyInput): PrivateKeyRef {
    const r = tryImportPrivateKey(input)
    if (!r.ok) throw r.error
    return r.value
  }

  function own(key: PublicKeyRef): NoblePublicKey {
    return key instanceof NoblePublicKey ? key : (importPublicKey(key.point) as NoblePublicKey)
  }

  function ownPrivate(key: PrivateKeyRef): NoblePrivateKey {
    if (key instanceof NoblePrivateKey) return key
    throw new TypeError(`a ${key.backend} private key cannot be used with the noble backend`)
  }

  function ecdhUncached(mine: PrivateKeyRef, other: PublicKeyRef): Uint8Array {
    // A table-less copy of the point: the constant-time secret multiply would otherwise build
    // (and then thrash) a differently sized table for a key that has a verification table.
    const q = Point.fromAffine(own(other).q.toAffine())
    return bigintTo32(q.multiply(ownPrivate(mine).d).toAffine().x)
  }

  return {
    name: 'noble',
    importPublicKey,
    tryImportPublicKey,
    importPrivateKey,
    tryImportPrivateKey,
    generatePrivateKey() {
      return importPrivateKey(p256.utils.randomSecretKey())
    },
    sign(key, message) {
      // Hash once here; prehash: false so noble does not hash again. RFC 6979 deterministic k.
      // lowS: false leaves s as computed, as OpenSSL does.
      return p256.sign(sha256(message), ownPrivate(key).scalar, { prehash: false, lowS: false })
    },
    verify(key, message, signature) {
      try {
        if (!(signature instanceof Uint8Array) || signature.length !== 64) return false
        const ref = own(key)
        const r = bytesToBigint(signature.subarray(0, 32))
        const s = bytesToBigint(signature.subarray(32, 64))
        if (r === 0n || r >= P256_N || s === 0n || s >= P256_N) return false
        // SHA-256 output is exactly the 256 bits of n, so bits2int is the plain integer.
        const h = Fn.create(bytesToBigint(sha256(message)))
        const w = Fn.inv(s)
        const u1 = Fn.create(h * w)
        const u2 = Fn.create(r * w)
        let R: Point
        if (ref.hasTable) {
          R = g.multiplyUnsafe(u1).add(ref.q.multiplyUnsafe(u2))
        } else {
          R = Point.BASE.mulAddUnsafe(u1, ref.q, u2)
          ref.verifications++
          if (ref.verifications >= precomputeAfter && tabled < maxPrecomputedKeys) {
            tabled++
            giveTable(ref, false)
          }
        }
        if (R.is0()) return false
        return Fn.create(R.toAffine().x) === r
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
    precomputedKeys: () => tabled,
  }
}

/**
 * The contract of a crypto backend: the elliptic-curve work GBCS needs (ECDSA P-256 with
 * SHA-256, signatures as raw r‖s; static ECDH P-256), on keys imported once and then held by
 * reference. The symmetric part (SHA-256, the GBCS KDF, AES-128-GCM and GMAC) does not depend
 * on the backend and lives in `gbcs-crypto.ts`.
 */
import type { KeyObject } from 'node:crypto'
import type { Result } from '@smetsim/core'

export type BackendName = 'native' | 'noble'

/**
 * An imported, validated P-256 public key. Interned per backend: importing the same key again
 * (same point, in any accepted encoding, or the same KeyObject) returns this very object, so
 * devices that trust the same remote party share one parsed key.
 */
export interface PublicKeyRef {
  readonly kind: 'public'
  readonly backend: BackendName
  /** The 65-byte uncompressed SEC 1 point (0x04 ‖ x ‖ y). Shared: do not modify. */
  readonly point: Uint8Array
}

/** An imported P-256 private key (a scalar 1 ≤ d < n). */
export interface PrivateKeyRef {
  readonly kind: 'private'
  readonly backend: BackendName
  /** The matching public key, interned like any imported one. */
  readonly publicKey: PublicKeyRef
}

/**
 * A public key: a SEC 1 point (65 bytes uncompressed 04‖x‖y, 33 bytes compressed 02/03‖x,
 * or 64 bytes x‖y as GBCS §18.4 prints them), a DER SubjectPublicKeyInfo with the named curve
 * P-256, or a node:crypto KeyObject holding an EC P-256 public (or private) key.
 */
export type PublicKeyInput = Uint8Array | KeyObject

/** A private key: a 32-byte big-endian scalar, PKCS #8 or SEC 1 PEM text, or a KeyObject. */
export type PrivateKeyInput = Uint8Array | string | KeyObject

export interface ImportPublicKeyOptions {
  /**
   * The key will verify many signatures (a trust-anchor key: a Supplier's, a Network
   * Operator's, the ACB's). Backends that gain from per-key precomputation (noble) build it
   * now instead of after repeated use.
   */
  trustAnchor?: boolean
}

/** Thrown by `importPublicKey`/`importPrivateKey` (and returned by the `try…` forms). */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError'
}

export interface CryptoBackend {
  readonly name: BackendName

  /** Validates (on the curve, not the identity) and interns. Throws InvalidKeyError. */
  importPublicKey(key: PublicKeyInput, options?: ImportPublicKeyOptions): PublicKeyRef
  tryImportPublicKey(
    key: PublicKeyInput,
    options?: ImportPublicKeyOptions,
  ): Result<PublicKeyRef, InvalidKeyError>
  /** Validates 1 ≤ d < n. Interned like public keys. Throws InvalidKeyError. */
  importPrivateKey(key: PrivateKeyInput): PrivateKeyRef
  tryImportPrivateKey(key: PrivateKeyInput): Result<PrivateKeyRef, InvalidKeyError>
  /** A fresh random key pair. */
  generatePrivateKey(): PrivateKeyRef

  /** ECDSA P-256 over SHA-256(message) (hashed once, here): 64 bytes r‖s. */
  sign(key: PrivateKeyRef, message: Uint8Array): Uint8Array
  /**
   * ECDSA P-256/SHA-256 verification of a 64-byte r‖s signature. High-S signatures are valid
   * (GBCS does not require low S). Never throws: any malformed input gives false.
   */
  verify(key: PublicKeyRef, message: Uint8Array, signature: Uint8Array): boolean

  /**
   * Static ECDH: the x-coordinate Z (32 bytes) of d·Q. Cached per (private, public) pair for
   * as long as both refs live; the result is a fresh copy each call.
   */
  ecdh(own: PrivateKeyRef, other: PublicKeyRef): Uint8Array
  /** The same computation without the cache (for measuring, and for one-off pairs). */
  ecdhUncached(own: PrivateKeyRef, other: PublicKeyRef): Uint8Array
}

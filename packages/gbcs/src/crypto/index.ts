/**
 * GBCS cryptography: two interchangeable backends for the elliptic-curve work (ECDSA P-256
 * with SHA-256, static ECDH P-256) on interned keys, and the backend-independent KDF, MAC and
 * AES-GCM. See README.md in this folder.
 */
import { createNativeBackend } from './native.ts'
import { createNobleBackend } from './noble.ts'
import type { BackendName, CryptoBackend } from './types.ts'

export * from './gbcs-crypto.ts'
export { P256_N, pointFromSpki, sha256 } from './keys.ts'
export { createNativeBackend } from './native.ts'
export { createNobleBackend, type NobleBackendOptions } from './noble.ts'
export { RecentCache } from './recent.ts'
export * from './types.ts'

/** node:crypto (OpenSSL): the default, and the fast one. */
export const nativeBackend: CryptoBackend = createNativeBackend()
/** @noble/curves (pure JS), with precomputed tables for trust-anchor keys. */
export const nobleBackend: CryptoBackend = createNobleBackend()
export const defaultBackend: CryptoBackend = nativeBackend

export function getBackend(name: BackendName = 'native'): CryptoBackend {
  switch (name) {
    case 'native':
      return nativeBackend
    case 'noble':
      return nobleBackend
    default:
      throw new RangeError(`unknown crypto backend '${name as string}'`)
  }
}

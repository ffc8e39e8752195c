/**
 * The four GBCS crypto operations bench/crypto.ts times on both backends, on the main thread and
 * in worker threads (bench/lib/crypto-worker.ts), built here once so both time the same work:
 *
 * - verify: ECDSA P-256 verification of a Critical command's signed bytes against a trust-anchor
 *   key (a Supplier's), as a device does (ECDSA P-256 with SHA-256, as GBCS signs);
 * - sign: ECDSA P-256 signature of the same bytes (a device's response, a User's command);
 * - ecdh+kdf: static ECDH with nothing cached, then the GBCS KDF (the cost of a new pair);
 * - kdf+mac: the per-message GBCS work once the ECDH secret is cached: KDF and GMAC.
 */
import {
  type CryptoBackend,
  createNativeBackend,
  createNobleBackend,
  gbcsKdf,
  gbcsMac,
} from '../../packages/gbcs/src/crypto/index.ts'

export const OPS = ['verify', 'sign', 'ecdh+kdf', 'kdf+mac'] as const
export type CryptoOp = (typeof OPS)[number]
export const BACKENDS = ['native', 'noble'] as const
export type BackendChoice = (typeof BACKENDS)[number]

/** The task names both the main-thread table and the worker table use. */
export const OP_NAMES: Record<CryptoOp, string> = {
  verify: 'verify',
  sign: 'sign',
  'ecdh+kdf': 'ECDH (uncached) + KDF',
  'kdf+mac': 'KDF + MAC per message (cached ECDH)',
}

// What a device verifies for a Critical command: the grouping header (without DF) and the
// payload of a typical ECS04b frame, 86 bytes; the AAD of a MACed command, 158 bytes.
export const message = new Uint8Array(86).map((_, i) => (i * 37 + 11) & 0xff)
export const aad = new Uint8Array(6 + 34 + 53 + 65).map((_, i) => (i * 13 + 5) & 0xff)
const originator = '123456789ABCDEF0'
const recipient = 'FFFFFFFFFFFFFFFE'

export function makeBackend(name: BackendChoice): CryptoBackend {
  return name === 'native' ? createNativeBackend() : createNobleBackend()
}

/**
 * The four operations on `backend`, each a closure over keys made here. Throws when a
 * signature does not verify: a benchmark that times a failing path measures nothing.
 */
export function cryptoOps(backend: CryptoBackend): Record<CryptoOp, () => void> {
  const signer = backend.generatePrivateKey()
  const signature = backend.sign(signer, message)
  const trusted = backend.importPublicKey(signer.publicKey.point, { trustAnchor: true })
  // The first verification builds a backend's per-key table (noble): not inside the timing.
  if (!backend.verify(trusted, message, signature))
    throw new Error(`${backend.name} verify fails: benchmark set-up is wrong`)
  const acb = backend.generatePrivateKey()
  const device = backend.generatePrivateKey().publicKey
  backend.ecdh(acb, device)
  let counter = 0n
  const kdf = (z: Uint8Array) => gbcsKdf(z, { originator, cra: 'command', counter: ++counter, recipient })
  return {
    verify: () => {
      backend.verify(trusted, message, signature)
    },
    sign: () => {
      backend.sign(signer, message)
    },
    'ecdh+kdf': () => {
      kdf(backend.ecdhUncached(acb, device))
    },
    'kdf+mac': () => {
      gbcsMac(kdf(backend.ecdh(acb, device)), originator, aad)
    },
  }
}

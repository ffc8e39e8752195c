/**
 * A fresh EC P-256 key pair as node:crypto KeyObjects, made without node's key-generation job.
 *
 * Why not `generateKeyPairSync`: on Node 20 a KeyObject it returns can deadlock the process when
 * it is exported later (`export({ format: 'jwk' })`, as the backends do to read the scalar). The
 * export holds the key's mutex while it allocates; if that allocation starts a garbage collection
 * that finalises the now unreferenced KeyGenJob which made the key, the job's destructor waits for
 * the same mutex for ever (native stack: ExportJWKEcKey → … → GlobalHandles::
 * InvokeFirstPassWeakCallbacks → ~KeyGenJob → uv_mutex_lock). It hung CI in stop 18 and this
 * stop, at 0 % CPU, main thread in futex_wait. `node --gc-interval=50` on a loop of
 * generateKeyPairSync + export hangs within seconds; `key-pair.test.ts` runs this function the
 * same way. Here the scalar comes from an ECDH object (no job) and the KeyObjects are imported
 * from JWK, so no KeyGenJob ever owns them.
 */
import { createECDH, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

export function newP256KeyPair(): { privateKey: KeyObject; publicKey: KeyObject; scalar: Uint8Array } {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const raw = ecdh.getPrivateKey()
  const scalar = new Uint8Array(32)
  scalar.set(raw, 32 - raw.length) // getPrivateKey drops leading zero bytes
  const point = ecdh.getPublicKey() // 04 ‖ x ‖ y
  const x = b64url(point.subarray(1, 33))
  const y = b64url(point.subarray(33, 65))
  return {
    privateKey: createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: b64url(scalar), x, y },
      format: 'jwk',
    }),
    publicKey: createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' }),
    scalar,
  }
}

import { spawnSync } from 'node:child_process'
import { createPublicKey, sign, verify } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { newP256KeyPair } from './key-pair.ts'

describe('newP256KeyPair', () => {
  it('makes a working P-256 pair whose scalar is the private key', () => {
    const { privateKey, publicKey, scalar } = newP256KeyPair()
    expect(scalar).toHaveLength(32)
    expect(privateKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' })
    expect(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')).toEqual(Buffer.from(scalar))
    expect(createPublicKey(privateKey).export({ format: 'jwk' })).toEqual(publicKey.export({ format: 'jwk' }))
    const message = new TextEncoder().encode('smetsim')
    expect(verify('sha256', message, publicKey, sign('sha256', message, privateKey))).toBe(true)
    expect(newP256KeyPair().scalar).not.toEqual(scalar)
  })

  it('never deadlocks an export under garbage collection (generateKeyPairSync does: see key-pair.ts)', () => {
    // A collection every 50 allocations lands one inside the export, where a KeyGenJob's
    // destructor would wait for the key's mutex for ever: 20 000 generateKeyPairSync + export hang
    // every time here; this must finish.
    const module = fileURLToPath(new URL('./key-pair.ts', import.meta.url))
    const script = `import { newP256KeyPair } from ${JSON.stringify(module)}
      for (let i = 0; i < 20000; i++) newP256KeyPair().privateKey.export({ format: 'jwk' })
      console.log('done')`
    const r = spawnSync(
      process.execPath,
      ['--gc-interval=50', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
    )
    expect(r.signal, 'the child hung and was killed').toBeNull()
    expect(r.stdout.trim()).toBe('done')
  }, 70_000)
})

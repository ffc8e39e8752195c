import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEui } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { openKeystore } from './keystore.ts'

describe('keystore in the RTDS layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smetsim-keystore-'))
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  writeFileSync(join(dir, '90b3d51f30010000-ds.key'), pem)
  writeFileSync(join(dir, '90b3d51f30010000-pp-ka.key'), pem)
  writeFileSync(join(dir, '90b3d51f30020000-ka.pem'), 'not a certificate')
  const ks = openKeystore(dir)
  const supplier = parseEui('90B3D51F30010000')

  it('finds private keys by EUI, usage and prepayment flag, and lists the EUIs', () => {
    expect(ks.privateKey(supplier, 'digitalSignature')?.asymmetricKeyType).toBe('ec')
    expect(ks.privateKey(supplier, 'keyAgreement', { prepayment: true })?.asymmetricKeyType).toBe('ec')
    expect(ks.privateKey(supplier, 'keyAgreement')).toBeUndefined()
    expect(ks.euis().sort()).toEqual(['90B3D51F30010000', '90B3D51F30020000'])
  })

  it('names the file when one does not parse', () => {
    expect(() => ks.certificate(parseEui('90B3D51F30020000'), 'keyAgreement')).toThrow(
      /90b3d51f30020000-ka\.pem/,
    )
  })

  it('refuses a folder that is not there', () => {
    expect(() => openKeystore(join(dir, 'missing'))).toThrow(/is not a directory/)
  })
})

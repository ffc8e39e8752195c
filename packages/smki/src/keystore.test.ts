import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newP256KeyPair, parseEui } from '@smetsim/core'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createDeviceCa,
  createOrganisationCa,
  createRootCa,
  issueDeviceCertificate,
  issueOrganisationCertificate,
} from './issue.ts'
import { openKeystore, writeKeystoreEntry } from './keystore.ts'
import { removeTempDirs, tempDir } from './testing.ts'

afterAll(removeTempDirs)

describe('keystore in the RTDS layout', () => {
  const dir = tempDir('keystore')
  const { privateKey } = newP256KeyPair()
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

describe('writing a keystore', () => {
  const root = createRootCa()
  const orgCa = createOrganisationCa(root)
  const supplier = parseEui('90B3D51F30010000')
  const meter = parseEui('00DB123456789001')

  it('files certificates and keys under the RTDS names, and openKeystore reads them back', () => {
    const dir = join(tempDir('keystore'), 'new')
    const ds = issueOrganisationCertificate(orgCa, {
      eui: supplier,
      role: 'supplier',
      usage: 'digitalSignature',
    })
    const pp = issueOrganisationCertificate(orgCa, { eui: supplier, role: 'supplier', usage: 'keyAgreement' })
    const ka = issueDeviceCertificate(createDeviceCa(root), { eui: meter, usage: 'keyAgreement' })
    expect(writeKeystoreEntry(dir, ds.certificate, ds.privateKey)).toEqual({
      certificate: '90b3d51f30010000-ds.pem',
      privateKey: '90b3d51f30010000-ds.key',
    })
    expect(writeKeystoreEntry(dir, pp.certificate, pp.privateKey, { prepayment: true }).certificate).toBe(
      '90b3d51f30010000-pp-ka.pem',
    )
    expect(writeKeystoreEntry(dir, ka.certificate)).toEqual({ certificate: '00db123456789001-ka.pem' })

    const store = openKeystore(dir)
    expect(store.certificate(supplier, 'digitalSignature')?.raw).toEqual(ds.certificate.raw)
    expect(store.privateKey(supplier, 'digitalSignature')?.equals(ds.privateKey)).toBe(true)
    expect(store.certificate(supplier, 'keyAgreement', { prepayment: true })?.raw).toEqual(pp.certificate.raw)
    expect(store.certificate(supplier, 'keyAgreement')).toBeUndefined()
    expect(store.certificate(meter, 'keyAgreement')?.raw).toEqual(ka.certificate.raw)
    expect(store.privateKey(meter, 'keyAgreement')).toBeUndefined()
    expect(store.euis().sort()).toEqual([meter, supplier])
  })

  it('refuses a CA certificate, which has no EUI to file it under', () => {
    expect(() => writeKeystoreEntry(tmpdir(), orgCa.certificate)).toThrow(/has no EUI/)
  })
})

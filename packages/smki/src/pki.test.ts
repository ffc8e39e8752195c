import { diffieHellman } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseEui } from '@smetsim/core'
import { afterAll, describe, expect, it } from 'vitest'
import { isIssuedBy, parseCertificate } from './certificate.ts'
import { openKeystore } from './keystore.ts'
import { createMemoryPki, initPki, readAuthority, readPkiManifest, TEST_PARTIES } from './pki.ts'
import { tempDir as makeTempDir, removeTempDirs } from './testing.ts'

afterAll(removeTempDirs)

const meters = ['00-DB-12-34-56-78-90-01', '00DB123456789002', '00db123456789003']
const tempDir = () => join(makeTempDir('pki'), 'pki')

describe('initPki', () => {
  const dir = tempDir()
  const progress: number[] = []
  const manifest = initPki(dir, {
    devices: meters,
    now: new Date('2026-03-01T15:00:00Z'),
    onProgress: (done) => progress.push(done),
  })
  const store = openKeystore(dir)
  const ca = {
    root: readAuthority(dir, 'root').certificate,
    org: readAuthority(dir, 'organisationCa').certificate,
    device: readAuthority(dir, 'deviceCa').certificate,
  }

  it('writes the CAs, chained to the root', () => {
    expect(parseCertificate(ca.root).subject).toBe('OU=00, CN=ZA')
    expect(manifest.authorities.organisationCa.subject).toBe('OU=07, CN=Z1')
    expect(manifest.authorities.deviceCa.subject).toBe('CN=E357')
    expect(isIssuedBy(ca.org, ca.root)).toBe(true)
    expect(isIssuedBy(ca.device, ca.root)).toBe(true)
  })

  it('gives every test party its certificates, issued by the Organisation CA and readable via openKeystore', () => {
    expect(manifest.parties.map((p) => p.eui)).toEqual(TEST_PARTIES.map((p) => p.eui))
    const acb = manifest.parties.find((p) => p.role === 'accessControlBroker')!
    expect(acb.eui).toBe('90B3D51F30000002')
    expect(manifest.parties.find((p) => p.role === 'transitionalCoS')?.eui).toBe('90B3D51F30000004')
    expect(manifest.parties.filter((p) => p.files.prepaymentKeyAgreement).map((p) => p.role)).toEqual([
      'supplier',
      'supplier',
    ])
    for (const party of manifest.parties) {
      for (const [slot, files] of Object.entries(party.files)) {
        const usage = slot === 'digitalSignature' ? 'digitalSignature' : 'keyAgreement'
        const cert = store.certificate(party.eui, usage, { prepayment: slot === 'prepaymentKeyAgreement' })!
        const parsed = parseCertificate(cert)
        expect(parsed).toMatchObject({
          kind: 'organisation',
          eui: party.eui,
          role: party.role,
          keyUsage: [usage],
        })
        expect(parsed.serial).toBe(files.serial)
        expect(parsed.subject.startsWith(`CN=${party.name}, OU=${party.roleCode}`)).toBe(true)
        expect(parsed.notBefore).toEqual(new Date('2026-03-01T00:00:00Z'))
        expect(isIssuedBy(cert, ca.org)).toBe(true)
        expect(existsSync(join(dir, files.privateKey))).toBe(true)
      }
    }
  })

  it('gives every device DS and KA certificates and keys from the Device CA', () => {
    expect(manifest.devices.map((d) => d.eui)).toEqual(meters.map(parseEui))
    expect(progress).toEqual([1, 2, 3])
    for (const { eui } of manifest.devices) {
      for (const usage of ['digitalSignature', 'keyAgreement'] as const) {
        const cert = store.certificate(eui, usage)!
        expect(parseCertificate(cert)).toMatchObject({ kind: 'device', eui, keyUsage: [usage] })
        expect(isIssuedBy(cert, ca.device)).toBe(true)
        expect(isIssuedBy(cert, ca.org)).toBe(false)
        expect(store.privateKey(eui, usage)).toBeDefined()
      }
    }
  })

  it('writes keys that work: a meter and the supplier agree on an ECDH secret from the files', () => {
    const meter = parseEui(meters[0]!)
    const supplier = parseEui('90B3D51F30010000')
    const atMeter = diffieHellman({
      privateKey: store.privateKey(meter, 'keyAgreement')!,
      publicKey: store.certificate(supplier, 'keyAgreement')!.publicKey,
    })
    const atSupplier = diffieHellman({
      privateKey: store.privateKey(supplier, 'keyAgreement')!,
      publicKey: store.certificate(meter, 'keyAgreement')!.publicKey,
    })
    expect(atMeter.equals(atSupplier)).toBe(true)
  })

  it('records the manifest in pki.json', () => {
    expect(readPkiManifest(dir)).toEqual(manifest)
  })

  it('refuses a folder that already holds a PKI, changing nothing', () => {
    const files = () =>
      (readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => statSync(join(dir, f)).isFile())
        .map((f) => [f, statSync(join(dir, f)).mtimeMs, readFileSync(join(dir, f), 'utf8')])
    const before = files()
    expect(before.map(([f]) => f)).toContain('tls/server.pem')
    expect(() => initPki(dir, { devices: ['00DB123456789999'] })).toThrow(/already holds a PKI/)
    const after = files()
    expect(after).toEqual(before)
  })
})

describe('initPki with force', () => {
  it('replaces the PKI and clears the old one’s files', () => {
    const dir = tempDir()
    const first = initPki(dir, { devices: ['00DB123456789001'] })
    const second = initPki(dir, { devices: ['00DB123456789002'], force: true })
    expect(second.authorities.root.serial).not.toBe(first.authorities.root.serial)
    expect(existsSync(join(dir, '00db123456789001-ds.pem'))).toBe(false)
    expect(openKeystore(dir).euis()).toContain('00DB123456789002')
    expect(readPkiManifest(dir).devices.map((d) => d.eui)).toEqual(['00DB123456789002'])
  })

  it('refuses a device EUI that belongs to a party, before writing anything', () => {
    const dir = tempDir()
    expect(() => initPki(dir, { devices: ['90B3D51F30000002'] })).toThrow(/already a party's EUI/)
    expect(existsSync(dir)).toBe(false)
  })
})

describe('createMemoryPki', () => {
  it("issues the main parties' credentials under one Organisation CA, at the TEST_PARTIES EUIs", () => {
    const { root, organisationCa, parties } = createMemoryPki()
    expect(isIssuedBy(organisationCa.certificate, root.certificate)).toBe(true)
    for (const p of Object.values(parties)) {
      for (const c of [p.ds, p.ka, ...(p.pp ? [p.pp] : [])]) {
        const parsed = parseCertificate(c.certificate)
        expect(parsed.eui).toBe(p.eui)
        expect(parsed.role).toBe(TEST_PARTIES.find((t) => t.eui === p.eui)?.role)
        expect(isIssuedBy(c.certificate, organisationCa.certificate)).toBe(true)
      }
    }
    expect(parseCertificate(parties.supplierA.pp!.certificate).keyUsage).toEqual(['keyAgreement'])
    expect(parties.acb.pp).toBeUndefined()
  })
})

import {
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  sign,
  X509Certificate,
} from 'node:crypto'
import { newP256KeyPair, parseEui, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { isIssuedBy, normaliseSerial, parseCertificate } from './certificate.ts'
import { bitString, context, objectIdentifier, sequence, smallInteger, time, unsignedInteger } from './der.ts'
import {
  certifyDeviceKey,
  certifyDeviceKeyDer,
  createDeviceCa,
  createOrganisationCa,
  createRootCa,
  issueDeviceCertificate,
  issueOrganisationCertificate,
} from './issue.ts'
import { keyIdentifier, NO_EXPIRY } from './profile.ts'

const root = createRootCa()
const orgCa = createOrganisationCa(root)
const deviceCa = createDeviceCa(root)
const supplierEui = parseEui('90B3D51F30010000')
const meterEui = parseEui('00DB123456789001')
const notBefore = new Date('2026-01-05T00:00:00Z')

describe('issued certificates parse back to what was asked for', () => {
  it('root and CAs: kind, role, names, CA key usage, key identifiers chained', () => {
    const r = parseCertificate(root.certificate)
    const o = parseCertificate(orgCa.certificate)
    const d = parseCertificate(deviceCa.certificate)
    expect([r.kind, r.subject, r.issuer, r.role]).toEqual(['root', 'OU=00, CN=ZA', 'OU=00, CN=ZA', 'root'])
    expect([o.kind, o.subject, o.issuer, o.role]).toEqual(['ca', 'OU=07, CN=Z1', 'OU=00, CN=ZA', 'issuingCa'])
    expect([d.kind, d.subject, d.issuer, d.role]).toEqual(['ca', 'CN=E357', 'OU=00, CN=ZA', undefined])
    expect(o.keyUsage).toEqual(['keyCertSign', 'cRLSign'])
    expect(o.authorityKeyIdentifier).toBe(r.subjectKeyIdentifier)
    expect(r.notAfter).toEqual(NO_EXPIRY)
  })

  it('Organisation certificate: EUI, role, usage, name, key, validity', () => {
    const issued = issueOrganisationCertificate(orgCa, {
      eui: supplierEui,
      role: 'supplier',
      usage: 'keyAgreement',
      name: 'TEST SUPPLIER',
      notBefore,
    })
    const c = parseCertificate(issued.certificate.toString())
    expect(c).toMatchObject({
      kind: 'organisation',
      eui: supplierEui,
      role: 'supplier',
      roleCode: '02',
      keyUsage: ['keyAgreement'],
      subject: 'CN=TEST SUPPLIER, OU=02, x500UniqueIdentifier=#03090090B3D51F30010000',
      issuer: 'OU=07, CN=Z1',
      notBefore,
      notAfter: new Date('2036-01-04T23:59:59Z'),
      authorityKeyIdentifier: parseCertificate(orgCa.certificate).subjectKeyIdentifier,
    })
    const spki = createPublicKey(issued.privateKey).export({ type: 'spki', format: 'der' })
    expect(toHex(c.publicKey)).toBe(toHex(spki.subarray(-65)))
    expect(c.subjectKeyIdentifier).toBe(toHex(keyIdentifier(c.publicKey)))
    expect(c.serial).toMatch(/^[0-7][0-9A-F]{31}$/)
    expect(c.serial).toBe(c.certificate.serialNumber)
  })

  it('Organisation certificate without a name has no CN', () => {
    const c = parseCertificate(
      issueOrganisationCertificate(orgCa, { eui: supplierEui, role: 'otherUser', usage: 'digitalSignature' })
        .certificate,
    )
    expect(c.subject).toBe('OU=7F, x500UniqueIdentifier=#03090090B3D51F30010000')
    expect(c.role).toBe('otherUser')
  })

  it('Device certificate: empty subject, EUI from hardwareModuleName, never expires; DER input works', () => {
    const issued = issueDeviceCertificate(deviceCa, { eui: meterEui, usage: 'digitalSignature', notBefore })
    const c = parseCertificate(new Uint8Array(issued.certificate.raw))
    expect(c).toMatchObject({
      kind: 'device',
      eui: meterEui,
      keyUsage: ['digitalSignature'],
      subject: '',
      issuer: 'CN=E357',
      notBefore,
      notAfter: NO_EXPIRY,
    })
    expect(c.role).toBeUndefined()
  })

  it('Device certificate for a key the device holds: its point or KeyObject, the same profile, issued by the CA', () => {
    const { publicKey } = newP256KeyPair()
    // The uncompressed point ends a P-256 SubjectPublicKeyInfo.
    const point = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(-65))
    for (const given of [point, publicKey]) {
      const cert = certifyDeviceKey(deviceCa, { eui: meterEui, usage: 'keyAgreement', publicKey: given })
      const c = parseCertificate(cert)
      expect(c).toMatchObject({
        kind: 'device',
        eui: meterEui,
        keyUsage: ['keyAgreement'],
        issuer: 'CN=E357',
      })
      expect(toHex(c.publicKey)).toBe(toHex(point))
      expect(isIssuedBy(c, parseCertificate(deviceCa.certificate))).toBe(true)
      expect(isIssuedBy(c, parseCertificate(createDeviceCa(root).certificate))).toBe(false)
    }
  })

  it('certifyDeviceKeyDer: the same certificate as DER, issued by the CA, for points of many keys', () => {
    for (let k = 0; k < 20; k++) {
      const { publicKey } = newP256KeyPair()
      const point = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(-65))
      const der = certifyDeviceKeyDer(deviceCa, {
        eui: meterEui,
        usage: 'keyAgreement',
        publicKey: point,
        notBefore,
      })
      const c = parseCertificate(der)
      const viaKey = parseCertificate(
        certifyDeviceKey(deviceCa, { eui: meterEui, usage: 'keyAgreement', publicKey, notBefore }),
      )
      expect(c).toMatchObject({
        kind: 'device',
        eui: meterEui,
        keyUsage: ['keyAgreement'],
        issuer: 'CN=E357',
      })
      expect(toHex(c.publicKey)).toBe(toHex(point))
      expect(isIssuedBy(c, parseCertificate(deviceCa.certificate))).toBe(true)
      // The same fields as certifyDeviceKey's, but for the random serial (and so the signature).
      const fields = ({ serial: _s, certificate: _c, ...rest }: ReturnType<typeof parseCertificate>) => rest
      expect(fields(c)).toEqual(fields(viaKey))
    }
  })

  it('certifyDeviceKeyDer refuses a point off P-256 or with a coordinate not below p', () => {
    const { publicKey } = newP256KeyPair()
    const point = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(-65))
    const der = (p: Uint8Array) => () =>
      certifyDeviceKeyDer(deviceCa, { eui: meterEui, usage: 'keyAgreement', publicKey: p })
    const moved = point.slice()
    moved[64] = moved[64]! ^ 1 // y one bit off
    expect(der(moved)).toThrow(TypeError)
    const big = point.slice()
    big.fill(0xff, 1, 33) // x ≥ p
    expect(der(big)).toThrow(TypeError)
    expect(der(point.subarray(0, 64))).toThrow(TypeError)
    expect(der(point)).not.toThrow()
  })

  it('refuses a point that is not P-256 or not uncompressed, and a private or other-curve key', () => {
    const at = (publicKey: Uint8Array | KeyObject) => () =>
      certifyDeviceKey(deviceCa, { eui: meterEui, usage: 'keyAgreement', publicKey })
    expect(at(new Uint8Array(65).fill(4))).toThrow(TypeError) // 04 ‖ not on the curve
    expect(at(new Uint8Array(33).fill(2))).toThrow(TypeError) // compressed form
    expect(at(newP256KeyPair().privateKey)).toThrow(TypeError)
    expect(at(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey)).toThrow(TypeError)
  })
})

describe('isIssuedBy', () => {
  const device = issueDeviceCertificate(deviceCa, { eui: meterEui, usage: 'keyAgreement' })

  it('is true for the issuing CA, up to the root', () => {
    expect(isIssuedBy(device.certificate, deviceCa.certificate)).toBe(true)
    expect(isIssuedBy(parseCertificate(deviceCa.certificate), parseCertificate(root.certificate))).toBe(true)
    expect(isIssuedBy(root.certificate, root.certificate)).toBe(true)
  })

  it('is false for another CA, also one with the same name but another key', () => {
    expect(isIssuedBy(device.certificate, orgCa.certificate)).toBe(false)
    expect(isIssuedBy(device.certificate, createDeviceCa(root).certificate)).toBe(false)
    expect(isIssuedBy(deviceCa.certificate, createRootCa().certificate)).toBe(false)
  })

  it('is false for a tampered certificate', () => {
    const der = Buffer.from(device.certificate.raw)
    const eui = der.indexOf(Buffer.from('00DB123456789001', 'hex'))
    der[eui + 7] = 0x02 // now names device ...9002
    const tampered = new X509Certificate(der)
    expect(parseCertificate(tampered).eui).toBe('00DB123456789002')
    expect(isIssuedBy(tampered, deviceCa.certificate)).toBe(false)
  })
})

describe('key agreement', () => {
  it('a device KA certificate and a supplier KA key agree on the same ECDH secret', () => {
    const supplier = issueOrganisationCertificate(orgCa, {
      eui: supplierEui,
      role: 'supplier',
      usage: 'keyAgreement',
    })
    const meter = issueDeviceCertificate(deviceCa, { eui: meterEui, usage: 'keyAgreement' })
    const atSupplier = diffieHellman({
      privateKey: supplier.privateKey,
      publicKey: meter.certificate.publicKey,
    })
    const atMeter = diffieHellman({ privateKey: meter.privateKey, publicKey: supplier.certificate.publicKey })
    expect(atSupplier.length).toBe(32)
    expect(atSupplier.equals(atMeter)).toBe(true)
  })
})

/** A certificate with the given subject, key and extensions, signed by a throwaway P-256 key. */
function handMade(subject: Uint8Array, spki: Buffer, extensions: Uint8Array[] = []): X509Certificate {
  const alg = sequence(objectIdentifier('1.2.840.10045.4.3.2'))
  const tbs = sequence(
    context(0, smallInteger(2)),
    unsignedInteger(Uint8Array.of(0x01, 0x23)),
    alg,
    sequence(),
    sequence(time(notBefore), time(NO_EXPIRY)),
    subject,
    spki,
    ...(extensions.length ? [context(3, sequence(...extensions))] : []),
  )
  const { privateKey } = newP256KeyPair()
  return new X509Certificate(sequence(tbs, alg, bitString(sign('sha256', tbs, privateKey))))
}

describe('parseCertificate refuses what is not an SMKI certificate', () => {
  const p256 = () => newP256KeyPair().publicKey.export({ type: 'spki', format: 'der' })

  it('names a PEM block of another kind, and text without PEM', () => {
    const pem = newP256KeyPair().publicKey.export({
      type: 'spki',
      format: 'pem',
    })
    expect(() => parseCertificate(pem as string)).toThrow(/not a certificate: the PEM block is a PUBLIC KEY/)
    expect(() => parseCertificate('hello')).toThrow(/not a certificate: no PEM block/)
  })

  it('says when DER is not a certificate', () => {
    expect(() => parseCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).toThrow(
      /not an X.509 certificate/,
    )
  })

  it('names a key that is not P-256', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'der',
    })
    expect(() => parseCertificate(handMade(sequence(), p384))).toThrow(/certificate 0123 has a secp384r1 key/)
  })

  it('says when there is no EUI to be found', () => {
    expect(() => parseCertificate(handMade(sequence(), p256()))).toThrow(/carries no EUI/)
  })
})

describe('normaliseSerial', () => {
  it('gives the upper-case hex of the number, two digits a byte', () => {
    expect(normaliseSerial('4a:07:bc')).toBe('4A07BC')
    expect(normaliseSerial('0x00ff01')).toBe('FF01')
    expect(normaliseSerial('abc')).toBe('0ABC')
    expect(normaliseSerial(98403031005530424935033843217390525231n)).toBe('4A07BC01D9253B51FAF01F7EC7DA5B2F')
    expect(() => normaliseSerial('12g4')).toThrow(/not a hex serial/)
  })
})

/**
 * Whose XML signature is whose: the register of the certificates the DCC accepts on DUIS
 * messages, by serial number (what the signature's X509IssuerSerial names), each with the EUI of
 * the User it belongs to; and the reader of DCC Boxed's ZAZ1 keystore (the `keystore.json` of
 * SmartDCCInnovation/dccboxed-keystore), whose XML signing certificates (role 87) and DCC XML
 * signing certificate (role 89) the DCC's own signing tool uses.
 *
 * In DCC Boxed a User signs DUIS with an XML signing certificate of its own (OU=87); a test PKI
 * made by `smetsim pki init` has none, so there the User's digital signing Organisation
 * certificate is accepted for its XML signature as well (a modelling choice, see the README).
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import type { Eui64 } from '@smetsim/core'
import { parseCertificate, type SmkiRole } from '@smetsim/smki'
import { type CertificateLookup, issuerDn, serialOf } from './xmldsig.ts'

export interface RegisteredCertificate {
  certificate: X509Certificate
  eui: Eui64
  role: SmkiRole | undefined
}

export class XmlSigningRegister {
  private readonly bySerial = new Map<bigint, RegisteredCertificate[]>()

  /** Adds an Organisation certificate (PEM, DER or X509Certificate); returns whose it is. */
  add(certificate: X509Certificate | string | Uint8Array): RegisteredCertificate {
    const x509 = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate)
    const parsed = parseCertificate(x509)
    if (parsed.kind !== 'organisation' || !parsed.eui)
      throw new TypeError('an XML signing certificate is an Organisation certificate with an EUI')
    const entry: RegisteredCertificate = { certificate: x509, eui: parsed.eui, role: parsed.role }
    const serial = serialOf(x509)
    const list = this.bySerial.get(serial) ?? []
    if (!list.some((e) => e.certificate.fingerprint256 === x509.fingerprint256)) list.push(entry)
    this.bySerial.set(serial, list)
    return entry
  }

  /** The certificate with this serial (and, when several share it, this issuer DN). */
  find(serial: bigint, issuerName?: string): RegisteredCertificate | undefined {
    const list = this.bySerial.get(serial)
    if (!list) return undefined
    if (list.length === 1) return list[0]
    const wanted = issuerName?.replace(/\s*,\s*/g, ',')
    return list.find((e) => issuerDn(e.certificate) === wanted)
  }

  /** As `verifyDuisSignature` asks for it. */
  readonly lookup: CertificateLookup = (serial, issuerName) => this.find(serial, issuerName)?.certificate

  get size(): number {
    let n = 0
    for (const list of this.bySerial.values()) n += list.length
    return n
  }
}

/** One certificate of DCC Boxed's keystore, with its private key. */
export interface BoxedCredential {
  eui: Eui64
  usage: 'digitalSignature' | 'keyAgreement'
  /** The keystore's name for it, e.g. 'xml-sign-90B3D51F30010000-ds', 'Z1-supplier-ds'. */
  name: string
  /** SMKI role code as a number (135 = 0x87 XML signing, 137 = 0x89 DCC XML signing). */
  roleCode: number
  certificate: X509Certificate
  privateKey?: KeyObject
}

/** Role codes of DUIS XML signing certificates: a User's (0x87) and the DCC's (0x89). */
export const XML_SIGNING_ROLE = 0x87
export const DCC_XML_SIGNING_ROLE = 0x89

/**
 * Reads DCC Boxed's keystore.json (`{ eui: { usage: { serial: { certificate, privateKey, name,
 * role } } } }`). Throws a TypeError naming the entry that is not of that shape.
 */
export function readBoxedKeystore(json: unknown): BoxedCredential[] {
  if (typeof json !== 'object' || json === null) throw new TypeError('keystore: expected a JSON object')
  const out: BoxedCredential[] = []
  for (const [eui, usages] of Object.entries(json as Record<string, unknown>)) {
    for (const [usage, bySerial] of Object.entries((usages ?? {}) as Record<string, unknown>)) {
      if (usage !== 'digitalSignature' && usage !== 'keyAgreement') continue
      for (const [serial, entry] of Object.entries((bySerial ?? {}) as Record<string, unknown>)) {
        const e = entry as { certificate?: unknown; privateKey?: unknown; name?: unknown; role?: unknown }
        if (typeof e?.certificate !== 'string' || typeof e.role !== 'number')
          throw new TypeError(`keystore: ${eui}/${usage}/${serial} has no certificate or role`)
        const certificate = new X509Certificate(e.certificate)
        const holder = parseCertificate(certificate).eui
        if (!holder) throw new TypeError(`keystore: ${eui}/${usage}/${serial} names no EUI`)
        out.push({
          eui: holder,
          usage,
          name: typeof e.name === 'string' ? e.name : serial,
          roleCode: e.role,
          certificate,
          ...(typeof e.privateKey === 'string' && { privateKey: createPrivateKey(e.privateKey) }),
        })
      }
    }
  }
  return out
}

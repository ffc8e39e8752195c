/**
 * The certificate a device presents when it joins the HAN. In ZigBee SE the join ends in
 * certificate-based key establishment (CBKE) between the device and the CHF; DOMAIN.md §2.1 lists
 * the join results 'Key Agreement Unknown Issuer' and 'Invalid or Missing Certificate'. The CHF
 * here accepts the device when its key-agreement Device Certificate
 *  - is a certificate at all (else 'certificate-missing' / 'certificate-invalid'),
 *  - names the device in the log entry (the hardwareModuleName EUI; 'certificate-eui'),
 *  - is for key agreement ('certificate-usage'),
 *  - was issued by a Device CA the CHF trusts ('certificate-unknown-issuer'), and
 *  - carries the public key of the device's own key-agreement private key ('certificate-key'):
 *    what CBKE proves, checked directly, as the emulator holds both ends.
 * CBKE itself (the ECMQV exchange) is not run (unconfirmed how GBCS profiles it for SMETS2).
 */
import type { X509Certificate } from 'node:crypto'
import { bytesEqual, type Eui64 } from '@smetsim/core'
import { isIssuedBy, parseCertificate, type SmkiCertificate } from '@smetsim/smki'

/** A Device CA certificate (PEM, DER, X509Certificate or parsed). */
export type DeviceCertificateAuthority = SmkiCertificate | X509Certificate | string | Uint8Array

export type CertificateCheck = { ok: true } | { ok: false; reason: string }

const parsedCas = new WeakMap<object, SmkiCertificate>()

function caOf(ca: DeviceCertificateAuthority): SmkiCertificate | undefined {
  if (typeof ca === 'object' && 'kind' in ca) return ca
  const cached = typeof ca === 'object' ? parsedCas.get(ca) : undefined
  if (cached) return cached
  try {
    const parsed = parseCertificate(ca)
    if (typeof ca === 'object') parsedCas.set(ca, parsed)
    return parsed
  } catch {
    return undefined
  }
}

export function checkJoiningCertificate(
  der: Uint8Array | undefined,
  eui: Eui64,
  cas: readonly DeviceCertificateAuthority[],
  ownKeyAgreementPoint: Uint8Array | undefined,
): CertificateCheck {
  if (!der || der.length === 0) return { ok: false, reason: 'certificate-missing' }
  let cert: SmkiCertificate
  try {
    cert = parseCertificate(der)
  } catch {
    return { ok: false, reason: 'certificate-invalid' }
  }
  if (cert.kind !== 'device' || cert.eui !== eui) return { ok: false, reason: 'certificate-eui' }
  if (!cert.keyUsage.includes('keyAgreement')) return { ok: false, reason: 'certificate-usage' }
  const issuer = cas.map(caOf).find((ca) => ca && isIssuedBy(cert, ca))
  if (!issuer) return { ok: false, reason: 'certificate-unknown-issuer' }
  if (!ownKeyAgreementPoint || !bytesEqual(cert.publicKey, ownKeyAgreementPoint))
    return { ok: false, reason: 'certificate-key' }
  return { ok: true }
}

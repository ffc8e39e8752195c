/**
 * SMKI certificate revocation as access control and the pipeline check it: pure functions over the
 * revocation list the DCC is given (`config.revocation`, read afresh at every check, so replacing
 * or reloading it takes effect at once).
 *
 * The rule: a request stands only on certificates that are not revoked (SEC Section L; seed 000,
 * Ofgem's SECMP185 decision: "SMKI Certificates provide the authority to communicate with, and
 * send commands, to a meter", and the DCC revokes a failed Supplier's at licence revocation):
 *  - a certificate the request names as its signer must be the sender's (or the party's it sends
 *    for) and not revoked;
 *  - not every certificate of the sender may be revoked;
 *  - a request sent for another party — a Shared Resource Provider sending for a Supplier (sender ≠
 *    Business Originator), or in the SoLR Contingency role for a failed Supplier — fails once that
 *    party's certificates are all revoked: MP134A (seed 000 §"SECMP134A", seed 001) exists to
 *    *delay* that revocation precisely so the SRP can still act for the failed Supplier, so after
 *    it the SRP cannot. (For SoLR Contingency the TABASC remark in seed 001 — "supplier keys will
 *    still be used within certificates that have been revoked" — reads as if MP134B's DSP might
 *    accept them; that is unconfirmed, and refused here.);
 *  - the certificate whose key verifies a Critical command's signature (in-process signer or CV5)
 *    must not be revoked, whatever serial the request named (`verifyingCertificateProblem`).
 * A list that cannot read a serial counts it as revoked (fail closed).
 */
import { X509Certificate } from 'node:crypto'
import { normaliseSerial } from '@smetsim/smki'
import type { DccUser } from './users.ts'

/** The SMKI revocation list as the DCC reads it (`openRevocationList(path)` fits). */
export interface RevocationStatus {
  isRevoked(serial: string): boolean
}

/** Whether `serial` is revoked; a serial the list cannot read, or a list that fails, counts as revoked. */
export function isRevokedSerial(revocation: RevocationStatus | undefined, serial: string): boolean {
  if (!revocation) return false
  try {
    return revocation.isRevoked(serial) === true
  } catch {
    return true
  }
}

/** The serial number of a DER certificate, normalised as the SMKI repository writes it; undefined for junk. */
export function certificateSerial(der: Uint8Array): string | undefined {
  try {
    return normaliseSerial(new X509Certificate(der).serialNumber)
  } catch {
    return undefined
  }
}

export interface CertificateCheck {
  /** The serial the request names as its signer's certificate, as received. */
  signerCertificate?: string
  /** The User that sent the request. */
  sender: DccUser
  /** The party it is sent for, when not the sender: the Business Originator an SRP sends for, or a SoLR Contingency request's failed Supplier. */
  onBehalfOf?: DccUser
}

/** Why the request's certificates do not stand, or undefined when they do. */
export function certificateProblem(
  check: CertificateCheck,
  revocation: RevocationStatus | undefined,
): string | undefined {
  const { sender, onBehalfOf } = check
  if (check.signerCertificate !== undefined) {
    let serial: string
    try {
      serial = normaliseSerial(String(check.signerCertificate))
    } catch {
      return 'the signer certificate named is not a certificate serial number'
    }
    const owner = [sender, onBehalfOf].find((u) => u?.certificates.includes(serial))
    if (!owner) return `certificate ${serial} is not one of sender ${sender.userId}'s SMKI certificates`
    if (isRevokedSerial(revocation, serial)) return `${owner.userId}'s certificate ${serial} is revoked`
  }
  const allRevoked = (u: DccUser) =>
    u.certificates.length > 0 && u.certificates.every((c) => isRevokedSerial(revocation, c))
  if (revocation && allRevoked(sender))
    return `every SMKI certificate of sender ${sender.userId} is revoked (${sender.certificates.join(', ')})`
  if (revocation && onBehalfOf && onBehalfOf.userId !== sender.userId && allRevoked(onBehalfOf))
    return `sender ${sender.userId} sends for ${onBehalfOf.userId}, whose SMKI certificates are all revoked (${onBehalfOf.certificates.join(', ')})`
  return undefined
}

/** Why the certificate whose key verifies a command's signature does not stand, or undefined. */
export function verifyingCertificateProblem(
  certificate: { owner: string; serial: string },
  revocation: RevocationStatus | undefined,
): string | undefined {
  return isRevokedSerial(revocation, certificate.serial)
    ? `the signature verifies with ${certificate.owner}'s certificate ${certificate.serial}, which is revoked`
    : undefined
}

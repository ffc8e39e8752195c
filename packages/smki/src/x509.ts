/**
 * The X.509 building blocks every certificate issued here shares: a fresh P-256 key pair, the
 * TBSCertificate with its extensions, an ecdsa-with-SHA256 signature, 16-byte random serials.
 * `issue.ts` makes the SMKI certificates with them and `tls.ts` the TLS ones. Internal to the
 * package (the index exports only what issue.ts re-exports).
 */
import { type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto'
import { newP256KeyPair } from '@smetsim/core'
import { parseCertificate } from './certificate.ts'
import {
  bitString,
  boolean,
  children,
  context,
  objectIdentifier,
  octetString,
  readTlv,
  sequence,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
} from './der.ts'
import { keyIdentifier, OID } from './profile.ts'

/** A certificate with the private key that goes with it. */
export interface Credential {
  certificate: X509Certificate
  privateKey: KeyObject
}

export interface ValidityOptions {
  /** Default: midnight UTC today. */
  notBefore?: Date
  notAfter?: Date
}

export const ECDSA_WITH_SHA256 = sequence(objectIdentifier(OID.ecdsaWithSha256))

export const KEY_USAGE_BIT = { digitalSignature: 0, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const

/** Midnight UTC of the day, the default notBefore of everything issued here. */
export function startOfDayUtc(date: Date = new Date()): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
}

/** Ten years less a second, as the test PKI's Organisation certificates run. */
export function tenYearsFrom(start: Date): Date {
  const end = new Date(start)
  end.setUTCFullYear(end.getUTCFullYear() + 10)
  return new Date(end.getTime() - 1000)
}

export function randomSerial(): Uint8Array {
  const serial = randomBytes(16)
  serial[0] = serial[0]! & 0x7f || 0x01 // positive, and still 16 bytes long in DER
  return serial
}

export function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value))
}

/** KeyUsage is a named BIT STRING: trailing zero bits dropped, their count in front. */
export function keyUsageExtension(usages: readonly (keyof typeof KEY_USAGE_BIT)[]): Uint8Array {
  const byte = usages.reduce((b, u) => b | (0x80 >> KEY_USAGE_BIT[u]), 0)
  let unused = 0
  while (!(byte & (1 << unused))) unused++
  return extension(OID.keyUsage, true, tlv(0x03, Uint8Array.of(unused, byte)))
}

export const subjectKeyIdExtension = (point: Uint8Array) =>
  extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(point)))

export function authorityKeyIdExtension(issuer: X509Certificate): Uint8Array {
  const parsed = parseCertificate(issuer)
  const id = parsed.subjectKeyIdentifier
    ? Buffer.from(parsed.subjectKeyIdentifier, 'hex')
    : keyIdentifier(parsed.publicKey)
  return extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, id)))
}

/** The subject Name of a certificate, as DER, to become the issuer of what it signs. */
export function subjectName(cert: X509Certificate): Uint8Array {
  const tbs = children(children(readTlv(cert.raw))[0]!)
  return tbs[tbs[0]!.tag === 0xa0 ? 5 : 4]!.raw
}

export interface Draft extends ValidityOptions {
  issuer: Uint8Array
  subject: Uint8Array
  extensions: (point: Uint8Array) => Uint8Array[]
  defaultNotAfter: (notBefore: Date) => Date
}

/** Makes a key pair, and the certificate for its public key signed with `signer`. */
export function issueCertificate(draft: Draft, signer?: KeyObject): Credential {
  // Not generateKeyPairSync: its keys can deadlock a later export under GC (core key-pair.ts).
  const { publicKey, privateKey } = newP256KeyPair()
  return { certificate: certifyKey(draft, publicKey, signer ?? privateKey), privateKey }
}

/** The certificate for a public key someone else holds the private key of, signed with `signer`. */
export function certifyKey(draft: Draft, publicKey: KeyObject, signer: KeyObject): X509Certificate {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new TypeError('certifyKey: a P-256 public key is needed')
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const point = children(readTlv(spki))[1]!.content.subarray(1)
  return new X509Certificate(certificateDer(draft, spki, point, signer))
}

/**
 * The DER of the certificate for the public key whose SubjectPublicKeyInfo is `spki` (its point
 * `point`), signed with `signer`: what certifyKey makes, without a KeyObject or X509Certificate
 * (for issuing many, as a fleet's Device certificates are).
 */
export function certificateDer(
  draft: Draft,
  spki: Uint8Array,
  point: Uint8Array,
  signer: KeyObject,
): Uint8Array {
  const notBefore = draft.notBefore ?? startOfDayUtc()
  const notAfter = draft.notAfter ?? draft.defaultNotAfter(notBefore)
  const tbs = sequence(
    context(0, smallInteger(2)), // v3
    unsignedInteger(randomSerial()),
    ECDSA_WITH_SHA256,
    draft.issuer,
    sequence(time(notBefore), time(notAfter)),
    draft.subject,
    spki,
    context(3, sequence(...draft.extensions(point))),
  )
  const signature = sign('sha256', tbs, signer)
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(signature))
}

/**
 * Issuing test SMKI certificates that mirror the DCC's ZAZ1 test PKI field by field: a root
 * (`OU=00, CN=ZA`), the Organisation issuing CA (`OU=07, CN=Z1`) and a Device CA (`CN=E357`)
 * under it, Organisation certificates and Device certificates. Keys are fresh P-256 pairs,
 * signatures ecdsa-with-SHA256, serial numbers 16 random bytes (positive).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto'
import { type Eui64, euiToBytes } from '@smetsim/core'
import { parseCertificate } from './certificate.ts'
import {
  bitString,
  boolean,
  children,
  context,
  objectIdentifier,
  octetString,
  printableString,
  readTlv,
  sequence,
  set,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from './der.ts'
import type { KeyUsage } from './keystore.ts'
import {
  DEVICE_HW_TYPE,
  DEVICE_POLICY,
  keyIdentifier,
  NO_EXPIRY,
  OID,
  ORGANISATION_POLICY,
  TEST_CA_NAMES,
} from './profile.ts'
import { ROLE_CODES, roleCode, type SmkiRole } from './roles.ts'

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

export interface CaOptions extends ValidityOptions {
  /** The CN. Defaults to the test PKI's: ZA, Z1, E357. */
  name?: string
}

export interface OrganisationCertificateOptions extends ValidityOptions {
  eui: Eui64
  role: SmkiRole
  usage: KeyUsage
  /** The subject CN; left out when not given (most of the test PKI's certificates have none). */
  name?: string
}

export interface DeviceCertificateOptions extends ValidityOptions {
  eui: Eui64
  usage: KeyUsage
}

const ECDSA_WITH_SHA256 = sequence(objectIdentifier(OID.ecdsaWithSha256))
const CA_KEY_USAGE = ['keyCertSign', 'cRLSign'] as const
const KEY_USAGE_BIT = { digitalSignature: 0, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const

/** Midnight UTC of the day, the default notBefore of everything issued here. */
export function startOfDayUtc(date: Date = new Date()): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
}

/** Ten years less a second, as the test PKI's Organisation certificates run. */
function tenYearsFrom(start: Date): Date {
  const end = new Date(start)
  end.setUTCFullYear(end.getUTCFullYear() + 10)
  return new Date(end.getTime() - 1000)
}

const validity = ({ notBefore, notAfter }: ValidityOptions): ValidityOptions => ({ notBefore, notAfter })

function randomSerial(): Uint8Array {
  const serial = randomBytes(16)
  serial[0] = serial[0]! & 0x7f || 0x01 // positive, and still 16 bytes long in DER
  return serial
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value))
}

/** KeyUsage is a named BIT STRING: trailing zero bits dropped, their count in front. */
function keyUsageExtension(usages: readonly (keyof typeof KEY_USAGE_BIT)[]): Uint8Array {
  const byte = usages.reduce((b, u) => b | (0x80 >> KEY_USAGE_BIT[u]), 0)
  let unused = 0
  while (!(byte & (1 << unused))) unused++
  return extension(OID.keyUsage, true, tlv(0x03, Uint8Array.of(unused, byte)))
}

const policiesExtension = (policy: string) =>
  extension(OID.certificatePolicies, true, sequence(sequence(objectIdentifier(policy))))
const subjectKeyIdExtension = (point: Uint8Array) =>
  extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(point)))

function authorityKeyIdExtension(issuer: X509Certificate): Uint8Array {
  const parsed = parseCertificate(issuer)
  const id = parsed.subjectKeyIdentifier
    ? Buffer.from(parsed.subjectKeyIdentifier, 'hex')
    : keyIdentifier(parsed.publicKey)
  return extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, id)))
}

function caExtensions(point: Uint8Array, policy: string, issuer?: X509Certificate): Uint8Array[] {
  const basicConstraints = sequence(boolean(true), ...(issuer ? [smallInteger(0)] : []))
  return [
    keyUsageExtension(CA_KEY_USAGE),
    extension(OID.basicConstraints, true, basicConstraints),
    subjectKeyIdExtension(point),
    policiesExtension(policy),
    ...(issuer ? [authorityKeyIdExtension(issuer)] : []),
  ]
}

function caName(cn: string, ou?: string): Uint8Array {
  const attribute = (oid: string, value: string) =>
    set(sequence(objectIdentifier(oid), printableString(value)))
  return sequence(...(ou ? [attribute(OID.organizationalUnitName, ou)] : []), attribute(OID.commonName, cn))
}

/** The subject Name of a certificate, as DER, to become the issuer of what it signs. */
function subjectName(cert: X509Certificate): Uint8Array {
  const tbs = children(children(readTlv(cert.raw))[0]!)
  return tbs[tbs[0]!.tag === 0xa0 ? 5 : 4]!.raw
}

interface Draft extends ValidityOptions {
  issuer: Uint8Array
  subject: Uint8Array
  extensions: (point: Uint8Array) => Uint8Array[]
  defaultNotAfter: (notBefore: Date) => Date
}

/** Makes a key pair, and the certificate for its public key signed with `signer`. */
function issue(draft: Draft, signer?: KeyObject): Credential {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const point = children(readTlv(spki))[1]!.content.subarray(1)
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
  const signature = sign('sha256', tbs, signer ?? privateKey)
  return {
    certificate: new X509Certificate(sequence(tbs, ECDSA_WITH_SHA256, bitString(signature))),
    privateKey,
  }
}

/** A self-signed root `OU=00, CN=<name>`; valid until 9999 unless told otherwise. */
export function createRootCa(options: CaOptions = {}): Credential {
  const name = caName(options.name ?? TEST_CA_NAMES.root, ROLE_CODES.root)
  return issue({
    ...validity(options),
    issuer: name,
    subject: name,
    extensions: (point) => caExtensions(point, OID.anyPolicy),
    defaultNotAfter: () => NO_EXPIRY,
  })
}

/** The Organisation issuing CA `OU=07, CN=<name>` under the root. */
export function createOrganisationCa(root: Credential, options: CaOptions = {}): Credential {
  return issue(
    {
      ...validity(options),
      issuer: subjectName(root.certificate),
      subject: caName(options.name ?? TEST_CA_NAMES.organisationCa, ROLE_CODES.issuingCa),
      extensions: (point) => caExtensions(point, ORGANISATION_POLICY, root.certificate),
      defaultNotAfter: () => NO_EXPIRY,
    },
    root.privateKey,
  )
}

/** The Device CA `CN=<name>` under the root. */
export function createDeviceCa(root: Credential, options: CaOptions = {}): Credential {
  return issue(
    {
      ...validity(options),
      issuer: subjectName(root.certificate),
      subject: caName(options.name ?? TEST_CA_NAMES.deviceCa),
      extensions: (point) => caExtensions(point, DEVICE_POLICY, root.certificate),
      defaultNotAfter: () => NO_EXPIRY,
    },
    root.privateKey,
  )
}

/**
 * An Organisation certificate: subject `[CN=<name>,] OU=<role code>, x500UniqueIdentifier=<EUI>`,
 * key usage (critical) exactly digitalSignature or keyAgreement; valid ten years by default.
 */
export function issueOrganisationCertificate(
  ca: Credential,
  options: OrganisationCertificateOptions,
): Credential {
  const attribute = (oid: string, value: Uint8Array) => set(sequence(objectIdentifier(oid), value))
  const subject = sequence(
    ...(options.name ? [attribute(OID.commonName, utf8String(options.name))] : []),
    attribute(OID.organizationalUnitName, utf8String(roleCode(options.role))),
    attribute(OID.x500UniqueIdentifier, bitString(euiToBytes(options.eui))),
  )
  return issue(
    {
      ...validity(options),
      issuer: subjectName(ca.certificate),
      subject,
      extensions: (point) => [
        keyUsageExtension([options.usage]),
        subjectKeyIdExtension(point),
        policiesExtension(ORGANISATION_POLICY),
        authorityKeyIdExtension(ca.certificate),
      ],
      defaultNotAfter: tenYearsFrom,
    },
    ca.privateKey,
  )
}

/**
 * A Device certificate: empty subject, the device named by a critical subjectAltName otherName
 * hardwareModuleName { hwType, hwSerialNum = EUI }; never expires (notAfter 9999-12-31).
 */
export function issueDeviceCertificate(ca: Credential, options: DeviceCertificateOptions): Credential {
  const hardwareModuleName = sequence(objectIdentifier(DEVICE_HW_TYPE), octetString(euiToBytes(options.eui)))
  const san = sequence(context(0, objectIdentifier(OID.hardwareModuleName), context(0, hardwareModuleName)))
  return issue(
    {
      ...validity(options),
      issuer: subjectName(ca.certificate),
      subject: sequence(),
      extensions: (point) => [
        keyUsageExtension([options.usage]),
        subjectKeyIdExtension(point),
        extension(OID.subjectAltName, true, san),
        policiesExtension(DEVICE_POLICY),
        authorityKeyIdExtension(ca.certificate),
      ],
      defaultNotAfter: () => NO_EXPIRY,
    },
    ca.privateKey,
  )
}

/**
 * Issuing test SMKI certificates that mirror the DCC's ZAZ1 test PKI field by field: a root
 * (`OU=00, CN=ZA`), the Organisation issuing CA (`OU=07, CN=Z1`) and a Device CA (`CN=E357`)
 * under it, Organisation certificates and Device certificates. Keys are fresh P-256 pairs,
 * signatures ecdsa-with-SHA256, serial numbers 16 random bytes (positive).
 */
import { type KeyObject, X509Certificate } from 'node:crypto'
import { type Eui64, euiToBytes } from '@smetsim/core'
import {
  bitString,
  boolean,
  context,
  objectIdentifier,
  octetString,
  printableString,
  sequence,
  set,
  smallInteger,
  utf8String,
} from './der.ts'
import type { KeyUsage } from './keystore.ts'
import {
  DEVICE_HW_TYPE,
  DEVICE_POLICY,
  NO_EXPIRY,
  OID,
  ORGANISATION_POLICY,
  TEST_CA_NAMES,
} from './profile.ts'
import { ROLE_CODES, roleCode, type SmkiRole } from './roles.ts'
import {
  authorityKeyIdExtension,
  type Credential,
  certificateDer,
  certifyKey,
  type Draft,
  extension,
  issueCertificate,
  keyUsageExtension,
  subjectKeyIdExtension,
  subjectName,
  tenYearsFrom,
  type ValidityOptions,
} from './x509.ts'

export { type Credential, startOfDayUtc, type ValidityOptions } from './x509.ts'

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

const validity = ({ notBefore, notAfter }: ValidityOptions): ValidityOptions => ({ notBefore, notAfter })
const CA_KEY_USAGE = ['keyCertSign', 'cRLSign'] as const
const policiesExtension = (policy: string) =>
  extension(OID.certificatePolicies, true, sequence(sequence(objectIdentifier(policy))))
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

/** A self-signed root `OU=00, CN=<name>`; valid until 9999 unless told otherwise. */
export function createRootCa(options: CaOptions = {}): Credential {
  const name = caName(options.name ?? TEST_CA_NAMES.root, ROLE_CODES.root)
  return issueCertificate({
    ...validity(options),
    issuer: name,
    subject: name,
    extensions: (point) => caExtensions(point, OID.anyPolicy),
    defaultNotAfter: () => NO_EXPIRY,
  })
}

/** The Organisation issuing CA `OU=07, CN=<name>` under the root. */
export function createOrganisationCa(root: Credential, options: CaOptions = {}): Credential {
  return issueCertificate(
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
  return issueCertificate(
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
  return issueCertificate(
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

/** What every Device certificate a CA issues shares: its name as issuer, its key identifier. */
interface IssuerParts {
  issuer: Uint8Array
  authorityKeyId: Uint8Array
}
const issuerParts = new WeakMap<X509Certificate, IssuerParts>()
function partsOf(ca: Credential): IssuerParts {
  let parts = issuerParts.get(ca.certificate)
  if (!parts) {
    parts = { issuer: subjectName(ca.certificate), authorityKeyId: authorityKeyIdExtension(ca.certificate) }
    issuerParts.set(ca.certificate, parts)
  }
  return parts
}
let devicePolicies: Uint8Array | undefined

function deviceDraft(ca: Credential, options: DeviceCertificateOptions): Draft {
  const hardwareModuleName = sequence(objectIdentifier(DEVICE_HW_TYPE), octetString(euiToBytes(options.eui)))
  const san = sequence(context(0, objectIdentifier(OID.hardwareModuleName), context(0, hardwareModuleName)))
  const { issuer, authorityKeyId } = partsOf(ca)
  devicePolicies ??= policiesExtension(DEVICE_POLICY)
  return {
    ...validity(options),
    issuer,
    subject: sequence(),
    extensions: (point) => [
      keyUsageExtension([options.usage]),
      subjectKeyIdExtension(point),
      extension(OID.subjectAltName, true, san),
      devicePolicies!,
      authorityKeyId,
    ],
    defaultNotAfter: () => NO_EXPIRY,
  }
}

/**
 * A Device certificate: empty subject, the device named by a critical subjectAltName otherName
 * hardwareModuleName { hwType, hwSerialNum = EUI }; never expires (notAfter 9999-12-31).
 */
export function issueDeviceCertificate(ca: Credential, options: DeviceCertificateOptions): Credential {
  return issueCertificate(deviceDraft(ca, options), ca.privateKey)
}

/**
 * The same Device certificate for a key the device already has (a meter whose private key was
 * made elsewhere, as a real one's is in its secure element): `publicKey` a P-256 KeyObject or
 * its uncompressed point (65 bytes, 0x04 ‖ X ‖ Y). Throws TypeError for anything else.
 */
export function certifyDeviceKey(
  ca: Credential,
  options: DeviceCertificateOptions & { publicKey: KeyObject | Uint8Array },
): X509Certificate {
  const { publicKey } = options
  if (publicKey instanceof Uint8Array)
    return new X509Certificate(certifyDeviceKeyDer(ca, { ...options, publicKey }))
  return certifyKey(deviceDraft(ca, options), publicKey, ca.privateKey)
}

/**
 * certifyDeviceKey for an uncompressed point, as DER: no KeyObject is made for the key and no
 * X509Certificate for the result, and the CA's name and key identifier are worked out once per
 * CA (about a fifth of the time: for issuing many, as a fleet's joining meters need). Throws
 * TypeError for a point that is not 65 bytes starting 04 or not on P-256.
 */
export function certifyDeviceKeyDer(
  ca: Credential,
  options: DeviceCertificateOptions & { publicKey: Uint8Array },
): Uint8Array {
  const point = options.publicKey
  if (point.length !== 65 || point[0] !== 0x04)
    throw new TypeError('certifyDeviceKey: an uncompressed P-256 point is 65 bytes starting 04')
  if (!onP256(point)) throw new TypeError('certifyDeviceKey: not a point on P-256')
  const spki = sequence(
    sequence(objectIdentifier(OID.ecPublicKey), objectIdentifier(OID.prime256v1)),
    bitString(point),
  )
  return certificateDer(deviceDraft(ca, options), spki, point, ca.privateKey)
}

// P-256 (FIPS 186-4 D.1.2.3, SEC 2 secp256r1): y² = x³ − 3x + b over GF(p).
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

/** Whether 04 ‖ X ‖ Y is an affine point of P-256 (coordinates below p, on the curve). */
function onP256(point: Uint8Array): boolean {
  const x = BigInt(`0x${Buffer.from(point.subarray(1, 33)).toString('hex')}`)
  const y = BigInt(`0x${Buffer.from(point.subarray(33, 65)).toString('hex')}`)
  if (x >= P256_P || y >= P256_P) return false
  const p = P256_P
  return (y * y) % p === (((((x * x) % p) * x - 3n * x + P256_B) % p) + p) % p
}

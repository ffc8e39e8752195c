/**
 * The SMKI certificate profile as the DCC's test PKI (ZAZ1, used by RTDS and DCC Boxed) carries
 * it: object identifiers, policies, CA names and the key identifier rule. Read from the real
 * certificates with `openssl x509 -text` / `openssl asn1parse`.
 */
import { createHash } from 'node:crypto'

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organizationalUnitName: '2.5.4.11',
  x500UniqueIdentifier: '2.5.4.45',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  certificatePolicies: '2.5.29.32',
  anyPolicy: '2.5.29.32.0',
  authorityKeyIdentifier: '2.5.29.35',
  /** RFC 4108 hardwareModuleName, the otherName a Device certificate names its device by. */
  hardwareModuleName: '1.3.6.1.5.5.7.8.4',
} as const

/** The certificate policy of Organisation certificates (and their issuing CA) in the test PKI. */
export const ORGANISATION_POLICY = '1.2.826.0.1.8641679.1.2.1.4'
/** The certificate policy of Device certificates (and the Device CA) in the test PKI. */
export const DEVICE_POLICY = '1.2.826.0.1.1800000.1.2.1.4'
/** hwType in every RTDS Device certificate's hardwareModuleName. */
export const DEVICE_HW_TYPE = '1.2.826.0.1.8641679.1.2.2.1'

/** CA names of the test PKI: the root `OU=00, CN=ZA`, the issuing CA `OU=07, CN=Z1`, the Device CA `CN=E357`. */
export const TEST_CA_NAMES = { root: 'ZA', organisationCa: 'Z1', deviceCa: 'E357' } as const

/** Device certificates never expire: notAfter is 9999-12-31 23:59:59 (RFC 5280's "no well-defined expiration"). */
export const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59))

/**
 * Subject key identifier as the test PKI derives it (RFC 5280 §4.2.1.2, method 2): 0100 followed
 * by the low 60 bits of the SHA-1 of the public key point, 8 bytes in all.
 */
export function keyIdentifier(publicKeyPoint: Uint8Array): Uint8Array {
  const id = createHash('sha1').update(publicKeyPoint).digest().subarray(12)
  id[0] = 0x40 | (id[0]! & 0x0f)
  return Uint8Array.from(id)
}

/**
 * TLS credentials for the DCC's HTTP API: a CA, a server certificate for `dcc serve` and a
 * client certificate per DCC User (and one for an auditor), so that callers authenticate with
 * mutual TLS.
 *
 * The real DCC does not use SMKI for this: its User Interface is secured by TLS certificates of
 * a separate DCC Key Infrastructure (DCCKI). DCCKI's certificate profile is not modelled here
 * (unconfirmed which fields name the User); this is a stand-in in plain X.509 terms:
 * - CA: `O=smetsim, CN=smetsim test DCCKI CA`, basicConstraints CA, keyCertSign + cRLSign.
 * - server: `O=smetsim, CN=smetsim DCC`, subjectAltName DNS localhost, IP 127.0.0.1 and ::1,
 *   extendedKeyUsage serverAuth.
 * - client: `O=smetsim, OU=<DCC User | DCC auditor>, CN=<the User's EUI-64 | a name>`,
 *   extendedKeyUsage clientAuth.
 * All P-256 with ecdsa-with-SHA256, keyUsage digitalSignature, valid ten years.
 */
import type { X509Certificate } from 'node:crypto'
import { type Eui64, isEui } from '@smetsim/core'
import { boolean, objectIdentifier, printableString, sequence, set, tlv } from './der.ts'
import { OID } from './profile.ts'
import {
  authorityKeyIdExtension,
  type Credential,
  extension,
  issueCertificate,
  keyUsageExtension,
  subjectKeyIdExtension,
  subjectName,
  tenYearsFrom,
  type ValidityOptions,
} from './x509.ts'

/** Who a TLS client certificate says its holder is: a DCC User (by EUI-64) or an auditor. */
export type TlsIdentity = { kind: 'user'; user: Eui64 } | { kind: 'auditor'; name: string }

/** The OU of a TLS client certificate, per kind of holder. */
export const TLS_CLIENT_UNITS = { user: 'DCC User', auditor: 'DCC auditor' } as const

const TLS_OID = {
  organizationName: '2.5.4.10',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

function name(attributes: [oid: string, value: string][]): Uint8Array {
  return sequence(
    ...attributes.map(([oid, value]) => set(sequence(objectIdentifier(oid), printableString(value)))),
  )
}

const extendedKeyUsage = (purpose: string) =>
  extension(TLS_OID.extendedKeyUsage, false, sequence(objectIdentifier(purpose)))

/** subjectAltName: dNSName [2] and iPAddress [7] entries. */
function subjectAltName(dns: readonly string[], ips: readonly Uint8Array[]): Uint8Array {
  return extension(
    OID.subjectAltName,
    false,
    sequence(...dns.map((d) => tlv(0x82, new TextEncoder().encode(d))), ...ips.map((ip) => tlv(0x87, ip))),
  )
}

const IPV4_LOOPBACK = Uint8Array.of(127, 0, 0, 1)
const IPV6_LOOPBACK = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)

/** The TLS CA (self-signed). */
export function createTlsCa(options: ValidityOptions = {}): Credential {
  const subject = name([
    [TLS_OID.organizationName, 'smetsim'],
    [OID.commonName, 'smetsim test DCCKI CA'],
  ])
  return issueCertificate({
    ...options,
    issuer: subject,
    subject,
    extensions: (point) => [
      keyUsageExtension(['keyCertSign', 'cRLSign']),
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      subjectKeyIdExtension(point),
    ],
    defaultNotAfter: tenYearsFrom,
  })
}

function leaf(
  ca: Credential,
  subject: Uint8Array,
  extra: Uint8Array[],
  options: ValidityOptions,
): Credential {
  return issueCertificate(
    {
      ...options,
      issuer: subjectName(ca.certificate),
      subject,
      extensions: (point) => [
        keyUsageExtension(['digitalSignature']),
        subjectKeyIdExtension(point),
        authorityKeyIdExtension(ca.certificate),
        ...extra,
      ],
      defaultNotAfter: tenYearsFrom,
    },
    ca.privateKey,
  )
}

/** The server certificate of `dcc serve`, for localhost / 127.0.0.1 / ::1. */
export function issueTlsServerCertificate(ca: Credential, options: ValidityOptions = {}): Credential {
  return leaf(
    ca,
    name([
      [TLS_OID.organizationName, 'smetsim'],
      [OID.commonName, 'smetsim DCC'],
    ]),
    [extendedKeyUsage(TLS_OID.serverAuth), subjectAltName(['localhost'], [IPV4_LOOPBACK, IPV6_LOOPBACK])],
    options,
  )
}

/** A client certificate naming a DCC User by EUI-64, or an auditor by name. */
export function issueTlsClientCertificate(
  ca: Credential,
  identity: TlsIdentity,
  options: ValidityOptions = {},
): Credential {
  return leaf(
    ca,
    name([
      [TLS_OID.organizationName, 'smetsim'],
      [OID.organizationalUnitName, TLS_CLIENT_UNITS[identity.kind]],
      [OID.commonName, identity.kind === 'user' ? identity.user : identity.name],
    ]),
    [extendedKeyUsage(TLS_OID.clientAuth)],
    options,
  )
}

/**
 * The identity a TLS client certificate's subject names, or why it names none. Takes the
 * subject as Node's TLS layer gives it (`getPeerCertificate().subject`) or a certificate.
 */
export function tlsIdentityOf(
  from: X509Certificate | { OU?: string | string[]; CN?: string | string[] },
): TlsIdentity | { problem: string } {
  const subject = 'subject' in from && typeof from.subject === 'string' ? parseSubject(from.subject) : from
  const one = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const unit = one((subject as { OU?: unknown }).OU)
  const cn = one((subject as { CN?: unknown }).CN)
  if (unit === TLS_CLIENT_UNITS.user) {
    if (cn && isEui(cn)) return { kind: 'user', user: cn }
    return { problem: `a DCC User certificate must name the User's EUI-64 as its CN, not '${cn ?? ''}'` }
  }
  if (unit === TLS_CLIENT_UNITS.auditor && cn) return { kind: 'auditor', name: cn }
  return { problem: `not a DCC User or auditor certificate (OU '${unit ?? ''}')` }
}

/** X509Certificate.subject is 'O=…\nOU=…\nCN=…'. */
function parseSubject(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const at = line.indexOf('=')
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1)
  }
  return out
}

/**
 * Reading SMKI certificates: which kind (root, CA, Organisation, Device), whose (the EUI), in
 * which role and for what (key usage), with the P-256 public key as the 65-byte point GBCS uses.
 */
import { X509Certificate } from 'node:crypto'
import { type Eui64, euiFromBytes, toHex } from '@smetsim/core'
import { children, decodeObjectIdentifier, decodeTime, readTlv, type Tlv } from './der.ts'
import { OID } from './profile.ts'
import { roleFromCode, type SmkiRole } from './roles.ts'

export type CertificateKind = 'root' | 'ca' | 'organisation' | 'device'

/** The key usage bits in RFC 5280 order (bit 0 first). */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number]

export interface SmkiCertificate {
  kind: CertificateKind
  /** The holder: x500UniqueIdentifier (Organisation) or hardwareModuleName serial (Device). */
  eui?: Eui64
  /** From the subject OU; undefined for a code the role table does not know (see roleCode). */
  role?: SmkiRole
  roleCode?: string
  keyUsage: KeyUsageBit[]
  /** Uncompressed P-256 point, 0x04 || X || Y. */
  publicKey: Uint8Array
  /**
   * Serial number as upper-case hex, two digits per byte, without the 00 byte DER puts in front
   * of a number whose top bit is set (so it is the number itself and compares with normaliseSerial).
   */
  serial: string
  notBefore: Date
  notAfter: Date
  /** Distinguished names in openssl's one-line order, e.g. `OU=07, CN=Z1`; '' for none. */
  issuer: string
  subject: string
  subjectKeyIdentifier?: string
  authorityKeyIdentifier?: string
  certificate: X509Certificate
}

const NAME_LABELS: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.organizationalUnitName]: 'OU',
  [OID.x500UniqueIdentifier]: 'x500UniqueIdentifier',
  '2.5.4.10': 'O',
  '2.5.4.6': 'C',
}
const TEXT_TAGS = new Set([0x0c, 0x13, 0x14, 0x16]) // UTF8String, PrintableString, T61String, IA5String

interface NameAttribute {
  oid: string
  value: Tlv
}

function nameAttributes(name: Tlv): NameAttribute[] {
  return children(name).flatMap((rdn) =>
    children(rdn).map((attribute) => {
      const [type, value] = children(attribute)
      return { oid: decodeObjectIdentifier(type!.content), value: value! }
    }),
  )
}

function renderName(attributes: NameAttribute[]): string {
  return attributes
    .map(({ oid, value }) => {
      const text = TEXT_TAGS.has(value.tag) ? new TextDecoder().decode(value.content) : `#${toHex(value.raw)}`
      return `${NAME_LABELS[oid] ?? oid}=${text}`
    })
    .join(', ')
}

interface Extension {
  critical: boolean
  value: Tlv
}

function extensions(tbsFields: Tlv[]): Map<string, Extension> {
  const out = new Map<string, Extension>()
  const wrapper = tbsFields.find((f) => f.tag === 0xa3)
  if (!wrapper) return out
  for (const ext of children(children(wrapper)[0]!)) {
    const parts = children(ext)
    const critical = parts.length === 3 && parts[1]!.content[0] !== 0
    out.set(decodeObjectIdentifier(parts[0]!.content), { critical, value: readTlv(parts.at(-1)!.content) })
  }
  return out
}

function keyUsageBits(ext: Extension | undefined): KeyUsageBit[] {
  if (!ext) return []
  const bits = ext.value.content.subarray(1) // skip the unused-bits count
  return KEY_USAGE_BITS.filter((_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0)
}

/** The hwSerialNum of the hardwareModuleName otherName in a subjectAltName, if there is one. */
function hardwareSerial(ext: Extension | undefined): Uint8Array | undefined {
  if (!ext) return undefined
  for (const name of children(ext.value)) {
    if (name.tag !== 0xa0) continue // otherName
    const [type, value] = children(name)
    if (decodeObjectIdentifier(type!.content) !== OID.hardwareModuleName) continue
    const [, serial] = children(children(value!)[0]!) // SEQUENCE { hwType, hwSerialNum }
    return serial?.content
  }
  return undefined
}

function toX509(input: string | Uint8Array | X509Certificate): X509Certificate {
  if (input instanceof X509Certificate) return input
  if (typeof input === 'string') {
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(input)?.[1]
    if (label === undefined) throw new Error('not a certificate: no PEM block found')
    if (label !== 'CERTIFICATE') throw new Error(`not a certificate: the PEM block is a ${label}`)
  }
  try {
    return new X509Certificate(typeof input === 'string' ? input : Buffer.from(input))
  } catch (e) {
    throw new Error(`not an X.509 certificate: ${(e as Error).message}`)
  }
}

/** Upper-case hex of a certificate serial, without separators, leading zero bytes or DER sign byte. */
export function normaliseSerial(serial: string | bigint): string {
  let hex =
    typeof serial === 'bigint' ? serial.toString(16) : serial.replace(/^0x/i, '').replace(/[\s:]/g, '')
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new RangeError(`not a hex serial number: '${serial}'`)
  hex = hex.toUpperCase().replace(/^0+/, '')
  return hex.length % 2 ? `0${hex}` : hex || '00'
}

/**
 * Reads a certificate from PEM, DER or node's X509Certificate and classifies it. Throws an
 * Error naming the problem for input that is not a certificate, a key other than P-256, or an
 * Organisation / Device certificate without a readable EUI.
 */
export function parseCertificate(input: string | Uint8Array | X509Certificate): SmkiCertificate {
  const certificate = toX509(input)
  const tbs = children(children(readTlv(certificate.raw))[0]!)
  const fields = tbs[0]!.tag === 0xa0 ? tbs.slice(1) : tbs
  const [serialNode, , issuerNode, validity, subjectNode] = fields
  const serialBytes = serialNode!.content
  const serial = toHex(serialBytes.length > 1 && serialBytes[0] === 0 ? serialBytes.subarray(1) : serialBytes)
  const subjectAttributes = nameAttributes(subjectNode!)
  const subject = renderName(subjectAttributes)
  const what = `certificate ${serial}${subject ? ` (${subject})` : ''}`

  const key = certificate.publicKey
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const detail = key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyType
    throw new Error(`${what} has a ${detail} key; SMKI keys are ECDSA P-256`)
  }
  const jwk = key.export({ format: 'jwk' })
  const publicKey = Uint8Array.from([
    4,
    ...Buffer.from(jwk.x!, 'base64url'),
    ...Buffer.from(jwk.y!, 'base64url'),
  ])

  const exts = extensions(fields)
  const keyUsage = keyUsageBits(exts.get(OID.keyUsage))
  const ski = exts.get(OID.subjectKeyIdentifier)?.value.content
  const aki = exts.get(OID.authorityKeyIdentifier)
  const akiKeyId = aki && children(aki.value).find((f) => f.tag === 0x80)?.content
  const attribute = (oid: string) => subjectAttributes.find((a) => a.oid === oid)?.value
  const ou = attribute(OID.organizationalUnitName)
  const roleCode = ou && TEXT_TAGS.has(ou.tag) ? new TextDecoder().decode(ou.content) : undefined
  const [notBefore, notAfter] = children(validity!).map(decodeTime)

  let kind: CertificateKind
  let eui: Eui64 | undefined
  const hwSerial = hardwareSerial(exts.get(OID.subjectAltName))
  const uniqueId = attribute(OID.x500UniqueIdentifier)
  if (certificate.ca || keyUsage.includes('keyCertSign')) {
    kind = Buffer.compare(issuerNode!.raw, subjectNode!.raw) === 0 ? 'root' : 'ca'
  } else if (hwSerial) {
    kind = 'device'
    if (hwSerial.length !== 8)
      throw new Error(`${what}: hardwareModuleName serial is ${hwSerial.length} bytes, not an 8-byte EUI`)
    eui = euiFromBytes(hwSerial)
  } else if (uniqueId) {
    kind = 'organisation'
    if (uniqueId.tag !== 0x03 || uniqueId.content[0] !== 0 || uniqueId.content.length !== 9)
      throw new Error(`${what}: x500UniqueIdentifier is not a BIT STRING holding an 8-byte EUI`)
    eui = euiFromBytes(uniqueId.content.subarray(1))
    if (roleCode === undefined) throw new Error(`${what}: Organisation certificate without an OU role code`)
  } else {
    throw new Error(
      `${what} carries no EUI: neither an x500UniqueIdentifier in the subject nor a hardwareModuleName in subjectAltName`,
    )
  }

  return {
    kind,
    ...(eui && { eui }),
    ...(roleCode !== undefined && { roleCode, role: roleFromCode(roleCode) }),
    keyUsage,
    publicKey,
    serial,
    notBefore: notBefore!,
    notAfter: notAfter!,
    issuer: renderName(nameAttributes(issuerNode!)),
    subject,
    ...(ski && { subjectKeyIdentifier: toHex(ski) }),
    ...(akiKeyId && { authorityKeyIdentifier: toHex(akiKeyId) }),
    certificate,
  }
}

/**
 * True when `ca` issued `cert`: the issuer name (and key identifier) matches the CA's subject and
 * the signature verifies with the CA's public key.
 */
export function isIssuedBy(
  cert: X509Certificate | SmkiCertificate,
  ca: X509Certificate | SmkiCertificate,
): boolean {
  const c = cert instanceof X509Certificate ? cert : cert.certificate
  const a = ca instanceof X509Certificate ? ca : ca.certificate
  return c.checkIssued(a) && c.verify(a.publicKey)
}

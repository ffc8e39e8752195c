/**
 * Trust anchor cells: the slots in a device that hold the certificates of the remote parties it
 * knows (GBCS: Known Remote Parties). A cell is named by the party's role, the key usage and
 * the cell usage (management, or a supplier's prepayment top-up key). A party with a
 * certificate in a cell is known to the device; nothing else is.
 *
 * The credential in a cell is immutable and shared: thousands of devices that trust the same
 * Supplier hold the same object, interned by certificate, and the parsed key behind it is
 * imported once per crypto backend.
 */
import type { X509Certificate } from 'node:crypto'
import type { Eui64 } from '@smetsim/core'
import { type CryptoBackend, type PrivateKeyRef, type PublicKeyRef, RecentCache } from '@smetsim/gbcs'
import { parseCertificate, type SmkiCertificate } from '@smetsim/smki'

/** The remote-party roles of GBCS trust anchor cells (the same numbers as SMKI role codes). */
export type RemotePartyRole =
  | 'root'
  | 'recovery'
  | 'supplier'
  | 'networkOperator'
  | 'accessControlBroker'
  | 'transitionalCoS'
  | 'wanProvider'

/** Every trust anchor cell a SMETS2 meter holds. */
export const CELL_NAMES = [
  'root',
  'recovery',
  'supplierDs',
  'supplierKa',
  'supplierPrepaymentKa',
  'networkOperatorDs',
  'networkOperatorKa',
  'accessControlBrokerDs',
  'accessControlBrokerKa',
  'transitionalCoSDs',
  'wanProviderDs',
] as const
export type CellName = (typeof CELL_NAMES)[number]

export type KeyUsage = 'digitalSignature' | 'keyAgreement'
export type CellUsage = 'management' | 'prePaymentTopUp'

/** The cell a (role, key usage, cell usage) triple names, as a CS02b targets it. */
export function cellName(
  role: RemotePartyRole,
  usage: KeyUsage,
  cellUsage: CellUsage = 'management',
): CellName {
  if (role === 'root' || role === 'recovery') return role
  if (cellUsage === 'prePaymentTopUp') {
    if (role !== 'supplier' || usage !== 'keyAgreement')
      throw new RangeError('only the supplier has a prepayment top-up (key agreement) cell')
    return 'supplierPrepaymentKa'
  }
  const name = `${role}${usage === 'digitalSignature' ? 'Ds' : 'Ka'}`
  if (!(CELL_NAMES as readonly string[]).includes(name))
    throw new RangeError(`a device has no ${role} ${usage} cell`)
  return name as CellName
}

/** The contents of a cell: the remote party's EUI, its public key and the certificate itself. */
export interface Credential {
  readonly eui: Eui64
  /** 65-byte uncompressed P-256 point. */
  readonly publicKey: Uint8Array
  /** The DER certificate (kept for snapshots and CS02b responses). */
  readonly certificate: Uint8Array
  /** Upper-case hex serial, as the SMKI revocation list names it. */
  readonly serial: string
  /** Subject key identifier (hex), which CS02b responses report per cell. */
  readonly keyIdentifier: string
  /** SMKI role code from the OU ('02' supplier …); undefined for Device and CA certificates. */
  readonly roleCode: string | undefined
  readonly keyUsage: readonly string[]
}

export type TrustAnchorCells = Partial<Record<CellName, Credential>>

/**
 * Credentials by certificate (base64 DER). Capped: SR 6.23 and the other CS02 commands bring
 * certificates in from outside, so the cap, not the commands, decides how many are held; a fleet's
 * parties are a few dozen, far under it.
 */
const interned = new RecentCache<string, Credential>(4096)

/**
 * The credential for a certificate, interned: the same certificate gives the same object while it
 * is among the last 4 096 interned. A root or CA certificate has no EUI and is filed under the
 * zero EUI.
 */
export function credentialFromCertificate(
  cert: string | Uint8Array | X509Certificate | SmkiCertificate,
): Credential {
  // DER bytes already interned are not parsed again (a SoLR's SR 6.23 brings every meter the same ones).
  if (cert instanceof Uint8Array) {
    const known = interned.get(Buffer.from(cert).toString('base64'))
    if (known) return known
  }
  const parsed = typeof cert === 'object' && 'kind' in cert ? cert : parseCertificate(cert)
  const der = new Uint8Array(parsed.certificate.raw)
  const key = Buffer.from(der).toString('base64')
  const known = interned.get(key)
  if (known) return known
  const credential: Credential = Object.freeze({
    eui: parsed.eui ?? ('0000000000000000' as Eui64),
    publicKey: parsed.publicKey,
    certificate: der,
    serial: parsed.serial,
    keyIdentifier: parsed.subjectKeyIdentifier ?? '',
    roleCode: parsed.roleCode,
    keyUsage: parsed.keyUsage,
  })
  interned.set(key, credential)
  return credential
}

/**
 * A value made once per backend and key object, and kept as long as the key object lives. `make`
 * takes both rather than closing over them: this runs for every command a device checks.
 */
function perBackend<K extends object, V>(
  caches: Map<string, WeakMap<K, V>>,
  backend: CryptoBackend,
  key: K,
  make: (backend: CryptoBackend, key: K) => V,
): V {
  let byKey = caches.get(backend.name)
  if (!byKey) {
    byKey = new WeakMap()
    caches.set(backend.name, byKey)
  }
  let value = byKey.get(key)
  if (value === undefined) {
    value = make(backend, key)
    byKey.set(key, value)
  }
  return value
}

const publicRefs = new Map<string, WeakMap<Credential, PublicKeyRef>>()

/** The backend's parsed key for a credential, imported once per backend and credential. */
export function publicKeyOf(credential: Credential, backend: CryptoBackend): PublicKeyRef {
  return perBackend(publicRefs, backend, credential, importTrustAnchor)
}

const importTrustAnchor = (backend: CryptoBackend, c: Credential) =>
  backend.importPublicKey(c.publicKey, { trustAnchor: true })

/** The management cells through which a role is a Known Remote Party (its top-up cell aside). */
const ROLE_CELLS: Readonly<Record<RemotePartyRole, readonly CellName[]>> = {
  root: ['root'],
  recovery: ['recovery'],
  supplier: ['supplierDs', 'supplierKa'],
  networkOperator: ['networkOperatorDs', 'networkOperatorKa'],
  accessControlBroker: ['accessControlBrokerDs', 'accessControlBrokerKa'],
  transitionalCoS: ['transitionalCoSDs'],
  wanProvider: ['wanProviderDs'],
}

/**
 * Whether the party `eui` is known to the device in `role`. One party can sit in the cells of
 * several roles (the DCC's certificates fill the supplier cells of a DCC-controlled device as
 * well as the ACB cells: RTDS 6.21), so which role a command comes from is a question about the
 * role its message code needs, not about the EUI alone.
 */
export function holdsRole(cells: TrustAnchorCells, role: RemotePartyRole, eui: Eui64): boolean {
  for (const name of ROLE_CELLS[role]) if (cells[name]?.eui === eui) return true
  return false
}

/** Which remote-party role, if any, holds this EUI in a cell the device has. */
export function roleOfOriginator(cells: TrustAnchorCells, eui: Eui64): RemotePartyRole | undefined {
  if (cells.supplierDs?.eui === eui || cells.supplierKa?.eui === eui) return 'supplier'
  if (cells.networkOperatorDs?.eui === eui || cells.networkOperatorKa?.eui === eui) return 'networkOperator'
  if (cells.transitionalCoSDs?.eui === eui) return 'transitionalCoS'
  if (cells.accessControlBrokerDs?.eui === eui || cells.accessControlBrokerKa?.eui === eui)
    return 'accessControlBroker'
  if (cells.recovery?.eui === eui) return 'recovery'
  if (cells.wanProviderDs?.eui === eui) return 'wanProvider'
  return undefined
}

/**
 * The key-agreement credential of the party with this EUI — the cell a response, an encrypted
 * read or a MACed alert to that party is keyed with — or undefined when the device holds none.
 */
export function keyAgreementCredential(cells: TrustAnchorCells, eui: Eui64): Credential | undefined {
  const role = roleOfOriginator(cells, eui)
  const cell =
    role === 'supplier'
      ? cells.supplierKa
      : role === 'networkOperator'
        ? cells.networkOperatorKa
        : role === 'accessControlBroker'
          ? cells.accessControlBrokerKa
          : undefined
  return cell?.eui === eui ? cell : undefined
}

/** The digital-signing cell of a role (root and recovery are signing cells themselves). */
export function signingCell(role: RemotePartyRole): CellName {
  return role === 'root' || role === 'recovery' ? role : cellName(role, 'digitalSignature')
}

const privateRefs = new Map<string, WeakMap<Uint8Array, PrivateKeyRef>>()

/**
 * The backend's key for one of the device's own scalars, cached on the scalar's array: the
 * array stays the same object through every state the device goes through, so the lookup on
 * each command is a WeakMap hit rather than an import.
 */
export function privateKeyOf(scalar: Uint8Array, backend: CryptoBackend): PrivateKeyRef {
  return perBackend(privateRefs, backend, scalar, importScalar)
}

const importScalar = (backend: CryptoBackend, scalar: Uint8Array) => backend.importPrivateKey(scalar)

/**
 * The two keys of a static ECDH with the party in a key-agreement cell. Normally the device's
 * own key-agreement private key and the cell's public key. A device built from a test keystore
 * that lacks its private key (the DCC's RTDS keystore has none for its devices) may instead
 * hold the remote parties' private keys (`keys.standIn`): static ECDH gives the same secret
 * either way round, so the device still checks every MAC itself.
 */
export function keyAgreement(
  keys: DeviceKeys,
  cell: Credential,
  backend: CryptoBackend,
  prepayment = false,
): { own: PrivateKeyRef; other: PublicKeyRef } | undefined {
  if (keys.ka) return { own: privateKeyOf(keys.ka, backend), other: publicKeyOf(cell, backend) }
  const peer = keys.standIn?.peers[`${cell.eui}${prepayment ? '-pp' : ''}`]
  if (!peer || !keys.standIn) return undefined
  return { own: privateKeyOf(peer, backend), other: backend.importPublicKey(keys.standIn.publicKey) }
}

/**
 * The two keys of a static ECDH with the party `eui` through its key-agreement cell — what a
 * response, an encrypted read or a MACed alert to that party is keyed with — or undefined when
 * the device holds no such cell (or no key to agree with it).
 */
export function keyAgreementWith(
  keys: DeviceKeys,
  cells: TrustAnchorCells,
  eui: Eui64,
  backend: CryptoBackend,
): { own: PrivateKeyRef; other: PublicKeyRef } | undefined {
  const cell = keyAgreementCredential(cells, eui)
  return cell && keyAgreement(keys, cell, backend)
}

/** A device's own keys: 32-byte private scalars. */
export interface DeviceKeys {
  /** Digital signing: responses to Critical commands and critical alerts. */
  ds: Uint8Array
  /** Key agreement: MACs and UTRNs. */
  ka?: Uint8Array
  /**
   * Test keystores only, when `ka` is unknown: the device's key-agreement public key and the
   * remote parties' key-agreement private keys by EUI (`<EUI>-pp` for a prepayment key).
   */
  standIn?: { publicKey: Uint8Array; peers: Record<string, Uint8Array> }
}

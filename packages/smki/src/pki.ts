/**
 * A complete test PKI in one folder, laid out as an RTDS keystore (so openKeystore reads it)
 * plus the CAs and a manifest:
 *   root.pem/.key, org-ca.pem/.key, device-ca.pem/.key   the root and the two issuing CAs
 *   <eui>-ds|ka|pp-ka.pem/.key                           Organisation and Device credentials
 *   tls/ca.pem/.key, tls/server.pem/.key                 the TLS CA and `dcc serve`'s certificate (tls.ts)
 *   tls/<eui>.pem/.key, tls/auditor.pem/.key             TLS client certificates: each DCC User, an auditor
 *   pki.json                                             the manifest (PkiManifest)
 *   revoked.json                                         the revocation list, once something is revoked
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, parseEui } from '@smetsim/core'
import { normaliseSerial, parseCertificate } from './certificate.ts'
import {
  type Credential,
  createDeviceCa,
  createOrganisationCa,
  createRootCa,
  issueDeviceCertificate,
  issueOrganisationCertificate,
  startOfDayUtc,
} from './issue.ts'
import { writeKeystoreEntry } from './keystore.ts'
import { roleCode, type SmkiRole } from './roles.ts'
import { createTlsCa, issueTlsClientCertificate, issueTlsServerCertificate, type TlsIdentity } from './tls.ts'

export const PKI_MANIFEST = 'pki.json'
export const REVOCATION_LIST = 'revoked.json'
/** The folder of the TLS credentials inside a PKI folder. */
export const TLS_DIR = 'tls'
/** The SMKI roles of the parties that are DCC Users, and so get a TLS client certificate. */
export const TLS_USER_ROLES: readonly SmkiRole[] = ['supplier', 'networkOperator', 'otherUser']
/** The name (CN) of the auditor's TLS client certificate. */
export const TLS_AUDITOR = 'auditor'
/** File stems of the CA credentials in a PKI folder. */
export const AUTHORITY_FILES = { root: 'root', organisationCa: 'org-ca', deviceCa: 'device-ca' } as const
export type Authority = keyof typeof AUTHORITY_FILES

/** The certificates a party can hold; prepaymentKeyAgreement is a supplier's top-up (UTRN) key. */
export type CredentialSlot = 'digitalSignature' | 'keyAgreement' | 'prepaymentKeyAgreement'

/** Files relative to the PKI folder, and the certificate's serial (normalised hex). */
export interface CredentialFiles {
  certificate: string
  privateKey: string
  serial: string
}

export interface PartyEntry {
  name: string
  role: SmkiRole
  roleCode: string
  eui: Eui64
  files: Partial<Record<CredentialSlot, CredentialFiles>>
}

export interface DeviceEntry {
  eui: Eui64
  files: Record<'digitalSignature' | 'keyAgreement', CredentialFiles>
}

/** A TLS client certificate and who it names. */
export interface TlsClientFiles extends CredentialFiles {
  identity: TlsIdentity
}

/** The TLS credentials of the DCC's HTTP API (tls.ts), files relative to the PKI folder. */
export interface TlsManifest {
  ca: CredentialFiles & { subject: string }
  server: CredentialFiles
  clients: TlsClientFiles[]
}

export interface PkiManifest {
  version: 1
  createdAt: string
  authorities: Record<Authority, CredentialFiles & { subject: string }>
  parties: PartyEntry[]
  devices: DeviceEntry[]
  /** Absent in a PKI made before the HTTP API took mutual TLS. */
  tls?: TlsManifest
}

export interface TestParty {
  name: string
  role: SmkiRole
  eui: Eui64
  slots: readonly CredentialSlot[]
}

const DS_KA: readonly CredentialSlot[] = ['digitalSignature', 'keyAgreement']
const SUPPLIER: readonly CredentialSlot[] = ['digitalSignature', 'keyAgreement', 'prepaymentKeyAgreement']
const DS: readonly CredentialSlot[] = ['digitalSignature']

/**
 * The remote parties of a test PKI, at the EUIs the DCC's RTDS and DCC Boxed use for the same
 * roles, so RTDS frames name parties this PKI has. Which certificates each holds follows the
 * trust anchor cells: recovery, transitional CoS and WAN provider sign only.
 */
export const TEST_PARTIES: readonly TestParty[] = [
  { name: 'SMETSIM SUPPLIER A', role: 'supplier', eui: parseEui('90B3D51F30010000'), slots: SUPPLIER },
  { name: 'SMETSIM SUPPLIER B', role: 'supplier', eui: parseEui('90B3D51F30030000'), slots: SUPPLIER },
  {
    name: 'SMETSIM NETWORK OPERATOR',
    role: 'networkOperator',
    eui: parseEui('90B3D51F30020000'),
    slots: DS_KA,
  },
  {
    name: 'DCC ACCESS CONTROL BROKER',
    role: 'accessControlBroker',
    eui: parseEui('90B3D51F30000002'),
    slots: DS_KA,
  },
  { name: 'DCC TRANSITIONAL COS', role: 'transitionalCoS', eui: parseEui('90B3D51F30000004'), slots: DS },
  { name: 'SMETSIM RECOVERY', role: 'recovery', eui: parseEui('90B3D51F30000001'), slots: DS },
  { name: 'SMETSIM WAN PROVIDER', role: 'wanProvider', eui: parseEui('90B3D51F30000007'), slots: DS },
  { name: 'SMETSIM OTHER USER', role: 'otherUser', eui: parseEui('90B3D51F30010009'), slots: DS_KA },
]

/** One remote party's Organisation credentials: signing, key agreement, and a supplier's top-up key. */
export interface PartyCredentials {
  eui: Eui64
  ds: Credential
  ka: Credential
  pp?: Credential
}

/**
 * A test PKI made in memory, nothing written: a root, an Organisation CA and the credentials of
 * the parties a device and the DCC meet most — suppliers A and B (with prepayment keys), the
 * network operator, the ACB and the transitional CoS party — at the TEST_PARTIES EUIs.
 */
export function createMemoryPki(): {
  root: Credential
  organisationCa: Credential
  parties: Record<'supplierA' | 'supplierB' | 'networkOperator' | 'acb' | 'cos', PartyCredentials>
} {
  const root = createRootCa()
  const organisationCa = createOrganisationCa(root)
  const party = (eui: string, prepayment = false): PartyCredentials => {
    const { role } = TEST_PARTIES.find((p) => p.eui === eui)!
    const issue = (usage: 'digitalSignature' | 'keyAgreement') =>
      issueOrganisationCertificate(organisationCa, { eui: eui as Eui64, role, usage })
    return {
      eui: eui as Eui64,
      ds: issue('digitalSignature'),
      ka: issue('keyAgreement'),
      ...(prepayment && { pp: issue('keyAgreement') }),
    }
  }
  return {
    root,
    organisationCa,
    parties: {
      supplierA: party('90B3D51F30010000', true),
      supplierB: party('90B3D51F30030000', true),
      networkOperator: party('90B3D51F30020000'),
      acb: party('90B3D51F30000002'),
      cos: party('90B3D51F30000004'),
    },
  }
}

export interface InitPkiOptions {
  /** Devices to issue DS and KA certificates (with private keys) for; any EUI spelling. */
  devices?: readonly string[]
  /** Replace an existing PKI in the folder, deleting the files its manifest lists. */
  force?: boolean
  /** Certificates are valid from midnight UTC of this day. Default: today. */
  now?: Date
  /** Called after each device. */
  onProgress?: (devicesDone: number, devicesTotal: number) => void
}

function serialOf(credential: Credential): string {
  return normaliseSerial(credential.certificate.serialNumber)
}

function writeAuthority(
  dir: string,
  which: Authority,
  credential: Credential,
): CredentialFiles & { subject: string } {
  const stem = AUTHORITY_FILES[which]
  writeFileSync(join(dir, `${stem}.pem`), credential.certificate.toString())
  const key = credential.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  writeFileSync(join(dir, `${stem}.key`), key, { mode: 0o600 })
  const { serial, subject } = parseCertificate(credential.certificate)
  return { certificate: `${stem}.pem`, privateKey: `${stem}.key`, serial, subject }
}

function writeCredential(dir: string, credential: Credential, slot: CredentialSlot): CredentialFiles {
  const files = writeKeystoreEntry(dir, credential.certificate, credential.privateKey, {
    prepayment: slot === 'prepaymentKeyAgreement',
  })
  return { certificate: files.certificate, privateKey: files.privateKey!, serial: serialOf(credential) }
}

function writeTlsCredential(dir: string, stem: string, credential: Credential): CredentialFiles {
  mkdirSync(join(dir, TLS_DIR), { recursive: true })
  const certificate = `${TLS_DIR}/${stem}.pem`
  const privateKey = `${TLS_DIR}/${stem}.key`
  writeFileSync(join(dir, certificate), credential.certificate.toString())
  writeFileSync(join(dir, privateKey), credential.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  })
  return { certificate, privateKey, serial: serialOf(credential) }
}

/** The TLS CA, the server certificate and a client certificate per DCC User party and the auditor. */
function writeTls(dir: string, parties: readonly PartyEntry[], notBefore: Date): TlsManifest {
  const ca = createTlsCa({ notBefore })
  const identities: [string, TlsIdentity][] = [
    ...parties
      .filter((p) => TLS_USER_ROLES.includes(p.role))
      .map((p): [string, TlsIdentity] => [p.eui.toLowerCase(), { kind: 'user', user: p.eui }]),
    [TLS_AUDITOR, { kind: 'auditor', name: TLS_AUDITOR }],
  ]
  return {
    ca: { ...writeTlsCredential(dir, 'ca', ca), subject: ca.certificate.subject },
    server: writeTlsCredential(dir, 'server', issueTlsServerCertificate(ca, { notBefore })),
    clients: identities.map(([stem, identity]) => ({
      ...writeTlsCredential(dir, stem, issueTlsClientCertificate(ca, identity, { notBefore })),
      identity,
    })),
  }
}

/** Every file a manifest names, relative to its folder. */
function manifestFiles(manifest: PkiManifest): string[] {
  const entries = [
    ...Object.values(manifest.authorities),
    ...manifest.parties.flatMap((p) => Object.values(p.files)),
    ...manifest.devices.flatMap((d) => Object.values(d.files)),
    ...(manifest.tls ? [manifest.tls.ca, manifest.tls.server, ...manifest.tls.clients] : []),
  ]
  return entries.flatMap((f) => [f.certificate, f.privateKey])
}

/**
 * Creates a test PKI in `dir` (made if missing): root, Organisation CA and Device CA, the
 * TEST_PARTIES' Organisation credentials and DS + KA credentials for each device. Refuses,
 * writing nothing, when the folder already holds a pki.json, unless `force`.
 */
export function initPki(dir: string, options: InitPkiOptions = {}): PkiManifest {
  // Check every input before touching the folder, so bad input changes nothing.
  const deviceEuis = [...new Set((options.devices ?? []).map(parseEui))]
  const clash = deviceEuis.find((eui) => TEST_PARTIES.some((p) => p.eui === eui))
  if (clash) throw new Error(`device EUI ${clash} is already a party's EUI in the test PKI`)
  const manifestPath = join(dir, PKI_MANIFEST)
  if (existsSync(manifestPath)) {
    if (!options.force)
      throw new Error(
        `${dir} already holds a PKI (${PKI_MANIFEST}); replacing it needs force (smetsim pki init --force)`,
      )
    let previous: PkiManifest | undefined
    try {
      previous = readPkiManifest(dir)
    } catch {
      // an unreadable manifest names no files to clear; it is overwritten below
    }
    for (const file of previous ? manifestFiles(previous) : []) rmSync(join(dir, file), { force: true })
  }

  mkdirSync(dir, { recursive: true })
  const notBefore = startOfDayUtc(options.now ?? new Date())
  const root = createRootCa({ notBefore })
  const organisationCa = createOrganisationCa(root, { notBefore })
  const deviceCa = createDeviceCa(root, { notBefore })
  const authorities = {
    root: writeAuthority(dir, 'root', root),
    organisationCa: writeAuthority(dir, 'organisationCa', organisationCa),
    deviceCa: writeAuthority(dir, 'deviceCa', deviceCa),
  }

  const parties = TEST_PARTIES.map((party): PartyEntry => {
    const files: PartyEntry['files'] = {}
    for (const slot of party.slots) {
      const usage = slot === 'digitalSignature' ? 'digitalSignature' : 'keyAgreement'
      const credential = issueOrganisationCertificate(organisationCa, { ...party, usage, notBefore })
      files[slot] = writeCredential(dir, credential, slot)
    }
    return { name: party.name, role: party.role, roleCode: roleCode(party.role), eui: party.eui, files }
  })

  const devices = deviceEuis.map((eui, i): DeviceEntry => {
    const issueFor = (usage: 'digitalSignature' | 'keyAgreement') =>
      writeCredential(dir, issueDeviceCertificate(deviceCa, { eui, usage, notBefore }), usage)
    const entry = {
      eui,
      files: { digitalSignature: issueFor('digitalSignature'), keyAgreement: issueFor('keyAgreement') },
    }
    options.onProgress?.(i + 1, deviceEuis.length)
    return entry
  })

  const manifest: PkiManifest = {
    version: 1,
    createdAt: new Date().toISOString(),
    authorities,
    parties,
    devices,
    tls: writeTls(dir, parties, notBefore),
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
  return manifest
}

/** Reads a PKI folder's pki.json; throws naming the file when it is missing or not a manifest. */
export function readPkiManifest(dir: string): PkiManifest {
  const path = join(dir, PKI_MANIFEST)
  let manifest: PkiManifest
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`)
  }
  if (manifest?.version !== 1 || !Array.isArray(manifest.parties) || !Array.isArray(manifest.devices))
    throw new Error(`${path}: not a version 1 PKI manifest`)
  return manifest
}

/** Loads one of the PKI's CAs with its private key, e.g. to issue more Device certificates. */
export function readAuthority(dir: string, which: Authority): Credential {
  const stem = join(dir, AUTHORITY_FILES[which])
  try {
    return {
      certificate: new X509Certificate(readFileSync(`${stem}.pem`)),
      privateKey: createPrivateKey(readFileSync(`${stem}.key`)),
    }
  } catch (e) {
    throw new Error(`${stem}.pem/.key: ${(e as Error).message}`)
  }
}

/** The TLS credentials of a PKI folder as PEM text, for a TLS server or client. */
export interface TlsFiles {
  ca: string
  server: { cert: string; key: string }
  clients: (TlsClientFiles & { cert: string; key: string })[]
}

/** Reads the PKI's TLS credentials; throws saying so when the PKI was made without them. */
export function readTlsFiles(dir: string, manifest: PkiManifest = readPkiManifest(dir)): TlsFiles {
  const tls = manifest.tls
  if (!tls)
    throw new Error(
      `${dir}: this PKI has no TLS credentials (made by an older smetsim pki init); make it again with --force`,
    )
  const read = (file: string) => readFileSync(join(dir, file), 'utf8')
  return {
    ca: read(tls.ca.certificate),
    server: { cert: read(tls.server.certificate), key: read(tls.server.privateKey) },
    clients: tls.clients.map((c) => ({ ...c, cert: read(c.certificate), key: read(c.privateKey) })),
  }
}

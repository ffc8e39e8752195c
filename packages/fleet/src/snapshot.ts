/**
 * Snapshot and restore a whole fleet as one CBOR document (cbor-x): the spec, the PKI (DER
 * certificates and PKCS #8 keys), every device (@smetsim/device's snapshotDevice), the DCC's
 * Registration Data, Smart Metering Inventory and Users, and the hubs when the seam can
 * snapshot them.
 *
 * What thousands of devices share is written once: each set of trust anchor cells (its
 * certificates once each), each prepayment configuration object and each tariff object. A
 * device's own snapshot carries an index into those tables instead; restoring shares them again
 * (credentials re-interned by certificate), so a restored fleet takes the memory the built one did.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import { err, ok, type Result } from '@smetsim/core'
import {
  type InventorySnapshot,
  RegistrationData,
  type RegistrationSnapshot,
  SmartMeteringInventory,
  UserDirectory,
  type UsersSnapshot,
} from '@smetsim/dcc'
import {
  type CellName,
  type Credential,
  credentialFromCertificate,
  type DeviceState,
  type PpmidState,
  type PrepaymentConfig,
  restoreDevice,
  snapshotDevice,
  type Tariff,
  type TrustAnchorCells,
} from '@smetsim/device'
import { createDeviceCa, type Credential as SmkiCredential } from '@smetsim/smki'
import { Encoder } from 'cbor-x'
import { assembleFleet, type Fleet, type HubSeam } from './build.ts'
import { premiseEui } from './identifiers.ts'
import type { FleetParty, FleetPartyRole, FleetPki } from './pki.ts'
import { compileSpec, premiseOf } from './premise.ts'
import { parseFleetSpec } from './spec.ts'

const FORMAT = 'smetsim-fleet'
const VERSION = 1

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

interface CredentialData {
  certificate: Uint8Array
  privateKey: Uint8Array
}

interface PartyData {
  eui: string
  role: FleetPartyRole
  name: string
  mpid?: string
  fuel?: 'electricity' | 'gas'
  ds: CredentialData
  ka?: CredentialData
  pp?: CredentialData
}

interface DeviceEntry {
  /** snapshotDevice of the state with its cells, and its shared config and tariff, left out. */
  state: Uint8Array
  cells: number
  /** Index into `configs` / `tariffs` (always: every device's goes in the tables). */
  config: number
  tariff: number
}

interface FleetSnapshot {
  format: typeof FORMAT
  version: typeof VERSION
  spec: unknown
  /** `deviceCa` absent in snapshots made before the fleet had one (restore makes one under the root). */
  pki: {
    root: CredentialData
    organisationCa: CredentialData
    deviceCa?: CredentialData
    parties: PartyData[]
  }
  certificates: Uint8Array[]
  cellSets: Partial<Record<CellName, number>>[]
  configs: PrepaymentConfig[]
  tariffs: Tariff[]
  esme: DeviceEntry[]
  gsme: (DeviceEntry | null)[]
  ppmid: (PpmidState | null)[]
  registration: RegistrationSnapshot
  inventory: InventorySnapshot
  users: UsersSnapshot
  hubs: Uint8Array[] | null
}

export class FleetSnapshotError extends Error {
  override name = 'FleetSnapshotError'
}

/** Numbers distinct objects by identity, in the order first seen. */
function table<T extends object>() {
  const index = new Map<T, number>()
  const items: T[] = []
  return {
    items,
    of(item: T): number {
      let i = index.get(item)
      if (i === undefined) {
        i = items.length
        index.set(item, i)
        items.push(item)
      }
      return i
    },
  }
}

const credentialData = (c: SmkiCredential): CredentialData => ({
  certificate: new Uint8Array(c.certificate.raw),
  privateKey: new Uint8Array(c.privateKey.export({ type: 'pkcs8', format: 'der' })),
})

/**
 * The fleet as CBOR. Throws FleetSnapshotError when the fleet has hubs whose seam cannot
 * snapshot them (nothing else can fail).
 */
export function snapshotFleet<H>(fleet: Fleet<H>): Uint8Array {
  if (fleet.hubs && !fleet.hubSeam?.snapshot)
    throw new FleetSnapshotError('the fleet has hubs, and its hub seam has no snapshot()')
  const certificates = table<Credential>()
  const cellSets = table<TrustAnchorCells>()
  const configs = table<PrepaymentConfig>()
  const tariffs = table<Tariff>()
  const entry = (d: DeviceState): DeviceEntry => ({
    state: snapshotDevice({ ...d, cells: {}, config: undefined as never, tariff: undefined as never }),
    cells: cellSets.of(d.cells),
    config: configs.of(d.config),
    tariff: tariffs.of(d.tariff),
  })
  const esme = fleet.esme.map(entry)
  const gsme = Array.from(fleet.gsme, (d) => (d ? entry(d) : null))
  const snapshot: FleetSnapshot = {
    format: FORMAT,
    version: VERSION,
    spec: fleet.spec,
    pki: pkiData(fleet.pki),
    cellSets: cellSets.items.map((cells) => {
      const out: Partial<Record<CellName, number>> = {}
      for (const [name, credential] of Object.entries(cells) as [CellName, Credential][])
        out[name] = certificates.of(credential)
      return out
    }),
    certificates: [], // filled below, once every cell set has been numbered
    configs: configs.items,
    tariffs: tariffs.items,
    esme,
    gsme,
    ppmid: Array.from(fleet.ppmid, (p) => p ?? null),
    registration: fleet.registration.snapshot(),
    inventory: fleet.inventory.snapshot(),
    users: fleet.users.snapshot(),
    hubs: fleet.hubs ? fleet.hubs.map((h) => fleet.hubSeam!.snapshot!(h)) : null,
  }
  snapshot.certificates = certificates.items.map((c) => c.certificate)
  return cbor.encode(snapshot)
}

export interface RestoreOptions<H> {
  /** Needed when the snapshot has hubs: the seam's `restore` brings each back. */
  hubs?: HubSeam<H>
}

/**
 * A fleet back from snapshotFleet's bytes. Never throws: anything that is not such a snapshot,
 * or does not hang together (a device in another premise's slot, a missing table entry), is an
 * error naming the problem.
 */
export function restoreFleet<H = never>(
  bytes: Uint8Array,
  options: RestoreOptions<H> = {},
): Result<Fleet<H>, FleetSnapshotError> {
  try {
    return ok(restore(bytes, options))
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    return err(
      e instanceof FleetSnapshotError ? e : new FleetSnapshotError(`not a fleet snapshot: ${message}`),
    )
  }
}

function restore<H>(bytes: Uint8Array, options: RestoreOptions<H>): Fleet<H> {
  const fail = (why: string): never => {
    throw new FleetSnapshotError(`not a fleet snapshot: ${why}`)
  }
  let data: FleetSnapshot
  try {
    data = cbor.decode(bytes)
  } catch (e) {
    return fail((e as Error).message)
  }
  if (data?.format !== FORMAT) fail(`expected format '${FORMAT}'`)
  if (data.version !== VERSION) fail(`version ${String(data.version)}, this build reads ${VERSION}`)
  const parsed = parseFleetSpec(data.spec)
  if (!parsed.ok) fail(parsed.error.message)
  const spec = parsed.ok ? parsed.value : fail('unreachable')
  const c = compileSpec(spec)
  const n = spec.premises
  for (const list of ['esme', 'gsme', 'ppmid'] as const)
    if (!Array.isArray(data[list]) || data[list].length !== n) fail(`${list}: expected ${n} entries`)
  if (data.hubs !== null && data.hubs !== undefined && (!Array.isArray(data.hubs) || data.hubs.length !== n))
    fail(`hubs: expected ${n} entries`)

  const pki = restorePki(data.pki)
  const credentials = data.certificates.map((der) => credentialFromCertificate(der))
  const cellSets = data.cellSets.map((set, k) => {
    const cells: TrustAnchorCells = {}
    for (const [name, i] of Object.entries(set) as [CellName, number][])
      cells[name] = credentials[i] ?? fail(`cell set ${k}: no certificate ${i}`)
    return Object.freeze(cells)
  })
  const shared = <T>(items: T[], i: number, what: string): T => items[i] ?? fail(`no ${what} ${i}`)
  const device = (e: DeviceEntry, i: number, type: 'ESME' | 'GSME'): DeviceState => {
    const state = restoreDevice(e.state)
    const expected = premiseEui(c.first, i, type)
    if (state.type !== type || state.eui !== expected)
      fail(`premise ${i}: a ${state.type} ${state.eui} in the slot of ${type} ${expected}`)
    return {
      ...state,
      cells: shared(cellSets, e.cells, 'cell set'),
      config: shared(data.configs, e.config, 'configuration'),
      tariff: shared(data.tariffs, e.tariff, 'tariff'),
    }
  }
  const esme = data.esme.map((e, i) => device(e, i, 'ESME'))
  const gsme = data.gsme.map((e, i) => (e ? device(e, i, 'GSME') : undefined))
  const ppmid = data.ppmid.map((p, i) => {
    if (!p) return undefined
    if (p.type !== 'PPMID' || p.eui !== premiseEui(c.first, i, 'PPMID')) fail(`premise ${i}: not its PPMID`)
    return p
  })
  let hubs: H[] | undefined
  if (data.hubs) {
    const seam = options.hubs?.restore ? options.hubs : fail('it has hubs: give a hub seam with restore()')
    hubs = data.hubs.map((h, i) => seam.restore!(h, premiseOf(c, i)))
  }
  return assembleFleet(c, pki, {
    esme,
    gsme,
    ppmid,
    hubs,
    hubSeam: options.hubs,
    registration: new RegistrationData(data.registration),
    inventory: new SmartMeteringInventory(data.inventory),
    users: new UserDirectory(data.users),
  })
}

/** A party with its credentials (ds, and ka and pp where it has them) mapped by `f`. */
function mapCredentials<A, B, P extends { ds: A; ka?: A; pp?: A }>(
  p: P,
  f: (c: A) => B,
): Omit<P, 'ds' | 'ka' | 'pp'> & { ds: B; ka?: B; pp?: B } {
  const { ds, ka, pp, ...rest } = p
  return { ...rest, ds: f(ds), ...(ka && { ka: f(ka) }), ...(pp && { pp: f(pp) }) }
}

/** A fleet PKI as plain data (DER certificates, PKCS #8 keys): the snapshot's form of it. */
export type FleetPkiData = FleetSnapshot['pki']

export function pkiData(pki: FleetPki): FleetPkiData {
  return {
    root: credentialData(pki.root),
    organisationCa: credentialData(pki.organisationCa),
    deviceCa: credentialData(pki.deviceCa),
    parties: [...pki.parties.values()].map((p) => mapCredentials(p, credentialData)),
  }
}

/** The PKI back from `pkiData`'s form; throws on anything that is not (callers catch). */
export function pkiFromData(data: FleetPkiData): FleetPki {
  return restorePki(data)
}

function restorePki(data: FleetSnapshot['pki']): FleetPki {
  const credential = (c: CredentialData): SmkiCredential => ({
    certificate: new X509Certificate(c.certificate),
    privateKey: createPrivateKey({
      key: Buffer.from(c.privateKey),
      format: 'der',
      type: 'pkcs8',
    }) as KeyObject,
  })
  const parties = new Map<FleetParty['eui'], FleetParty>()
  for (const p of data.parties) {
    const party = mapCredentials(p, credential) as FleetParty
    parties.set(party.eui, party)
  }
  const root = credential(data.root)
  return {
    root,
    organisationCa: credential(data.organisationCa),
    deviceCa: data.deviceCa ? credential(data.deviceCa) : createDeviceCa(root),
    parties,
  }
}

/**
 * Materialising a fleet: every premise's devices as @smetsim/device states, and the DCC's view of
 * them — Registration Data, the Smart Metering Inventory and the Users — from one spec and one
 * PKI. Devices are kept in arrays by premise index (an EUI finds its premise by arithmetic, see
 * identifiers.ts); the runner replaces a slot with the state a step returns.
 *
 * Device keys and install codes are drawn from the seed (draws.ts): no randomBytes, so the same
 * seed gives the same keys. Communications Hubs are made through `HubSeam`, which the runner
 * provides once the hub package exists; without one there are none, and nothing is counted
 * for them.
 */
import { type Eui64, parseEui, toHex } from '@smetsim/core'
import { RegistrationData, SmartMeteringInventory, type SmiStatus, UserDirectory } from '@smetsim/dcc'
import {
  createDevice,
  createPpmid,
  type DeviceKeys,
  type DeviceState,
  type PpmidState,
  stepPpmid,
} from '@smetsim/device'
import { normaliseSerial } from '@smetsim/smki'
import { ByteSlab, drawBytes, drawScalar } from './draws.ts'
import { type DeviceRole, locate } from './identifiers.ts'
import { createFleetPki, type FleetPki, installedCells, partyOf } from './pki.ts'
import { type CompiledSpec, compileSpec, type Premise, premiseOf } from './premise.ts'
import type { FleetSpec } from './spec.ts'

/** A premise's devices as made, handed to the hub seam. */
export interface PremiseDevices {
  esme: DeviceState
  gsme?: DeviceState
  ppmid?: PpmidState
}

/**
 * Where a Communications Hub (CHF and GPF) per premise is made. The hub package will provide
 * one; until then a fleet has no hubs.
 */
export interface HubSeam<H> {
  create(premise: Premise, devices: PremiseDevices): H
  /** For snapshotFleet: the hub's own snapshot. */
  snapshot?(hub: H): Uint8Array
  /** For restoreFleet: the hub back from its snapshot. */
  restore?(bytes: Uint8Array, premise: Premise): H
}

export interface BuildOptions<H> {
  /** A PKI made for this spec's parties before (createFleetPki, or a restored fleet's); default a new one. */
  pki?: FleetPki
  hubs?: HubSeam<H>
  /** Called every `progressEvery` premises (default 10 000) and at the end. */
  onProgress?(built: number, total: number): void
  progressEvery?: number
}

export interface Fleet<H = never> {
  readonly spec: FleetSpec
  readonly pki: FleetPki
  readonly size: number
  /** Premise i as the spec describes it (recomputed, not stored). */
  premise(i: number): Premise | undefined
  /** The devices by premise index: an ESME at every premise, a GSME and PPMID where there is one. */
  readonly esme: DeviceState[]
  readonly gsme: (DeviceState | undefined)[]
  readonly ppmid: (PpmidState | undefined)[]
  /** One per premise when built with a hub seam; undefined otherwise (hubs not yet built). */
  readonly hubs: H[] | undefined
  /** The seam the hubs were made with (snapshotFleet uses its `snapshot`). */
  readonly hubSeam: HubSeam<H> | undefined
  readonly registration: RegistrationData
  readonly inventory: SmartMeteringInventory
  readonly users: UserDirectory
  /** Which premise and role an EUI is, if it is one of the fleet's devices. */
  locate(eui: string): { premise: number; role: DeviceRole } | undefined
  /** The current state of the ESME, GSME or PPMID with this EUI. */
  device(eui: string): DeviceState | PpmidState | undefined
  /** Puts a device's new state in its slot; false when the fleet has no such device. */
  replaceDevice(state: DeviceState | PpmidState): boolean
}

/** A meter's own secrets, drawn from the seed: signing and key agreement scalars, install code. */
export interface MeterSecrets {
  keys: DeviceKeys
  installCode: Uint8Array
}

const KEY_LABELS = { ESME: ['esme-ds', 'esme-ka'], GSME: ['gsme-ds', 'gsme-ka'] } as const

/**
 * The keys and install code of premise i's ESME or GSME; with `slab`, as views of its buffers
 * (what a fleet keeps for every meter: see ByteSlab).
 */
export function meterSecrets(
  c: CompiledSpec,
  i: number,
  role: 'ESME' | 'GSME',
  slab?: ByteSlab,
): MeterSecrets {
  const [ds, ka] = KEY_LABELS[role]
  return {
    keys: { ds: drawScalar(c.key, i, ds, slab), ka: drawScalar(c.key, i, ka, slab) },
    installCode: meterInstallCode(c, i, role, slab),
  }
}

// The draw 'install-codes' is the ESME's install code, then the GSME's.
const CODES = new Uint8Array(32)

/** The install code of premise i's ESME or GSME: a new array, or a view of `slab`. */
function meterInstallCode(c: CompiledSpec, i: number, role: 'ESME' | 'GSME', slab?: ByteSlab): Uint8Array {
  drawBytes(c.key, i, 'install-codes', CODES)
  const out = slab ? slab.take(16) : new Uint8Array(16)
  out.set(role === 'ESME' ? CODES.subarray(0, 16) : CODES.subarray(16, 32))
  return out
}

/** The install code of premise i's PPMID (the PPMID model holds no keys). */
export function ppmidInstallCode(c: CompiledSpec, i: number): Uint8Array {
  return drawBytes(c.key, i, 'ppmid-install').slice(0, 16)
}

/** The key agreement scalar of a meter (what its KA certificate's public key is made from). */
export function meterKaScalar(c: CompiledSpec, i: number, role: 'ESME' | 'GSME'): Uint8Array {
  return drawScalar(c.key, i, KEY_LABELS[role][1])
}

export function buildFleet<H = never>(spec: FleetSpec, options: BuildOptions<H> = {}): Fleet<H> {
  const c = compileSpec(spec)
  const s = c.spec
  const pki = options.pki ?? createFleetPki(s)
  const registration = new RegistrationData()
  const users = fleetUsers(s, pki, registration)
  const inventory = new SmartMeteringInventory()
  const n = s.premises
  const esme: DeviceState[] = new Array(n)
  const gsme: (DeviceState | undefined)[] = new Array(n)
  const ppmid: (PpmidState | undefined)[] = new Array(n)
  const hubs: H[] | undefined = options.hubs ? new Array(n) : undefined
  const every = options.progressEvery ?? 10_000
  const slab = new ByteSlab()
  // One Date for every record's time: the DCC's stores take a Date as it is, where a string is
  // parsed again for each of a premise's ten or so records (registration/time.ts isoTime).
  const registeredFrom = new Date(Date.parse(s.registeredFrom))

  for (let i = 0; i < n; i++) {
    const p = premiseOf(c, i)
    const made = makeDevices(c, pki, p, slab)
    esme[i] = made.esme
    gsme[i] = made.gsme
    ppmid[i] = made.ppmid
    registerPremise(c, p, registration, inventory, made, registeredFrom)
    if (hubs) hubs[i] = options.hubs!.create(p, made)
    if (options.onProgress && (i + 1) % every === 0) options.onProgress(i + 1, n)
  }
  options.onProgress?.(n, n)
  return assembleFleet(c, pki, {
    esme,
    gsme,
    ppmid,
    hubs,
    hubSeam: options.hubs,
    registration,
    inventory,
    users,
  })
}

/**
 * Premise p's ESME or GSME, fresh. (Module-level functions and one literal, not closures and
 * spreads: it runs for every meter of a fleet.)
 */
function makeMeter(
  c: CompiledSpec,
  pki: FleetPki,
  p: Premise,
  role: 'ESME' | 'GSME',
  eui: Eui64,
  supply: NonNullable<Premise['gas']>,
  operator: number,
  slab: ByteSlab | undefined,
): DeviceState {
  const [ds, ka] = KEY_LABELS[role]
  return createDevice({
    now: c.startMs,
    paymentMode: p.paymentMode,
    commissioned: p.install === 'commissioned',
    type: role,
    eui,
    cells: installedCells(pki, p.supplierEui, c.spec.networkOperators[operator]!.eui),
    keys: { ds: drawScalar(c.key, p.index, ds, slab), ka: drawScalar(c.key, p.index, ka, slab) },
    installCode: meterInstallCode(c, p.index, role, slab),
    tariff: supply.tariff,
    watts: supply.watts,
    seed: supply.loadSeed,
    meterBalance: supply.meterBalance,
  })
}

/** Premise p's devices, fresh. */
export function makeDevices(c: CompiledSpec, pki: FleetPki, p: Premise, slab?: ByteSlab): PremiseDevices {
  const made: PremiseDevices = {
    esme: makeMeter(c, pki, p, 'ESME', p.esme, p.electricity, p.electricityNetworkOperator, slab),
  }
  if (p.gsme && p.gas) made.gsme = makeMeter(c, pki, p, 'GSME', p.gsme, p.gas, p.gasNetworkOperator!, slab)
  if (p.ppmid) {
    let ppmid = stepPpmid(createPpmid(p.ppmid), { kind: 'pair', meter: p.esme, meterType: 'ESME' }).state
    if (p.gsme) ppmid = stepPpmid(ppmid, { kind: 'pair', meter: p.gsme, meterType: 'GSME' }).state
    made.ppmid = ppmid
  }
  return made
}

/** The DCC Users: each supplier (IS, GS) and network operator (ED or GT) with its certificate serials. */
function fleetUsers(s: FleetSpec, pki: FleetPki, registration: RegistrationData): UserDirectory {
  const users = new UserDirectory()
  const serials = (eui: string, role: 'supplier' | 'networkOperator') => {
    const party = partyOf(pki, eui, role)
    return [party.ds, party.ka, party.pp].flatMap((x) =>
      x ? [normaliseSerial(x.certificate.serialNumber)] : [],
    )
  }
  for (const x of s.suppliers) {
    users.add({ userId: x.eui, name: x.name, roles: ['IS', 'GS'], certificates: serials(x.eui, 'supplier') })
    registration.assignMpid(x.mpid, x.eui, s.registeredFrom)
  }
  for (const x of s.networkOperators) {
    const role = x.fuel === 'electricity' ? 'ED' : 'GT'
    users.add({ userId: x.eui, name: x.name, roles: [role], certificates: serials(x.eui, 'networkOperator') })
    registration.assignMpid(x.mpid, x.eui, s.registeredFrom)
  }
  return users
}

const SMI_STATUS: Record<Premise['install'], SmiStatus> = {
  commissioned: 'Commissioned',
  installedNotCommissioned: 'InstalledNotCommissioned',
}

/** Premise p in Registration Data and the Smart Metering Inventory. */
function registerPremise(
  c: CompiledSpec,
  p: Premise,
  registration: RegistrationData,
  inventory: SmartMeteringInventory,
  devices: PremiseDevices,
  at: Date,
): void {
  const s = c.spec
  const supplier = s.suppliers[p.supplier]!
  registration.registerSupplier(p.mpan, supplier.mpid, at)
  registration.registerNetworkOperator(p.mpan, s.networkOperators[p.electricityNetworkOperator]!.mpid, at)
  if (p.mprn && p.gasNetworkOperator !== undefined) {
    registration.registerSupplier(p.mprn, supplier.mpid, at)
    registration.registerNetworkOperator(p.mprn, s.networkOperators[p.gasNetworkOperator]!.mpid, at)
  }
  const status = SMI_STATUS[p.install]
  const commsHub = p.chf
  const installingSupplier = p.supplierEui
  inventory.add({ deviceId: p.chf, type: 'CHF', status, at })
  inventory.add({ deviceId: p.gpf, type: 'GPF', commsHub, status, at })
  inventory.add({
    deviceId: p.esme,
    type: 'ESME',
    mpxn: p.mpan,
    commsHub,
    status,
    at,
    installCode: toHex(devices.esme.installCode!),
    installingSupplier,
  })
  if (p.gsme && devices.gsme)
    inventory.add({
      deviceId: p.gsme,
      type: 'GSME',
      mpxn: p.mprn,
      commsHub,
      status,
      at,
      installCode: toHex(devices.gsme.installCode!),
      installingSupplier,
    })
  if (p.ppmid)
    inventory.add({
      deviceId: p.ppmid,
      type: 'PPMID',
      commsHub,
      status,
      at,
      installCode: toHex(ppmidInstallCode(c, p.index)),
      installingSupplier,
    })
}

export interface FleetParts<H> {
  esme: DeviceState[]
  gsme: (DeviceState | undefined)[]
  ppmid: (PpmidState | undefined)[]
  hubs: H[] | undefined
  hubSeam: HubSeam<H> | undefined
  registration: RegistrationData
  inventory: SmartMeteringInventory
  users: UserDirectory
}

/** The Fleet object around its parts (for buildFleet and restoreFleet). */
export function assembleFleet<H>(c: CompiledSpec, pki: FleetPki, parts: FleetParts<H>): Fleet<H> {
  const s = c.spec
  const where = (eui: string) => {
    let id: string
    try {
      id = parseEui(eui)
    } catch {
      return undefined
    }
    return locate(c.first, s.premises, id)
  }
  const slot = (eui: string) => {
    const at = where(eui)
    if (!at) return undefined
    if (at.role === 'ESME') return { list: parts.esme, at }
    if (at.role === 'GSME') return { list: parts.gsme, at }
    if (at.role === 'PPMID') return { list: parts.ppmid, at }
    return undefined
  }
  return {
    spec: s,
    pki,
    size: s.premises,
    premise: (i) => (Number.isInteger(i) && i >= 0 && i < s.premises ? premiseOf(c, i) : undefined),
    ...parts,
    locate: where,
    device(eui) {
      const x = slot(eui)
      return x?.list[x.at.premise]
    },
    replaceDevice(state) {
      const x = slot(state.eui)
      const current = x?.list[x.at.premise]
      if (!x || !current || current.type !== state.type) return false
      ;(x.list as (DeviceState | PpmidState | undefined)[])[x.at.premise] = state
      return true
    },
  }
}

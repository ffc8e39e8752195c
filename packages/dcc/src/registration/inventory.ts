/**
 * The Smart Metering Inventory (SMI): every device the DCC knows, its type, MPxN, SMI status
 * and install code. Status changes follow SMI_TRANSITIONS; any other change is refused with an
 * error naming the device and both statuses.
 */
import { type Eui64, fromHex, parseEui, toHex } from '@smetsim/core'
import { isoTime, type When } from './time.ts'

export const DEVICE_TYPES = ['ESME', 'GSME', 'CHF', 'GPF', 'PPMID', 'HCALCS', 'IHD', 'CAD'] as const
export type SmiDeviceType = (typeof DEVICE_TYPES)[number]

export const SMI_STATUSES = [
  'Pending',
  'Whitelisted',
  'InstalledNotCommissioned',
  'Commissioned',
  'Decommissioned',
  'Withdrawn',
  'Suspended',
  'Recovery',
  'Recovered',
] as const
export type SmiStatus = (typeof SMI_STATUSES)[number]

/**
 * Allowed SMI status changes. DOMAIN 2.1 gives the main line Pending → Whitelisted →
 * InstalledNotCommissioned → Commissioned → Decommissioned | Withdrawn | Suspended | Recovery |
 * Recovered; the other edges are modelling assumptions (unconfirmed): a device can be withdrawn
 * before it is commissioned, taken off the whitelist again, decommissioned once installed,
 * return from Suspended (firmware put right) or Recovered to Commissioned; Recovery leads to
 * Recovered. Decommissioned and Withdrawn are final.
 */
export const SMI_TRANSITIONS: Readonly<Record<SmiStatus, readonly SmiStatus[]>> = {
  Pending: ['Whitelisted', 'InstalledNotCommissioned', 'Withdrawn'],
  Whitelisted: ['InstalledNotCommissioned', 'Pending', 'Withdrawn'],
  InstalledNotCommissioned: ['Commissioned', 'Decommissioned', 'Withdrawn', 'Suspended'],
  Commissioned: ['Decommissioned', 'Withdrawn', 'Suspended', 'Recovery'],
  Suspended: ['Commissioned', 'Decommissioned'],
  Recovery: ['Recovered', 'Decommissioned'],
  Recovered: ['Commissioned', 'Decommissioned'],
  Decommissioned: [],
  Withdrawn: [],
}

/** The Communications Hub functions own the HAN whitelist, so they are never on one (unconfirmed). */
const HUB_TYPES: readonly SmiDeviceType[] = ['CHF', 'GPF']

/** Why `type` may not go from `from` to `to`, or undefined if it may. Pure. */
export function transitionProblem(type: SmiDeviceType, from: SmiStatus, to: SmiStatus): string | undefined {
  if (!SMI_TRANSITIONS[from].includes(to)) {
    const allowed = SMI_TRANSITIONS[from]
    return `SMI status ${from} → ${to} is not allowed (from ${from}: ${allowed.length ? allowed.join(', ') : 'none, it is final'})`
  }
  const hub = HUB_TYPES.includes(type)
  if (hub && to === 'Whitelisted') return `a ${type} is never Whitelisted: it keeps the HAN whitelist`
  if (!hub && from === 'Pending' && to === 'InstalledNotCommissioned')
    return `a ${type} must be Whitelisted (SR 8.11) before it is InstalledNotCommissioned`
  return undefined
}

export interface DeviceRecord {
  deviceId: Eui64
  type: SmiDeviceType
  /** The MPAN (ESME) or MPRN (GSME) the device serves. */
  mpxn?: string
  /** An ESME's export MPAN, which an Export Supplier's eligibility is checked against (unconfirmed). */
  exportMpan?: string
  /** The CHF whose HAN the device is on (for a GPF, the CHF it shares a hub with). */
  commsHub?: Eui64
  status: SmiStatus
  /** ISO time of the last status change. */
  statusSince: string
  /** The 16-byte install code (32 upper-case hex digits) that SR 8.11 needs to whitelist the device. */
  installCode?: string
  /** The supplier User that installed the device and holds its install code (MP121). */
  installingSupplier?: Eui64
  /** When the install code was supplied to the DCC (ISO 8601; the install code register, MP121). */
  installCodeSuppliedAt?: string
}

export interface NewDevice {
  deviceId: string
  type: SmiDeviceType
  mpxn?: string
  exportMpan?: string
  commsHub?: string
  status?: SmiStatus
  installCode?: string
  installingSupplier?: string
  /** When the install code was supplied; default `at` when `installCode` is given. */
  installCodeSuppliedAt?: When
  at: When
}

export interface InventorySnapshot {
  version: 1
  devices: DeviceRecord[]
}

export class InventoryError extends Error {
  override name = 'InventoryError'
}

export class SmartMeteringInventory {
  private readonly devices = new Map<Eui64, DeviceRecord>()
  /**
   * The devices on each CHF's HAN and at each MPxN (import or export), kept with every change so
   * that `devicesOnHub` and `devicesAt` (eligibility asks one for each Service Request to a hub
   * device) do not scan the whole inventory: with a scan, a fleet's requests cost O(devices) each.
   */
  private readonly onHub = new Index()
  private readonly atMpxn = new Index()
  private readonly atExportMpan = new Index()
  /** Each device's place in the order they were added. */
  private readonly added = new Map<Eui64, number>()

  constructor(snapshot?: InventorySnapshot) {
    if (!snapshot) return
    if (snapshot.version !== 1 || !Array.isArray(snapshot.devices))
      throw new InventoryError('inventory snapshot: expected { version: 1, devices: [...] }')
    for (const d of snapshot.devices) {
      if (!(SMI_STATUSES as readonly string[]).includes(d.status))
        throw new InventoryError(
          `inventory snapshot: device ${d.deviceId} has unknown SMI status '${d.status}'`,
        )
      this.add({ ...d, at: d.statusSince })
    }
  }

  /** Adds a device (Pending unless said otherwise, as SR 12.2 pre-notification does). */
  add(device: NewDevice): DeviceRecord {
    const deviceId = parseEui(device.deviceId)
    if (this.devices.has(deviceId)) throw new InventoryError(`device ${deviceId} is already in the inventory`)
    if (!(DEVICE_TYPES as readonly string[]).includes(device.type))
      throw new InventoryError(`device ${deviceId}: unknown device type '${device.type}'`)
    const record: DeviceRecord = {
      deviceId,
      type: device.type,
      status: device.status ?? 'Pending',
      statusSince: isoTime(device.at, 'at'),
    }
    this.devices.set(deviceId, record)
    this.added.set(deviceId, this.added.size)
    try {
      this.update(deviceId, {
        ...device,
        ...(device.installCode !== undefined &&
          device.installCodeSuppliedAt === undefined && { installCodeSuppliedAt: device.at }),
      })
    } catch (e) {
      this.devices.delete(deviceId)
      this.added.delete(deviceId)
      throw e
    }
    return this.get(deviceId)!
  }

  /** Changes fields other than the status. */
  update(
    deviceId: string,
    changes: Partial<
      Pick<
        NewDevice,
        'mpxn' | 'exportMpan' | 'commsHub' | 'installCode' | 'installingSupplier' | 'installCodeSuppliedAt'
      >
    >,
  ): DeviceRecord {
    const record = this.record(deviceId)
    const next = { ...record }
    if (changes.mpxn !== undefined) next.mpxn = checkMpxn(changes.mpxn)
    if (changes.exportMpan !== undefined) next.exportMpan = checkMpxn(changes.exportMpan)
    if (changes.commsHub !== undefined) next.commsHub = parseEui(changes.commsHub)
    if (changes.installCode !== undefined) next.installCode = normaliseInstallCode(changes.installCode)
    if (changes.installingSupplier !== undefined)
      next.installingSupplier = parseEui(changes.installingSupplier)
    if (changes.installCodeSuppliedAt !== undefined)
      next.installCodeSuppliedAt = isoTime(changes.installCodeSuppliedAt, 'installCodeSuppliedAt')
    this.devices.set(record.deviceId, next)
    this.onHub.move(record.deviceId, record.commsHub, next.commsHub)
    this.atMpxn.move(record.deviceId, record.mpxn, next.mpxn)
    this.atExportMpan.move(record.deviceId, record.exportMpan, next.exportMpan)
    return { ...next }
  }

  /** Moves a device to a new SMI status; a change SMI_TRANSITIONS does not allow throws an InventoryError. */
  setStatus(deviceId: string, to: SmiStatus, at: When): DeviceRecord {
    const record = this.record(deviceId)
    if (!(SMI_STATUSES as readonly string[]).includes(to))
      throw new InventoryError(`device ${record.deviceId}: unknown SMI status '${to}'`)
    const problem = transitionProblem(record.type, record.status, to)
    if (problem) throw new InventoryError(`device ${record.deviceId} (${record.type}): ${problem}`)
    const next = { ...record, status: to, statusSince: isoTime(at, 'at') }
    this.devices.set(record.deviceId, next)
    return { ...next }
  }

  get(deviceId: string): DeviceRecord | undefined {
    const record = this.devices.get(parseEui(deviceId))
    return record && { ...record }
  }

  /** Devices serving an MPxN (as import or export MPAN). */
  devicesAt(mpxn: string): DeviceRecord[] {
    return this.records(new Set([...this.atMpxn.of(mpxn), ...this.atExportMpan.of(mpxn)]))
  }

  /** Devices on a CHF's HAN. */
  devicesOnHub(chf: string): DeviceRecord[] {
    return this.records(this.onHub.of(parseEui(chf)))
  }

  get size(): number {
    return this.devices.size
  }

  snapshot(): InventorySnapshot {
    return { version: 1, devices: [...this.devices.values()].map((d) => ({ ...d })) }
  }

  /** Copies of the records of `ids`, in the order the devices were added (the inventory's order). */
  private records(ids: ReadonlySet<Eui64>): DeviceRecord[] {
    return [...ids]
      .sort((a, b) => this.added.get(a)! - this.added.get(b)!)
      .map((id) => ({ ...this.devices.get(id)! }))
  }

  private record(deviceId: string): DeviceRecord {
    const record = this.devices.get(parseEui(deviceId))
    if (!record) throw new InventoryError(`device ${parseEui(deviceId)} is not in the inventory`)
    return record
  }
}

/** The devices under each key of one field (a CHF, an MPxN): a device is under at most one. */
class Index {
  private readonly under = new Map<string, Set<Eui64>>()
  private static readonly NONE: ReadonlySet<Eui64> = new Set()

  of(key: string): ReadonlySet<Eui64> {
    return this.under.get(key) ?? Index.NONE
  }

  /** `device` was under `from` (if anything) and is now under `to` (if anything). */
  move(device: Eui64, from: string | undefined, to: string | undefined): void {
    if (from === to) return
    if (from !== undefined) {
      const ids = this.under.get(from)
      ids?.delete(device)
      if (ids?.size === 0) this.under.delete(from)
    }
    if (to !== undefined) {
      const ids = this.under.get(to)
      if (ids) ids.add(device)
      else this.under.set(to, new Set([device]))
    }
  }
}

function checkMpxn(mpxn: string): string {
  if (!/^\d{6,10}$|^\d{13}$/.test(mpxn)) throw new InventoryError(`not an MPAN or MPRN: '${mpxn}'`)
  return mpxn
}

/** 16 bytes as 32 upper-case hex digits; separators and case are free on input. */
export function normaliseInstallCode(code: string): string {
  let bytes: Uint8Array
  try {
    bytes = fromHex(code)
  } catch (e) {
    throw new InventoryError(`install code: ${(e as Error).message}`)
  }
  if (bytes.length !== 16) throw new InventoryError(`an install code is 16 bytes, got ${bytes.length}`)
  return toHex(bytes)
}

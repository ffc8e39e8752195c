/**
 * The install code register (MP121). A device's 16-byte install code is what SR 8.11 (Update HAN
 * Device Log) gives the Communications Hub so the device can join its HAN. The installing
 * Supplier has it; after a Change of Supplier while the device is still InstalledNotCommissioned
 * the gaining Supplier does not, so its 8.11 fails (today the only fix is a site visit). MP121
 * proposes the installing Supplier supplies it; here the DCC keeps the code the installing
 * Supplier lodged (who, when: in the Smart Metering Inventory record) and hands it out:
 *
 * - to the installing Supplier that lodged it, always;
 * - with `mp121` on, also to the supplier registered for the device at the time (an Eligible
 *   User in a supplier role it holds: IS or ES for an electricity MPAN, GS for gas; a CHF,
 *   PPMID … through the meters on its hub, as `isEligibleUser` decides);
 * - to nobody else. With `mp121` off (the SEC today) only the installing Supplier gets it.
 *
 * The MP121 route is "in writing or other agreed means"; the automated SMI route was deferred,
 * so this API (not a DUIS Service Request) is a modelling choice. Error codes for a device are
 * DUIS codes: E19 unknown device, E4 not eligible, E1 not a supplier User, and SR 8.11's
 * E081101 (NO_INSTALL_CODE_CODE: which member of the E0811nn family, unconfirmed) when no code is
 * held or the code given is not 16 bytes.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import { NO_INSTALL_CODE_CODE } from '../duis-codes.ts'
import { type DuisRole, SUPPLIER_ROLES } from '../roles.ts'
import { isEligibleUser } from './eligibility.ts'
import { normaliseInstallCode, type SmartMeteringInventory } from './inventory.ts'
import type { RegistrationData } from './registration.ts'
import { isoTime, type When } from './time.ts'

/** Whether the gaining (registered) supplier may obtain the code. Read at every call: a scenario may flip it. */
export interface InstallCodeSettings {
  /** MP121 on: the supplier registered for the device may obtain the installing Supplier's code. */
  mp121: boolean
}

export const DEFAULT_INSTALL_CODE_SETTINGS: InstallCodeSettings = Object.freeze({ mp121: false })

export interface InstallCodeSources {
  registration: RegistrationData
  inventory: SmartMeteringInventory
  /** The User register: which roles a User holds. */
  users: { get(userId: string): { roles: readonly DuisRole[] } | undefined }
}

export interface InstallCodeEntry {
  deviceId: Eui64
  /** 32 upper-case hex digits. */
  installCode: string
  /** The installing Supplier that lodged it. */
  suppliedBy?: Eui64
  /** When it was lodged (ISO 8601). */
  suppliedAt?: string
}

export type InstallCodeAnswer =
  | ({
      ok: true /** why the User may have it */
      grantedAs: 'installing-supplier' | 'registered-supplier'
    } & InstallCodeEntry)
  | { ok: false; deviceId: string; code: string; reason: string }

/** The code held for a device, or undefined. */
export function installCodeEntry(
  inventory: SmartMeteringInventory,
  deviceId: string,
): InstallCodeEntry | undefined {
  const d = inventory.get(deviceId)
  if (!d?.installCode) return undefined
  return {
    deviceId: d.deviceId,
    installCode: d.installCode,
    ...(d.installingSupplier && { suppliedBy: d.installingSupplier }),
    ...(d.installCodeSuppliedAt && { suppliedAt: d.installCodeSuppliedAt }),
  }
}

/**
 * The installing Supplier lodges a device's install code. It must be a supplier User eligible
 * for the device then, or the installing Supplier already on record. Returns the entry or the
 * refusal (nothing changes on a refusal).
 */
export function lodgeInstallCode(
  sources: InstallCodeSources,
  user: string,
  deviceId: string,
  installCode: string,
  at: When,
): InstallCodeAnswer {
  const who = readUser(user)
  const id = readDevice(deviceId)
  if (!id) return refuse(String(deviceId), 'E19', `'${String(deviceId)}' is not a Device ID (EUI-64)`)
  if (!who.ok) return refuse(id, 'E1', who.reason)
  const device = sources.inventory.get(id)
  if (!device) return refuse(id, 'E19', `device ${id} is not in the Smart Metering Inventory`)
  let code: string
  try {
    code = normaliseInstallCode(installCode)
  } catch (e) {
    return refuse(id, NO_INSTALL_CODE_CODE, (e as Error).message)
  }
  const when = isoTime(at, 'at')
  const installer = device.installingSupplier === who.eui
  if (!installer && !registeredSupplier(sources, who.eui, id, when))
    return refuse(
      id,
      'E4',
      `User ${who.eui} is neither the installing supplier nor a supplier registered for device ${id}`,
    )
  sources.inventory.update(id, {
    installCode: code,
    installingSupplier: who.eui,
    installCodeSuppliedAt: when,
  })
  return { ok: true, grantedAs: 'installing-supplier', ...installCodeEntry(sources.inventory, id)! }
}

/** One device's install code for `user` at `at`, or why not. */
export function obtainInstallCode(
  sources: InstallCodeSources,
  settings: InstallCodeSettings,
  user: string,
  deviceId: string,
  at: When,
): InstallCodeAnswer {
  return obtainInstallCodes(sources, settings, user, [deviceId], at)[0]!
}

/** Install codes for many devices, one answer per device in the order asked (a per-device error for each refusal). */
export function obtainInstallCodes(
  sources: InstallCodeSources,
  settings: InstallCodeSettings,
  user: string,
  deviceIds: readonly string[],
  at: When,
): InstallCodeAnswer[] {
  const who = readUser(user)
  const when = isoTime(at, 'at')
  const supplierRoles = who.ok
    ? (sources.users.get(who.eui)?.roles ?? []).filter((r) => SUPPLIER_ROLES.includes(r))
    : []
  return deviceIds.map((text): InstallCodeAnswer => {
    const id = readDevice(text)
    if (!id) return refuse(String(text), 'E19', `'${String(text)}' is not a Device ID (EUI-64)`)
    if (!who.ok) return refuse(id, 'E1', who.reason)
    if (!sources.users.get(who.eui)) return refuse(id, 'E1', `${who.eui} is not a DCC User`)
    if (supplierRoles.length === 0) return refuse(id, 'E1', `User ${who.eui} holds no supplier role`)
    const device = sources.inventory.get(id)
    if (!device) return refuse(id, 'E19', `device ${id} is not in the Smart Metering Inventory`)
    const entry = installCodeEntry(sources.inventory, id)
    if (entry?.suppliedBy === who.eui) return { ok: true, grantedAs: 'installing-supplier', ...entry }
    if (!settings.mp121)
      return refuse(id, 'E4', `only the installing supplier has device ${id}'s install code (MP121 is off)`)
    if (!registeredSupplier(sources, who.eui, id, when))
      return refuse(id, 'E4', `User ${who.eui} is not a supplier registered for device ${id} at ${when}`)
    if (!entry) return refuse(id, NO_INSTALL_CODE_CODE, `no install code of device ${id} has been supplied`)
    return { ok: true, grantedAs: 'registered-supplier', ...entry }
  })
}

function registeredSupplier(sources: InstallCodeSources, user: Eui64, deviceId: string, at: string): boolean {
  const roles = (sources.users.get(user)?.roles ?? []).filter((r) => SUPPLIER_ROLES.includes(r))
  return roles.some((role) => isEligibleUser(sources, user, role, deviceId, at).eligible)
}

function readUser(user: string): { ok: true; eui: Eui64 } | { ok: false; reason: string } {
  try {
    return { ok: true, eui: parseEui(String(user)) }
  } catch {
    return { ok: false, reason: `'${String(user)}' is not a User ID (EUI-64)` }
  }
}

function readDevice(deviceId: string): Eui64 | undefined {
  try {
    return parseEui(String(deviceId))
  } catch {
    return undefined
  }
}

function refuse(deviceId: string, code: string, reason: string): InstallCodeAnswer {
  return { ok: false, deviceId, code, reason }
}

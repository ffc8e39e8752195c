/**
 * The DUIS Eligible User check (response code E4): is this User, in this role, entitled to
 * send Service Requests to this device at this time, according to Registration Data?
 *
 * - IS, ES, GS (supplier roles): the User must own the MPID registered as supplier of the
 *   device's MPxN at `at` (IS and GS the import MPAN or the MPRN, ES the export MPAN).
 * - ED, GT (network roles): the User must own the MPID registered as network operator of the
 *   MPxN at `at` (unconfirmed, DOMAIN 3.5).
 * - Devices without an MPxN of their own (CHF, GPF, PPMID, IHD, CAD, HCALCS) take the MPxNs of
 *   the meters on the same Communications Hub; any one of them makes the User eligible
 *   (unconfirmed).
 * - RSA, OU and the SoLR Contingency role have no registration-based eligibility here: RSA
 *   appointments are not modelled; OU and SoLR Contingency rights are decided by access control
 *   (the SoLR controls), so this check answers "not eligible" for them with that reason.
 *
 * `at` is the relevant time: when the request is checked, or its execution time if future-dated.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import type { DuisRole } from '../roles.ts'
import type { DeviceRecord, SmartMeteringInventory } from './inventory.ts'
import type { Fuel, RegisteredParty, RegistrationData } from './registration.ts'
import { isoTime, type When } from './time.ts'

export type Eligibility =
  | { eligible: true; registration: RegisteredParty }
  | { eligible: false; code: 'E4' | 'E19'; reason: string }

export interface EligibilitySources {
  registration: RegistrationData
  inventory: SmartMeteringInventory
}

const ROLE_FUEL: Partial<Record<DuisRole, Fuel>> = {
  IS: 'electricity',
  ES: 'electricity',
  GS: 'gas',
  ED: 'electricity',
  GT: 'gas',
}

export function isEligibleUser(
  sources: EligibilitySources,
  user: string,
  role: DuisRole,
  deviceId: string,
  at: When,
): Eligibility {
  const eui = parseEui(user)
  const when = isoTime(at, 'at')
  const device = sources.inventory.get(deviceId)
  if (!device)
    return { eligible: false, code: 'E19', reason: `device ${parseEui(deviceId)} is not in the inventory` }
  const fuel = ROLE_FUEL[role]
  if (!fuel) return refuse(`role ${role} has no eligibility from Registration Data`)
  const mpxns = mpxnsFor(sources.inventory, device, role).filter((m) => fuelOfKnown(m) === fuel)
  if (mpxns.length === 0)
    return refuse(`device ${device.deviceId} (${device.type}) has no ${fuel} MPxN for role ${role}`)
  const network = role === 'ED' || role === 'GT'
  const found: string[] = []
  for (const mpxn of mpxns) {
    const party = network
      ? sources.registration.networkOperatorAt(mpxn, when)
      : sources.registration.registeredSupplierAt(mpxn, when)
    if (party?.user === eui) return { eligible: true, registration: party }
    found.push(party ? `${mpxn} → ${party.mpid} (${party.user ?? 'no owner'})` : `${mpxn} → not registered`)
  }
  const what = network ? 'network operator' : 'registered supplier'
  return refuse(`User ${eui} is not the ${what} of device ${device.deviceId} at ${when}: ${found.join('; ')}`)
}

function refuse(reason: string): Eligibility {
  return { eligible: false, code: 'E4', reason }
}

function fuelOfKnown(mpxn: string): Fuel {
  return mpxn.length === 13 ? 'electricity' : 'gas'
}

function mpxnsFor(inventory: SmartMeteringInventory, device: DeviceRecord, role: DuisRole): string[] {
  if (device.type === 'ESME' || device.type === 'GSME') {
    const mpxn = role === 'ES' ? device.exportMpan : device.mpxn
    return mpxn ? [mpxn] : []
  }
  const hub: Eui64 | undefined = device.type === 'CHF' ? device.deviceId : device.commsHub
  if (!hub) return []
  const meters = inventory.devicesOnHub(hub).filter((d) => d.type === 'ESME' || d.type === 'GSME')
  return [...new Set(meters.flatMap((m) => mpxnsFor(inventory, m, role)))]
}

/**
 * The DSP's permission matrix, as configuration: for each Service Reference Variant (SRV), which
 * DUIS User Roles may send it (E2), whether it is a Critical Service Request, which device types
 * it may target (E11), which Smart Metering Inventory statuses the target must be in (E5), which
 * DUIS Command Variants it may arrive as (E12), and whether the DCC checks the sender is an
 * Eligible User for the device from Registration Data (E4).
 *
 * The matrix is a plain JSON-able object. `DEFAULT_PERMISSIONS` is built from DOMAIN.md section 5:
 * roles, criticality and "Non-Device Request" follow the DUIS request matrix [S2] (confirmed);
 * device types follow the RTDS use cases [S3][S5]; SMI statuses and command variants are
 * modelling assumptions, listed in each entry's `unconfirmed`. `parsePermissionMatrix` /
 * `permissionMatrixFromJson` load another matrix and say exactly which entry is wrong.
 *
 * The SoLR Contingency role (MP134B) is not granted here: which SRVs it may use is the
 * configurable SoLR Contingency list of the access-control context (default ['1.6']), so one
 * setting governs it. An SRV still has to be in this matrix to be used at all.
 */
import { DEVICE_TYPES, SMI_STATUSES, type SmiDeviceType, type SmiStatus } from '../registration/inventory.ts'
import { DUIS_ROLES, type DuisRole } from '../roles.ts'

/** DUIS Command Variants 1–8 (DUIS / duis-parser cv.ts): 1–3 non-critical to a Device, 4 transform a Critical SR into a Pre-Command, 5–7 signed Pre-Commands, 8 Non-Device service. */
export const COMMAND_VARIANTS = [1, 2, 3, 4, 5, 6, 7, 8] as const
export type CommandVariant = (typeof COMMAND_VARIANTS)[number]

/** Fields of an entry a matrix may mark as unconfirmed (a modelling assumption, not from a source). */
export const SRV_RULE_FIELDS = [
  'name',
  'critical',
  'nonDevice',
  'roles',
  'deviceTypes',
  'smiStatuses',
  'commandVariants',
  'deviceMustBeKnown',
  'eligibility',
] as const
export type SrvRuleField = (typeof SRV_RULE_FIELDS)[number]

/** How the DSP decides E4 for an SRV. */
export type EligibilityRule = 'registration' | 'none'

export interface SrvRule {
  /** The Service Request name as DUIS gives it. */
  name: string
  /** A Critical Service Request: the User signs the Pre-Command (CV4 → CV5/6/7). */
  critical: boolean
  /** DUIS "Non-Device Request": answered by the DCC without a command to a Device. */
  nonDevice: boolean
  /** DUIS User Roles that may send it (E2). The SoLR Contingency role is governed by the SoLR Contingency list instead. */
  roles: DuisRole[]
  /** Device types the request may target (E11); empty means any type. */
  deviceTypes: SmiDeviceType[]
  /** SMI statuses the target device must be in (E5); empty means any status. */
  smiStatuses: SmiStatus[]
  /** DUIS Command Variants it may arrive as (E12). */
  commandVariants: CommandVariant[]
  /**
   * The target must be in the Smart Metering Inventory (E19). False for SR 12.2 Device
   * Pre-notification, whose device the DCC does not know yet: for an unknown target the device
   * checks (E5, E11, E4) are then skipped.
   */
  deviceMustBeKnown: boolean
  /** 'registration': the sender must be an Eligible User for the device at the time (E4); 'none': not checked. */
  eligibility: EligibilityRule
  /** Which of the fields above are modelling assumptions rather than from a source. */
  unconfirmed?: SrvRuleField[]
}

export interface PermissionMatrix {
  version: 1
  /** Keyed by SRV, e.g. '1.6', '8.1.1'. */
  srvs: Record<string, SrvRule>
}

export class PermissionMatrixError extends Error {
  override name = 'PermissionMatrixError'
  constructor(readonly problems: string[]) {
    super(
      `permission matrix is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`,
    )
  }
}

// --- the default matrix (DOMAIN.md section 5) ---

const SUPPLIERS: DuisRole[] = ['IS', 'GS']
const METERS: SmiDeviceType[] = ['ESME', 'GSME']
const ESME: SmiDeviceType[] = ['ESME']
const ALL_DEVICES: SmiDeviceType[] = [...DEVICE_TYPES]
const ALL_ROLES_BUT_SOLRC: DuisRole[] = ['IS', 'ES', 'GS', 'RSA', 'ED', 'GT', 'OU']
const COMMISSIONED: SmiStatus[] = ['Commissioned']
/** Security-credential and pairing SRVs are used while commissioning, so InstalledNotCommissioned too (unconfirmed). */
const INSTALLED: SmiStatus[] = ['InstalledNotCommissioned', 'Commissioned']
const NON_CRITICAL_CVS: CommandVariant[] = [1, 2, 3]
const CRITICAL_CVS: CommandVariant[] = [4, 5, 6, 7]
const NON_DEVICE_CVS: CommandVariant[] = [8]

function device(
  name: string,
  critical: boolean,
  roles: DuisRole[],
  deviceTypes: SmiDeviceType[],
  smiStatuses: SmiStatus[],
  extraUnconfirmed: SrvRuleField[] = [],
): SrvRule {
  return {
    name,
    critical,
    nonDevice: false,
    roles: [...roles],
    deviceTypes: [...deviceTypes],
    smiStatuses: [...smiStatuses],
    commandVariants: [...(critical ? CRITICAL_CVS : NON_CRITICAL_CVS)],
    deviceMustBeKnown: true,
    eligibility: 'registration',
    unconfirmed: ['smiStatuses', 'commandVariants', ...extraUnconfirmed],
  }
}

function nonDevice(
  name: string,
  roles: DuisRole[],
  deviceTypes: SmiDeviceType[],
  smiStatuses: SmiStatus[],
  options: { deviceMustBeKnown?: boolean; eligibility?: EligibilityRule; unconfirmed?: SrvRuleField[] } = {},
): SrvRule {
  return {
    name,
    critical: false,
    nonDevice: true,
    roles: [...roles],
    deviceTypes: [...deviceTypes],
    smiStatuses: [...smiStatuses],
    commandVariants: [...NON_DEVICE_CVS],
    deviceMustBeKnown: options.deviceMustBeKnown ?? true,
    eligibility: options.eligibility ?? 'registration',
    unconfirmed: ['deviceTypes', 'smiStatuses', 'commandVariants', ...(options.unconfirmed ?? [])],
  }
}

const SCHEDULE_ROLES: DuisRole[] = ['IS', 'ES', 'GS', 'ED', 'GT', 'OU']
const SCHEDULED_DEVICES: SmiDeviceType[] = ['ESME', 'GSME', 'GPF']
const JOINABLE: SmiDeviceType[] = ['ESME', 'GSME', 'PPMID', 'HCALCS']

function buildDefault(): PermissionMatrix {
  return {
    version: 1,
    srvs: {
      '1.5': device('Update Meter Balance', true, SUPPLIERS, METERS, COMMISSIONED),
      '1.6': device('Update Payment Mode', true, SUPPLIERS, METERS, COMMISSIONED),
      '2.1': device('Update Prepay Configuration', true, SUPPLIERS, METERS, COMMISSIONED),
      '2.2': device('Top Up Device', false, SUPPLIERS, METERS, COMMISSIONED),
      '2.3': device('Update Debt', true, SUPPLIERS, METERS, COMMISSIONED),
      '2.5': device('Activate Emergency Credit', true, SUPPLIERS, METERS, COMMISSIONED),
      '4.1.1': device(
        'Read Instantaneous Import Registers',
        false,
        ['IS', 'GS', 'ED', 'GT'],
        [...METERS, 'GPF'],
        COMMISSIONED,
      ),
      '4.3': device('Read Instantaneous Prepay Values', false, SUPPLIERS, [...METERS, 'GPF'], COMMISSIONED),
      '4.18': device('Read Meter Balance', false, SUPPLIERS, METERS, COMMISSIONED),
      // The reads DUIS lets the DCC schedule (XSD DSPScheduledServiceReferenceVariant); roles from
      // the DUIS request matrix, device types our reading of the GBCS use cases (unconfirmed).
      '4.2': device('Read Instantaneous Export Registers', false, ['ES', 'ED'], ESME, COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.6.1': device('Retrieve Import Daily Read Log', false, SUPPLIERS, [...METERS, 'GPF'], COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.6.2': device('Retrieve Export Daily Read Log', false, ['ES'], ESME, COMMISSIONED, ['deviceTypes']),
      '4.8.1': device(
        'Read Active Import Profile Data',
        false,
        ['IS', 'GS', 'ED', 'GT', 'OU'],
        [...METERS, 'GPF'],
        COMMISSIONED,
        ['deviceTypes'],
      ),
      '4.8.2': device('Read Reactive Import Profile Data', false, ['IS', 'ED', 'OU'], ESME, COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.8.3': device('Read Export Profile Data', false, ['ES', 'ED', 'OU'], ESME, COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.10': device('Read Network Data', false, ['IS', 'GS', 'ED', 'GT'], [...METERS, 'GPF'], COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.12.1': device('Read Maximum Demand Import Registers', false, ['IS', 'ED'], ESME, COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.12.2': device('Read Maximum Demand Export Registers', false, ['ES', 'ED'], ESME, COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.14': device('Read Prepayment Daily Read Log', false, SUPPLIERS, [...METERS, 'GPF'], COMMISSIONED, [
        'deviceTypes',
      ]),
      '4.15': device('Read Load Limit Data', false, ['IS', 'ED'], ESME, COMMISSIONED, ['deviceTypes']),
      '4.16': device('Read Active Power Import', false, ['IS', 'ED'], ESME, COMMISSIONED, ['deviceTypes']),
      '4.17': device(
        'Retrieve Daily Consumption Log',
        false,
        ['IS', 'GS', 'ED', 'GT', 'OU'],
        [...METERS, 'GPF'],
        COMMISSIONED,
        ['deviceTypes'],
      ),
      '14.1': device('Record Network Data (GAS)', false, ['GT'], ['GSME', 'GPF'], COMMISSIONED, [
        'deviceTypes',
      ]),
      '5.1': nonDevice('Create Schedule', SCHEDULE_ROLES, SCHEDULED_DEVICES, COMMISSIONED),
      // A User keeps seeing and deleting its own DCC Schedules after it stops being eligible for the
      // device (the DCC checks ownership instead); each run is re-checked with E4 (unconfirmed).
      '5.2': nonDevice('Read Schedule', SCHEDULE_ROLES, SCHEDULED_DEVICES, [], {
        eligibility: 'none',
        unconfirmed: ['eligibility'],
      }),
      '5.3': nonDevice('Delete Schedule', SCHEDULE_ROLES, SCHEDULED_DEVICES, [], {
        eligibility: 'none',
        unconfirmed: ['eligibility'],
      }),
      '6.8': device('Update Billing Calendar', true, SUPPLIERS, METERS, COMMISSIONED),
      '6.11': device('Synchronise Clock', true, SUPPLIERS, METERS, COMMISSIONED),
      '6.15.1': device(
        'Update Security Credentials (KRP)',
        true,
        ['IS', 'GS', 'ED', 'GT'],
        ALL_DEVICES,
        INSTALLED,
      ),
      '6.15.2': device('Update Security Credentials (Device)', true, SUPPLIERS, ALL_DEVICES, INSTALLED),
      '6.17': device('Issue Security Credentials', true, SUPPLIERS, ALL_DEVICES, INSTALLED),
      '6.21': device('Request Handover of DCC Controlled Device', false, SUPPLIERS, ALL_DEVICES, INSTALLED),
      '6.23': device('Update Security Credentials (CoS)', false, SUPPLIERS, METERS, INSTALLED),
      '6.24.1': device(
        'Retrieve Device Security Credentials (KRP)',
        false,
        ['IS', 'GS', 'ED', 'GT'],
        ALL_DEVICES,
        INSTALLED,
      ),
      '7.1': device('Enable Supply', true, ['IS'], ['ESME'], COMMISSIONED),
      '7.2': device('Disable Supply', true, SUPPLIERS, METERS, COMMISSIONED),
      '7.3': device('Arm Supply', true, SUPPLIERS, METERS, COMMISSIONED),
      '7.4': device('Read Supply Status', false, ['IS', 'ES', 'GS', 'RSA', 'ED', 'GT'], METERS, COMMISSIONED),
      '8.1.1': device('Commission Device', true, SUPPLIERS, METERS, ['InstalledNotCommissioned']),
      '8.2': nonDevice('Read Inventory', ALL_ROLES_BUT_SOLRC, [], [], {
        eligibility: 'none',
        unconfirmed: ['eligibility'],
      }),
      '8.3': nonDevice(
        'Decommission Device',
        SUPPLIERS,
        [],
        ['InstalledNotCommissioned', 'Commissioned', 'Suspended', 'Recovered'],
      ),
      '8.4': nonDevice('Update Inventory', ALL_ROLES_BUT_SOLRC, [], [], {
        eligibility: 'none',
        unconfirmed: ['eligibility'],
      }),
      '8.7.1': device('Join Service (Critical)', true, SUPPLIERS, JOINABLE, INSTALLED, ['deviceTypes']),
      '8.7.2': device('Join Service (Non-Critical)', false, ['IS', 'GS', 'OU'], JOINABLE, INSTALLED, [
        'deviceTypes',
      ]),
      '8.8.1': device('Unjoin Service (Critical)', true, SUPPLIERS, JOINABLE, INSTALLED, ['deviceTypes']),
      '8.8.2': device('Unjoin Service (Non-Critical)', false, ['IS', 'GS', 'OU'], JOINABLE, INSTALLED, [
        'deviceTypes',
      ]),
      '8.11': device('Update HAN Device Log', false, ['IS', 'GS', 'OU'], ['CHF'], INSTALLED),
      '12.2': nonDevice('Device Pre-notification', ALL_ROLES_BUT_SOLRC, [], [], {
        deviceMustBeKnown: false,
        eligibility: 'none',
        unconfirmed: ['eligibility'],
      }),
    },
  }
}

/** The default matrix from DOMAIN.md section 5. Frozen; use `defaultPermissions()` for a copy to change. */
export const DEFAULT_PERMISSIONS: PermissionMatrix = deepFreeze(buildDefault())

/** A fresh, mutable copy of the default matrix. */
export function defaultPermissions(): PermissionMatrix {
  return buildDefault()
}

// --- loading and validation ---

/** Parses JSON text into a validated matrix; bad JSON or a bad entry throws a PermissionMatrixError. */
export function permissionMatrixFromJson(text: string): PermissionMatrix {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new PermissionMatrixError([`not JSON: ${(e as Error).message}`])
  }
  return parsePermissionMatrix(value)
}

/** The matrix as JSON text (2-space indented), which permissionMatrixFromJson reads back. */
export function permissionMatrixToJson(matrix: PermissionMatrix): string {
  return `${JSON.stringify(matrix, null, 2)}\n`
}

/**
 * Validates a plain object as a PermissionMatrix and returns a clean copy (unknown properties
 * dropped). Every problem is reported, each with its path, e.g.
 * `srvs["7.2"].roles[1]: 'XX' is not a DUIS role (IS, ES, GS, ED, GT, RSA, OU)`.
 */
export function parsePermissionMatrix(value: unknown): PermissionMatrix {
  const problems: string[] = []
  if (!isObject(value)) throw new PermissionMatrixError(['expected an object { version: 1, srvs: { … } }'])
  if (value.version !== 1) problems.push(`version: expected 1, got ${show(value.version)}`)
  if (!isObject(value.srvs)) {
    problems.push('srvs: expected an object keyed by SRV, e.g. { "1.6": { … } }')
    throw new PermissionMatrixError(problems)
  }
  const srvs: Record<string, SrvRule> = {}
  for (const [srv, entry] of Object.entries(value.srvs)) {
    const path = `srvs[${JSON.stringify(srv)}]`
    if (!/^\d{1,2}(\.\d{1,2}){1,2}$/.test(srv))
      problems.push(`${path}: '${srv}' is not a Service Reference Variant (like '1.6' or '8.1.1')`)
    const rule = parseRule(entry, path, problems)
    if (rule) srvs[srv] = rule
  }
  if (problems.length) throw new PermissionMatrixError(problems)
  return { version: 1, srvs }
}

function parseRule(entry: unknown, path: string, problems: string[]): SrvRule | undefined {
  if (!isObject(entry)) {
    problems.push(`${path}: expected an object, got ${show(entry)}`)
    return undefined
  }
  const before = problems.length
  const name = entry.name
  if (typeof name !== 'string' || name.length === 0)
    problems.push(`${path}.name: expected a non-empty string`)
  for (const key of ['critical', 'nonDevice', 'deviceMustBeKnown'] as const)
    if (typeof entry[key] !== 'boolean')
      problems.push(`${path}.${key}: expected true or false, got ${show(entry[key])}`)
  const grantsSolrc = Array.isArray(entry.roles) && entry.roles.includes('SoLRC')
  if (grantsSolrc)
    problems.push(
      `${path}.roles: the SoLR Contingency role (SoLRC) is granted by the SoLR Contingency SRV list, not the matrix`,
    )
  const roles = grantsSolrc
    ? undefined
    : list(
        entry.roles,
        `${path}.roles`,
        DUIS_ROLES.filter((r) => r !== 'SoLRC'),
        'a DUIS role',
        problems,
      )
  const deviceTypes = list(entry.deviceTypes, `${path}.deviceTypes`, DEVICE_TYPES, 'a device type', problems)
  const smiStatuses = list(entry.smiStatuses, `${path}.smiStatuses`, SMI_STATUSES, 'an SMI status', problems)
  const commandVariants = list(
    entry.commandVariants,
    `${path}.commandVariants`,
    COMMAND_VARIANTS,
    'a DUIS Command Variant',
    problems,
  )
  if (commandVariants?.length === 0) problems.push(`${path}.commandVariants: must list at least one`)
  if (entry.eligibility !== 'registration' && entry.eligibility !== 'none')
    problems.push(`${path}.eligibility: expected 'registration' or 'none', got ${show(entry.eligibility)}`)
  const unconfirmed =
    entry.unconfirmed === undefined
      ? undefined
      : list(entry.unconfirmed, `${path}.unconfirmed`, SRV_RULE_FIELDS, 'a field name', problems)
  if (problems.length > before || !roles || !deviceTypes || !smiStatuses || !commandVariants) return undefined
  return {
    name: name as string,
    critical: entry.critical as boolean,
    nonDevice: entry.nonDevice as boolean,
    roles,
    deviceTypes,
    smiStatuses,
    commandVariants,
    deviceMustBeKnown: entry.deviceMustBeKnown as boolean,
    eligibility: entry.eligibility as EligibilityRule,
    ...(unconfirmed && { unconfirmed }),
  }
}

function list<T extends string | number>(
  value: unknown,
  path: string,
  allowed: readonly T[],
  what: string,
  problems: string[],
): T[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${path}: expected an array, got ${show(value)}`)
    return undefined
  }
  let ok = true
  value.forEach((item, i) => {
    if (!(allowed as readonly unknown[]).includes(item)) {
      problems.push(`${path}[${i}]: ${show(item)} is not ${what} (${allowed.join(', ')})`)
      ok = false
    }
  })
  if (new Set(value).size !== value.length) {
    problems.push(`${path}: lists an entry twice`)
    ok = false
  }
  return ok ? [...(value as T[])] : undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value)
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}

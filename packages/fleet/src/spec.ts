/**
 * The fleet specification: plain JSON saying how many premises, from which seed, and the shares
 * and ranges every premise is drawn from. `parseFleetSpec` fills in the defaults and checks
 * everything, naming the field of each problem; what it returns is frozen, and it is what
 * `premise` and `buildFleet` take.
 *
 * Money is in pence (decimals allowed; the devices hold integer milli-pence), energy in kWh.
 */

import { err, ok, type Result } from '@smetsim/core'
import { Ajv, type ErrorObject } from 'ajv'
import { EUIS_PER_PREMISE } from './identifiers.ts'

export interface FleetSpec {
  version: 1
  /** Any text or whole number; the same seed gives the same fleet (42 and "42" are the same seed). */
  seed: string | number
  premises: number
  /** The instant the fleet is built at (ISO 8601): every device's `now` and account start. */
  start: string
  /** Supply Start Date of every registration, MPID ownership and the SMI status date (ISO 8601). */
  registeredFrom: string
  euis: { first: string }
  mpans: { first: number }
  mprns: { first: number }
  devices: { gas: number; ppmid: { prepayment: number; credit: number } }
  prepaymentShare: number
  suppliers: SupplierSpec[]
  networkOperators: NetworkOperatorSpec[]
  tariffs: Record<string, TariffSpec>
  defaultTariffs: { credit: string; prepayment: string }
  consumption: { electricity: ConsumptionSpec; gas: ConsumptionSpec }
  balance: { minPounds: number; maxPounds: number }
  install: { installedNotCommissioned: number }
  topUp: TopUpSpec
}

export interface SupplierSpec {
  name: string
  eui: string
  mpid: string
  share: number
  /** This supplier's prepayment share; the fleet's `prepaymentShare` when left out. */
  prepaymentShare?: number
  tariffs?: { credit?: string; prepayment?: string }
}

export interface NetworkOperatorSpec {
  name: string
  eui: string
  mpid: string
  /** electricity: a Distribution Network Operator (DUIS role ED); gas: a Gas Transporter (GT). */
  fuel: 'electricity' | 'gas'
  /** Share of the premises of that fuel. */
  share: number
  /** The two leading digits of its MPANs (electricity only). */
  distributorId?: number
}

export interface TariffSpec {
  electricity: RateSpec
  gas: RateSpec
}

export interface RateSpec {
  /** Pence per kWh. */
  unitRate: number
  /** Pence per day. */
  standingCharge: number
}

export interface ConsumptionSpec {
  /** Median annual consumption of a premise; each premise's is lognormal around it. */
  medianKwhPerYear: number
  /** Standard deviation of the natural logarithm of annual consumption. */
  sigma: number
}

export interface Range {
  min: number
  max: number
}

export interface TopUpSpec {
  /** Days between a prepayment household's top-ups (whole days, uniform). */
  everyDays: Range
  /** How much it tops up each time (uniform whole pounds). */
  amountPounds: Range
  /**
   * When a top-up is due and nobody answers (no UTRN comes: its supplier has failed, say), how
   * many days the household goes on without topping up before it tries again (uniform whole days).
   */
  noAnswerDays: Range
  /** Share of households that press the meter's button to restore an Armed supply. */
  pressesButtonWhenArmed: number
}

/** The largest fleet a spec may ask for (about 4 KB a device: far beyond this machine's memory). */
export const MAX_PREMISES = 10_000_000
const MAX_PARTIES = 64

const share = { type: 'number', minimum: 0, maximum: 1 } as const
const range = (min: number, max: number, dmin: number, dmax: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: [],
    default: { min: dmin, max: dmax },
    properties: {
      min: { type: 'integer', minimum: min, maximum: max, default: dmin },
      max: { type: 'integer', minimum: min, maximum: max, default: dmax },
    },
  }) as const
const ISO = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))?$'
const EUI = '^[0-9A-Fa-f]{16}$'
const rate = {
  type: 'object',
  additionalProperties: false,
  required: ['unitRate', 'standingCharge'],
  properties: {
    unitRate: { type: 'number', minimum: 0, maximum: 1000 },
    standingCharge: { type: 'number', minimum: 0, maximum: 10_000 },
  },
} as const
const consumption = (median: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: [],
    default: {},
    properties: {
      medianKwhPerYear: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, default: median },
      sigma: { type: 'number', minimum: 0, maximum: 3, default: 0.45 },
    },
  }) as const

/** Illustrative rates near the GB price cap of 2025 (pence). */
const DEFAULT_TARIFFS = {
  standard: {
    electricity: { unitRate: 27.03, standingCharge: 53.68 },
    gas: { unitRate: 6.99, standingCharge: 32.67 },
  },
  prepayment: {
    electricity: { unitRate: 25.68, standingCharge: 51.95 },
    gas: { unitRate: 6.63, standingCharge: 30.99 },
  },
}

/** Suppliers A and B and the network operator at the EUIs of smki's TEST_PARTIES; the gas transporter is ours. */
const DEFAULT_SUPPLIERS: SupplierSpec[] = [
  { name: 'Supplier A', eui: '90B3D51F30010000', mpid: 'SUPA', share: 0.6, prepaymentShare: 0.3 },
  { name: 'Supplier B', eui: '90B3D51F30030000', mpid: 'SUPB', share: 0.4, prepaymentShare: 0.1 },
]
const DEFAULT_NETWORK_OPERATORS: NetworkOperatorSpec[] = [
  {
    name: 'Network Operator',
    eui: '90B3D51F30020000',
    mpid: 'DNOA',
    fuel: 'electricity',
    share: 1,
    distributorId: 12,
  },
  { name: 'Gas Transporter', eui: '90B3D51F30040000', mpid: 'GTRA', fuel: 'gas', share: 1 },
]

/** The JSON Schema of a fleet spec, with its defaults (draft 2020-12 keywords that ajv 8 takes). */
export const FLEET_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    version: { const: 1, default: 1 },
    seed: { type: ['string', 'integer'], default: 'smetsim' },
    premises: { type: 'integer', minimum: 0, maximum: MAX_PREMISES, default: 1000 },
    start: { type: 'string', pattern: ISO, default: '2026-01-05T00:00:00Z' },
    registeredFrom: { type: 'string', pattern: ISO, default: '2024-01-01' },
    euis: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: { first: { type: 'string', pattern: EUI, default: '00DB120000000000' } },
    },
    mpans: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: { first: { type: 'integer', minimum: 0, maximum: 9_999_999_999, default: 1 } },
    },
    mprns: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: {
        first: { type: 'integer', minimum: 100_000, maximum: 9_999_999_999, default: 1_000_000_000 },
      },
    },
    devices: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: {
        gas: { ...share, default: 0.8 },
        ppmid: {
          type: 'object',
          additionalProperties: false,
          required: [],
          default: {},
          properties: { prepayment: { ...share, default: 0.9 }, credit: { ...share, default: 0.05 } },
        },
      },
    },
    prepaymentShare: { ...share, default: 0.2 },
    suppliers: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_PARTIES,
      default: DEFAULT_SUPPLIERS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'eui', 'mpid', 'share'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          eui: { type: 'string', pattern: EUI },
          mpid: { type: 'string', pattern: '^[A-Z0-9]{2,8}$' },
          share,
          prepaymentShare: share,
          tariffs: {
            type: 'object',
            additionalProperties: false,
            required: [],
            properties: { credit: { type: 'string' }, prepayment: { type: 'string' } },
          },
        },
      },
    },
    networkOperators: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_PARTIES,
      default: DEFAULT_NETWORK_OPERATORS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'eui', 'mpid', 'fuel', 'share'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          eui: { type: 'string', pattern: EUI },
          mpid: { type: 'string', pattern: '^[A-Z0-9]{2,8}$' },
          fuel: { enum: ['electricity', 'gas'] },
          share,
          distributorId: { type: 'integer', minimum: 10, maximum: 99 },
        },
      },
    },
    tariffs: {
      type: 'object',
      minProperties: 1,
      maxProperties: MAX_PARTIES,
      default: DEFAULT_TARIFFS,
      propertyNames: { minLength: 1, maxLength: 100 },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['electricity', 'gas'],
        properties: { electricity: rate, gas: rate },
      },
    },
    defaultTariffs: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: {
        credit: { type: 'string', default: 'standard' },
        prepayment: { type: 'string', default: 'prepayment' },
      },
    },
    consumption: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      // Ofgem's Typical Domestic Consumption Values (medium: 2,700 kWh electricity, 11,500 kWh gas).
      properties: { electricity: consumption(2700), gas: consumption(11_500) },
    },
    balance: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: {
        minPounds: { type: 'number', minimum: -1000, maximum: 1000, default: 2 },
        maxPounds: { type: 'number', minimum: -1000, maximum: 1000, default: 40 },
      },
    },
    install: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: { installedNotCommissioned: { ...share, default: 0.02 } },
    },
    topUp: {
      type: 'object',
      additionalProperties: false,
      required: [],
      default: {},
      properties: {
        everyDays: range(1, 365, 3, 14),
        amountPounds: range(1, 250, 10, 30),
        noAnswerDays: range(0, 365, 1, 5),
        pressesButtonWhenArmed: { ...share, default: 0.9 },
      },
    },
  },
} as const

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  allowUnionTypes: true,
  coerceTypes: false,
})
const validate = ajv.compile(FLEET_SPEC_SCHEMA)

export interface SpecProblem {
  /** The field, as a path: `suppliers[1].share`. */
  field: string
  message: string
}

export class FleetSpecError extends Error {
  override name = 'FleetSpecError'
  constructor(readonly problems: SpecProblem[]) {
    super(`fleet spec: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`)
  }
}

/** An ajv instance path as a field path: `/suppliers/1/share` → `suppliers[1].share`. */
function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '')
}

/** An ajv error as a field and a message (scenario.ts reads its schema's errors the same way). */
export function problemOf(e: ErrorObject): SpecProblem {
  const at = fieldOf(e.instancePath)
  const join = (name: string) => (at ? `${at}.${name}` : name)
  switch (e.keyword) {
    case 'required':
      return { field: join(String(e.params.missingProperty)), message: 'required' }
    case 'additionalProperties':
      return { field: join(String(e.params.additionalProperty)), message: 'unknown field' }
    default:
      return { field: at || '(spec)', message: e.message ?? e.keyword }
  }
}

/**
 * Checks a spec and fills in its defaults. Never throws and never changes `input`; the spec it
 * returns is a frozen copy.
 */
export function parseFleetSpec(input: unknown = {}): Result<FleetSpec, FleetSpecError> {
  let spec: unknown
  try {
    spec = structuredClone(input)
  } catch {
    return err(new FleetSpecError([{ field: '(spec)', message: 'not plain JSON data' }]))
  }
  if (!validate(spec)) return err(new FleetSpecError((validate.errors ?? []).map(problemOf)))
  const checked = spec as FleetSpec
  const problems = crossChecks(checked)
  if (problems.length) return err(new FleetSpecError(problems))
  parsed.add(checked)
  return ok(deepFreeze(checked))
}

const parsed = new WeakSet<FleetSpec>()

/** Whether this very object came from parseFleetSpec (and so is checked and frozen). */
export function isParsedSpec(spec: FleetSpec): boolean {
  return parsed.has(spec)
}

/** The rules a schema cannot say: sums of shares, references, unique identifiers, ranges that fit. */
function crossChecks(s: FleetSpec): SpecProblem[] {
  const problems: SpecProblem[] = []
  const problem = (field: string, message: string) => problems.push({ field, message })
  if (typeof s.seed === 'string' ? s.seed.length < 1 || s.seed.length > 200 : s.seed < 0 || s.seed > 2 ** 53)
    problem('seed', 'must be text of 1 to 200 characters or a whole number from 0 to 2^53')
  for (const field of ['start', 'registeredFrom'] as const)
    if (Number.isNaN(Date.parse(s[field]))) problem(field, `not a date: '${s[field]}'`)
  if (Date.parse(s.registeredFrom) > Date.parse(s.start))
    problem('registeredFrom', `must not be after start (${s.start})`)

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
  const near1 = (x: number) => Math.abs(x - 1) < 1e-9
  const supplierShares = sum(s.suppliers.map((x) => x.share))
  if (!near1(supplierShares)) problem('suppliers', `shares must add up to 1, not ${supplierShares}`)
  for (const fuel of ['electricity', 'gas'] as const) {
    const ours = s.networkOperators.filter((n) => n.fuel === fuel)
    if (ours.length === 0) {
      if (fuel === 'electricity' || s.devices.gas > 0)
        problem(
          'networkOperators',
          `no ${fuel === 'gas' ? 'gas transporter' : 'electricity network operator'}`,
        )
      continue
    }
    const total = sum(ours.map((n) => n.share))
    if (!near1(total)) problem('networkOperators', `${fuel} shares must add up to 1, not ${total}`)
  }
  s.networkOperators.forEach((n, i) => {
    if (n.fuel === 'electricity' && n.distributorId === undefined)
      problem(`networkOperators[${i}].distributorId`, 'required for an electricity network operator')
    if (n.fuel === 'gas' && n.distributorId !== undefined)
      problem(`networkOperators[${i}].distributorId`, 'only an electricity network operator has one')
  })

  const tariff = (field: string, name: string | undefined) => {
    if (name !== undefined && !Object.hasOwn(s.tariffs, name)) problem(field, `no tariff named '${name}'`)
  }
  tariff('defaultTariffs.credit', s.defaultTariffs.credit)
  tariff('defaultTariffs.prepayment', s.defaultTariffs.prepayment)
  s.suppliers.forEach((x, i) => {
    tariff(`suppliers[${i}].tariffs.credit`, x.tariffs?.credit)
    tariff(`suppliers[${i}].tariffs.prepayment`, x.tariffs?.prepayment)
  })

  // The DCC's own parties first, so that a clash is reported at the spec's field.
  const parties = [
    { field: 'the DCC Access Control Broker', eui: DCC_PARTIES.acb, mpid: undefined },
    { field: 'the DCC CoS Party', eui: DCC_PARTIES.cos, mpid: undefined },
    ...s.suppliers.map((x, i) => ({ field: `suppliers[${i}]`, ...x })),
    ...s.networkOperators.map((x, i) => ({ field: `networkOperators[${i}]`, ...x })),
  ]
  const seenEui = new Map<string, string>()
  const seenMpid = new Map<string, string>()
  const first = BigInt(`0x${s.euis.first}`)
  const end = first + BigInt(s.premises) * BigInt(EUIS_PER_PREMISE)
  for (const p of parties) {
    const eui = p.eui.toUpperCase()
    const other = seenEui.get(eui)
    if (other) problem(`${p.field}.eui`, `${eui} is also ${other}'s`)
    else seenEui.set(eui, p.field)
    const e = BigInt(`0x${eui}`)
    if (e >= first && e < end) problem(`${p.field}.eui`, `${eui} is inside the devices' EUI range`)
    if (p.mpid !== undefined) {
      const owner = seenMpid.get(p.mpid)
      if (owner) problem(`${p.field}.mpid`, `${p.mpid} is also ${owner}'s`)
      else seenMpid.set(p.mpid, p.field)
    }
  }

  if (first % BigInt(EUIS_PER_PREMISE) !== 0n)
    problem(
      'euis.first',
      `must be a multiple of ${EUIS_PER_PREMISE} (premise i has first + ${EUIS_PER_PREMISE}i …)`,
    )
  // The devices share the first EUI's three-byte organisationally unique identifier.
  if (s.premises > 0 && (end - 1n) >> 40n !== first >> 40n)
    problem('euis.first', `${s.premises} premises do not fit in the EUIs after it with the same OUI`)
  if (s.mpans.first + s.premises > 10_000_000_000)
    problem('mpans.first', `${s.premises} premises do not fit in ten MPAN digits after it`)
  if (s.mprns.first + s.premises > 10_000_000_000)
    problem('mprns.first', `${s.premises} premises do not fit in ten MPRN digits after it`)

  for (const [field, r] of [
    ['balance', { min: s.balance.minPounds, max: s.balance.maxPounds }],
    ['topUp.everyDays', s.topUp.everyDays],
    ['topUp.amountPounds', s.topUp.amountPounds],
    ['topUp.noAnswerDays', s.topUp.noAnswerDays],
  ] as const)
    if (r.min > r.max) problem(field, `min (${r.min}) is above max (${r.max})`)
  return problems
}

/**
 * The DCC's own parties, at the EUIs the DCC's RTDS and smki's TEST_PARTIES give the Access
 * Control Broker and the transitional CoS Party.
 */
export const DCC_PARTIES = { acb: '90B3D51F30000002', cos: '90B3D51F30000004' } as const

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

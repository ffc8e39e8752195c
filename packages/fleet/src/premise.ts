/**
 * One premise, described: its devices' EUIs, MPAN and MPRN, supplier and network operators,
 * payment mode, tariff, consumption, initial balances, install state and — for a prepayment
 * household — its top-up habit. `premise(spec, i)` is a pure function of the spec and i: every
 * number comes from fixed words of SHA-256(fleet key ‖ i ‖ label) (see draws.ts), each word
 * with one use whichever branch the premise takes, so premise i never depends on how many
 * premises there are, and changing one share (say the prepayment share) changes only what that
 * share decides.
 */
import type { Eui64 } from '@smetsim/core'
import type { Tariff } from '@smetsim/device'
import { drawWords, fleetKey, normal, pickCumulative, uniformInt, unit } from './draws.ts'
import { euiPlus, premiseEui, premiseMpan, premiseMprn } from './identifiers.ts'
import { type FleetSpec, FleetSpecError, isParsedSpec, parseFleetSpec, type RateSpec } from './spec.ts'

export type PaymentMode = 'credit' | 'prepayment'
/** commissioned: every device Commissioned. installedNotCommissioned: hub and meters installed, no WAN yet (MP121's case). */
export type InstallState = 'commissioned' | 'installedNotCommissioned'

export interface Supply {
  /** Unit rate (mp per kWh) and standing charge (mp per day): shared by every premise on it. */
  tariff: Tariff
  /** Average demand (the device's load profile); the daily shape comes from `loadSeed`. */
  watts: number
  loadSeed: number
  /** Initial meter balance, milli-pence (0 for a credit meter). */
  meterBalance: number
}

export interface TopUpHabit {
  /** Days between top-ups. */
  everyDays: number
  /** Each top-up, milli-pence. */
  amount: number
  /** When the first top-up is due (epoch ms): within the first `everyDays` after the fleet's start. */
  firstDueAt: number
  /** Days it goes on without topping up when nobody answers before it tries again. */
  noAnswerDays: number
  /** Whether it presses the meter's button to restore an Armed supply. */
  pressesButtonWhenArmed: boolean
}

export interface Premise {
  index: number
  esme: Eui64
  gsme?: Eui64
  chf: Eui64
  gpf: Eui64
  ppmid?: Eui64
  mpan: string
  mprn?: string
  /** Index in spec.suppliers, and the supplier's EUI: the supplier of both fuels. */
  supplier: number
  supplierEui: Eui64
  /** Indices in spec.networkOperators. */
  electricityNetworkOperator: number
  gasNetworkOperator?: number
  paymentMode: PaymentMode
  install: InstallState
  electricity: Supply
  gas?: Supply
  /** Prepayment households only. */
  topUp?: TopUpHabit
}

/** What premise() needs from a spec, worked out once per spec object. */
export interface CompiledSpec {
  spec: FleetSpec
  key: Uint8Array
  first: bigint
  startMs: number
  supplierCumulative: number[]
  supplierEuis: Eui64[]
  /** Per supplier, its prepayment share. */
  prepaymentShares: number[]
  /** Per supplier and payment mode, the tariff of each fuel in milli-pence (shared objects). */
  tariffs: Record<PaymentMode, { electricity: Tariff; gas: Tariff }>[]
  networkOperators: Record<'electricity' | 'gas', { indices: number[]; cumulative: number[] }>
  distributorIds: (number | undefined)[]
}

const compiledSpecs = new WeakMap<FleetSpec, CompiledSpec>()

/**
 * The compiled form of a spec. A spec that did not come from parseFleetSpec is checked first;
 * an invalid one throws FleetSpecError (a caller that skipped parseFleetSpec).
 */
export function compileSpec(spec: FleetSpec): CompiledSpec {
  const known = compiledSpecs.get(spec)
  if (known) return known
  let checked = spec
  if (!isParsedSpec(spec)) {
    const r = parseFleetSpec(spec)
    if (!r.ok) throw r.error
    checked = r.value
  }
  const cumulative = (weights: number[]) => {
    let total = 0
    const out = weights.map((w) => (total += w))
    if (out.length) out[out.length - 1] = 1
    return out
  }
  const mp = (r: RateSpec): Tariff =>
    Object.freeze({
      unitRate: Math.round(r.unitRate * 1000),
      standingCharge: Math.round(r.standingCharge * 1000),
    })
  const tariffCache = new Map<string, { electricity: Tariff; gas: Tariff }>()
  const tariffNamed = (name: string) => {
    let t = tariffCache.get(name)
    if (!t) {
      const given = checked.tariffs[name]
      if (!given) throw new FleetSpecError([{ field: 'tariffs', message: `no tariff named '${name}'` }])
      t = Object.freeze({ electricity: mp(given.electricity), gas: mp(given.gas) })
      tariffCache.set(name, t)
    }
    return t
  }
  const operators = (fuel: 'electricity' | 'gas') => {
    const indices = checked.networkOperators.flatMap((n, i) => (n.fuel === fuel ? [i] : []))
    return { indices, cumulative: cumulative(indices.map((i) => checked.networkOperators[i]!.share)) }
  }
  const compiled: CompiledSpec = {
    spec: checked,
    key: fleetKey(checked.seed),
    first: BigInt(`0x${checked.euis.first}`),
    startMs: Date.parse(checked.start),
    supplierCumulative: cumulative(checked.suppliers.map((s) => s.share)),
    supplierEuis: checked.suppliers.map((s) => euiPlus(BigInt(`0x${s.eui}`), 0)),
    prepaymentShares: checked.suppliers.map((s) => s.prepaymentShare ?? checked.prepaymentShare),
    tariffs: checked.suppliers.map((s) => ({
      credit: tariffNamed(s.tariffs?.credit ?? checked.defaultTariffs.credit),
      prepayment: tariffNamed(s.tariffs?.prepayment ?? checked.defaultTariffs.prepayment),
    })),
    networkOperators: { electricity: operators('electricity'), gas: operators('gas') },
    distributorIds: checked.networkOperators.map((n) => n.distributorId),
  }
  compiledSpecs.set(spec, compiled)
  compiledSpecs.set(checked, compiled)
  return compiled
}

const HOURS_PER_YEAR = 8760
const DAY_MS = 86_400_000

/**
 * Premise i of the fleet (0 ≤ i < spec.premises), or undefined for any other i. Pure: the same
 * spec and i always give an equal premise.
 */
export function premise(spec: FleetSpec, i: number): Premise | undefined {
  const c = compileSpec(spec)
  if (!Number.isInteger(i) || i < 0 || i >= c.spec.premises) return undefined
  return premiseOf(c, i)
}

// Scratch words for premiseOf (read before it returns; nothing keeps them).
const D0 = new Uint32Array(8)
const D1 = new Uint32Array(8)
const D2 = new Uint32Array(8)

function balanceOf(s: FleetSpec, paymentMode: PaymentMode, word: number): number {
  if (paymentMode === 'credit') return 0
  const { minPounds, maxPounds } = s.balance
  return Math.round((minPounds + unit(word) * (maxPounds - minPounds)) * 100) * 1000
}

function wattsOf(s: FleetSpec, fuel: 'electricity' | 'gas', w1: number, w2: number): number {
  const { medianKwhPerYear, sigma } = s.consumption[fuel]
  const kwh = medianKwhPerYear * Math.exp(sigma * normal(w1, w2))
  return Math.max(1, Math.round((kwh * 1000) / HOURS_PER_YEAR))
}

/**
 * premise() on a compiled spec, for loops that have already checked i. (Module-level helpers and
 * conditional assignments rather than closures and spreads: it runs twice per premise at bring-up.)
 */
export function premiseOf(c: CompiledSpec, i: number): Premise {
  const s = c.spec
  // Each word has exactly one use (see the module comment); 'draws0' decides the premise's shape,
  // 'draws1' its consumption and balances, 'draws2' its top-up habit.
  const d0 = drawWords(c.key, i, 'draws0', D0)
  const d1 = drawWords(c.key, i, 'draws1', D1)
  const hasGas = unit(d0[0]!) < s.devices.gas
  const supplier = pickCumulative(c.supplierCumulative, unit(d0[2]!))
  const paymentMode: PaymentMode = unit(d0[1]!) < c.prepaymentShares[supplier]! ? 'prepayment' : 'credit'
  const elecNo = c.networkOperators.electricity
  const electricityNetworkOperator = elecNo.indices[pickCumulative(elecNo.cumulative, unit(d0[3]!))]!
  const gasNo = c.networkOperators.gas
  const gasNetworkOperator =
    hasGas && gasNo.indices.length ? gasNo.indices[pickCumulative(gasNo.cumulative, unit(d0[4]!))] : undefined
  const hasPpmid = unit(d0[5]!) < s.devices.ppmid[paymentMode]
  const install: InstallState =
    unit(d0[6]!) < s.install.installedNotCommissioned ? 'installedNotCommissioned' : 'commissioned'

  const tariffs = c.tariffs[supplier]![paymentMode]
  const electricity: Supply = {
    tariff: tariffs.electricity,
    watts: wattsOf(s, 'electricity', d1[0]!, d1[1]!),
    loadSeed: d1[4]!,
    meterBalance: balanceOf(s, paymentMode, d1[6]!),
  }

  const p: Premise = {
    index: i,
    esme: premiseEui(c.first, i, 'ESME'),
    chf: premiseEui(c.first, i, 'CHF'),
    gpf: premiseEui(c.first, i, 'GPF'),
    mpan: premiseMpan(c.distributorIds[electricityNetworkOperator]!, s.mpans.first, i),
    supplier,
    supplierEui: c.supplierEuis[supplier]!,
    electricityNetworkOperator,
    paymentMode,
    install,
    electricity,
  }
  if (hasGas) {
    p.gsme = premiseEui(c.first, i, 'GSME')
    p.mprn = premiseMprn(s.mprns.first, i)
    p.gas = {
      tariff: tariffs.gas,
      watts: wattsOf(s, 'gas', d1[2]!, d1[3]!),
      loadSeed: d1[5]!,
      meterBalance: balanceOf(s, paymentMode, d1[7]!),
    }
  }
  if (hasPpmid) p.ppmid = premiseEui(c.first, i, 'PPMID')
  if (gasNetworkOperator !== undefined) p.gasNetworkOperator = gasNetworkOperator
  if (paymentMode === 'prepayment') {
    const d2 = drawWords(c.key, i, 'draws2', D2)
    const t = s.topUp
    const everyDays = uniformInt(d2[0]!, t.everyDays.min, t.everyDays.max)
    p.topUp = {
      everyDays,
      amount: uniformInt(d2[1]!, t.amountPounds.min, t.amountPounds.max) * 100_000,
      firstDueAt: c.startMs + Math.floor(unit(d2[4]!) * everyDays * DAY_MS),
      noAnswerDays: uniformInt(d2[2]!, t.noAnswerDays.min, t.noAnswerDays.max),
      pressesButtonWhenArmed: unit(d2[3]!) < t.pressesButtonWhenArmed,
    }
  }
  return p
}

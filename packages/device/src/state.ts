/**
 * A device's whole state: plain data (numbers, strings, bigints, byte arrays and the shared
 * credential objects of its trust anchor cells), so that it snapshots with CBOR and many
 * devices fit in memory. Firmware steps never mutate a state; they return a new one.
 */
import type { Eui64 } from '@smetsim/core'
import type { Json } from '@smetsim/gbcs'
import type { DeviceType } from './authority.ts'
import type { DeviceKeys, RemotePartyRole, TrustAnchorCells } from './cells.ts'
import type {
  Account,
  LoadProfile,
  PaymentMode,
  PrepaymentConfig,
  PrepaymentContext,
  Supply,
  Tariff,
} from './prepayment/index.ts'

/** Anti-replay: the last originator counter accepted per remote party, and the top-up counter. */
export type CounterKey = RemotePartyRole | 'supplierPrepayment'
export type Counters = Partial<Record<CounterKey, bigint>>

/** Commissioning (SMI) as the device sees it: ECS70/GCS28 moves it on. */
export type Commissioning = 'installedNotCommissioned' | 'commissioned'

export interface PendingCommand {
  at: number
  messageCode: number
  originatorCounter: bigint
  originator: Eui64
  role: RemotePartyRole
  critical: boolean
  /** The command's use-case view, with its date-time set to 'now' for the day it runs. */
  view: { name: string; [field: string]: Json }
}

export interface DeviceState {
  type: DeviceType
  eui: Eui64
  /** The device's own private keys, 32-byte scalars: signing (responses, alerts) and key agreement (MAC). */
  keys: DeviceKeys
  cells: TrustAnchorCells
  counters: Counters
  /** The device's own originator counter, for the alerts it raises. */
  alertCounter: bigint
  commissioning: Commissioning
  /** Device clock = virtual time + this offset (ms); ECS70/GCS28 set it. */
  clockOffset: number
  supply: Supply
  paymentMode: PaymentMode
  account: Account
  config: PrepaymentConfig
  tariff: Tariff
  load: LoadProfile
  /** Recent accepted UTRN counters (duplicate check), newest last. */
  utrns: bigint[]
  /** Consecutive rejected UTRN entries on the keypad, for the lock-out. */
  utrnFailures: number
  /** Keypad UTRN entry is refused until this instant (0: not locked out). */
  utrnLockedUntil: number
  /** GSME only: minutes between wake-ups; the battery life left, in days, as it was at `batteryAt`. */
  wake?: { intervalMinutes: number; batteryDays: number; batteryAt: number; lowBatteryRaised?: boolean }
  /**
   * Device-held billing calendar (SR 6.8): at each billing instant the meter raises its Billing
   * Data Log alert (0x8F0A) to whichever supplier is in its cells (DP072).
   */
  billingCalendar?: BillingCalendar
  /**
   * Future-dated commands accepted and waiting for their execution date-time, in order: the
   * use-case view to execute then, and who sent it.
   */
  pending: readonly PendingCommand[]
  /**
   * When the prepayment account next changes on its own (nextChange), remembered because
   * finding it can take a search over months; `null`: nothing within the horizon; undefined:
   * not known. Valid while nothing but the passage of time has touched the account.
   */
  prepaymentNext?: number | null
  /** The 16-byte install code the CHF needs to let the device join its HAN (SR 8.11). */
  installCode?: Uint8Array
}

/**
 * One ESME billing date (ECS30): a time of day and a COSEM date pattern. A date field left out
 * is a wildcard; `day` -1 is the last day of the month, -2 the one before; `weekday` 1 is
 * Monday … 7 Sunday. The time is exact (hour and minute given; wildcard seconds and
 * hundredths are 0).
 */
export interface BillingDate {
  hour: number
  minute: number
  second: number
  hundredths: number
  year?: number
  month?: number
  day?: number
  weekday?: number
}

/** A GSME billing period (GCS25): billing instants at `start` and every `every` `unit` after it. */
export interface BillingPeriod {
  /** Device time (ms, UTC) of the first billing instant. */
  start: number
  every: number
  unit: 'minutes' | 'days' | 'weeks' | 'months'
}

/** What the calendar repeats: every N days (provisioning), ESME date patterns, a GSME period. */
export type BillingSchedule =
  | { everyDays: number }
  | { dates: readonly BillingDate[] }
  | { period: BillingPeriod }

/**
 * A billing calendar and its next instant in virtual time (the device clock minus
 * `clockOffset` when it was computed); no `next`: nothing more falls due.
 */
export type BillingCalendar = BillingSchedule & { next?: number }

/** A GSME's remaining battery life in whole days at `now`: it runs down a day a day. */
export function remainingBatteryDays(state: DeviceState, now: number): number {
  if (!state.wake) return 0
  return Math.max(0, state.wake.batteryDays - Math.floor((now - state.wake.batteryAt) / 86_400_000))
}

/** What the prepayment engine needs to know about a device. */
export function prepaymentContext(state: DeviceState): PrepaymentContext {
  return { config: state.config, tariff: state.tariff, load: state.load, paymentMode: state.paymentMode }
}

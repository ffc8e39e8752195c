/**
 * Making a device: its own keys, the trust anchor cells installed at manufacture and
 * installation (from an SMKI PKI or a keystore in the RTDS layout), and the defaults a new
 * meter ships with.
 */
import { randomBytes } from 'node:crypto'
import { type Eui64, parseEui } from '@smetsim/core'
import { P256_N } from '@smetsim/gbcs'
import type { Keystore } from '@smetsim/smki'
import type { DeviceType } from './authority.ts'
import { type CellName, credentialFromCertificate, type DeviceKeys, type TrustAnchorCells } from './cells.ts'
import { newAccount, type PrepaymentConfig, type Tariff } from './prepayment/index.ts'
import type { BillingCalendar, BillingDate, BillingPeriod, DeviceState } from './state.ts'
import { calendarFrom } from './use-cases/billing-calendar.ts'

/** £10 emergency credit, offered below £2, low-credit warning below £5 (milli-pence). */
export const DEFAULT_CONFIG: PrepaymentConfig = Object.freeze<PrepaymentConfig>({
  emergencyCreditLimit: 1_000_000,
  emergencyCreditThreshold: 200_000,
  lowCreditThreshold: 500_000,
  disablementThreshold: 0,
  debtRecoveryRates: [0, 0],
  debtRecoveryPerPayment: 0,
  debtRecoveryRateCap: { amount: 0, periodDays: 7 },
  maxMeterBalance: 50_000_000,
  maxCreditThreshold: 25_000_000,
  suspendDebtDisabled: true,
  suspendDebtEmergency: false,
  nonDisablement: [],
})

/** 30 p/kWh and 50 p/day standing charge, in milli-pence. */
export const DEFAULT_TARIFF: Tariff = Object.freeze({ unitRate: 30_000, standingCharge: 50_000 })

/** A fresh P-256 private scalar (1 ≤ d < n). */
export function randomPrivateKey(): Uint8Array {
  for (;;) {
    const d = new Uint8Array(randomBytes(32))
    const n = BigInt(`0x${Buffer.from(d).toString('hex')}`)
    if (n > 0n && n < P256_N) return d
  }
}

export interface NewDeviceOptions {
  type: DeviceType
  eui: Eui64 | string
  cells: TrustAnchorCells
  /** Own private keys as 32-byte scalars; fresh ones when left out. */
  keys?: Partial<DeviceKeys>
  now: number
  paymentMode?: 'credit' | 'prepayment'
  supply?: 'enabled' | 'disabled' | 'armed'
  config?: Partial<PrepaymentConfig>
  tariff?: Tariff
  /** Average demand in watts (default 400 W, about 3,500 kWh a year); the daily shape comes from `seed`. */
  watts?: number
  seed?: number
  /** Initial meter balance in milli-pence (prepayment). */
  meterBalance?: number
  commissioned?: boolean
  /**
   * Billing Data Log alerts (default none): every `everyDays` from `first`, or at ESME billing
   * dates / a GSME billing period as SR 6.8 sets them (the first instant after `now`).
   */
  billingCalendar?:
    | { first: number; everyDays: number }
    | { dates: BillingDate[] }
    | { period: BillingPeriod }
  /** Install code for HAN join (default: 16 random bytes). */
  installCode?: Uint8Array
  /** GSME: minutes between radio wake-ups (default 30; a whole number from 1). */
  wakeIntervalMinutes?: number
}

/** Seed for a device's load shape: from its EUI unless one is given. */
function seedOf(eui: Eui64): number {
  return Number.parseInt(eui.slice(8), 16) >>> 0
}

export function createDevice(o: NewDeviceOptions): DeviceState {
  const eui = parseEui(o.eui)
  const billingCalendar = o.billingCalendar && provisionedCalendar(o.billingCalendar, o.now)
  return {
    type: o.type,
    eui,
    keys: {
      ds: o.keys?.ds ?? randomPrivateKey(),
      ...(o.keys?.standIn && !o.keys.ka
        ? { standIn: o.keys.standIn }
        : { ka: o.keys?.ka ?? randomPrivateKey() }),
    },
    cells: o.cells,
    counters: {},
    alertCounter: 0n,
    commissioning: o.commissioned === false ? 'installedNotCommissioned' : 'commissioned',
    clockOffset: 0,
    supply: o.supply ?? 'enabled',
    paymentMode: o.paymentMode ?? 'credit',
    account: newAccount(o.now, { meterBalance: o.meterBalance ?? 0 }),
    config: o.config ? { ...DEFAULT_CONFIG, ...o.config } : DEFAULT_CONFIG, // shared unless changed
    tariff: o.tariff ?? DEFAULT_TARIFF,
    load: { watts: o.type === 'PPMID' ? 0 : (o.watts ?? 400), seed: o.seed ?? seedOf(eui) },
    utrns: [],
    utrnFailures: 0,
    utrnLockedUntil: 0,
    pending: [],
    installCode: o.installCode ?? new Uint8Array(randomBytes(16)),
    ...(billingCalendar && { billingCalendar }),
    ...(o.type === 'GSME' && {
      wake: { intervalMinutes: gsmeWakeInterval(o.wakeIntervalMinutes), batteryDays: 3650, batteryAt: o.now },
    }),
  }
}

function gsmeWakeInterval(minutes = 30): number {
  if (!(Number.isInteger(minutes) && minutes >= 1))
    throw new RangeError(`wakeIntervalMinutes must be a whole number of minutes from 1, not ${minutes}`)
  return minutes
}

function provisionedCalendar(
  c: NonNullable<NewDeviceOptions['billingCalendar']>,
  now: number,
): BillingCalendar {
  if ('dates' in c) {
    if (c.dates.length === 0) throw new RangeError('billingCalendar.dates must not be empty')
    return calendarFrom({ dates: c.dates }, now, 0)
  }
  if ('period' in c) {
    const { every, unit } = c.period
    if (!(Number.isInteger(every) && every > 0) || !['days', 'weeks', 'months'].includes(unit))
      throw new RangeError(`billingCalendar.period must be a whole number of days, weeks or months above 0`)
    return calendarFrom({ period: c.period }, now, 0)
  }
  const every = c.everyDays
  if (!(Number.isInteger(every) && every > 0))
    throw new RangeError(`billingCalendar.everyDays must be a whole number of days above 0, got ${every}`)
  return { next: c.first, everyDays: every }
}

/** Whose certificates fill the cells; each party's EUI in the keystore. */
export interface CellParties {
  supplier?: Eui64 | string
  networkOperator?: Eui64 | string
  accessControlBroker?: Eui64 | string
  transitionalCoS?: Eui64 | string
  recovery?: Eui64 | string
  wanProvider?: Eui64 | string
}

/**
 * Trust anchor cells from a keystore in the RTDS layout: each party's DS (and KA, and for the
 * supplier the prepayment KA) certificate; the root cell from `root`, when given. A cell whose
 * certificate the keystore lacks stays empty.
 */
export function cellsFromKeystore(
  store: Keystore,
  parties: CellParties,
  root?: Uint8Array | string,
): TrustAnchorCells {
  const cells: TrustAnchorCells = {}
  const put = (
    name: CellName,
    eui: string | undefined,
    usage: 'digitalSignature' | 'keyAgreement',
    prepayment = false,
  ) => {
    if (!eui) return
    const cert = store.certificate(parseEui(eui), usage, { prepayment })
    if (cert) cells[name] = credentialFromCertificate(cert)
  }
  put('supplierDs', parties.supplier, 'digitalSignature')
  put('supplierKa', parties.supplier, 'keyAgreement')
  put('supplierPrepaymentKa', parties.supplier, 'keyAgreement', true)
  put('networkOperatorDs', parties.networkOperator, 'digitalSignature')
  put('networkOperatorKa', parties.networkOperator, 'keyAgreement')
  put('accessControlBrokerDs', parties.accessControlBroker, 'digitalSignature')
  put('accessControlBrokerKa', parties.accessControlBroker, 'keyAgreement')
  put('transitionalCoSDs', parties.transitionalCoS, 'digitalSignature')
  put('recovery', parties.recovery, 'digitalSignature')
  put('wanProviderDs', parties.wanProvider, 'digitalSignature')
  if (root) cells.root = credentialFromCertificate(root)
  return cells
}

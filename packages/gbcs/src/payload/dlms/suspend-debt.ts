/**
 * SR 1.6's SuspendDebtDisabled and SuspendDebtEmergency (DUIS 5.4 UpdatePaymentMode/Prepayment) as
 * an ECS03 carries them to an ESME. They are not fields of their own: they live in the account's
 * credit_charge_configuration (class 111 Account, 0.1.19.0.0.255, attribute 11; the instance that
 * SmartDCCInnovation/gbcs-parser src/dlms.ts names "SuspendDebtDisabled / SuspendDebtEmergency /
 * Payment Mode"), the list of which credit may pay which charge and when (the ECS02/ECS03 view's
 * `creditChargeConfiguration`). For the time debts (charges debtRecoveryRate1 and
 * debtRecoveryRate2):
 *
 *  - SuspendDebtDisabled: no entry collects them while the supply is disconnected (the
 *    "collect when supply disconnected" bit of collection_configuration clear in every one);
 *  - SuspendDebtEmergency: no entry lets emergency credit pay them.
 *
 * That reading follows the names of the DLMS Account class attributes; the GBCS ECS03 table that
 * maps the DUIS flags onto them is not public here (unconfirmed). The RTDS 4.5.0 ECS03 frames do
 * not settle it: every time-debt entry in them collects when disconnected and may be paid from
 * emergency credit (so they read as both flags false), while the DUIS requests of the same names
 * in SmartDCCInnovation/duis-templates carry (true, true), (true, false) and (false, true);
 * what varies with those flags across the three frames is the "friendly credit periods" bit of
 * the time-debt entries and whether the accumulated debt register appears as a credit.
 */
import type { Json } from '../types.ts'

/** One credit_charge_configuration entry as the ECS02/ECS03 view shows it. */
export interface CreditCharge {
  credit: string
  charge: string
  collectWhenSupplyDisconnected: boolean
  collectInLoadLimitingPeriods: boolean
  collectInFriendlyCreditPeriods: boolean
}

export interface SuspendDebtFlags {
  suspendDebtDisabled: boolean
  suspendDebtEmergency: boolean
}

const TIME_DEBTS: readonly string[] = ['debtRecoveryRate1', 'debtRecoveryRate2']

const isEntry = (e: Json): e is { [k: string]: Json } =>
  typeof e === 'object' && e !== null && !Array.isArray(e)

/**
 * The flags a credit_charge_configuration sets, or undefined when it says nothing about the time
 * debts (no entry for either: ECS02's, or anything that is not a list of entries).
 */
export function suspendDebtFlags(creditChargeConfiguration: Json | undefined): SuspendDebtFlags | undefined {
  if (!Array.isArray(creditChargeConfiguration)) return undefined
  const debts = creditChargeConfiguration.filter(
    (e) => isEntry(e) && typeof e.charge === 'string' && TIME_DEBTS.includes(e.charge),
  ) as { [k: string]: Json }[]
  if (debts.length === 0) return undefined
  return {
    suspendDebtDisabled: debts.every((e) => e.collectWhenSupplyDisconnected === false),
    suspendDebtEmergency: !debts.some((e) => e.credit === 'emergencyCredit'),
  }
}

const entry = (credit: string, charge: string, whenDisconnected: boolean): CreditCharge => ({
  credit,
  charge,
  collectWhenSupplyDisconnected: whenDisconnected,
  collectInLoadLimitingPeriods: true,
  collectInFriendlyCreditPeriods: true,
})

/**
 * The credit_charge_configuration of an ECS03 for the given flags: consumption and standing
 * charge from the meter balance, each time debt from the meter balance and, unless
 * SuspendDebtEmergency, from emergency credit, collected while disconnected unless
 * SuspendDebtDisabled. suspendDebtFlags reads it back.
 */
export function prepaymentCreditCharges(flags: SuspendDebtFlags): CreditCharge[] {
  const whenDisconnected = !flags.suspendDebtDisabled
  return [
    entry('meterBalance', 'priceMatrix', true),
    entry('meterBalance', 'standingCharge', true),
    ...TIME_DEBTS.flatMap((charge) => [
      entry('meterBalance', charge, whenDisconnected),
      ...(flags.suspendDebtEmergency ? [] : [entry('emergencyCredit', charge, whenDisconnected)]),
    ]),
  ]
}

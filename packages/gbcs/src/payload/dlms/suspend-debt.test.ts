import { describe, expect, it } from 'vitest'
import { buildPayload, decodePayload } from '../index.ts'
import type { Json } from '../types.ts'
import { prepaymentCreditCharges, suspendDebtFlags } from './suspend-debt.ts'

const ECS03 = 0x001b
const flagSets = [
  { suspendDebtDisabled: false, suspendDebtEmergency: false },
  { suspendDebtDisabled: true, suspendDebtEmergency: false },
  { suspendDebtDisabled: false, suspendDebtEmergency: true },
  { suspendDebtDisabled: true, suspendDebtEmergency: true },
]

const ecs03 = (creditChargeConfiguration: Json) => ({
  name: 'ECS03 Set Payment Mode to Prepayment',
  invokeId: 7,
  paymentMode: 'prepayment',
  accountStatus: 'active',
  disablementThreshold: 0,
  creditChargeConfiguration,
  disablementThresholdActivationDateTime: 'now',
  activationDateTime: 'now',
})

describe('SuspendDebtDisabled and SuspendDebtEmergency in an ECS03', () => {
  it.each(flagSets)('%o survive the trip through the GBCS bytes', (flags) => {
    const bytes = buildPayload(ecs03(prepaymentCreditCharges(flags) as unknown as Json), {
      messageCode: ECS03,
      cra: 'command',
    })
    const view = decodePayload(bytes, { messageCode: ECS03, cra: 'command' }).useCase
    expect(suspendDebtFlags(view?.creditChargeConfiguration)).toEqual(flags)
  })

  it('SuspendDebtDisabled clears "collect when supply disconnected" on the time debts only', () => {
    const entries = prepaymentCreditCharges({ suspendDebtDisabled: true, suspendDebtEmergency: false })
    const when = (charge: string) =>
      entries.filter((e) => e.charge === charge).map((e) => e.collectWhenSupplyDisconnected)
    expect(when('debtRecoveryRate1')).toEqual([false, false])
    expect(when('debtRecoveryRate2')).toEqual([false, false])
    expect(when('standingCharge')).toEqual([true])
  })

  it('SuspendDebtEmergency leaves emergency credit out of paying the time debts', () => {
    const entries = prepaymentCreditCharges({ suspendDebtDisabled: false, suspendDebtEmergency: true })
    expect(entries.filter((e) => e.credit === 'emergencyCredit')).toEqual([])
    expect(
      prepaymentCreditCharges({ suspendDebtDisabled: false, suspendDebtEmergency: false })
        .filter((e) => e.credit === 'emergencyCredit')
        .map((e) => e.charge),
    ).toEqual(['debtRecoveryRate1', 'debtRecoveryRate2'])
  })

  it('one time-debt entry still collecting while disconnected means the debts are not suspended', () => {
    const entries = prepaymentCreditCharges({ suspendDebtDisabled: true, suspendDebtEmergency: true })
    const mixed = entries.map((e, i) => (i === 2 ? { ...e, collectWhenSupplyDisconnected: true } : e))
    expect(suspendDebtFlags(mixed as unknown as Json)).toEqual({
      suspendDebtDisabled: false,
      suspendDebtEmergency: true,
    })
  })

  it('says nothing for a configuration without time debts (ECS02) or one that is not a list', () => {
    const credit = [
      {
        credit: 'meterBalance',
        charge: 'priceMatrix',
        collectWhenSupplyDisconnected: true,
        collectInLoadLimitingPeriods: true,
        collectInFriendlyCreditPeriods: true,
      },
    ]
    expect(suspendDebtFlags(credit)).toBeUndefined()
    expect(suspendDebtFlags(undefined)).toBeUndefined()
    expect(suspendDebtFlags('x')).toBeUndefined()
    expect(suspendDebtFlags([null, 3, 'a'])).toBeUndefined()
  })
})

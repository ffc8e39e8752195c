/**
 * SR 1.6 (ECS02/ECS03, GCS02/GCS03) and the supply (issue 11): switching a meter that has
 * disconnected itself for want of credit to credit mode arms its supply (MP134B: "would re-arm
 * the supply but would not activate it"); the consumer's button enables it. And the ESME honours
 * the suspend-debt flags an ECS03 carries in its credit-charge configuration.
 */
import { decodeFrame, type Json, prepaymentCreditCharges } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { type StepResult, step } from '../firmware.ts'
import { Flag } from '../prepayment/index.ts'
import type { DeviceState } from '../state.ts'
import { backend, command, DISABLE, PARTIES, type Party, T0, testDevice } from '../testing.ts'

const HOUR = 3_600_000
const codes = (r: StepResult) => r.outputs.alerts.map((a) => a.code)

const toCreditEsme = (activationDateTime = 'now') => ({
  name: 'ECS02 Set Payment Mode to Credit',
  invokeId: 7,
  paymentMode: 'credit',
  accountStatus: 'active',
  creditChargeConfiguration: prepaymentCreditCharges({
    suspendDebtDisabled: false,
    suspendDebtEmergency: false,
  }).slice(0, 2) as unknown as Json,
  activationDateTime,
})
const toCreditGsme = {
  name: 'GCS02 Set Payment Mode to Credit',
  sequenceNumber: 1,
  providerId: 0,
  issuerEventId: 1,
  executionDateTime: 'now',
  paymentMode: 'credit',
  disablementThreshold: 0,
}
const toCredit = (d: DeviceState, counter: bigint, from: Party = PARTIES.supplierA) =>
  d.type === 'ESME'
    ? command(0x001a, toCreditEsme(), d, { counter, from })
    : command(0x006c, toCreditGsme, d, { counter, from })

/** A prepayment meter with 10 p and no emergency credit, drawing 1 kW: off within minutes. */
function runsOut(type: 'ESME' | 'GSME'): DeviceState {
  const d = testDevice(type, {
    paymentMode: 'prepayment',
    meterBalance: 10_000,
    watts: 1000,
    config: { emergencyCreditLimit: 0, emergencyCreditThreshold: 0, disablementThreshold: 0 },
  })
  // 10 000 mp at 77/8 640 mp per ms run out after about 19 minutes: an hour on it is off.
  return step(d, { kind: 'time' }, T0 + HOUR, { backend }).state
}

describe.each(['ESME', 'GSME'] as const)('SR 1.6 to credit on a self-disconnected %s', (type) => {
  const off = runsOut(type)
  const now = off.account.at + 60_000

  it('the meter has disconnected itself', () => {
    expect(off.supply).toBe('disabled')
    expect(off.account.flags & Flag.selfDisconnected).not.toBe(0)
  })

  const r = step(off, { kind: 'frame', bytes: toCredit(off, 1n) }, now, { backend })

  it('arms the supply (0x8F32), does not enable it', () => {
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state).toMatchObject({ paymentMode: 'credit', supply: 'armed' })
    expect(codes(r)).toEqual([0x8f32])
    // 0x8F32 Supply Armed is a critical alert: signed, to the supplier.
    expect(decodeFrame(r.outputs.alerts[0]!.frame!).signing.signature.kind).toBe('ecdsa')
  })

  it("the consumer's button then enables it, and credit mode keeps it on", () => {
    const pressed = step(r.state, { kind: 'button' }, now + 1000, { backend })
    expect(pressed.state.supply).toBe('enabled')
    const later = step(pressed.state, { kind: 'time' }, now + 30 * 24 * HOUR, { backend })
    expect(later.state.supply).toBe('enabled')
    expect(codes(later)).toEqual([])
  })
})

describe('SR 1.6 to credit leaves every other supply state as it was', () => {
  it('an enabled supply stays enabled, with no alert', () => {
    const d = testDevice('ESME', { paymentMode: 'prepayment', meterBalance: 5_000_000 })
    const r = step(d, { kind: 'frame', bytes: toCredit(d, 1n) }, T0 + 1000, { backend })
    expect(r.state).toMatchObject({ paymentMode: 'credit', supply: 'enabled' })
    expect(codes(r)).toEqual([])
  })

  it('a supply the supplier disabled (SR 7.2) stays disabled', () => {
    const d = testDevice('ESME', { paymentMode: 'prepayment', meterBalance: 5_000_000 })
    const disabled = step(
      d,
      { kind: 'frame', bytes: command(DISABLE.code, DISABLE.view, d, { counter: 1n }) },
      T0 + 1000,
      {
        backend,
      },
    )
    expect(disabled.state.supply).toBe('disabled')
    const r = step(disabled.state, { kind: 'frame', bytes: toCredit(d, 2n) }, T0 + 2000, { backend })
    expect(r.state).toMatchObject({ paymentMode: 'credit', supply: 'disabled' })
    expect(codes(r)).toEqual([])
  })

  it('an armed supply stays armed', () => {
    const d = testDevice('GSME', { paymentMode: 'prepayment', meterBalance: 5_000_000, supply: 'armed' })
    const r = step(d, { kind: 'frame', bytes: toCredit(d, 1n) }, T0 + 1000, { backend })
    expect(r.state.supply).toBe('armed')
    expect(codes(r)).toEqual([])
  })

  it('future-dated, it arms the self-disconnected supply when it runs, then reports 0x8F66', () => {
    const off = runsOut('ESME')
    const runAt = off.account.at + 2 * HOUR
    const iso = new Date(runAt).toISOString().replace('.000', '')
    const accepted = step(
      off,
      { kind: 'frame', bytes: command(0x001a, toCreditEsme(iso), off, { counter: 1n }) },
      off.account.at + 1,
      {
        backend,
      },
    )
    expect(accepted.state.supply).toBe('disabled')
    const ran = step(accepted.state, { kind: 'time' }, runAt, { backend })
    expect(ran.state).toMatchObject({ paymentMode: 'credit', supply: 'armed' })
    expect(codes(ran)).toEqual([0x8f32, 0x8f66])
  })
})

describe('ECS03: the ESME honours the suspend-debt flags of its credit-charge configuration', () => {
  const toPrepayment = (suspendDebtDisabled: boolean, suspendDebtEmergency: boolean) => ({
    name: 'ECS03 Set Payment Mode to Prepayment',
    invokeId: 7,
    paymentMode: 'prepayment',
    accountStatus: 'active',
    disablementThreshold: 0,
    creditChargeConfiguration: prepaymentCreditCharges({
      suspendDebtDisabled,
      suspendDebtEmergency,
    }) as unknown as Json,
    disablementThresholdActivationDateTime: 'now',
    activationDateTime: 'now',
  })

  it.each([
    [true, false],
    [false, true],
    [true, true],
    [false, false],
  ])('SuspendDebtDisabled %s, SuspendDebtEmergency %s become its configuration', (disabled, emergency) => {
    const d = testDevice('ESME', {
      config: { suspendDebtDisabled: !disabled, suspendDebtEmergency: !emergency },
    })
    const r = step(
      d,
      { kind: 'frame', bytes: command(0x001b, toPrepayment(disabled, emergency), d, { counter: 1n }) },
      T0 + 1,
      {
        backend,
      },
    )
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.config).toMatchObject({ suspendDebtDisabled: disabled, suspendDebtEmergency: emergency })
  })

  it('with SuspendDebtDisabled no time debt is collected while the supply is disabled; without it, it is', () => {
    const owing = (disabled: boolean) => {
      const d = testDevice('ESME', {
        supply: 'disabled',
        meterBalance: 10_000_000,
        watts: 0,
        config: { debtRecoveryRates: [86_400, 0] },
      })
      const withDebt = { ...d, account: { ...d.account, timeDebt: [1_000_000, 0] as [number, number] } }
      const set = step(
        withDebt,
        { kind: 'frame', bytes: command(0x001b, toPrepayment(disabled, false), d, { counter: 1n }) },
        T0 + 1,
        {
          backend,
        },
      )
      return step(set.state, { kind: 'time' }, T0 + 1 + 24 * HOUR, { backend }).state.account.timeDebt[0]
    }
    expect(owing(true)).toBe(1_000_000)
    expect(owing(false)).toBe(1_000_000 - 86_400)
  })

  it('an ECS02 (no time debts in its configuration) leaves the flags as they were', () => {
    const d = testDevice('ESME', {
      paymentMode: 'prepayment',
      config: { suspendDebtDisabled: false, suspendDebtEmergency: true },
    })
    const r = step(d, { kind: 'frame', bytes: toCredit(d, 1n) }, T0 + 1, { backend })
    expect(r.state.config).toMatchObject({ suspendDebtDisabled: false, suspendDebtEmergency: true })
  })
})

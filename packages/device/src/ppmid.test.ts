import type { Eui64 } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { step } from './firmware.ts'
import { createPpmid, stepPpmid } from './ppmid.ts'
import { backend, T0, testDevice } from './testing.ts'

const ESME = '00DB120000000001' as Eui64
const GSME = '00DB120000000002' as Eui64

describe('PPMID', () => {
  const paired = [
    { kind: 'pair', meter: ESME, meterType: 'ESME' },
    { kind: 'pair', meter: GSME, meterType: 'GSME' },
  ] as const
  const ppmid = paired.reduce(
    (s, input) => stepPpmid(s, input).state,
    createPpmid('00DB1200000000FF' as Eui64),
  )

  it('passes emergency credit and UTRNs to a paired meter as the meter inputs they become', () => {
    expect(stepPpmid(ppmid, { kind: 'acceptEmergencyCredit', meter: GSME }).outputs.toMeter).toEqual({
      meter: GSME,
      input: { kind: 'acceptEmergencyCredit', via: 'ppmid' },
    })
    const digits = '12345678901234567890'
    expect(stepPpmid(ppmid, { kind: 'utrn', meter: ESME, digits }).outputs.toMeter?.input).toEqual({
      kind: 'utrn',
      digits,
      via: 'ppmid',
    })
  })

  it('enables an armed ESME but not a GSME (PECS03 is ESME only)', () => {
    const toEsme = stepPpmid(ppmid, { kind: 'enableSupply', meter: ESME }).outputs.toMeter!
    const armed = testDevice('ESME', { supply: 'armed' })
    expect(step(armed, toEsme.input, T0 + 1, { backend }).state.supply).toBe('enabled')
    expect(stepPpmid(ppmid, { kind: 'enableSupply', meter: GSME }).outputs).toEqual({
      refused: 'a gas supply is enabled on the meter only',
    })
  })

  it('does nothing for a meter it is not paired with, or a UTRN that is not 20 digits', () => {
    const other = '00DB120000000009' as Eui64
    expect(stepPpmid(ppmid, { kind: 'acceptEmergencyCredit', meter: other }).outputs.refused).toMatch(
      /not paired/,
    )
    expect(stepPpmid(ppmid, { kind: 'utrn', meter: ESME, digits: '123' }).outputs.refused).toMatch(
      /20 digits/,
    )
    const unpaired = stepPpmid(ppmid, { kind: 'unpair', meter: ESME }).state
    expect(stepPpmid(unpaired, { kind: 'enableSupply', meter: ESME }).outputs.refused).toMatch(/not paired/)
  })

  it('shows what a paired meter last reported', () => {
    const report = {
      at: T0,
      meterBalance: 123_000,
      emergencyCredit: 0,
      supply: 'enabled',
      paymentMode: 'prepayment',
    } as const
    expect(stepPpmid(ppmid, { kind: 'report', meter: ESME, report }).state.display[ESME]).toEqual(report)
  })
})

/**
 * The PPMID, the in-home prepayment display: paired with meters (SR 8.7), it shows what they
 * last reported and passes the consumer's prepayment actions on to them. It holds no credit of
 * its own; the meter decides. The requests it sends over the HAN (GBCS PCS01 top-up, PCS02 /
 * PECS02 emergency credit, PECS03 enable supply) are modelled as the meter inputs they become,
 * with `via: 'ppmid'`, not as HAN frames.
 */
import type { Eui64 } from '@smetsim/core'
import type { DeviceType } from './authority.ts'
import type { DeviceInput } from './firmware.ts'
import type { PaymentMode, Supply } from './prepayment/index.ts'

export interface PpmidState {
  type: 'PPMID'
  eui: Eui64
  /** Meters it is paired with, by EUI, and their type. */
  paired: Partial<Record<Eui64, 'ESME' | 'GSME'>>
  /** What each meter last reported, for the display. */
  display: Partial<Record<Eui64, MeterReport>>
}

export interface MeterReport {
  at: number
  meterBalance: number
  emergencyCredit: number
  supply: Supply
  paymentMode: PaymentMode
}

export type PpmidInput =
  | { kind: 'pair'; meter: Eui64; meterType: DeviceType }
  | { kind: 'unpair'; meter: Eui64 }
  | { kind: 'report'; meter: Eui64; report: MeterReport }
  | { kind: 'acceptEmergencyCredit'; meter: Eui64 }
  | { kind: 'enableSupply'; meter: Eui64 }
  | { kind: 'utrn'; meter: Eui64; digits: string }

export interface PpmidOutputs {
  /** The request for a paired meter, as the input the meter's firmware takes. */
  toMeter?: { meter: Eui64; input: DeviceInput }
  /** Why the PPMID did nothing, shown to the consumer. */
  refused?: string
}

export function createPpmid(eui: Eui64): PpmidState {
  return { type: 'PPMID', eui, paired: {}, display: {} }
}

export function stepPpmid(
  state: PpmidState,
  input: PpmidInput,
): { state: PpmidState; outputs: PpmidOutputs } {
  const same = (refused: string) => ({ state, outputs: { refused } })
  switch (input.kind) {
    case 'pair':
      if (input.meterType !== 'ESME' && input.meterType !== 'GSME')
        return same('a PPMID pairs with meters only')
      return { state: { ...state, paired: { ...state.paired, [input.meter]: input.meterType } }, outputs: {} }
    case 'unpair': {
      const { [input.meter]: _p, ...paired } = state.paired
      const { [input.meter]: _d, ...display } = state.display
      return { state: { ...state, paired, display }, outputs: {} }
    }
    case 'report':
      if (!state.paired[input.meter]) return same(`not paired with ${input.meter}`)
      return { state: { ...state, display: { ...state.display, [input.meter]: input.report } }, outputs: {} }
  }
  const meterType = state.paired[input.meter]
  if (!meterType) return same(`not paired with ${input.meter}`)
  switch (input.kind) {
    case 'acceptEmergencyCredit':
      // PECS02 to an ESME, PCS02 to a GSME.
      return {
        state,
        outputs: { toMeter: { meter: input.meter, input: { kind: 'acceptEmergencyCredit', via: 'ppmid' } } },
      }
    case 'enableSupply':
      // PECS03: only an ESME can be enabled from the PPMID (DOMAIN.md 2.3).
      if (meterType !== 'ESME') return same('a gas supply is enabled on the meter only')
      return { state, outputs: { toMeter: { meter: input.meter, input: { kind: 'ppmidEnableSupply' } } } }
    case 'utrn':
      if (!/^\d{20}$/.test(input.digits)) return same('a UTRN is 20 digits')
      return {
        state,
        outputs: {
          toMeter: { meter: input.meter, input: { kind: 'utrn', digits: input.digits, via: 'ppmid' } },
        },
      }
  }
}

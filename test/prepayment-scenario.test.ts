/**
 * One prepayment consumer's week, driven only through the firmware's `step()`: the time at the
 * instants `outputs.wakeAt` asks for, the consumer's actions on the meter, and one command.
 * Every balance and every instant below is computed by hand in the comments.
 *
 * The meter: an ESME in prepayment mode, 1000 W all day (FLAT_SHAPE), 30 p/kWh and 50 p/day.
 *   consumption 1 kWh/h × 30 000 mp/kWh = 30 000 mp/h = 720 000 mp/day
 *   standing charge                                      50 000 mp/day
 *   total                                               770 000 mp/day = 77/8 640 mp per ms
 * so t ms after a point where nothing was carried, floor(77·t / 8 640) mp have been drawn, and
 * drawing k whole mp takes ceil(8 640·k / 77) ms (one mp every ~112.2 ms). A disabled (or armed)
 * supply pays the standing charge only: 50 000 mp/day = 1/1 728 mp per ms.
 *
 * Configuration (mp): low credit below 500 000 (£5), EC offered below 200 000 (£2), EC limit
 * 300 000 (£3), disablement threshold 0, and a non-disablement period every weekday 16:00–20:00
 * UTC. EC limit + EC threshold ≤ low-credit threshold, so activating EC does not lift the
 * combined credit back above £5 and 0x810D is raised once only.
 */
import { decodeFrame, decodePayload, generateUtrn } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import {
  createDevice,
  type DeviceInput,
  type DeviceState,
  FLAT_SHAPE,
  HOUR_MS,
  MINUTE_MS,
  type StepResult,
  step,
} from '../packages/device/src/index.ts'
import { backend, command, ESME_EUI, installedCells, PARTIES } from '../packages/device/src/testing.ts'

/** Monday 5 January 2026, 00:00 UTC: the account starts here, nothing carried. */
const START = Date.UTC(2026, 0, 5)
const B0 = 1_780_000 // £17.80
const WEEKDAYS_16_TO_20 = [1, 2, 3, 4, 5].map((day) => ({ day, start: 16 * 60, end: 20 * 60 }))

function consumer(): DeviceState {
  const d = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: START,
    paymentMode: 'prepayment',
    watts: 1000,
    meterBalance: B0,
    tariff: { unitRate: 30_000, standingCharge: 50_000 },
    config: {
      lowCreditThreshold: 500_000,
      emergencyCreditThreshold: 200_000,
      emergencyCreditLimit: 300_000,
      disablementThreshold: 0,
      nonDisablement: WEEKDAYS_16_TO_20,
    },
  })
  return { ...d, load: { ...d.load, shape: FLAT_SHAPE } }
}

/** A UTRN from supplier A for this meter: the n-th top-up, £pounds. */
function utrn(device: DeviceState, n: bigint, pounds: number): string {
  return generateUtrn({
    counter: n << 32n,
    value: pounds,
    valueClass: 'pounds',
    originator: PARTIES.supplierA.eui,
    recipient: device.eui,
    key: {
      own: backend.importPrivateKey(PARTIES.supplierA.pp!.privateKey),
      other: backend.importPrivateKey(device.keys.ka!).publicKey,
    },
    backend,
  })
}

const codes = (r: StepResult) => r.outputs.alerts.map((a) => [a.code, a.at])
const balances = (r: StepResult) => ({
  meterBalance: r.state.account.meterBalance,
  emergencyCredit: r.state.account.emergencyCredit,
  emergencyCreditActive: r.state.account.emergencyCreditActive,
  supply: r.state.supply,
})

describe('a prepayment consumer runs out of credit, borrows, is cut off and tops up', () => {
  it('follows the hand-computed story to the millisecond and the milli-penny', () => {
    const go = (s: DeviceState, input: DeviceInput, now: number) => step(s, input, now, { backend })

    // Monday 00:00. Nothing is due yet; the first thing that will happen is low credit.
    let r = go(consumer(), { kind: 'time' }, START)
    expect(codes(r)).toEqual([])

    // 1. Low credit (0x810D): balance < 500 000 ⟺ drawn ≥ 1 780 000 − 499 999 = 1 280 001 mp
    //    ⟺ t ≥ 8 640 × 1 280 001 / 77 = 143 626 086.2… → 143 626 087 ms (Tue 15:53:46.087).
    //    Balance there: 1 780 000 − 1 280 001 = 499 999.
    const LOW = START + 143_626_087
    expect(r.outputs.wakeAt).toBe(LOW)
    r = go(r.state, { kind: 'time' }, LOW)
    expect(codes(r)).toEqual([[0x810d, LOW]])
    expect(balances(r)).toEqual({
      meterBalance: 499_999,
      emergencyCredit: 0,
      emergencyCreditActive: false,
      supply: 'enabled',
    })

    // 2. EC available (0x8119): balance < 200 000 ⟺ drawn ≥ 1 580 001 mp
    //    ⟺ t ≥ 8 640 × 1 580 001 / 77 = 177 288 423.9… → 177 288 424 ms (Wed 01:14:48.424).
    const EC_AVAILABLE = START + 177_288_424
    expect(r.outputs.wakeAt).toBe(EC_AVAILABLE)
    r = go(r.state, { kind: 'time' }, EC_AVAILABLE)
    expect(codes(r)).toEqual([[0x8119, EC_AVAILABLE]])
    expect(r.state.account.meterBalance).toBe(199_999)

    // Left alone, the meter would next wake when credit went below 0 (drawn ≥ 1 780 001:
    // t ≥ 8 640 × 1 780 001 / 77 = 199 729 982.4… → 199 729 983 ms, Wed 07:28:49.983), outside
    // the non-disablement period: it would disconnect there.
    expect(r.outputs.wakeAt).toBe(START + 199_729_983)

    // 3. The consumer accepts EC on the meter on Wednesday at 07:00 (t = 55 h = 198 000 000 ms):
    //    drawn = floor(77 × 198 000 000 / 8 640) = floor(1 764 583.3) = 1 764 583,
    //    balance = 1 780 000 − 1 764 583 = 15 417; EC balance = EC limit = 300 000 (0x81AB).
    const ACCEPT = START + 55 * HOUR_MS
    r = go(r.state, { kind: 'acceptEmergencyCredit', via: 'meter' }, ACCEPT)
    expect(codes(r)).toEqual([[0x81ab, ACCEPT]])
    expect(balances(r)).toEqual({
      meterBalance: 15_417,
      emergencyCredit: 300_000,
      emergencyCreditActive: true,
      supply: 'enabled',
    })

    // 4. EC exhausted (0x81AA): charges draw the balance to 0, then the EC balance; EC is 0 when
    //    drawn = B0 + EC limit = 2 080 000 mp ⟺ t ≥ 8 640 × 2 080 000 / 77 = 233 392 207.8…
    //    → 233 392 208 ms (Wed 16:49:52.208), inside Wednesday's 16:00–20:00 period.
    //    (floor(77 × 233 392 208 / 8 640) = floor(2 080 000.002) = 2 080 000: balance 0, EC 0.)
    const EC_GONE = START + 233_392_208
    expect(r.outputs.wakeAt).toBe(EC_GONE)
    r = go(r.state, { kind: 'time' }, EC_GONE)
    expect(codes(r)).toEqual([[0x81aa, EC_GONE]])
    expect(balances(r)).toEqual({
      meterBalance: 0,
      emergencyCredit: 0,
      emergencyCreditActive: true,
      supply: 'enabled',
    })

    // 5. Below the disablement threshold (0x8F0F): combined credit < 0 ⟺ drawn ≥ 2 080 001 mp
    //    = 77 × 27 013, so t = 8 640 × 27 013 = 233 392 320 ms exactly (Wed 16:49:52.320).
    //    Inside the non-disablement period: disablement suspended (0x8F83), supply stays on.
    const BELOW = START + 233_392_320
    expect(r.outputs.wakeAt).toBe(BELOW)
    r = go(r.state, { kind: 'time' }, BELOW)
    expect(codes(r)).toEqual([
      [0x8f0f, BELOW],
      [0x8f83, BELOW],
    ])
    expect(balances(r)).toEqual({
      meterBalance: -1,
      emergencyCredit: 0,
      emergencyCreditActive: true,
      supply: 'enabled',
    })

    // 6. The period ends Wed 20:00 (t = 68 h = 244 800 000 ms): self-disconnection, no new alert.
    //    drawn = 77 × 244 800 000 / 8 640 = 2 181 666⅔ → 2 181 666 (⅔ mp carried),
    //    balance = 2 080 000 − 2 181 666 = −101 666; 68 h × 1 kWh = 68 000 Wh imported.
    const PERIOD_END = START + 68 * HOUR_MS
    expect(r.outputs.wakeAt).toBe(PERIOD_END)
    r = go(r.state, { kind: 'time' }, PERIOD_END)
    expect(codes(r)).toEqual([])
    expect(balances(r)).toEqual({
      meterBalance: -101_666,
      emergencyCredit: 0,
      emergencyCreditActive: true,
      supply: 'disabled',
    })
    expect(r.state.account.importEnergy).toBe(68_000)
    // Disabled, nothing more can happen by itself.
    expect(r.outputs.wakeAt).toBeUndefined()

    // 7. Thursday 08:00 (t = 80 h): 12 h disabled cost the standing charge only,
    //    43 200 000 / 1 728 = 25 000 mp exactly (⅔ still carried): balance = −126 666.
    //    The consumer types a £20 UTRN (2 000 000 mp): 300 000 repays the EC used, EC is
    //    cleared, 1 700 000 goes to the balance: −126 666 + 1 700 000 = 1 573 334. Credit is
    //    back above the threshold, so the self-disconnected supply is armed (0x8F32), then the
    //    firmware reports the keypad credit (0x810E).
    const TOP_UP = START + 80 * HOUR_MS
    r = go(r.state, { kind: 'utrn', digits: utrn(r.state, 1n, 20), via: 'keypad' }, TOP_UP)
    expect(codes(r)).toEqual([
      [0x8f32, TOP_UP],
      [0x810e, TOP_UP],
    ])
    expect(balances(r)).toEqual({
      meterBalance: 1_573_334,
      emergencyCredit: 0,
      emergencyCreditActive: false,
      supply: 'armed',
    })
    expect(r.state.account.importEnergy).toBe(68_000)
    // Armed draws the standing charge only: low credit when ⅔ + d / 1 728 ≥ 1 573 334 − 499 999
    // = 1 073 335, d ≥ 1 728 × 1 073 335 − 1 152 = 1 854 721 728 ms.
    expect(r.outputs.wakeAt).toBe(TOP_UP + 1_854_721_728)

    // 8. One minute later the consumer presses the button: supply enabled. The minute cost
    //    ⅔ + 60 000 / 1 728 = ⅔ + 34 13/18 = 35 7/18 → 35 mp (7/18 carried): 1 573 299.
    const BUTTON = TOP_UP + MINUTE_MS
    r = go(r.state, { kind: 'button' }, BUTTON)
    expect(codes(r)).toEqual([])
    expect(balances(r)).toEqual({
      meterBalance: 1_573_299,
      emergencyCredit: 0,
      emergencyCreditActive: false,
      supply: 'enabled',
    })
    // Consuming again: low credit when 7/18 + 77 d / 8 640 ≥ 1 573 299 − 499 999 = 1 073 300,
    // d ≥ (1 073 300 × 8 640 − 3 360) / 77 = 9 273 308 640 / 77 = 120 432 579.7… → 120 432 580.
    expect(r.outputs.wakeAt).toBe(BUTTON + 120_432_580)

    // 9. Thursday 12:00 the supplier sends a £10 top-up in CS01a (the second UTRN; the command's
    //    counter is the UTRN's). 3 h 59 min enabled since the button: 14 340 000 ms,
    //    7/18 + 77 × 14 340 000 / 8 640 = 7/18 + 127 798 11/18 = 127 799 exactly (nothing
    //    carried): balance 1 573 299 − 127 799 = 1 445 500, then + 1 000 000 = 2 445 500.
    //    A remote top-up raises no 0x810E (that is for credit added locally).
    const REMOTE = START + 84 * HOUR_MS
    const counter = 2n << 32n
    const cs01a = command(
      0x0007,
      { name: 'CS01a Apply Prepayment Top Up', invokeId: 7, utrn: utrn(r.state, 2n, 10) },
      r.state,
      { counter, sign: false },
    )
    r = go(r.state, { kind: 'frame', bytes: cs01a }, REMOTE)
    expect(r.outputs.outcome).toBe('executed')
    expect(codes(r)).toEqual([])
    const response = decodeFrame(r.outputs.response!)
    expect(response.signing).toMatchObject({ cra: 'response', originatorCounter: counter })
    expect(decodePayload(response.signing.content, { messageCode: 0x0007, cra: 'response' }).useCase).toEqual(
      {
        name: 'CS01a Apply Prepayment Top Up',
        invokeId: 7,
        result: 'success',
      },
    )
    expect(balances(r)).toEqual({
      meterBalance: 2_445_500,
      emergencyCredit: 0,
      emergencyCreditActive: false,
      supply: 'enabled',
    })
    expect(r.state.utrns).toEqual([1n << 32n, 2n << 32n])
    // Next low credit: drawn ≥ 2 445 500 − 499 999 = 1 945 501 from nothing carried,
    // t ≥ 8 640 × 1 945 501 / 77 = 218 300 371.9… → 218 300 372 ms (Sat 00:38:20.372).
    expect(r.outputs.wakeAt).toBe(REMOTE + 218_300_372)
  })
})

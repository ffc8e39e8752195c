import { decodeFrame, decodePayload } from '@smetsim/gbcs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { installCodeMatches, step } from './firmware.ts'
import { nextChange } from './prepayment/index.ts'
import { prepaymentContext, remainingBatteryDays } from './state.ts'
import { backend, command, PARTIES, T0, testDevice } from './testing.ts'

const DAY = 86_400_000

describe('the device-held billing calendar (SR 6.8, DP072)', () => {
  const device = testDevice('ESME', { billingCalendar: { first: T0 + DAY, everyDays: 1 } })

  it('wakes the device at the next billing date and sends 0x8F0A to the supplier in the cells', () => {
    const first = step(device, { kind: 'time' }, T0 + 1, { backend })
    expect(first.outputs.wakeAt).toBeLessThanOrEqual(T0 + DAY)
    const due = step(device, { kind: 'time' }, T0 + 3 * DAY, { backend })
    expect(due.outputs.alerts.filter((a) => a.code === 0x8f0a).map((a) => a.at)).toEqual([
      T0 + DAY,
      T0 + 2 * DAY,
      T0 + 3 * DAY,
    ])
    const alert = decodeFrame(due.outputs.alerts.find((a) => a.code === 0x8f0a)!.frame!)
    expect(alert.signing.recipient).toBe(PARTIES.supplierA.eui)
    expect(due.state.billingCalendar?.next).toBe(T0 + 4 * DAY)
  })

  it('refuses a calendar that would never advance', () => {
    expect(() => testDevice('ESME', { billingCalendar: { first: T0, everyDays: 0 } })).toThrow(/everyDays/)
  })
})

describe('HAN join', () => {
  it('accepts the install code the device was made with and no other', () => {
    const code = new Uint8Array(16).fill(7)
    const device = testDevice('GSME', { installCode: code })
    expect(installCodeMatches(device, code)).toBe(true)
    expect(installCodeMatches(device, new Uint8Array(16))).toBe(false)
    expect(installCodeMatches(device, code.subarray(0, 8))).toBe(false)
  })
})

describe('GSME battery', () => {
  it('runs down a day a day, and GCS33 reports what is left', () => {
    const gsme = testDevice('GSME', { watts: 0 })
    expect(remainingBatteryDays(gsme, T0)).toBe(3650)
    expect(remainingBatteryDays(gsme, T0 + 10 * DAY + 1)).toBe(3640)
    expect(remainingBatteryDays(gsme, T0 + 4000 * DAY)).toBe(0)
    const read = command(0x0082, { name: 'GCS33 Read Supply Status', sequenceNumber: 0 }, gsme, {
      counter: 1n,
      sign: false,
    })
    const { outputs } = step(gsme, { kind: 'frame', bytes: read }, T0 + 2 * DAY, { backend })
    const view = decodePayload(decodeFrame(outputs.response!).signing.content, {
      messageCode: 0x0082,
      cra: 'response',
    }).useCase
    expect(view).toMatchObject({ remainingBatteryLifeDays: 3648, supplyStatus: 'enabled' })
  })

  it('warns once with 0x8F1F when 30 days or fewer are left', () => {
    const gsme = testDevice('GSME', { watts: 0 })
    const lowAt = T0 + (3650 - 30) * DAY
    const quiet = step(gsme, { kind: 'time' }, lowAt - 1, { backend })
    expect(quiet.outputs.alerts.map((a) => a.code)).not.toContain(0x8f1f)
    const low = step(quiet.state, { kind: 'time' }, lowAt, { backend })
    expect(low.outputs.alerts.map((a) => a.code)).toEqual([0x8f1f])
    expect(step(low.state, { kind: 'time' }, lowAt + DAY, { backend }).outputs.alerts).toEqual([])
  })
})

describe('the remembered next prepayment change', () => {
  it('is what a fresh search finds, step after step', () => {
    let device = testDevice('ESME', { paymentMode: 'prepayment', meterBalance: 2_000_000 })
    let now = T0
    for (let i = 0; i < 40; i++) {
      now += (i % 3) * 3_600_000 + 60_000
      const { state, outputs } = step(
        device,
        i % 7 === 3 ? { kind: 'acceptEmergencyCredit', via: 'meter' } : { kind: 'time' },
        now,
        {
          backend,
        },
      )
      const fresh = nextChange(state.account, state.supply, prepaymentContext(state))
      expect(state.prepaymentNext ?? undefined).toBe(fresh)
      expect(outputs.wakeAt).toBe(fresh)
      device = state
    }
  })
})

describe('stepping at wakeAt', () => {
  it('always moves on: a rule due at the account’s own instant fires there (no endless wake at now)', () => {
    // Made with £3 on the meter, below the default £5 low-credit threshold: 0x810D is due at once.
    let device = testDevice('ESME', { paymentMode: 'prepayment', meterBalance: 300_000 })
    let now = T0
    const seen: number[] = []
    for (let i = 0; i < 6; i++) {
      const { state, outputs } = step(device, { kind: 'time' }, now, { backend })
      seen.push(...outputs.alerts.map((a) => a.code))
      device = state
      if (outputs.wakeAt === undefined) break
      expect(outputs.wakeAt).toBeGreaterThan(now)
      now = outputs.wakeAt
    }
    expect(seen[0]).toBe(0x810d)
    expect(seen).toContain(0x8f0f) // and in the end the credit runs out
  })

  it('also after a command leaves a rule due at once (payment mode to prepayment below the threshold)', () => {
    let device = testDevice('ESME', { paymentMode: 'credit', meterBalance: 300_000 })
    const collect = (credit: string, charge: string, whenDisconnected: boolean) => ({
      credit,
      charge,
      collectWhenSupplyDisconnected: whenDisconnected,
      collectInLoadLimitingPeriods: true,
      collectInFriendlyCreditPeriods: true,
    })
    const ecs03 = {
      name: 'ECS03 Set Payment Mode to Prepayment',
      invokeId: 3,
      paymentMode: 'prepayment',
      accountStatus: 'active',
      disablementThreshold: 0,
      creditChargeConfiguration: [
        collect('meterBalance', 'priceMatrix', true),
        collect('meterBalance', 'standingCharge', true),
      ],
      disablementThresholdActivationDateTime: 'now',
      activationDateTime: 'now',
    }
    const toPrepayment = command(0x001b, ecs03, device, { counter: 1n })
    const r = step(device, { kind: 'frame', bytes: toPrepayment }, T0, { backend })
    expect(r.outputs.outcome).toBe('executed')
    device = r.state
    // The rule is due at T0 itself: the device asks to be woken then, and that step fires it.
    expect(r.outputs.wakeAt).toBe(T0)
    const again = step(device, { kind: 'time' }, T0, { backend })
    expect(again.outputs.alerts.map((a) => [a.code, a.at])).toEqual([[0x810d, T0]])
    expect(again.outputs.wakeAt).toBeGreaterThan(T0)
  })
})

describe('a caller that steps at wakeAt', () => {
  it('never gets stuck: at most two steps at one instant, over random meters and consumer actions', () => {
    const money = fc.integer({ min: -500_000, max: 3_000_000 })
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom('ESME' as const, 'GSME' as const),
          meterBalance: money,
          watts: fc.integer({ min: 0, max: 5_000 }),
          supply: fc.constantFrom('enabled' as const, 'disabled' as const, 'armed' as const),
          lowCreditThreshold: fc.integer({ min: 0, max: 1_000_000 }),
          emergencyCreditThreshold: fc.integer({ min: 0, max: 500_000 }),
          emergencyCreditLimit: fc.integer({ min: 0, max: 500_000 }),
          disablementThreshold: fc.integer({ min: -200_000, max: 100_000 }),
          debt: fc.integer({ min: 0, max: 50_000 }),
          nonDisablement: fc.array(
            fc
              .record({
                day: fc.integer({ min: 0, max: 6 }),
                start: fc.integer({ min: 0, max: 1_380 }),
                len: fc.integer({ min: 1, max: 600 }),
              })
              .map(({ day, start, len }) => ({ day, start, end: Math.min(1_440, start + len) })),
            { maxLength: 3 },
          ),
          actions: fc.array(fc.constantFrom('time', 'button', 'acceptEmergencyCredit'), {
            minLength: 5,
            maxLength: 25,
          }),
        }),
        (o) => {
          let device = testDevice(o.type, {
            paymentMode: 'prepayment',
            meterBalance: o.meterBalance,
            watts: o.watts,
            supply: o.supply,
            config: {
              lowCreditThreshold: o.lowCreditThreshold,
              emergencyCreditThreshold: o.emergencyCreditThreshold,
              emergencyCreditLimit: o.emergencyCreditLimit,
              disablementThreshold: o.disablementThreshold,
              debtRecoveryRates: [o.debt, 0],
              nonDisablement: o.nonDisablement,
            },
          })
          let now = T0
          let sameInstant = 0
          for (const action of o.actions) {
            const input =
              action === 'time'
                ? ({ kind: 'time' } as const)
                : action === 'button'
                  ? ({ kind: 'button' } as const)
                  : ({ kind: 'acceptEmergencyCredit', via: 'meter' } as const)
            const { state, outputs } = step(device, input, now, { backend })
            device = state
            if (outputs.wakeAt === undefined) break
            expect(outputs.wakeAt).toBeGreaterThanOrEqual(now)
            sameInstant = outputs.wakeAt === now ? sameInstant + 1 : 0
            expect(sameInstant).toBeLessThanOrEqual(1)
            now = outputs.wakeAt
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})

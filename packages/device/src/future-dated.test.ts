import { decodeFrame, decodePayload } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { step } from './firmware.ts'
import { backend, command, T0, testDevice } from './testing.ts'

const HOUR = 3_600_000
const toCredit = (activationDateTime: string, invokeId = 7) => ({
  name: 'ECS02 Set Payment Mode to Credit',
  invokeId,
  paymentMode: 'credit',
  accountStatus: 'new',
  creditChargeConfiguration: [
    {
      credit: 'meterBalance',
      charge: 'priceMatrix',
      collectWhenSupplyDisconnected: true,
      collectInLoadLimitingPeriods: true,
      collectInFriendlyCreditPeriods: true,
    },
  ],
  activationDateTime,
})

describe('future-dated commands (ECS02 with an activation date-time)', () => {
  const device = testDevice('ESME', { paymentMode: 'prepayment', meterBalance: 5_000_000 })
  const at = new Date(T0 + 24 * HOUR).toISOString().replace('.000', '')
  const accepted = step(
    device,
    { kind: 'frame', bytes: command(0x001a, toCredit(at), device, { counter: 1n }) },
    T0 + 1,
    {
      backend,
    },
  )

  it('are acknowledged at once, change nothing yet, and wake the device at their time', () => {
    expect(accepted.outputs.outcome).toBe('executed')
    expect(accepted.state.paymentMode).toBe('prepayment')
    expect(accepted.state.pending.map((p) => p.at)).toEqual([T0 + 24 * HOUR])
    expect(accepted.outputs.wakeAt).toBeLessThanOrEqual(T0 + 24 * HOUR)
    const response = decodeFrame(accepted.outputs.response!)
    expect(
      decodePayload(response.signing.content, { messageCode: 0x001a, cra: 'response' }).useCase,
    ).toMatchObject({
      results: { accountModeAndStatus: 'success' },
    })
  })

  it('run at their time and raise 0x8F66', () => {
    const before = step(accepted.state, { kind: 'time' }, T0 + 24 * HOUR - 1, { backend })
    expect(before.state.paymentMode).toBe('prepayment')
    const due = step(before.state, { kind: 'time' }, T0 + 24 * HOUR, { backend })
    expect(due.state.paymentMode).toBe('credit')
    expect(due.state.pending).toEqual([])
    expect(due.outputs.alerts.map((a) => a.code)).toContain(0x8f66)
  })

  it("are cancelled by the same use case with an 'unspecified' date-time", () => {
    const cancel = command(0x001a, toCredit('unspecified', 8), device, { counter: 2n })
    const cancelled = step(accepted.state, { kind: 'frame', bytes: cancel }, T0 + 2, { backend })
    expect(cancelled.state.pending).toEqual([])
    const later = step(cancelled.state, { kind: 'time' }, T0 + 48 * HOUR, { backend })
    expect(later.state.paymentMode).toBe('prepayment')
    expect(later.outputs.alerts.map((a) => a.code)).not.toContain(0x8f66)
  })
})

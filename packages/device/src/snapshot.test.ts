import { describe, expect, it } from 'vitest'
import { nextWake, step } from './firmware.ts'
import { restoreDevice, snapshotDevice } from './snapshot.ts'
import { ARM, backend, command, T0, testDevice } from './testing.ts'

describe('device snapshots', () => {
  it('restore to an equal state that shares the interned credentials, and the device carries on', () => {
    const device = testDevice('ESME', {
      supply: 'disabled',
      paymentMode: 'prepayment',
      meterBalance: 1_000_000,
    })
    const armed = step(
      device,
      { kind: 'frame', bytes: command(ARM.code, ARM.view, device, { counter: 3n }) },
      T0 + 1,
      {
        backend,
      },
    ).state
    const bytes = snapshotDevice(armed)
    const restored = restoreDevice(bytes)
    expect(restored).toEqual(armed)
    expect(restored.cells.supplierDs).toBe(armed.cells.supplierDs)
    // The restored device remembers the counter: the same command is now a replay.
    const again = step(
      restored,
      { kind: 'frame', bytes: command(ARM.code, ARM.view, device, { counter: 3n }) },
      T0 + 2,
      {
        backend,
      },
    )
    expect(again.outputs.reason).toBe('replay')
  })

  it('refuses bytes that are not a snapshot, saying so', () => {
    expect(() => restoreDevice(Uint8Array.of(0xff, 0x00))).toThrow(/not a device snapshot/)
    expect(() => restoreDevice(new Uint8Array([0xa1, 0x61, 0x61, 0x01]))).toThrow(/not a device snapshot/)
  })
})

describe('GSME wake-ups', () => {
  it('come every 30 minutes by default (nextWake), offset per device', () => {
    const gsme = testDevice('GSME', { watts: 0 })
    const period = 30 * 60_000
    const first = nextWake(gsme, T0 + 1)!
    expect(first - (T0 + 1)).toBeGreaterThan(0)
    expect(first - (T0 + 1)).toBeLessThanOrEqual(period)
    expect(nextWake(gsme, first)! - first).toBe(period)
  })

  it('come at the interval it was provisioned with (wakeIntervalMinutes), and nothing else is taken', () => {
    const gsme = testDevice('GSME', { watts: 0, wakeIntervalMinutes: 1 })
    const first = nextWake(gsme, T0 + 1)!
    expect(first - (T0 + 1)).toBeLessThanOrEqual(60_000)
    expect(nextWake(gsme, first)! - first).toBe(60_000)
    for (const bad of [0, 1.5, -30, Number.NaN])
      expect(() => testDevice('GSME', { wakeIntervalMinutes: bad })).toThrow(/wakeIntervalMinutes/)
  })

  it('are not in its wakeAt: a credit GSME asks to be stepped only when its battery runs low (0x8F1F)', () => {
    const gsme = testDevice('GSME', { watts: 0 })
    const DAY = 86_400_000
    const lowAt = T0 + (3650 - 30) * DAY // a new battery of 3650 days warns at 30 left
    const { state, outputs } = step(gsme, { kind: 'time' }, T0 + 1, { backend })
    expect(outputs.wakeAt).toBe(lowAt)
    const low = step(state, { kind: 'time' }, outputs.wakeAt!, { backend })
    expect(low.outputs.alerts.map((a) => a.code)).toEqual([0x8f1f])
    expect(low.outputs.wakeAt).toBeUndefined() // warned once; nothing else due
  })
})

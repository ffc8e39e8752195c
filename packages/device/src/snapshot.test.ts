import { describe, expect, it } from 'vitest'
import { step } from './firmware.ts'
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
  it('ask to be stepped at the next wake-up, every 30 minutes by default', () => {
    const gsme = testDevice('GSME', { watts: 0 })
    const { outputs } = step(gsme, { kind: 'time' }, T0 + 1, { backend })
    const period = 30 * 60_000
    expect(outputs.wakeAt! - (T0 + 1)).toBeGreaterThan(0)
    expect(outputs.wakeAt! - (T0 + 1)).toBeLessThanOrEqual(period)
    const later = step(gsme, { kind: 'time' }, outputs.wakeAt!, { backend }).outputs.wakeAt!
    expect(later - outputs.wakeAt!).toBe(period)
  })
})

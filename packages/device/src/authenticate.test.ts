import { decodeFrame, decodePayload, verifyGeneralSigning } from '@smetsim/gbcs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { publicKeyOf } from './cells.ts'
import { type DeviceInput, step } from './firmware.ts'
import type { DeviceState } from './state.ts'
import {
  ARM,
  backend,
  command,
  DISABLE,
  ENABLE,
  installedCells,
  PARTIES,
  READ_SUPPLY,
  T0,
  testDevice,
} from './testing.ts'

const run = (device: DeviceState, bytes: Uint8Array, now = T0 + 1000) =>
  step(device, { kind: 'frame', bytes } satisfies DeviceInput, now, { backend })

/** Everything in a state except the alert counter, which every refusal's alert moves on. */
const withoutAlertCounter = ({ alertCounter: _, ...rest }: DeviceState) => rest
/** The device as time alone leaves it at `now` (consumption is settled at every step). */
const idle = (device: DeviceState, now = T0 + 1000) =>
  withoutAlertCounter(step(device, { kind: 'time' }, now).state)

describe('a Critical command from the supplier', () => {
  const device = testDevice('ESME', { supply: 'disabled' })

  it('is executed when the MAC, counter, signature and role are right', () => {
    const { state, outputs } = run(device, command(ARM.code, ARM.view, device, { counter: 10n }))
    expect(outputs.outcome).toBe('executed')
    expect(state.supply).toBe('armed')
    expect(state.counters.supplier).toBe(10n)
    expect(outputs.alerts.map((a) => a.code)).toEqual([0x8f32])
    // The response is signed by the device, keeps the command's counter, and says success.
    const response = decodeFrame(outputs.response!)
    expect(response.mac).toBeUndefined()
    expect(response.signing).toMatchObject({
      cra: 'response',
      originatorCounter: 10n,
      recipient: PARTIES.supplierA.eui,
    })
    const devicePublic = backend.importPrivateKey(device.keys.ds).publicKey
    expect(verifyGeneralSigning(response.signing, devicePublic, backend)).toBe(true)
    expect(
      decodePayload(response.signing.content, { messageCode: ARM.code, cra: 'response' }).useCase,
    ).toEqual({
      name: 'ECS44 Arm Supply',
      invokeId: 1,
      result: 'success',
    })
  })

  const refusals: [string, () => Uint8Array, string, number][] = [
    ['no MAC', () => command(ARM.code, ARM.view, device, { counter: 10n, mac: false }), 'mac', 0x8f3d],
    [
      'no signature',
      () => command(ARM.code, ARM.view, device, { counter: 10n, sign: false }),
      'signature',
      0x8f3d,
    ],
    [
      'signed by another supplier',
      () => command(ARM.code, ARM.view, device, { counter: 10n, from: PARTIES.supplierB }),
      'unknown-originator',
      0x8f3d,
    ],
    [
      'sent by the network operator',
      () => command(ARM.code, ARM.view, device, { counter: 10n, from: PARTIES.networkOperator }),
      'unauthorised',
      0x8f30,
    ],
    [
      'addressed to another device',
      () => command(ARM.code, ARM.view, testDevice('ESME', { eui: '00DB120000000002' }), { counter: 10n }),
      'recipient',
      0x8f53,
    ],
    ['garbage', () => Uint8Array.of(0xdd, 0x00, 0x01), 'malformed', 0x8f1e],
  ]
  for (const [what, build, reason, alert] of refusals) {
    it(`is refused, changing nothing, when ${what}`, () => {
      const { state, outputs } = run(device, build())
      expect(outputs).toMatchObject({ outcome: 'rejected', reason })
      expect(outputs.response).toBeUndefined()
      expect(outputs.alerts.map((a) => a.code)).toEqual([alert])
      expect(withoutAlertCounter(state)).toEqual(idle(device))
    })
  }

  it('is refused as a replay when its counter is not above the last accepted', () => {
    const first = run(device, command(ARM.code, ARM.view, device, { counter: 10n })).state
    const again = command(DISABLE.code, DISABLE.view, device, { counter: 10n })
    const { state, outputs } = run(first, again)
    expect(outputs).toMatchObject({ outcome: 'rejected', reason: 'replay' })
    expect(outputs.alerts.map((a) => a.code)).toEqual([0x8f53])
    expect(withoutAlertCounter(state)).toEqual(idle(first))
    expect(run(first, command(ENABLE.code, ENABLE.view, device, { counter: 11n })).state.supply).toBe(
      'enabled',
    )
  })
})

describe('a non-critical command', () => {
  const device = testDevice()

  it('needs no signature, and its response is MACed for the sender, not signed', () => {
    const { outputs } = run(
      device,
      command(READ_SUPPLY.code, READ_SUPPLY.view, device, { counter: 5n, sign: false }),
    )
    expect(outputs.outcome).toBe('executed')
    const response = decodeFrame(outputs.response!)
    expect(response.signing.signature.kind).toBe('empty')
    expect(response.mac).toHaveLength(12)
    expect(
      decodePayload(response.signing.content, { messageCode: READ_SUPPLY.code, cra: 'response' }).useCase,
    ).toMatchObject({
      supplyStatus: 'enabled',
    })
  })

  it('from the network operator is allowed for ECS45', () => {
    const bytes = command(READ_SUPPLY.code, READ_SUPPLY.view, device, {
      counter: 5n,
      sign: false,
      from: PARTIES.networkOperator,
    })
    expect(run(device, bytes).outputs.outcome).toBe('executed')
  })
})

describe('refusal alerts', () => {
  it('are signed critical alerts to the supplier in the cells', () => {
    const device = testDevice()
    const { outputs } = run(device, command(ARM.code, ARM.view, device, { counter: 1n, mac: false }))
    const alert = decodeFrame(outputs.alerts[0]!.frame!)
    expect(alert.signing).toMatchObject({
      cra: 'alert',
      messageCode: 0x1000,
      recipient: PARTIES.supplierA.eui,
    })
    expect(
      verifyGeneralSigning(alert.signing, backend.importPrivateKey(device.keys.ds).publicKey, backend),
    ).toBe(true)
  })
})

describe('no sequence of tampered frames changes the state', () => {
  it('flipping any bit of an authentic command makes the device refuse it and change nothing', () => {
    const device = testDevice('ESME', { supply: 'disabled' })
    const frames = [ARM, DISABLE, ENABLE].map((c, i) =>
      command(c.code, c.view, device, { counter: BigInt(20 + i) }),
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 7 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (flips) => {
          let state = device
          for (const [which, position, bit] of flips) {
            const bytes = frames[which]!.slice()
            const at = position % bytes.length
            bytes[at] = bytes[at]! ^ (1 << bit)
            const r = run(state, bytes)
            expect(r.outputs.outcome).toBe('rejected')
            state = r.state
          }
          expect(withoutAlertCounter(state)).toEqual(idle(device))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('random bytes never change the state', () => {
    const device = testDevice()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = run(device, bytes)
        expect(r.outputs.outcome).toBe('rejected')
        expect(withoutAlertCounter(r.state)).toEqual(idle(device))
      }),
      { numRuns: 300 },
    )
  })
})

describe('trust anchor cells', () => {
  it('share one credential object and one parsed key between devices', () => {
    const a = installedCells()
    const b = installedCells()
    expect(a.supplierDs).toBe(b.supplierDs)
    expect(publicKeyOf(a.supplierDs!, backend)).toBe(publicKeyOf(b.supplierDs!, backend))
  })
})

/**
 * End to end for the device rules of issue 11: Service Requests built, signed and MACed by the
 * DCC package reach an emulated meter as GBCS bytes, and the meter's answer is read back from its
 * state and its alerts.
 *
 *  - SR 1.6 to credit on a prepayment meter that disconnected itself arms the supply (0x8F32);
 *    the consumer's button enables it (MP134B).
 *  - SR 1.6 to prepayment: the suspend-debt flags the DCC puts in the ECS03 become the meter's.
 *  - SR 2.2: the top-up's counter is the UTRN's; it neither needs nor moves the supplier's
 *    command counter, and a replay is a duplicate UTRN (0x8F51).
 *  - SR 6.23: the gaining supplier's UTRNs count from its own floor (the UTRN counter cache is
 *    reset with the prepayment top-up cell).
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import { createDevice, type DeviceState, HOUR_MS, type StepResult, step } from '@smetsim/device'
import { generateUtrn, type Json } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import {
  changeOfSupplierCommand,
  constructCommand,
  createInProcessSigner,
} from '../packages/dcc/src/gbcs/construct.ts'
import type { GbcsServiceRequest } from '../packages/dcc/src/gbcs/service-requests.ts'
import {
  ACB,
  backend,
  cosParameters,
  ESME_EUI,
  GSME_EUI,
  PARTIES,
  type Party,
  privateRef,
  T0,
} from '../packages/dcc/src/gbcs/testing.ts'
import { installedCells, kaPublic } from './support.ts'

const request = (
  srv: string,
  d: DeviceState,
  parameters: { [k: string]: Json } = {},
): GbcsServiceRequest => ({
  srv,
  target: d.eui,
  deviceType: d.type as 'ESME' | 'GSME',
  parameters,
})

/** A User's Service Request as the DCC sends it: built, signed in-process when Critical, MACed. */
const fromUser = (sr: GbcsServiceRequest, d: DeviceState, counter: bigint, user: Party = PARTIES.supplierA) =>
  constructCommand(
    sr,
    {
      originator: user.eui,
      counter,
      signer: createInProcessSigner(privateRef(user.ds), backend),
      acb: ACB,
      deviceKaPublic: kaPublic(d),
      now: T0,
    },
    backend,
  )

const deliver = (d: DeviceState, bytes: Uint8Array, at: number): StepResult =>
  step(d, { kind: 'frame', bytes }, at, { backend })
const codes = (r: StepResult) => r.outputs.alerts.map((a) => a.code)

/** A prepayment meter with 10 p, no emergency credit, drawing 1 kW: off within the first hour. */
function selfDisconnected(type: 'ESME' | 'GSME'): DeviceState {
  const made = createDevice({
    type,
    eui: type === 'ESME' ? ESME_EUI : GSME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: 'prepayment',
    meterBalance: 10_000,
    watts: 1000,
    config: { emergencyCreditLimit: 0, emergencyCreditThreshold: 0, disablementThreshold: 0 },
  })
  return step(made, { kind: 'time' }, T0 + HOUR_MS, { backend }).state
}

describe.each(['ESME', 'GSME'] as const)('SR 1.6 from the DCC on a self-disconnected %s', (type) => {
  it('arms the supply; the button enables it', () => {
    const off = selfDisconnected(type)
    expect(off.supply).toBe('disabled')
    const r = deliver(
      off,
      fromUser(request('1.6', off, { paymentMode: 'credit' }), off, 1001n),
      T0 + 2 * HOUR_MS,
    )
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state).toMatchObject({ paymentMode: 'credit', supply: 'armed' })
    expect(codes(r)).toEqual([0x8f32])
    expect(step(r.state, { kind: 'button' }, T0 + 3 * HOUR_MS, { backend }).state.supply).toBe('enabled')
  })
})

describe('SR 1.6 to prepayment from the DCC on an ESME', () => {
  it.each([
    [true, false],
    [false, true],
  ])('SuspendDebtDisabled %s and SuspendDebtEmergency %s reach the meter', (disabled, emergency) => {
    const d = createDevice({
      type: 'ESME',
      eui: ESME_EUI,
      cells: installedCells(),
      now: T0,
      config: { suspendDebtDisabled: !disabled, suspendDebtEmergency: !emergency },
    })
    const sr = request('1.6', d, {
      paymentMode: 'prepayment',
      suspendDebtDisabled: disabled,
      suspendDebtEmergency: emergency,
    })
    const r = deliver(d, fromUser(sr, d, 1001n), T0 + 1000)
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.config).toMatchObject({ suspendDebtDisabled: disabled, suspendDebtEmergency: emergency })
  })
})

/** Supplier `p`'s n-th UTRN (counter n·2^32) for `d`, worth £5. */
const utrn = (p: Party, d: DeviceState, n: bigint) =>
  generateUtrn({
    counter: n << 32n,
    value: 5,
    valueClass: 'pounds',
    originator: p.eui,
    recipient: d.eui,
    key: { own: privateRef(p.pp!), other: kaPublic(d) },
    backend,
  })

describe('SR 2.2 from the DCC: the top-up counter is the UTRN’s', () => {
  const d = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: 'prepayment',
    meterBalance: 1_000_000,
    // Nothing drawn, so every change to the balance is a top-up.
    watts: 0,
    tariff: { unitRate: 30_000, standingCharge: 0 },
  })

  it('a top-up after a command leaves the command counter where it was; the next command works', () => {
    const armed = deliver(d, fromUser(request('7.3', d), d, 1001n), T0 + 1000)
    expect(armed.state.counters.supplier).toBe(1001n)
    const topUp = deliver(
      armed.state,
      fromUser(request('2.2', d, { utrn: utrn(PARTIES.supplierA, d, 1n) }), d, 1n << 32n),
      T0 + 2000,
    )
    expect(topUp.outputs.outcome).toBe('executed')
    expect(topUp.state.counters).toMatchObject({ supplier: 1001n })
    expect(topUp.state.utrns).toEqual([1n << 32n])
    expect(topUp.state.account.meterBalance).toBe(1_500_000)
    const next = deliver(topUp.state, fromUser(request('7.4', d), d, 1002n), T0 + 3000)
    expect(next.outputs.outcome).toBe('executed')
    // The same top-up sent again is a duplicate UTRN, not a replayed command.
    const again = deliver(
      next.state,
      fromUser(request('2.2', d, { utrn: utrn(PARTIES.supplierA, d, 1n) }), d, 1n << 32n),
      T0 + 4000,
    )
    expect(codes(again)).toEqual([0x8f51])
    expect(again.state.account.meterBalance).toBe(next.state.account.meterBalance)
  })
})

describe('SR 6.23 from the DCC: the gaining supplier’s top-ups count from its own floor', () => {
  it('the UTRN counter cache is reset with the prepayment top-up cell', () => {
    let d = createDevice({
      type: 'ESME',
      eui: ESME_EUI,
      cells: installedCells(),
      now: T0,
      paymentMode: 'prepayment',
      meterBalance: 1_000_000,
      watts: 0,
    })
    for (const n of [1n, 2n])
      d = step(d, { kind: 'utrn', digits: utrn(PARTIES.supplierA, d, n), via: 'keypad' }, T0 + 1000, {
        backend,
      }).state
    expect(d.utrns).toEqual([1n << 32n, 2n << 32n])
    const cos = { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) }
    const bytes = changeOfSupplierCommand(
      request('6.23', d, cosParameters(PARTIES.supplierB)),
      { cos, counter: 7000n, acb: ACB, deviceKaPublic: kaPublic(d), now: T0 },
      backend,
    )
    const gained = deliver(d, bytes, T0 + 2000)
    expect(gained.state.cells.supplierPrepaymentKa?.eui).toBe(PARTIES.supplierB.eui)
    expect(gained.state.utrns).toEqual([])
    const b1 = deliver(
      gained.state,
      fromUser(request('2.2', d, { utrn: utrn(PARTIES.supplierB, d, 1n) }), d, 1n << 32n, PARTIES.supplierB),
      T0 + 3000,
    )
    expect(b1.outputs.outcome).toBe('executed')
    expect(codes(b1)).toEqual([])
    expect(b1.state.account.meterBalance).toBe(gained.state.account.meterBalance + 500_000)
  })
})

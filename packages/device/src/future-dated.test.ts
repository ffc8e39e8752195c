/**
 * Future-dated commands: kept, run at their time, and their outcome alerts (0x00CC for an ESME,
 * 0x00CD for a GSME) as the DCC's Reference Test Data Set shows them (SR 1.6). The RTDS views
 * are pinned below by hand; with a copy of the RTDS (GPL-3.0, not in this repository) the pins
 * are checked against the real frames, and the RTDS commands themselves are run on a device:
 *
 *   SMETSIM_RTDS=/path/to/RTDS-4.5.0 npx vitest run packages/device/src/future-dated.test.ts
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fromHex } from '@smetsim/core'
import { decodeFrame, decodePayload, type FrameJson, frameToJson, type Json } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import type { DeviceType } from './authority.ts'
import { step } from './firmware.ts'
import type { DeviceState } from './state.ts'
import { backend, command, PARTIES, T0, testDevice } from './testing.ts'

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

// ---------------------------------------------------------------------------------------------
// The outcome alerts as real meters send them (RTDS 4.5.0, SR 1.6)

type View = { name: string; [k: string]: Json }

const charge = (credit: string, chargeName: string, inFriendlyCredit = true) => ({
  credit,
  charge: chargeName,
  collectWhenSupplyDisconnected: true,
  collectInLoadLimitingPeriods: true,
  collectInFriendlyCreditPeriods: inFriendlyCredit,
})

interface Case {
  name: string
  type: DeviceType
  dir: string
  /** The RTDS command file, its message code and originator counter and its use-case view. */
  commandFile: string
  messageCode: number
  counter: bigint
  view: View
  /** The instant the command runs (its activation / execution date-time). */
  at: string
  /** The RTDS alerts it raises then, in order: file and frameToJson, pinned by hand. */
  alerts: { file: string; frame: Pinned }[]
}

/** An RTDS alert frame as frameToJson shows it, but its payload's structure and its signature. */
interface Pinned {
  cra: 'alert'
  originatorCounter: string
  originator: string
  recipient: string
  messageCode: string
  payload: { format: string; useCase: View }
}

/** What `shape` reads of a frame: FrameJson, or a Pinned one with its signature's kind. */
interface Framed {
  cra: string
  messageCode: string
  payload: unknown
  signature?: { kind: string }
  mac?: string
}

const ESME_RTDS = '00DB1234567890A0'
const GSME_RTDS = '00DB1234567890A1'
const SUPPLIER_RTDS = '90B3D51F30010000'
const ACCOUNT = { classId: 111, instance: '0.1.19.0.0.255' }
const DISABLEMENT_THRESHOLD = { classId: 9000, instance: '0.0.94.44.128.22' }
const CHANGE_PAYMENT_MODE = {
  clusterId: '0705',
  frameType: 'cluster',
  direction: 'toServer',
  disableDefaultResponse: false,
  commandId: 6,
  command: 'changePaymentMode',
}
const ESME_8F66 = 'ESME Alert 8F66 Future-Dated Command Successfully Actioned'
const GSME_8F66 = 'GSME Alert 8F66 Future-Dated Command Executed'
const esmeAlert = (counter: number, futureDatedCommand: Json): Pinned => ({
  cra: 'alert',
  originatorCounter: String(counter),
  originator: ESME_RTDS,
  recipient: SUPPLIER_RTDS,
  messageCode: '00CC',
  payload: {
    format: 'dlms',
    useCase: {
      name: ESME_8F66,
      invokeId: 0x20000000 + counter,
      alertCode: '8F66',
      timestamp: '2030-01-15T09:00:00Z',
      futureDatedCommand,
    },
  },
})
const gsmeAlert = (counter: number, timestamp: string, futureDatedCommand: Json): Pinned => ({
  cra: 'alert',
  originatorCounter: String(counter),
  originator: GSME_RTDS,
  recipient: SUPPLIER_RTDS,
  messageCode: '00CD',
  payload: {
    format: 'gbz',
    useCase: { name: GSME_8F66, alertCode: '8F66', timestamp, futureDatedCommand },
  },
})

const CASES: Case[] = [
  {
    name: 'ECS02',
    type: 'ESME',
    dir: '1.6_ECS02',
    commandFile: 'ECS02_1.6_FUTURE_DATED_TWIN_SUCCESS_COMMAND_GBCS.HEX',
    messageCode: 0x001a,
    counter: 1005n,
    view: {
      name: 'ECS02 Set Payment Mode to Credit',
      invokeId: 536871917,
      paymentMode: 'credit',
      accountStatus: 'new',
      creditChargeConfiguration: [
        charge('meterBalance', 'priceMatrix'),
        charge('meterBalance', 'standingCharge'),
        charge('meterBalance', 'secondaryPriceMatrix'),
      ],
      activationDateTime: '2030-01-15T09:00:00Z',
    },
    at: '2030-01-15T09:00:00Z',
    alerts: [
      {
        file: 'ECS02_1.6_8F66_FUTURE_DATED_TWIN_SUCCESS_ALERT_PAYMENT_MODE_GBCS.HEX',
        frame: esmeAlert(2002, { messageCode: '001A', originatorCounter: '1005', ...ACCOUNT, attribute: 13 }),
      },
    ],
  },
  {
    name: 'ECS03',
    type: 'ESME',
    dir: '1.6_ECS03',
    commandFile: 'ECS03_1.6_FUTURE_DATED_TWIN_SUCCESS_COMMAND_GBCS.HEX',
    messageCode: 0x001b,
    counter: 1011n,
    view: {
      name: 'ECS03 Set Payment Mode to Prepayment',
      invokeId: 536871923,
      paymentMode: 'prepayment',
      accountStatus: 'new',
      disablementThreshold: 556677,
      creditChargeConfiguration: [
        charge('meterBalance', 'priceMatrix'),
        charge('meterBalance', 'standingCharge'),
        charge('meterBalance', 'debtRecoveryRate1', false),
        charge('meterBalance', 'debtRecoveryRate2', false),
        charge('meterBalance', 'debtRecoveryPerPayment'),
        charge('emergencyCredit', 'debtRecoveryPerPayment'),
        charge('emergencyCredit', 'priceMatrix'),
        charge('emergencyCredit', 'standingCharge'),
        charge('emergencyCredit', 'debtRecoveryRate1', false),
        charge('emergencyCredit', 'debtRecoveryRate2', false),
        charge('meterBalance', 'secondaryPriceMatrix'),
        charge('emergencyCredit', 'secondaryPriceMatrix'),
      ],
      disablementThresholdActivationDateTime: '2030-01-15T09:00:00Z',
      activationDateTime: '2030-01-15T09:00:00Z',
    },
    at: '2030-01-15T09:00:00Z',
    alerts: [
      {
        file: 'ECS03_1.6_8F66_FUTURE_DATED_TWIN_SUCCESS_ALERT_DISABLEMENT_THRESHOLD_GBCS.HEX',
        frame: esmeAlert(2004, {
          messageCode: '001B',
          originatorCounter: '1011',
          ...DISABLEMENT_THRESHOLD,
          attribute: 6,
        }),
      },
      {
        file: 'ECS03_1.6_8F66_FUTURE_DATED_TWIN_SUCCESS_ALERT_PAYMENT_MODE_GBCS.HEX',
        frame: esmeAlert(2005, { messageCode: '001B', originatorCounter: '1011', ...ACCOUNT, attribute: 13 }),
      },
    ],
  },
  {
    name: 'GCS02',
    type: 'GSME',
    dir: '1.6_GCS02',
    commandFile: 'GCS02_1.6_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX',
    messageCode: 0x006c,
    counter: 1001n,
    view: {
      name: 'GCS02 Set Payment Mode to Credit',
      sequenceNumber: 0,
      providerId: 0,
      issuerEventId: 473385600,
      executionDateTime: '2030-01-15T09:00:00Z',
      paymentMode: 'credit',
      disablementThreshold: -1,
    },
    at: '2030-01-15T09:00:00Z',
    alerts: [
      {
        file: 'GCS02_1.6_8F66_FUTURE_DATED_SUCCESS_ALERT_CHANGE_PAYMENT_MODE_GBCS.HEX',
        frame: gsmeAlert(3000, '2030-01-15T09:00:00Z', {
          messageCode: '006C',
          originatorCounter: '1001',
          ...CHANGE_PAYMENT_MODE,
        }),
      },
    ],
  },
  {
    name: 'GCS03',
    type: 'GSME',
    dir: '1.6_GCS03',
    commandFile: 'GCS03_1.6_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX',
    messageCode: 0x006d,
    counter: 1005n,
    view: {
      name: 'GCS03 Set Payment Mode to Prepayment',
      sequenceNumber: 0,
      providerId: 0,
      issuerEventId: 473385600,
      executionDateTime: '2030-01-15T00:00:00Z',
      paymentMode: 'prepayment',
      suspendDebtDisabled: false,
      suspendDebtEmergency: true,
      disablementThreshold: 0,
    },
    at: '2030-01-15T00:00:00Z',
    alerts: [
      {
        file: 'GCS03_1.6_8F66_FUTURE_DATED_SUCCESS_ALERT_CHANGE_PAYMENT_MODE_GBCS.HEX',
        frame: gsmeAlert(3001, '2030-01-15T00:00:00Z', {
          messageCode: '006D',
          originatorCounter: '1005',
          ...CHANGE_PAYMENT_MODE,
        }),
      },
    ],
  },
]

/**
 * What must be the same in the device's alert and the RTDS's: all but the frame's own counter
 * and the two EUIs (and the ESME's invoke id, which follows the counter), checked apart.
 */
function shape(f: Framed): Json {
  const payload = f.payload as { format: string; useCase: View }
  const { invokeId: _, ...useCase } = payload.useCase
  return {
    cra: f.cra,
    messageCode: f.messageCode,
    format: payload.format,
    useCase,
    signed: f.signature?.kind === 'ecdsa',
    maced: f.mac !== undefined,
  }
}

/** The device accepts `view` (sent by supplier A), is stepped to its time and returns the frames it raised then. */
function runCase(
  c: Case,
  view: View,
  fault = false,
): { device: DeviceState; alerts: { code: number; at: number; json: FrameJson }[] } {
  // In the other payment mode, so that running the command shows.
  const from = c.view.paymentMode === 'credit' ? 'prepayment' : 'credit'
  const device = testDevice(c.type, { meterBalance: 5_000_000, paymentMode: from })
  const accepted = step(
    device,
    { kind: 'frame', bytes: command(c.messageCode, view, device, { counter: c.counter }) },
    T0,
    { backend },
  )
  expect(accepted.outputs.outcome).toBe('executed')
  expect(accepted.state.pending).toHaveLength(1)
  let state = accepted.state
  if (fault) {
    // A fault inside the use case when it runs: the command cannot be executed at its time.
    const p = state.pending[0]!
    const broken = Object.defineProperty({ ...p.view }, 'paymentMode', {
      enumerable: true,
      get: () => {
        throw new Error('fault')
      },
    })
    state = { ...state, pending: [{ ...p, view: broken }] }
  }
  const at = Date.parse(c.at)
  expect(accepted.outputs.wakeAt).toBeLessThanOrEqual(at)
  const due = step(state, { kind: 'time' }, at, { backend })
  expect(due.state.pending).toEqual([])
  return {
    device: due.state,
    alerts: due.outputs.alerts
      .filter((a) => a.code === 0x8f66 || a.code === 0x8f67)
      .map((a) => ({ code: a.code, at: a.at, json: frameToJson(decodeFrame(a.frame!)) })),
  }
}

describe.each(CASES)('future-dated $name: the outcome alerts as in the RTDS', (c) => {
  it('at its time: one alert per attribute set (RTDS order), decoding to the RTDS view', () => {
    const { device, alerts } = runCase(c, c.view)
    expect(alerts.map((a) => [a.code, a.at])).toEqual(c.alerts.map(() => [0x8f66, Date.parse(c.at)]))
    expect(alerts.map((a) => shape(a.json))).toEqual(
      c.alerts.map((a) => shape({ ...a.frame, signature: { kind: 'ecdsa' } })),
    )
    for (const a of alerts) {
      expect(a.json.originator).toBe(device.eui)
      expect(a.json.recipient).toBe(PARTIES.supplierA.eui)
      if (c.type === 'ESME')
        expect((a.json.payload as { useCase: View }).useCase.invokeId).toBe(
          0x20000000 + Number(a.json.originatorCounter),
        )
    }
    // The counters move on one per alert.
    const counters = alerts.map((a) => BigInt(a.json.originatorCounter))
    expect(counters).toEqual(counters.map((_, i) => counters[0]! + BigInt(i)))
    expect(device.paymentMode).toBe(c.view.paymentMode)
  })

  it('0x8F67 with the same payload when the command cannot be executed at its time', () => {
    const { device, alerts } = runCase(c, c.view, true)
    expect(alerts.map((a) => a.code)).toEqual(c.alerts.map(() => 0x8f67))
    expect(alerts.map((a) => shape(a.json))).toEqual(
      c.alerts.map((a) => {
        const s = shape({ ...a.frame, signature: { kind: 'ecdsa' } }) as { useCase: View }
        const name = c.type === 'ESME' ? 'ESME Alert 8F67' : 'GSME Alert 8F67'
        return {
          ...s,
          useCase: { ...s.useCase, name: expect.stringMatching(new RegExp(`^${name}`)), alertCode: '8F67' },
        }
      }),
    )
    // Not executed: the payment mode is what it was.
    expect(device.paymentMode).not.toBe(c.view.paymentMode)
  })
})

const RTDS = process.env.SMETSIM_RTDS

describe.skipIf(!RTDS)('future-dated outcome alerts against the RTDS files', () => {
  const read = (dir: string, file: string) =>
    frameToJson(decodeFrame(fromHex(readFileSync(join(RTDS!, dir, file), 'utf8').replace(/\s+/g, ''))))

  it.each(CASES)('$name: the pinned views are the RTDS frames', (c) => {
    const cmd = read(c.dir, c.commandFile)
    expect(cmd).toMatchObject({ messageCode: c.messageCode.toString(16).toUpperCase().padStart(4, '0') })
    expect(cmd.originatorCounter).toBe(c.counter.toString())
    expect((cmd.payload as { useCase: View }).useCase).toEqual(c.view)
    for (const a of c.alerts) {
      const real = read(c.dir, a.file)
      expect(real).toMatchObject({ ...a.frame, signature: { kind: 'ecdsa' } })
      expect((real.payload as { useCase: View }).useCase).toEqual(a.frame.payload.useCase)
      expect(real.mac).toBeUndefined()
    }
  })

  it.each(CASES)('$name: the RTDS command run on a device raises the RTDS alerts', (c) => {
    const cmd = read(c.dir, c.commandFile)
    const { alerts } = runCase(c, (cmd.payload as { useCase: View }).useCase)
    const real = c.alerts.map((a) => read(c.dir, a.file))
    expect(alerts.map((a) => shape(a.json))).toEqual(real.map(shape))
    // The decoded payload structures are the RTDS's, the ESME's invoke id (its alert counter) aside.
    const structure = (f: FrameJson) => {
      const { invokeId: _, ...rest } = (f.payload as { structure: { [k: string]: Json } }).structure
      return rest
    }
    expect(alerts.map((a) => structure(a.json))).toEqual(real.map(structure))
  })
})

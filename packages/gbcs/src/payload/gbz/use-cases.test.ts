import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import type { Cra, Json, PayloadContext } from '../types.ts'
import { gbzFamily } from './gbz.ts'
import { GBZ_USE_CASES, gbzUseCases, type View } from './use-cases.ts'

const ctxOf = (messageCode: number, cra: Cra): PayloadContext => ({ messageCode, cra })

function codec(ctx: PayloadContext) {
  const uc = gbzUseCases.find((u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra))
  if (!uc) throw new Error(`no view for ${ctx.messageCode}`)
  return uc
}

/** build → bytes → decode → interpret gives the view back; returns the bytes. */
function viewRoundTrip(view: View, ctx: PayloadContext): string {
  const uc = codec(ctx)
  const bytes = gbzFamily.encode(uc.build(view, ctx), ctx)
  const s = gbzFamily.decode(bytes, ctx, 0)
  expect(uc.interpret(JSON.parse(JSON.stringify(s)) as Json, ctx)).toEqual(view)
  return toHex(bytes)
}

function interpret(h: string, ctx: PayloadContext): View | undefined {
  return codec(ctx).interpret(gbzFamily.decode(fromHex(h), ctx, 0), ctx)
}

describe('GBZ use-case views', () => {
  it('lists the use cases', () => {
    expect(GBZ_USE_CASES.map((u) => u.name)).toEqual([
      'GCS02 Set Payment Mode to Credit',
      'GCS03 Set Payment Mode to Prepayment',
      'GCS32 Restrict Supply',
      'GCS39 Arm Supply',
      'GCS33 Read Supply Status',
      'GCS06 Activate Emergency Credit',
      'GCS13a Read Import Registers',
      'GCS14 Read Prepayment Values',
      'GCS25 Update Billing Calendar',
      'GCS25a Update Billing Calendar (all periodicities)',
    ])
  })

  it('GCS25 / GCS25a: Publish Billing Period and Publish Block Period, two Default Responses', () => {
    const view: View = {
      name: 'GCS25 Update Billing Calendar',
      sequenceNumber: 7,
      providerId: 1,
      issuerEventId: 2,
      billingPeriodStartTime: '2026-01-01T00:00:00Z',
      billingPeriodDuration: 3,
      billingPeriodDurationType: '23',
      tariffType: '00',
      blockPeriodStartTime: '2026-01-01T00:00:00Z',
      blockPeriodDuration: 3,
      blockPeriodControl: '02',
      blockPeriodDurationType: '23',
      tariffResolutionPeriod: 1,
    }
    const command =
      '0109' + // GBZ profile
      '02' + // 2 components
      '00 0700 0014' + // not last; Price cluster; 20 bytes
      '09 07 09' + // cluster-specific, server to client; sequence 7; Publish Billing Period
      '01000000 02000000 8075E830' + // provider 1, issuer event 2, start 2026-01-01 (UTC seconds since 2000)
      '030000 23 00' + // duration 3, months (not specified), tariff type 0
      '01 0700 0016' + // last; Price cluster; 22 bytes
      '09 08 01' + // sequence 8, Publish Block Period
      '01000000 02000000 8075E830' + // provider, issuer event, start
      '030000 02 23 00 01' // duration 3, control, duration type, tariff type, resolution period
    expect(viewRoundTrip(view, ctxOf(0x007e, 'command'))).toBe(command.replace(/ /g, ''))
    viewRoundTrip(
      { ...view, name: 'GCS25a Update Billing Calendar (all periodicities)' },
      ctxOf(0x00d8, 'command'),
    )
    const response =
      '0109 02' + // 2 components
      '00 0700 0005 00 07 0B 09 00' + // global, client to server; Default Response to command 9: success
      '01 0700 0005 00 08 0B 01 C0' // Default Response to command 1: hardware failure
    expect(
      viewRoundTrip(
        {
          name: 'GCS25 Update Billing Calendar',
          sequenceNumber: 7,
          results: { billingPeriod: 'success', blockPeriod: 'hardware-failure' },
        },
        ctxOf(0x007e, 'response'),
      ),
    ).toBe(response.replace(/ /g, ''))
  })

  it('GCS03: prepayment with the suspend-debt choices, built to the Change Payment Mode bytes', () => {
    const ctx = ctxOf(0x006d, 'command')
    const h = viewRoundTrip(
      {
        name: 'GCS03 Set Payment Mode to Prepayment',
        sequenceNumber: 3,
        providerId: 9,
        issuerEventId: 17,
        executionDateTime: '2024-06-01T00:00:00Z',
        paymentMode: 'prepayment',
        suspendDebtDisabled: true,
        suspendDebtEmergency: false,
        disablementThreshold: -500,
      },
      ctx,
    )
    // control 01, cluster 0705, length 21; ZCL 01 03 06; fields little-endian; 0x0C97; -500
    expect(h).toBe('01090101070500150103060900000011000000' + '0021ED2D' + '970C0CFEFFFF')
  })

  it('GCS02: credit mode, "now" and "unspecified" times, and raw configurations', () => {
    const ctx = ctxOf(0x006c, 'command')
    const base = {
      name: 'GCS02 Set Payment Mode to Credit',
      sequenceNumber: 0,
      providerId: 0,
      issuerEventId: 1,
    }
    viewRoundTrip({ ...base, executionDateTime: 'now', paymentMode: 'credit', disablementThreshold: -1 }, ctx)
    viewRoundTrip(
      { ...base, executionDateTime: 'unspecified', paymentMode: 'credit', disablementThreshold: 0 },
      ctx,
    )
    viewRoundTrip(
      { ...base, executionDateTime: 'now', paymentControlConfiguration: '0001', disablementThreshold: 0 },
      ctx,
    )
    expect(() => codec(ctx).build({ ...base, executionDateTime: 'now', paymentMode: 'barter' }, ctx)).toThrow(
      /paymentMode/,
    )
  })

  it('GCS02/03 responses: Change Payment Mode Response or a Default Response', () => {
    const ctx = ctxOf(0x006c, 'response')
    const name = 'GCS02 Set Payment Mode to Credit'
    viewRoundTrip(
      {
        name,
        sequenceNumber: 1,
        friendlyCredit: false,
        friendlyCreditCalendarId: 5,
        emergencyCreditLimit: 1500,
        emergencyCreditThreshold: 300,
      },
      ctx,
    )
    expect(viewRoundTrip({ name, sequenceNumber: 1, result: 'not-authorized' }, ctx)).toBe(
      '010901010705000508010B067E',
    )
    viewRoundTrip({ name, sequenceNumber: 1, result: 'failure', defaultResponseTo: 0xff }, ctx)
  })

  it('GCS32 / GCS39: Change Supply with the proposed status fixed by the use case', () => {
    const view = {
      sequenceNumber: 0,
      providerId: 0,
      issuerEventId: 77,
      requestDateTime: 'now',
      executionDateTime: '2030-01-01T12:00:00Z',
      acknowledgeRequired: true,
    }
    const close = viewRoundTrip({ name: 'GCS32 Restrict Supply', ...view }, ctxOf(0x0081, 'command'))
    const arm = viewRoundTrip({ name: 'GCS39 Arm Supply', ...view }, ctxOf(0x0085, 'command'))
    expect(close.slice(-4)).toBe('0001')
    expect(arm.slice(-4)).toBe('0101')
    // the GCS39 bytes are not a GCS32 command
    expect(interpret(arm, ctxOf(0x0081, 'command'))).toBeUndefined()
    viewRoundTrip(
      {
        name: 'GCS32 Restrict Supply',
        sequenceNumber: 0,
        providerId: 0,
        issuerEventId: 77,
        executionDateTime: 'now',
        supplyStatus: 'disabled',
      },
      ctxOf(0x0081, 'response'),
    )
  })

  it('GCS33: Read Attributes of battery life and supply status, and the response values', () => {
    const name = 'GCS33 Read Supply Status'
    expect(viewRoundTrip({ name, sequenceNumber: 2 }, ctxOf(0x0082, 'command'))).toBe(
      '010901010702000700020005021400',
    )
    const ctx = ctxOf(0x0082, 'response')
    viewRoundTrip(
      {
        name,
        sequenceNumber: 2,
        remainingBatteryLifeDays: 3650,
        supplyStatus: 'armed',
        results: { remainingBatteryLifeDays: 'success', supplyStatus: 'success' },
      },
      ctx,
    )
    viewRoundTrip(
      {
        name,
        sequenceNumber: 2,
        supplyStatus: 'enabled',
        results: { remainingBatteryLifeDays: 'unsupported-attribute', supplyStatus: 'success' },
      },
      ctx,
    )
    // a different attribute list is not this use case
    expect(interpret('010901010702000700020005021500', ctxOf(0x0082, 'command'))).toBeUndefined()
  })

  it('GCS06: Select Available Emergency Credit and its Default Response', () => {
    const name = 'GCS06 Activate Emergency Credit'
    expect(
      viewRoundTrip(
        { name, sequenceNumber: 0, commandIssueDateTime: 'now', originatingDevice: 0 },
        ctxOf(0x0070, 'command'),
      ),
    ).toBe('01090101070500080100000000000000')
    viewRoundTrip({ name, sequenceNumber: 0, result: 'success' }, ctxOf(0x0070, 'response'))
  })

  it('GCS13a: fixed read, then an encrypted or plain response', () => {
    const name = 'GCS13a Read Import Registers'
    viewRoundTrip({ name, sequenceNumber: 9 }, ctxOf(0x0074, 'command'))
    const ctx = ctxOf(0x0074, 'response')
    const prot = {
      additionalHeaderControl: 0,
      additionalHeaderFrameCounter: 0,
      securityHeader: '3100000001',
      ciphertext: '00112233',
      mac: 'A0A1A2A3A4A5A6A7A8A9AAAB',
    }
    viewRoundTrip({ name, sequenceNumber: 9, protected: prot }, ctx)
    viewRoundTrip(
      {
        name,
        sequenceNumber: 9,
        divisor: 1000,
        multiplier: 1,
        unitOfMeasure: 1, // ZCL UnitofMeasure is an enum8: 1 = m³
        currentSummationDelivered: 123456789,
        results: {
          divisor: 'success',
          multiplier: 'success',
          unitOfMeasure: 'success',
          currentSummationDelivered: 'success',
        },
      },
      ctx,
    )
  })

  it('GCS14: two components numbered on from the first sequence number', () => {
    const name = 'GCS14 Read Prepayment Values'
    const cmd = viewRoundTrip({ name, sequenceNumber: 0xff }, ctxOf(0x0075, 'command'))
    expect(cmd.slice(0, 30)).toBe('010902000700000700FF0017061606')
    expect(cmd.slice(30, 46)).toBe('010705000F000000')
    const ctx = ctxOf(0x0075, 'response')
    viewRoundTrip(
      {
        name,
        sequenceNumber: 4,
        priceTrailingDigit: '50',
        currency: 826,
        creditRemaining: 2500,
        emergencyCreditRemaining: 0,
        accumulatedDebt: -100,
        paymentDebt: 0,
        timeDebt1: 10,
        timeDebt2: 20,
        results: {
          priceTrailingDigit: 'success',
          currency: 'success',
          accumulatedDebt: 'success',
          emergencyCreditRemaining: 'success',
          creditRemaining: 'success',
          paymentDebt: 'success',
          timeDebt1: 'success',
          timeDebt2: 'success',
        },
      },
      ctx,
    )
    viewRoundTrip(
      {
        name,
        sequenceNumber: 4,
        currency: 826,
        results: { priceTrailingDigit: 'hardware-failure', currency: 'success', prepayment: 'failure' },
      },
      ctx,
    )
  })

  it('leaves a view out when the structure departs from the template', () => {
    // GCS06 with the default-response bit set in the ZCL frame control
    expect(interpret('01090101070500081100000000000000', ctxOf(0x0070, 'command'))).toBeUndefined()
    // a second component on a one-component use case
    expect(
      interpret('010902000705000508000B0000010705000508010B0000', ctxOf(0x0070, 'response')),
    ).toBeUndefined()
    // friendly credit neither 00 nor 01
    expect(
      interpret('0109010107050010190302020300000010270000E8030000', ctxOf(0x006c, 'response')),
    ).toBeUndefined()
  })
})

describe('GSME alert views', () => {
  it('names generic alerts and keeps their components', () => {
    const ctx = ctxOf(0x1000, 'alert')
    expect(interpret('0109008F1F2B438980', ctx)).toEqual({
      name: 'GSME Alert 8F1F Low Battery',
      alertCode: '8F1F',
      timestamp: '2023-01-01T00:00:00Z',
    })
    viewRoundTrip({ name: 'GSME Alert 9999', alertCode: '9999', timestamp: '2023-01-01T00:00:00Z' }, ctx)
  })

  it('future-dated outcome, firmware receipt, integrity warning and billing data log', () => {
    viewRoundTrip(
      {
        name: 'GSME Alert 8F66 Future-Dated Command Executed',
        alertCode: '8F66',
        timestamp: '2030-01-01T00:00:00Z',
        futureDatedCommand: {
          messageCode: '006D',
          originatorCounter: '18446744073709551615',
          clusterId: '0705',
          frameType: 'cluster',
          direction: 'toServer',
          disableDefaultResponse: false,
          commandId: 6,
          command: 'changePaymentMode',
        },
      },
      ctxOf(0x00cd, 'alert'),
    )
    viewRoundTrip(
      {
        name: 'GSME Alert 8F72 Firmware Distribution Receipt',
        alertCode: '8F72',
        timestamp: '2030-01-01T00:00:00Z',
        manufacturerHash: '00'.repeat(32),
      },
      ctxOf(0x00cf, 'alert'),
    )
    const w = viewRoundTrip(
      {
        name: 'GSME Alert 81A0 Meter Integrity Issue Warning',
        alertCode: '81A0',
        timestamp: '2030-01-01T00:00:00Z',
        integrityIssue: 'watchdog-error',
      },
      ctxOf(0x00f2, 'alert'),
    )
    expect(w.slice(-4)).toBe('0006')
    viewRoundTrip(
      {
        name: 'GSME Alert 8F0A Billing Data Log Updated',
        alertCode: '8F0A',
        timestamp: '2030-01-01T00:00:00Z',
        sequenceNumber: 0,
        protected: {
          additionalHeaderControl: 0,
          additionalHeaderFrameCounter: 0,
          securityHeader: '3100000002',
          ciphertext: 'CAFE',
          mac: '000102030405060708090A0B',
        },
      },
      ctxOf(0x008b, 'alert'),
    )
  })
})

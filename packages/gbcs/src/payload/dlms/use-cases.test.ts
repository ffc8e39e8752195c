/**
 * Use-case views on our own test vectors: every expected payload below was written by hand
 * from the APDU layout (one comment per field), with our own invoke ids, system titles, dates
 * and values. Each case goes view -> structure -> bytes -> structure -> view.
 */
import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import type { Cra, Json, PayloadContext } from '../types.ts'
import { dlmsFamily } from './apdu.ts'
import { dlmsUseCases, type View } from './use-cases.ts'

const hx = (...parts: string[]) => fromHex(parts.join('').replace(/\s+/g, ''))

function codecFor(ctx: PayloadContext) {
  const c = dlmsUseCases.find((u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra))
  if (!c) throw new Error(`no view for ${ctx.messageCode.toString(16)} ${ctx.cra}`)
  return c
}

function roundTrip(messageCode: number, cra: Cra, view: View, bytes: Uint8Array): void {
  const ctx = { messageCode, cra }
  const codec = codecFor(ctx)
  const structure = codec.build(view, ctx)
  expect(toHex(dlmsFamily.encode(structure, ctx))).toBe(toHex(bytes))
  const decoded = dlmsFamily.decode(bytes, ctx, 0)
  expect(decoded).toEqual(structure)
  expect(codec.interpret(JSON.parse(JSON.stringify(decoded)) as Json, ctx)).toEqual(view)
}

/** A one-item response with a null data item and one result. */
function simpleResponse(invoke: string, kind: '01' | '02' | '03', result: string): Uint8Array {
  return hx(
    'DA', // access-response
    invoke, // long-invoke-id-and-priority
    '00', // date-time: none
    '00', // access-request-specification: absent
    '01 00', // list of data: 1 item, null
    '01', // 1 access-response-specification
    kind, // get / set / action
    result, // data-access-result or action-result
  )
}

describe('ECS42 / ECS43 / ECS44 supply scripts', () => {
  const cases = [
    [0x004f, 'ECS42 Enable Supply', '0033'],
    [0x0050, 'ECS43 Disable Supply', '0034'],
    [0x0051, 'ECS44 Arm Supply', '0036'],
  ] as const
  for (const [code, name, script] of cases) {
    it(`${name}: command`, () => {
      const bytes = hx(
        'D9', // access-request
        '20000042', // long-invoke-id-and-priority
        '00', // date-time: none
        '01', // 1 access-request-specification
        '03', // action
        '0009', // class 9, script table
        '00000A006AFF', // 0.0.10.0.106.255, the supply-control scripts
        '01', // method 1, execute
        '01', // 1 data item
        `12 ${script}`, // uint16 script identifier
      )
      roundTrip(code, 'command', { name, invokeId: 0x20000042 }, bytes)
    })
    it(`${name}: responses`, () => {
      roundTrip(
        code,
        'response',
        { name, invokeId: 0x20000042, result: 'success' },
        simpleResponse('20000042', '03', '00'),
      )
      roundTrip(
        code,
        'response',
        { name, invokeId: 0x20000042, result: 'temporary-failure' },
        simpleResponse('20000042', '03', '02'),
      )
    })
  }

  it('a script id that is not the one of the message code leaves the structure without a view', () => {
    const ctx = { messageCode: 0x0051, cra: 'command' as const }
    const s = dlmsFamily.decode(hx('D9 20000042 00 01 03 0009 00000A006AFF 01 01 12 0033'), ctx, 0)
    expect(codecFor(ctx).interpret(s, ctx)).toBeUndefined()
  })
})

describe('ECS45 Read Supply Status', () => {
  const name = 'ECS45 Read Supply Status'
  it('command', () => {
    const bytes = hx(
      'D9 20000043 00', // access-request, invoke id, no date-time
      '01', // 1 specification
      '01', // get
      '0046', // class 70, disconnect control
      '000060030AFF', // 0.0.96.3.10.255
      '03', // attribute 3, control_state
      '01 00', // 1 data item: null
    )
    roundTrip(0x0052, 'command', { name, invokeId: 0x20000043 }, bytes)
  })
  it('response with the state, and an error response without', () => {
    const ok = hx(
      'DA 20000043 00', // access-response, invoke id, no date-time
      '00', // no access-request-specification
      '01 16 02', // 1 data item: enum 2 (armed)
      '01 01 00', // 1 result: get, success
    )
    roundTrip(
      0x0052,
      'response',
      { name, invokeId: 0x20000043, supplyStatus: 'armed', result: 'success' },
      ok,
    )
    roundTrip(
      0x0052,
      'response',
      { name, invokeId: 0x20000043, result: 'object-unavailable' },
      simpleResponse('20000043', '01', '0B'),
    )
  })
})

describe('ECS17c Read Active Power Import', () => {
  const name = 'ECS17c Read Active Power Import'
  it('command and response, in the layout of the RTDS 4.5.0 ECS17c_4.16 frames', () => {
    const command = hx(
      'D9 20000046 00', // access-request, invoke id, no date-time
      '01 01', // 1 specification: get
      '0001', // class 1, Data
      '00005E2C2214', // 0.0.94.44.34.20, the Power Import Collection
      '02', // attribute 2, value
      '01 00', // 1 data item: null
    )
    roundTrip(0x0028, 'command', { name, invokeId: 0x20000046 }, command)
    const response = hx(
      'DA 20000046 00 00', // access-response, invoke id, no date-time, no request specification
      '01 02 03', // 1 data item: a structure of 3
      '06 000004D2', // Active Power Import, 1234 W
      '02 02 0F 00 16 1B', // scaler_unit { 0, W }
      '06 000004B0', // the primary element's Active Power Import, 1200 W
      '01 01 00', // 1 result: get, success
    )
    roundTrip(
      0x0028,
      'response',
      {
        name,
        invokeId: 0x20000046,
        activePowerImport: 1234,
        primaryActivePowerImport: 1200,
        result: 'success',
      },
      response,
    )
  })
})

describe('ECS09 Activate Emergency Credit', () => {
  const name = 'ECS09 Activate Emergency Credit'
  it('command and response', () => {
    const bytes = hx(
      'D9 20000044 00', // access-request, invoke id, no date-time
      '01 03', // 1 specification: action
      '0070', // class 112, credit
      '0000130A01FF', // 0.0.19.10.1.255, emergency credit
      '03', // method 3, invoke_credit
      '01 0F 00', // 1 data item: int8 0
    )
    roundTrip(0x0020, 'command', { name, invokeId: 0x20000044 }, bytes)
    roundTrip(
      0x0020,
      'response',
      { name, invokeId: 0x20000044, result: 'success' },
      simpleResponse('20000044', '03', '00'),
    )
  })
})

describe('CS01a Apply Prepayment Top Up', () => {
  const name = 'CS01a Apply Prepayment Top Up'
  it('command carries the UTRN', () => {
    const bytes = hx(
      'D9 20000045 00', // access-request, invoke id, no date-time
      '01 03', // 1 specification: action
      '0073', // class 115, token gateway
      '0000132800FF', // 0.0.19.40.0.255
      '01', // method 1, enter
      '01', // 1 data item
      '09 14', // octet-string, 20 bytes
      '3131323232333333343434343535353535363636', // "11222333444455555666" in ASCII
    )
    roundTrip(0x0007, 'command', { name, invokeId: 0x20000045, utrn: '11222333444455555666' }, bytes)
  })
  it('response', () => {
    roundTrip(
      0x0007,
      'response',
      { name, invokeId: 0x20000045, result: 'read-write-denied' },
      simpleResponse('20000045', '03', '03'),
    )
  })
})

describe('ECS02 Set Payment Mode to Credit', () => {
  const name = 'ECS02 Set Payment Mode to Credit'
  it('command', () => {
    const bytes = hx(
      'D9 20000046 00', // access-request, invoke id, no date-time
      '03', // 3 specifications
      '02 006F 0001130000FF 02', // set account 0.1.19.0.0.255 attribute 2, mode and status
      '02 006F 0001130000FF 0B', // set attribute 11, credit_charge_configuration
      '02 006F 0001130000FF 0D', // set attribute 13, account_activation_time
      '03', // 3 data items
      '02 02 16 01 16 02', // structure { enum 1 credit mode, enum 2 active }
      '01 02', // array of 2 credit-charge entries
      '02 03 09 06 0000130A00FF 09 06 0000131400FF 04 03 E0', // meter balance pays price matrix, bits 111
      '02 03 09 06 0000130A00FF 09 06 0000131404FF 04 03 A0', // meter balance pays standing charge, bits 101
      '09 0C 07EF 06 01 FF 00 00 00 00 8000 FF', // 2031-06-01 00:00:00, deviation unspecified
    )
    const view: View = {
      name,
      invokeId: 0x20000046,
      paymentMode: 'credit',
      accountStatus: 'active',
      creditChargeConfiguration: [
        {
          credit: 'meterBalance',
          charge: 'priceMatrix',
          collectWhenSupplyDisconnected: true,
          collectInLoadLimitingPeriods: true,
          collectInFriendlyCreditPeriods: true,
        },
        {
          credit: 'meterBalance',
          charge: 'standingCharge',
          collectWhenSupplyDisconnected: true,
          collectInLoadLimitingPeriods: false,
          collectInFriendlyCreditPeriods: true,
        },
      ],
      activationDateTime: '2031-06-01T00:00:00Z',
    }
    roundTrip(0x001a, 'command', view, bytes)
  })
  it('response names each result', () => {
    const bytes = hx(
      'DA 20000046 00 00', // access-response, invoke id, no date-time, no request specs
      '03 00 00 00', // 3 data items, all null
      '03', // 3 results
      '02 00', // set: success
      '02 00', // set: success
      '02 0C', // set: type-unmatched
    )
    const view: View = {
      name,
      invokeId: 0x20000046,
      results: {
        accountModeAndStatus: 'success',
        creditChargeConfiguration: 'success',
        activationDateTime: 'type-unmatched',
      },
    }
    roundTrip(0x001a, 'response', view, bytes)
  })
})

describe('ECS03 Set Payment Mode to Prepayment', () => {
  const name = 'ECS03 Set Payment Mode to Prepayment'
  it('command with the disablement threshold', () => {
    const bytes = hx(
      'D9 20000047 00', // access-request, invoke id, no date-time
      '05', // 5 specifications
      '02 006F 0001130000FF 02', // set account mode and status
      '02 2328 00005E2C8016 04', // set GBCS extended data 0.0.94.44.128.22 (disablement threshold), value passive
      '02 006F 0001130000FF 0B', // set credit_charge_configuration
      '02 2328 00005E2C8016 06', // set the threshold's passive value activation time
      '02 006F 0001130000FF 0D', // set account_activation_time
      '05', // 5 data items
      '02 02 16 02 16 01', // { enum 2 prepayment mode, enum 1 new }
      '05 FFFFFF06', // int32 -250
      '01 01', // array of 1 credit-charge entry
      '02 03 09 06 0000130A01FF 09 06 0000131401FF 04 03 C0', // emergency credit pays debt recovery rate 1, bits 110
      '09 0C 0000000000000000008000FF', // now
      '09 0C FFFFFFFFFFFFFFFFFF8000FF', // unspecified
    )
    const view: View = {
      name,
      invokeId: 0x20000047,
      paymentMode: 'prepayment',
      accountStatus: 'new',
      disablementThreshold: -250,
      creditChargeConfiguration: [
        {
          credit: 'emergencyCredit',
          charge: 'debtRecoveryRate1',
          collectWhenSupplyDisconnected: true,
          collectInLoadLimitingPeriods: true,
          collectInFriendlyCreditPeriods: false,
        },
      ],
      disablementThresholdActivationDateTime: 'now',
      activationDateTime: 'unspecified',
    }
    roundTrip(0x001b, 'command', view, bytes)
  })
  it('response', () => {
    const bytes = hx(
      'DA 20000047 00 00', // access-response, invoke id, no date-time, no request specs
      '05 00 00 00 00 00', // 5 null data items
      '05 02 00 02 00 02 00 02 00 02 FA', // 5 set results, the last other-reason
    )
    const view: View = {
      name,
      invokeId: 0x20000047,
      results: {
        accountModeAndStatus: 'success',
        disablementThreshold: 'success',
        creditChargeConfiguration: 'success',
        disablementThresholdActivationDateTime: 'success',
        activationDateTime: 'other-reason',
      },
    }
    roundTrip(0x001b, 'response', view, bytes)
  })
})

describe('ECS17b / ECS19 protected register reads', () => {
  const protection = [
    {
      protectionType: 2,
      transactionId: '010000000000000048',
      originatorSystemTitle: '1122334455667788',
      recipientSystemTitle: '0102030405060708',
      otherInformation: '',
      keyInfoType: 2,
      keyParameters: '02',
      keyCipheredData: '',
    },
  ]
  const protectionBytes = (from: string, to: string) =>
    hx(
      '01 01', // array of 1 protection-parameters
      '02 02 16 02', // { enum 2 protection type (authentication and encryption),
      '02 05', //   protection-options {
      '09 09 010000000000000048', //     transaction-id
      `09 08 ${from}`, //     originator-system-title
      `09 08 ${to}`, //     recipient-system-title
      '09 00', //     other-information: empty
      '02 02 16 02 02 02 09 01 02 09 00', //     key-info { enum 2 agreed key, { key-parameters 02, key-ciphered-data empty } } } }
    )
  const cases = [
    [0x0027, 'ECS17b Read Import Energy Registers', '00002B0208FF', '00005E2C220A', '0.0.94.44.34.10'],
    [0x002d, 'ECS19 Read Prepayment Registers', '00002B0201FF', '00005E2C221E', '0.0.94.44.34.30'],
  ] as const
  for (const [code, name, collection, object, objectObis] of cases) {
    it(`${name}: command`, () => {
      const bytes = hx(
        'D9 20000048 00', // access-request, invoke id, no date-time
        '01 03', // 1 specification: action
        '001E', // class 30, data protection
        collection, // the register collection
        '01', // method 1, get_protected_attributes
        '01', // 1 data item
        '02 02', // structure { object-list, protection-parameters }
        '01 01 02 05', // object-list: 1 entry { ...
        '12 0001', //   class-id 1
        `09 06 ${object}`, //   logical name
        '0F 02', //   attribute-index 2
        '12 0000', //   data-index 0
        '02 02 16 00 00', //   restrictions { enum 0 none, null } }
        toHex(protectionBytes('1122334455667788', '0102030405060708')),
      )
      const view: View = {
        name,
        invokeId: 0x20000048,
        objects: [{ classId: 1, instance: objectObis, attribute: 2, dataIndex: 0 }],
        protection,
      }
      roundTrip(code, 'command', view, bytes)
    })
    it(`${name}: response with the protected attributes`, () => {
      const bytes = hx(
        'DA 20000048 00 00', // access-response, invoke id, no date-time, no request specs
        '01', // 1 data item
        '02 02', // structure { protection-parameters, protected-attributes }
        toHex(protectionBytes('1122334455667788', '0102030405060708')),
        '09 21', // octet-string, 33 bytes
        '31 00000007', // security header: control 0x31, invocation counter 7
        '00112233445566778899AABBCCDDEEFF', // ciphertext (16 bytes)
        'A1A2A3A4A5A6A7A8A9AAABAC', // GMAC tag (12 bytes)
        '01 03 00', // 1 result: action success
      )
      const view: View = {
        name,
        invokeId: 0x20000048,
        protection,
        protectedAttributes: {
          securityControl: 0x31,
          invocationCounter: 7,
          ciphertext: '00112233445566778899AABBCCDDEEFF',
          tag: 'A1A2A3A4A5A6A7A8A9AAABAC',
        },
        result: 'success',
      }
      roundTrip(code, 'response', view, bytes)
      roundTrip(
        code,
        'response',
        { name, invokeId: 0x20000048, result: 'hardware-fault' },
        simpleResponse('20000048', '03', '01'),
      )
    })
  }
})

describe('ECS70 Set Clock', () => {
  const name = 'ECS70 Set Clock'
  it('command', () => {
    const bytes = hx(
      'D9 20000049 00', // access-request, invoke id, no date-time
      '05', // 5 specifications on the clock, class 8, 0.0.1.0.0.255
      '02 0008 0000010000FF 09', // set attribute 9, clock_base
      '03 0008 0000010000FF 05', // action method 5, preset_adjusting_time
      '03 0008 0000010000FF 04', // action method 4, adjust_to_preset_time
      '01 0008 0000010000FF 02', // get attribute 2, time
      '01 0008 0000010000FF 04', // get attribute 4, status
      '05', // 5 data items
      '16 05', // enum 5
      '02 03', // structure { preset time, validity interval start, end }
      '09 0C FFFFFFFFFFFFFFFFFF8000FF', //   unspecified
      '09 0C 07EF 0A 14 FF 0C 00 00 00 8000 FF', //   2031-10-20 12:00:00
      '09 0C 07EF 0A 14 FF 0C 05 00 00 8000 FF', //   2031-10-20 12:05:00
      '0F 00', // int8 0
      '00', // null
      '00', // null
    )
    const view: View = {
      name,
      invokeId: 0x20000049,
      clockBase: 5,
      presetTime: 'unspecified',
      validityIntervalStart: '2031-10-20T12:00:00Z',
      validityIntervalEnd: '2031-10-20T12:05:00Z',
    }
    roundTrip(0x0062, 'command', view, bytes)
  })
  it('response with the time read back', () => {
    const bytes = hx(
      'DA 20000049 00 00', // access-response, invoke id, no date-time, no request specs
      '05', // 5 data items
      '00 00 00', // null for the set and the two actions
      '09 0C 07EF 0A 14 FF 0C 02 03 00 8000 FF', // time: 2031-10-20 12:02:03
      '11 00', // status: uint8 0
      '05 02 00 03 00 03 00 01 00 01 00', // set, action, action, get, get: all success
    )
    const view: View = {
      name,
      invokeId: 0x20000049,
      time: '2031-10-20T12:02:03Z',
      clockStatus: 0,
      results: {
        clockBase: 'success',
        presetAdjustingTime: 'success',
        adjustToPresetTime: 'success',
        time: 'success',
        clockStatus: 'success',
      },
    }
    roundTrip(0x0062, 'response', view, bytes)
  })
})

describe('ECS30 / ECS30a Update Billing Calendar', () => {
  it('command: the execution times of the billing schedule, as hex', () => {
    const bytes = hx(
      'D9 2000004A 00', // access-request, invoke id, no date-time
      '01 02 0016 00000F0000FF 04', // set class 22 (single action schedule) 0.0.15.0.0.255 attribute 4
      '01', // 1 data item
      '01 02', // array of 2 execution times
      '02 02 09 04 06 1E 00 00 09 05 FFFF FF FE FF', //   06:30 on the last day of every month
      '02 02 09 04 00 00 FF FF 09 05 07EB 03 FF 01', //   midnight every Monday of March 2027
    )
    const view: View = {
      name: 'ECS30a Update Billing Calendar (all periodicities)',
      invokeId: 0x2000004a,
      executionTimes: [
        { time: '061E0000', date: 'FFFFFFFEFF' },
        { time: '0000FFFF', date: '07EB03FF01' },
      ],
    }
    roundTrip(0x00d7, 'command', view, bytes)
    roundTrip(0x0046, 'command', { ...view, name: 'ECS30 Update Billing Calendar' }, bytes)
  })

  it('response: one set result', () => {
    const name = 'ECS30 Update Billing Calendar'
    roundTrip(
      0x0046,
      'response',
      { name, invokeId: 0x2000004a, result: 'success' },
      simpleResponse('2000004A', '02', '00'),
    )
    roundTrip(
      0x0046,
      'response',
      { name, invokeId: 0x2000004a, result: 'hardware-fault' },
      simpleResponse('2000004A', '02', '01'),
    )
  })

  it('a time or date of another length leaves the structure without a view', () => {
    const ctx = { messageCode: 0x0046, cra: 'command' as const }
    const bytes = hx('D9 2000004A 00 01 02 0016 00000F0000FF 04 01 01 01 02 02 09 03 060000 09 05 FFFFFF01FF')
    expect(codecFor(ctx).interpret(dlmsFamily.decode(bytes, ctx, 0), ctx)).toBeUndefined()
  })
})

describe('ESME alerts (Data-Notification)', () => {
  it('8F66 future-dated command actioned', () => {
    const bytes = hx(
      '0F', // data-notification
      '2000004A', // long-invoke-id-and-priority
      '00', // date-time: none
      '02 03', // structure of 3
      '12 8F66', // alert code
      '09 0C 07EF 0B 01 FF 09 30 00 00 8000 FF', // time stamp 2031-11-01 09:48:00
      '09 13', // octet-string, 19 bytes:
      '001A', //   message code of the future-dated command (ECS02)
      '0000000000000100', //   its originator counter, 256
      '006F 0001130000FF 0D', //   class 111, 0.1.19.0.0.255, attribute 13
    )
    const view: View = {
      name: 'ESME Alert 8F66 Future-Dated Command Successfully Actioned',
      invokeId: 0x2000004a,
      alertCode: '8F66',
      timestamp: '2031-11-01T09:48:00Z',
      futureDatedCommand: {
        messageCode: '001A',
        originatorCounter: '256',
        classId: 111,
        instance: '0.1.19.0.0.255',
        attribute: 13,
      },
    }
    roundTrip(0x00cc, 'alert', view, bytes)
  })
  it('8F32 supply armed, no payload, generic alert message code', () => {
    const bytes = hx(
      '0F 2000004B 00', // data-notification, invoke id, no date-time
      '02 02', // structure of 2
      '12 8F32', // alert code
      '09 0C 07EF 0B 01 FF 0A 00 00 00 8000 FF', // 2031-11-01 10:00:00
    )
    const view: View = {
      name: 'ESME Alert 8F32 Supply Armed',
      invokeId: 0x2000004b,
      alertCode: '8F32',
      timestamp: '2031-11-01T10:00:00Z',
    }
    roundTrip(0x1001, 'alert', view, bytes)
  })
  it('an alert with a payload we do not interpret keeps its DLMS data', () => {
    const bytes = hx(
      '0F 2000004C 00', // data-notification, invoke id, no date-time
      '02 03', // structure of 3
      '12 8F99', // alert code (no name)
      '09 0C 07EF0B01FF0A0000008000FF', // 2031-11-01 10:00:00
      '05 FFFFFFFB', // int32 -5
    )
    const view: View = {
      name: 'ESME Alert 8F99',
      invokeId: 0x2000004c,
      alertCode: '8F99',
      timestamp: '2031-11-01T10:00:00Z',
      payload: [{ type: 'int32', value: -5 }],
    }
    roundTrip(0x1000, 'alert', view, bytes)
  })
})

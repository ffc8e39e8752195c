/**
 * ZCL command payloads: the general (profile-wide) commands and the Smart Energy cluster
 * commands GBCS uses for the GSME, each as a list of named fields.
 *
 * A command payload decodes to an object of its fields (camelCase, after the ZigBee SE
 * parameter names); repeated sub-payloads are arrays of objects. A command that is not in
 * these tables keeps its payload as hex. A known command whose payload does not fit its fields
 * exactly fails to decode (DecodeError with the offset).
 */
import type { Reader } from '../../codec/reader.ts'
import type { Writer } from '../../codec/writer.ts'
import { arr, fail, hex, int, type JsonObject, obj } from '../dlms/json.ts'
import type { Json } from '../types.ts'
import { readTyped, writeTyped } from './data.ts'
import {
  hex4,
  parseId,
  readDate,
  readInt,
  readLE,
  readMap,
  readString,
  readUint,
  readUtc,
  toHex,
  writeDate,
  writeInt,
  writeLE,
  writeMap,
  writeString,
  writeUint,
  writeUtc,
} from './values.ts'

// ---------------------------------------------------------------------------------------------
// Field codecs

export interface Field {
  /** The value, or undefined to leave the key out (an absent optional field). */
  read(r: Reader, what: string, sofar: JsonObject): Json | undefined
  write(w: Writer, x: Json | undefined, path: string, o: JsonObject): void
}

export type Schema = readonly (readonly [string, Field])[]

const uint = (n: number): Field => ({
  read: (r, what) => readUint(r, n, what),
  write: (w, x, path) => writeUint(w, x, n, path),
})
const sint = (n: number): Field => ({
  read: (r, what) => readInt(r, n, what),
  write: (w, x, path) => writeInt(w, x, n, path),
})
const bitmap = (n: number): Field => ({
  read: (r, what) => readMap(r, n, what),
  write: (w, x, path) => writeMap(w, x, n, path),
})

export const u8 = uint(1)
export const u16 = uint(2)
export const u24 = uint(3)
export const u32 = uint(4)
export const u48 = uint(6)
export const i32 = sint(4)
export const map8 = bitmap(1)
export const map16 = bitmap(2)
export const map32 = bitmap(4)
/** enum8 / enum16: numbers, like the unsigned integers. */
export const enum8 = u8
export const enum16 = u16
export const utc: Field = { read: (r, what) => readUtc(r, what), write: (w, x, path) => writeUtc(w, x, path) }
export const date: Field = {
  read: (r, what) => readDate(r, what),
  write: (w, x, path) => writeDate(w, x, path),
}
/** A ZCL octet string (length octet + octets), text when printable. */
export const string: Field = {
  read: (r, what) => readString(r, what),
  write: (w, x, path) => writeString(w, x, path),
}
/** A 16-bit attribute / cluster identifier, 4 hex digits. */
export const id16: Field = {
  read: (r, what) => hex4(Number(readLE(r, 2, what))),
  write: (w, x, path) => writeLE(w, BigInt(parseId(x, path)), 2),
}

/** Whatever octets remain, as hex; left out when none remain. */
export const rest: Field = {
  read: (r) => (r.done ? undefined : toHex(r.rest())),
  write: (w, x, path) => {
    if (x !== undefined) w.bytes(hex(x, path))
  },
}

/** A field present only when octets remain (a trailing optional parameter). */
export function optional(f: Field): Field {
  return {
    read: (r, what, sofar) => (r.done ? undefined : f.read(r, what, sofar)),
    write: (w, x, path, o) => {
      if (x !== undefined) f.write(w, x, path, o)
    },
  }
}

/** Records of `schema` repeated until the payload ends. */
export function repeat(schema: Schema): Field {
  return {
    read: (r, what) => {
      const out: Json[] = []
      while (!r.done) out.push(readSchema(r, schema, `${what}[${out.length}]`))
      return out
    },
    write: (w, x, path) =>
      arr(x, path).forEach((e, i) => {
        writeSchema(w, e, schema, `${path}[${i}]`)
      }),
  }
}

/** `n` items of `f`. */
export function times(n: number, f: Field): Field {
  return {
    read: (r, what, sofar) => Array.from({ length: n }, (_, i) => f.read(r, `${what}[${i}]`, sofar) as Json),
    write: (w, x, path, o) => {
      const a = arr(x, path)
      if (a.length !== n) fail(path, `expected ${n} items`)
      a.forEach((e, i) => {
        f.write(w, e, `${path}[${i}]`, o)
      })
    },
  }
}

/** A count octet, then that many items of `f` (the count is the array's length). */
export function counted(f: Field): Field {
  return {
    read: (r, what, sofar) => {
      const n = r.u8(`${what} count`)
      return Array.from({ length: n }, (_, i) => f.read(r, `${what}[${i}]`, sofar) as Json)
    },
    write: (w, x, path, o) => {
      const a = arr(x, path)
      if (a.length > 255) fail(path, 'at most 255 items')
      w.u8(a.length)
      a.forEach((e, i) => {
        f.write(w, e, `${path}[${i}]`, o)
      })
    },
  }
}

export function readSchema(r: Reader, schema: Schema, what: string): JsonObject {
  const out: JsonObject = {}
  for (const [key, f] of schema) {
    const v = f.read(r, `${what}.${key}`, out)
    if (v !== undefined) out[key] = v
  }
  return out
}

export function writeSchema(w: Writer, x: unknown, schema: Schema, path: string): void {
  const o = obj(x, path)
  for (const [key, f] of schema) f.write(w, o[key], `${path}.${key}`, o)
}

// ---------------------------------------------------------------------------------------------
// General commands (frame type 0)

const attributeRecord: Field = {
  read: (r, what) => ({ attributeId: id16.read(r, `${what}.attributeId`, {}) as Json, ...readTyped(r) }),
  write: (w, x, path) => {
    const o = obj(x, path)
    id16.write(w, o.attributeId, `${path}.attributeId`, o)
    const { attributeId: _, ...typed } = o
    writeTyped(w, typed, path)
  },
}

/** Read Attributes Response record: id, status, and the typed value when status is 0. */
const readAttributeStatus: Field = {
  read: (r, what) => {
    const attributeId = id16.read(r, `${what}.attributeId`, {}) as Json
    const status = r.u8(`${what}.status`)
    return status === 0 ? { attributeId, status, ...readTyped(r) } : { attributeId, status }
  },
  write: (w, x, path) => {
    const o = obj(x, path)
    id16.write(w, o.attributeId, `${path}.attributeId`, o)
    const status = int(o.status, `${path}.status`, 0, 255)
    w.u8(status)
    if (status === 0) {
      const { attributeId: _a, status: _s, ...typed } = o
      writeTyped(w, typed, path)
    } else if (o.type !== undefined || o.value !== undefined) fail(path, 'a failed attribute has no value')
  },
}

/**
 * Write Attributes Response: records { status, attributeId }; a lone { status: 0 } (no id)
 * when every attribute was written.
 */
const writeStatusRecords: Field = {
  read: (r, what) => {
    const out: Json[] = []
    while (!r.done) {
      const status = r.u8(`${what}[${out.length}].status`)
      out.push(
        r.done
          ? { status }
          : { status, attributeId: id16.read(r, `${what}[${out.length}].attributeId`, {})! },
      )
    }
    return out
  },
  write: (w, x, path) => {
    const a = arr(x, path)
    a.forEach((e, i) => {
      const o = obj(e, `${path}[${i}]`)
      w.u8(int(o.status, `${path}[${i}].status`, 0, 255))
      if (o.attributeId !== undefined) id16.write(w, o.attributeId, `${path}[${i}].attributeId`, o)
      else if (i !== a.length - 1) fail(`${path}[${i}]`, 'only the last record may leave out attributeId')
    })
  },
}

export interface CommandDef {
  name: string
  schema: Schema
}

/** Items of `f` until the payload ends. */
export function listOf(f: Field): Field {
  return {
    read: (r, what, sofar) => {
      const out: Json[] = []
      while (!r.done) out.push(f.read(r, `${what}[${out.length}]`, sofar) as Json)
      return out
    },
    write: (w, x, path, o) =>
      arr(x, path).forEach((e, i) => {
        f.write(w, e, `${path}[${i}]`, o)
      }),
  }
}

/** General commands by command id; the same in both directions. */
export const GENERAL: Readonly<Record<number, CommandDef>> = {
  0: { name: 'readAttributes', schema: [['attributes', listOf(id16)]] },
  1: { name: 'readAttributesResponse', schema: [['records', listOf(readAttributeStatus)]] },
  2: { name: 'writeAttributes', schema: [['records', listOf(attributeRecord)]] },
  3: { name: 'writeAttributesUndivided', schema: [['records', listOf(attributeRecord)]] },
  4: { name: 'writeAttributesResponse', schema: [['records', writeStatusRecords]] },
  5: { name: 'writeAttributesNoResponse', schema: [['records', listOf(attributeRecord)]] },
  11: {
    name: 'defaultResponse',
    schema: [
      ['commandId', u8],
      ['status', u8],
    ],
  },
  12: {
    name: 'discoverAttributes',
    schema: [
      ['startAttributeId', id16],
      ['maximumAttributeIds', u8],
    ],
  },
}

// ---------------------------------------------------------------------------------------------
// Smart Energy cluster commands (frame type 1), by cluster and direction

export const CLUSTERS: Readonly<Record<number, string>> = {
  0: 'basic',
  1792: 'price',
  1794: 'metering',
  1795: 'messaging',
  1796: 'tunneling',
  1797: 'prepayment',
  1799: 'calendar',
  1800: 'deviceManagement',
  1801: 'events',
}

const providerId: [string, Field] = ['providerId', u32]
const issuerEventId: [string, Field] = ['issuerEventId', u32]
const issuerCalendarId: [string, Field] = ['issuerCalendarId', u32]
const commandIndex: [string, Field] = ['commandIndex', u8]
const totalCommands: [string, Field] = ['totalCommands', u8]

/** Publish Block Thresholds sub-payload: groups of (tier:4 | count:4) then count uint48 thresholds. */
const blockThresholdGroups: Field = {
  read: (r, what) => {
    const out: Json[] = []
    while (!r.done) {
      const b = r.u8(`${what}[${out.length}].tierAndCount`)
      const thresholds = Array.from(
        { length: b & 0x0f },
        (_, i) => readUint(r, 6, `${what}[${out.length}].thresholds[${i}]`) as Json,
      )
      out.push({ tier: b >> 4, thresholds })
    }
    return out
  },
  write: (w, x, path) =>
    arr(x, path).forEach((e, i) => {
      const o = obj(e, `${path}[${i}]`)
      const t = arr(o.thresholds, `${path}[${i}].thresholds`)
      if (t.length > 15) fail(`${path}[${i}].thresholds`, 'at most 15 thresholds')
      w.u8((int(o.tier, `${path}[${i}].tier`, 0, 15) << 4) | t.length)
      t.forEach((v, j) => {
        writeUint(w, v, 6, `${path}[${i}].thresholds[${j}]`)
      })
    }),
}

/** Set Event Configuration payload, by its configuration control. */
const eventConfigurationPayload: Field = {
  read: (r, what, sofar): JsonObject | undefined => {
    switch (sofar.configurationControl) {
      case 0:
        return { eventIds: counted(id16).read(r, `${what}.eventIds`, sofar)! }
      case 1:
        return { eventGroupId: id16.read(r, `${what}.eventGroupId`, sofar)! }
      case 2:
        return { logId: u8.read(r, `${what}.logId`, sofar)! }
      case 3:
        return { configurationValueMatch: map8.read(r, `${what}.configurationValueMatch`, sofar)! }
      default:
        return r.done ? undefined : { hex: toHex(r.rest()) }
    }
  },
  write: (w, x, path, o) => {
    if (x === undefined) return
    const p = obj(x, path)
    switch (o.configurationControl) {
      case 0:
        counted(id16).write(w, p.eventIds, `${path}.eventIds`, o)
        return
      case 1:
        id16.write(w, p.eventGroupId, `${path}.eventGroupId`, o)
        return
      case 2:
        u8.write(w, p.logId, `${path}.logId`, o)
        return
      case 3:
        map8.write(w, p.configurationValueMatch, `${path}.configurationValueMatch`, o)
        return
      default:
        w.bytes(hex(p.hex, `${path}.hex`))
    }
  },
}

const snapshotHead: Schema = [
  ['snapshotId', u32],
  ['snapshotTime', utc],
  ['totalSnapshotsFound', u8],
  commandIndex,
  totalCommands,
  ['snapshotCause', map32],
  ['snapshotPayloadType', enum8],
  ['snapshotPayload', rest],
]

type Dir = 'toServer' | 'toClient'

/** Cluster-specific commands: key `${cluster}/${direction}/${commandId}`. */
const CLUSTER_COMMANDS: Record<string, CommandDef> = {}

function cmd(cluster: number, dir: Dir, id: number, name: string, schema: Schema): void {
  CLUSTER_COMMANDS[`${cluster}/${dir}/${id}`] = { name, schema }
}

// Price (0x0700)
cmd(0x0700, 'toServer', 0x00, 'getCurrentPrice', [['commandOptions', map8]])
cmd(0x0700, 'toServer', 0x0b, 'getBillingPeriod', [
  ['earliestStartTime', utc],
  ['minIssuerEventId', u32],
  ['numberOfCommands', u8],
  ['tariffType', map8],
])
cmd(0x0700, 'toClient', 0x00, 'publishPrice', [
  providerId,
  ['rateLabel', string],
  issuerEventId,
  ['currentTime', utc],
  ['unitOfMeasure', enum8],
  ['currency', u16],
  ['priceTrailingDigitAndPriceTier', map8],
  ['numberOfPriceTiersAndRegisterTier', map8],
  ['startTime', utc],
  ['durationInMinutes', u16],
  ['price', u32],
  // the optional ZSE parameters after Price, which GBCS says carry nothing meaningful
  ['trailer', rest],
])
cmd(0x0700, 'toClient', 0x01, 'publishBlockPeriod', [
  providerId,
  issuerEventId,
  ['blockPeriodStartTime', utc],
  ['blockPeriodDuration', u24],
  ['blockPeriodControl', map8],
  ['blockPeriodDurationType', map8],
  ['tariffType', map8],
  ['tariffResolutionPeriod', enum8],
])
cmd(0x0700, 'toClient', 0x02, 'publishConversionFactor', [
  issuerEventId,
  ['startTime', utc],
  ['conversionFactor', u32],
  ['conversionFactorTrailingDigit', map8],
])
cmd(0x0700, 'toClient', 0x03, 'publishCalorificValue', [
  issuerEventId,
  ['startTime', utc],
  ['calorificValue', u32],
  ['calorificValueUnit', enum8],
  ['calorificValueTrailingDigit', map8],
])
cmd(0x0700, 'toClient', 0x04, 'publishTariffInformation', [
  providerId,
  issuerEventId,
  ['issuerTariffId', u32],
  ['startTime', utc],
  ['tariffTypeChargingScheme', map8],
  ['tariffLabel', string],
  ['numberOfPriceTiersInUse', u8],
  ['numberOfBlockThresholdsInUse', u8],
  ['unitOfMeasure', enum8],
  ['currency', u16],
  ['priceTrailingDigit', map8],
  ['standingCharge', u32],
  ['tierBlockMode', u8],
  ['blockThresholdMultiplier', u24],
  ['blockThresholdDivisor', u24],
])
cmd(0x0700, 'toClient', 0x05, 'publishPriceMatrix', [
  providerId,
  issuerEventId,
  ['startTime', utc],
  ['issuerTariffId', u32],
  commandIndex,
  totalCommands,
  ['subPayloadControl', map8],
  [
    'prices',
    repeat([
      ['tierBlockId', u8],
      ['price', u32],
    ]),
  ],
])
cmd(0x0700, 'toClient', 0x06, 'publishBlockThresholds', [
  providerId,
  issuerEventId,
  ['startTime', utc],
  ['issuerTariffId', u32],
  commandIndex,
  totalCommands,
  ['subPayloadControl', map8],
  ['blockThresholds', blockThresholdGroups],
])
cmd(0x0700, 'toClient', 0x09, 'publishBillingPeriod', [
  providerId,
  issuerEventId,
  ['billingPeriodStartTime', utc],
  ['billingPeriodDuration', u24],
  ['billingPeriodDurationType', map8],
  ['tariffType', map8],
])

// Metering (0x0702)
cmd(0x0702, 'toServer', 0x06, 'getSnapshot', [
  ['earliestStartTime', utc],
  ['latestEndTime', utc],
  ['snapshotOffset', u8],
  ['snapshotCause', map32],
])
cmd(0x0702, 'toServer', 0x07, 'startSampling', [
  issuerEventId,
  ['startSamplingTime', utc],
  ['sampleType', enum8],
  ['sampleRequestInterval', u16],
  ['maxNumberOfSamples', u16],
])
cmd(0x0702, 'toServer', 0x08, 'getSampledData', [
  ['sampleId', u16],
  ['earliestSampleTime', utc],
  ['sampleType', enum8],
  ['numberOfSamples', u16],
])
cmd(0x0702, 'toServer', 0x0b, 'changeSupply', [
  providerId,
  issuerEventId,
  ['requestDateTime', utc],
  ['implementationDateTime', utc],
  ['proposedSupplyStatus', enum8],
  ['supplyControlBits', map8],
])
cmd(0x0702, 'toServer', 0x0d, 'setSupplyStatus', [
  issuerEventId,
  ['supplyTamperState', enum8],
  ['supplyDepletionState', enum8],
  ['supplyUncontrolledFlowState', enum8],
  ['loadLimitSupplyState', enum8],
])
cmd(0x0702, 'toServer', 0x0e, 'setUncontrolledFlowThreshold', [
  providerId,
  issuerEventId,
  ['uncontrolledFlowThreshold', u16],
  ['unitOfMeasure', enum8],
  ['multiplier', u16],
  ['divisor', u16],
  ['stabilisationPeriod', u8],
  ['measurementPeriod', u16],
])
cmd(0x0702, 'toClient', 0x06, 'publishSnapshot', snapshotHead)
cmd(0x0702, 'toClient', 0x07, 'getSampledDataResponse', [
  ['sampleId', u16],
  ['sampleStartTime', utc],
  ['sampleType', enum8],
  ['sampleRequestInterval', u16],
  ['samples', countedU16(u24)],
])
cmd(0x0702, 'toClient', 0x0c, 'supplyStatusResponse', [
  providerId,
  issuerEventId,
  ['implementationDateTime', utc],
  ['supplyStatus', enum8],
])
cmd(0x0702, 'toClient', 0x0d, 'startSamplingResponse', [['sampleId', u16]])

// Messaging (0x0703)
cmd(0x0703, 'toClient', 0x00, 'displayMessage', [
  ['messageId', u32],
  ['messageControl', map8],
  ['startTime', utc],
  ['durationInMinutes', u16],
  ['message', string],
  ['extendedMessageControl', optional(map8)],
])

// Prepayment (0x0705)
cmd(0x0705, 'toServer', 0x00, 'selectAvailableEmergencyCredit', [
  ['commandIssueDateTime', utc],
  ['originatingDevice', enum8],
])
cmd(0x0705, 'toServer', 0x02, 'changeDebt', [
  issuerEventId,
  ['debtLabel', string],
  ['debtAmount', i32],
  ['debtRecoveryMethod', enum8],
  ['debtAmountType', enum8],
  ['debtRecoveryStartTime', utc],
  ['debtRecoveryCollectionTime', u16],
  ['debtRecoveryFrequency', enum8],
  ['debtRecoveryAmount', i32],
  ['debtRecoveryBalancePercentage', u16],
])
cmd(0x0705, 'toServer', 0x03, 'emergencyCreditSetup', [
  issuerEventId,
  ['startTime', utc],
  ['emergencyCreditLimit', u32],
  ['emergencyCreditThreshold', u32],
])
cmd(0x0705, 'toServer', 0x04, 'consumerTopUp', [
  ['originatingDevice', enum8],
  ['topUpCode', string],
])
cmd(0x0705, 'toServer', 0x05, 'creditAdjustment', [
  issuerEventId,
  ['startTime', utc],
  ['creditAdjustmentType', enum8],
  ['creditAdjustmentValue', i32],
])
cmd(0x0705, 'toServer', 0x06, 'changePaymentMode', [
  providerId,
  issuerEventId,
  ['implementationDateTime', utc],
  ['proposedPaymentControlConfiguration', map16],
  ['cutOffValue', i32],
])
cmd(0x0705, 'toServer', 0x07, 'getPrepaySnapshot', [
  ['earliestStartTime', utc],
  ['latestEndTime', utc],
  ['snapshotOffset', u8],
  ['snapshotCause', map32],
])
cmd(0x0705, 'toServer', 0x08, 'getTopUpLog', [
  ['latestEndTime', utc],
  ['numberOfRecords', u8],
])
cmd(0x0705, 'toServer', 0x09, 'setLowCreditWarningLevel', [['lowCreditWarningLevel', u32]])
cmd(0x0705, 'toServer', 0x0a, 'getDebtRepaymentLog', [
  ['latestEndTime', utc],
  ['numberOfDebts', u8],
  ['debtType', enum8],
])
cmd(0x0705, 'toServer', 0x0b, 'setMaximumCreditLimit', [
  providerId,
  issuerEventId,
  ['implementationDateTime', utc],
  ['maximumCreditLevel', u32],
  ['maximumCreditPerTopUp', u32],
])
cmd(0x0705, 'toServer', 0x0c, 'setOverallDebtCap', [
  providerId,
  issuerEventId,
  ['implementationDateTime', utc],
  ['overallDebtCap', i32],
])
cmd(0x0705, 'toClient', 0x01, 'publishPrepaySnapshot', snapshotHead)
cmd(0x0705, 'toClient', 0x02, 'changePaymentModeResponse', [
  ['friendlyCredit', map8],
  ['friendlyCreditCalendarId', u32],
  ['emergencyCreditLimit', u32],
  ['emergencyCreditThreshold', u32],
])
cmd(0x0705, 'toClient', 0x03, 'consumerTopUpResponse', [
  ['resultType', enum8],
  ['topUpValue', i32],
  ['sourceOfTopUp', enum8],
  ['creditRemaining', i32],
])
cmd(0x0705, 'toClient', 0x05, 'publishTopUpLog', [
  commandIndex,
  totalCommands,
  [
    'topUps',
    repeat([
      ['topUpCode', string],
      ['topUpAmount', i32],
      ['topUpTime', utc],
    ]),
  ],
])
cmd(0x0705, 'toClient', 0x06, 'publishDebtLog', [
  commandIndex,
  totalCommands,
  [
    'debts',
    repeat([
      ['collectionTime', utc],
      ['amountCollected', u32],
      ['debtType', enum8],
      ['outstandingDebt', u32],
    ]),
  ],
])

// Calendar (0x0707)
cmd(0x0707, 'toServer', 0x01, 'getDayProfiles', [
  providerId,
  issuerCalendarId,
  ['startDayId', u8],
  ['numberOfDays', u8],
])
cmd(0x0707, 'toServer', 0x02, 'getWeekProfiles', [
  providerId,
  issuerCalendarId,
  ['startWeekId', u8],
  ['numberOfWeeks', u8],
])
cmd(0x0707, 'toServer', 0x03, 'getSeasons', [providerId, issuerCalendarId])
cmd(0x0707, 'toServer', 0x04, 'getSpecialDays', [
  ['startTime', utc],
  ['numberOfEvents', u8],
  ['calendarType', enum8],
  providerId,
  issuerCalendarId,
])
cmd(0x0707, 'toClient', 0x00, 'publishCalendar', [
  providerId,
  issuerEventId,
  issuerCalendarId,
  ['startTime', utc],
  ['calendarType', enum8],
  ['calendarTimeReference', u8],
  ['calendarName', string],
  ['numberOfSeasons', u8],
  ['numberOfWeekProfiles', u8],
  ['numberOfDayProfiles', u8],
])
cmd(0x0707, 'toClient', 0x01, 'publishDayProfile', [
  providerId,
  issuerEventId,
  issuerCalendarId,
  ['dayId', u8],
  ['totalNumberOfScheduleEntries', u8],
  commandIndex,
  totalCommands,
  ['calendarType', enum8],
  [
    'entries',
    // start time in minutes from midnight; value: the price tier, or the friendly-credit /
    // auxiliary-switch setting, by calendar type
    repeat([
      ['startTime', u16],
      ['value', u8],
    ]),
  ],
])
cmd(0x0707, 'toClient', 0x02, 'publishWeekProfile', [
  providerId,
  issuerEventId,
  issuerCalendarId,
  ['weekId', u8],
  ['dayIdRefs', times(7, u8)],
])
cmd(0x0707, 'toClient', 0x03, 'publishSeasons', [
  providerId,
  issuerEventId,
  issuerCalendarId,
  commandIndex,
  totalCommands,
  [
    'seasons',
    repeat([
      ['seasonStartDate', date],
      ['weekIdRef', u8],
    ]),
  ],
])
cmd(0x0707, 'toClient', 0x04, 'publishSpecialDays', [
  providerId,
  issuerEventId,
  issuerCalendarId,
  ['startTime', utc],
  ['calendarType', enum8],
  ['totalNumberOfSpecialDays', u8],
  commandIndex,
  totalCommands,
  [
    'specialDays',
    repeat([
      ['specialDayDate', date],
      ['dayIdRef', u8],
    ]),
  ],
])

// Device Management (0x0708)
cmd(0x0708, 'toServer', 0x04, 'reportEventConfiguration', [
  commandIndex,
  totalCommands,
  [
    'events',
    repeat([
      ['eventId', id16],
      ['eventConfiguration', map8],
    ]),
  ],
])
cmd(0x0708, 'toClient', 0x00, 'publishChangeOfTenancy', [
  providerId,
  issuerEventId,
  ['tariffType', map8],
  ['implementationDateTime', utc],
  ['proposedTenancyChangeControl', map32],
])
cmd(0x0708, 'toClient', 0x01, 'publishChangeOfSupplier', [
  ['currentProviderId', u32],
  issuerEventId,
  ['tariffType', map8],
  ['proposedProviderId', u32],
  ['providerChangeImplementationTime', utc],
  ['providerChangeControl', map32],
  ['proposedProviderName', string],
  ['proposedProviderContactDetails', string],
])
cmd(0x0708, 'toClient', 0x02, 'requestNewPasswordResponse', [
  issuerEventId,
  ['implementationDateTime', utc],
  ['durationInMinutes', u16],
  ['passwordType', enum8],
  ['password', string],
])
cmd(0x0708, 'toClient', 0x03, 'updateSiteId', [
  issuerEventId,
  ['siteIdTime', utc],
  providerId,
  ['siteId', string],
])
cmd(0x0708, 'toClient', 0x04, 'setEventConfiguration', [
  issuerEventId,
  ['startDateTime', utc],
  ['eventConfiguration', map8],
  ['configurationControl', enum8],
  ['configuration', eventConfigurationPayload],
])
cmd(0x0708, 'toClient', 0x05, 'getEventConfiguration', [['eventId', id16]])
cmd(0x0708, 'toClient', 0x06, 'updateCin', [
  issuerEventId,
  ['cinImplementationTime', utc],
  providerId,
  ['customerIdNumber', string],
])

// Events (0x0709)
cmd(0x0709, 'toServer', 0x00, 'getEventLog', [
  ['eventControlLogId', map8],
  ['eventId', id16],
  ['startTime', utc],
  ['endTime', utc],
  ['numberOfEvents', u8],
  ['eventOffset', u16],
])
cmd(0x0709, 'toServer', 0x01, 'clearEventLogRequest', [['logId', map8]])
cmd(0x0709, 'toClient', 0x01, 'publishEventLog', [
  ['totalNumberOfEvents', u16],
  commandIndex,
  totalCommands,
  ['logPayloadControl', map8],
  [
    'events',
    repeat([
      ['logId', enum8],
      ['eventId', id16],
      ['eventTime', utc],
      ['eventData', string],
    ]),
  ],
])
cmd(0x0709, 'toClient', 0x02, 'clearEventLogResponse', [['clearedEventsLogs', map8]])

/** A uint16 count (little-endian), then that many items of `f`. */
function countedU16(f: Field): Field {
  return {
    read: (r, what, sofar) => {
      const n = Number(readLE(r, 2, `${what} count`))
      return Array.from({ length: n }, (_, i) => f.read(r, `${what}[${i}]`, sofar) as Json)
    },
    write: (w, x, path, o) => {
      const a = arr(x, path)
      if (a.length > 0xffff) fail(path, 'at most 65535 items')
      writeLE(w, BigInt(a.length), 2)
      a.forEach((e, i) => {
        f.write(w, e, `${path}[${i}]`, o)
      })
    },
  }
}

/** The command a (frame type, cluster, direction, id) names, if this decoder knows it. */
export function commandDef(frameType: number, cluster: number, dir: Dir, id: number): CommandDef | undefined {
  if (frameType === 0) return GENERAL[id]
  if (frameType === 1) return CLUSTER_COMMANDS[`${cluster}/${dir}/${id}`]
  return undefined
}

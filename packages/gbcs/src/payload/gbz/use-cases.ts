/**
 * Use-case views over the GBZ structure (gbz.ts) for GSME commands, responses and alerts.
 *
 * A command view is { name, sequenceNumber, ...parameters }; a response view is
 * { name, sequenceNumber, ...values, result | results }. `sequenceNumber` is the ZCL
 * transaction sequence number of the first component; GBCS numbers the others on from it.
 * A use case is a list of components, each a template (cluster, ZCL command, fixed fields)
 * with the view keys it fills; a response component may take one of several shapes (the
 * command's response, an encrypted response, a ZCL Default Response carrying an error).
 *
 * interpret() returns undefined unless build() of its result gives back the very structure it
 * was given: a payload that differs from the template in any byte keeps its structure only.
 */
import { fail, int, type JsonObject, jsonEqual, obj } from '../dlms/json.ts'
import type { Cra, Json, UseCaseCodec } from '../types.ts'
import { FIRMWARE_RECEIPT_ALERT, FUTURE_DATED_ALERT, INTEGRITY_WARNING_ALERT } from './gbz.ts'
import {
  codeOf,
  GBZ_ALERT_NAMES,
  INTEGRITY_ISSUES,
  nameOf,
  SUPPLY_STATUS,
  timeFromView,
  timeToView,
  ZCL_STATUS,
} from './names.ts'
import { hex4 } from './values.ts'

export type View = { name: string; [field: string]: Json }

// ---------------------------------------------------------------------------------------------
// Value converters: one structure value <-> some keys of the view

interface Conv {
  toView(x: Json | undefined): JsonObject | undefined
  fromView(v: JsonObject, path: string): Json
}

/** The value as it is, under `key`. */
const same = (key: string): Conv => ({
  toView: (x) => (x === undefined ? undefined : { [key]: x }),
  fromView: (v) => v[key] as Json,
})

/** A value GBCS fixes: no view key. */
const fixed = (value: Json): Conv => ({ toView: () => ({}), fromView: () => value })

const time = (key: string): Conv => ({
  toView: (x) => (typeof x === 'string' ? { [key]: timeToView(x) } : undefined),
  fromView: (v, path) => timeFromView(v[key], `${path}.${key}`),
})

const named = (key: string, table: Readonly<Record<number, string>>): Conv => ({
  toView: (x) => (typeof x === 'number' ? { [key]: nameOf(table, x) } : undefined),
  fromView: (v, path) => codeOf(table, v[key], `${path}.${key}`),
})

/** A map8 '00' / '01' as false / true. */
const flag8 = (key: string): Conv => ({
  toView: (x) => (x === '00' ? { [key]: false } : x === '01' ? { [key]: true } : undefined),
  fromView: (v, path) => {
    if (typeof v[key] !== 'boolean') fail(`${path}.${key}`, 'expected a boolean')
    return v[key] ? '01' : '00'
  },
})

/**
 * ZSE Payment Control Configuration (map16) as GBCS uses it in GCS02/GCS03: credit mode, or
 * prepayment with the SuspendDebtDisabled / SuspendDebtEmergency choices; any other value
 * as `paymentControlConfiguration` hex.
 */
const PAYMENT_CONFIGURATIONS: readonly [string, JsonObject][] = [
  ['0C94', { paymentMode: 'credit' }],
  ['0497', { paymentMode: 'prepayment', suspendDebtDisabled: true, suspendDebtEmergency: true }],
  ['0097', { paymentMode: 'prepayment', suspendDebtDisabled: false, suspendDebtEmergency: true }],
  ['0C97', { paymentMode: 'prepayment', suspendDebtDisabled: true, suspendDebtEmergency: false }],
  ['0897', { paymentMode: 'prepayment', suspendDebtDisabled: false, suspendDebtEmergency: false }],
]

const paymentConfiguration: Conv = {
  toView: (x) => {
    if (typeof x !== 'string') return undefined
    const hit = PAYMENT_CONFIGURATIONS.find(([h]) => h === x)
    return hit ? { ...hit[1] } : { paymentControlConfiguration: x }
  },
  fromView: (v, path) => {
    if (v.paymentControlConfiguration !== undefined) return v.paymentControlConfiguration
    const want = {
      paymentMode: v.paymentMode ?? null,
      ...(v.paymentMode === 'prepayment' && {
        suspendDebtDisabled: v.suspendDebtDisabled ?? null,
        suspendDebtEmergency: v.suspendDebtEmergency ?? null,
      }),
    }
    const hit = PAYMENT_CONFIGURATIONS.find(([, o]) => jsonEqual(o, want))
    if (!hit) {
      fail(
        path,
        "expected paymentMode 'credit', or 'prepayment' with suspendDebtDisabled and suspendDebtEmergency " +
          '(booleans), or paymentControlConfiguration (4 hex digits)',
      )
    }
    return hit[0]
  },
}

// ---------------------------------------------------------------------------------------------
// Component templates

interface Part {
  cluster: number
  /** True when a view asks for this shape (used to pick among a component's alternatives). */
  wanted(v: JsonObject): boolean
  /** The view keys from a component, or undefined when it is not of this shape. */
  toView(c: JsonObject): JsonObject | undefined
  /** The component, less clusterId, lastComponent and sequenceNumber. */
  fromView(v: JsonObject, path: string): JsonObject
}

const ZCL_HEADER_KEYS = ['frameType', 'direction', 'disableDefaultResponse', 'commandId', 'command'] as const

function header(
  frameType: 'global' | 'cluster',
  direction: 'toServer' | 'toClient',
  commandId: number,
  command: string,
  disableDefaultResponse = false,
): JsonObject {
  return { frameType, direction, disableDefaultResponse, commandId, command }
}

function sameHeader(c: JsonObject, h: JsonObject): boolean {
  return ZCL_HEADER_KEYS.every((k) => c[k] === h[k])
}

function convert(convs: readonly (readonly [string, Conv])[], payload: JsonObject): JsonObject | undefined {
  const out: JsonObject = {}
  for (const [k, conv] of convs) {
    const part = conv.toView(payload[k])
    if (!part) return undefined
    Object.assign(out, part)
  }
  return out
}

/** A cluster-specific command with its payload fields. */
function clusterCommand(
  cluster: number,
  direction: 'toServer' | 'toClient',
  commandId: number,
  command: string,
  fields: readonly (readonly [string, Conv])[],
  disableDefaultResponse = false,
): Part {
  const h = header('cluster', direction, commandId, command, disableDefaultResponse)
  return {
    cluster,
    wanted: () => true,
    toView: (c) => {
      if (!sameHeader(c, h) || c.encrypted !== undefined || typeof c.payload !== 'object') return undefined
      return convert(fields, c.payload as JsonObject)
    },
    fromView: (v, path) => ({
      ...h,
      payload: Object.fromEntries(fields.map(([k, conv]) => [k, conv.fromView(v, path)])),
    }),
  }
}

/** Read Attributes of a fixed list of attributes: no view keys. */
function readAttributes(cluster: number, attributes: readonly string[]): Part {
  const h = header('global', 'toServer', 0x00, 'readAttributes')
  return {
    cluster,
    wanted: () => true,
    toView: (c) => (sameHeader(c, h) ? {} : undefined),
    fromView: () => ({ ...h, payload: { attributes: [...attributes] } }),
  }
}

interface Attribute {
  id: string
  key: string
  type: string
  conv?: Conv
}

/** Read Attributes Response: each attribute's value under its key, its status in results. */
function readAttributesResponse(cluster: number, attributes: readonly Attribute[]): Part {
  const h = header('global', 'toClient', 0x01, 'readAttributesResponse')
  return {
    cluster,
    wanted: () => true,
    toView: (c) => {
      const p = c.payload as JsonObject | undefined
      if (!sameHeader(c, h) || !p || !Array.isArray(p.records) || p.records.length !== attributes.length)
        return undefined
      const out: JsonObject = {}
      const results: JsonObject = {}
      for (const [i, a] of attributes.entries()) {
        const r = p.records[i] as JsonObject
        results[a.key] = nameOf(ZCL_STATUS, r.status as number)
        if (r.status !== 0) continue
        const part = (a.conv ?? same(a.key)).toView(r.value)
        if (!part) return undefined
        Object.assign(out, part)
      }
      return { ...out, results }
    },
    fromView: (v, path) => {
      const results = obj(v.results, `${path}.results`)
      return {
        ...h,
        payload: {
          records: attributes.map((a): JsonObject => {
            const status = codeOf(ZCL_STATUS, results[a.key], `${path}.results.${a.key}`)
            return status === 0
              ? { attributeId: a.id, status, type: a.type, value: (a.conv ?? same(a.key)).fromView(v, path) }
              : { attributeId: a.id, status }
          }),
        },
      }
    },
  }
}

/** An encrypted component (its ZCL payload ciphered), shown as `protected`. */
function encrypted(
  cluster: number,
  frameType: 'global' | 'cluster',
  commandId: number,
  command: string,
  disableDefaultResponse: boolean,
): Part {
  const h = header(frameType, 'toClient', commandId, command, disableDefaultResponse)
  return {
    cluster,
    wanted: (v) => v.protected !== undefined,
    toView: (c) => (sameHeader(c, h) && c.encrypted !== undefined ? { protected: c.encrypted } : undefined),
    fromView: (v, path) => ({ ...h, encrypted: obj(v.protected, `${path}.protected`) }),
  }
}

/**
 * A ZCL Default Response to command `to`: its status as `result` (or `results[label]` in a
 * several-component response); `defaultResponseTo` when it names another command.
 */
function defaultResponse(
  cluster: number,
  to: number,
  label?: string,
  direction: 'toServer' | 'toClient' = 'toClient',
): Part {
  const h = header('global', direction, 0x0b, 'defaultResponse')
  const get = (v: JsonObject) => (label ? (v.results as JsonObject | undefined)?.[label] : v.result)
  return {
    cluster,
    wanted: (v) => get(v) !== undefined,
    toView: (c) => {
      const p = c.payload as JsonObject | undefined
      if (!sameHeader(c, h) || !p || typeof p.status !== 'number') return undefined
      const status = nameOf(ZCL_STATUS, p.status)
      return {
        ...(label ? { results: { [label]: status } } : { result: status }),
        ...(p.commandId !== to && { defaultResponseTo: p.commandId as Json }),
      }
    },
    fromView: (v, path) => ({
      ...h,
      payload: {
        commandId:
          v.defaultResponseTo === undefined
            ? to
            : int(v.defaultResponseTo, `${path}.defaultResponseTo`, 0, 255),
        status: codeOf(ZCL_STATUS, get(v), label ? `${path}.results.${label}` : `${path}.result`),
      },
    }),
  }
}

// ---------------------------------------------------------------------------------------------
// Use cases

interface Def {
  code: number
  name: string
  command: Part[]
  /** Per response component, its possible shapes (the first one wanted by a view is built). */
  response: Part[][]
}

const PRICE = 0x0700
const METERING = 0x0702
const PREPAYMENT = 0x0705

const CHANGE_PAYMENT_MODE = 0x06
const CHANGE_SUPPLY = 0x0b

const changePaymentMode = clusterCommand(PREPAYMENT, 'toServer', CHANGE_PAYMENT_MODE, 'changePaymentMode', [
  ['providerId', same('providerId')],
  ['issuerEventId', same('issuerEventId')],
  ['implementationDateTime', time('executionDateTime')],
  ['proposedPaymentControlConfiguration', paymentConfiguration],
  ['cutOffValue', same('disablementThreshold')],
])

const changePaymentModeResponse = clusterCommand(
  PREPAYMENT,
  'toClient',
  0x02,
  'changePaymentModeResponse',
  [
    ['friendlyCredit', flag8('friendlyCredit')],
    ['friendlyCreditCalendarId', same('friendlyCreditCalendarId')],
    ['emergencyCreditLimit', same('emergencyCreditLimit')],
    ['emergencyCreditThreshold', same('emergencyCreditThreshold')],
  ],
  true,
)

function changeSupply(proposed: number): Part {
  return clusterCommand(METERING, 'toServer', CHANGE_SUPPLY, 'changeSupply', [
    ['providerId', same('providerId')],
    ['issuerEventId', same('issuerEventId')],
    ['requestDateTime', time('requestDateTime')],
    ['implementationDateTime', time('executionDateTime')],
    ['proposedSupplyStatus', fixed(proposed)],
    ['supplyControlBits', flag8('acknowledgeRequired')],
  ])
}

const supplyStatusResponse = clusterCommand(METERING, 'toClient', 0x0c, 'supplyStatusResponse', [
  ['providerId', same('providerId')],
  ['issuerEventId', same('issuerEventId')],
  ['implementationDateTime', time('executionDateTime')],
  ['supplyStatus', named('supplyStatus', SUPPLY_STATUS)],
])

const SUPPLY_STATUS_ATTRIBUTES: Attribute[] = [
  { id: '0205', key: 'remainingBatteryLifeDays', type: 'uint16' },
  { id: '0014', key: 'supplyStatus', type: 'enum8', conv: named('supplyStatus', SUPPLY_STATUS) },
]

const IMPORT_REGISTER_ATTRIBUTES: Attribute[] = [
  { id: '0302', key: 'divisor', type: 'uint24' },
  { id: '0301', key: 'multiplier', type: 'uint24' },
  { id: '0300', key: 'unitOfMeasure', type: 'enum8' },
  { id: '0000', key: 'currentSummationDelivered', type: 'uint48' },
]

const PRICE_ATTRIBUTES: Attribute[] = [
  { id: '0617', key: 'priceTrailingDigit', type: 'bitmap8' },
  { id: '0616', key: 'currency', type: 'uint16' },
]

const PREPAYMENT_ATTRIBUTES: Attribute[] = [
  { id: '0005', key: 'accumulatedDebt', type: 'int32' },
  { id: '0002', key: 'emergencyCreditRemaining', type: 'int32' },
  { id: '0001', key: 'creditRemaining', type: 'int32' },
  { id: '0231', key: 'paymentDebt', type: 'uint32' },
  { id: '0211', key: 'timeDebt1', type: 'uint32' },
  { id: '0221', key: 'timeDebt2', type: 'uint32' },
]

const ids = (a: Attribute[]) => a.map((x) => x.id)

/**
 * GCS25 / GCS25a: the billing calendar as a ZSE Price billing period, and the block period
 * that follows it. The duration types are the ZSE map8 as hex (low nibble the timebase, high
 * nibble the control); providerId, issuerEventId and tariffType are shared by both commands.
 */
const publishBillingPeriod = clusterCommand(PRICE, 'toClient', 0x09, 'publishBillingPeriod', [
  ['providerId', same('providerId')],
  ['issuerEventId', same('issuerEventId')],
  ['billingPeriodStartTime', time('billingPeriodStartTime')],
  ['billingPeriodDuration', same('billingPeriodDuration')],
  ['billingPeriodDurationType', same('billingPeriodDurationType')],
  ['tariffType', same('tariffType')],
])

const publishBlockPeriod = clusterCommand(PRICE, 'toClient', 0x01, 'publishBlockPeriod', [
  ['providerId', same('providerId')],
  ['issuerEventId', same('issuerEventId')],
  ['blockPeriodStartTime', time('blockPeriodStartTime')],
  ['blockPeriodDuration', same('blockPeriodDuration')],
  ['blockPeriodControl', same('blockPeriodControl')],
  ['blockPeriodDurationType', same('blockPeriodDurationType')],
  ['tariffType', same('tariffType')],
  ['tariffResolutionPeriod', same('tariffResolutionPeriod')],
])

/** The GSME answers each Publish command with a Default Response, results.billingPeriod / blockPeriod. */
const billingCalendar = (code: number, name: string): Def => ({
  code,
  name,
  command: [publishBillingPeriod, publishBlockPeriod],
  response: [
    [defaultResponse(PRICE, 0x09, 'billingPeriod', 'toServer')],
    [defaultResponse(PRICE, 0x01, 'blockPeriod', 'toServer')],
  ],
})

const DEFS: Def[] = [
  {
    code: 0x006c,
    name: 'GCS02 Set Payment Mode to Credit',
    command: [changePaymentMode],
    response: [[defaultResponse(PREPAYMENT, CHANGE_PAYMENT_MODE), changePaymentModeResponse]],
  },
  {
    code: 0x006d,
    name: 'GCS03 Set Payment Mode to Prepayment',
    command: [changePaymentMode],
    response: [[defaultResponse(PREPAYMENT, CHANGE_PAYMENT_MODE), changePaymentModeResponse]],
  },
  {
    code: 0x0081,
    name: 'GCS32 Restrict Supply',
    command: [changeSupply(0)],
    response: [[defaultResponse(METERING, CHANGE_SUPPLY), supplyStatusResponse]],
  },
  {
    code: 0x0085,
    name: 'GCS39 Arm Supply',
    command: [changeSupply(1)],
    response: [[defaultResponse(METERING, CHANGE_SUPPLY), supplyStatusResponse]],
  },
  {
    code: 0x0082,
    name: 'GCS33 Read Supply Status',
    command: [readAttributes(METERING, ids(SUPPLY_STATUS_ATTRIBUTES))],
    response: [[defaultResponse(METERING, 0x00), readAttributesResponse(METERING, SUPPLY_STATUS_ATTRIBUTES)]],
  },
  {
    code: 0x0070,
    name: 'GCS06 Activate Emergency Credit',
    command: [
      clusterCommand(PREPAYMENT, 'toServer', 0x00, 'selectAvailableEmergencyCredit', [
        ['commandIssueDateTime', time('commandIssueDateTime')],
        ['originatingDevice', same('originatingDevice')],
      ]),
    ],
    response: [[defaultResponse(PREPAYMENT, 0x00)]],
  },
  {
    code: 0x0074,
    name: 'GCS13a Read Import Registers',
    command: [readAttributes(METERING, ids(IMPORT_REGISTER_ATTRIBUTES))],
    response: [
      [
        defaultResponse(METERING, 0x00),
        encrypted(METERING, 'global', 0x01, 'readAttributesResponse', true),
        readAttributesResponse(METERING, IMPORT_REGISTER_ATTRIBUTES),
      ],
    ],
  },
  {
    code: 0x0075,
    name: 'GCS14 Read Prepayment Values',
    command: [
      readAttributes(PRICE, ids(PRICE_ATTRIBUTES)),
      readAttributes(PREPAYMENT, ids(PREPAYMENT_ATTRIBUTES)),
    ],
    response: [
      [defaultResponse(PRICE, 0x00, 'price'), readAttributesResponse(PRICE, PRICE_ATTRIBUTES)],
      [
        defaultResponse(PREPAYMENT, 0x00, 'prepayment'),
        encrypted(PREPAYMENT, 'global', 0x01, 'readAttributesResponse', false),
        readAttributesResponse(PREPAYMENT, PREPAYMENT_ATTRIBUTES),
      ],
    ],
  },
  billingCalendar(0x007e, 'GCS25 Update Billing Calendar'),
  billingCalendar(0x00d8, 'GCS25a Update Billing Calendar (all periodicities)'),
]

function components(structure: Json): JsonObject[] | undefined {
  if (typeof structure !== 'object' || structure === null || Array.isArray(structure)) return undefined
  const cs = structure.components
  return Array.isArray(cs) && cs.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c))
    ? (cs as JsonObject[])
    : undefined
}

function interpretWith(name: string, parts: Part[][], structure: Json): View | undefined {
  const cs = components(structure)
  if (!cs || cs.length !== parts.length || cs.length === 0) return undefined
  const view: View = { name, sequenceNumber: cs[0]!.sequenceNumber as Json }
  const results: JsonObject = {}
  for (const [i, alternatives] of parts.entries()) {
    let part: JsonObject | undefined
    for (const a of alternatives) {
      if (cs[i]!.clusterId !== hex4(a.cluster)) continue
      part = a.toView(cs[i]!)
      if (part) break
    }
    if (!part) return undefined
    const { results: r, ...rest } = part
    Object.assign(view, rest)
    if (r) Object.assign(results, r)
  }
  if (Object.keys(results).length > 0) view.results = results
  return view
}

function buildWith(parts: Part[][], v: View): Json {
  const seq = int(v.sequenceNumber, 'useCase.sequenceNumber', 0, 255)
  return {
    components: parts.map((alternatives, i) => {
      const p = alternatives.find((a) => a.wanted(v)) ?? alternatives[alternatives.length - 1]!
      return {
        clusterId: hex4(p.cluster),
        lastComponent: i === parts.length - 1,
        sequenceNumber: (seq + i) & 0xff,
        ...p.fromView(v, 'useCase'),
      }
    }),
  }
}

/** interpret, kept only when build gives back the same structure. */
function exact(
  interpret: (s: Json) => View | undefined,
  build: (v: View) => Json,
): (structure: Json) => View | undefined {
  return (structure) => {
    try {
      const view = interpret(structure)
      return view && jsonEqual(build(view), structure) ? view : undefined
    } catch {
      return undefined
    }
  }
}

function requestResponseCodec(def: Def): UseCaseCodec {
  const command = def.command.map((p) => [p])
  const parts = (cra: Cra) => (cra === 'response' ? def.response : command)
  return {
    format: 'gbz',
    messageCodes: [def.code],
    cra: ['command', 'response'],
    interpret: (structure, ctx) =>
      exact(
        (s) => interpretWith(def.name, parts(ctx.cra), s),
        (v) => buildWith(parts(ctx.cra), v),
      )(structure),
    build: (useCase, ctx) => buildWith(parts(ctx.cra), useCase),
  }
}

// ---------------------------------------------------------------------------------------------
// GSME alerts

/** Message codes of the GBZ alerts: GCS53, the future-dated outcome, firmware receipt, integrity
 * warning, and the generic critical / non-critical alerts. */
export const GBZ_ALERT_MESSAGE_CODES: readonly number[] = [
  0x008b,
  FUTURE_DATED_ALERT,
  FIRMWARE_RECEIPT_ALERT,
  INTEGRITY_WARNING_ALERT,
  0x1000,
  0x1001,
]

const billingDataLog = encrypted(METERING, 'cluster', 0x06, 'publishSnapshot', true)

function interpretAlert(structure: Json, messageCode: number): View | undefined {
  const s = obj(structure, 'structure')
  if (typeof s.alertCode !== 'string' || typeof s.timestamp !== 'string') return undefined
  const code = Number.parseInt(s.alertCode, 16)
  const alertName = GBZ_ALERT_NAMES[code]
  const view: View = {
    name: `GSME Alert ${s.alertCode}${alertName ? ` ${alertName}` : ''}`,
    alertCode: s.alertCode,
    timestamp: s.timestamp,
  }
  if (s.componentCount !== undefined) view.componentCount = s.componentCount
  if (messageCode === FUTURE_DATED_ALERT) view.futureDatedCommand = s.futureDatedCommand!
  else if (messageCode === FIRMWARE_RECEIPT_ALERT) view.manufacturerHash = s.manufacturerHash!
  else if (messageCode === INTEGRITY_WARNING_ALERT)
    view.integrityIssue = nameOf(INTEGRITY_ISSUES, s.otherInfo as number)
  else {
    const cs = components(structure) ?? []
    const billing = cs.length === 1 && s.alertCode === '8F0A' ? billingDataLog.toView(cs[0]!) : undefined
    if (billing) Object.assign(view, { sequenceNumber: cs[0]!.sequenceNumber!, ...billing })
    else if (cs.length > 0) view.components = cs
  }
  return view
}

function buildAlert(v: View, messageCode: number): Json {
  const out: JsonObject = { alertCode: v.alertCode!, timestamp: v.timestamp! }
  if (v.componentCount !== undefined) out.componentCount = v.componentCount
  if (messageCode === FUTURE_DATED_ALERT) out.futureDatedCommand = v.futureDatedCommand!
  else if (messageCode === FIRMWARE_RECEIPT_ALERT) out.manufacturerHash = v.manufacturerHash!
  else if (messageCode === INTEGRITY_WARNING_ALERT)
    out.otherInfo = codeOf(INTEGRITY_ISSUES, v.integrityIssue, 'useCase.integrityIssue', 0xffff)
  else if (v.protected !== undefined) {
    out.components = [
      {
        clusterId: hex4(METERING),
        lastComponent: true,
        sequenceNumber: int(v.sequenceNumber, 'useCase.sequenceNumber', 0, 255),
        ...billingDataLog.fromView(v, 'useCase'),
      },
    ]
  } else out.components = v.components ?? []
  return out
}

export const gbzAlertCodec: UseCaseCodec = {
  format: 'gbz',
  messageCodes: GBZ_ALERT_MESSAGE_CODES,
  cra: ['alert'],
  interpret: (structure, ctx) =>
    exact(
      (s) => interpretAlert(s, ctx.messageCode),
      (v) => buildAlert(v, ctx.messageCode),
    )(structure),
  build: (useCase, ctx) => buildAlert(useCase, ctx.messageCode),
}

/** The use-case views, one per message code, plus the GSME alerts. */
export const gbzUseCases: readonly UseCaseCodec[] = [...DEFS.map(requestResponseCodec), gbzAlertCodec]

/** (code, name) of each request/response use case covered. */
export const GBZ_USE_CASES: readonly { code: number; name: string }[] = DEFS.map(({ code, name }) => ({
  code,
  name,
}))

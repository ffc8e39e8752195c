/**
 * Use-case views over the DLMS structure (apdu.ts) for ESME commands, responses and alerts.
 *
 * A command view is { name, invokeId, dateTime?, ...parameters }; a response view is
 * { name, invokeId, dateTime?, result | results, ...values }, with `result` for a one-request
 * use case and `results` keyed by request otherwise, each a Data-Access-Result or
 * Action-Result name (names.ts). Each use case is a fixed list of access-request
 * specifications (the COSEM objects GBCS prescribes) and one field codec per data item.
 *
 * interpret() returns undefined unless build() of its result gives back the very structure
 * it was given: a payload that differs from the template in any byte keeps its structure only.
 */
import type { Cra, Json, UseCaseCodec } from '../types.ts'
import type {
  AccessRequest,
  AccessResponse,
  DataNotification,
  DlmsApdu,
  RequestSpec,
  ResponseSpec,
} from './apdu.ts'
import type { DlmsData } from './data.ts'
import { arr, bigint, fail, hex, int, type JsonObject, jsonEqual, obj, str } from './json.ts'
import {
  ALERT_NAMES,
  CHARGE_NAMES,
  CREDIT_NAMES,
  dateTimeFromView,
  dateTimeToView,
  hex4,
  nameOf,
  obisOf,
  parseHex4,
  resultCode,
  resultName,
} from './names.ts'

export type View = { name: string; [field: string]: Json }

// ---------------------------------------------------------------------------------------------
// Field codecs: one DLMS data item <-> some keys of the view

interface Field {
  /** View keys this field owns (absent keys mean a null item in a response). */
  keys: readonly string[]
  /** The keys' values, or undefined when the item is not of the expected shape. */
  toView(d: DlmsData): JsonObject | undefined
  fromView(v: JsonObject, path: string): DlmsData
}

const NULL: DlmsData = { type: 'null' }

/** An item GBCS fixes (a method parameter, the null of a get): no view keys. */
function fixed(d: DlmsData): Field {
  return {
    keys: [],
    toView: (x) => (jsonEqual(x as Json, d as Json) ? {} : undefined),
    fromView: () => d,
  }
}

function num(key: string, type: 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'enum'): Field {
  const range: Record<typeof type, [number, number]> = {
    int8: [-128, 127],
    uint8: [0, 255],
    enum: [0, 255],
    int16: [-32768, 32767],
    uint16: [0, 65535],
    int32: [-(2 ** 31), 2 ** 31 - 1],
    uint32: [0, 2 ** 32 - 1],
  }
  return {
    keys: [key],
    toView: (d) => (d.type === type ? { [key]: d.value as number } : undefined),
    fromView: (v, path) => ({ type, value: int(v[key], `${path}.${key}`, ...range[type]) }),
  }
}

/** An enum shown by name where the table has one. */
function namedEnum(key: string, names: Readonly<Record<number, string>>): Field {
  // Name to value, made once (the first value of a name, in the table's order).
  const codes = new Map<unknown, number>()
  for (const [code, name] of Object.entries(names)) if (!codes.has(name)) codes.set(name, Number(code))
  return {
    keys: [key],
    toView: (d) => (d.type === 'enum' ? { [key]: names[d.value] ?? d.value } : undefined),
    fromView: (v, path) => ({ type: 'enum', value: fromName(names, codes, v[key], path, key) }),
  }
}

/** The path is joined only for the error message: this runs for every response built. */
function fromName(
  names: Readonly<Record<number, string>>,
  codes: ReadonlyMap<unknown, number>,
  v: unknown,
  path: string,
  key: string,
): number {
  if (typeof v === 'number') return int(v, `${path}.${key}`, 0, 255)
  const code = codes.get(v)
  if (code === undefined)
    fail(`${path}.${key}`, `expected one of ${Object.values(names).join(', ')} or 0..255`)
  return code
}

function octetDateTime(d: DlmsData): string | undefined {
  return d.type === 'octetString' && d.value.length === 24 ? dateTimeToView(d.value) : undefined
}

/** A COSEM date-time carried as a 12-byte octet-string. */
function dateTime(key: string): Field {
  return {
    keys: [key],
    toView: (d) => {
      const t = octetDateTime(d)
      return t === undefined ? undefined : { [key]: t }
    },
    fromView: (v, path) => ({ type: 'octetString', value: dateTimeFromView(v[key], `${path}.${key}`) }),
  }
}

/** A structure of items, each with its own field codec, flattened into the view. */
function struct(...fields: Field[]): Field {
  return {
    keys: fields.flatMap((f) => f.keys),
    toView: (d) => {
      if (d.type !== 'structure' || d.value.length !== fields.length) return undefined
      const out: JsonObject = {}
      for (const [i, f] of fields.entries()) {
        const part = f.toView(d.value[i]!)
        if (!part) return undefined
        Object.assign(out, part)
      }
      return out
    },
    fromView: (v, path) => ({ type: 'structure', value: fields.map((f) => f.fromView(v, path)) }),
  }
}

/** An array whose elements are objects of the view, each through `element`. */
function list(key: string, element: Field): Field {
  return {
    keys: [key],
    toView: (d) => {
      if (d.type !== 'array') return undefined
      const items: Json[] = []
      for (const e of d.value) {
        const item = element.toView(e)
        if (!item) return undefined
        items.push(item)
      }
      return { [key]: items }
    },
    fromView: (v, path) => ({
      type: 'array',
      value: arr(v[key], `${path}.${key}`).map((e, i) =>
        element.fromView(obj(e, `${path}.${key}[${i}]`), `${path}.${key}[${i}]`),
      ),
    }),
  }
}

function octets(key: string, length?: number): Field {
  return {
    keys: [key],
    toView: (d) =>
      d.type === 'octetString' && (length === undefined || d.value.length === length * 2)
        ? { [key]: d.value }
        : undefined,
    fromView: (v, path) => ({ type: 'octetString', value: hexOf(v[key], `${path}.${key}`, length) }),
  }
}

function hexOf(v: unknown, path: string, length?: number): string {
  hex(v, path, length)
  return (v as string).toUpperCase()
}

function obisOctets(key: string, names: Readonly<Record<string, string>> = {}): Field {
  return {
    keys: [key],
    toView: (d) =>
      d.type === 'octetString' && d.value.length === 12
        ? {
            [key]: nameOf(
              names,
              Array.from({ length: 6 }, (_, i) => Number.parseInt(d.value.slice(i * 2, i * 2 + 2), 16)).join(
                '.',
              ),
            ),
          }
        : undefined,
    fromView: (v, path) => {
      const s = obisOf(names, v[key], `${path}.${key}`)
      const parts = s.split('.')
      if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
        fail(`${path}.${key}`, `expected a known name or an OBIS code 'a.b.c.d.e.f', got '${s}'`)
      }
      return {
        type: 'octetString',
        value: parts.map((p) => Number(p).toString(16).toUpperCase().padStart(2, '0')).join(''),
      }
    },
  }
}

/** A bit-string of fixed width shown as named booleans, first name = first (most significant) bit. */
function bits(names: readonly string[]): Field {
  return {
    keys: names,
    toView: (d) => {
      if (d.type !== 'bitString' || d.value.length !== names.length || d.pad !== undefined) return undefined
      return Object.fromEntries(names.map((n, i) => [n, d.value[i] === '1']))
    },
    fromView: (v, path) => ({
      type: 'bitString',
      value: names
        .map((n) => {
          const b = v[n]
          if (typeof b !== 'boolean') fail(`${path}.${n}`, 'expected a boolean')
          return b ? '1' : '0'
        })
        .join(''),
    }),
  }
}

/** A UTRN: 20 decimal digits carried as an ASCII octet-string. */
function utrn(key: string): Field {
  return {
    keys: [key],
    toView: (d) => {
      if (d.type !== 'octetString') return undefined
      const text = d.value.replace(/(..)/g, (h) => String.fromCharCode(Number.parseInt(h, 16)))
      return /^\d+$/.test(text) ? { [key]: text } : undefined
    },
    fromView: (v, path) => {
      const s = str(v[key], `${path}.${key}`)
      if (!/^\d+$/.test(s)) fail(`${path}.${key}`, 'expected a string of decimal digits')
      return {
        type: 'octetString',
        value: Array.from(s, (c) => c.charCodeAt(0).toString(16).toUpperCase()).join(''),
      }
    },
  }
}

// --- Prepayment account --------------------------------------------------------------------------

const PAYMENT_MODES = { 1: 'credit', 2: 'prepayment' } as const
const ACCOUNT_STATUSES = { 1: 'new', 2: 'active', 3: 'closed' } as const

/** Account attribute 2, account_mode_and_status. */
const accountModeAndStatus = struct(
  namedEnum('paymentMode', PAYMENT_MODES),
  namedEnum('accountStatus', ACCOUNT_STATUSES),
)

/** Account attribute 11, credit_charge_configuration: which credit pays which charge, and when. */
const creditChargeConfiguration = list(
  'creditChargeConfiguration',
  struct(
    obisOctets('credit', CREDIT_NAMES),
    obisOctets('charge', CHARGE_NAMES),
    bits(['collectWhenSupplyDisconnected', 'collectInLoadLimitingPeriods', 'collectInFriendlyCreditPeriods']),
  ),
)

// --- Data Protection (class 30) get_protected_attributes ----------------------------------------

/** restrictions: structure { restriction-type enum 0 (none), null }. */
const NO_RESTRICTION: DlmsData = {
  type: 'structure',
  value: [{ type: 'enum', value: 0 }, { type: 'null' }],
}

/** An object-list entry: { class-id, logical-name, attribute-index, data-index, restrictions }. */
const protectedObject = struct(
  num('classId', 'uint16'),
  obisOctets('instance'),
  num('attribute', 'int8'),
  num('dataIndex', 'uint16'),
  fixed(NO_RESTRICTION),
)

/**
 * protection-parameters: { protection-type, protection-options { transaction-id,
 * originator-system-title, recipient-system-title, other-information, key-info { key-info-type,
 * agreed-key-info { key-parameters, key-ciphered-data } } } }.
 */
const protectionParameters = struct(
  num('protectionType', 'enum'),
  struct(
    octets('transactionId'),
    octets('originatorSystemTitle'),
    octets('recipientSystemTitle'),
    octets('otherInformation'),
    struct(num('keyInfoType', 'enum'), struct(octets('keyParameters'), octets('keyCipheredData'))),
  ),
)

/** The get_protected_attributes parameter: { object-list, protection-parameters-list }. */
const protectedRequest = struct(list('objects', protectedObject), list('protection', protectionParameters))

/** The protected attributes: security header (SC:1 IC:4), ciphertext, 12-byte GMAC tag. */
const protectedAttributes: Field = {
  keys: ['protectedAttributes'],
  toView: (d) => {
    if (d.type !== 'octetString' || d.value.length < 34) return undefined
    const h = d.value
    return {
      protectedAttributes: {
        securityControl: Number.parseInt(h.slice(0, 2), 16),
        invocationCounter: Number.parseInt(h.slice(2, 10), 16),
        ciphertext: h.slice(10, h.length - 24),
        tag: h.slice(h.length - 24),
      },
    }
  },
  fromView: (v, path) => {
    const p = obj(v.protectedAttributes, `${path}.protectedAttributes`)
    const sc = int(p.securityControl, `${path}.protectedAttributes.securityControl`, 0, 255)
    const ic = int(p.invocationCounter, `${path}.protectedAttributes.invocationCounter`, 0, 0xffffffff)
    const c = hexOf(p.ciphertext, `${path}.protectedAttributes.ciphertext`)
    const t = hexOf(p.tag, `${path}.protectedAttributes.tag`, 12)
    return {
      type: 'octetString',
      value:
        sc.toString(16).toUpperCase().padStart(2, '0') +
        ic.toString(16).toUpperCase().padStart(8, '0') +
        c +
        t,
    }
  },
}

/** The get_protected_attributes response: { protection-parameters-list, protected-attributes }. */
const protectedResponse = struct(list('protection', protectionParameters), protectedAttributes)

// ---------------------------------------------------------------------------------------------
// Request/response use cases

interface Slot {
  /** The key naming this request's result in a multi-request response view. */
  label: string
  spec: RequestSpec
  command: Field
  /** The response data item: a value field, or undefined when GBCS returns null. */
  response?: Field
}

interface Def {
  code: number
  name: string
  slots: Slot[]
}

const get = (classId: number, instance: string, attribute: number) => ({
  kind: 'get' as const,
  classId,
  instance,
  attribute,
})
const set = (classId: number, instance: string, attribute: number) => ({
  kind: 'set' as const,
  classId,
  instance,
  attribute,
})
const action = (classId: number, instance: string, method: number) => ({
  kind: 'action' as const,
  classId,
  instance,
  method,
})

const ACCOUNT = 111
const ACCOUNT_OBIS = '0.1.19.0.0.255'
const EXTENDED_DATA = 9000 // 0x2328, GBCS Extended Data
const DISABLEMENT_THRESHOLD_OBIS = '0.0.94.44.128.22'
const SCRIPT_TABLE = 9
const SUPPLY_SCRIPTS_OBIS = '0.0.10.0.106.255'
const DISCONNECT_CONTROL = 70
const DISCONNECTOR_OBIS = '0.0.96.3.10.255'
const CLOCK = 8
const CLOCK_OBIS = '0.0.1.0.0.255'
const DATA_PROTECTION = 30
const SINGLE_ACTION_SCHEDULE = 22
const BILLING_SCHEDULE_OBIS = '0.0.15.0.0.255'

/**
 * Single Action Schedule attribute 4, execution_time: an array of { time octet-string(4)
 * hh mm ss hundredths, date octet-string(5) year(2) month day weekday }, both COSEM patterns
 * whose 0xFF (0xFFFF for the year) bytes are wildcards. Shown as hex, byte for byte.
 */
const executionTimes = list('executionTimes', struct(octets('time', 4), octets('date', 5)))

/** ECS30 / ECS30a: the billing calendar is the execution_time of the billing single action schedule. */
const billingCalendar = (code: number, name: string): Def => ({
  code,
  name,
  slots: [
    {
      label: 'executionTime',
      spec: set(SINGLE_ACTION_SCHEDULE, BILLING_SCHEDULE_OBIS, 4),
      command: executionTimes,
    },
  ],
})

const supplyScript = (code: number, name: string, script: number): Def => ({
  code,
  name,
  slots: [
    {
      label: 'execute',
      spec: action(SCRIPT_TABLE, SUPPLY_SCRIPTS_OBIS, 1),
      command: fixed({ type: 'uint16', value: script }),
    },
  ],
})

const protectedRead = (code: number, name: string, collection: string): Def => ({
  code,
  name,
  slots: [
    {
      label: 'getProtectedAttributes',
      spec: action(DATA_PROTECTION, collection, 1),
      command: protectedRequest,
      response: protectedResponse,
    },
  ],
})

/** Disconnect Control control_state, as GBCS names the supply states. */
const SUPPLY_STATES = { 0: 'disabled', 1: 'enabled', 2: 'armed' } as const
const POWER_IMPORT_COLLECTION_OBIS = '0.0.94.44.34.20'
/** scaler_unit { scaler int8 0, unit enum 27 (W) }. */
const SCALER_UNIT_WATTS: DlmsData = {
  type: 'structure',
  value: [
    { type: 'int8', value: 0 },
    { type: 'enum', value: 27 },
  ],
}

const DEFS: Def[] = [
  {
    code: 0x001a,
    name: 'ECS02 Set Payment Mode to Credit',
    slots: [
      { label: 'accountModeAndStatus', spec: set(ACCOUNT, ACCOUNT_OBIS, 2), command: accountModeAndStatus },
      {
        label: 'creditChargeConfiguration',
        spec: set(ACCOUNT, ACCOUNT_OBIS, 11),
        command: creditChargeConfiguration,
      },
      {
        label: 'activationDateTime',
        spec: set(ACCOUNT, ACCOUNT_OBIS, 13),
        command: dateTime('activationDateTime'),
      },
    ],
  },
  {
    code: 0x001b,
    name: 'ECS03 Set Payment Mode to Prepayment',
    slots: [
      { label: 'accountModeAndStatus', spec: set(ACCOUNT, ACCOUNT_OBIS, 2), command: accountModeAndStatus },
      {
        label: 'disablementThreshold',
        spec: set(EXTENDED_DATA, DISABLEMENT_THRESHOLD_OBIS, 4),
        command: num('disablementThreshold', 'int32'),
      },
      {
        label: 'creditChargeConfiguration',
        spec: set(ACCOUNT, ACCOUNT_OBIS, 11),
        command: creditChargeConfiguration,
      },
      {
        label: 'disablementThresholdActivationDateTime',
        spec: set(EXTENDED_DATA, DISABLEMENT_THRESHOLD_OBIS, 6),
        command: dateTime('disablementThresholdActivationDateTime'),
      },
      {
        label: 'activationDateTime',
        spec: set(ACCOUNT, ACCOUNT_OBIS, 13),
        command: dateTime('activationDateTime'),
      },
    ],
  },
  {
    code: 0x0007,
    name: 'CS01a Apply Prepayment Top Up',
    slots: [{ label: 'enter', spec: action(115, '0.0.19.40.0.255', 1), command: utrn('utrn') }],
  },
  {
    code: 0x0020,
    name: 'ECS09 Activate Emergency Credit',
    slots: [
      {
        label: 'invokeCredit',
        spec: action(112, '0.0.19.10.1.255', 3),
        command: fixed({ type: 'int8', value: 0 }),
      },
    ],
  },
  billingCalendar(0x0046, 'ECS30 Update Billing Calendar'),
  billingCalendar(0x00d7, 'ECS30a Update Billing Calendar (all periodicities)'),
  protectedRead(0x0027, 'ECS17b Read Import Energy Registers', '0.0.43.2.8.255'),
  protectedRead(0x002d, 'ECS19 Read Prepayment Registers', '0.0.43.2.1.255'),
  {
    // The Power Import Collection (class 1 Data, 0.0.94.44.34.20): { Active Power Import,
    // its scaler_unit {0, W}, the primary element's Active Power Import } (the MMC's
    // ReadActivePowerImportRsp: ActivePowerImport Value/Unit, PrimaryActivePowerImportValue;
    // the RTDS 4.5.0 ECS17c_4.16 frames). Not protected: the values are in the clear.
    code: 0x0028,
    name: 'ECS17c Read Active Power Import',
    slots: [
      {
        label: 'powerImportCollection',
        spec: get(1, POWER_IMPORT_COLLECTION_OBIS, 2),
        command: fixed(NULL),
        response: struct(
          num('activePowerImport', 'uint32'),
          fixed(SCALER_UNIT_WATTS),
          num('primaryActivePowerImport', 'uint32'),
        ),
      },
    ],
  },
  supplyScript(0x004f, 'ECS42 Enable Supply', 51),
  supplyScript(0x0050, 'ECS43 Disable Supply', 52),
  supplyScript(0x0051, 'ECS44 Arm Supply', 54),
  {
    code: 0x0052,
    name: 'ECS45 Read Supply Status',
    slots: [
      {
        label: 'controlState',
        spec: get(DISCONNECT_CONTROL, DISCONNECTOR_OBIS, 3),
        command: fixed(NULL),
        response: namedEnum('supplyStatus', SUPPLY_STATES),
      },
    ],
  },
  {
    code: 0x0062,
    name: 'ECS70 Set Clock',
    slots: [
      { label: 'clockBase', spec: set(CLOCK, CLOCK_OBIS, 9), command: num('clockBase', 'enum') },
      {
        label: 'presetAdjustingTime',
        spec: action(CLOCK, CLOCK_OBIS, 5),
        command: struct(
          dateTime('presetTime'),
          dateTime('validityIntervalStart'),
          dateTime('validityIntervalEnd'),
        ),
      },
      {
        label: 'adjustToPresetTime',
        spec: action(CLOCK, CLOCK_OBIS, 4),
        command: fixed({ type: 'int8', value: 0 }),
      },
      { label: 'time', spec: get(CLOCK, CLOCK_OBIS, 2), command: fixed(NULL), response: dateTime('time') },
      {
        label: 'clockStatus',
        spec: get(CLOCK, CLOCK_OBIS, 4),
        command: fixed(NULL),
        response: num('clockStatus', 'uint8'),
      },
    ],
  },
]

/** The view's name and head as one literal (not `{ name, ...head(s) }`: a copy through a spread). */
function headView(def: Def, a: { invokeId: number; dateTime?: string }): View {
  return a.dateTime === undefined
    ? { name: def.name, invokeId: a.invokeId }
    : { name: def.name, invokeId: a.invokeId, dateTime: a.dateTime }
}

function headFromView(v: View): { invokeId: number; dateTime?: string } {
  const invokeId = int(v.invokeId, 'useCase.invokeId', 0, 0xffffffff)
  return v.dateTime === undefined
    ? { invokeId }
    : { invokeId, dateTime: hexOf(v.dateTime, 'useCase.dateTime') }
}

function responseKind(spec: RequestSpec): ResponseSpec['kind'] {
  return spec.kind === 'action'
    ? 'action'
    : spec.kind === 'set' || spec.kind === 'setWithSelection'
      ? 'set'
      : 'get'
}

/**
 * The command's view. Its request specifications are not compared with the use case's here: the
 * only caller is the checked interpreter (exact), whose comparison of the rebuilt structure with
 * the given one covers them (build writes the use case's own), so comparing them here as well
 * was the same work twice on every command a device decodes.
 */
function interpretCommand(def: Def, s: AccessRequest): View | undefined {
  if (s.specs.length !== def.slots.length || s.data.length !== def.slots.length) return undefined
  const view = headView(def, s)
  for (let i = 0; i < def.slots.length; i++) {
    const part = def.slots[i]!.command.toView(s.data[i]!)
    if (!part) return undefined
    Object.assign(view, part)
  }
  return view
}

function buildCommand(def: Def, v: View): AccessRequest {
  const { invokeId, dateTime } = headFromView(v)
  const specs = def.slots.map((s) => s.spec)
  const data = def.slots.map((s) => s.command.fromView(v, 'useCase'))
  // Whole literals, not `{ apdu, ...head, specs, data }`: a spread followed by new keys is a slow
  // path in node 20's V8, and a device builds one of these for every command it checks (exact).
  return dateTime === undefined
    ? { apdu: 'accessRequest', invokeId, specs, data }
    : { apdu: 'accessRequest', invokeId, dateTime, specs, data }
}

function interpretResponse(def: Def, s: AccessResponse): View | undefined {
  const n = def.slots.length
  if (s.requestSpecs || s.results.length !== n || s.data.length !== n) return undefined
  const view = headView(def, s)
  const results: JsonObject = {}
  for (const [i, slot] of def.slots.entries()) {
    const r = s.results[i]!
    if (r.kind !== responseKind(slot.spec)) return undefined
    results[slot.label] = resultName(r.kind, r.result)
    const d = s.data[i]!
    if (d.type === 'null') continue
    const part = slot.response?.toView(d)
    if (!part) return undefined
    Object.assign(view, part)
  }
  if (n === 1) view.result = results[def.slots[0]!.label]!
  else view.results = results
  return view
}

function buildResponse(def: Def, v: View): AccessResponse {
  const n = def.slots.length
  const results = n === 1 ? undefined : obj(v.results, 'useCase.results')
  const { invokeId, dateTime } = headFromView(v)
  const data = def.slots.map((s) =>
    s.response?.keys.some((k) => v[k] !== undefined) ? s.response.fromView(v, 'useCase') : NULL,
  )
  const codes = def.slots.map((s) => {
    const kind = responseKind(s.spec)
    const r = results ? results[s.label] : v.result
    return { kind, result: resultCode(kind, r, results ? `useCase.results.${s.label}` : 'useCase.result') }
  })
  return dateTime === undefined
    ? { apdu: 'accessResponse', invokeId, data, results: codes }
    : { apdu: 'accessResponse', invokeId, dateTime, data, results: codes }
}

/** interpret, kept only when build gives back the same structure. */
function exact(
  interpret: (s: DlmsApdu) => View | undefined,
  build: (v: View) => DlmsApdu,
): (structure: Json) => View | undefined {
  return (structure) => {
    const s = structure as unknown as DlmsApdu
    if (typeof structure !== 'object' || structure === null || Array.isArray(structure)) return undefined
    let view: View | undefined
    try {
      view = interpret(s)
      if (view && !jsonEqual(build(view) as unknown as Json, structure)) view = undefined
    } catch {
      view = undefined
    }
    return view
  }
}

function requestResponseCodec(def: Def): UseCaseCodec {
  const interpret = (s: DlmsApdu) =>
    s.apdu === 'accessRequest'
      ? interpretCommand(def, s)
      : s.apdu === 'accessResponse'
        ? interpretResponse(def, s)
        : undefined
  const build = (v: View, cra: Cra): DlmsApdu =>
    cra === 'response' ? buildResponse(def, v) : buildCommand(def, v)
  // The checked interpreters made once, per CRA flag, not per payload.
  const exactCommand = exact(interpret, (v) => build(v, 'command'))
  const exactResponse = exact(interpret, (v) => build(v, 'response'))
  return {
    format: 'dlms',
    messageCodes: [def.code],
    cra: ['command', 'response'],
    interpret: (structure, ctx) =>
      ctx.cra === 'response'
        ? exactResponse(structure)
        : ctx.cra === 'command'
          ? exactCommand(structure)
          : exact(interpret, (v) => build(v, ctx.cra))(structure),
    build: (useCase, ctx) => build(useCase, ctx.cra) as unknown as Json,
  }
}

// ---------------------------------------------------------------------------------------------
// ESME alerts (Data-Notification): body structure { alert-code uint16, time-stamp
// octet-string(12), payload items... }

/** Message codes of the DLMS alerts in RTDS 4.5.0 (generic and use-case-specific). */
export const DLMS_ALERT_MESSAGE_CODES: readonly number[] = [
  0x0018, 0x0061, 0x0067, 0x00cc, 0x00ce, 0x00f0, 0x0110, 0x0111, 0x0112, 0x0113, 0x0114, 0x0115, 0x0120,
  0x0121, 0x0122, 0x0123, 0x1000, 0x1001,
]

/**
 * The 8F66/8F67 future-dated outcome payload, one octet-string: message code:2, originator
 * counter:8 of the future-dated command, and the COSEM attribute descriptor it set (class:2,
 * instance:6, attribute:1).
 */
function futureDatedToView(d: DlmsData): JsonObject | undefined {
  if (d.type !== 'octetString' || d.value.length !== 38) return undefined
  const h = d.value
  return {
    futureDatedCommand: {
      messageCode: h.slice(0, 4),
      originatorCounter: BigInt(`0x${h.slice(4, 20)}`).toString(),
      classId: Number.parseInt(h.slice(20, 24), 16),
      instance: Array.from({ length: 6 }, (_, i) =>
        Number.parseInt(h.slice(24 + i * 2, 26 + i * 2), 16),
      ).join('.'),
      attribute: Number.parseInt(h.slice(36, 38), 16),
    },
  }
}

function futureDatedFromView(x: Json | undefined, path: string): DlmsData {
  const o = obj(x, path)
  const code = hex4(parseHex4(o.messageCode, `${path}.messageCode`))
  const counter = bigint(o.originatorCounter, `${path}.originatorCounter`, 0n, (1n << 64n) - 1n)
  const classId = int(o.classId, `${path}.classId`, 0, 0xffff)
  const parts = str(o.instance, `${path}.instance`).split('.')
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    fail(`${path}.instance`, "expected an OBIS code 'a.b.c.d.e.f'")
  }
  const attribute = int(o.attribute, `${path}.attribute`, 0, 255)
  const h2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0')
  return {
    type: 'octetString',
    value:
      code +
      counter.toString(16).toUpperCase().padStart(16, '0') +
      hex4(classId) +
      parts.map((p) => h2(Number(p))).join('') +
      h2(attribute),
  }
}

const protectedAlertPayload = struct(list('protection', protectionParameters), protectedAttributes)

function interpretAlert(s: DlmsApdu): View | undefined {
  if (s.apdu !== 'dataNotification' || s.body.type !== 'structure' || s.body.value.length < 2)
    return undefined
  const [code, stamp, ...payload] = s.body.value as [DlmsData, DlmsData, ...DlmsData[]]
  if (code.type !== 'uint16') return undefined
  const timestamp = octetDateTime(stamp)
  if (timestamp === undefined) return undefined
  const alertName = ALERT_NAMES[code.value]
  // One literal per head shape: `{ name, ...head(s), more }` is the slow spread path of node 20.
  const name = `ESME Alert ${hex4(code.value)}${alertName ? ` ${alertName}` : ''}`
  const alertCode = hex4(code.value)
  const view: View =
    s.dateTime === undefined
      ? { name, invokeId: s.invokeId, alertCode, timestamp }
      : { name, invokeId: s.invokeId, dateTime: s.dateTime, alertCode, timestamp }
  const isFutureDated = code.value === 0x8f66 || code.value === 0x8f67
  const future = isFutureDated && payload.length === 1 ? futureDatedToView(payload[0]!) : undefined
  const prot =
    payload.length === 2
      ? protectedAlertPayload.toView({ type: 'structure', value: payload } as DlmsData)
      : undefined
  if (future) Object.assign(view, future)
  else if (prot) Object.assign(view, prot)
  else if (payload.length > 0) view.payload = payload as unknown as Json
  return view
}

function buildAlert(v: View): DataNotification {
  const code = parseHex4(v.alertCode, 'useCase.alertCode')
  const items: DlmsData[] = [
    { type: 'uint16', value: code },
    { type: 'octetString', value: dateTimeFromView(v.timestamp, 'useCase.timestamp') },
  ]
  if (v.futureDatedCommand !== undefined)
    items.push(futureDatedFromView(v.futureDatedCommand, 'useCase.futureDatedCommand'))
  else if (v.protectedAttributes !== undefined) {
    const s = protectedAlertPayload.fromView(v, 'useCase')
    items.push(...(s as { value: DlmsData[] }).value)
  } else if (v.payload !== undefined)
    items.push(...(arr(v.payload, 'useCase.payload') as unknown as DlmsData[]))
  const { invokeId, dateTime } = headFromView(v)
  const body: DlmsData = { type: 'structure', value: items }
  return dateTime === undefined
    ? { apdu: 'dataNotification', invokeId, body }
    : { apdu: 'dataNotification', invokeId, dateTime, body }
}

export const dlmsAlertCodec: UseCaseCodec = {
  format: 'dlms',
  messageCodes: DLMS_ALERT_MESSAGE_CODES,
  cra: ['alert'],
  interpret: (structure) => exact(interpretAlert, buildAlert)(structure),
  build: (useCase) => buildAlert(useCase) as unknown as Json,
}

/** The use-case views, one per message code, plus the ESME alerts. */
export const dlmsUseCases: readonly UseCaseCodec[] = [...DEFS.map(requestResponseCodec), dlmsAlertCodec]

/** (code, name) of each request/response use case covered. */
export const DLMS_USE_CASES: readonly { code: number; name: string }[] = DEFS.map(({ code, name }) => ({
  code,
  name,
}))

/**
 * The Communications Hub Function as a GBCS entity: its own key-agreement key, its trust anchor
 * cells, anti-replay counters, the CHF Device Log (device-log.ts) and the alerts it raises. Pure:
 * every function takes a state and returns a new one with what to send.
 *
 * Commands it executes, as the DCC's RTDS 4.5.0 (8.11_CCS01, 8.11_CCS02) shows them: General-
 * Signing from the Access Control Broker, MACed by it, not signed (GBCS message type SME.C.NC),
 * the requesting User in the supplementary remote party field, and a DLMS Access-Request on the
 * ZigBee network control object (class 104, 0.0.30.3.0.255):
 *  - CCS01 (0x0001): action register_device {ieee_address, device type, key (install code),
 *    key type}, set join_timeout (attribute 3), set joining enabled (attribute 2);
 *  - CCS02 (0x0002): action unregister_device {ieee_address}.
 * Checks, in the device's order (packages/device authenticate.ts, ARCHITECTURE.md step 5):
 * decodes and is a command → addressed to this CHF → MAC under the key agreed with the ACB's
 * key-agreement cell → originator in a cell → counter above the last from that role → a
 * signature, when present, against the role's signing cell → the role may send the message code
 * (CCS01/CCS02: the ACB only; the RTDS frames' originator is the ACB, 90B3D51F30000002). A
 * refusal changes nothing but the alert counter and raises the device's alert for that check.
 */
import { createHash } from 'node:crypto'
import { type Eui64, euiFromBytes, fromHex, toHex } from '@smetsim/core'
import {
  keyAgreement,
  publicKeyOf,
  type RemotePartyRole,
  roleOfOriginator,
  SECURITY_ALERTS,
  signingCell,
  type TrustAnchorCells,
} from '@smetsim/device'
import {
  buildPayload,
  type CryptoBackend,
  decodePayload,
  encodeMacedFrame,
  encodePayload,
  type GeneralSigning,
  type Json,
  messageKey,
  tryDecodeFrame,
  verifyGeneralSigning,
  verifyMac,
} from '@smetsim/gbcs'
import {
  addToLog,
  checkJoin,
  type DeviceLog,
  EMPTY_LOG,
  type JoinCheck,
  recordJoin,
  removeFromLog,
} from './device-log.ts'

/** GBCS message codes the CHF executes. */
export const CCS01 = 0x0001
export const CCS02 = 0x0002
/** CS14 Device Addition To / Removal From HAN Whitelist Alerts (message code, alert code). */
export const CS14 = 0x0018
export const DEVICE_LOG_CHANGED = 0x8f12
/** GBCS alert codes 'Device joining failed' / 'Device joining succeeded' (gbcs-parser src/util.ts). */
export const JOIN_FAILED = 0x8f48
export const JOIN_SUCCEEDED = 0x8f49
/** The generic critical alert's message code. */
const GENERIC_CRITICAL_ALERT = 0x1000

/** Who may send what to the CHF: CCS01 and CCS02 come from the ACB (RTDS 8.11). */
const CHF_COMMANDS: ReadonlyMap<number, readonly RemotePartyRole[]> = new Map([
  [CCS01, ['accessControlBroker']],
  [CCS02, ['accessControlBroker']],
])

/** The ZigBee network control object (DLMS class 104) the CCS01/CCS02 payloads address. */
const NETWORK_CONTROL = { classId: 104, instance: '0.0.30.3.0.255' } as const

/** DUIS JoinTimePeriod: 1 to 3600 (XSD AddDeviceToCHFWhitelist). CCS01 carries it as join_timeout. */
export const MAX_JOIN_TIMEOUT = 3600
/** The unit of join_timeout: seconds (unconfirmed: the RTDS and DUIS give numbers only). */
export const JOIN_TIMEOUT_UNIT_MS = 1000
/** CHF Device Log capacity (unconfirmed: not public here). */
export const DEFAULT_LOG_CAPACITY = 16

export interface ChfState {
  eui: Eui64
  /** The GPF's EUI: the CH's HAN interface, and so the Extended PAN ID a CS14 backup names. */
  gpfEui: Eui64 | undefined
  /** Key agreement private key (32-byte scalar): MACs of responses and alerts to the ACB. */
  ka: Uint8Array
  /** ACB (DS and KA), and where known root, recovery and WAN provider (which cells a CHF holds: unconfirmed). */
  cells: TrustAnchorCells
  counters: Partial<Record<RemotePartyRole, bigint>>
  alertCounter: bigint
  log: DeviceLog
}

export interface NewChfOptions {
  eui: Eui64
  gpfEui?: Eui64
  ka: Uint8Array
  cells: TrustAnchorCells
}

/** Every new CHF starts from this one (state is replaced, never mutated). */
const NO_COUNTERS: ChfState['counters'] = Object.freeze({})

export function createChf(o: NewChfOptions): ChfState {
  return {
    eui: o.eui,
    gpfEui: o.gpfEui,
    ka: o.ka,
    cells: o.cells,
    counters: NO_COUNTERS,
    alertCounter: 0n,
    log: EMPTY_LOG,
  }
}

export interface RaisedAlert {
  code: number
  frame: Uint8Array | undefined
}

export interface ChfResult {
  state: ChfState
  outcome: 'executed' | 'rejected' | 'not-emulated'
  reason?: string
  response?: Uint8Array
  alerts: RaisedAlert[]
  /** CCS01 opened a join window for this device (the hub then lets it try). */
  joinWindowFor?: Eui64
  /** CCS02 removed this device from the log (the hub cuts it off the HAN). */
  removed?: Eui64
}

/** The two keys of a static ECDH with the ACB, or undefined without an ACB key-agreement cell. */
function acbPair(state: ChfState, backend: CryptoBackend) {
  const cell = state.cells.accessControlBrokerKa
  return cell && keyAgreement({ ds: state.ka, ka: state.ka }, cell, backend)
}

/** A GBCS frame from the CHF to the ACB, MACed (as the RTDS CS14 alert and CCS01 responses are). */
function macedToAcb(
  state: ChfState,
  s: Omit<GeneralSigning, 'originator' | 'recipient' | 'signature'>,
  backend: CryptoBackend,
): Uint8Array | undefined {
  const acb = state.cells.accessControlBrokerKa
  const pair = acbPair(state, backend)
  if (!acb || !pair) return undefined
  const full: GeneralSigning = {
    ...s,
    originator: state.eui,
    recipient: acb.eui,
    signature: { kind: 'empty' },
  }
  return encodeMacedFrame(full, messageKey(full, pair.own, pair.other, backend))
}

/** 12-byte COSEM date-time of a UTC instant, in the form GBCS uses (weekday FF, deviation 8000, status FF). */
export function cosemDateTime(ms: number): string {
  const d = new Date(ms)
  const h2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0')
  const y = d.getUTCFullYear()
  return `${h2(y >> 8)}${h2(y & 0xff)}${h2(d.getUTCMonth() + 1)}${h2(d.getUTCDate())}FF${h2(d.getUTCHours())}${h2(d.getUTCMinutes())}${h2(d.getUTCSeconds())}008000FF`
}

const isoSeconds = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`

/**
 * An alert from the CHF: DLMS Data-Notification with the alert code and time stamp (and the
 * alert's own payload), MACed to the ACB. `messageCode` CS14 for 0x8F12 (with the log backup),
 * else the generic critical alert 0x1000 (MACed rather than signed: the RTDS has no signed CHF
 * alert of these codes; unconfirmed).
 */
function raise(
  state: ChfState,
  code: number,
  now: number,
  backend: CryptoBackend,
  alerts: RaisedAlert[],
  payload?: Json[],
): ChfState {
  const counter = state.alertCounter + 1n
  const messageCode = code === DEVICE_LOG_CHANGED ? CS14 : GENERIC_CRITICAL_ALERT
  const view = {
    name: `CHF Alert ${code.toString(16).toUpperCase()}`,
    invokeId: Number(0x20000000n | (counter & 0xffffffn)),
    alertCode: code.toString(16).toUpperCase().padStart(4, '0'),
    timestamp: isoSeconds(now),
    ...(payload && { payload }),
  }
  const content = buildPayload(view, { messageCode, cra: 'alert' }, 'dlms')
  const frame = macedToAcb(state, { cra: 'alert', originatorCounter: counter, messageCode, content }, backend)
  alerts.push({ code, frame })
  return { ...state, alertCounter: counter }
}

/**
 * CS14's payload: a backup of the log — time stamp, Extended PAN ID (the GPF's EUI, GBCS: the
 * CH's HAN interface address) and per device its EUI and hashed TC link key (zero-length until
 * it has one). The layout is read off the RTDS CS14 8F12 alert; its field meanings: unconfirmed.
 */
function logBackup(state: ChfState, now: number): Json[] {
  const entries = state.log.entries.map((e) => ({
    type: 'structure',
    value: [
      { type: 'octetString', value: e.eui },
      { type: 'octetString', value: e.linkKeyHash ? toHex(e.linkKeyHash) : '' },
    ],
  }))
  return [
    {
      type: 'structure',
      value: [
        { type: 'octetString', value: cosemDateTime(now) },
        { type: 'octetString', value: state.gpfEui ?? state.eui },
        { type: 'array', value: entries },
      ],
    },
  ]
}

/** Raises CS14 (0x8F12) with the log as it now stands. */
export function raiseLogChanged(
  state: ChfState,
  now: number,
  backend: CryptoBackend,
  alerts: RaisedAlert[],
): ChfState {
  return raise(state, DEVICE_LOG_CHANGED, now, backend, alerts, logBackup(state, now))
}

export type ChfRefusal = { ok: false; reason: string; alert: number }

function authenticate(
  state: ChfState,
  bytes: Uint8Array,
  backend: CryptoBackend,
): { ok: true; signing: GeneralSigning; role: RemotePartyRole } | ChfRefusal {
  const decoded = tryDecodeFrame(bytes)
  if (!decoded.ok) return { ok: false, reason: 'malformed', alert: SECURITY_ALERTS.integrity }
  const frame = decoded.value
  const s = frame.signing
  if (s.cra !== 'command') return { ok: false, reason: 'not-a-command', alert: SECURITY_ALERTS.integrity }
  if (s.recipient !== state.eui) return { ok: false, reason: 'recipient', alert: SECURITY_ALERTS.other }
  const pair = acbPair(state, backend)
  if (!frame.mac || !pair || !verifyMac(frame, messageKey(s, pair.own, pair.other, backend)))
    return { ok: false, reason: 'mac', alert: SECURITY_ALERTS.authentication }
  const role = roleOfOriginator(state.cells, s.originator)
  if (!role) return { ok: false, reason: 'unknown-originator', alert: SECURITY_ALERTS.authentication }
  if (s.originatorCounter <= (state.counters[role] ?? 0n))
    return { ok: false, reason: 'replay', alert: SECURITY_ALERTS.other }
  if (s.signature.kind === 'ecdsa') {
    const cell = state.cells[signingCell(role)]
    if (!cell || !verifyGeneralSigning(s, publicKeyOf(cell, backend), backend))
      return { ok: false, reason: 'signature', alert: SECURITY_ALERTS.authentication }
  }
  const roles = CHF_COMMANDS.get(s.messageCode)
  if (roles && !roles.includes(role))
    return { ok: false, reason: 'unauthorised', alert: SECURITY_ALERTS.authority }
  return { ok: true, signing: s, role }
}

type Data = { type: string; value?: Json }
const isSpec = (spec: Json, kind: string, n: number, field: 'method' | 'attribute') => {
  const o = spec as {
    kind?: string
    classId?: number
    instance?: string
    method?: number
    attribute?: number
  }
  return (
    o.kind === kind &&
    o.classId === NETWORK_CONTROL.classId &&
    o.instance === NETWORK_CONTROL.instance &&
    o[field] === n
  )
}

/** DLMS action and data-access results the CHF answers with (Green Book codes). */
const RESULT = { success: 0, hardwareFault: 1, typeUnmatched: 12, otherReason: 250 } as const

/** register_device's argument: {ieee_address, device type, install code, key type}. */
function readRegistration(
  d: Data | undefined,
): { eui: Eui64; typeCode: number; installCode: Uint8Array } | undefined {
  if (d?.type !== 'structure' || !Array.isArray(d.value) || d.value.length !== 4) return undefined
  const [address, type, key] = d.value as Data[]
  if (address?.type !== 'octetString' || type?.type !== 'enum' || key?.type !== 'octetString')
    return undefined
  if (typeof address.value !== 'string' || typeof key.value !== 'string' || typeof type.value !== 'number')
    return undefined
  const eui = fromHex(address.value)
  const installCode = fromHex(key.value)
  // DUIS InstallCode: 6 to 16 bytes (XSD AddDeviceToCHFWhitelist); the RTDS sends 16.
  if (eui.length !== 8 || installCode.length < 6 || installCode.length > 16) return undefined
  return { eui: euiFromBytes(eui), typeCode: type.value, installCode }
}

export interface ChfOptions {
  backend: CryptoBackend
  capacity?: number
}

/**
 * A GBCS frame addressed to the CHF. Never throws on input: anything that fails to authenticate
 * or to parse is a refusal with its alert, and changes nothing else.
 */
export function handleChfFrame(state: ChfState, bytes: Uint8Array, now: number, o: ChfOptions): ChfResult {
  const alerts: RaisedAlert[] = []
  const auth = authenticate(state, bytes, o.backend)
  if (!auth.ok)
    return {
      state: raise(state, auth.alert, now, o.backend, alerts),
      outcome: 'rejected',
      reason: auth.reason,
      alerts,
    }
  const s = auth.signing
  let st: ChfState = { ...state, counters: { ...state.counters, [auth.role]: s.originatorCounter } }
  const payload = decodePayload(s.content, { messageCode: s.messageCode, cra: 'command' })
  const req = payload.structure as { apdu?: string; invokeId?: number; specs?: Json[]; data?: Data[] }
  if (!CHF_COMMANDS.has(s.messageCode))
    return {
      state: st,
      outcome: 'not-emulated',
      reason: `message code ${s.messageCode} is not emulated by the CHF`,
      alerts,
    }
  if (
    payload.format !== 'dlms' ||
    req.apdu !== 'accessRequest' ||
    !Array.isArray(req.specs) ||
    !Array.isArray(req.data)
  )
    return {
      state: raise(state, SECURITY_ALERTS.integrity, now, o.backend, alerts),
      outcome: 'rejected',
      reason: 'malformed',
      alerts,
    }
  const results: { kind: string; result: number }[] = []
  let joinWindowFor: Eui64 | undefined
  let removed: Eui64 | undefined
  let changed = false
  if (s.messageCode === CCS01) {
    // Action first (the device it adds), then the sets that shape its join window.
    let registered: ReturnType<typeof readRegistration>
    let windowMs = MAX_JOIN_TIMEOUT * JOIN_TIMEOUT_UNIT_MS
    let enabled = true
    for (const [i, spec] of req.specs.entries()) {
      const data = req.data[i]
      if (isSpec(spec, 'action', 1, 'method')) {
        registered = readRegistration(data)
        results.push({ kind: 'action', result: registered ? RESULT.success : RESULT.typeUnmatched })
      } else if (isSpec(spec, 'set', 3, 'attribute')) {
        const t = data?.type === 'uint16' ? (data.value as number) : -1
        const good = t >= 1 && t <= MAX_JOIN_TIMEOUT
        if (good) windowMs = t * JOIN_TIMEOUT_UNIT_MS
        results.push({ kind: 'set', result: good ? RESULT.success : RESULT.otherReason })
      } else if (isSpec(spec, 'set', 2, 'attribute')) {
        const good = data?.type === 'boolean'
        if (good) enabled = data.value === true
        results.push({ kind: 'set', result: good ? RESULT.success : RESULT.typeUnmatched })
      } else
        results.push({
          kind: (spec as { kind?: string }).kind === 'set' ? 'set' : 'action',
          result: RESULT.otherReason,
        })
    }
    if (registered) {
      const added = addToLog(
        st.log,
        registered,
        now,
        enabled ? windowMs : 0,
        o.capacity ?? DEFAULT_LOG_CAPACITY,
      )
      if (added.kind === 'full') results[0] = { kind: 'action', result: RESULT.otherReason }
      else {
        st = { ...st, log: added.log }
        if (added.kind === 'added') {
          changed = true
          if (enabled) joinWindowFor = registered.eui
        }
      }
    }
  } else {
    const spec = req.specs[0]
    const data = req.data[0]
    let result: number = RESULT.typeUnmatched
    if (
      req.specs.length === 1 &&
      spec &&
      isSpec(spec, 'action', 2, 'method') &&
      data?.type === 'octetString'
    ) {
      const eui =
        typeof data.value === 'string' && data.value.length === 16
          ? (data.value.toUpperCase() as Eui64)
          : undefined
      const log = eui && removeFromLog(st.log, eui)
      // Not in the log: the RTDS CCS02 error response's action result, hardware-fault (unconfirmed).
      result = log ? RESULT.success : RESULT.hardwareFault
      if (log && eui) {
        st = { ...st, log }
        changed = true
        removed = eui
      }
    }
    results.push({ kind: 'action', result })
  }
  const content = encodePayload(
    {
      format: 'dlms',
      structure: {
        apdu: 'accessResponse',
        invokeId: req.invokeId ?? 0,
        data: results.map(() => ({ type: 'null' })),
        results,
      } as unknown as Json,
    },
    { messageCode: s.messageCode, cra: 'response' },
  )
  const response = macedToAcb(
    st,
    {
      cra: 'response',
      originatorCounter: s.originatorCounter,
      messageCode: s.messageCode,
      ...(s.supplementary && { supplementary: s.supplementary }),
      content,
    },
    o.backend,
  )
  if (changed) st = raiseLogChanged(st, now, o.backend, alerts)
  return {
    state: st,
    outcome: 'executed',
    alerts,
    ...(response && { response }),
    ...(joinWindowFor && { joinWindowFor }),
    ...(removed && { removed }),
  }
}

/** SR 8.11 as the DCC calls it in-process (packages/dcc HanDeviceLogTransport): CCS01 without the GBCS frame. */
export function addDeviceDirect(
  state: ChfState,
  entry: { deviceId: Eui64; deviceType: string; installCode: Uint8Array; joinTimeout?: number },
  now: number,
  o: ChfOptions,
  /** false: an addition made before the run, whose CS14 alert was sent then (none raised now). */
  announce = true,
): { state: ChfState; accepted: boolean; added: boolean; reason?: string; alerts: RaisedAlert[] } {
  const alerts: RaisedAlert[] = []
  const seconds = entry.joinTimeout ?? MAX_JOIN_TIMEOUT
  if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_JOIN_TIMEOUT))
    return {
      state,
      accepted: false,
      added: false,
      reason: `join timeout must be 1 to ${MAX_JOIN_TIMEOUT} s`,
      alerts,
    }
  if (entry.installCode.length < 6 || entry.installCode.length > 16)
    return { state, accepted: false, added: false, reason: 'an install code is 6 to 16 bytes', alerts }
  const r = addToLog(
    state.log,
    { eui: entry.deviceId, installCode: entry.installCode, deviceType: entry.deviceType },
    now,
    seconds * JOIN_TIMEOUT_UNIT_MS,
    o.capacity ?? DEFAULT_LOG_CAPACITY,
  )
  if (r.kind === 'full')
    return { state, accepted: false, added: false, reason: 'the CHF Device Log is full', alerts }
  if (r.kind === 'already-present')
    return {
      state,
      accepted: true,
      added: false,
      reason: 'already in the CHF Device Log (install code discarded)',
      alerts,
    }
  if (!announce) return { state: { ...state, log: r.log }, accepted: true, added: true, alerts }
  const st = raiseLogChanged({ ...state, log: r.log }, now, o.backend, alerts)
  return { state: st, accepted: true, added: true, alerts }
}

/** CCS02 without the GBCS frame, for the in-process path. */
export function removeDeviceDirect(
  state: ChfState,
  eui: Eui64,
  now: number,
  o: ChfOptions,
): { state: ChfState; removed: boolean; alerts: RaisedAlert[] } {
  const alerts: RaisedAlert[] = []
  const log = removeFromLog(state.log, eui)
  if (!log) return { state, removed: false, alerts }
  return { state: raiseLogChanged({ ...state, log }, now, o.backend, alerts), removed: true, alerts }
}

/**
 * A device on the HAN tries to join: the check (device-log.ts checkJoin) plus the device's
 * certificate check the caller made. Success records its TC link key hash and raises 0x8F49 and
 * CS14 (the hashed key changed); failure of a device in the log raises 0x8F48. A device not in
 * the log is simply not let in (it cannot talk to the CHF): no alert.
 */
export function joinDevice(
  state: ChfState,
  eui: Eui64,
  now: number,
  proof: {
    knowsInstallCode: (code: Uint8Array) => boolean
    certificate: { ok: true } | { ok: false; reason: string }
  },
  o: ChfOptions,
): { state: ChfState; joined: boolean; reason?: string; via?: string; alerts: RaisedAlert[] } {
  const alerts: RaisedAlert[] = []
  const check: JoinCheck = checkJoin(state.log, eui, now, proof.knowsInstallCode, () =>
    linkKeyHash(state.eui, eui, now),
  )
  if (!check.ok && check.reason === 'not-in-log')
    return { state, joined: false, reason: check.reason, alerts }
  if (!check.ok && check.reason === 'already-joined')
    return { state, joined: true, reason: check.reason, alerts }
  const failure = !check.ok ? check.reason : !proof.certificate.ok ? proof.certificate.reason : undefined
  if (failure || !check.ok)
    return {
      state: raise(state, JOIN_FAILED, now, o.backend, alerts),
      joined: false,
      reason: failure,
      alerts,
    }
  let st = { ...state, log: recordJoin(state.log, eui, check.linkKeyHash) }
  st = raise(st, JOIN_SUCCEEDED, now, o.backend, alerts)
  st = raiseLogChanged(st, now, o.backend, alerts)
  return { state: st, joined: true, via: check.via, alerts }
}

/**
 * A stand-in for the TC link key a join establishes, and its hash, as CS14 reports it: 16 bytes
 * of SHA-256 over the CHF, the device and the instant. The real key comes from ZigBee CBKE and
 * GBCS's hash function for hashed_TC_link_key is not public here (unconfirmed); what matters to
 * the emulator is that each join gives a new value and a restore can compare them.
 */
export function linkKeyHash(chf: Eui64, device: Eui64, now: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`${chf}${device}${now}`).digest().subarray(0, 16))
}

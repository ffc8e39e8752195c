/**
 * The device firmware as one pure step: (state, input, now) → { state, outputs }. No timers,
 * no I/O: time is an argument, and the outputs say when the device next needs to run.
 *
 * Every step first settles the prepayment account up to `now` (consumption is lazy), raising
 * whatever alerts fell due on the way, then handles the input:
 *  - a GBCS frame: authenticated (authenticate.ts) and, when authentic, executed by the use
 *    case for its message code, answered with a response and perhaps alerts;
 *  - a consumer action on the meter or the PPMID: the button, accepting emergency credit,
 *    entering a UTRN;
 *  - the passage of time alone.
 * A refused frame changes nothing in the state but the alert counter of the alert it raises.
 */
import {
  buildPayload,
  type CryptoBackend,
  decodePayload,
  defaultBackend,
  type GeneralSigning,
  type Json,
  messageCodeName,
} from '@smetsim/gbcs'
import { type Authenticated, authenticateCommand, type RefusalReason } from './authenticate.ts'
import { COMMAND_RULES, TOP_UP_MESSAGE_CODES } from './authority.ts'
import { activateEmergencyCredit, nextChange, settle } from './prepayment/index.ts'
import { buildAlert, buildResponse } from './protect.ts'
import {
  type BillingCalendar,
  type DeviceState,
  type PendingCommand,
  prepaymentContext,
  remainingBatteryDays,
} from './state.ts'
import { topUp } from './top-up.ts'
import { followingBillingInstant } from './use-cases/billing-calendar.ts'
import { executeUseCase, type UseCaseResult } from './use-cases/index.ts'

export type DeviceInput =
  | { kind: 'frame'; bytes: Uint8Array }
  | { kind: 'time' }
  /** The meter's button: enables an armed supply (ESME and GSME). */
  | { kind: 'button' }
  /** The consumer accepts emergency credit on the meter or the PPMID (PECS02 / PCS02). */
  | { kind: 'acceptEmergencyCredit'; via: 'meter' | 'ppmid' }
  /** The consumer enables an armed ESME from the PPMID (PECS03); a GSME has no such command. */
  | { kind: 'ppmidEnableSupply' }
  /** A UTRN typed on the meter's keypad or the PPMID. */
  | { kind: 'utrn'; digits: string; via: 'keypad' | 'ppmid' }

export type Outcome = 'executed' | 'rejected' | 'not-emulated'

export interface DeviceOutputs {
  /** For a frame: what became of it. */
  outcome?: Outcome
  reason?: RefusalReason | string
  /** The GBCS response to a command, when it has one. */
  response?: Uint8Array
  /** Alert frames raised in this step, in order, with their codes. */
  alerts: { code: number; at: number; frame: Uint8Array | undefined }[]
  /**
   * The next instant the device must be stepped (with { kind: 'time' }) even if nothing arrives:
   * when its own state next changes (prepayment, billing calendar, a future-dated command, a
   * GSME's low battery). A GSME's radio wake-ups (`nextWake`) are not in it: stepping it then
   * changes nothing; the hub's GPF keeps them (packages/hub).
   */
  wakeAt: number | undefined
}

export interface StepResult {
  state: DeviceState
  outputs: DeviceOutputs
}

export interface StepOptions {
  backend?: CryptoBackend
}

/** Raises alerts in order, advancing the alert counter for each. */
export function raiseAlerts(
  state: DeviceState,
  events: readonly { at: number; alert: number }[],
  backend: CryptoBackend,
  out: DeviceOutputs['alerts'],
): DeviceState {
  let s = state
  for (const e of events) {
    const built = buildAlert(s, e.alert, e.at, backend)
    s = built.state
    out.push({ code: e.alert, at: e.at, frame: built.frame })
  }
  return s
}

/**
 * Brings the account and supply state up to `now`. At the account's own instant there is nothing
 * to accrue, but a rule may still be due there (a device made below its low-credit threshold, or a
 * command that changed thresholds or mode): the next change said so (`prepaymentNext` = now, or not
 * known yet), and settling applies it, so a caller that steps at `wakeAt` always moves on.
 */
function settleTo(
  state: DeviceState,
  now: number,
  backend: CryptoBackend,
  alerts: DeviceOutputs['alerts'],
): DeviceState {
  if (now < state.account.at) return state
  if (now === state.account.at && state.prepaymentNext !== now && state.prepaymentNext !== undefined)
    return state
  const r = settle(state.account, state.supply, now, prepaymentContext(state))
  // Time alone changes nothing the next change depends on, unless a rule fired on the way.
  const known = r.events.length === 0 && r.supply === state.supply ? state.prepaymentNext : undefined
  const settled = { ...state, account: r.account, supply: r.supply, prepaymentNext: known }
  return raiseAlerts(settled, r.events, backend, alerts)
}

export function step(
  state: DeviceState,
  input: DeviceInput,
  now: number,
  options: StepOptions = {},
): StepResult {
  const backend = options.backend ?? defaultBackend
  const outputs: DeviceOutputs = { alerts: [], wakeAt: undefined }
  const settled = settleTo(state, now, backend, outputs.alerts)
  let s = billingDue(settled, now, backend, outputs.alerts)
  s = runDue(s, now, backend, outputs.alerts)
  s = batteryCheck(s, now, backend, outputs.alerts)

  switch (input.kind) {
    case 'frame':
      s = handleFrame(s, input.bytes, now, backend, outputs)
      break
    case 'button':
    case 'ppmidEnableSupply':
      if (input.kind === 'ppmidEnableSupply' && s.type !== 'ESME') break
      if (s.supply === 'armed') s = { ...s, supply: 'enabled' }
      break
    case 'acceptEmergencyCredit': {
      const r = activateEmergencyCredit(s.account, s.supply, now, prepaymentContext(s))
      s = raiseAlerts({ ...s, account: r.account, supply: r.supply }, r.events, backend, outputs.alerts)
      break
    }
    case 'utrn': {
      const r = topUp(s, input.digits, input.via, now, backend)
      s = raiseAlerts(r.state, r.events, backend, outputs.alerts)
      break
    }
    case 'time':
      break
  }
  s = withPrepaymentNext(s, settled)
  outputs.wakeAt = earliest(
    earliest(earliest(s.prepaymentNext ?? undefined, lowBatteryAt(s)), s.billingCalendar?.next),
    s.pending[0]?.at,
  )
  return { state: s, outputs }
}

/** The earlier of two instants, either perhaps unknown (no array made: this runs every step). */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b)
}

/**
 * The state with its next prepayment change known: kept from `settled` when the step touched
 * nothing it depends on, otherwise searched for again (prepayment/nextChange).
 */
function withPrepaymentNext(s: DeviceState, settled: DeviceState): DeviceState {
  const untouched =
    s.account === settled.account &&
    s.supply === settled.supply &&
    s.config === settled.config &&
    s.tariff === settled.tariff &&
    s.load === settled.load &&
    s.paymentMode === settled.paymentMode
  if (
    untouched &&
    s.prepaymentNext !== undefined &&
    (s.prepaymentNext === null || s.prepaymentNext > s.account.at)
  )
    return s
  return { ...s, prepaymentNext: nextChange(s.account, s.supply, prepaymentContext(s)) ?? null }
}

/** A GSME warns once (0x8F1F Low Battery) when its battery has this many days left or fewer. */
export const LOW_BATTERY_DAYS = 30

/** When a GSME's battery reaches LOW_BATTERY_DAYS left (remainingBatteryDays), if it has not warned yet. */
function lowBatteryAt(state: DeviceState): number | undefined {
  const wake = state.wake
  if (!wake || wake.lowBatteryRaised) return undefined
  return wake.batteryAt + Math.max(0, wake.batteryDays - LOW_BATTERY_DAYS) * 86_400_000
}

function batteryCheck(
  state: DeviceState,
  now: number,
  backend: CryptoBackend,
  alerts: DeviceOutputs['alerts'],
): DeviceState {
  const wake = state.wake
  if (!wake || wake.lowBatteryRaised || remainingBatteryDays(state, now) > LOW_BATTERY_DAYS) return state
  return raiseAlerts(
    { ...state, wake: { ...wake, lowBatteryRaised: true } },
    [{ at: now, alert: 0x8f1f }],
    backend,
    alerts,
  )
}

/**
 * A GSME sleeps between wake-ups every `wake.intervalMinutes`, offset per device (from its load
 * seed) so that a fleet does not wake all at once; the hub's GPF holds commands until then.
 */
export function nextWake(state: DeviceState, now: number): number | undefined {
  if (!state.wake) return undefined
  const period = state.wake.intervalMinutes * 60_000
  const phase = (state.load.seed % state.wake.intervalMinutes) * 60_000
  return Math.floor((now - phase) / period) * period + phase + period
}

/**
 * The billing calendar's due instants up to `now`: one Billing Data Log alert (0x8F0A) each, sent
 * to whichever supplier's certificate is in the cells at that moment — after a Change of
 * Supplier without SR 6.23 that is still the losing supplier (DP072). Each next instant comes
 * from the calendar (use-cases/billing-calendar.ts).
 */
function billingDue(
  state: DeviceState,
  now: number,
  backend: CryptoBackend,
  alerts: DeviceOutputs['alerts'],
): DeviceState {
  const calendar = state.billingCalendar
  if (!calendar || calendar.next === undefined || calendar.next > now) return state
  const due: { at: number; alert: number }[] = []
  let next: number | undefined = calendar.next
  for (; next !== undefined && next <= now; next = followingBillingInstant(calendar, next, state.clockOffset))
    due.push({ at: next, alert: 0x8f0a })
  const { next: _, ...schedule } = calendar
  const billingCalendar: BillingCalendar = next === undefined ? schedule : { ...schedule, next }
  return raiseAlerts({ ...state, billingCalendar }, due, backend, alerts)
}

/** Whether a CHF may let the device join its HAN with this install code (SR 8.11, CCS01). */
export function installCodeMatches(state: DeviceState, code: Uint8Array): boolean {
  const own = state.installCode
  return own !== undefined && own.length === code.length && own.every((b, i) => b === code[i])
}

function handleFrame(
  state: DeviceState,
  bytes: Uint8Array,
  now: number,
  backend: CryptoBackend,
  outputs: DeviceOutputs,
): DeviceState {
  const auth = authenticateCommand(state, bytes, backend)
  if (!auth.ok) {
    outputs.outcome = 'rejected'
    outputs.reason = auth.reason
    return raiseAlerts(state, [{ at: now, alert: auth.alert }], backend, outputs.alerts)
  }
  const s = auth.frame.signing
  // Authentic: the counter moves on whatever the use case makes of it — but not for a top-up,
  // whose counter is its UTRN's (top-up.ts moves that one when the UTRN is accepted).
  const counted: DeviceState = TOP_UP_MESSAGE_CODES.has(s.messageCode)
    ? state
    : { ...state, counters: { ...state.counters, [auth.role]: s.originatorCounter } }
  if (!auth.rule) {
    outputs.outcome = 'not-emulated'
    outputs.reason = `${messageCodeName(s.messageCode) ?? `message code ${s.messageCode}`} is not emulated`
    return counted
  }
  const payload = decodePayload(s.content, { messageCode: s.messageCode, cra: 'command' })
  if (!payload.useCase) {
    outputs.outcome = 'rejected'
    outputs.reason = 'malformed'
    return raiseAlerts(state, [{ at: now, alert: 0x8f1e }], backend, outputs.alerts)
  }
  // A use case that fails to execute or to answer is a firmware fault: the command is dropped
  // with an integrity alert and the state is left as it was, so no frame can crash the device.
  let result: UseCaseResult
  let response: Uint8Array | undefined
  try {
    result = executeUseCase(counted, auth, payload.useCase, now, backend)
    if (result.refuse) {
      outputs.outcome = 'rejected'
      outputs.reason = result.refuse.reason
      return raiseAlerts(state, [{ at: now, alert: result.refuse.alert }], backend, outputs.alerts)
    }
    if (result.response) {
      const ctx = { messageCode: s.messageCode, cra: 'response' as const }
      response = buildResponse(
        result.state,
        s,
        buildPayload(result.response, ctx, payload.format),
        auth.rule.signedResponse,
        backend,
      )
    }
  } catch (e) {
    outputs.outcome = 'rejected'
    outputs.reason = `firmware fault: ${(e as Error).message}`
    return raiseAlerts(state, [{ at: now, alert: 0x8f1e }], backend, outputs.alerts)
  }
  outputs.outcome = 'executed'
  if (result.reason) outputs.reason = result.reason
  if (response) outputs.response = response
  let next = result.state
  if (result.cancel) next = { ...next, pending: next.pending.filter((p) => p.messageCode !== s.messageCode) }
  if (result.schedule) {
    const entry: PendingCommand = {
      at: result.schedule.at,
      messageCode: s.messageCode,
      originatorCounter: s.originatorCounter,
      originator: s.originator,
      role: auth.role,
      critical: auth.critical,
      view: result.schedule.view,
    }
    next = { ...next, pending: [...next.pending, entry].sort((a, b) => a.at - b.at) }
  }
  next = raiseAlerts(next, result.events, backend, outputs.alerts)
  return next
}

/** The COSEM attribute holding the account's (payment mode's) activation date-time. */
const ACCOUNT_ACTIVATION = { classId: 111, instance: '0.1.19.0.0.255', attribute: 13 }
/** The COSEM attribute holding the disablement threshold's activation date-time. */
const DISABLEMENT_THRESHOLD_ACTIVATION = { classId: 9000, instance: '0.0.94.44.128.22', attribute: 6 }
/** The ZCL command a GCS02/GCS03 carries: Prepayment cluster, Change Payment Mode. */
const CHANGE_PAYMENT_MODE = {
  clusterId: '0705',
  frameType: 'cluster',
  direction: 'toServer',
  disableDefaultResponse: false,
  commandId: 6,
  command: 'changePaymentMode',
}

/**
 * The use-case-specific outcome alerts of future-dated commands, per message code: the alert's
 * message code (0x00CC DLMS for an ESME, 0x00CD GBZ for a GSME) and what each alert names
 * besides the command's message code and counter — for an ESME the COSEM attribute set at that
 * time, for a GSME the ZCL command — one alert per entry, in this order. As the RTDS 4.5.0
 * (SR 1.6) shows: ECS02 one alert (the account's activation time), ECS03 two (the disablement
 * threshold's activation time first, then the account's), GCS02 and GCS03 one each. Commands
 * not listed (GCS32/GCS39, CS02b) raise the generic alert (0x1000) with the code and time only.
 */
export const FUTURE_DATED_ALERTS: ReadonlyMap<
  number,
  { messageCode: number; targets: readonly { [field: string]: Json }[] }
> = new Map([
  [0x001a, { messageCode: 0x00cc, targets: [ACCOUNT_ACTIVATION] }],
  [0x001b, { messageCode: 0x00cc, targets: [DISABLEMENT_THRESHOLD_ACTIVATION, ACCOUNT_ACTIVATION] }],
  [0x006c, { messageCode: 0x00cd, targets: [CHANGE_PAYMENT_MODE] }],
  [0x006d, { messageCode: 0x00cd, targets: [CHANGE_PAYMENT_MODE] }],
])

/**
 * The outcome of a future-dated command, 0x8F66 (actioned) or 0x8F67 (not actioned), at its
 * time: the use-case-specific alert(s) with the command's message code, its originator counter
 * and what it set (FUTURE_DATED_ALERTS), or the generic alert for the commands without one.
 * Each is a Critical (0x8Fxx) alert: signed, to the supplier in the cells at that moment.
 */
function raiseOutcome(
  state: DeviceState,
  due: PendingCommand,
  outcome: number,
  backend: CryptoBackend,
  alerts: DeviceOutputs['alerts'],
): DeviceState {
  const specific = FUTURE_DATED_ALERTS.get(due.messageCode)
  if (!specific) return raiseAlerts(state, [{ at: due.at, alert: outcome }], backend, alerts)
  const command = {
    messageCode: due.messageCode.toString(16).toUpperCase().padStart(4, '0'),
    originatorCounter: due.originatorCounter.toString(),
  }
  let s = state
  for (const target of specific.targets) {
    const built = buildAlert(s, outcome, due.at, backend, {
      messageCode: specific.messageCode,
      fields: { futureDatedCommand: { ...command, ...target } },
    })
    s = built.state
    alerts.push({ code: outcome, at: due.at, frame: built.frame })
  }
  return s
}

/**
 * Runs the future-dated commands due by `now`, each as its use case would have run it then,
 * and raises its outcome (raiseOutcome): 0x8F66 when it ran — also when the use case answered
 * with an error result (unconfirmed) — and 0x8F67 when it could not run at all (the use case
 * threw; the state is then left as it was). Their responses were sent when the commands
 * arrived; the outcome travels in the alert(s), after any alerts the use case itself raised.
 * A use case that refuses the command at its time (UseCaseResult.refuse) is not actioned either.
 */
function runDue(
  state: DeviceState,
  now: number,
  backend: CryptoBackend,
  alerts: DeviceOutputs['alerts'],
): DeviceState {
  let s = state
  for (let due = s.pending[0]; due && due.at <= now; due = s.pending[0]) {
    s = { ...s, pending: s.pending.slice(1) }
    const signing: GeneralSigning = {
      cra: 'command',
      originatorCounter: due.originatorCounter,
      originator: due.originator,
      recipient: s.eui,
      messageCode: due.messageCode,
      content: new Uint8Array(0),
      signature: { kind: 'absent' },
    }
    const rule = COMMAND_RULES.get(due.messageCode)
    const auth: Authenticated = { ok: true, frame: { signing }, role: due.role, rule, critical: due.critical }
    let outcome = 0x8f66
    try {
      const result = executeUseCase(s, auth, due.view, due.at, backend)
      if (result.refuse) outcome = 0x8f67
      else s = raiseAlerts(result.state, result.events, backend, alerts)
    } catch {
      outcome = 0x8f67
    }
    s = raiseOutcome(s, due, outcome, backend, alerts)
  }
  return s
}

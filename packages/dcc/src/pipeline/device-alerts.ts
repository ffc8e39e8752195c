/**
 * Device alert routing: an alert arrives from a device (through its hub) as GBCS bytes and goes to
 * the User it names as recipient — the User whose certificate the device used. Each alert is a SAT
 * `alert` record and is counted, DCC-wide and per recipient.
 *
 * DP072: a device still trusting a supplier that is no longer registered for it keeps alerting
 * that supplier. Such alerts are counted (`toUnregisteredSupplier`) whether delivered or not; with
 * the remedy on (`config.blockAlertsToUnregisteredSuppliers`) the non-critical ones are blocked.
 * An alert to someone who is not a DCC User, or bytes that are not a GBCS alert from that device,
 * are undeliverable.
 *
 * An alert that reports a future-dated command's outcome (0x8F66 / 0x8F67, `future-dated.ts`)
 * completes that request, and when the request was a SoLR Contingency one it goes to the request's
 * sender instead of the failed Supplier it names (MP134B, seed 001: "any DCC Alerts arising out of
 * failed Commands will also be delivered to the sender"). Delivered alerts are queued per User,
 * bounded (`alert-queue.ts`), each with the DCC-wide alert `seq`.
 */
import type { Eui64 } from '@smetsim/core'
import { decodeFrame, frameToJson, type GbcsFrame } from '@smetsim/gbcs'
import { clip } from '../access/check.ts'
import { isEligibleUser } from '../registration/eligibility.ts'
import { SUPPLIER_ROLES } from '../roles.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import { type AlertPage, createAlertQueues, type Held } from './alert-queue.ts'
import { hex4, userKey } from './context.ts'
import type { FutureDatedRegister, OutcomeAlert } from './future-dated.ts'
import type { AlertCounters, AlertOutcome, DccConfig, DeliveredAlert } from './types.ts'

/**
 * Default critical-alert test: GBCS has a device sign its critical alerts and MAC the others (the
 * RTDS shows it), so an alert is critical when it carries a signature. The billing data log alert
 * 0x8F0A of a device-held schedule is critical (DOMAIN.md, DP072): the DP072 remedy, which blocks
 * only non-critical alerts, does not stop it.
 */
export function defaultIsCriticalAlert(alert: {
  messageCode: number
  alertCode: string
  signed: boolean
}): boolean {
  return alert.signed
}

const emptyCounters = (): AlertCounters => ({
  delivered: 0,
  blocked: 0,
  toUnregisteredSupplier: 0,
  undeliverable: 0,
})

export interface DeviceAlerts {
  /** A device alert arrives from the device (through its hub). */
  deliver(deviceId: string, bytes: Uint8Array): AlertOutcome
  /** Device alerts held for this User, in seq order (a page, or all). */
  alertsFor(userId: string, page?: AlertPage): DeliveredAlert[]
  /** Device alert counters, DCC-wide or for one recipient (a copy). */
  counters(userId?: string): AlertCounters
  /** Queues and counters as they stand (DCC state snapshot, `state.ts`). */
  state(): DeviceAlertsState
}

/** What `createDeviceAlerts` takes back as `restore`: the queues and the counters. */
export interface DeviceAlertsState {
  queues: [Eui64, Held<DeliveredAlert>[]][]
  counters: AlertCounters
  byUser: [Eui64, AlertCounters][]
}

export function createDeviceAlerts({
  config,
  sat,
  futureDated,
  nextSeq,
  restore,
}: {
  config: DccConfig
  sat: ServiceAuditTrail
  futureDated: FutureDatedRegister
  /** The DCC-wide alert sequence, shared with DCC Alerts. */
  nextSeq(): number
  restore?: DeviceAlertsState
}): DeviceAlerts {
  const delivered = createAlertQueues<DeliveredAlert>(config.alerts, () => config.now(), restore?.queues)
  const counters = restore ? { ...restore.counters } : emptyCounters()
  const countersByUser = new Map<Eui64, AlertCounters>(restore?.byUser.map(([u, c]) => [u, { ...c }]))
  const isCriticalAlert = config.isCriticalAlert ?? defaultIsCriticalAlert

  function countersOf(user: Eui64): AlertCounters {
    let c = countersByUser.get(user)
    if (!c) {
      c = emptyCounters()
      countersByUser.set(user, c)
    }
    return c
  }

  /** Whether `user` is a supplier not registered for the device at `at` (DP072). */
  function unregisteredSupplier(user: Eui64, deviceId: Eui64, at: Date): boolean {
    const record = config.users.get(user)
    const roles = (record?.roles ?? []).filter((r) => SUPPLIER_ROLES.includes(r))
    if (roles.length === 0) return false
    return !roles.some((role) => isEligibleUser(config, user, role, deviceId, at).eligible)
  }

  function deliverAlert(deviceIdText: string, bytes: Uint8Array): AlertOutcome {
    const undeliverable = (reason: string): AlertOutcome => {
      counters.undeliverable++
      return { delivered: false, reason }
    }
    const deviceId = userKey(deviceIdText)
    if (!deviceId) return undeliverable(`'${clip(String(deviceIdText))}' is not a Device ID`)
    let frame: GbcsFrame
    try {
      frame = decodeFrame(bytes)
    } catch (e) {
      return undeliverable(`alert from ${deviceId} is not GBCS: ${(e as Error).message}`)
    }
    const s = frame.signing
    if (s.cra !== 'alert') return undeliverable(`a ${s.cra} from ${deviceId} is not an alert`)
    if (s.originator !== deviceId)
      return undeliverable(`alert from ${s.originator} arrived as from device ${deviceId}`)
    const json = frameToJson(frame)
    const alertCodeField = json.payload.useCase?.alertCode
    const alertCode = typeof alertCodeField === 'string' ? alertCodeField.toUpperCase() : hex4(s.messageCode)
    const critical = isCriticalAlert({
      messageCode: s.messageCode,
      alertCode,
      signed: s.signature.kind === 'ecdsa',
    })
    // A future-dated command's outcome: complete its request; a SoLR Contingency one's goes to its sender.
    const matched = futureDated.match(deviceId, outcomeAlert(alertCode, json.payload.useCase), config.now())
    const fd = matched?.entry
    const routed = fd && fd.kind === 'route' && fd.respondTo !== s.recipient ? fd.respondTo : undefined
    const recipient = routed ?? s.recipient
    const at = new Date(config.now())
    // Counted whatever their kind; only non-critical ones are blocked, and only with the remedy on.
    const toUnregistered = unregisteredSupplier(recipient, deviceId, at)
    const blocked = toUnregistered && !critical && config.blockAlertsToUnregisteredSuppliers === true
    const known = config.users.get(recipient) !== undefined
    // Per-recipient counters only for DCC Users: a device cannot grow them by naming strangers.
    const mine = known ? countersOf(recipient) : undefined
    if (toUnregistered) {
      counters.toUnregisteredSupplier++
      if (mine) mine.toUnregisteredSupplier++
    }
    const alert: DeliveredAlert = {
      seq: 0,
      device: deviceId,
      recipient,
      alertCode,
      messageCode: s.messageCode,
      critical,
      receivedAt: at.toISOString(),
      frame: json,
      bytes: bytes.slice(),
      ...(fd && { requestId: fd.requestId }),
    }
    const deliveredNow = known && !blocked
    if (deliveredNow) alert.seq = nextSeq()
    sat.append({
      kind: 'alert',
      ...(fd && { requestId: fd.requestId }),
      user: recipient,
      device: deviceId,
      code: alertCode,
      detail: {
        ...(deliveredNow && { alertSeq: alert.seq }),
        ...(routed && {
          addressedTo: s.recipient,
          routedTo: 'the SoLR Contingency sender of the command (MP134B)',
        }),
        messageCode: hex4(s.messageCode),
        critical,
        alertCounter: json.originatorCounter,
        delivered: deliveredNow,
        ...(toUnregistered && { toUnregisteredSupplier: true }),
        ...(blocked && { blocked: 'DP072: non-critical alert to a supplier not registered for the device' }),
        ...(!known && { reason: `${recipient} is not a DCC User` }),
      },
    })
    matched?.settle()
    if (!mine) {
      counters.undeliverable++
      return { delivered: false, reason: `${recipient} is not a DCC User`, alert }
    }
    if (blocked) {
      counters.blocked++
      mine.blocked++
      return {
        delivered: false,
        blocked: true,
        reason: `supplier ${recipient} is not registered for device ${deviceId}: non-critical alert blocked (DP072)`,
        alert,
      }
    }
    counters.delivered++
    mine.delivered++
    delivered.push(recipient, alert, alert.seq)
    return { delivered: true, alert }
  }

  return {
    deliver: deliverAlert,
    alertsFor: (userId, page) => {
      const key = userKey(userId)
      return key ? delivered.page(key, page) : []
    },
    counters: (userId) => {
      if (userId === undefined) return { ...counters }
      const key = userKey(userId)
      return { ...((key && countersByUser.get(key)) || emptyCounters()) }
    },
    state: () => ({
      queues: delivered.held(),
      counters: { ...counters },
      byUser: [...countersByUser].map(([u, c]) => [u, { ...c }]),
    }),
  }
}

/** What an alert says about a future-dated command: its code and, if it names one, the command. */
function outcomeAlert(alertCode: string, view: unknown): OutcomeAlert {
  const named = (view as { futureDatedCommand?: { messageCode?: unknown; originatorCounter?: unknown } })
    ?.futureDatedCommand
  const code = typeof named?.messageCode === 'string' ? Number.parseInt(named.messageCode, 16) : Number.NaN
  const counter = typeof named?.originatorCounter === 'string' ? named.originatorCounter : undefined
  if (!Number.isInteger(code) || counter === undefined || !/^\d{1,20}$/.test(counter)) return { alertCode }
  return { alertCode, command: { messageCode: code, counter: BigInt(counter) } }
}

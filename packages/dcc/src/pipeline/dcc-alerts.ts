/**
 * DCC Alerts: what the DCC itself tells a User, as opposed to an alert from a device — a
 * quarantined request (QuarantinedRequest, AD1), SR 6.23's ChangeOfSupplier and
 * SecurityCredentialsUpdated, SR 8.11's UpdateHANDeviceLogResult (N24), CommandFailure for a
 * future-dated command that failed or timed out. Each one raised is a SAT `dccAlert` record and is
 * queued for its recipient (`alert-queue.ts`: bounded, DUIS's two days), with the next DCC-wide
 * alert `seq`. A type whose DCCAlertCode is not known to us carries none (duis-codes.ts).
 */
import type { Eui64 } from '@smetsim/core'
import type { QuarantinedRequestAlert } from '../access/anomaly.ts'
import { DCC_ALERT_CODES } from '../duis-codes.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import { type AlertPage, type AlertQueueLimits, createAlertQueues, type Held } from './alert-queue.ts'
import type { DccAlert } from './types.ts'

export type NewDccAlert = Omit<DccAlert, 'code' | 'at' | 'seq'>

export interface DccAlerts {
  /** Raises a DCC Alert now: SAT `dccAlert` record, queued for the recipient. */
  raise(alert: NewDccAlert): DccAlert
  /** Access control's QuarantinedRequest (AD1) as a DCC Alert. */
  quarantine(alert: QuarantinedRequestAlert): DccAlert
  /** DCC Alerts held for this User, in seq order (a page, or all). */
  for(user: Eui64, page?: AlertPage): DccAlert[]
  /** The queues as they stand (DCC state snapshot, `state.ts`). */
  held(): [Eui64, Held<DccAlert>[]][]
}

export function createDccAlerts({
  sat,
  iso,
  now,
  nextSeq,
  limits,
  restore,
}: {
  sat: ServiceAuditTrail
  iso(): string
  now(): number
  /** The DCC-wide alert sequence, shared with device alerts. */
  nextSeq(): number
  limits?: Partial<AlertQueueLimits>
  restore?: readonly (readonly [Eui64, readonly Held<DccAlert>[]])[]
}): DccAlerts {
  const queues = createAlertQueues<DccAlert>(limits, now, restore)

  function raise(alert: NewDccAlert): DccAlert {
    const code = DCC_ALERT_CODES[alert.type]
    const full: DccAlert = { seq: nextSeq(), ...alert, ...(code && { code }), at: iso() }
    sat.append({
      kind: 'dccAlert',
      ...(full.requestId && { requestId: full.requestId }),
      user: full.recipient,
      ...(full.device && { device: full.device }),
      ...(code && { code }),
      detail: {
        type: full.type,
        alertSeq: full.seq,
        ...full.detail,
        ...(!code && { dccAlertCode: 'not known to us for this DCCAlert type' }),
        ...(full.unconfirmed && { unconfirmed: full.unconfirmed }),
      },
    })
    queues.push(full.recipient, full, full.seq)
    return full
  }

  return {
    raise,
    quarantine: (alert) =>
      raise({
        type: 'QuarantinedRequest',
        recipient: alert.recipient,
        requestId: alert.requestId,
        detail: { breach: alert.breach, quarantineEventRef: alert.quarantineEventRef, srv: alert.srv },
        unconfirmed: ['code'],
      }),
    for: (user, page) => queues.page(user, page),
    held: () => queues.held(),
  }
}

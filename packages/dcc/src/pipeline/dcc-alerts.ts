/**
 * DCC Alerts: what the DCC itself tells a User, as opposed to an alert from a device — a
 * quarantined request (AD1, from anomaly detection), SR 6.23's ChangeOfSupplier and
 * SecurityCredentialsUpdated, SR 8.11's UpdateHANDeviceLogResult (N24). Each one raised is a SAT
 * `dccAlert` record and is kept for its recipient, in order.
 */
import type { Eui64 } from '@smetsim/core'
import type { QuarantinedRequestAlert } from '../access/anomaly.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import { DCC_ALERT_CODES } from './codes.ts'
import { push } from './context.ts'
import type { DccAlert } from './types.ts'

export interface DccAlerts {
  /** Raises a DCC Alert now: SAT `dccAlert` record, kept for the recipient. */
  raise(alert: Omit<DccAlert, 'code' | 'at'>): DccAlert
  /** Access control's QuarantinedRequest (AD1) as a DCC Alert. */
  quarantine(alert: QuarantinedRequestAlert): DccAlert
  /** DCC Alerts raised to this User, in order (a copy). */
  for(user: Eui64): DccAlert[]
}

export function createDccAlerts({ sat, iso }: { sat: ServiceAuditTrail; iso(): string }): DccAlerts {
  const raised = new Map<Eui64, DccAlert[]>()

  function raise(alert: Omit<DccAlert, 'code' | 'at'>): DccAlert {
    const full: DccAlert = { ...alert, code: DCC_ALERT_CODES[alert.type], at: iso() }
    sat.append({
      kind: 'dccAlert',
      ...(full.requestId && { requestId: full.requestId }),
      user: full.recipient,
      ...(full.device && { device: full.device }),
      code: full.code,
      detail: {
        type: full.type,
        ...full.detail,
        ...(full.unconfirmed && { unconfirmed: full.unconfirmed }),
      },
    })
    push(raised, full.recipient, full)
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
      }),
    for: (user) => [...(raised.get(user) ?? [])],
  }
}

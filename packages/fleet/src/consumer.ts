/**
 * Consumer actions on a running fleet's meters: the supply button, accepting emergency credit and a
 * UTRN typed on the meter's keypad. Each runs the meter's own use case on its hub
 * (`Hub.consumerInput`), so whatever the meter raises goes up the WAN to the DCC as its other
 * alerts do. A tester's control, not a DUIS service: in GB smart metering a consumer acts on the
 * meter in the premises, never through the DCC (a consumer is not a DCC User).
 *
 * PPMIDs are not on the hubs (run.ts), so a UTRN or emergency-credit acceptance typed on a PPMID
 * is not offered here.
 */
import type { Eui64 } from '@smetsim/core'
import { UTRN_ALERTS } from '@smetsim/device'
import type { ConsumerAction } from '@smetsim/hub'
import type { FleetRun } from './run.ts'

export type { ConsumerAction } from '@smetsim/hub'

/** What a consumer action did, as a tester reads it. */
export interface ConsumerActionReport {
  deviceId: string
  deviceType: 'ESME' | 'GSME'
  /** The supply state after the action. */
  supply: string
  /** Integer milli-pence, as the device holds them. */
  meterBalance: number
  emergencyCredit: number
  /** The GBCS alert codes the meter raised, in order, as 4 hex digits (e.g. '8F63'). */
  alerts: string[]
  /** UTRN only: whether the meter took it (its counter is now among those it has used). */
  accepted?: boolean
}

export type ConsumerActionResult =
  | { ok: true; report: ConsumerActionReport }
  | { ok: false; reason: 'unknown-device' | 'not-joined' | 'refused'; message: string }

const hex = (code: number) => code.toString(16).toUpperCase().padStart(4, '0')

/** Runs `action` on meter `eui` of `run` now. Never throws; an unknown or unjoined meter changes nothing. */
export function consumerAction(run: FleetRun, eui: string, action: ConsumerAction): ConsumerActionResult {
  const at = run.fleet.locate(eui)
  const hub = at && (at.role === 'ESME' || at.role === 'GSME') ? run.hub(at.premise) : undefined
  if (!hub) return { ok: false, reason: 'unknown-device', message: `no meter ${eui} in this fleet` }
  const before = hub.device(eui as Eui64)
  const r = hub.consumerInput(eui as Eui64, action)
  if (!r.ok) {
    if (r.reason === 'not-joined')
      return { ok: false, reason: 'not-joined', message: `meter ${eui} has not joined its hub's HAN` }
    if (r.reason === 'unknown-device' || r.reason === 'not-a-meter')
      return { ok: false, reason: 'unknown-device', message: `no meter ${eui} in this fleet` }
    return { ok: false, reason: 'refused', message: r.detail ?? `meter ${eui} did not take the action` }
  }
  const d = r.state
  const report: ConsumerActionReport = {
    deviceId: d.eui,
    deviceType: d.type as 'ESME' | 'GSME',
    supply: d.supply,
    meterBalance: d.account.meterBalance,
    emergencyCredit: d.account.emergencyCredit,
    alerts: r.alerts.map(hex),
  }
  if (action.kind === 'utrn') {
    // Taken iff the meter recorded a new UTRN counter; a refusal raises its own alert (UTRN_ALERTS).
    const used = before?.utrns ?? []
    report.accepted =
      d.utrns.some((c) => !used.includes(c)) || r.alerts.includes(UTRN_ALERTS.creditAddedLocally)
  }
  return { ok: true, report }
}

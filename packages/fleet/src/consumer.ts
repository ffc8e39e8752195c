/**
 * Consumer actions on a running fleet's meters and PPMIDs: the supply button, accepting emergency
 * credit and a UTRN typed on the meter's keypad or on the PPMID. Each runs on the premise's hub
 * (`Hub.consumerInput`): a meter runs its own use case; a PPMID passes the request to a paired
 * meter (PECS03 / PECS02 / PCS02 / PCS01), which runs it. Whatever the meter raises goes up the
 * WAN to the DCC as its other alerts do. A tester's control, not a DUIS service: in GB smart
 * metering a consumer acts in the premises, never through the DCC (a consumer is not a DCC User).
 */
import type { Eui64 } from '@smetsim/core'
import { UTRN_ALERTS } from '@smetsim/device'
import type { ConsumerAction } from '@smetsim/hub'
import type { HubsRun } from './run.ts'

export type { ConsumerAction } from '@smetsim/hub'

/** What a consumer action did, as a tester reads it. */
export interface ConsumerActionReport {
  /** The meter that acted. */
  deviceId: string
  deviceType: 'ESME' | 'GSME'
  /** The PPMID the consumer used, when it was one. */
  via?: string
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
  | { ok: false; reason: 'unknown-device' | 'not-joined' | 'unreachable' | 'refused'; message: string }

const hex = (code: number) => code.toString(16).toUpperCase().padStart(4, '0')

/**
 * Runs `action` on meter or PPMID `eui` of `run` now; on a PPMID, `o.meter` picks the paired
 * meter (default: its paired ESME). Never throws; a refused action changes nothing.
 */
export function consumerAction(
  run: HubsRun,
  eui: string,
  action: ConsumerAction,
  o: { meter?: string } = {},
): ConsumerActionResult {
  const at = run.fleet.locate(eui)
  const hub = at ? run.hub(at.premise) : undefined
  if (!at || !hub)
    return { ok: false, reason: 'unknown-device', message: `no meter or PPMID ${eui} in this fleet` }
  const meters = [run.fleet.esme[at.premise]?.eui, run.fleet.gsme[at.premise]?.eui]
  const before = new Map(meters.map((m) => [m, m && hub.device(m as Eui64)]))
  const r = hub.consumerInput(eui as Eui64, action, { ...(o.meter && { meter: o.meter as Eui64 }) })
  if (!r.ok) {
    const what = at.role === 'PPMID' ? `PPMID ${eui}` : `meter ${eui}`
    if (r.reason === 'not-joined')
      return { ok: false, reason: 'not-joined', message: `${what} has not joined its hub's HAN` }
    if (r.reason === 'unknown-device' || r.reason === 'not-a-meter')
      return { ok: false, reason: 'unknown-device', message: `no meter or PPMID ${eui} in this fleet` }
    if (r.reason === 'unreachable')
      return { ok: false, reason: 'unreachable', message: r.detail ?? `${what} is out of reach` }
    return { ok: false, reason: 'refused', message: r.detail ?? `${what} did not take the action` }
  }
  const d = r.state
  const report: ConsumerActionReport = {
    deviceId: d.eui,
    deviceType: d.type as 'ESME' | 'GSME',
    ...(at.role === 'PPMID' && { via: eui }),
    supply: d.supply,
    meterBalance: d.account.meterBalance,
    emergencyCredit: d.account.emergencyCredit,
    alerts: r.alerts.map(hex),
  }
  if (action.kind === 'utrn') {
    // Taken iff the meter recorded a new UTRN counter; a refusal raises its own alert (UTRN_ALERTS).
    const used = before.get(d.eui)?.utrns ?? []
    report.accepted =
      d.utrns.some((c) => !used.includes(c)) || r.alerts.includes(UTRN_ALERTS.creditAddedLocally)
  }
  return { ok: true, report }
}

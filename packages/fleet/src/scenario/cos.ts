/**
 * The Change of Supplier story (DOMAIN.md 3.4): the Registration Data Provider registers a gaining
 * Supplier for some of a Supplier's premises, and the gaining Supplier sends SR 6.23 Update
 * Security Credentials (CoS) so the meters trust it — or late, or never. Other parts (DP072's
 * device and DCC schedules, MP121's install codes) read who is registered from the fleet's
 * Registration Data, so they need not know how the change was made.
 *
 * Events (times: `at` from the fleet's start, `after` from the Supply Start Date):
 * - `changeOfSupplier`: from `at` (the Supply Start Date), `to` is registered for the MPAN and
 *   MPRN of `share` of `from`'s premises whose install state is `install` (default
 *   `commissioned`): the first in premise order, so the same seed moves the same premises.
 * - `gainingSupplierSends`: from the Supply Start Date plus `after`, the gaining Supplier sends
 *   SR 6.23 (CV1, CS02b by the DCC's CoS Party) to `perDay` of the moved meters a day, ESME
 *   before GSME of each premise, in premise order. A gaining Supplier that never sends it is a
 *   timeline without this event (DP072's stalled CoS).
 *
 * Metrics: `premisesChanged`, the premises moved.
 */
import type { Premise } from '../premise.ts'
import { durationMs } from './duration.ts'
import { eventsOf, FIELD, metersOf, type ScenarioPart, supplierRole } from './part.ts'

export type CosEvent =
  | {
      event: 'changeOfSupplier'
      at: string
      from: string
      to: string
      share: number
      install?: Premise['install']
    }
  | { event: 'gainingSupplierSends'; after: string; srv: '6.23'; perDay: number }

const { duration, name, perDay, share } = FIELD

export const cosPart: ScenarioPart = {
  name: 'Change of Supplier',
  events: {
    changeOfSupplier: {
      fields: { at: duration, from: name, to: name, share },
      optional: { install: { enum: ['commissioned', 'installedNotCommissioned'] } },
    },
    gainingSupplierSends: { fields: { after: duration, srv: { const: '6.23' }, perDay } },
  },
  once: ['changeOfSupplier', 'gainingSupplierSends'],
  metrics: { premisesChanged: 'premises whose MPAN (and MPRN) the gaining Supplier was registered for' },
  check(timeline) {
    return timeline.some((e) => e.event === 'changeOfSupplier')
      ? []
      : ["'gainingSupplierSends' needs a 'changeOfSupplier'"]
  },

  setUp({ fleet, timeline, start, supplierOf }) {
    const change = eventsOf<Extract<CosEvent, { event: 'changeOfSupplier' }>>(
      timeline,
      'changeOfSupplier',
    )[0]!
    const losing = supplierOf(change.from)
    const gaining = supplierOf(change.to)
    if (losing.eui === gaining.eui) throw new Error(`'${change.from}' cannot change to itself`)
    const mpid = fleet.spec.suppliers.find((s) => s.eui.toUpperCase() === gaining.eui)!.mpid
    const ssd = start + durationMs(change.at)!
    const install = change.install ?? 'commissioned'

    const candidates: Premise[] = []
    for (let i = 0; i < fleet.size; i++) {
      const p = fleet.premise(i)!
      if (p.supplierEui === losing.eui && p.install === install) candidates.push(p)
    }
    const moved = candidates.slice(0, Math.round(change.share * candidates.length))
    const when = new Date(ssd)
    for (const p of moved) {
      fleet.registration.changeOfSupplier(p.mpan, mpid, when)
      if (p.mprn) fleet.registration.changeOfSupplier(p.mprn, mpid, when)
    }
    const sends = eventsOf<Extract<CosEvent, { event: 'gainingSupplierSends' }>>(
      timeline,
      'gainingSupplierSends',
    )[0]

    return {
      description: `${moved.length} of ${losing.name}'s premises move to ${gaining.name} on day ${durationMs(change.at)! / 86_400_000}; ${sends ? `SR 6.23 from ${sends.after} after, ${sends.perDay} a day` : 'SR 6.23 never sent'}`,
      play({ daily, send }) {
        if (!sends) return
        const meters = moved.flatMap(metersOf)
        daily(ssd + durationMs(sends.after)!, sends.perDay, meters, (m) =>
          send('6.23', gaining.eui, m.eui, {
            role: supplierRole(m.type),
            srv: '6.23',
            commandVariant: 1,
            deviceType: m.type,
          }),
        )
      },
      finish: () => ({ premisesChanged: moved.length }),
    }
  },
}

/**
 * The consumers: households that top up, or do not. Every prepayment household acts on its top-up
 * habit (packages/fleet households.ts), drawn from the fleet seed; this part lets a timeline say
 * that some of them stop topping up for a while — the seeds' households who cannot or do not.
 *
 * Event:
 * - `householdsStopTopUp`: from `at` (from the fleet's start) until `until` (default: the end),
 *   `share` of the prepayment households (of `supplier`, default every Supplier's) skip the
 *   top-ups that fall due: no request, so no UTRN. Which households is drawn from the premise
 *   index (a fixed hash), so the same fleet gives the same households in every setting.
 *
 * Metrics: `topUpsSkipped`, top-ups that fell due and were skipped.
 */
import type { Eui64 } from '@smetsim/core'
import type { Premise } from '../premise.ts'
import { durationMs } from './duration.ts'
import { eventsOf, FIELD, type ScenarioPart } from './part.ts'

export type ConsumersEvent = {
  event: 'householdsStopTopUp'
  at: string
  share: number
  until?: string
  supplier?: string
}

/** Premise `index`'s place in [0, 1), from a multiplicative hash: spread, and the same for every setting. */
export function householdDraw(index: number): number {
  return (Math.imul(index + 1, 0x9e3779b1) >>> 0) / 2 ** 32
}

export const consumersPart: ScenarioPart = {
  name: 'consumers',
  events: {
    householdsStopTopUp: {
      fields: { at: FIELD.duration, share: FIELD.share },
      optional: { until: FIELD.duration, supplier: FIELD.name },
    },
  },
  metrics: { topUpsSkipped: 'top-ups that fell due and were skipped (householdsStopTopUp)' },

  setUp({ timeline, start, end, supplierOf }) {
    const spells = eventsOf<ConsumersEvent>(timeline, 'householdsStopTopUp').map((e) => ({
      from: start + durationMs(e.at)!,
      to: e.until === undefined ? end : start + durationMs(e.until)!,
      share: e.share,
      supplier: e.supplier === undefined ? undefined : (supplierOf(e.supplier).eui as Eui64),
    }))
    let skipped = 0
    return {
      topsUp(p: Premise, at: number) {
        const stops = spells.some(
          (s) =>
            at >= s.from &&
            at < s.to &&
            (s.supplier === undefined || s.supplier === p.supplierEui) &&
            householdDraw(p.index) < s.share,
        )
        if (stops) skipped++
        return !stops
      },
      finish: () => ({ topUpsSkipped: skipped }),
    }
  },
}

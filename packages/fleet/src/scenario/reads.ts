/**
 * Meter reads: the Suppliers read their meters through the DCC, the everyday traffic a smoke run
 * checks end to end (DUIS request, GBCS command over the WAN, the meter's response, the DUIS
 * answer).
 *
 * Event:
 * - `metersRead`: every `every` from the fleet's start, each commissioned meter (ESME and GSME)
 *   is read by the Supplier registered for it then, with SR 4.1.1 Read Instantaneous Import
 *   Registers (CV1, non-critical; role IS for an ESME, GS for a GSME), at an instant within the
 *   interval drawn from its premise index, so the reads are spread and not a burst.
 *
 * Metrics: `readsAnswered` (I0) and `readsFailed` (any other DUIS code; `commands.4.1.1` says which).
 */

import { durationMs } from './duration.ts'
import { FIELD, metersOf, type PremiseMeter, type ScenarioPart, supplierRole } from './part.ts'

export type ReadsEvent = { event: 'metersRead'; every: string; srv: '4.1.1' }

export const readsPart: ScenarioPart = {
  name: 'meter reads',
  events: { metersRead: { fields: { every: FIELD.duration, srv: { const: '4.1.1' } } } },
  once: ['metersRead'],
  metrics: {
    readsAnswered: 'SR 4.1.1 reads answered I0',
    readsFailed: 'SR 4.1.1 reads answered with any other DUIS code',
  },
  check(timeline) {
    const e = timeline.find((x) => x.event === 'metersRead') as ReadsEvent
    return (durationMs(e.every) ?? 1) < 60_000 ? ["'metersRead' every: at least 1m"] : []
  },

  setUp({ fleet, timeline }) {
    const every = durationMs((timeline.find((x) => x.event === 'metersRead') as ReadsEvent).every)!
    const meters: (PremiseMeter & { offset: number })[] = []
    for (let i = 0; i < fleet.size; i++) {
      const p = fleet.premise(i)!
      if (p.install !== 'commissioned') continue
      for (const [k, m] of metersOf(p).entries())
        meters.push({ ...m, offset: (i * 7_919 + k * 43_200_017) % every })
    }
    let answered = 0
    let failed = 0
    return {
      play({ at, start, end, send }) {
        const read = (m: (typeof meters)[number], now: number) => {
          const supplier = fleet.registration.registeredSupplierAt(m.mpxn, new Date(now).toISOString())?.user
          if (!supplier) return
          void send('4.1.1', supplier, m.eui, {
            role: supplierRole(m.type),
            srv: '4.1.1',
            commandVariant: 1,
            deviceType: m.type,
          }).then((r) => (r.code === 'I0' ? answered++ : failed++))
        }
        for (let t = start; t < end; t += every)
          at(t, (now) => {
            for (const m of meters) if (now + m.offset < end) at(now + m.offset, (t2) => read(m, t2))
          })
      },
      finish: () => ({ readsAnswered: answered, readsFailed: failed }),
    }
  },
}

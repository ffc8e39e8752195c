/**
 * Test fleets for this package's tests: a spec parsed or thrown, and the small two-supplier fleet
 * the runner, worker and shard tests share (six premises, each with a gas meter, all commissioned,
 * £2 of credit, suppliers A and B at 60/40 with half of each book on prepayment).
 */
import { type FleetSpec, parseFleetSpec } from './spec.ts'

/** A fleet spec from its JSON form; a bad one throws (a test's own fixture). */
export function specOf(input: object): FleetSpec {
  const r = parseFleetSpec(input)
  if (!r.ok) throw r.error
  return r.value
}

/** The shared six-premise, two-supplier fleet under `seed` (its keys and draws follow the seed). */
export function twoSupplierSpec(seed: string): FleetSpec {
  return specOf({
    seed,
    premises: 6,
    devices: { gas: 1 },
    install: { installedNotCommissioned: 0 },
    balance: { minPounds: 2, maxPounds: 2 },
    suppliers: [
      { name: 'A', eui: '90B3D51F30010000', mpid: 'SUPA', share: 0.6, prepaymentShare: 0.5 },
      { name: 'B', eui: '90B3D51F30030000', mpid: 'SUPB', share: 0.4, prepaymentShare: 0.5 },
    ],
  })
}

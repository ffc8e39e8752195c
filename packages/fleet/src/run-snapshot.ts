/**
 * A running fleet kept and brought back: one CBOR document (cbor-x) with the virtual time it was
 * taken at, the fleet (snapshotFleet: spec, PKI, every device's state as its hub holds it,
 * Registration Data, the Smart Metering Inventory, Users), the DCC's Schedules (its
 * `scheduleBook`, which createDcc takes back as `schedules`) and the metrics.
 *
 * Not kept (README "The runner"): the hubs' own state — the CHF's anti-replay counters and
 * Device Log, the GPF's queue and mirror — which startFleet makes again as at bring-up (a
 * commissioned premise's meters on the HAN, in the log); the DCC's Service Audit Trail (a memory
 * one starts empty; a file SAT is kept by the DCC itself), its alert queues, Pre-Commands
 * awaiting a signature and Threshold Anomaly Detection state.
 */
import { err, ok, type Result } from '@smetsim/core'
import type { Dcc } from '@smetsim/dcc'
import { Encoder } from 'cbor-x'
import type { Fleet } from './build.ts'
import { createMetrics, type FleetMetrics } from './metrics.ts'
import type { HubsRun } from './run.ts'
import { parseShard, type Shard, shardText } from './shard.ts'
import { FleetSnapshotError, restoreFleet, snapshotFleet } from './snapshot.ts'

type ScheduleBook = Dcc['scheduleBook']

const FORMAT = 'smetsim-fleet-run'
const VERSION = 1
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

interface RunSnapshot {
  format: typeof FORMAT
  version: typeof VERSION
  /** Virtual time, epoch ms. */
  now: number
  fleet: Uint8Array
  schedules: ScheduleBook
  metrics: FleetMetrics
  /** The shard the run served, `i/n`; absent for the whole fleet (snapshots from before sharding). */
  shard?: string
}

export interface RestoredRun {
  fleet: Fleet
  /** The virtual time the snapshot was taken at: start the scheduler here. */
  now: number
  /** Give to startFleet as `dcc: { schedules }`. */
  schedules: ScheduleBook
  metrics: FleetMetrics
  /** The shard the run served (`1/1`: the whole fleet): restore it as that shard. */
  shard: Shard
}

/**
 * A run (the whole fleet, or one shard of it) as CBOR. A shard without the DCC keeps no DCC
 * Schedules (an empty book): the DCC and its state live with shard 1.
 */
export function snapshotRun(run: HubsRun & { dcc?: Dcc }): Uint8Array {
  run.sync()
  const snapshot: RunSnapshot = {
    format: FORMAT,
    version: VERSION,
    now: run.scheduler.now(),
    fleet: snapshotFleet(run.fleet),
    // The DCC's own empty book (its emptyScheduleBook, not exported by @smetsim/dcc's index).
    schedules: run.dcc?.scheduleBook ?? { version: 2, nextNumber: 1, schedules: [], counters: {} },
    metrics: run.metrics,
    ...(run.shard.count > 1 && { shard: shardText(run.shard) }),
  }
  return cbor.encode(snapshot)
}

/** A run back from snapshotRun's bytes. Never throws: anything else is an error naming the problem. */
export function restoreRun(bytes: Uint8Array): Result<RestoredRun, FleetSnapshotError> {
  const fail = (why: string) => err(new FleetSnapshotError(`not a fleet run snapshot: ${why}`))
  let data: Partial<RunSnapshot>
  try {
    data = cbor.decode(bytes)
  } catch (e) {
    return fail((e as Error).message)
  }
  if (data === null || typeof data !== 'object') return fail('not a map')
  if (data.format !== FORMAT) return fail(`expected format '${FORMAT}'`)
  if (data.version !== VERSION) return fail(`version ${String(data.version)}, this reads ${VERSION}`)
  if (typeof data.now !== 'number' || !Number.isFinite(data.now)) return fail('no virtual time')
  if (!(data.fleet instanceof Uint8Array)) return fail('no fleet')
  if (data.schedules === null || typeof data.schedules !== 'object') return fail('no DCC schedules')
  const shard = data.shard === undefined ? ok({ index: 1, count: 1 }) : parseShard(data.shard)
  if (!shard.ok) return fail(`shard: ${shard.error}`)
  const fleet = restoreFleet(data.fleet)
  if (!fleet.ok) return err(fleet.error)
  return ok({
    shard: shard.value,
    fleet: fleet.value,
    now: data.now,
    schedules: data.schedules,
    metrics: restoredMetrics(data.metrics),
  })
}

/** The counters as kept, each checked; what is not a count starts again at zero. */
function restoredMetrics(kept: unknown): FleetMetrics {
  const m = createMetrics()
  if (kept === null || typeof kept !== 'object') return m
  const k = kept as Record<string, unknown>
  const count = (v: unknown) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : 0)
  for (const key of [
    'requests',
    'answered',
    'commands',
    'responses',
    'alerts',
    'alertsDelivered',
    'alertsUndelivered',
    'errors',
  ] as const)
    m[key] = count(k[key])
  if (k.rejections && typeof k.rejections === 'object')
    for (const [code, n] of Object.entries(k.rejections as Record<string, unknown>))
      if (/^[EIW]\d{1,7}$/.test(code)) m.rejections[code] = count(n)
  return m
}

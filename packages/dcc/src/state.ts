/**
 * The DCC's state kept across a restart (issue 12): what `createDcc` holds in memory besides its
 * configuration, as plain data (bigints and byte arrays included: CBOR carries them), so that a
 * DCC made again from it behaves as if it had never stopped.
 *
 * `exportDccState(dcc, { sat })` takes, at one instant:
 *  - the DCC-wide alert `seq` and both alert queues, per User, with their device alert counters
 *    (DCC-wide and per recipient): a User paging with `afterSeq` sees neither a gap nor a repeat;
 *  - the Pre-Commands awaiting a signature (CV4 issued, CV5 not yet in), in order of issue;
 *  - the CoS Party's next Originator Counter: the meters refuse a CS02b whose counter is not above
 *    the last they accepted, so a restarted DCC starting again at 1 would be refused (anti-replay);
 *  - Threshold Anomaly Detection state (the accepted requests in each counter's window, the
 *    quarantine count that numbers the QuarantineEventRefs);
 *  - the DCC Schedules (`scheduleBook`, with the last RequestID counter sent per owner and device:
 *    every later run counts above it);
 *  - the newest `satRecords` records of the Service Audit Trail (default `DCC_STATE_SAT_RECORDS`)
 *    with their place in the chain: bounded, whatever the SAT holds. A memory SAT restored from
 *    them (`createMemorySat({ restore })`) continues the hash chain and seq; what was older is not
 *    kept (its records are counted: `sat.dropped`). A file SAT needs none of this: it is on disk.
 *
 * Not kept: future-dated commands awaiting their outcome alert (pipeline/future-dated.ts: their
 * outcome callbacks are closures; such an alert after a restart is delivered as any other, and the
 * request does not complete), the last `SCHEDULE_RESULTS_KEPT` schedule run results per User
 * (the SAT has every run), caches (parsed certificates).
 *
 * `restoreDccState(data)` checks the document (format, version, every field's type) and never
 * throws: garbage is an error naming the field. Its `config` goes to `createDcc` (with the rest of
 * the configuration, which is not state: Users, registration, inventory, keys, transport).
 */
import { type Eui64, err, isEui, ok, type Result } from '@smetsim/core'
import type { GeneralSigning } from '@smetsim/gbcs'
import type { AnomalyState } from './access/anomaly.ts'
import type { Held } from './pipeline/alert-queue.ts'
import type { PipelineState } from './pipeline/context.ts'
import type { DeviceAlertsState } from './pipeline/device-alerts.ts'
import type { AlertCounters, Dcc, DccAlert, DccConfig, DeliveredAlert } from './pipeline/types.ts'
import { isDuisRole } from './roles.ts'
import { deepFreeze, type SatRecord, verifyChain } from './sat/record.ts'
import { createMemorySat, type ServiceAuditTrail } from './sat/sat.ts'
import { type DccSchedule, SCHEDULE_FREQUENCIES, type ScheduleBook } from './schedules/schedules.ts'

/** The property of a DCC object that gives its state to `exportDccState` (not for other use). */
export const DCC_STATE: unique symbol = Symbol('smetsim.dcc.state')

/** A Critical request's Pre-Command awaiting the User's signature (CV4 issued, CV5 not yet in). */
export interface PendingPreCommand extends PipelineState {
  preCommand: GeneralSigning
  eligibilityChecked: boolean
  /** DCC time (epoch ms) the Pre-Command was issued. */
  issuedAt: number
  /** The GBCS originator, whose certificate the signature must verify with. */
  commandOriginator: Eui64
  /** SoLR Contingency: the failed Supplier it is sent for (re-checked for revocation at CV5). */
  failedSupplier?: Eui64
  /** Execution time of a future-dated command, epoch ms. */
  executeAt?: number
}

/** What `createDcc` holds in memory and takes back as `config.restore`. */
export interface DccRuntimeState {
  /** The last DCC-wide alert seq handed out. */
  alertSeq: number
  /** The CoS Party's next Originator Counter. */
  cosCounter: bigint
  anomaly: AnomalyState | undefined
  deviceAlerts: DeviceAlertsState
  dccAlerts: [Eui64, Held<DccAlert>[]][]
  /** In order of issue. */
  preCommands: [string, PendingPreCommand][]
}

export const DCC_STATE_FORMAT = 'smetsim-dcc-state'
/** Version 1: everything above. */
export const DCC_STATE_VERSION = 1
/** SAT records an exported state keeps by default (the newest). */
export const DCC_STATE_SAT_RECORDS = 10_000

/** The document `exportDccState` makes: plain data, for CBOR. */
export interface DccState {
  format: typeof DCC_STATE_FORMAT
  version: typeof DCC_STATE_VERSION
  runtime: DccRuntimeState
  schedules: ScheduleBook
  /** The SAT's newest records (absent when not asked for). */
  sat?: { records: SatRecord[]; dropped: number }
}

export interface ExportDccStateOptions {
  /** The DCC's SAT, whose newest records to keep (a memory SAT: a file SAT keeps itself). */
  sat?: ServiceAuditTrail
  /** How many of its newest records (default DCC_STATE_SAT_RECORDS; 0: none). */
  satRecords?: number
}

/**
 * The DCC's state now (see the module comment). Taking it changes nothing (what is due to expire
 * expires at the next call, as it would have). It shares objects with the DCC: encode it at once.
 */
export function exportDccState(dcc: Dcc, o: ExportDccStateOptions = {}): DccState {
  const runtime = dcc[DCC_STATE]()
  const state: DccState = {
    format: DCC_STATE_FORMAT,
    version: DCC_STATE_VERSION,
    runtime,
    schedules: dcc.scheduleBook,
  }
  if (o.sat) {
    const keep = Math.max(0, Math.floor(o.satRecords ?? DCC_STATE_SAT_RECORDS))
    const from = Math.max(0, o.sat.head.seq - keep)
    const records = keep === 0 ? [] : o.sat.page({ afterSeq: from, limit: keep }).records
    state.sat = { records, dropped: (records[0]?.seq ?? o.sat.head.seq + 1) - 1 }
  }
  return state
}

export class DccStateError extends Error {
  override name = 'DccStateError'
}

/** A DCC state back: what to give `createDcc`, and the SAT records kept (when there were). */
export interface RestoredDccState {
  /** Give to createDcc (spread into its configuration). */
  config: Pick<DccConfig, 'restore' | 'schedules'>
  /** The SAT's newest records as kept, chained; `createSat` makes a memory SAT that goes on from them. */
  satRecords: readonly SatRecord[] | undefined
  /** Records older than those, not kept. */
  satDropped: number
  /** A memory SAT continuing the kept chain (an empty one when none was kept), on `now`'s clock. */
  createSat(now?: () => Date): ServiceAuditTrail
}

/** Reads a DccState (as decoded from CBOR); never throws. */
export function restoreDccState(data: unknown): Result<RestoredDccState, DccStateError> {
  try {
    return ok(read(data))
  } catch (e) {
    if (e instanceof DccStateError) return err(e)
    return err(new DccStateError(`not a DCC state: ${(e as Error)?.message ?? String(e)}`))
  }
}

function read(data: unknown): RestoredDccState {
  const top = object(data, 'the DCC state')
  if (top.format !== DCC_STATE_FORMAT) bad(`expected format '${DCC_STATE_FORMAT}'`)
  if (top.version !== DCC_STATE_VERSION)
    bad(`version ${String(top.version)}, this build reads ${DCC_STATE_VERSION}`)
  const r = object(top.runtime, 'runtime')
  const runtime: DccRuntimeState = {
    alertSeq: count(r.alertSeq, 'runtime.alertSeq'),
    cosCounter: counter(r.cosCounter, 'runtime.cosCounter'),
    anomaly: r.anomaly === undefined || r.anomaly === null ? undefined : anomaly(r.anomaly),
    deviceAlerts: deviceAlerts(object(r.deviceAlerts, 'runtime.deviceAlerts')),
    dccAlerts: queues<DccAlert>(r.dccAlerts, 'runtime.dccAlerts', (item, at) => {
      const a = object(item, at)
      count(a.seq, `${at}.seq`)
      eui(a.recipient, `${at}.recipient`)
      text(a.type, `${at}.type`)
      text(a.at, `${at}.at`)
      object(a.detail, `${at}.detail`)
    }),
    preCommands: array(r.preCommands, 'runtime.preCommands').map((entry, i) => preCommand(entry, i)),
  }
  const book = scheduleBook(object(top.schedules, 'schedules'))
  let satRecords: SatRecord[] | undefined
  let satDropped = 0
  if (top.sat !== undefined && top.sat !== null) {
    const s = object(top.sat, 'sat')
    const records = array(s.records, 'sat.records') as SatRecord[]
    satDropped = count(s.dropped, 'sat.dropped')
    const first = records[0]
    if (first) {
      const start = {
        seq: count(first.seq, 'sat.records[0].seq') - 1,
        hash: text(first.prevHash, 'prevHash'),
      }
      if (start.seq !== satDropped)
        bad(`sat: the first record kept is seq ${first.seq}, after ${satDropped} dropped`)
      const chain = verifyChain(records, start)
      if (!chain.ok) bad(`sat: record ${chain.firstBad?.seq}: ${chain.firstBad?.reason}`)
    }
    satRecords = records.map((rec) => deepFreeze(rec))
  }
  const kept = satRecords
  return {
    config: { restore: runtime, schedules: book },
    satRecords: kept,
    satDropped,
    createSat: (now) => createMemorySat({ ...(now && { now }), ...(kept && { restore: kept }) }),
  }
}

/** The schedule book (schedules.ts `ScheduleBook`), every field checked. */
function scheduleBook(b: Record<string, unknown>): ScheduleBook {
  if (b.version !== 2) bad('schedules.version: expected a version 2 schedule book')
  const schedules = array(b.schedules, 'schedules.schedules').map((v, i): DccSchedule => {
    const at = `schedules.schedules[${i}]`
    const s = object(v, at)
    const r = object(s.request, `${at}.request`)
    const frequency = text(s.frequency, `${at}.frequency`)
    if (!Object.hasOwn(SCHEDULE_FREQUENCIES, frequency)) bad(`${at}.frequency: not a ScheduleFrequency`)
    const role = s.role
    if (!isDuisRole(role)) return bad(`${at}.role: not a DUIS role`)
    const optional = (name: 'endDate' | 'nextDue') =>
      s[name] === undefined || s[name] === null ? {} : { [name]: text(s[name], `${at}.${name}`) }
    return {
      scheduleId: text(s.scheduleId, `${at}.scheduleId`),
      number: count(s.number, `${at}.number`),
      owner: eui(s.owner, `${at}.owner`),
      role,
      request: {
        srv: text(r.srv, `${at}.request.srv`),
        deviceId: eui(r.deviceId, `${at}.request.deviceId`),
        deviceType: text(r.deviceType, `${at}.request.deviceType`),
        commandVariant: count(r.commandVariant, `${at}.request.commandVariant`),
        parameters: object(r.parameters, `${at}.request.parameters`) as DccSchedule['request']['parameters'],
      },
      frequency: frequency as DccSchedule['frequency'],
      startDate: text(s.startDate, `${at}.startDate`),
      executionTime: text(s.executionTime, `${at}.executionTime`),
      createdAt: text(s.createdAt, `${at}.createdAt`),
      createdBy: text(s.createdBy, `${at}.createdBy`),
      nextRun: count(s.nextRun, `${at}.nextRun`),
      ...optional('endDate'),
      ...optional('nextDue'),
    }
  })
  const counters = Object.fromEntries(
    Object.entries(object(b.counters, 'schedules.counters')).map(([k, c]) =>
      typeof c === 'string' && /^\d{1,20}$/.test(c)
        ? [k, c]
        : bad(`schedules.counters.${k}: expected a counter`),
    ),
  )
  return { version: 2, nextNumber: count(b.nextNumber, 'schedules.nextNumber'), schedules, counters }
}

function deviceAlerts(d: Record<string, unknown>): DeviceAlertsState {
  return {
    queues: queues<DeliveredAlert>(d.queues, 'runtime.deviceAlerts.queues', (item, at) => {
      const a = object(item, at)
      count(a.seq, `${at}.seq`)
      eui(a.device, `${at}.device`)
      eui(a.recipient, `${at}.recipient`)
      text(a.alertCode, `${at}.alertCode`)
      count(a.messageCode, `${at}.messageCode`)
      text(a.receivedAt, `${at}.receivedAt`)
      object(a.frame, `${at}.frame`)
      bytes(a.bytes, `${at}.bytes`)
    }),
    counters: alertCounters(d.counters, 'runtime.deviceAlerts.counters'),
    byUser: array(d.byUser, 'runtime.deviceAlerts.byUser').map((entry, i) => {
      const at = `runtime.deviceAlerts.byUser[${i}]`
      const [user, c] = pair(entry, at)
      return [eui(user, `${at}[0]`), alertCounters(c, `${at}[1]`)]
    }),
  }
}

function alertCounters(value: unknown, at: string): AlertCounters {
  const c = object(value, at)
  return {
    delivered: count(c.delivered, `${at}.delivered`),
    blocked: count(c.blocked, `${at}.blocked`),
    toUnregisteredSupplier: count(c.toUnregisteredSupplier, `${at}.toUnregisteredSupplier`),
    undeliverable: count(c.undeliverable, `${at}.undeliverable`),
  }
}

function queues<T>(
  value: unknown,
  at: string,
  check: (item: unknown, at: string) => void,
): [Eui64, Held<T>[]][] {
  return array(value, at).map((entry, i) => {
    const [user, held] = pair(entry, `${at}[${i}]`)
    const list = array(held, `${at}[${i}][1]`).map((h, j) => {
      const where = `${at}[${i}][1][${j}]`
      const o = object(h, where)
      check(o.item, `${where}.item`)
      return { item: o.item as T, seq: count(o.seq, `${where}.seq`), at: finite(o.at, `${where}.at`) }
    })
    return [eui(user, `${at}[${i}][0]`), list]
  })
}

function preCommand(entry: unknown, i: number): [string, PendingPreCommand] {
  const at = `runtime.preCommands[${i}]`
  const [requestId, value] = pair(entry, at)
  const p = object(value, `${at}[1]`)
  for (const f of ['originator', 'sender', 'respondTo', 'deviceId', 'commandOriginator'] as const)
    eui(p[f], `${at}[1].${f}`)
  for (const f of ['requestId', 'role', 'srv'] as const) text(p[f], `${at}[1].${f}`)
  finite(p.issuedAt, `${at}[1].issuedAt`)
  if (typeof p.eligibilityChecked !== 'boolean') bad(`${at}[1].eligibilityChecked: expected true or false`)
  if (p.failedSupplier !== undefined) eui(p.failedSupplier, `${at}[1].failedSupplier`)
  if (p.executeAt !== undefined) finite(p.executeAt, `${at}[1].executeAt`)
  const g = object(p.preCommand, `${at}[1].preCommand`)
  counter(g.originatorCounter, `${at}[1].preCommand.originatorCounter`)
  eui(g.originator, `${at}[1].preCommand.originator`)
  eui(g.recipient, `${at}[1].preCommand.recipient`)
  count(g.messageCode, `${at}[1].preCommand.messageCode`)
  bytes(g.content, `${at}[1].preCommand.content`)
  if (g.dateTime !== undefined) bytes(g.dateTime, `${at}[1].preCommand.dateTime`)
  object(g.signature, `${at}[1].preCommand.signature`)
  return [text(requestId, `${at}[0]`), p as unknown as PendingPreCommand]
}

function anomaly(value: unknown): AnomalyState {
  const a = object(value, 'runtime.anomaly')
  if (a.version !== 2) bad('runtime.anomaly: expected anomaly state version 2')
  count(a.quarantined, 'runtime.anomaly.quarantined')
  if (a.latest !== undefined) finite(a.latest, 'runtime.anomaly.latest')
  const log = (l: unknown, at: string) => {
    const o = object(l, at)
    for (const b of array(o.blocks, `${at}.blocks`)) for (const t of array(b, `${at}.blocks[]`)) finite(t, at)
    for (const t of array(o.tail, `${at}.tail`)) finite(t, at)
  }
  for (const [user, counters] of Object.entries(object(a.users, 'runtime.anomaly.users')))
    for (const [k, l] of Object.entries(object(counters, `runtime.anomaly.users.${user}`)))
      log(l, `runtime.anomaly.users.${user}.${k}`)
  for (const [k, l] of Object.entries(object(a.dcc, 'runtime.anomaly.dcc')))
    log(l, `runtime.anomaly.dcc.${k}`)
  return a as unknown as AnomalyState
}

const bad = (why: string): never => {
  throw new DccStateError(`not a DCC state: ${why}`)
}
function object(v: unknown, at: string): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as Record<string, unknown>)
    : bad(`${at}: expected a map`)
}
function array(v: unknown, at: string): unknown[] {
  return Array.isArray(v) ? v : bad(`${at}: expected an array`)
}
function pair(v: unknown, at: string): [unknown, unknown] {
  const a = array(v, at)
  return a.length === 2 ? [a[0], a[1]] : bad(`${at}: expected a pair`)
}
function text(v: unknown, at: string): string {
  return typeof v === 'string' && v.length <= 4096 ? v : bad(`${at}: expected text`)
}
function eui(v: unknown, at: string): Eui64 {
  return typeof v === 'string' && isEui(v) ? (v as Eui64) : bad(`${at}: expected an EUI-64`)
}
function count(v: unknown, at: string): number {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : bad(`${at}: expected a count`)
}
function finite(v: unknown, at: string): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : bad(`${at}: expected a number`)
}
function counter(v: unknown, at: string): bigint {
  return typeof v === 'bigint' && v >= 0n && v < 1n << 64n ? v : bad(`${at}: expected a counter below 2^64`)
}
function bytes(v: unknown, at: string): Uint8Array {
  return v instanceof Uint8Array ? v : bad(`${at}: expected bytes`)
}

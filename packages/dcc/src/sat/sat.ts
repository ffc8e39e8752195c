/**
 * The Service Audit Trail interface, and its in-memory implementation for tests and in-process
 * use. `openSat` (file.ts) gives the same interface over an append-only file.
 */
import { SatLog, type SatPage, type SatQuery } from './log.ts'
import {
  type ChainHead,
  type ChainVerification,
  GENESIS,
  type SatEntry,
  type SatRecord,
  sealRecord,
  verifyChain,
} from './record.ts'

export interface ServiceAuditTrail {
  /**
   * Seals the entry into the next record and stores it; returns only once the record is as
   * durable as the SAT's durability setting promises. Synchronous, so appends never interleave.
   * Throws on a malformed entry (nothing is stored) or a storage failure.
   */
  append(entry: SatEntry): SatRecord
  /** Records matching every given field, in seq order. Throws a RangeError on a malformed filter. */
  query(filter?: SatQuery): SatRecord[]
  /** The same as a page: stops at `limit` or `maxBytes` and says where the next page starts. */
  page(filter?: SatQuery): SatPage
  /** Re-checks the whole chain (for a file SAT: the file as it is on disk now). */
  verify(): ChainVerification
  /** Number of records. */
  readonly size: number
  /** seq and hash of the last record: keep it elsewhere to detect a cut-off tail later. */
  readonly head: ChainHead
  /** Makes every appended record durable now (a no-op for the memory SAT). */
  flush(): void
  close(): void
}

export interface MemorySatOptions {
  /** The clock that stamps records (the emulator's simulated time, say). Default: the wall clock. */
  now?: () => Date
  /**
   * Records to go on from: the newest records of an earlier SAT, in seq order, chained (state.ts
   * keeps them). The SAT continues their chain; `verify` checks from the first one kept (its
   * `prevHash` is taken on trust), `size` counts every record ever appended (the last seq).
   */
  restore?: readonly SatRecord[]
}

export function createMemorySat(options: MemorySatOptions = {}): ServiceAuditTrail {
  const now = options.now ?? (() => new Date())
  const kept = options.restore ?? []
  const first = kept[0]
  const start: ChainHead = first ? { seq: first.seq - 1, hash: first.prevHash } : GENESIS
  const log = new SatLog(start.seq)
  let head = start
  for (const record of kept) {
    log.add(record)
    head = { seq: record.seq, hash: record.hash }
  }
  let closed = false
  return {
    append(entry) {
      if (closed) throw new Error('the SAT is closed')
      const record = sealRecord(head, entry, now())
      log.add(record)
      head = { seq: record.seq, hash: record.hash }
      return record
    },
    query: (filter) => log.query(filter),
    page: (filter) => log.page(filter),
    verify: () => verifyChain(log.records, start),
    get size() {
      return head.seq
    },
    get head() {
      return head
    },
    flush() {},
    close() {
      closed = true
    },
  }
}

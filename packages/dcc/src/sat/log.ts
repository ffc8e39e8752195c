/**
 * The memory SAT's records: every record in seq order, with indexes by user, device, SRV,
 * kind, RequestID and business originator, and time. (The file SAT keeps records on disk and
 * only a block index in memory: block-index.ts.)
 */
import {
  type CompiledQuery,
  compileQuery,
  type IndexedField,
  pageCollector,
  type SatPage,
  type SatQuery,
} from './query.ts'
import { canonicalJson, type SatRecord } from './record.ts'

export type { SatPage, SatQuery } from './query.ts'

const INDEXED: readonly IndexedField[] = ['user', 'businessOriginator', 'device', 'srv', 'kind', 'requestId']

export class SatLog {
  readonly records: SatRecord[] = []
  /**
   * Records before the first one held (a memory SAT restored from the tail of another's, state.ts):
   * record seq s sits at position s − 1 − base.
   */
  constructor(private readonly base = 0) {}

  private readonly times: number[] = []
  /** True while every record's time is at or after the one before (then time ranges use binary search). */
  private timeOrdered = true
  private readonly indexes = new Map<IndexedField, Map<string, number[]>>(INDEXED.map((f) => [f, new Map()]))

  add(record: SatRecord): void {
    const position = this.records.length
    const time = Date.parse(record.at)
    if (position > 0 && time < this.times[position - 1]!) this.timeOrdered = false
    this.records.push(record)
    this.times.push(time)
    for (const field of INDEXED) {
      const key = record[field]
      if (key === undefined) continue
      const index = this.indexes.get(field)!
      const list = index.get(key)
      if (list) list.push(position)
      else index.set(key, [position])
    }
  }

  query(filter: SatQuery = {}): SatRecord[] {
    return this.page(filter).records
  }

  page(filter: SatQuery = {}): SatPage {
    const query = compileQuery(filter)
    const { page, offer } = pageCollector(query)
    // Records' sizes are only worked out when a byte budget asks for them.
    const size = query.maxBytes === Infinity ? () => 0 : (r: SatRecord) => Buffer.byteLength(canonicalJson(r))
    let candidates: ArrayLike<number> | undefined
    for (const [field, key] of query.keys) {
      const list = this.indexes.get(field)!.get(key) ?? []
      if (!candidates || list.length < candidates.length) candidates = list
    }
    // Positions are seq - 1 - base.
    let lo = Math.max(0, Math.min(query.afterSeq - this.base, this.records.length))
    let hi = this.records.length
    if (this.timeOrdered) {
      lo = Math.max(lo, lowerBound(this.times, query.from))
      hi = lowerBound(this.times, query.to)
    }
    const consider = (position: number): boolean => {
      const record = this.records[position]!
      return !this.fits(query, position) || offer(record, size(record))
    }
    if (candidates) {
      for (let i = lowerBound(candidates, lo); i < candidates.length && candidates[i]! < hi; i++)
        if (!consider(candidates[i]!)) break
    } else {
      for (let p = lo; p < hi; p++) if (!consider(p)) break
    }
    return page
  }

  private fits(query: CompiledQuery, position: number): boolean {
    return query.matches(this.records[position]!, this.times[position]!)
  }
}

/** First index whose value is >= target, in an ascending list. */
function lowerBound(list: ArrayLike<number>, target: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]! < target) lo = mid + 1
    else hi = mid
  }
  return lo
}

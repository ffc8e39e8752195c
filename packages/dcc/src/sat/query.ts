/**
 * SAT queries: which records a filter asks for, and the page a query returns. Shared by the
 * memory SAT (log.ts) and the file SAT (file.ts), which differ only in where records are kept.
 */
import { parseEui } from '@smetsim/core'
import { normaliseRequestId, type SatKind, type SatRecord } from './record.ts'

export interface SatQuery {
  /** Matches `user` (sender or recipient); any EUI-64 spelling. */
  user?: string
  businessOriginator?: string
  device?: string
  srv?: string
  kind?: SatKind
  requestId?: string
  /** Records at or after this time. */
  from?: Date | string
  /** Records strictly before this time. */
  to?: Date | string
  /** The cursor: only records with a seq above this one. */
  afterSeq?: number
  /** At most this many records (the earliest matching). */
  limit?: number
  /**
   * At most about this many bytes of records, counted as their stored canonical JSON (UTF-8):
   * the page stops before the record that would take it over. The first record matching is
   * always returned, however large, so that a cursor always moves on.
   */
  maxBytes?: number
}

export interface SatPage {
  /** Matching records in seq order. */
  records: SatRecord[]
  /** Set when the page stopped at `limit` or `maxBytes`: pass it as `afterSeq` for the next page. */
  next?: number
}

/** Fields with an index (the file SAT keeps their values per block of records). */
export type IndexedField = 'user' | 'businessOriginator' | 'device' | 'srv' | 'kind' | 'requestId'

export interface CompiledQuery {
  /** The indexed fields asked for, with their values normalised as records store them. */
  keys: [IndexedField, string][]
  from: number
  to: number
  afterSeq: number
  limit: number
  maxBytes: number
  /** Whether a record matches every field and the time range (not the cursor). */
  matches(record: SatRecord, time?: number): boolean
}

/** Checks and normalises a filter; throws a RangeError saying which field is wrong. */
export function compileQuery(filter: SatQuery = {}): CompiledQuery {
  const keys: [IndexedField, string][] = []
  if (filter.user !== undefined) keys.push(['user', parseEui(filter.user)])
  if (filter.businessOriginator !== undefined)
    keys.push(['businessOriginator', parseEui(filter.businessOriginator)])
  if (filter.device !== undefined) keys.push(['device', parseEui(filter.device)])
  if (filter.srv !== undefined) keys.push(['srv', filter.srv])
  if (filter.kind !== undefined) keys.push(['kind', filter.kind])
  if (filter.requestId !== undefined) keys.push(['requestId', normaliseRequestId(filter.requestId)])
  const from = filter.from === undefined ? -Infinity : toTime(filter.from, 'from')
  const to = filter.to === undefined ? Infinity : toTime(filter.to, 'to')
  const afterSeq = whole(filter.afterSeq, 'afterSeq', 0, 0)
  const limit = whole(filter.limit, 'limit', Infinity, 1)
  const maxBytes = whole(filter.maxBytes, 'maxBytes', Infinity, 1)
  return {
    keys,
    from,
    to,
    afterSeq,
    limit,
    maxBytes,
    matches(record, time = Date.parse(record.at)) {
      if (time < from || time >= to) return false
      for (const [field, key] of keys) if (record[field] !== key) return false
      return true
    },
  }
}

/**
 * Collects a page: `offer` each candidate record in seq order with its stored size; it answers
 * false once the page is full (then `page.next` is set).
 */
export function pageCollector(query: CompiledQuery): {
  page: SatPage
  offer(record: SatRecord, bytes: number): boolean
} {
  const page: SatPage = { records: [] }
  let bytes = 0
  return {
    page,
    offer(record, size) {
      if (page.records.length >= query.limit || (page.records.length > 0 && bytes + size > query.maxBytes)) {
        page.next = page.records[page.records.length - 1]!.seq
        return false
      }
      page.records.push(record)
      bytes += size
      return true
    },
  }
}

function toTime(value: Date | string, name: string): number {
  const time = value instanceof Date ? value.getTime() : Date.parse(value)
  if (Number.isNaN(time)) throw new RangeError(`SAT query '${name}' is not a time: '${String(value)}'`)
  return time
}

function whole(value: number | undefined, name: string, otherwise: number, least: number): number {
  if (value === undefined) return otherwise
  if (!(Number.isSafeInteger(value) || value === Infinity) || value < least)
    throw new RangeError(`SAT query '${name}' must be a whole number ≥ ${least}: ${value}`)
  return value
}

/**
 * The in-memory side of a SAT: records in seq order plus indexes by user, device, SRV, kind,
 * RequestID and business originator, and time. Both the file and the memory SAT keep one.
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
  /** At most this many records (the earliest). */
  limit?: number
}

type IndexedField = 'user' | 'businessOriginator' | 'device' | 'srv' | 'kind' | 'requestId'
const INDEXED: readonly IndexedField[] = ['user', 'businessOriginator', 'device', 'srv', 'kind', 'requestId']

export class SatLog {
  readonly records: SatRecord[] = []
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
    const wanted = normaliseQuery(filter)
    const from = filter.from === undefined ? -Infinity : toTime(filter.from, 'from')
    const to = filter.to === undefined ? Infinity : toTime(filter.to, 'to')
    const limit = filter.limit ?? Infinity

    let candidates: ArrayLike<number> | undefined
    for (const [field, key] of wanted) {
      const list = this.indexes.get(field)!.get(key) ?? []
      if (!candidates || list.length < candidates.length) candidates = list
    }
    let lo = 0
    let hi = this.records.length
    if (this.timeOrdered) {
      lo = lowerBound(this.times, from)
      hi = lowerBound(this.times, to)
    }
    const out: SatRecord[] = []
    const consider = (position: number): boolean => {
      const record = this.records[position]!
      const time = this.times[position]!
      if (time < from || time >= to) return true
      for (const [field, key] of wanted) if (record[field] !== key) return true
      out.push(record)
      return out.length < limit
    }
    if (candidates) {
      for (let i = lowerBound(candidates, lo); i < candidates.length && candidates[i]! < hi; i++)
        if (!consider(candidates[i]!)) break
    } else {
      for (let p = lo; p < hi; p++) if (!consider(p)) break
    }
    return out
  }
}

function normaliseQuery(filter: SatQuery): [IndexedField, string][] {
  const wanted: [IndexedField, string][] = []
  if (filter.user !== undefined) wanted.push(['user', parseEui(filter.user)])
  if (filter.businessOriginator !== undefined)
    wanted.push(['businessOriginator', parseEui(filter.businessOriginator)])
  if (filter.device !== undefined) wanted.push(['device', parseEui(filter.device)])
  if (filter.srv !== undefined) wanted.push(['srv', filter.srv])
  if (filter.kind !== undefined) wanted.push(['kind', filter.kind])
  if (filter.requestId !== undefined) wanted.push(['requestId', normaliseRequestId(filter.requestId)])
  return wanted
}

function toTime(value: Date | string, name: string): number {
  const time = value instanceof Date ? value.getTime() : Date.parse(value)
  if (Number.isNaN(time)) throw new RangeError(`SAT query '${name}' is not a time: '${String(value)}'`)
  return time
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

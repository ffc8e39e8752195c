/**
 * Pages of the GET routes: by a cursor (the seq of the last item a caller has), a count and a
 * byte budget, so no answer grows with what the DCC holds. The first item is always sent,
 * however large, so a cursor always moves on; an item too large to send whole is sent without
 * its bulk and says so.
 */
import type { SatRecord } from '../sat/record.ts'

/** Default and largest byte budget of one page of GET /sat or GET /alerts. */
export const DEFAULT_PAGE_BYTES = 1 << 20
/** A SAT record whose `detail` is larger than this goes out without it (`detailOmitted`). */
export const MAX_RECORD_DETAIL_BYTES = 64 * 1024

export type SentRecord =
  | SatRecord
  | (Omit<SatRecord, 'detail'> & { detailOmitted: { bytes: number; reason: string } })

/**
 * A record as GET /sat sends it: whole, or, when its detail is over MAX_RECORD_DETAIL_BYTES (a
 * record written by an older version, say), without the detail. Its hash then cannot be checked
 * from the copy: the record is whole in the SAT file.
 */
export function sentRecord(record: SatRecord): SentRecord {
  if (record.detail === undefined) return record
  const bytes = Buffer.byteLength(JSON.stringify(record.detail))
  if (bytes <= MAX_RECORD_DETAIL_BYTES) return record
  const { detail: _, ...rest } = record
  return {
    ...rest,
    detailOmitted: {
      bytes,
      reason: `detail over ${MAX_RECORD_DETAIL_BYTES} bytes; read the SAT file for it`,
    },
  }
}

export interface Page<T> {
  items: T[]
  /** Set when more items follow: the cursor for the next page. */
  next?: number
  /** Bytes of the items' JSON. */
  bytes: number
}

/**
 * The items after `afterSeq`, at most `limit` of them and about `maxBytes` of their JSON, from
 * a list in seq order.
 */
export function pageOf<T>(
  items: readonly T[],
  seqOf: (item: T, index: number) => number,
  { afterSeq, limit, maxBytes }: { afterSeq: number; limit: number; maxBytes: number },
  toJson: (item: T) => unknown = (item) => item,
): Page<unknown> {
  const page: Page<unknown> = { items: [], bytes: 0 }
  let last = afterSeq
  for (let i = 0; i < items.length; i++) {
    const seq = seqOf(items[i]!, i)
    if (seq <= afterSeq) continue
    const json = toJson(items[i]!)
    const size = Buffer.byteLength(JSON.stringify(json))
    if (page.items.length >= limit || (page.items.length > 0 && page.bytes + size > maxBytes)) {
      page.next = last
      break
    }
    page.items.push(json)
    page.bytes += size
    last = seq
  }
  return page
}

/**
 * Reading a SAT file's bytes back into records, as recovery does on open: pure, no I/O.
 * The file is JSON lines, each the canonical form of one record and a '\n'. Bytes after the
 * last '\n' are a torn write (a crash in the middle of an append, whose record was never
 * acknowledged); a complete line that does not parse, is not canonical, or breaks the chain
 * stops the scan there.
 */
import {
  type ChainHead,
  canonicalJson,
  deepFreeze,
  GENESIS,
  recordProblem,
  type SatRecord,
} from './record.ts'

export interface SatScan {
  /** The records before the first bad line, in order. */
  records: SatRecord[]
  head: ChainHead
  /** Byte length of the good prefix: the complete, verified lines. */
  validLength: number
  /** Bytes after the last '\n', if any. */
  tornTail?: { offset: number; length: number }
  /** The first complete line that is not a valid next record. */
  firstBad?: { seq: number; line: number; offset: number; reason: string }
}

const NEWLINE = 0x0a
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function scanSatBytes(bytes: Uint8Array): SatScan {
  const records: SatRecord[] = []
  let head = GENESIS
  let offset = 0
  let line = 1
  while (offset < bytes.length) {
    const end = bytes.indexOf(NEWLINE, offset)
    if (end < 0)
      return { records, head, validLength: offset, tornTail: { offset, length: bytes.length - offset } }
    const reason = lineProblem(bytes.subarray(offset, end), head, (record) => records.push(record))
    if (reason)
      return { records, head, validLength: offset, firstBad: { seq: head.seq + 1, line, offset, reason } }
    head = { seq: records[records.length - 1]!.seq, hash: records[records.length - 1]!.hash }
    offset = end + 1
    line++
  }
  return { records, head, validLength: offset }
}

function lineProblem(
  raw: Uint8Array,
  head: ChainHead,
  accept: (record: SatRecord) => void,
): string | undefined {
  if (raw.length === 0) return 'empty line'
  let text: string
  let value: unknown
  try {
    text = utf8.decode(raw)
  } catch {
    return 'not UTF-8'
  }
  try {
    value = JSON.parse(text)
  } catch {
    return 'not JSON'
  }
  const problem = recordProblem(value, head)
  if (problem) return problem
  if (canonicalJson(value) !== text) return 'not in canonical form (altered)'
  accept(deepFreeze(value as SatRecord))
  return undefined
}

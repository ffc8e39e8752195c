/**
 * Reading a SAT file's bytes back into records, as recovery does on open: pure, no I/O. The
 * file is JSON lines, each the canonical form of one record and a '\n'. Bytes after the last
 * '\n' are a torn write (a crash in the middle of an append, whose record was never
 * acknowledged); a complete line that does not parse, is not canonical, or breaks the chain
 * stops the scan there.
 *
 * `SatScanner` takes the bytes in chunks of any size and hands each good record on as it is
 * found, so a file far larger than memory can be checked; `scanSatBytes` is the one-shot form.
 */
import {
  type ChainHead,
  canonicalJson,
  deepFreeze,
  GENESIS,
  recordProblem,
  type SatRecord,
} from './record.ts'

export interface SatScanEnd {
  head: ChainHead
  /** Byte length of the good prefix: the complete, verified lines. */
  validLength: number
  /** Bytes after the last '\n', if any. */
  tornTail?: { offset: number; length: number }
  /** The first complete line that is not a valid next record. */
  firstBad?: { seq: number; line: number; offset: number; reason: string }
}

export interface SatScan extends SatScanEnd {
  /** The records before the first bad line, in order. */
  records: SatRecord[]
}

const NEWLINE = 0x0a
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Checks records chunk by chunk; `onRecord` gets each good record with its line's byte offset and length. */
export class SatScanner {
  private head: ChainHead = GENESIS
  /** Bytes of the line not yet ended by a '\n'. */
  private partial: Uint8Array[] = []
  private partialLength = 0
  /** File offset of the line being read. */
  private offset = 0
  private line = 1
  private bad: SatScanEnd['firstBad']

  constructor(private readonly onRecord: (record: SatRecord, offset: number, length: number) => void) {}

  /** Takes the next bytes of the file (the chunk may be reused by the caller afterwards). */
  push(chunk: Uint8Array): void {
    let start = 0
    while (!this.bad && start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start)
      if (end < 0) {
        this.partial.push(new Uint8Array(chunk.subarray(start)))
        this.partialLength += chunk.length - start
        return
      }
      let raw = chunk.subarray(start, end)
      if (this.partialLength > 0) {
        raw = Buffer.concat([...this.partial, raw])
        this.partial = []
        this.partialLength = 0
      }
      this.take(raw)
      start = end + 1
    }
  }

  /** The end of the file: what was found. */
  end(): SatScanEnd {
    const found: SatScanEnd = { head: this.head, validLength: this.offset }
    if (this.bad) found.firstBad = this.bad
    else if (this.partialLength > 0) found.tornTail = { offset: this.offset, length: this.partialLength }
    return found
  }

  private take(raw: Uint8Array): void {
    let record: SatRecord | undefined
    const reason = lineProblem(raw, this.head, (r) => {
      record = r
    })
    if (reason || !record) {
      this.bad = {
        seq: this.head.seq + 1,
        line: this.line,
        offset: this.offset,
        reason: reason ?? 'unreadable',
      }
      return
    }
    this.head = { seq: record.seq, hash: record.hash }
    this.onRecord(record, this.offset, raw.length + 1)
    this.offset += raw.length + 1
    this.line++
  }
}

/** Scans a whole file's bytes at once, keeping every good record. */
export function scanSatBytes(bytes: Uint8Array): SatScan {
  const records: SatRecord[] = []
  const scanner = new SatScanner((record) => records.push(record))
  scanner.push(bytes)
  return { records, ...scanner.end() }
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

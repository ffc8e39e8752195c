/**
 * The Service Audit Trail on disk: an append-only file of JSON lines, one record a line, each
 * written before append() returns (write-ahead) and fsync'ed as the durability setting says.
 *
 * Durability:
 * - 'fsync-each' (default): write, then fdatasync, for every record. An acknowledged record
 *   survives a process crash and a power cut.
 * - 'fsync-batch': write every record at once (so it survives a process crash), fdatasync at
 *   most `maxRecords` records or `maxDelayMs` later, and on flush() and close(). A power cut
 *   may lose the records acknowledged since the last fdatasync.
 * - 'none': write only; the OS decides when it reaches the disk (flush() and close() still
 *   fdatasync). For benchmarks.
 *
 * Recovery on open: the whole chain is verified. Bytes after the last '\n' are a torn append
 * (never acknowledged, since append returns after the write): they are cut off with a warning.
 * A bad line anywhere else is tampering or damage: open fails naming the seq, unless
 * `verifyOnly`, which opens read-only and reports it from verify().
 *
 * Memory: records stay on disk. Open scans the file in chunks and keeps only a block index
 * (block-index.ts: the offset, time range and a Bloom filter of the indexed values of every
 * block of 64 records, about 4 bytes a record); a query reads the blocks that may match.
 *
 * One writer per file: nothing stops two processes appending to the same file.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { BlockIndex, keyBits } from './block-index.ts'
import { compileQuery, pageCollector, type SatPage } from './query.ts'
import { type ChainVerification, deepFreeze, type SatRecord, sealRecordText } from './record.ts'
import type { ServiceAuditTrail } from './sat.ts'
import { type SatScan, type SatScanEnd, SatScanner, scanSatBytes } from './scan.ts'

export type SatDurability = 'fsync-each' | 'fsync-batch' | 'none'

export interface SatFileOptions {
  durability?: SatDurability
  /** Group commit for 'fsync-batch': fdatasync after this many records (default 64) or this many ms (default 5). */
  batch?: { maxRecords?: number; maxDelayMs?: number }
  /** Open read-only, without cutting a torn tail, and report a broken chain instead of failing. */
  verifyOnly?: boolean
  now?: () => Date
  /** Where recovery warnings go; default process.emitWarning. */
  onWarning?: (message: string) => void
}

export interface FileSat extends ServiceAuditTrail {
  readonly path: string
  readonly durability: SatDurability
  /** What open found: bytes of a torn last line cut off (or, verify-only, left), and the first bad record. */
  readonly recovery: { tornBytes: number; firstBad?: SatScan['firstBad'] }
}

/** Bytes read at a time when a whole file is scanned. */
const SCAN_CHUNK = 1 << 20

/** Opens the SAT file at `path`, creating it if absent. See the module comment for recovery. */
export function openSat(path: string, options: SatFileOptions = {}): FileSat {
  const durability = options.durability ?? 'fsync-each'
  const maxRecords = options.batch?.maxRecords ?? 64
  const maxDelayMs = options.batch?.maxDelayMs ?? 5
  const now = options.now ?? (() => new Date())
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, 'SatRecoveryWarning'))
  const verifyOnly = options.verifyOnly ?? false
  if (!['fsync-each', 'fsync-batch', 'none'].includes(durability))
    throw new RangeError(`SAT durability must be fsync-each, fsync-batch or none: '${durability}'`)

  const existed = existsSync(path)
  // verify-only reads through its own descriptor; a writer reads and writes through one.
  let fd = existed ? openSync(path, verifyOnly ? 'r' : 'r+') : verifyOnly ? -1 : openSync(path, 'w+')
  const index = new BlockIndex()
  let scan: SatScanEnd
  try {
    scan =
      fd >= 0 ? scanFile(fd, (record, offset) => index.add(record, offset)) : new SatScanner(() => {}).end()
  } catch (e) {
    if (fd >= 0) closeSync(fd)
    throw e
  }
  if (scan.firstBad && !verifyOnly) {
    closeSync(fd)
    throw new Error(
      `SAT ${path}: record seq ${scan.firstBad.seq} (line ${scan.firstBad.line}, byte ${scan.firstBad.offset}) ` +
        `breaks the chain: ${scan.firstBad.reason}. The file has been altered or damaged; open it with verifyOnly to inspect.`,
    )
  }
  const tornBytes = scan.tornTail?.length ?? 0

  let head = scan.head
  let length = scan.validLength
  if (!verifyOnly) {
    if (!existed) syncDirectory(path)
    if (tornBytes > 0) {
      ftruncateSync(fd, length)
      fsyncSync(fd)
      warn(
        `SAT ${path}: cut off a torn last line (${tornBytes} bytes after seq ${head.seq}); ` +
          'that append never returned, so no acknowledged record is lost',
      )
    }
  }

  let pending = 0
  let timer: NodeJS.Timeout | undefined
  let failure: Error | undefined
  let closed = false

  function sync(): void {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (pending === 0 || fd < 0 || verifyOnly) return
    try {
      fdatasyncSync(fd)
      pending = 0
    } catch (e) {
      // After a failed fsync the kernel may have dropped the dirty pages: stop accepting records.
      failure = new Error(`SAT ${path}: fdatasync failed, no further appends: ${(e as Error).message}`)
      throw failure
    }
  }

  function write(line: Buffer): void {
    let done = 0
    try {
      while (done < line.length) done += writeSync(fd, line, done, line.length - done, length + done)
    } catch (e) {
      // Take a partial line back out so the next append does not follow garbage.
      try {
        ftruncateSync(fd, length)
      } catch {
        failure = new Error(`SAT ${path}: a failed write could not be undone: ${(e as Error).message}`)
      }
      throw e
    }
    length += line.length
  }

  function assertWritable(): void {
    if (verifyOnly) throw new Error(`SAT ${path} was opened verify-only`)
    if (closed) throw new Error(`SAT ${path} is closed`)
    if (failure) throw failure
  }

  /** The bytes of blocks first … last - 1 (their lines, each ending in '\n'). */
  function readBlocks(first: number, last: number): Buffer {
    const start = index.offsetOf(first)
    const end = last < index.blocks ? index.offsetOf(last) : length
    const bytes = Buffer.allocUnsafe(end - start)
    let done = 0
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, start + done)
      if (n === 0) throw new Error(`SAT ${path}: the file ends before byte ${end} (cut off while open?)`)
      done += n
    }
    return bytes
  }

  function page(filter: Parameters<ServiceAuditTrail['query']>[0]): SatPage {
    const query = compileQuery(filter)
    const { page, offer } = pageCollector(query)
    if (closed) throw new Error(`SAT ${path} is closed`)
    const bits = query.keys.map(([field, value]) => keyBits(field, value))
    // Every line holding a record that matches holds these exact bytes (canonical JSON): a cheap
    // test before parsing a line.
    const needles = query.keys.map(([field, value]) =>
      Buffer.from(`${JSON.stringify(field)}:${JSON.stringify(value)}`),
    )
    for (let block = index.blockOf(query.afterSeq + 1); block < index.blocks; block++) {
      if (!index.mayHold(block, bits, query.from, query.to)) continue
      const bytes = readBlocks(block, block + 1)
      let seq = index.firstSeq(block)
      for (let start = 0; start < bytes.length; seq++) {
        const end = bytes.indexOf(0x0a, start)
        const line = bytes.subarray(start, end)
        start = end + 1
        if (seq <= query.afterSeq || !needles.every((n) => line.includes(n))) continue
        const record = JSON.parse(line.toString('utf8')) as SatRecord
        if (query.matches(record) && !offer(deepFreeze(record), line.length)) return page
      }
    }
    return page
  }

  return {
    path,
    durability,
    recovery: { tornBytes, ...(scan.firstBad ? { firstBad: scan.firstBad } : {}) },
    append(entry) {
      assertWritable()
      const { record, text } = sealRecordText(head, entry, now())
      const at = length
      write(Buffer.from(`${text}\n`, 'utf8'))
      index.add(record, at)
      head = { seq: record.seq, hash: record.hash }
      pending++
      if (durability === 'fsync-each') sync()
      else if (durability === 'fsync-batch') {
        if (pending >= maxRecords) sync()
        else if (!timer) {
          timer = setTimeout(() => {
            try {
              sync()
            } catch {
              // kept in `failure`; the next append or flush throws it
            }
          }, maxDelayMs)
          timer.unref()
        }
      }
      return record
    },
    query: (filter) => page(filter).records,
    page,
    verify(): ChainVerification {
      const known = head.seq
      let hashAtKnown: string | undefined
      let onDisk: SatScanEnd
      if (!existsSync(path)) onDisk = new SatScanner(() => {}).end()
      else {
        const reader = openSync(path, 'r')
        try {
          onDisk = scanFile(reader, (record) => {
            if (record.seq === known) hashAtKnown = record.hash
          })
        } finally {
          closeSync(reader)
        }
      }
      if (onDisk.firstBad)
        return { ok: false, firstBad: { seq: onDisk.firstBad.seq, reason: onDisk.firstBad.reason } }
      if (onDisk.tornTail)
        return {
          ok: false,
          firstBad: { seq: onDisk.head.seq + 1, reason: 'torn last line (no trailing newline)' },
        }
      if (onDisk.head.seq < known)
        return {
          ok: false,
          firstBad: { seq: onDisk.head.seq + 1, reason: 'record missing from the file (cut off)' },
        }
      if (known > 0 && hashAtKnown !== head.hash)
        return { ok: false, firstBad: { seq: known, reason: 'the file differs from the records appended' } }
      if (onDisk.head.seq > known)
        return { ok: false, firstBad: { seq: known + 1, reason: 'record not appended through this SAT' } }
      return { ok: true }
    },
    get size() {
      return head.seq
    },
    get head() {
      return head
    },
    flush() {
      if (failure) throw failure
      if (fd >= 0 && !closed) sync()
    },
    close() {
      if (closed) return
      try {
        if (fd >= 0 && !failure) sync()
      } finally {
        closed = true
        if (fd >= 0) closeSync(fd)
        fd = -1
      }
    },
  }
}

/** Scans a whole file through `fd` in chunks, handing each good record on. */
function scanFile(fd: number, onRecord: (record: SatRecord, offset: number) => void): SatScanEnd {
  const scanner = new SatScanner(onRecord)
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK)
  for (let position = 0; ; ) {
    const n = readSync(fd, chunk, 0, chunk.length, position)
    if (n === 0) break
    scanner.push(chunk.subarray(0, n))
    position += n
  }
  return scanner.end()
}

/** Makes a new file's directory entry durable (best effort: not every platform can fsync a directory). */
function syncDirectory(path: string): void {
  let dir = -1
  try {
    dir = openSync(dirname(path), 'r')
    fsyncSync(dir)
  } catch {
    // e.g. Windows
  } finally {
    if (dir >= 0) closeSync(dir)
  }
}

/** Reads and verifies a SAT file without changing it, keeping every record (for inspection; see openSat's verifyOnly for large files). */
export function verifySatFile(path: string): SatScan {
  return scanSatBytes(readFileSync(path))
}

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
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { SatLog } from './log.ts'
import { type ChainVerification, sealRecordText } from './record.ts'
import type { ServiceAuditTrail } from './sat.ts'
import { type SatScan, scanSatBytes } from './scan.ts'

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
  const bytes = existed ? readFileSync(path) : new Uint8Array(0)
  const scan = scanSatBytes(bytes)
  if (scan.firstBad && !verifyOnly)
    throw new Error(
      `SAT ${path}: record seq ${scan.firstBad.seq} (line ${scan.firstBad.line}, byte ${scan.firstBad.offset}) ` +
        `breaks the chain: ${scan.firstBad.reason}. The file has been altered or damaged; open it with verifyOnly to inspect.`,
    )
  const tornBytes = scan.tornTail?.length ?? 0

  const log = new SatLog()
  for (const record of scan.records) log.add(record)
  let head = scan.head
  let fd = -1
  let length = scan.validLength
  if (!verifyOnly) {
    fd = openSync(path, existed ? 'r+' : 'w+')
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
    if (pending === 0 || fd < 0) return
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

  return {
    path,
    durability,
    recovery: { tornBytes, ...(scan.firstBad ? { firstBad: scan.firstBad } : {}) },
    append(entry) {
      assertWritable()
      const { record, text } = sealRecordText(head, entry, now())
      write(Buffer.from(`${text}\n`, 'utf8'))
      log.add(record)
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
    query: (filter) => log.query(filter),
    verify(): ChainVerification {
      const onDisk = scanSatBytes(existsSync(path) ? readFileSync(path) : new Uint8Array(0))
      if (onDisk.firstBad)
        return { ok: false, firstBad: { seq: onDisk.firstBad.seq, reason: onDisk.firstBad.reason } }
      const known = log.records.length
      if (onDisk.tornTail)
        return {
          ok: false,
          firstBad: { seq: onDisk.head.seq + 1, reason: 'torn last line (no trailing newline)' },
        }
      if (onDisk.records.length < known)
        return {
          ok: false,
          firstBad: { seq: onDisk.head.seq + 1, reason: 'record missing from the file (cut off)' },
        }
      if (known > 0 && onDisk.records[known - 1]!.hash !== head.hash)
        return { ok: false, firstBad: { seq: known, reason: 'the file differs from the records appended' } }
      if (onDisk.records.length > known)
        return { ok: false, firstBad: { seq: known + 1, reason: 'record not appended through this SAT' } }
      return { ok: true }
    },
    get size() {
      return log.records.length
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

/** Reads and verifies a SAT file without changing it. */
export function verifySatFile(path: string): SatScan {
  return scanSatBytes(readFileSync(path))
}

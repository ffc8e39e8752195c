/**
 * `fleet up --snapshot FILE`: the run snapshot kept in FILE, written periodically
 * (`--snapshot-every`) and when the run stops, so a shard killed without warning (SIGKILL, a
 * crash, the machine gone) restarts from the last one written.
 *
 * Every write is atomic: the bytes go to FILE.tmp in the same directory, are fsynced, and the
 * file is renamed over FILE (then the directory is fsynced, so the rename itself is durable). A
 * reader of FILE, or a run restarted after a kill at any instant, finds the previous snapshot or
 * the new one whole, never part of one; a FILE.tmp left by a kill mid-write is overwritten by the
 * next write and never read.
 *
 * The snapshot is taken synchronously (snapshotRun: every hub's and the DCC's state at one
 * instant of the run's clock) and written in the background while the run goes on; a periodic
 * write due while another is still in flight is skipped, never queued. A write that fails (disk
 * full, a missing directory, no permission) is reported once on stderr, the run goes on and later
 * writes are tried again (a success after failures says so); FILE keeps the last snapshot that was
 * written whole.
 */
import { open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

/** What one write cost: taking the snapshot (the run stands still), and writing it (it does not). */
export interface SnapshotWrite {
  bytes: number
  /** Wall ms taking the snapshot (snapshotRun: sync and CBOR), during which the run is stalled. */
  takeMs: number
  /** Wall ms writing, fsyncing and renaming it, while the run goes on. */
  writeMs: number
  /** The run's virtual time the snapshot holds, epoch ms. */
  at: number
}

/** `bytes` into `file` atomically: FILE.tmp in the same directory, fsync, rename over FILE, fsync the directory. */
export async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`
  try {
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(bytes)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (e) {
    await unlink(tmp).catch(() => {})
    throw e
  }
  // The rename is durable once the directory is; some filesystems cannot fsync one (ignored).
  const dir = await open(dirname(file), 'r').catch(() => undefined)
  if (dir)
    await dir
      .sync()
      .catch(() => {})
      .finally(() => dir.close())
}

export interface SnapshotFileOptions {
  file: string
  /** The run snapshot now (snapshotRun) and the virtual time it holds. */
  take: () => { bytes: Uint8Array; at: number }
  /** Wall ms between periodic writes; undefined: only when the run stops. */
  everyMs: number | undefined
  /** Where the lines go (stderr). */
  log: (line: string) => void
  /** The wall clock in ms (tests). */
  now?: () => number
}

export interface SnapshotFile {
  /** A periodic write, when one is due and none is in flight; returns at once (the write goes on). */
  tick(): void
  /** Waits for a write in flight, then takes and writes the snapshot; resolves false (reported) if it failed. */
  final(): Promise<boolean>
  /** The last write that succeeded. */
  readonly last: SnapshotWrite | undefined
  /** Writes that failed since the last success. */
  readonly failures: number
}

const size = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`)

/** The periodic and final writes of one run's snapshot file (see the module comment). */
export function snapshotFile(o: SnapshotFileOptions): SnapshotFile {
  const clock = o.now ?? (() => performance.now())
  let due = o.everyMs === undefined ? Infinity : clock() + o.everyMs
  let inFlight: Promise<boolean> | undefined
  let last: SnapshotWrite | undefined
  let failures = 0

  const write = async (): Promise<boolean> => {
    const t0 = clock()
    let taken: { bytes: Uint8Array; at: number }
    try {
      taken = o.take()
    } catch (e) {
      return failed(e, 'take')
    }
    const t1 = clock()
    try {
      await writeAtomically(o.file, taken.bytes)
    } catch (e) {
      return failed(e, 'write')
    }
    const w: SnapshotWrite = {
      bytes: taken.bytes.length,
      takeMs: t1 - t0,
      writeMs: clock() - t1,
      at: taken.at,
    }
    last = w
    const again = failures > 0 ? ` (again, after ${failures} failed)` : ''
    failures = 0
    o.log(
      `snapshot written to ${o.file}${again}: virtual ${new Date(w.at).toISOString()}, ${size(w.bytes)}, ` +
        `taken in ${Math.round(w.takeMs)} ms (the run stalled), written in ${Math.round(w.writeMs)} ms`,
    )
    return true
  }
  const failed = (e: unknown, what: 'take' | 'write'): false => {
    failures++
    // Once until a write succeeds again: a full disk is not a line a second.
    if (failures === 1) {
      const why = e instanceof Error ? e.message : String(e)
      const kept = last
        ? `${o.file} keeps the snapshot of virtual ${new Date(last.at).toISOString()}`
        : `${o.file} is as it was`
      o.log(
        `snapshot: could not ${what} the snapshot for ${o.file}: ${why}; the run goes on and later writes ` +
          `are tried again (${kept})`,
      )
    }
    return false
  }
  const start = () => {
    const p = write().finally(() => {
      if (inFlight === p) inFlight = undefined
    })
    inFlight = p
    return p
  }
  return {
    tick() {
      if (inFlight || clock() < due) return
      due = clock() + o.everyMs!
      void start()
    },
    async final() {
      due = Infinity
      if (inFlight) await inFlight
      return start()
    },
    get last() {
      return last
    },
    get failures() {
      return failures
    },
  }
}

/**
 * The test PKI's revocation list: certificate serials the emulated SMKI repository treats as
 * revoked, kept in a JSON file (`revoked.json` in a PKI folder) and rewritten atomically on
 * every change:
 *   { "version": 1, "revoked": [{ "serial": "4A07…", "at": "2026-…Z", "reason": "keyCompromise" }] }
 *
 * A process that keeps the list open (`smetsim dcc serve`) sees another process's revocations
 * (`smetsim pki revoke`) with `watchRevocationList`, which reloads it when the file is replaced.
 */
import { existsSync, type FSWatcher, readFileSync, renameSync, watch, writeFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { normaliseSerial } from './certificate.ts'

export interface RevocationEntry {
  /** Normalised upper-case hex (see normaliseSerial). */
  serial: string
  /** ISO 8601 time of revocation. */
  at: string
  reason?: string
}

export interface RevocationList {
  readonly path: string
  isRevoked(serial: string | bigint): boolean
  /** Revokes and saves at once; revoking again keeps the first entry and returns it. */
  revoke(serial: string | bigint, details?: { reason?: string; at?: Date }): RevocationEntry
  entries(): RevocationEntry[]
  /** Reads the file again (what another process wrote); on a corrupt file throws and keeps what it had. */
  reload(): void
}

function load(path: string): RevocationEntry[] {
  if (!existsSync(path)) return []
  let data: { version?: unknown; revoked?: unknown }
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new Error(`revocation list ${path} is corrupt: ${(e as Error).message}`)
  }
  const entries = data?.revoked
  if (data?.version !== 1 || !Array.isArray(entries))
    throw new Error(`revocation list ${path} is corrupt: expected { version: 1, revoked: [...] }`)
  return entries.map((entry, i) => {
    if (typeof entry?.serial !== 'string' || typeof entry.at !== 'string')
      throw new Error(`revocation list ${path} is corrupt: entry ${i} needs a serial and an at`)
    try {
      return { ...entry, serial: normaliseSerial(entry.serial) }
    } catch (e) {
      throw new Error(`revocation list ${path} is corrupt: entry ${i}: ${(e as Error).message}`)
    }
  })
}

/** Adds `serial` to `bySerial` unless it is there; the entry it has either way, and whether it is new. */
function revokeIn(
  bySerial: Map<string, RevocationEntry>,
  serial: string | bigint,
  details: { reason?: string; at?: Date },
): { entry: RevocationEntry; added: boolean } {
  const key = normaliseSerial(serial)
  const existing = bySerial.get(key)
  if (existing) return { entry: existing, added: false }
  const entry: RevocationEntry = {
    serial: key,
    at: (details.at ?? new Date()).toISOString(),
    ...(details.reason !== undefined && { reason: details.reason }),
  }
  bySerial.set(key, entry)
  return { entry, added: true }
}

/**
 * A revocation list held in memory only, for a run with no PKI folder behind it (a scenario's
 * fleet, a test): the same checks and entries as the file's, nothing saved.
 */
export function memoryRevocationList(): Omit<RevocationList, 'path' | 'reload'> {
  const bySerial = new Map<string, RevocationEntry>()
  return {
    isRevoked: (serial) => bySerial.has(normaliseSerial(serial)),
    revoke: (serial, details = {}) => revokeIn(bySerial, serial, details).entry,
    entries: () => [...bySerial.values()],
  }
}

/** Opens (or starts, if the file does not exist yet) the revocation list at `path`. */
export function openRevocationList(path: string): RevocationList {
  let bySerial = new Map(load(path).map((e) => [e.serial, e]))
  function save(): void {
    const temp = `${path}.${process.pid}.tmp`
    writeFileSync(temp, `${JSON.stringify({ version: 1, revoked: [...bySerial.values()] }, null, 2)}\n`)
    renameSync(temp, path)
  }
  return {
    path,
    isRevoked: (serial) => bySerial.has(normaliseSerial(serial)),
    revoke(serial, details = {}) {
      const { entry, added } = revokeIn(bySerial, serial, details)
      if (added) save()
      return entry
    },
    entries: () => [...bySerial.values()],
    reload() {
      bySerial = new Map(load(path).map((e) => [e.serial, e]))
    },
  }
}

export interface RevocationWatch {
  close(): void
}

/**
 * Reloads `list` whenever its file is written or replaced (the list saves by renaming a new
 * file over the old one, so the folder is watched, not the file). `onReload` hears each reload
 * with the entries now held; `onError` a reload that failed (the list keeps its entries). Node's
 * fs.watch: inotify on Linux, so a change is seen within milliseconds.
 */
export function watchRevocationList(
  list: RevocationList,
  handlers: { onReload?: (entries: RevocationEntry[]) => void; onError?: (error: Error) => void } = {},
): RevocationWatch {
  const name = basename(list.path)
  let timer: NodeJS.Timeout | undefined
  const reload = () => {
    timer = undefined
    try {
      list.reload()
      handlers.onReload?.(list.entries())
    } catch (e) {
      handlers.onError?.(e as Error)
    }
  }
  const watcher: FSWatcher = watch(dirname(list.path), { persistent: false }, (_event, file) => {
    // A burst of events for one save becomes one reload.
    if (file === name && !timer) timer = setTimeout(reload, 20)
  })
  watcher.on('error', (e) => handlers.onError?.(e))
  return {
    close() {
      if (timer) clearTimeout(timer)
      watcher.close()
    },
  }
}

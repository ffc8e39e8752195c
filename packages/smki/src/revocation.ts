/**
 * The test PKI's revocation list: certificate serials the emulated SMKI repository treats as
 * revoked, kept in a JSON file (`revoked.json` in a PKI folder) and rewritten atomically on
 * every change:
 *   { "version": 1, "revoked": [{ "serial": "4A07…", "at": "2026-…Z", "reason": "keyCompromise" }] }
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
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

/** Opens (or starts, if the file does not exist yet) the revocation list at `path`. */
export function openRevocationList(path: string): RevocationList {
  const bySerial = new Map(load(path).map((e) => [e.serial, e]))
  function save(): void {
    const temp = `${path}.${process.pid}.tmp`
    writeFileSync(temp, `${JSON.stringify({ version: 1, revoked: [...bySerial.values()] }, null, 2)}\n`)
    renameSync(temp, path)
  }
  return {
    path,
    isRevoked: (serial) => bySerial.has(normaliseSerial(serial)),
    revoke(serial, details = {}) {
      const key = normaliseSerial(serial)
      const existing = bySerial.get(key)
      if (existing) return existing
      const entry: RevocationEntry = {
        serial: key,
        at: (details.at ?? new Date()).toISOString(),
        ...(details.reason !== undefined && { reason: details.reason }),
      }
      bySerial.set(key, entry)
      save()
      return entry
    },
    entries: () => [...bySerial.values()],
  }
}

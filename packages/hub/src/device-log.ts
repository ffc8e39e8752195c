/**
 * The CHF Device Log (the HAN whitelist) and the CHF Historic Device Log, as pure data and pure
 * functions. GBCS use cases CCS01 (add), CCS02 (remove) and CS14 (the 0x8F12 alert that carries a
 * backup of the log), read from the use-case texts of GBCS (as SmartDCCInnovation/duis-templates
 * src/gbcs-mapping-table.json carries them):
 *  - CCS01 for a device already in the log changes nothing (its install code is discarded, any
 *    link key kept) and still succeeds;
 *  - otherwise the device is added, without a TC link key, and may join with its install code
 *    for the join timeout; a device in the Historic Device Log may first, for half the join
 *    timeout, resume with its old TC link key (then the install code for the second half);
 *  - CCS02 moves a device that had established a TC link key to the Historic Device Log (which
 *    keeps 15 entries, the oldest overwritten) before removing it; an HHT is never recorded there;
 *  - every addition, removal and change of a hashed TC link key raises CS14 (0x8F12).
 * Every function returns a new log and never mutates its argument.
 */
import type { Eui64 } from '@smetsim/core'

/** GBCS CCS02: the Historic Device Log keeps this many removed devices. */
export const HISTORIC_LOG_ENTRIES = 15

export interface DeviceLogEntry {
  eui: Eui64
  /** The DCC's device type ('ESME', 'GSME', 'PPMID', 'HCALCS', 'IHD', 'CAD', 'HHT'), when known. */
  deviceType?: string
  /** CCS01's register_device device-type enumeration, as sent (its code values are not public here). */
  typeCode?: number
  /** The install code the device must prove it knows to join; dropped once it has joined. */
  installCode?: Uint8Array
  /** Joining is allowed before this instant (virtual ms); 0 when no window is open. */
  joinUntil: number
  /** The window opened at this instant; a historic device's old key is good for its first half. */
  joinFrom: number
  /** Hash of the TC link key once the device has joined (the CS14 hashed_TC_link_key). */
  linkKeyHash?: Uint8Array
}

export interface HistoricEntry {
  eui: Eui64
  linkKeyHash: Uint8Array
}

export interface DeviceLog {
  entries: readonly DeviceLogEntry[]
  historic: readonly HistoricEntry[]
}

export const EMPTY_LOG: DeviceLog = Object.freeze({ entries: [], historic: [] })

export function findEntry(log: DeviceLog, eui: Eui64): DeviceLogEntry | undefined {
  return log.entries.find((e) => e.eui === eui)
}

export type AddOutcome =
  | { kind: 'added'; log: DeviceLog }
  | { kind: 'already-present'; log: DeviceLog }
  | { kind: 'full'; log: DeviceLog }

/**
 * CCS01: adds the device with its install code and opens its join window [now, now + window).
 * A device already in the log is left exactly as it is (GBCS CCS01). `capacity` bounds the log.
 */
export function addToLog(
  log: DeviceLog,
  entry: { eui: Eui64; installCode: Uint8Array; deviceType?: string; typeCode?: number },
  now: number,
  windowMs: number,
  capacity: number,
): AddOutcome {
  if (findEntry(log, entry.eui)) return { kind: 'already-present', log }
  if (log.entries.length >= capacity) return { kind: 'full', log }
  const added: DeviceLogEntry = {
    eui: entry.eui,
    ...(entry.deviceType !== undefined && { deviceType: entry.deviceType }),
    ...(entry.typeCode !== undefined && { typeCode: entry.typeCode }),
    installCode: entry.installCode,
    joinFrom: now,
    joinUntil: now + windowMs,
  }
  return { kind: 'added', log: { ...log, entries: [...log.entries, added] } }
}

/**
 * CCS02: removes the device; one that had joined (holds a TC link key) goes to the Historic
 * Device Log first, replacing an older record of it, the oldest record going when 15 are held.
 * An HHT is never recorded there (GBCS CCS02). Undefined when the device is not in the log.
 */
export function removeFromLog(log: DeviceLog, eui: Eui64): DeviceLog | undefined {
  const entry = findEntry(log, eui)
  if (!entry) return undefined
  const entries = log.entries.filter((e) => e.eui !== eui)
  if (!entry.linkKeyHash || entry.deviceType === 'HHT') return { ...log, entries }
  const others = log.historic.filter((h) => h.eui !== eui)
  const historic = [...others, { eui, linkKeyHash: entry.linkKeyHash }].slice(-HISTORIC_LOG_ENTRIES)
  return { entries, historic }
}

export type JoinCheck =
  | { ok: true; via: 'install-code' | 'historic-link-key'; linkKeyHash: Uint8Array }
  | { ok: false; reason: 'not-in-log' | 'window-closed' | 'install-code' | 'already-joined' }

/**
 * May the device join now? In the log, its window open, and either its historic TC link key
 * within the first half of the window (the device still holds that key) or, otherwise, the
 * install code it proves it knows. `newLinkKeyHash` is the hash of the key a successful install
 * code join establishes.
 */
export function checkJoin(
  log: DeviceLog,
  eui: Eui64,
  now: number,
  knowsInstallCode: (code: Uint8Array) => boolean,
  newLinkKeyHash: () => Uint8Array,
): JoinCheck {
  const entry = findEntry(log, eui)
  if (!entry) return { ok: false, reason: 'not-in-log' }
  if (entry.linkKeyHash) return { ok: false, reason: 'already-joined' }
  if (now < entry.joinFrom || now >= entry.joinUntil) return { ok: false, reason: 'window-closed' }
  const historic = log.historic.find((h) => h.eui === eui)
  if (historic && now < entry.joinFrom + (entry.joinUntil - entry.joinFrom) / 2)
    return { ok: true, via: 'historic-link-key', linkKeyHash: historic.linkKeyHash }
  if (!entry.installCode || !knowsInstallCode(entry.installCode)) return { ok: false, reason: 'install-code' }
  return { ok: true, via: 'install-code', linkKeyHash: newLinkKeyHash() }
}

/** The log after a join: the entry holds its link key hash, its install code is no longer kept. */
export function recordJoin(log: DeviceLog, eui: Eui64, linkKeyHash: Uint8Array): DeviceLog {
  return {
    ...log,
    entries: log.entries.map((e) => {
      if (e.eui !== eui) return e
      const { installCode: _, ...rest } = e
      return { ...rest, linkKeyHash, joinUntil: 0 }
    }),
  }
}

/**
 * Future-dated commands the DCC has sent and still expects the device's outcome of: the device
 * acknowledges at once and, at the execution date-time, raises 0x8F66 "Future-date HAN Interface
 * Command Successfully Actioned" or 0x8F67 "… not Successfully Actioned" (GBCS alert codes;
 * DOMAIN.md §6; the RTDS 4.5.0 6.23 and 1.6 folders show them), after any alerts of the use case
 * itself (SR 6.23: 0x8F70 "Update Security Credentials" when a cell was replaced).
 *
 * Two kinds of entry:
 *  - `complete`: the request was answered I99 and completes with the outcome alert (SR 6.23,
 *    whose future-dated response pattern is "DSP & Device" in the DUIS request matrix);
 *  - `route`: the request was answered with the device's immediate response already; the entry
 *    only says whom the outcome alerts go to (a SoLR Contingency command: to the sender, MP134B).
 * An outcome alert names its command when it is a use-case-specific one (0x00CC, 0x00CD: message
 * code and originator counter); the generic alert (0x1000: code and time only) is matched to the
 * oldest entry on that device whose execution time has come (unconfirmed: nothing else links it).
 *
 * No outcome within `timeoutMs` of the execution time: a `complete` entry times out (E30, "Time-out
 * – 'Future Dated' Command" [S8]); a `route` entry is forgotten. At most `max` entries are held;
 * past that the oldest times out early. Both limits are modelling choices (unconfirmed).
 */
import type { Eui64 } from '@smetsim/core'

export interface FutureDatedLimits {
  /** How long after its execution time the outcome may come, ms (default a day). */
  timeoutMs: number
  /** Most entries held (default 100,000). */
  max: number
}

export const DEFAULT_FUTURE_DATED_LIMITS: Readonly<FutureDatedLimits> = Object.freeze({
  timeoutMs: 86_400_000,
  max: 100_000,
})

/** GBCS alert codes of a future-dated command's outcome, and of SR 6.23's credential update. */
export const ACTIONED = '8F66'
export const NOT_ACTIONED = '8F67'
export const CREDENTIALS_UPDATED = '8F70'

export type FutureDatedOutcome = 'actioned' | 'notActioned' | 'timedOut' | 'dropped'

export interface FutureDatedEntry {
  kind: 'complete' | 'route'
  requestId: string
  deviceId: Eui64
  /** Whom the outcome goes to (the request's respondTo). */
  respondTo: Eui64
  messageCode: number
  /** The command's GBCS originator counter. */
  counter: bigint
  /** Execution time, epoch ms. */
  executeAt: number
  /** SR 6.23: a 0x8F70 came before the outcome (a supplier cell was replaced). */
  credentialsUpdated?: boolean
  /** Called once when the entry ends (not for a `route` entry that is simply forgotten). */
  onOutcome(outcome: FutureDatedOutcome, alertCode?: string): void
}

/** What an alert from the device says about a future-dated command. */
export interface OutcomeAlert {
  alertCode: string
  /** The command it names (use-case-specific alerts), if any. */
  command?: { messageCode: number; counter: bigint }
}

export interface FutureDatedRegister {
  add(entry: FutureDatedEntry): void
  /**
   * The entry the alert belongs to, if any, and `settle` to apply what the alert says (its outcome,
   * or 0x8F70), called once the alert itself is recorded.
   */
  match(
    deviceId: Eui64,
    alert: OutcomeAlert,
    now: number,
  ): { entry: FutureDatedEntry; settle(): void } | undefined
  /** Ends every entry whose time is up. */
  expire(now: number): void
  readonly size: number
}

export function createFutureDatedRegister(limits?: Partial<FutureDatedLimits>): FutureDatedRegister {
  const timeoutMs = limits?.timeoutMs ?? DEFAULT_FUTURE_DATED_LIMITS.timeoutMs
  const max = Math.max(1, limits?.max ?? DEFAULT_FUTURE_DATED_LIMITS.max)
  // In order of addition (for the cap); per device for matching.
  const entries = new Set<FutureDatedEntry>()
  const byDevice = new Map<Eui64, FutureDatedEntry[]>()

  function remove(entry: FutureDatedEntry): void {
    entries.delete(entry)
    const list = byDevice.get(entry.deviceId)
    if (!list) return
    const i = list.indexOf(entry)
    if (i >= 0) list.splice(i, 1)
    if (list.length === 0) byDevice.delete(entry.deviceId)
  }

  function end(entry: FutureDatedEntry, outcome: FutureDatedOutcome, alertCode?: string): void {
    remove(entry)
    entry.onOutcome(outcome, alertCode)
  }

  function find(deviceId: Eui64, alert: OutcomeAlert, now: number): FutureDatedEntry | undefined {
    const list = byDevice.get(deviceId)
    if (!list) return undefined
    const named = alert.command
    if (named) return list.find((e) => e.messageCode === named.messageCode && e.counter === named.counter)
    return list.find((e) => e.executeAt <= now)
  }

  return {
    add(entry) {
      if (entries.size >= max) {
        const oldest = entries.values().next().value!
        if (oldest.kind === 'complete') end(oldest, 'dropped')
        else remove(oldest)
      }
      entries.add(entry)
      const list = byDevice.get(entry.deviceId)
      if (list) list.push(entry)
      else byDevice.set(entry.deviceId, [entry])
    },
    match(deviceId, alert, now) {
      const code = alert.alertCode.toUpperCase()
      if (code !== ACTIONED && code !== NOT_ACTIONED && code !== CREDENTIALS_UPDATED) return undefined
      const entry = find(deviceId, alert, now)
      if (!entry) return undefined
      const settle = () => {
        if (code === CREDENTIALS_UPDATED) entry.credentialsUpdated = true
        else if (entry.kind === 'complete') {
          if (entries.has(entry)) end(entry, code === ACTIONED ? 'actioned' : 'notActioned', code)
        }
        // A routed command's outcome alerts (an ECS03 raises two) all follow the entry until it expires.
        else if (code === NOT_ACTIONED) entry.onOutcome('notActioned', code)
      }
      return { entry, settle }
    },
    expire(now) {
      for (const entry of [...entries]) {
        if (now - entry.executeAt < timeoutMs) continue
        if (entry.kind === 'complete') end(entry, 'timedOut')
        else remove(entry)
      }
    },
    get size() {
      return entries.size
    },
  }
}

/**
 * The execution time (epoch ms) of a request whose `executionDateTime` parameter lies after `now`,
 * or undefined for one that runs now ('now', 'unspecified', absent, or a time already past; a value
 * that is no time is left to the command builder to refuse).
 */
export function futureDatedAt(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value === 'now' || value === 'unspecified') return undefined
  const at = Date.parse(value)
  return Number.isFinite(at) && at > now ? at : undefined
}

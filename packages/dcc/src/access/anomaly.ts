/**
 * Threshold Anomaly Detection (SEC glossary; DUIS DCC Alert `QuarantinedRequest`): the DSP counts
 * each User's Service Requests per SRV, and all Users' together, over a rolling window; a request
 * that would take a count past its Anomaly Detection Threshold (ADT) is quarantined — held, not
 * sent to the Device — and a `QuarantinedRequest` DCC Alert (ADUserThresholdBreach or
 * ADDCCThresholdBreach) tells the User.
 *
 * Configuration (plain JSON):
 * - `users`: thresholds a User has set for itself, per SRV or '*' for all its SRVs; they count the
 *   User's requests in any of its roles;
 * - `roleDefaults`: thresholds for a role when the User has set none for that SRV — MP134B gives
 *   the SoLR Contingency role an ADT of zero until one is set, so `DEFAULT_ANOMALY_CONFIG` has
 *   `{ role: 'SoLRC', srv: '*', limit: 0 }`; they count the User's requests in that role only
 *   (modelling choice: a supplier that is also some other role is not counted against that
 *   role's default by its supplier traffic);
 * - `dcc`: DCC-wide thresholds over all Users, per SRV or '*'.
 * `limit` is the most requests accepted in any window of `windowMs`; 0 quarantines every request.
 * Attribute (value) limits are not modelled.
 *
 * Windows are exact, not bucketed: a request at time t counts the accepted requests at times in
 * (t − windowMs, t], to the millisecond — one accepted exactly windowMs earlier has left the window.
 * The DSP's clock does not go back: a request timed before the latest request counted is taken as
 * at that latest time (it is counted, and its window ends, there).
 *
 * Pure: `detectAnomaly(config, state, request, at)` returns the decision and the new state; the
 * old state is not changed. Only accepted requests are counted (unconfirmed: whether the real DSP
 * counts quarantined ones too), so a User over its threshold stays quarantined until its earlier
 * requests leave the window.
 *
 * What is kept, so that a request costs the same however long the history: a request is recorded
 * only in the counters some configured threshold reads — the User's own per-SRV and '*' counters
 * if it has set thresholds for them, its role's per-SRV and '*' counters if that role has defaults
 * the User has not overridden, the DCC's per-SRV and '*' counters if there are DCC-wide thresholds.
 * With `DEFAULT_ANOMALY_CONFIG` only SoLR Contingency requests are recorded (and those are all
 * quarantined, so none is). Counting therefore starts when a threshold is configured: requests
 * accepted while no threshold read them are not counted afterwards, and lengthening a window only
 * sees what the shorter one kept. When a counter records a request at t it forgets the times at or
 * before t − (the longest window of the thresholds reading it), a whole block of `LOG_BLOCK` at a
 * time, so a counter holds at most that window's accepted requests plus `LOG_BLOCK` − 1 forgotten
 * ones; a counter no request touches keeps what it has. A counter's full blocks are never changed
 * and are shared between states: recording copies only the newest (partial) block, and the list of
 * blocks once every `LOG_BLOCK` requests; counting is a binary search.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import { isoTime, type When } from '../registration/time.ts'
import { DUIS_ROLES, type DuisRole, isDuisRole } from '../roles.ts'

export interface VolumeThreshold {
  /** The SRV counted, or '*' for all SRVs. */
  srv: string
  /** Most requests accepted in any rolling window; 0 quarantines every request. */
  limit: number
  /** Length of the rolling window in milliseconds. */
  windowMs: number
}

export interface UserThreshold extends VolumeThreshold {
  user: string
}

export interface RoleThreshold extends VolumeThreshold {
  role: DuisRole
}

export interface AnomalyConfig {
  version: 1
  users: UserThreshold[]
  roleDefaults: RoleThreshold[]
  dcc: VolumeThreshold[]
}

export const DAY_MS = 86_400_000

/** No thresholds except MP134B's: the SoLR Contingency role's ADT is zero until set. */
export const DEFAULT_ANOMALY_CONFIG: AnomalyConfig = Object.freeze({
  version: 1,
  users: Object.freeze([]) as unknown as UserThreshold[],
  roleDefaults: Object.freeze([
    Object.freeze({ role: 'SoLRC', srv: '*', limit: 0, windowMs: DAY_MS }),
  ]) as unknown as RoleThreshold[],
  dcc: Object.freeze([]) as unknown as VolumeThreshold[],
}) as AnomalyConfig

/** Times (ms since the epoch) in a counter's full blocks. */
export const LOG_BLOCK = 64

/**
 * Accepted requests' times (ms since the epoch), ascending, oldest first: `blocks` then `tail`.
 * Every block holds exactly `LOG_BLOCK` times and is never changed once made (states share them);
 * the first may still hold times already out of every window.
 */
export interface AnomalyLog {
  blocks: readonly (readonly number[])[]
  /** The newest times, fewer than `LOG_BLOCK`. */
  tail: readonly number[]
}

/** Accepted requests' times, only in the counters some threshold reads (see the module comment). */
export interface AnomalyState {
  version: 2
  /**
   * Per User ID, its counters: key `SRV` or '*' for its own thresholds (requests in any role),
   * `ROLE SRV` or `ROLE *` for its role's defaults (requests in that role).
   */
  users: Readonly<Record<string, Readonly<Record<string, AnomalyLog>>>>
  /** DCC-wide counters (all Users), keyed by SRV or '*'. */
  dcc: Readonly<Record<string, AnomalyLog>>
  /** The latest time counted; absent until one is. */
  latest?: number
  /** Quarantines so far; the next QuarantineEventRef is this plus one. */
  quarantined: number
}

export function emptyAnomalyState(): AnomalyState {
  return { version: 2, users: {}, dcc: {}, quarantined: 0 }
}

export type AnomalyBreach = 'ADUserThresholdBreach' | 'ADDCCThresholdBreach'

export type AnomalyDecision =
  | { quarantine: false }
  | {
      quarantine: true
      breach: AnomalyBreach
      threshold: VolumeThreshold
      /** Requests already accepted in the window. */
      count: number
      /** QuarantineEventRef of the DCC Alert. */
      quarantineEventRef: number
      reason: string
    }

export interface AnomalySubject {
  user: string
  role: DuisRole
  srv: string
}

/** Decides whether the request breaches a threshold; returns the new state (with the request counted, if accepted). */
export function detectAnomaly(
  config: AnomalyConfig,
  state: AnomalyState,
  subject: AnomalySubject,
  at: When,
): { decision: AnomalyDecision; state: AnomalyState } {
  const now = Math.max(Date.parse(isoTime(at, 'at')), state.latest ?? Number.NEGATIVE_INFINITY)
  const user = parseEui(subject.user)
  const { srv, role } = subject
  const counters = state.users[user]

  const own = config.users.filter((t) => parseEui(t.user) === user)
  const ownHere = own.filter((t) => applies(t, srv))
  // The User's own thresholds for this SRV (or '*'); its role's defaults only when it has set none.
  const roleHere = config.roleDefaults.filter((t) => t.role === role && applies(t, srv))
  if (ownHere.length) {
    for (const t of ownHere) {
      const count = countSince(counters?.[t.srv], now - t.windowMs)
      if (count + 1 > t.limit)
        return quarantine(state, 'ADUserThresholdBreach', t, count, `User ${user} (${role})`, srv)
    }
  } else {
    for (const t of roleHere) {
      const count = countSince(counters?.[`${role} ${t.srv}`], now - t.windowMs)
      if (count + 1 > t.limit)
        return quarantine(state, 'ADUserThresholdBreach', t, count, `User ${user} (${role})`, srv)
    }
  }
  const dccHere = config.dcc.filter((t) => applies(t, srv))
  for (const t of dccHere) {
    const count = countSince(state.dcc[t.srv], now - t.windowMs)
    if (count + 1 > t.limit) return quarantine(state, 'ADDCCThresholdBreach', t, count, 'the DCC', srv)
  }

  // Accepted: record it in each counter a threshold reads, with that counter's longest window.
  const userWindows = new Map<string, number>()
  for (const t of ownHere) widen(userWindows, t.srv, t.windowMs)
  // The role's per-SRV default is read only while the User has none of its own for the SRV, its
  // '*' default (counting every SRV) while the User has no '*' threshold of its own.
  for (const t of roleHere)
    if (t.srv === '*' ? !own.some((o) => o.srv === '*') : !ownHere.length)
      widen(userWindows, `${role} ${t.srv}`, t.windowMs)
  const dccWindows = new Map<string, number>()
  for (const t of dccHere) widen(dccWindows, t.srv, t.windowMs)
  if (!userWindows.size && !dccWindows.size) return { decision: { quarantine: false }, state }

  return {
    decision: { quarantine: false },
    state: {
      version: 2,
      users: userWindows.size
        ? { ...state.users, [user]: recordAll(counters, userWindows, now) }
        : state.users,
      dcc: dccWindows.size ? recordAll(state.dcc, dccWindows, now) : state.dcc,
      latest: now,
      quarantined: state.quarantined,
    },
  }
}

function quarantine(
  state: AnomalyState,
  breach: AnomalyBreach,
  threshold: VolumeThreshold,
  count: number,
  whose: string,
  srv: string,
): { decision: AnomalyDecision; state: AnomalyState } {
  const quarantineEventRef = state.quarantined + 1
  const scope = threshold.srv === '*' ? 'all SRVs' : `SRV ${srv}`
  return {
    decision: {
      quarantine: true,
      breach,
      threshold: { ...threshold },
      count,
      quarantineEventRef,
      reason:
        threshold.limit === 0
          ? `${whose} has an anomaly detection threshold of 0 for ${scope}: every request is quarantined`
          : `${whose} already has ${count} request(s) for ${scope} in ${threshold.windowMs} ms; threshold ${threshold.limit}`,
    },
    state: { ...state, quarantined: quarantineEventRef },
  }
}

/** The DUIS DCC Alert for a quarantined request (DCCAlertCode AD1 (unconfirmed mapping), QuarantinedRequest). */
export interface QuarantinedRequestAlert {
  type: 'QuarantinedRequest'
  code: 'AD1'
  breach: AnomalyBreach
  requestId: string
  quarantineEventRef: number
  /** The User the alert goes to. */
  recipient: Eui64
  srv: string
  at: string
}

export function quarantinedRequestAlert(
  decision: Extract<AnomalyDecision, { quarantine: true }>,
  request: { requestId: string; srv: string; recipient: string },
  at: When,
): QuarantinedRequestAlert {
  return {
    type: 'QuarantinedRequest',
    code: 'AD1',
    breach: decision.breach,
    requestId: request.requestId,
    quarantineEventRef: decision.quarantineEventRef,
    recipient: parseEui(request.recipient),
    srv: request.srv,
    at: isoTime(at, 'at'),
  }
}

// --- configuration from JSON ---

export class AnomalyConfigError extends Error {
  override name = 'AnomalyConfigError'
  constructor(readonly problems: string[]) {
    super(`anomaly detection configuration is invalid:\n  ${problems.join('\n  ')}`)
  }
}

/** Validates a plain object as an AnomalyConfig; every problem is reported with its path. */
export function parseAnomalyConfig(value: unknown): AnomalyConfig {
  const problems: string[] = []
  const obj = value as Record<string, unknown>
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AnomalyConfigError(['expected an object { version: 1, users, roleDefaults, dcc }'])
  if (obj.version !== 1) problems.push(`version: expected 1, got ${JSON.stringify(obj.version)}`)
  const lists = {
    users: [] as UserThreshold[],
    roleDefaults: [] as RoleThreshold[],
    dcc: [] as VolumeThreshold[],
  }
  for (const name of ['users', 'roleDefaults', 'dcc'] as const) {
    const items = obj[name] ?? []
    if (!Array.isArray(items)) {
      problems.push(`${name}: expected an array`)
      continue
    }
    items.forEach((item: Record<string, unknown>, i) => {
      const path = `${name}[${i}]`
      if (typeof item !== 'object' || item === null) {
        problems.push(`${path}: expected an object`)
        return
      }
      if (typeof item.srv !== 'string' || !/^(\*|\d{1,2}(\.\d{1,2}){1,2})$/.test(item.srv))
        problems.push(`${path}.srv: expected an SRV like '1.6' or '*'`)
      if (!Number.isInteger(item.limit) || (item.limit as number) < 0)
        problems.push(`${path}.limit: expected a whole number ≥ 0`)
      if (!Number.isInteger(item.windowMs) || (item.windowMs as number) <= 0)
        problems.push(`${path}.windowMs: expected a whole number of milliseconds > 0`)
      const base = { srv: item.srv as string, limit: item.limit as number, windowMs: item.windowMs as number }
      if (name === 'users') {
        try {
          lists.users.push({ ...base, user: parseEui(String(item.user)) })
        } catch {
          problems.push(`${path}.user: expected an EUI-64 User ID`)
        }
      } else if (name === 'roleDefaults') {
        if (!isDuisRole(item.role))
          problems.push(`${path}.role: expected a DUIS role (${DUIS_ROLES.join(', ')})`)
        else lists.roleDefaults.push({ ...base, role: item.role })
      } else lists.dcc.push(base)
    })
  }
  if (problems.length) throw new AnomalyConfigError(problems)
  return { version: 1, ...lists }
}

// --- helpers ---

function applies(t: VolumeThreshold, srv: string): boolean {
  return t.srv === srv || t.srv === '*'
}

function widen(windows: Map<string, number>, key: string, windowMs: number): void {
  windows.set(key, Math.max(windows.get(key) ?? 0, windowMs))
}

/** New counters: `counters` with `now` recorded in each of `windows`' keys (the rest shared). */
function recordAll(
  counters: Readonly<Record<string, AnomalyLog>> | undefined,
  windows: ReadonlyMap<string, number>,
  now: number,
): Record<string, AnomalyLog> {
  const next = { ...counters }
  for (const [key, windowMs] of windows) next[key] = record(counters?.[key], now, now - windowMs)
  return next
}

/** A new log: `log` with `now` (not before any time in it) added and the times at or before `keepAfter` forgotten, a block at a time. */
function record(log: AnomalyLog | undefined, now: number, keepAfter: number): AnomalyLog {
  let blocks = log?.blocks ?? []
  let drop = 0
  while (drop < blocks.length && blocks[drop]![LOG_BLOCK - 1]! <= keepAfter) drop++
  if (drop) blocks = blocks.slice(drop)
  // Times in the tail are after every block's, so only with no block left can any be forgotten.
  const tail = blocks.length ? [...(log?.tail ?? [])] : (log?.tail ?? []).filter((t) => t > keepAfter)
  tail.push(now)
  return tail.length === LOG_BLOCK ? { blocks: [...blocks, tail], tail: [] } : { blocks, tail }
}

/** How many times in the log are after `since`. */
function countSince(log: AnomalyLog | undefined, since: number): number {
  if (!log) return 0
  const { blocks, tail } = log
  let count = tail.length - firstAfter(tail, since)
  // The first block whose last time is after `since`: it and every later one count.
  let lo = 0
  let hi = blocks.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (blocks[mid]![LOG_BLOCK - 1]! <= since) lo = mid + 1
    else hi = mid
  }
  if (lo < blocks.length) count += (blocks.length - lo) * LOG_BLOCK - firstAfter(blocks[lo]!, since)
  return count
}

/** The index of the first time in the ascending list after `since` (its length if none is). */
function firstAfter(times: readonly number[], since: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! <= since) lo = mid + 1
    else hi = mid
  }
  return lo
}

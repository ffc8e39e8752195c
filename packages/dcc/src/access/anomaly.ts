/**
 * Threshold Anomaly Detection (SEC glossary; DUIS DCC Alert `QuarantinedRequest`): the DSP counts
 * each User's Service Requests per SRV, and all Users' together, over a rolling window; a request
 * that would take a count past its Anomaly Detection Threshold (ADT) is quarantined — held, not
 * sent to the Device — and a `QuarantinedRequest` DCC Alert (ADUserThresholdBreach or
 * ADDCCThresholdBreach) tells the User.
 *
 * Configuration (plain JSON):
 * - `users`: thresholds a User has set for itself, per SRV or '*' for all its SRVs;
 * - `roleDefaults`: thresholds for a role when the User has set none for that SRV — MP134B gives
 *   the SoLR Contingency role an ADT of zero until one is set, so `DEFAULT_ANOMALY_CONFIG` has
 *   `{ role: 'SoLRC', srv: '*', limit: 0 }`;
 * - `dcc`: DCC-wide thresholds over all Users, per SRV or '*'.
 * `limit` is the most requests accepted in any window of `windowMs`; 0 quarantines every request.
 * Attribute (value) limits are not modelled.
 *
 * Pure: `detectAnomaly(config, state, request, at)` returns the decision and the new state; the
 * old state is not changed. Only accepted requests are counted (unconfirmed: whether the real DSP
 * counts quarantined ones too), so a User over its threshold stays quarantined until its earlier
 * requests leave the window.
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

/** Accepted requests' times (ms since the epoch, ascending), keyed by what they are counted for. */
export interface AnomalyState {
  version: 1
  /** Key `USER SRV`. */
  byUserSrv: Readonly<Record<string, readonly number[]>>
  /** Key `SRV`, all Users. */
  bySrv: Readonly<Record<string, readonly number[]>>
  /** Every accepted request. */
  all: readonly number[]
  /** Quarantines so far; the next QuarantineEventRef is this plus one. */
  quarantined: number
}

export function emptyAnomalyState(): AnomalyState {
  return { version: 1, byUserSrv: {}, bySrv: {}, all: [], quarantined: 0 }
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
  const now = Date.parse(isoTime(at, 'at'))
  const user = parseEui(subject.user)
  const { srv, role } = subject

  const userKeys = Object.keys(state.byUserSrv).filter((k) => k.startsWith(`${user} `))
  const own = config.users.filter((t) => parseEui(t.user) === user && (t.srv === srv || t.srv === '*'))
  // The User's own thresholds for this SRV (or '*'); its role's defaults only when it has set none.
  const userThresholds = own.length
    ? own
    : config.roleDefaults.filter((t) => t.role === role && (t.srv === srv || t.srv === '*'))
  for (const t of userThresholds) {
    const count =
      t.srv === '*'
        ? userKeys.reduce((n, k) => n + countSince(state.byUserSrv[k]!, now - t.windowMs), 0)
        : countSince(state.byUserSrv[`${user} ${srv}`] ?? [], now - t.windowMs)
    if (count + 1 > t.limit)
      return quarantine(state, 'ADUserThresholdBreach', t, count, `User ${user} (${role})`, srv)
  }
  for (const t of config.dcc.filter((t) => t.srv === srv || t.srv === '*')) {
    const count = countSince(t.srv === '*' ? state.all : (state.bySrv[srv] ?? []), now - t.windowMs)
    if (count + 1 > t.limit) return quarantine(state, 'ADDCCThresholdBreach', t, count, 'the DCC', srv)
  }

  const keep = now - maxWindow(config)
  const key = `${user} ${srv}`
  return {
    decision: { quarantine: false },
    state: {
      version: 1,
      byUserSrv: { ...state.byUserSrv, [key]: record(state.byUserSrv[key], now, keep) },
      bySrv: { ...state.bySrv, [srv]: record(state.bySrv[srv], now, keep) },
      all: record(state.all, now, keep),
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

/** How many times in the ascending list are after `since`. */
function countSince(times: readonly number[], since: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! <= since) lo = mid + 1
    else hi = mid
  }
  return times.length - lo
}

/** A new list: `times` without those at or before `keepAfter`, plus `now` in order. */
function record(times: readonly number[] | undefined, now: number, keepAfter: number): number[] {
  const kept = (times ?? []).filter((t) => t > keepAfter)
  let i = kept.length
  while (i > 0 && kept[i - 1]! > now) i--
  kept.splice(i, 0, now)
  return kept
}

function maxWindow(config: AnomalyConfig): number {
  let max = 0
  for (const t of [...config.users, ...config.roleDefaults, ...config.dcc]) max = Math.max(max, t.windowMs)
  return max
}

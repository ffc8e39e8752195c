import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DuisRole } from '../roles.ts'
import {
  type AnomalyConfig,
  AnomalyConfigError,
  type AnomalyDecision,
  type AnomalyLog,
  type AnomalyState,
  type AnomalySubject,
  DEFAULT_ANOMALY_CONFIG,
  detectAnomaly,
  emptyAnomalyState,
  LOG_BLOCK,
  parseAnomalyConfig,
  type VolumeThreshold,
} from './anomaly.ts'

const A = '90B3D51F30010000'
const B = '90B3D51F30030000'
const T0 = Date.parse('2026-03-01T10:00:00Z')
const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

const config = (c: Partial<AnomalyConfig>): AnomalyConfig => ({ ...DEFAULT_ANOMALY_CONFIG, ...c })
const subject = (user: string, role: DuisRole, srv: string): AnomalySubject => ({ user, role, srv })

/** Sends requests one after another, `ms` after T0 each, keeping the state. */
function session(cfg: AnomalyConfig, start: AnomalyState = emptyAnomalyState()) {
  let state = start
  return {
    send(s: AnomalySubject, ms: number): AnomalyDecision {
      const r = detectAnomaly(cfg, state, s, new Date(T0 + ms))
      state = r.state
      return r.decision
    },
    get state() {
      return state
    },
  }
}

function logs(state: AnomalyState): [string, AnomalyLog][] {
  return [
    ...Object.entries(state.users).flatMap(([user, counters]) =>
      Object.entries(counters).map(([key, log]) => [`${user} ${key}`, log] as [string, AnomalyLog]),
    ),
    ...Object.entries(state.dcc).map(([key, log]) => [`DCC ${key}`, log] as [string, AnomalyLog]),
  ]
}

const times = (log: AnomalyLog) => [...log.blocks.flat(), ...log.tail]

/** The log's shape: full blocks, a short tail, ascending. */
function expectWellFormed(log: AnomalyLog) {
  for (const block of log.blocks) expect(block).toHaveLength(LOG_BLOCK)
  expect(log.tail.length).toBeLessThan(LOG_BLOCK)
  const all = times(log)
  for (let i = 1; i < all.length; i++) expect(all[i]!).toBeGreaterThanOrEqual(all[i - 1]!)
}

describe('detectAnomaly: thresholds', () => {
  it('quarantines the request that would pass a User’s own per-SRV threshold', () => {
    const t = { user: A, srv: '7.2', limit: 2, windowMs: HOUR }
    const s = session(config({ users: [t] }))
    expect(s.send(subject(A, 'IS', '7.2'), 0).quarantine).toBe(false)
    expect(s.send(subject(A, 'GS', '7.2'), 1).quarantine).toBe(false) // any of its roles
    expect(s.send(subject(A, 'IS', '7.2'), 2)).toMatchObject({
      quarantine: true,
      breach: 'ADUserThresholdBreach',
      threshold: t,
      count: 2,
      quarantineEventRef: 1,
      reason: expect.stringContaining('already has 2 request(s) for SRV 7.2'),
    })
    expect(s.send(subject(A, 'IS', '2.2'), 3).quarantine).toBe(false) // another SRV
    expect(s.send(subject(B, 'IS', '7.2'), 4).quarantine).toBe(false) // another User
    expect(s.send(subject(A, 'IS', '7.2'), 5)).toMatchObject({ quarantine: true, quarantineEventRef: 2 })
    expect(s.state.quarantined).toBe(2)
  })

  it("a '*' threshold counts every SRV", () => {
    const s = session(config({ users: [{ user: A, srv: '*', limit: 3, windowMs: HOUR }] }))
    for (const [i, srv] of ['7.2', '2.2', '1.6'].entries())
      expect(s.send(subject(A, 'IS', srv), i).quarantine).toBe(false)
    expect(s.send(subject(A, 'IS', '4.1.1'), 3)).toMatchObject({ breach: 'ADUserThresholdBreach', count: 3 })
  })

  it('a role’s defaults apply while the User has set none for the SRV, counting its requests in that role', () => {
    const cfg = config({
      users: [{ user: A, srv: '7.2', limit: 5, windowMs: HOUR }],
      roleDefaults: [{ role: 'IS', srv: '*', limit: 1, windowMs: HOUR }],
    })
    const s = session(cfg)
    expect(s.send(subject(A, 'GS', '2.2'), 0).quarantine).toBe(false) // GS has no default
    expect(s.send(subject(A, 'IS', '2.2'), 1).quarantine).toBe(false)
    expect(s.send(subject(A, 'IS', '7.2'), 2).quarantine).toBe(false) // its own threshold for 7.2
    expect(s.send(subject(A, 'IS', '1.6'), 3)).toMatchObject({
      quarantine: true,
      breach: 'ADUserThresholdBreach',
      threshold: { role: 'IS', srv: '*', limit: 1 },
      count: 2, // its IS requests for 2.2 and 7.2, not the GS one
    })
    expect(s.send(subject(B, 'IS', '1.6'), 4).quarantine).toBe(false) // per User
  })

  it('threshold 0 quarantines every request; the default config does so for the SoLR Contingency role', () => {
    const s = session(DEFAULT_ANOMALY_CONFIG)
    expect(s.send(subject(A, 'SoLRC', '1.6'), 0)).toMatchObject({
      quarantine: true,
      breach: 'ADUserThresholdBreach',
      count: 0,
      reason: expect.stringContaining('threshold of 0 for all SRVs'),
    })
    expect(s.send(subject(A, 'IS', '1.6'), 0).quarantine).toBe(false)
  })

  it('DCC-wide thresholds count all Users, per SRV or all', () => {
    const perSrv = { srv: '7.2', limit: 2, windowMs: HOUR }
    const all = { srv: '*', limit: 3, windowMs: HOUR }
    const s = session(config({ dcc: [perSrv, all] }))
    expect(s.send(subject(A, 'IS', '7.2'), 0).quarantine).toBe(false)
    expect(s.send(subject(B, 'GS', '7.2'), 1).quarantine).toBe(false)
    expect(s.send(subject(B, 'GS', '7.2'), 2)).toMatchObject({
      breach: 'ADDCCThresholdBreach',
      threshold: perSrv,
      count: 2,
    })
    expect(s.send(subject(B, 'GS', '2.2'), 3).quarantine).toBe(false)
    expect(s.send(subject(A, 'IS', '1.6'), 4)).toMatchObject({
      breach: 'ADDCCThresholdBreach',
      threshold: all,
      count: 3,
    })
  })

  it('the window slides to the millisecond: a request exactly windowMs old no longer counts', () => {
    const s = session(config({ users: [{ user: A, srv: '7.2', limit: 2, windowMs: HOUR }] }))
    const sr = subject(A, 'IS', '7.2')
    expect(s.send(sr, 0).quarantine).toBe(false)
    expect(s.send(sr, 10 * MINUTE).quarantine).toBe(false)
    expect(s.send(sr, 20 * MINUTE)).toMatchObject({ quarantine: true, count: 2 })
    expect(s.send(sr, HOUR - 1)).toMatchObject({ quarantine: true, count: 2 })
    expect(s.send(sr, HOUR).quarantine).toBe(false) // the one at 0 has left: (HOUR − HOUR, HOUR]
    expect(s.send(sr, HOUR + 10 * MINUTE - 1)).toMatchObject({ quarantine: true, count: 2 })
    expect(s.send(sr, HOUR + 10 * MINUTE).quarantine).toBe(false)
  })

  it('a request timed before the latest counted one is taken as at that time', () => {
    const s = session(config({ users: [{ user: A, srv: '*', limit: 2, windowMs: HOUR }] }))
    const sr = subject(A, 'IS', '7.2')
    expect(s.send(sr, 2 * HOUR).quarantine).toBe(false)
    expect(s.send(sr, HOUR + 30 * MINUTE).quarantine).toBe(false) // counted at 2 h, not 1 h 30
    expect(s.state.latest).toBe(T0 + 2 * HOUR)
    expect(s.send(sr, 3 * HOUR - 1)).toMatchObject({ quarantine: true, count: 2 })
    expect(s.send(sr, 3 * HOUR).quarantine).toBe(false)
  })
})

describe('detectAnomaly: what it keeps', () => {
  it('records nothing no threshold reads: the default config keeps no state for a supplier', () => {
    const s0 = emptyAnomalyState()
    const s = session(DEFAULT_ANOMALY_CONFIG, s0)
    for (let i = 0; i < 1000; i++) s.send(subject(A, i % 2 ? 'IS' : 'GS', i % 3 ? '7.2' : '2.2'), i)
    expect(s.state).toBe(s0) // the very same object: nothing was copied
    expect(s.state).toEqual(emptyAnomalyState())
  })

  it('records a request only in the counters a threshold reads', () => {
    const cfg = config({
      users: [
        { user: A, srv: '7.2', limit: 100, windowMs: HOUR },
        { user: B, srv: '*', limit: 100, windowMs: HOUR },
      ],
      roleDefaults: [
        { role: 'IS', srv: '2.2', limit: 100, windowMs: HOUR },
        { role: 'GS', srv: '*', limit: 100, windowMs: HOUR },
        { role: 'SoLRC', srv: '*', limit: 0, windowMs: HOUR },
      ],
      dcc: [{ srv: '7.2', limit: 100, windowMs: HOUR }],
    })
    const s0 = emptyAnomalyState()
    const s = session(cfg, s0)
    s.send(subject(A, 'IS', '1.6'), 0) // no threshold of A's own, IS's default is for 2.2 only
    s.send(subject(A, 'ED', '7.2'), 0) // A's own 7.2 (any role) and the DCC's 7.2
    s.send(subject(A, 'IS', '2.2'), 0) // IS's 2.2 default
    s.send(subject(A, 'GS', '1.6'), 0) // GS's '*' default
    s.send(subject(A, 'GS', '7.2'), 0) // A's own 7.2, GS's '*' (counts every SRV), the DCC's 7.2
    s.send(subject(B, 'GS', '1.6'), 0) // B's own '*': GS's defaults never apply to B
    s.send(subject(B, 'SoLRC', '2.2'), 0) // B's own '*' overrides the SoLRC default
    const count = (log: AnomalyLog | undefined) => (log ? times(log).length : 0)
    expect(Object.keys(s.state.users).sort()).toEqual([A, B])
    expect(Object.fromEntries(Object.entries(s.state.users[A]!).map(([k, v]) => [k, count(v)]))).toEqual({
      '7.2': 2,
      'IS 2.2': 1,
      'GS *': 2,
    })
    expect(Object.fromEntries(Object.entries(s.state.users[B]!).map(([k, v]) => [k, count(v)]))).toEqual({
      '*': 2,
    })
    expect(Object.keys(s.state.dcc)).toEqual(['7.2'])
    expect(count(s.state.dcc['7.2'])).toBe(2)
    expect(s0).toEqual(emptyAnomalyState())
  })

  it('forgets times older than the longest window reading them: the state stays bounded', () => {
    const cfg = config({
      users: [
        { user: A, srv: '*', limit: 1_000_000, windowMs: 2 * SECOND },
        { user: A, srv: '*', limit: 50, windowMs: SECOND },
      ],
      dcc: [{ srv: '7.2', limit: 3, windowMs: 500 }],
    })
    const s = session(cfg)
    let accepted = 0
    // 20 000 requests 10 ms apart: 200 s, 100 of the longest windows.
    for (let i = 0; i < 20_000; i++)
      if (!s.send(subject(A, 'IS', i % 4 ? '2.2' : '7.2'), 10 * i).quarantine) accepted++
    expect(accepted).toBeGreaterThan(9_000)
    expect(logs(s.state).map(([key]) => key)).toEqual([`${A} *`, 'DCC 7.2'])
    for (const [key, log] of logs(s.state)) {
      expectWellFormed(log)
      // Held: the times in the longest window before the latest one, and at most a block's worth more.
      const dcc = key.startsWith('DCC')
      const latest = times(log).at(-1)!
      const live = times(log).filter((t) => t > latest - (dcc ? 500 : 2 * SECOND)).length
      expect(live, key).toBeLessThanOrEqual(dcc ? 3 : 100)
      expect(times(log).length, key).toBeLessThan(live + LOG_BLOCK)
    }
  })

  it('is pure: an old state is unchanged, and two states can go on from it separately', () => {
    const cfg = config({
      users: [{ user: A, srv: '*', limit: 1000, windowMs: HOUR }],
      dcc: [{ srv: '*', limit: 1000, windowMs: HOUR }],
    })
    const s = session(cfg)
    for (let i = 0; i < 3 * LOG_BLOCK + 5; i++) s.send(subject(A, 'IS', '7.2'), i)
    const base = s.state
    const snapshot = structuredClone(base)
    const left = session(cfg, base)
    const right = session(cfg, base)
    for (let i = 0; i < 2 * LOG_BLOCK; i++) {
      left.send(subject(A, 'IS', '7.2'), 1000 + i)
      right.send(subject(B, 'IS', '2.2'), 2000 + 2 * i)
    }
    expect(base).toEqual(snapshot)
    // Replaying from a copy gives the same states: neither branch saw the other's requests.
    const replay = session(cfg, structuredClone(snapshot))
    for (let i = 0; i < 2 * LOG_BLOCK; i++) replay.send(subject(B, 'IS', '2.2'), 2000 + 2 * i)
    expect(right.state).toEqual(replay.state)
    expect(times(left.state.users[A]!['*']!)).toHaveLength(5 * LOG_BLOCK + 5)
    expect(times(right.state.users[A]!['*']!)).toHaveLength(3 * LOG_BLOCK + 5)

    const one = config({ users: [{ user: A, srv: '*', limit: 1, windowMs: HOUR }] })
    const s0 = emptyAnomalyState()
    const r1 = detectAnomaly(one, s0, subject(A, 'IS', '7.2'), new Date(T0))
    expect(r1.decision.quarantine).toBe(false)
    expect(s0).toEqual(emptyAnomalyState())
    const r2 = detectAnomaly(one, r1.state, subject(A, 'IS', '7.2'), new Date(T0))
    expect(r2.decision).toMatchObject({ quarantine: true, quarantineEventRef: 1 })
    expect(detectAnomaly(one, r1.state, subject(A, 'IS', '7.2'), new Date(T0)).decision.quarantine).toBe(true)
  })
})

// --- against a naive reference: every accepted request's time, counted afresh each time ---

interface Request {
  user: string
  role: DuisRole
  srv: string
  /** Milliseconds after the previous request (negative: the clock went back). */
  step: number
}

function referenceDecisions(cfg: AnomalyConfig, requests: readonly Request[]) {
  const accepted: { user: string; role: DuisRole; srv: string; t: number }[] = []
  let clock = T0
  let latest = Number.NEGATIVE_INFINITY
  let quarantined = 0
  return requests.map((r) => {
    clock += r.step
    const t = Math.max(clock, latest)
    const applies = (th: VolumeThreshold) => th.srv === r.srv || th.srv === '*'
    const inWindow = (th: VolumeThreshold, whose: (a: (typeof accepted)[number]) => boolean) =>
      accepted.filter((a) => a.t > t - th.windowMs && (th.srv === '*' || a.srv === th.srv) && whose(a)).length
    const own = cfg.users.filter((th) => th.user === r.user && applies(th))
    const checks: (readonly [VolumeThreshold, number, 'ADUserThresholdBreach' | 'ADDCCThresholdBreach'])[] = [
      ...(own.length
        ? own.map((th) => [th, inWindow(th, (a) => a.user === r.user), 'ADUserThresholdBreach'] as const)
        : cfg.roleDefaults
            .filter((th) => th.role === r.role && applies(th))
            .map(
              (th) =>
                [
                  th,
                  inWindow(th, (a) => a.user === r.user && a.role === r.role),
                  'ADUserThresholdBreach',
                ] as const,
            )),
      ...cfg.dcc.filter(applies).map((th) => [th, inWindow(th, () => true), 'ADDCCThresholdBreach'] as const),
    ]
    const breach = checks.find(([th, count]) => count + 1 > th.limit)
    if (breach) {
      const [threshold, count, kind] = breach
      return { quarantine: true, breach: kind, threshold, count, quarantineEventRef: ++quarantined }
    }
    accepted.push({ user: r.user, role: r.role, srv: r.srv, t })
    // The clock is held back only by counted requests: those a threshold could ever read.
    const hasOwn = (srv: string) =>
      cfg.users.some((th) => th.user === r.user && (th.srv === srv || th.srv === '*'))
    if (
      own.length ||
      cfg.roleDefaults.some(
        (th) => th.role === r.role && applies(th) && (th.srv === '*' ? !hasOwn('*') : !hasOwn(r.srv)),
      ) ||
      cfg.dcc.some(applies)
    )
      latest = t
    return { quarantine: false }
  })
}

describe('detectAnomaly against a naive reference', () => {
  const users = [A, B]
  const roles: DuisRole[] = ['IS', 'GS', 'SoLRC']
  const srvs = ['1.6', '7.2', '2.2']
  const volume = (limit: fc.Arbitrary<number>, windowMs: fc.Arbitrary<number>) => ({
    srv: fc.constantFrom(...srvs, '*'),
    limit,
    windowMs,
  })
  const configArb = (limit: fc.Arbitrary<number>, windowMs: fc.Arbitrary<number>) =>
    fc.record({
      version: fc.constant(1 as const),
      users: fc.array(fc.record({ user: fc.constantFrom(...users), ...volume(limit, windowMs) }), {
        maxLength: 3,
      }),
      roleDefaults: fc.array(fc.record({ role: fc.constantFrom(...roles), ...volume(limit, windowMs) }), {
        maxLength: 3,
      }),
      dcc: fc.array(fc.record(volume(limit, windowMs)), { maxLength: 2 }),
    })
  const configs = fc.oneof(
    // Mostly small limits: many quarantines, windows from 1 ms to 3 s.
    configArb(
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 6 }) },
        { weight: 1, arbitrary: fc.integer({ min: 60, max: 300 }) },
      ),
      fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 100, max: 3000 })),
    ),
    // Large limits, short windows: counters fill blocks of LOG_BLOCK and forget them.
    configArb(fc.integer({ min: 60, max: 300 }), fc.integer({ min: 20, max: 2000 })),
  )
  const requestArb = fc.record({
    user: fc.constantFrom(...users),
    role: fc.constantFrom(...roles),
    srv: fc.constantFrom(...srvs),
    step: fc.oneof(
      { weight: 2, arbitrary: fc.constant(0) },
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
      { weight: 1, arbitrary: fc.integer({ min: -100, max: -1 }) },
    ),
  })

  it('makes the same decisions over random configurations and request sequences', () => {
    fc.assert(
      fc.property(
        configs,
        fc.array(requestArb, { minLength: 1, maxLength: 400, size: 'max' }),
        (cfg, requests) => {
          const expected = referenceDecisions(cfg, requests)
          let state = emptyAnomalyState()
          let clock = T0
          const actual = requests.map((r) => {
            clock += r.step
            const result = detectAnomaly(cfg, state, r, new Date(clock))
            state = result.state
            const { reason: _, ...decision } = result.decision as AnomalyDecision & { reason?: string }
            return decision
          })
          expect(actual).toEqual(expected)
          for (const [, log] of logs(state)) expectWellFormed(log)
        },
      ),
      // A long sequence shrinks slowly: report what shrinking reached within the time limit.
      { numRuns: 200, plugins: [fc.interruptAfterTimeLimit(30_000, { failOnInterrupt: true })] },
    )
  })
})

describe('anomaly configuration', () => {
  it('loads with clear errors', () => {
    expect(parseAnomalyConfig(JSON.parse(JSON.stringify(DEFAULT_ANOMALY_CONFIG)))).toEqual(
      DEFAULT_ANOMALY_CONFIG,
    )
    expect(() =>
      parseAnomalyConfig({
        version: 1,
        users: [{ user: 'x', srv: '7.2', limit: -1, windowMs: 10 }],
        dcc: [],
      }),
    ).toThrow(/users\[0\]\.limit.*\n.*users\[0\]\.user/s)
    expect(() =>
      parseAnomalyConfig({ version: 1, roleDefaults: [{ role: 'XX', srv: '*', limit: 0, windowMs: 1 }] }),
    ).toThrow(AnomalyConfigError)
  })
})

/**
 * A part of a scenario: the timeline events of one story (a Supplier's exit, a Change of
 * Supplier, …), their schemas and checks, and how they are played on a run. The runner (run.ts)
 * knows nothing of any story: for each setting it builds the fleet, asks every part that has
 * events in the setting's timeline to set itself up (the DCC configuration it needs, who answers
 * top-ups, whose households are counted), starts the fleet, lets each part schedule its events,
 * advances time, and at the end adds each part's metrics to the run's report.
 *
 * The parts are listed in parts.ts.
 */
import type { Eui64, Scheduler } from '@smetsim/core'
import type { DccConfig, DuisRequest, DuisResult } from '@smetsim/dcc'
import type { CryptoBackend } from '@smetsim/gbcs'
import type { Fleet } from '../build.ts'
import type { Premise } from '../premise.ts'
import type { FleetRun } from '../run.ts'

/** A timeline entry as read from the file: its `event` and that event's fields. */
export interface TimelineEvent {
  event: string
  [field: string]: unknown
}

/** JSON Schemas of the fields events use. */
export const FIELD = {
  duration: { type: 'string', minLength: 1, maxLength: 32 },
  name: { type: 'string', minLength: 1, maxLength: 200 },
  perDay: { type: 'integer', minimum: 1, maximum: 10_000_000 },
  share: { type: 'number', minimum: 0, maximum: 1 },
} as const

export interface ScenarioPart {
  /** The story, for messages. */
  name: string
  /** Each event this part plays: its fields' schemas (all required), and a sentence on what it does. */
  events: Record<string, { fields: Record<string, unknown>; optional?: Record<string, unknown> }>
  /** Events that may come at most once in a setting's timeline. */
  once?: readonly string[]
  /** What the schema cannot say about one setting's timeline (the part's events in it): problems. */
  check?(timeline: readonly TimelineEvent[]): string[]
  /** The metrics the part adds to a run's report (`metrics.<name>`), each with what it counts. */
  metrics?: Record<string, string>
  /**
   * Sets the part up for a setting whose timeline has some of its events, before the fleet starts.
   * `fleet` is the setting's own, built afresh.
   */
  setUp(c: SetUpContext): PartRun
}

export interface SetUpContext {
  fleet: Fleet
  /** The setting's whole timeline, shared events first. */
  timeline: readonly TimelineEvent[]
  /** The scenario's Shared Resource Provider. */
  srp: { name: string; eui: string }
  backend: CryptoBackend
  /** The fleet's start and the run's end, ms. */
  start: number
  end: number
  /** A Supplier by name or EUI in the fleet spec (throws ScenarioRunError). */
  supplierOf(text: string): { eui: Eui64; name: string }
}

export interface PartRun {
  /**
   * DCC configuration the part needs, combined with the other parts' (dccOfParts): `signers` are
   * joined; any other setting, or a signer's EUI, given by two parts is an error.
   */
  dcc?: Partial<Omit<DccConfig, 'transport' | 'now' | 'hanDeviceLog'>>
  /** Whether `supplier` answers a household's top-up request at `at` (every part must agree). */
  answers?(supplier: Eui64, at: number): boolean
  /** Whether a household tops up when a top-up falls due (every part must agree; households.ts `topsUp`). */
  topsUp?(premise: Premise, at: number): boolean
  /** The Supplier whose prepayment households the household figures count (default: all). */
  households?: { eui: Eui64; name: string }
  /** A sentence on what the part did in this setting, for the report when the setting has none. */
  description?: string
  /** Once the fleet runs: schedule the part's events. */
  play?(c: PlayContext): void
  /** At the end, before the fleet closes: the part's metrics (names from `metrics`). */
  finish?(c: PlayContext): Record<string, number>
}

export interface PlayContext {
  fleet: Fleet
  run: FleetRun
  scheduler: Scheduler
  start: number
  end: number
  /** Runs `f` at `t` (not before the start) on the run's scheduler. */
  at(t: number, f: (now: number) => void): void
  /**
   * Sends a Service Request through the DCC; its DUIS code is counted under `srv` in the report's
   * `commands`. `requestId` is made here, unique in the run: `<user>:<device>:<counter>`. The run
   * waits for every answer before it ends.
   */
  send(
    srv: string,
    user: string,
    device: string,
    request: Omit<DuisRequest, 'requestId'>,
  ): Promise<DuisResult>
  /**
   * The run waits for `work` before it ends, as it does for `send`'s answers: for work the part
   * starts itself (the DCC's due schedule runs), whose results it counts when they come.
   */
  awaits(work: Promise<unknown>): void
  /** From `from`, a day at a time, `each` on the next `perDay` of `items`, until they or the run end. */
  daily<T>(from: number, perDay: number, items: readonly T[], each: (item: T) => void): void
}

/** A meter of a premise, with the MPAN (ESME) or MPRN (GSME) it is registered under. */
export interface PremiseMeter {
  eui: Eui64
  type: 'ESME' | 'GSME'
  mpxn: string
}

/** A premise's meters: its ESME, then its GSME where it has gas (a GSME always comes with an MPRN). */
export function metersOf(p: Premise): PremiseMeter[] {
  const esme: PremiseMeter = { eui: p.esme, type: 'ESME', mpxn: p.mpan }
  return p.gsme && p.mprn ? [esme, { eui: p.gsme, type: 'GSME', mpxn: p.mprn }] : [esme]
}

/** The Supplier role a Service Request to a meter is sent in (DUIS: IS for an ESME, GS for a GSME). */
export function supplierRole(type: PremiseMeter['type']): 'IS' | 'GS' {
  return type === 'ESME' ? 'IS' : 'GS'
}

/** The entries of `timeline` for `event`, typed. */
export function eventsOf<E extends TimelineEvent>(timeline: readonly TimelineEvent[], event: string): E[] {
  return timeline.filter((e) => e.event === event) as E[]
}

/**
 * The DCC configuration of the parts in a run: each setting as the one part that gives it sets it,
 * `signers` joined. Two parts giving the same setting (or a signer for the same EUI) would have
 * the later one silently replace the earlier: that throws, naming both.
 */
export function dccOfParts(parts: readonly { name: string; run: PartRun }[]): NonNullable<PartRun['dcc']> {
  const dcc: Record<string, unknown> = {}
  const signers: Record<string, unknown> = {}
  const givenBy = new Map<string, string>()
  const claim = (key: string, part: string) => {
    const other = givenBy.get(key)
    if (other !== undefined) throw new Error(`parts '${other}' and '${part}' both set the DCC's ${key}`)
    givenBy.set(key, part)
  }
  for (const { name, run } of parts)
    for (const [key, value] of Object.entries(run.dcc ?? {})) {
      if (key !== 'signers') {
        claim(key, name)
        dcc[key] = value
        continue
      }
      for (const [eui, signer] of Object.entries(value as Record<string, unknown>)) {
        claim(`signer for ${eui}`, name)
        signers[eui] = signer
      }
    }
  if (Object.keys(signers).length) dcc.signers = signers
  return dcc as NonNullable<PartRun['dcc']>
}

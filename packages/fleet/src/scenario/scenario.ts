/**
 * A scenario file (issue 13): a fleet, the actors, a timeline of events in virtual time, the
 * control settings to run it under, and expectations on the results. YAML or JSON, checked
 * against SCENARIO_SCHEMA; every problem is reported with its field path and, for YAML, its line.
 *
 * Times are durations (`2d`, `36h`, `90m`: the `ms` package's form). The events come from the
 * scenario parts (parts.ts), each a story with its own events, documented in its module:
 * solr.ts (a Supplier's disorderly exit), cos.ts (a Change of Supplier), dp072.ts (DP072: a
 * stalled CoS), mp121.ts (MP121: commissioning after CoS), reads.ts (meter reads),
 * consumers.ts (households that stop topping up).
 *
 * `settings` are the control settings to run: each adds its own events to the shared timeline;
 * the run under each is reported under its name.
 */
import { Ajv } from 'ajv'
import { LineCounter, parseDocument } from 'yaml'
import { problemOf } from '../spec.ts'
import type { ConsumersEvent } from './consumers.ts'
import type { CosEvent } from './cos.ts'
import type { Dp072Event } from './dp072.ts'
import { durationMs } from './duration.ts'
import type { Mp121Event } from './mp121.ts'
import { FIELD, type TimelineEvent } from './part.ts'
import { PARTS, partOf } from './parts.ts'
import type { ReadsEvent } from './reads.ts'
import type { SolrEvent } from './solr.ts'

export { durationMs } from './duration.ts'

/** Every part's events. */
export type ScenarioEvent = SolrEvent | CosEvent | Dp072Event | Mp121Event | ReadsEvent | ConsumersEvent

export interface ScenarioSetting {
  description: string
  timeline: ScenarioEvent[]
}

export interface Scenario {
  version: 1
  name: string
  description: string
  /** A fleet spec (packages/fleet spec.ts); `--premises` and `--seed` override its own. */
  fleet: Record<string, unknown>
  /** The Shared Resource Provider that sends for the failing Supplier. */
  srp: { name: string; eui: string }
  /** Virtual time each run lasts, from the fleet's start. */
  duration: string
  /** How often households off supply are counted (the report's series). */
  sampleEvery: string
  /**
   * Run in real time by default (run.ts `speed`, `wan`): virtual time `speed` times as fast as the
   * wall clock, the hubs on an MQTT broker (`embedded`: aedes in-process; or a broker's URL).
   * Without it a scenario runs in virtual time, in-process; the CLI's --speed and --broker override.
   */
  realTime?: { speed: number; broker: string }
  timeline: ScenarioEvent[]
  settings: Record<string, ScenarioSetting>
  /** `<setting>.<metric> <op> <number | setting.metric>` (expect.ts). */
  expect: string[]
}

const { duration, name } = FIELD
const EVENTS = PARTS.flatMap((p) => Object.entries(p.events))
const eventSchema = (e: string, { fields, optional }: { fields: object; optional?: object }) => ({
  type: 'object',
  additionalProperties: false,
  required: ['event', ...Object.keys(fields)],
  properties: { event: { const: e }, ...fields, ...optional },
})

/** The JSON Schema of a scenario file (draft 2020-12 keywords that ajv 8 takes). */
export const SCENARIO_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'timeline', 'settings'],
  properties: {
    version: { const: 1, default: 1 },
    name,
    description: { type: 'string', maxLength: 4000, default: '' },
    fleet: { type: 'object', default: {} },
    srp: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'eui'],
      default: { name: 'Shared Resource Provider', eui: '90B3D51F30050000' },
      properties: { name, eui: { type: 'string', pattern: '^[0-9A-Fa-f]{16}$' } },
    },
    duration: { ...duration, default: '21d' },
    sampleEvery: { ...duration, default: '1h' },
    realTime: {
      type: 'object',
      additionalProperties: false,
      required: ['speed'],
      properties: {
        speed: { type: 'number', exclusiveMinimum: 0, maximum: 1e9 },
        broker: { type: 'string', minLength: 1, maxLength: 500, default: 'embedded' },
      },
    },
    timeline: { $ref: '#/$defs/timeline' },
    settings: {
      type: 'object',
      minProperties: 1,
      maxProperties: 16,
      propertyNames: { pattern: '^[a-z0-9][a-z0-9+_-]{0,39}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['timeline'],
        properties: {
          description: { type: 'string', maxLength: 4000, default: '' },
          timeline: { $ref: '#/$defs/timeline' },
        },
      },
    },
    expect: {
      type: 'array',
      maxItems: 100,
      items: { type: 'string', minLength: 1, maxLength: 400 },
      default: [],
    },
  },
  $defs: {
    timeline: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        required: ['event'],
        properties: {
          event: { enum: EVENTS.map(([e]) => e) },
        },
        oneOf: EVENTS.map(([e, f]) => eventSchema(e, f)),
      },
    },
  },
} as const

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true })
const validate = ajv.compile(SCENARIO_SCHEMA)

export interface ScenarioProblem {
  /** The field, as a path: `timeline[2].perDay`. */
  field: string
  message: string
  /** 1-based line in a YAML or JSON file, where known. */
  line?: number
}

export class ScenarioError extends Error {
  override name = 'ScenarioError'
  constructor(
    readonly source: string,
    readonly problems: ScenarioProblem[],
  ) {
    super(
      `${source}: ${problems.map((p) => `${p.line ? `line ${p.line}: ` : ''}${p.field}: ${p.message}`).join('; ')}`,
    )
  }
}

/**
 * Parses and checks a scenario file's text (YAML, of which JSON is a subset); `source` names it in
 * errors. Throws ScenarioError with every problem found; the scenario it returns has its defaults.
 */
export function parseScenario(text: string, source: string): Scenario {
  if (text.length > 1_000_000) throw new ScenarioError(source, [{ field: '(file)', message: 'over 1 MB' }])
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length)
    throw new ScenarioError(
      source,
      doc.errors.map((e) => ({
        field: '(file)',
        message: e.message.split('\n')[0]!,
        line: lines.linePos(e.pos[0]).line,
      })),
    )
  const data: unknown = doc.toJS({ maxAliasCount: 100 })
  const lineOf = (field: string): number | undefined => {
    const path = field
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .filter(Boolean)
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k))
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined
      if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line
    }
    return undefined
  }
  if (!validate(data)) {
    // A timeline entry fails every `oneOf` branch but one: report the branch its `event` names.
    const errors = validate.errors ?? []
    const problems = errors
      .filter((e) => e.keyword !== 'oneOf' && !(e.keyword === 'const' && e.instancePath.endsWith('/event')))
      .filter((e) => !isOtherBranch(e, data))
      .map(problemOf)
    throw new ScenarioError(
      source,
      dedupe(problems.length ? problems : errors.map(problemOf)).map((p) => ({
        ...p,
        line: lineOf(p.field),
      })),
    )
  }
  const scenario = data as unknown as Scenario
  const problems = crossChecks(scenario)
  if (problems.length)
    throw new ScenarioError(
      source,
      problems.map((p) => ({ ...p, line: lineOf(p.field) })),
    )
  return scenario
}

/** Whether an error belongs to a `oneOf` branch for another event than the entry's own. */
function isOtherBranch(e: { schemaPath: string; instancePath: string }, data: unknown): boolean {
  const m = /oneOf\/(\d+)\//.exec(e.schemaPath)
  if (!m) return false
  const branch = SCENARIO_SCHEMA.$defs.timeline.items.oneOf[Number(m[1])]!
  const entryPath = /^(.*\/timeline\/\d+)/.exec(e.instancePath)?.[1] ?? e.instancePath
  const entry = entryPath
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      data,
    )
  return (entry as { event?: unknown } | undefined)?.event !== branch.properties.event.const
}

const dedupe = (ps: { field: string; message: string }[]) =>
  ps.filter((p, i) => ps.findIndex((q) => q.field === p.field && q.message === p.message) === i)

/** The most samples a run takes (duration / sampleEvery). */
export const MAX_SAMPLES = 100_000

/** What the schema cannot say: durations that parse, and each part's checks of each setting. */
function crossChecks(s: Scenario): ScenarioProblem[] {
  const problems: ScenarioProblem[] = []
  const checkDuration = (field: string, v: string) => {
    if (durationMs(v) === undefined)
      problems.push({ field, message: `'${v}' is not a duration (like 2d, 36h, 90m)` })
  }
  checkDuration('duration', s.duration)
  checkDuration('sampleEvery', s.sampleEvery)
  const every = durationMs(s.sampleEvery)
  const length = durationMs(s.duration)
  if (every !== undefined && every < 60_000)
    problems.push({ field: 'sampleEvery', message: 'must be at least 1m' })
  // The report keeps every sample (its series): a bound on what a file can make a run hold.
  else if (every !== undefined && length !== undefined && length / every > MAX_SAMPLES)
    problems.push({
      field: 'sampleEvery',
      message: `${s.duration} / ${s.sampleEvery} is over ${MAX_SAMPLES} samples: sample less often`,
    })
  const checkTimeline = (path: string, t: readonly TimelineEvent[]) =>
    t.forEach((e, i) => {
      const spec = partOf(e.event)?.events[e.event]
      for (const [k, schema] of Object.entries({ ...spec?.fields, ...spec?.optional }))
        if (schema === duration && typeof e[k] === 'string') checkDuration(`${path}[${i}].${k}`, e[k])
    })
  checkTimeline('timeline', s.timeline)
  for (const [n, setting] of Object.entries(s.settings)) {
    checkTimeline(`settings.${n}.timeline`, setting.timeline)
    const all: TimelineEvent[] = [...s.timeline, ...setting.timeline]
    const field = `settings.${n}`
    for (const part of PARTS) {
      const own = all.filter((e) => e.event in part.events)
      if (!own.length) continue
      for (const once of part.once ?? [])
        if (own.filter((x) => x.event === once).length > 1)
          problems.push({ field, message: `'${once}' comes more than once` })
      for (const message of part.check?.(own) ?? []) problems.push({ field, message })
    }
    if (!all.length) problems.push({ field, message: 'has no events, in its own timeline or the shared one' })
  }
  return problems
}

/**
 * A scenario's expectations: `<setting>.<metric> <op> <number | setting.metric>`, e.g.
 * `mp134b.householdsDisconnected < baseline.householdsDisconnected` or
 * `baseline.householdHoursOffSupply > 0`. Metrics are a run report's numbers (report.ts):
 * `householdHoursOffSupply`, `householdsDisconnected`, `householdsOffAtEnd`, `topUps.<field>`,
 * `commands.<SRV>.<DUIS code>` (e.g. `commands.1.6.I0`, 0 when none came back so), and
 * `metrics.<name>`, a scenario part's count (part.ts; 0 when the part did not run in the setting).
 */
import { PARTS } from './parts.ts'
import type { ExpectationResult, RunReport } from './report.ts'

const OPS = ['<=', '>=', '==', '!=', '<', '>'] as const
type Op = (typeof OPS)[number]

export interface Expectation {
  text: string
  left: Operand
  op: Op
  right: Operand
}

type Operand = { value: number } | { setting: string; metric: string }

export class ExpectationError extends Error {
  override name = 'ExpectationError'
}

const TOP = ['householdHoursOffSupply', 'householdsDisconnected', 'householdsOffAtEnd'] as const
const TOP_UPS = ['attempts', 'unanswered', 'accepted', 'rejected'] as const
/** The runner's own (a real-time run's requests never answered) and the parts'. */
const METRICS = ['requestsUnanswered', ...PARTS.flatMap((p) => Object.keys(p.metrics ?? {}))]

function operand(text: string, settings: readonly string[], whole: string): Operand {
  if (/^-?\d+(\.\d+)?$/.test(text)) return { value: Number(text) }
  const dot = text.indexOf('.')
  const setting = text.slice(0, dot)
  const metric = text.slice(dot + 1)
  if (dot < 1 || !settings.includes(setting))
    throw new ExpectationError(
      `'${whole}': '${text}' is not a number or <setting>.<metric> (settings: ${settings.join(', ')})`,
    )
  const known =
    (TOP as readonly string[]).includes(metric) ||
    TOP_UPS.some((k) => metric === `topUps.${k}`) ||
    METRICS.some((k) => metric === `metrics.${k}`) ||
    /^commands\.\d+(\.\d+)*\.[A-Z][A-Za-z0-9]*$/.test(metric)
  if (!known)
    throw new ExpectationError(
      `'${whole}': unknown metric '${metric}' (${TOP.join(', ')}, topUps.<${TOP_UPS.join('|')}>, commands.<SRV>.<code>, metrics.<${METRICS.join('|')}>)`,
    )
  return { setting, metric }
}

/** Parses one expectation against the scenario's setting names; throws ExpectationError. */
export function parseExpectation(text: string, settings: readonly string[]): Expectation {
  const m = /^\s*(\S+)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/.exec(text)
  if (!m)
    throw new ExpectationError(
      `'${text}': expected '<setting>.<metric> <op> <value>', op one of ${OPS.join(' ')}`,
    )
  return { text, left: operand(m[1]!, settings, text), op: m[2] as Op, right: operand(m[3]!, settings, text) }
}

/** A metric's value in a run report (0 for a command outcome that never came). */
export function metricOf(run: RunReport, metric: string): number {
  if ((TOP as readonly string[]).includes(metric)) return run[metric as (typeof TOP)[number]]
  if (metric.startsWith('topUps.')) return run.topUps[metric.slice(7) as (typeof TOP_UPS)[number]]
  if (metric.startsWith('metrics.')) return run.metrics[metric.slice(8)] ?? 0
  const rest = metric.slice('commands.'.length)
  const cut = rest.lastIndexOf('.')
  return run.commands[rest.slice(0, cut)]?.[rest.slice(cut + 1)] ?? 0
}

export function checkExpectation(e: Expectation, runs: Record<string, RunReport>): ExpectationResult {
  const actual: Record<string, number> = {}
  const value = (o: Operand) => {
    if ('value' in o) return o.value
    const v = metricOf(runs[o.setting]!, o.metric)
    actual[`${o.setting}.${o.metric}`] = v
    return v
  }
  const a = value(e.left)
  const b = value(e.right)
  const ok = { '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b, '==': a === b, '!=': a !== b }[e.op]
  return { text: e.text, ok, actual }
}

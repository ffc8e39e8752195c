/**
 * The Non-Disablement Calendar: weekly periods (UTC) during which a prepayment meter must not
 * self-disconnect even when credit runs out (DOMAIN 2.4 rule 6).
 */

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** One weekly non-disablement period: weekday (0 = Sunday … 6 = Saturday, UTC), minutes of day [start, end). */
export interface NonDisablementPeriod {
  day: number
  start: number
  end: number
}

/** Weekday (0 = Sunday) of a UTC instant; 1970-01-01 was a Thursday. */
export function weekday(t: number): number {
  return (((Math.floor(t / DAY_MS) + 4) % 7) + 7) % 7
}

/** Whether t lies inside any of the periods (start inclusive, end exclusive). */
export function inNonDisablement(periods: readonly NonDisablementPeriod[], t: number): boolean {
  if (periods.length === 0) return false
  const dayStart = Math.floor(t / DAY_MS) * DAY_MS
  const wd = weekday(t)
  const ms = t - dayStart
  return periods.some((p) => p.day === wd && ms >= p.start * MINUTE_MS && ms < p.end * MINUTE_MS)
}

/** The first period edge (a start or an end) strictly after t, or undefined when there are no periods. */
export function nextNonDisablementEdge(
  periods: readonly NonDisablementPeriod[],
  t: number,
): number | undefined {
  if (periods.length === 0) return undefined
  const today = Math.floor(t / DAY_MS) * DAY_MS
  let best: number | undefined
  for (let d = 0; d <= 7 && best === undefined; d++) {
    const dayStart = today + d * DAY_MS
    const wd = weekday(dayStart)
    for (const p of periods) {
      if (p.day !== wd) continue
      for (const edge of [dayStart + p.start * MINUTE_MS, dayStart + p.end * MINUTE_MS]) {
        if (edge > t && (best === undefined || edge < best)) best = edge
      }
    }
  }
  return best
}

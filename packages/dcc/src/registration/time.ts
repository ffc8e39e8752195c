/** Effective dates: ISO 8601 text or a Date, kept as Date.toISOString text. 'YYYY-MM-DD' is 00:00 UTC (GB local midnight in reality; not modelled). */
export type When = Date | string

export function isoTime(when: When, what: string): string {
  const time = when instanceof Date ? when.getTime() : Date.parse(when)
  if (Number.isNaN(time)) throw new RangeError(`${what} is not a time: '${String(when)}'`)
  return new Date(time).toISOString()
}

/** The entry in effect at `at` in a list sorted by `from`: the last one whose from is at or before it. */
export function effectiveAt<T extends { from: string }>(
  history: readonly T[] | undefined,
  at: string,
): T | undefined {
  if (!history) return undefined
  let found: T | undefined
  for (const entry of history) {
    if (entry.from <= at) found = entry
    else break
  }
  return found
}

/** Inserts keeping `from` order; an entry with the same `from` replaces the old one (a correction). */
export function insertByFrom<T extends { from: string }>(history: T[], entry: T): void {
  const same = history.findIndex((e) => e.from === entry.from)
  if (same >= 0) {
    history[same] = entry
    return
  }
  const after = history.findIndex((e) => e.from > entry.from)
  if (after < 0) history.push(entry)
  else history.splice(after, 0, entry)
}

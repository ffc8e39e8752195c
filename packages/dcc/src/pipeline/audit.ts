/**
 * What the Service Audit Trail keeps of what a caller sent: a bounded, plain-JSON copy of a
 * request's parameters, whatever they are — nested however deep, as long as they like, not JSON at
 * all — so every request leaves its record and no caller can grow a SAT record without bound
 * (contract C2). Install codes are never written (SR 8.11, MP121), at any depth and whatever the SRV
 * claims to be (an SR 5.1 may carry an 8.11).
 *
 * The copy keeps at most AUDIT_LIMITS.depth levels, AUDIT_LIMITS.items array items and object
 * members per level, AUDIT_LIMITS.chars characters of a string (or key) and AUDIT_LIMITS.budget
 * characters in all; what is left out is marked in place and `truncated` says so, for the record's
 * detail (`parametersTruncated: true`). Pure, and it only ever reads as much of the input as it keeps.
 */
import type { JsonValue } from '../sat/record.ts'

export const AUDIT_LIMITS = Object.freeze({ depth: 8, items: 32, chars: 256, budget: 4096 })

/** The parameters as the SAT keeps them, and whether anything was left out or replaced. */
export function auditedParameters(parameters: unknown): { value: JsonValue; truncated: boolean } {
  let budget = AUDIT_LIMITS.budget
  let truncated = false
  const cut = (what: string): string => {
    truncated = true
    return `(${what})`
  }
  const text = (s: string): string => {
    const kept = s.length <= AUDIT_LIMITS.chars ? s : `${s.slice(0, AUDIT_LIMITS.chars)}…`
    if (kept !== s) truncated = true
    budget -= kept.length + 2
    return kept
  }
  function copy(value: unknown, depth: number): JsonValue {
    if (budget <= 0) return cut('omitted: over the audit budget')
    switch (typeof value) {
      case 'string':
        return text(value)
      case 'boolean':
        budget -= 5
        return value
      case 'number':
        budget -= 8
        return Number.isFinite(value) ? value : cut(`not JSON: ${value}`)
      case 'object':
        break
      default:
        return cut(`not JSON: a ${typeof value}`)
    }
    if (value === null) return null
    if (depth >= AUDIT_LIMITS.depth) return cut(`nested deeper than ${AUDIT_LIMITS.depth}: omitted`)
    budget -= 2
    if (Array.isArray(value)) {
      const items: JsonValue[] = []
      const n = Math.min(value.length, AUDIT_LIMITS.items)
      for (let i = 0; i < n && budget > 0; i++) items.push(copy(value[i], depth + 1))
      if (value.length > items.length) items.push(cut(`${value.length - items.length} more items`))
      return items
    }
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null)
      return cut(`not JSON: a ${String(proto?.constructor?.name ?? 'non-plain')} object`)
    const out: { [key: string]: JsonValue } = {}
    let kept = 0
    let more = false
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      if (kept >= AUDIT_LIMITS.items || budget <= 0) {
        more = true
        break
      }
      const k = text(key)
      const item = (value as Record<string, unknown>)[key]
      if (item === undefined) continue
      out[k] = key === 'installCode' ? '(redacted)' : copy(item, depth + 1)
      kept++
    }
    if (more) out['(truncated)'] = cut('more members omitted')
    return out
  }
  try {
    return { value: copy(parameters, 0), truncated }
  } catch (e) {
    // A getter or proxy that throws: nothing more can be read of it.
    return { value: `(unreadable: ${text(String((e as Error)?.message ?? e))})`, truncated: true }
  }
}

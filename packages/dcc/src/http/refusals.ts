/**
 * The SAT record of a request the HTTP layer refuses before the pipeline sees it (bad JSON, a
 * body over a limit, a field the schema refuses, a caller who may not do it): the DCC never
 * loses a request from its audit trail. Kind `request`, attributed to the authenticated caller,
 * with the RequestID when the body had a readable one. Bounded: every text is clipped (and
 * the record says so), and no body text is kept but the RequestID, SRV and role, so nothing
 * secret a body may hold (an install code, say) reaches the SAT.
 */
import type { Eui64 } from '@smetsim/core'
import { type JsonValue, normaliseRequestId, type SatEntry } from '../sat/record.ts'

export interface RefusedRequest {
  /** The caller the transport authenticated. */
  user: Eui64
  httpStatus: number
  reason: string
  method: string
  /** The URL path (no query). */
  path: string
  /** The body size the caller declared (content-length), if any. */
  bytes?: number
  /** The parsed body, when it parsed. */
  body?: unknown
}

/** Longest text a refusal record keeps of each field. */
export const REFUSAL_TEXT_LIMIT = 200

export function refusedRequestEntry(refused: RefusedRequest): SatEntry {
  let truncated = false
  const clip = (text: string, limit = REFUSAL_TEXT_LIMIT) => {
    if (text.length <= limit) return text
    truncated = true
    return `${text.slice(0, limit)}…`
  }
  const body = (typeof refused.body === 'object' && refused.body !== null ? refused.body : {}) as Record<
    string,
    unknown
  >
  const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined)
  let requestId: string | undefined
  const detail: { [key: string]: JsonValue } = {
    refusedBy: 'HTTP API',
    httpStatus: refused.httpStatus,
    reason: clip(refused.reason),
    method: clip(refused.method, 16),
    path: clip(refused.path),
  }
  if (refused.bytes !== undefined && Number.isSafeInteger(refused.bytes)) detail.bytes = refused.bytes
  const rawRequestId = text('requestId')
  if (rawRequestId !== undefined) {
    try {
      requestId = normaliseRequestId(rawRequestId)
    } catch {
      detail.requestIdText = clip(rawRequestId, 100)
    }
  }
  for (const key of ['srv', 'role'] as const) {
    const value = text(key)
    if (value !== undefined) detail[key] = clip(value, 32)
  }
  if (truncated) detail.truncated = true
  return { kind: 'request', user: refused.user, ...(requestId && { requestId }), detail }
}

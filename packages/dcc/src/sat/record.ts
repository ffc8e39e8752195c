/**
 * Service Audit Trail records: one per DUIS request, access-control decision, delivered
 * response, device alert and DCC alert. Each record carries the hash of the one before it, so
 * changing, removing or reordering any record breaks the chain at that point.
 *
 * Canonical form (what is hashed and what is stored): JSON with no white space, object keys in
 * ascending UTF-16 code-unit order (JavaScript's default sort) at every depth, properties whose
 * value is `undefined` left out, numbers as JSON.stringify writes them, strings as
 * JSON.stringify escapes them. `hash` = lower-case hex SHA-256 of the UTF-8 bytes of the
 * canonical form of the record without its `hash` property; `prevHash` = the previous record's
 * `hash`, or 64 zeros for seq 1. A stored line is the canonical form of the whole record
 * (`hash` included), so any other spelling of the same record is refused too.
 */
import { createHash } from 'node:crypto'
import { type Eui64, isEui, parseEui } from '@smetsim/core'
import { type DuisRole, isDuisRole } from '../roles.ts'

/** `hash` of the record before seq 1. */
export const GENESIS_HASH = '0'.repeat(64)

/** `installCode`: an install code lodged with or handed out by the install code register (MP121). */
export const SAT_KINDS = ['request', 'decision', 'response', 'alert', 'dccAlert', 'installCode'] as const
export type SatKind = (typeof SAT_KINDS)[number]

/** Plain JSON: what `detail` may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** What a caller appends; the SAT adds seq, at, prevHash and hash. */
export interface SatEntry {
  kind: SatKind
  /**
   * DUIS RequestID `originatorEUI:targetEUI:counter`, EUIs in any form parseEui accepts
   * (DUIS writes them with dashes); stored as 16 upper-case hex digits each and a decimal
   * counter. Required for requests, decisions and responses; an alert carries one only when it
   * relates to a request.
   */
  requestId?: string
  /** The User (EUI-64) that sent the request, or receives the response or alert. */
  user: string
  /** The Business Originator when it is not the sender (an SRP sending for a Supplier). */
  businessOriginator?: string
  role?: DuisRole
  /** Service Reference Variant, e.g. '1.6', '8.1.1'. */
  srv?: string
  /** The device (EUI-64) the request targets or the alert comes from. */
  device?: string
  /** DUIS response code ('I0', 'I99', 'E4', 'E120201'), DCC alert code ('N24', 'AD1') or device alert code ('8F0A'). */
  code?: string
  detail?: JsonValue
}

export interface SatRecord {
  readonly seq: number
  /** ISO 8601 UTC time the SAT took the record, as Date.toISOString writes it. */
  readonly at: string
  readonly kind: SatKind
  readonly requestId?: string
  readonly user: Eui64
  readonly businessOriginator?: Eui64
  readonly role?: DuisRole
  readonly srv?: string
  readonly device?: Eui64
  readonly code?: string
  readonly detail?: JsonValue
  readonly prevHash: string
  readonly hash: string
}

/** The end of a chain: the last record's seq and hash (seq 0 and GENESIS_HASH when empty). */
export interface ChainHead {
  seq: number
  hash: string
}

export const GENESIS: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_HASH })

const MAX_COUNTER = (1n << 64n) - 1n

/** Normalises a DUIS RequestID; throws a RangeError saying what is wrong. */
export function normaliseRequestId(text: string): string {
  const parts = text.split(':')
  if (parts.length !== 3) throw new RangeError(`not a DUIS RequestID (originator:target:counter): '${text}'`)
  const [originator, target, counter] = parts as [string, string, string]
  if (!/^\d{1,20}$/.test(counter) || BigInt(counter) > MAX_COUNTER)
    throw new RangeError(`DUIS RequestID counter is not a 64-bit decimal: '${text}'`)
  return `${parseEui(originator)}:${parseEui(target)}:${BigInt(counter)}`
}

/** The canonical JSON text of a JSON-plain value (see the module comment). Throws a TypeError on anything else. */
export function canonicalJson(value: unknown): string {
  return encode(value, '$')
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`not plain JSON at ${path}: ${value}`)
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) {
        const items: string[] = []
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw new TypeError(`not plain JSON at ${path}[${i}]: undefined`)
          items.push(encode(value[i], `${path}[${i}]`))
        }
        return `[${items.join(',')}]`
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null)
        throw new TypeError(`not plain JSON at ${path}: a ${proto?.constructor?.name ?? 'non-plain'} object`)
      const record = value as Record<string, unknown>
      const parts: string[] = []
      for (const key of Object.keys(record).sort()) {
        const item = record[key]
        if (item === undefined) continue
        parts.push(`${JSON.stringify(key)}:${encode(item, `${path}.${key}`)}`)
      }
      return `{${parts.join(',')}}`
    }
    default:
      throw new TypeError(`not plain JSON at ${path}: a ${typeof value}`)
  }
}

/** SHA-256 (lower-case hex) of the canonical form of a record without its `hash`. */
export function recordHash(record: Omit<SatRecord, 'hash'> | SatRecord): string {
  const { hash: _, ...body } = record as SatRecord
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex')
}

/**
 * Checks an entry and returns the record body it becomes (EUIs and RequestID normalised,
 * detail deep-copied through its canonical form). Throws a TypeError or RangeError naming the
 * field.
 */
export function normaliseEntry(entry: SatEntry): Omit<SatRecord, 'seq' | 'at' | 'prevHash' | 'hash'> {
  if (!(SAT_KINDS as readonly string[]).includes(entry.kind))
    throw new RangeError(`SAT entry kind must be one of ${SAT_KINDS.join(', ')}: '${entry.kind}'`)
  if (
    entry.requestId === undefined &&
    (entry.kind === 'request' || entry.kind === 'decision' || entry.kind === 'response')
  )
    throw new RangeError(`a SAT ${entry.kind} entry needs a DUIS requestId`)
  if (entry.role !== undefined && !isDuisRole(entry.role))
    throw new RangeError(`not a DUIS User Role: '${entry.role}'`)
  if (entry.srv !== undefined && !SRV.test(entry.srv))
    throw new RangeError(`not a Service Reference Variant: '${entry.srv}'`)
  if (entry.code !== undefined && !CODE.test(entry.code))
    throw new RangeError(`not a response or alert code: '${entry.code}'`)
  const body: Record<string, unknown> = {
    kind: entry.kind,
    requestId: entry.requestId === undefined ? undefined : normaliseRequestId(entry.requestId),
    user: parseEui(entry.user),
    businessOriginator:
      entry.businessOriginator === undefined ? undefined : parseEui(entry.businessOriginator),
    role: entry.role,
    srv: entry.srv,
    device: entry.device === undefined ? undefined : parseEui(entry.device),
    code: entry.code,
    detail: entry.detail === undefined ? undefined : JSON.parse(canonicalJson(entry.detail)),
  }
  for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key]
  return body as unknown as Omit<SatRecord, 'seq' | 'at' | 'prevHash' | 'hash'>
}

const SRV = /^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/
const CODE = /^[0-9A-Za-z]{1,16}$/
const HASH = /^[0-9a-f]{64}$/
const REQUEST_ID = /^[0-9A-F]{16}:[0-9A-F]{16}:(0|[1-9]\d*)$/
const FIELDS = new Set([
  'seq',
  'at',
  'kind',
  'requestId',
  'user',
  'businessOriginator',
  'role',
  'srv',
  'device',
  'code',
  'detail',
  'prevHash',
  'hash',
])

/** Links a new record to `head`: the pure step behind every append. */
export function sealRecord(head: ChainHead, entry: SatEntry, at: Date): SatRecord {
  const body = { ...normaliseEntry(entry), seq: head.seq + 1, at: at.toISOString(), prevHash: head.hash }
  return deepFreeze({ ...body, hash: recordHash(body) }) as SatRecord
}

/**
 * Why `value` is not a well-formed record that follows `prev`, or undefined if it is. Checks
 * the shape of every field, seq = prev.seq + 1, prevHash = prev.hash and the hash itself.
 */
export function recordProblem(value: unknown, prev: ChainHead): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const r = value as Record<string, unknown>
  for (const key of Object.keys(r)) if (!FIELDS.has(key)) return `unknown field '${key}'`
  if (r.seq !== prev.seq + 1) return `seq ${String(r.seq)} where ${prev.seq + 1} was expected`
  if (typeof r.at !== 'string' || Number.isNaN(Date.parse(r.at)) || new Date(r.at).toISOString() !== r.at)
    return 'at is not an ISO 8601 UTC time'
  if (!(SAT_KINDS as readonly unknown[]).includes(r.kind)) return `unknown kind '${String(r.kind)}'`
  if (r.requestId !== undefined && (typeof r.requestId !== 'string' || !REQUEST_ID.test(r.requestId)))
    return 'requestId is not a normalised DUIS RequestID'
  if (typeof r.user !== 'string' || !isEui(r.user)) return 'user is not an EUI-64'
  for (const key of ['businessOriginator', 'device'] as const)
    if (r[key] !== undefined && (typeof r[key] !== 'string' || !isEui(r[key])))
      return `${key} is not an EUI-64`
  if (r.role !== undefined && !isDuisRole(r.role)) return 'role is not a DUIS User Role'
  if (r.srv !== undefined && (typeof r.srv !== 'string' || !SRV.test(r.srv))) return 'srv is not an SRV'
  if (r.code !== undefined && (typeof r.code !== 'string' || !CODE.test(r.code))) return 'code is malformed'
  if (typeof r.prevHash !== 'string' || !HASH.test(r.prevHash)) return 'prevHash is not a SHA-256 hex digest'
  if (typeof r.hash !== 'string' || !HASH.test(r.hash)) return 'hash is not a SHA-256 hex digest'
  if (r.prevHash !== prev.hash) return `prevHash does not match the hash of seq ${prev.seq}`
  if (recordHash(r as unknown as SatRecord) !== r.hash) return 'hash does not match the record (altered)'
  return undefined
}

export interface ChainVerification {
  ok: boolean
  /** The first record that breaks the chain: the seq it should have, and why. */
  firstBad?: { seq: number; reason: string }
}

/** Verifies records in order from `start` (the genesis by default). */
export function verifyChain(records: Iterable<unknown>, start: ChainHead = GENESIS): ChainVerification {
  let head = start
  for (const record of records) {
    const reason = recordProblem(record, head)
    if (reason) return { ok: false, firstBad: { seq: head.seq + 1, reason } }
    const r = record as SatRecord
    head = { seq: r.seq, hash: r.hash }
  }
  return { ok: true }
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}

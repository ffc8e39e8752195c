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
import { hash } from 'node:crypto'
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
   * counter. Required for responses. A request or decision has one unless the request could
   * not be read (no RequestID, or one that is not a DUIS RequestID: the DCC still records what
   * arrived, with the unreadable text in `detail`). An alert carries one only when it relates
   * to a request.
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
/** A RequestID already in normal form whose counter (at most 19 digits) is certainly below 2^64. */
const NORMAL_REQUEST_ID = /^[0-9A-F]{16}:[0-9A-F]{16}:(?:0|[1-9]\d{0,18})$/
const COUNTER = /^\d{1,20}$/

/** Normalises a DUIS RequestID; throws a RangeError saying what is wrong. */
export function normaliseRequestId(text: string): string {
  if (typeof text === 'string' && NORMAL_REQUEST_ID.test(text)) return text
  const parts = text.split(':')
  if (parts.length !== 3) throw new RangeError(`not a DUIS RequestID (originator:target:counter): '${text}'`)
  const [originator, target, counter] = parts as [string, string, string]
  if (!COUNTER.test(counter) || BigInt(counter) > MAX_COUNTER)
    throw new RangeError(`DUIS RequestID counter is not a 64-bit decimal: '${text}'`)
  return `${parseEui(originator)}:${parseEui(target)}:${BigInt(counter)}`
}

/** parseEui, skipping its clean-up when the text is already 16 upper-case hex digits. */
function normaliseEui(text: string): Eui64 {
  return typeof text === 'string' && isEui(text) ? text : parseEui(text)
}

/** The canonical JSON text of a JSON-plain value (see the module comment). Throws a TypeError on anything else. */
export function canonicalJson(value: unknown): string {
  return encode(value, [])
}

/**
 * `path` holds the object keys and array indexes leading to `value`; it is spelt out ('$.a[0]')
 * only in an error message.
 */
function encode(value: unknown, path: (string | number)[]): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw notPlain(path, `${value}`)
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) {
        let text = '['
        for (let i = 0; i < value.length; i++) {
          path.push(i)
          if (value[i] === undefined) throw notPlain(path, 'undefined')
          text += i === 0 ? encode(value[i], path) : `,${encode(value[i], path)}`
          path.pop()
        }
        return `${text}]`
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null)
        throw notPlain(path, `a ${proto?.constructor?.name ?? 'non-plain'} object`)
      const record = value as Record<string, unknown>
      let text = '{'
      for (const key of Object.keys(record).sort()) {
        const item = record[key]
        if (item === undefined) continue
        path.push(key)
        text += `${text === '{' ? '' : ','}${JSON.stringify(key)}:${encode(item, path)}`
        path.pop()
      }
      return `${text}}`
    }
    default:
      throw notPlain(path, `a ${typeof value}`)
  }
}

/**
 * encode, also making the deep-frozen copy JSON.parse would make of its text (keys sorted,
 * undefined properties left out, -0 as 0), left in `copied`: one walk instead of encoding,
 * parsing and freezing.
 */
let copied: unknown
function encodeCopy(value: unknown, path: (string | number)[]): string {
  if (value === null || typeof value !== 'object') {
    const text = encode(value, path)
    copied = typeof value === 'number' && value === 0 ? 0 : value
    return text
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = []
    let text = '['
    for (let i = 0; i < value.length; i++) {
      path.push(i)
      if (value[i] === undefined) throw notPlain(path, 'undefined')
      text += i === 0 ? encodeCopy(value[i], path) : `,${encodeCopy(value[i], path)}`
      copy.push(copied)
      path.pop()
    }
    copied = Object.freeze(copy)
    return `${text}]`
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null)
    throw notPlain(path, `a ${proto?.constructor?.name ?? 'non-plain'} object`)
  const record = value as Record<string, unknown>
  const copy: Record<string, unknown> = {}
  let text = '{'
  for (const key of Object.keys(record).sort()) {
    const item = record[key]
    if (item === undefined) continue
    path.push(key)
    text += `${text === '{' ? '' : ','}${JSON.stringify(key)}:${encodeCopy(item, path)}`
    // An own '__proto__' (as JSON.parse makes it), not the prototype.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: copied,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    else copy[key] = copied
    path.pop()
  }
  copied = Object.freeze(copy)
  return `${text}}`
}

function notPlain(path: (string | number)[], what: string): TypeError {
  const at = path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('')
  return new TypeError(`not plain JSON at $${at}: ${what}`)
}

/** SHA-256 (lower-case hex) of the canonical form of a record without its `hash`. */
export function recordHash(record: Omit<SatRecord, 'hash'> | SatRecord): string {
  const { hash: _, ...body } = record as SatRecord
  return sha256Hex(canonicalJson(body))
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`. */
function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex')
}

type Writable<T> = { -readonly [K in keyof T]: T[K] }
type EntryFields = Omit<SatRecord, 'seq' | 'at' | 'prevHash' | 'hash'>

/**
 * Checks an entry and returns the record body it becomes (EUIs and RequestID normalised,
 * detail deep-copied through its canonical form). Throws a TypeError or RangeError naming the
 * field.
 */
export function normaliseEntry(entry: SatEntry): EntryFields {
  const { fields, detailJson } = checkEntry(entry, false)
  if (detailJson !== undefined) fields.detail = JSON.parse(detailJson)
  return fields
}

/**
 * The checks and normalisation behind normaliseEntry: the fields other than `detail`, in
 * record order, and the canonical text of `detail` (which the record's copy is parsed from).
 */
function checkEntry(
  entry: SatEntry,
  frozenCopy: boolean,
): { fields: Writable<EntryFields>; detailJson: string | undefined } {
  const { kind, requestId, role, srv, code } = entry
  if (!(SAT_KINDS as readonly string[]).includes(kind))
    throw new RangeError(`SAT entry kind must be one of ${SAT_KINDS.join(', ')}: '${kind}'`)
  if (requestId === undefined && kind === 'response')
    throw new RangeError(`a SAT ${kind} entry needs a DUIS requestId`)
  if (role !== undefined && !isDuisRole(role)) throw new RangeError(`not a DUIS User Role: '${role}'`)
  if (srv !== undefined && !SRV.test(srv)) throw new RangeError(`not a Service Reference Variant: '${srv}'`)
  if (code !== undefined && !CODE.test(code)) throw new RangeError(`not a response or alert code: '${code}'`)
  // Built in the order the record keeps its properties, leaving absent ones out.
  const fields: Writable<EntryFields> = { kind } as Writable<EntryFields>
  if (requestId !== undefined) fields.requestId = normaliseRequestId(requestId)
  fields.user = normaliseEui(entry.user)
  if (entry.businessOriginator !== undefined)
    fields.businessOriginator = normaliseEui(entry.businessOriginator)
  if (role !== undefined) fields.role = role
  if (srv !== undefined) fields.srv = srv
  if (entry.device !== undefined) fields.device = normaliseEui(entry.device)
  if (code !== undefined) fields.code = code
  if (entry.detail === undefined) return { fields, detailJson: undefined }
  if (!frozenCopy) return { fields, detailJson: canonicalJson(entry.detail) }
  const detailJson = encodeCopy(entry.detail, [])
  fields.detail = copied as JsonValue
  copied = undefined
  return { fields, detailJson }
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
  return seal(head, entry, at).record
}

/** sealRecord, also giving the record's canonical form (canonicalJson(record)): the line a SAT file stores. */
export function sealRecordText(
  head: ChainHead,
  entry: SatEntry,
  at: Date,
): { record: SatRecord; text: string } {
  const { record, detailJson } = seal(head, entry, at)
  return { record, text: canonicalRecordJson(record, detailJson) }
}

function seal(
  head: ChainHead,
  entry: SatEntry,
  at: Date,
): { record: SatRecord; detailJson: string | undefined } {
  const { fields, detailJson } = checkEntry(entry, true)
  const record = fields as Writable<SatRecord>
  record.seq = head.seq + 1
  record.at = at.toISOString()
  record.prevHash = head.hash
  // = recordHash(record), without canonicalising the detail a second time
  record.hash = sha256Hex(canonicalRecordJson(record, detailJson))
  return { record: Object.freeze(record), detailJson }
}

/**
 * canonicalJson(record) for a record whose `detail` has the canonical text `detailJson`. A
 * record's fields are a fixed set, so they are written here in ascending key order (as
 * canonicalJson sorts them) with that text spliced in, rather than walking and sorting the
 * whole record again. `at`, `kind`, `seq` and `user` are always present.
 */
function canonicalRecordJson(r: Partial<SatRecord>, detailJson: string | undefined): string {
  let text = `{"at":${json(r.at, 'at')}`
  if (r.businessOriginator !== undefined)
    text += `,"businessOriginator":${json(r.businessOriginator, 'businessOriginator')}`
  if (r.code !== undefined) text += `,"code":${json(r.code, 'code')}`
  if (detailJson !== undefined) text += `,"detail":${detailJson}`
  if (r.device !== undefined) text += `,"device":${json(r.device, 'device')}`
  if (r.hash !== undefined) text += `,"hash":${json(r.hash, 'hash')}`
  text += `,"kind":${json(r.kind, 'kind')}`
  if (r.prevHash !== undefined) text += `,"prevHash":${json(r.prevHash, 'prevHash')}`
  if (r.requestId !== undefined) text += `,"requestId":${json(r.requestId, 'requestId')}`
  if (r.role !== undefined) text += `,"role":${json(r.role, 'role')}`
  text += `,"seq":${json(r.seq, 'seq')}`
  if (r.srv !== undefined) text += `,"srv":${json(r.srv, 'srv')}`
  return `${text},"user":${json(r.user, 'user')}}`
}

/** The canonical text of a record field (a string, as a rule). */
function json(value: unknown, key: string): string {
  return typeof value === 'string' ? JSON.stringify(value) : encode(value, [key])
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

/**
 * sealRecord, recordHash and canonicalJson against a straightforward reference: the
 * implementation they replaced (canonicalise the whole record generically, deep-copy `detail`
 * through a second canonicalisation, deep-freeze afterwards). The faster code must give the same
 * record, the same canonical text, the same hash and the same error for every input.
 */
import { createHash } from 'node:crypto'
import { parseEui } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DUIS_ROLES, isDuisRole } from '../roles.ts'
import {
  type ChainHead,
  canonicalJson,
  GENESIS_HASH,
  type JsonValue,
  normaliseEntry,
  normaliseRequestId,
  recordHash,
  SAT_KINDS,
  type SatEntry,
  type SatRecord,
  sealRecord,
  sealRecordText,
} from './record.ts'

// ---- the reference ------------------------------------------------------------------------

const reference = (() => {
  const MAX_COUNTER = (1n << 64n) - 1n
  const SRV = /^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/
  const CODE = /^[0-9A-Za-z]{1,16}$/

  function normaliseRequestId(text: string): string {
    const parts = text.split(':')
    if (parts.length !== 3)
      throw new RangeError(`not a DUIS RequestID (originator:target:counter): '${text}'`)
    const [originator, target, counter] = parts as [string, string, string]
    if (!/^\d{1,20}$/.test(counter) || BigInt(counter) > MAX_COUNTER)
      throw new RangeError(`DUIS RequestID counter is not a 64-bit decimal: '${text}'`)
    return `${parseEui(originator)}:${parseEui(target)}:${BigInt(counter)}`
  }

  function canonicalJson(value: unknown): string {
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
          throw new TypeError(
            `not plain JSON at ${path}: a ${proto?.constructor?.name ?? 'non-plain'} object`,
          )
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

  function recordHash(record: Omit<SatRecord, 'hash'> | SatRecord): string {
    const { hash: _, ...body } = record as SatRecord
    return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex')
  }

  function normaliseEntry(entry: SatEntry): Omit<SatRecord, 'seq' | 'at' | 'prevHash' | 'hash'> {
    if (!(SAT_KINDS as readonly string[]).includes(entry.kind))
      throw new RangeError(`SAT entry kind must be one of ${SAT_KINDS.join(', ')}: '${entry.kind}'`)
    if (entry.requestId === undefined && entry.kind === 'response')
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

  function sealRecord(head: ChainHead, entry: SatEntry, at: Date): SatRecord {
    const body = { ...normaliseEntry(entry), seq: head.seq + 1, at: at.toISOString(), prevHash: head.hash }
    return deepFreeze({ ...body, hash: recordHash(body) }) as SatRecord
  }

  function deepFreeze<T>(value: T): T {
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
      Object.freeze(value)
      for (const item of Object.values(value)) deepFreeze(item)
    }
    return value
  }

  return { normaliseRequestId, canonicalJson, recordHash, normaliseEntry, sealRecord }
})()

// ---- comparing outcomes -------------------------------------------------------------------

/** What a call gives: its value, or the class and message of what it throws. */
function outcome<T>(f: () => T): { value: T } | { threw: string } {
  try {
    return { value: f() }
  } catch (e) {
    return { threw: `${(e as Error).constructor.name}: ${(e as Error).message}` }
  }
}

/** Every object in `value` frozen. */
function deeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen)
}

/**
 * Whether two values are the same plain data: same prototypes, same own keys in the same order,
 * primitives the same by Object.is. (Not toStrictEqual: it trips over an own `constructor` key.)
 */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  const keys = Reflect.ownKeys(a)
  const otherKeys = Reflect.ownKeys(b)
  return (
    keys.length === otherKeys.length &&
    keys.every(
      (key, i) =>
        key === otherKeys[i] &&
        same((a as Record<PropertyKey, unknown>)[key], (b as Record<PropertyKey, unknown>)[key]),
    )
  )
}

/** The same record: same properties in the same order at every depth, same values, as frozen. */
function expectSameRecord(actual: SatRecord, expected: SatRecord): void {
  expect(same(actual, expected)).toBe(true)
  expect(deeplyFrozen(actual)).toBe(true)
}

// ---- generators ---------------------------------------------------------------------------

const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'))

/** An EUI-64 as a caller may write it: any case, bare, DUIS dashes or spaces; now and then not one. */
const euiText = fc.oneof(
  { weight: 6, arbitrary: hex(8).map((h) => h.toUpperCase()) },
  { weight: 2, arbitrary: hex(8).map((h) => h.match(/../g)!.join('-').toUpperCase()) },
  { weight: 1, arbitrary: hex(8) },
  { weight: 1, arbitrary: hex(8).map((h) => h.match(/../g)!.join(' ')) },
  { weight: 1, arbitrary: fc.constantFrom('', '90B3D51F3001000', '90B3D51F30010000G', 'xyz') },
)

const counterText = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 1n << 66n }).map(String) },
  { weight: 1, arbitrary: fc.nat().map((n) => `00${n}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '9999999999999999999',
      '10000000000000000000',
      '18446744073709551615',
      '18446744073709551616',
      '',
      '-1',
      '1.5',
    ),
  },
)

const requestIdText = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(euiText, euiText, counterText).map((parts) => parts.join(':')) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a:b', '90B3D51F30010000:00DB120000000001', '1:2:3:4') },
)

/** Strings and object keys, with characters JSON has to escape and ones beyond the BMP. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '"',
      '\\',
      'a\nb',
      '\u0000',
      '\u001f',
      '\u2028',
      '\ud800',
      'é',
      '😀',
      '__proto__',
      'constructor',
      '0',
      '10',
      '2',
      '',
      'Z',
      'a',
      'ä',
    ),
  },
)

const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0x8f0a),
)

const { json: jsonValue } = fc.letrec<{ json: JsonValue }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(text, tie('json'), { maxKeys: 5 }),
  ),
}))

/** A `detail`: mostly an object like the pipeline's, now and then something canonicalJson refuses. */
const detail: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(text, jsonValue, { maxKeys: 8 }) },
  { weight: 2, arbitrary: jsonValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      { a: Number.NaN },
      { a: [1, undefined] },
      { a: { b: [{ c: Number.POSITIVE_INFINITY }] } },
      { when: new Date(0) },
      { n: 1n },
      { f: () => 1 },
      { skipped: undefined, kept: 1 },
    ) as fc.Arbitrary<JsonValue>,
  },
)

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 })

const entry: fc.Arbitrary<SatEntry> = fc
  .record({
    kind: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...SAT_KINDS) }, fc.constant('audit')),
    requestId: optional(requestIdText),
    user: euiText,
    businessOriginator: optional(euiText),
    role: optional(fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...DUIS_ROLES) }, fc.constant('XX'))),
    srv: optional(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('1.6', '7.2', '7.4', '8.1.1', '4.1.1', '11.2') },
        { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Za-z]{1,3}(\.[0-9A-Za-z]{1,3}){0,2}$/) },
        { weight: 1, arbitrary: fc.constantFrom('', '7.', '.7', '7 2', '7..2') },
      ),
    ),
    device: optional(euiText),
    code: optional(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('I0', 'I99', 'E4', 'E21', 'E120201', 'N24', 'AD1', '8F0A') },
        { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Za-z]{1,16}$/) },
        { weight: 1, arbitrary: fc.constantFrom('', 'E-4', '12345678901234567') },
      ),
    ),
    detail: optional(detail),
  })
  .map((e) => {
    // Leave absent fields out, as callers do (the record must not depend on which way).
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(e)) if (value !== undefined) out[key] = value
    return out as unknown as SatEntry
  })

const head: fc.Arbitrary<ChainHead> = fc.record({
  seq: fc.oneof({ weight: 9, arbitrary: fc.nat() }, fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.NaN)),
  hash: fc.oneof({ weight: 9, arbitrary: hex(32) }, fc.constant(GENESIS_HASH), text),
})

const at = fc.oneof(
  { weight: 19, arbitrary: fc.date({ noInvalidDate: true }) },
  fc.constant(new Date(Number.NaN)),
)

// ---- properties ---------------------------------------------------------------------------

describe('sealing a record matches the reference implementation', () => {
  it('gives the same record, canonical text and hash, or the same error, for any entry', () => {
    fc.assert(
      fc.property(head, entry, at, (h, e, t) => {
        const expected = outcome(() => reference.sealRecord(h, e, t))
        const actual = outcome(() => sealRecord(h, e, t))
        const withText = outcome(() => sealRecordText(h, e, t))
        if ('threw' in expected) {
          expect(actual).toEqual(expected)
          expect(withText).toEqual(expected)
          return
        }
        if (!('value' in actual) || !('value' in withText))
          throw new Error(`threw: ${JSON.stringify(actual)}`)
        expectSameRecord(actual.value, expected.value)
        expectSameRecord(withText.value.record, expected.value)
        expect(withText.value.text).toBe(reference.canonicalJson(expected.value))
        expect(actual.value.hash).toBe(reference.recordHash(expected.value))
        expect(recordHash(actual.value)).toBe(actual.value.hash)
      }),
      { numRuns: 3000 },
    )
  })

  it('normalises an entry as the reference does', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const expected = outcome(() => reference.normaliseEntry(e))
        const actual = outcome(() => normaliseEntry(e))
        if ('threw' in expected) expect(actual).toEqual(expected)
        else expect('value' in actual && same(actual.value, expected.value)).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('normalises a RequestID as the reference does', () => {
    fc.assert(
      fc.property(requestIdText, (id) => {
        expect(outcome(() => normaliseRequestId(id))).toEqual(outcome(() => reference.normaliseRequestId(id)))
      }),
      { numRuns: 2000 },
    )
  })

  it('canonicalises any value, and refuses any non-JSON one with the same message', () => {
    fc.assert(
      fc.property(fc.oneof(detail, fc.anything({ withBigInt: true, withDate: true, withMap: true })), (v) => {
        expect(outcome(() => canonicalJson(v))).toEqual(outcome(() => reference.canonicalJson(v)))
      }),
      { numRuns: 2000 },
    )
  })

  it('hashes any record-shaped object as the reference does', () => {
    fc.assert(
      fc.property(head, entry, at, jsonValue, (h, e, t, extra) => {
        const sealed = outcome(() => reference.sealRecord(h, e, t))
        fc.pre('value' in sealed)
        const record = { ...(sealed as { value: SatRecord }).value, detail: extra } as SatRecord
        expect(outcome(() => recordHash(record))).toEqual(outcome(() => reference.recordHash(record)))
      }),
      { numRuns: 500 },
    )
  })
})

/**
 * The three DLMS COSEM APDUs an ESME payload carries (GBCS 7.2.x, Green Book 9.3):
 *
 *   D9 Access-Request      command      <invoke:4> <date-time> <specs> <data>
 *   DA Access-Response     response     <invoke:4> <date-time> [<specs>] <data> <results>
 *   0F Data-Notification   alert        <invoke:4> <date-time> <body: Data>
 *
 * invoke is the long-invoke-id-and-priority (uint32, kept whole); date-time is an A-XDR octet
 * string, empty (00) in GBCS — `dateTime` (hex) is present in the structure only when it is
 * not empty. Lists are A-XDR SEQUENCE OF: a count in the A-XDR length form, then the items.
 *
 * Access-request-specification (choice byte, then):
 *   01 get / 02 set        class-id:2 instance-id:6 attribute-id:1
 *   03 action              class-id:2 instance-id:6 method-id:1
 *   04 get / 05 set with selection: the attribute descriptor, access-selector:1, parameters Data
 * Access-response-specification: 01 get / 02 set (data-access-result:1), 03 action
 * (action-result:1). The optional access-request-specification of a response is a presence
 * byte (00 absent, 01 present then the list).
 *
 * Instance ids (OBIS codes) are written 'a.b.c.d.e.f' with decimal groups, e.g.
 * '0.0.10.0.106.255'.
 */
import { toHex } from '@smetsim/core'
import { writeLength } from '../../codec/length.ts'
import { DecodeError, Reader } from '../../codec/reader.ts'
import { Writer } from '../../codec/writer.ts'
import type { FamilyCodec, Json } from '../types.ts'
import { type DlmsData, readData, readLength, writeData } from './data.ts'
import { arr, fail, hex, int, obj, str } from './json.ts'

export const ACCESS_REQUEST = 0xd9
export const ACCESS_RESPONSE = 0xda
export const DATA_NOTIFICATION = 0x0f

export type RequestSpec =
  | { kind: 'get' | 'set'; classId: number; instance: string; attribute: number }
  | { kind: 'action'; classId: number; instance: string; method: number }
  | {
      kind: 'getWithSelection' | 'setWithSelection'
      classId: number
      instance: string
      attribute: number
      selector: number
      parameters: DlmsData
    }

export interface ResponseSpec {
  kind: 'get' | 'set' | 'action'
  /** data-access-result (get, set) or action-result (action); see names.ts. */
  result: number
}

export interface AccessRequest {
  apdu: 'accessRequest'
  invokeId: number
  dateTime?: string
  specs: RequestSpec[]
  data: DlmsData[]
}

export interface AccessResponse {
  apdu: 'accessResponse'
  invokeId: number
  dateTime?: string
  /** The optional echo of the request's specifications; GBCS leaves it out. */
  requestSpecs?: RequestSpec[]
  data: DlmsData[]
  results: ResponseSpec[]
}

export interface DataNotification {
  apdu: 'dataNotification'
  invokeId: number
  dateTime?: string
  body: DlmsData
}

export type DlmsApdu = AccessRequest | AccessResponse | DataNotification

const REQUEST_KINDS = ['get', 'set', 'action', 'getWithSelection', 'setWithSelection'] as const
const RESPONSE_KINDS = ['get', 'set', 'action'] as const

// ---------------------------------------------------------------------------------------------
// OBIS

export function obisToString(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}.${b[4]}.${b[5]}`
}

export function obisFromString(s: string, path: string): Uint8Array {
  const parts = s.split('.')
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    fail(path, `expected an OBIS code 'a.b.c.d.e.f' (decimal groups 0..255), got '${s}'`)
  }
  return Uint8Array.from(parts.map(Number))
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes a DLMS APDU; the whole input must be consumed. `base` is its offset in the frame. */
export function decodeApdu(bytes: Uint8Array, base = 0): DlmsApdu {
  const r = new Reader(bytes, base)
  const tagAt = r.offset
  const tag = r.u8('APDU tag')
  const invokeId = r.u32('long-invoke-id-and-priority')
  // GBCS leaves the date-time empty: no view is made for none.
  const dtLength = readLength(r, 'date-time length')
  const dateTime = dtLength > 0 ? toHex(r.take(dtLength, 'date-time')) : undefined
  // Each structure is one literal, `dateTime` in its place only when there is one: a spread of a
  // head object followed by more keys is a slow path in node 20's V8 (a microsecond an object).
  let apdu: DlmsApdu
  if (tag === ACCESS_REQUEST) {
    const specs = readList(r, 'access-request-specification', readRequestSpec)
    const data = readList(r, 'data', readDataItem)
    apdu =
      dateTime === undefined
        ? { apdu: 'accessRequest', invokeId, specs, data }
        : { apdu: 'accessRequest', invokeId, dateTime, specs, data }
  } else if (tag === ACCESS_RESPONSE) {
    const presentAt = r.offset
    const present = r.u8('access-request-specification presence')
    if (present > 1)
      throw new DecodeError('optional access-request-specification flag must be 00 or 01', presentAt)
    const requestSpecs = present ? readList(r, 'access-request-specification', readRequestSpec) : undefined
    const data = readList(r, 'data', readDataItem)
    const results = readList(r, 'access-response-specification', readResponseSpec)
    // Keys in the order of the other structures: apdu, invokeId, dateTime?, requestSpecs?, …
    const response = { apdu: 'accessResponse', invokeId } as AccessResponse
    if (dateTime !== undefined) response.dateTime = dateTime
    if (requestSpecs) response.requestSpecs = requestSpecs
    response.data = data
    response.results = results
    apdu = response
  } else if (tag === DATA_NOTIFICATION) {
    const body = readData(r)
    apdu =
      dateTime === undefined
        ? { apdu: 'dataNotification', invokeId, body }
        : { apdu: 'dataNotification', invokeId, dateTime, body }
  } else {
    throw new DecodeError(`not a DLMS APDU: tag 0x${tag.toString(16).toUpperCase().padStart(2, '0')}`, tagAt)
  }
  r.end('the DLMS APDU')
  return apdu
}

const readDataItem = (r: Reader): DlmsData => readData(r)

function readList<T>(r: Reader, what: string, item: (r: Reader) => T): T[] {
  const n = readLength(r, `${what} count`)
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(item(r))
  return out
}

function readRequestSpec(r: Reader): RequestSpec {
  const at = r.offset
  const choice = r.u8('access-request-specification choice')
  const kind = REQUEST_KINDS[choice - 1]
  if (!kind) throw new DecodeError(`unknown access-request-specification choice ${choice}`, at)
  const classId = r.u16('class-id')
  const at6 = r.skip(6, 'instance-id')
  const b = r.bytes
  // As obisToString, read in place (no view of the six bytes).
  const instance = `${b[at6]}.${b[at6 + 1]}.${b[at6 + 2]}.${b[at6 + 3]}.${b[at6 + 4]}.${b[at6 + 5]}`
  const id = r.u8(kind === 'action' ? 'method-id' : 'attribute-id')
  if (kind === 'action') return { kind, classId, instance, method: id }
  if (kind === 'get' || kind === 'set') return { kind, classId, instance, attribute: id }
  const selector = r.u8('access-selector')
  return { kind, classId, instance, attribute: id, selector, parameters: readData(r) }
}

function readResponseSpec(r: Reader): ResponseSpec {
  const at = r.offset
  const choice = r.u8('access-response-specification choice')
  const kind = RESPONSE_KINDS[choice - 1]
  if (!kind) throw new DecodeError(`unknown access-response-specification choice ${choice}`, at)
  return { kind, result: r.u8(kind === 'action' ? 'action-result' : 'data-access-result') }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Encodes a structure (JSON, checked; a TypeError names the bad field). */
export function encodeApdu(structure: Json): Uint8Array {
  const o = obj(structure, 'structure')
  const w = new Writer()
  const apdu = str(o.apdu, 'structure.apdu')
  const tag =
    apdu === 'accessRequest'
      ? ACCESS_REQUEST
      : apdu === 'accessResponse'
        ? ACCESS_RESPONSE
        : apdu === 'dataNotification'
          ? DATA_NOTIFICATION
          : fail('structure.apdu', "expected 'accessRequest', 'accessResponse' or 'dataNotification'")
  w.u8(tag)
  w.u32(int(o.invokeId, 'structure.invokeId', 0, 0xffffffff))
  if (o.dateTime === undefined) w.u8(0)
  else {
    const dt = hex(o.dateTime, 'structure.dateTime')
    if (dt.length === 0) fail('structure.dateTime', 'leave dateTime out when there is none')
    writeLength(w, dt.length)
    w.bytes(dt)
  }
  if (tag === ACCESS_REQUEST) {
    writeList(w, o.specs, 'structure.specs', writeRequestSpec)
    writeList(w, o.data, 'structure.data', (w, x, p) => writeData(w, x, p))
  } else if (tag === ACCESS_RESPONSE) {
    if (o.requestSpecs === undefined) w.u8(0)
    else {
      w.u8(1)
      writeList(w, o.requestSpecs, 'structure.requestSpecs', writeRequestSpec)
    }
    writeList(w, o.data, 'structure.data', (w, x, p) => writeData(w, x, p))
    writeList(w, o.results, 'structure.results', writeResponseSpec)
  } else {
    writeData(w, o.body as Json, 'structure.body')
  }
  return w.finish()
}

function writeList(
  w: Writer,
  x: Json | undefined,
  path: string,
  item: (w: Writer, x: Json, path: string) => void,
) {
  const items = arr(x, path)
  writeLength(w, items.length)
  for (const [i, it] of items.entries()) item(w, it, `${path}[${i}]`)
}

function writeRequestSpec(w: Writer, x: Json, path: string): void {
  const o = obj(x, path)
  const kind = str(o.kind, `${path}.kind`)
  const choice = (REQUEST_KINDS as readonly string[]).indexOf(kind) + 1
  if (choice === 0) fail(`${path}.kind`, `expected one of ${REQUEST_KINDS.join(', ')}`)
  w.u8(choice)
  w.u16(int(o.classId, `${path}.classId`, 0, 0xffff))
  w.bytes(obisFromString(str(o.instance, `${path}.instance`), `${path}.instance`))
  if (kind === 'action') w.u8(int(o.method, `${path}.method`, 0, 255))
  else w.u8(int(o.attribute, `${path}.attribute`, 0, 255))
  if (kind === 'getWithSelection' || kind === 'setWithSelection') {
    w.u8(int(o.selector, `${path}.selector`, 0, 255))
    writeData(w, o.parameters as Json, `${path}.parameters`)
  }
}

function writeResponseSpec(w: Writer, x: Json, path: string): void {
  const o = obj(x, path)
  const kind = str(o.kind, `${path}.kind`)
  const choice = (RESPONSE_KINDS as readonly string[]).indexOf(kind) + 1
  if (choice === 0) fail(`${path}.kind`, `expected one of ${RESPONSE_KINDS.join(', ')}`)
  w.u8(choice)
  w.u8(int(o.result, `${path}.result`, 0, 255))
}

// ---------------------------------------------------------------------------------------------
// The family codec

export const dlmsFamily: FamilyCodec = {
  format: 'dlms',
  matches(bytes) {
    const t = bytes[0]
    return t === ACCESS_REQUEST || t === ACCESS_RESPONSE || t === DATA_NOTIFICATION
  },
  decode(bytes, _ctx, base) {
    return decodeApdu(bytes, base) as unknown as Json
  },
  encode(structure) {
    return encodeApdu(structure)
  },
}

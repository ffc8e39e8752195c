/**
 * The GBZ payload (GBCS 7.3, ZigBee SE over GBCS, used for the GSME): the structural layer of
 * the 'gbz' family.
 *
 *   command / response   0109 <count:1> <component>*count
 *   alert                0109 <count:1> <alert code:2> <time stamp:4> <component>*count
 *
 * A GBZ component (multi-octet header fields big-endian, ZCL fields little-endian):
 *
 *   <control:1> <cluster id:2> <length:2> <body: length octets>
 *   control   bit 0 last component, bit 1 encrypted, bit 4 from-date-time present
 *   body      [additional header: control:1 frame-counter:1]        when encrypted
 *             [from date-time: UTC seconds since 2000, uint32]      when bit 4
 *             ZCL header: <frame control:1> [manufacturer code:2] <sequence:1> <command id:1>
 *             plaintext: the ZCL command payload
 *             encrypted: <length:2> <security header:5> <ciphertext> <MAC:12>
 *   ZCL frame control: bits 0-1 frame type (0 general, 1 cluster-specific), bit 2
 *   manufacturer-specific, bit 3 direction (1 = server to client), bit 4 disable default response.
 *
 * Alerts with their own layout after the time stamp (by message code):
 *   0x00CD future-dated outcome (8F66/8F67): <length:1 = 14> <message code:2>
 *          <originator counter:8> <cluster id:2> <frame control:1> <command id:1>
 *   0x00CF firmware distribution receipt (8F72): DLMS octet-string 09 <length> <hash>
 *   0x00F2 meter integrity issue warning (81A0): <other info:2>
 *   (0x008B, the GCS53 billing-data-log alert, is the ordinary layout with one component.)
 */
import { fromHex, toHex } from '@smetsim/core'
import { readLength, writeLength } from '../../codec/length.ts'
import { DecodeError, Reader } from '../../codec/reader.ts'
import { Writer } from '../../codec/writer.ts'
import { arr, bool, fail, hex, int, type JsonObject, obj, str } from '../dlms/json.ts'
import type { FamilyCodec, Json, PayloadContext } from '../types.ts'
import { commandDef, readSchema, writeSchema } from './commands.ts'
import { hex4, isoToUtc, parseId, utcToIso } from './values.ts'

export const GBZ_PROFILE_ID = 0x0109

/** Message codes whose payload is not GBZ even if it were to start 01 09 (ASN.1, DLMS layouts). */
export const NOT_GBZ_MESSAGE_CODES: ReadonlySet<number> = new Set([
  0x0008, 0x000a, 0x000b, 0x000c, 0x000d, 0x000e, 0x000f, 0x0010, 0x0012, 0x0013, 0x0061, 0x007f, 0x008c,
  0x00ab, 0x00af, 0x00b2, 0x00ca, 0x00cb, 0x00cc, 0x00ce, 0x00d5, 0x00f0, 0x0128, 0x0129,
])

export const FUTURE_DATED_ALERT = 0x00cd
export const FIRMWARE_RECEIPT_ALERT = 0x00cf
export const INTEGRITY_WARNING_ALERT = 0x00f2

const LAST = 0x01
const ENCRYPTED = 0x02
const FROM_DATE_TIME = 0x10
const KNOWN_CONTROL = LAST | ENCRYPTED | FROM_DATE_TIME

const MANUFACTURER_SPECIFIC = 0x04
const TO_CLIENT = 0x08
const DISABLE_DEFAULT_RESPONSE = 0x10

// ---------------------------------------------------------------------------------------------
// ZCL frame control

const FRAME_TYPES = ['global', 'cluster'] as const

function frameControlToJson(fc: number): JsonObject {
  const t = fc & 3
  return {
    frameType: FRAME_TYPES[t] ?? t,
    direction: fc & TO_CLIENT ? 'toClient' : 'toServer',
    disableDefaultResponse: (fc & DISABLE_DEFAULT_RESPONSE) !== 0,
    ...(fc & 0xe0 && { frameControlReserved: fc >> 5 }),
  }
}

function frameControlFromJson(o: JsonObject, path: string): number {
  const ft = o.frameType
  const t =
    ft === 'global'
      ? 0
      : ft === 'cluster'
        ? 1
        : ft === 2 || ft === 3
          ? ft
          : fail(`${path}.frameType`, "expected 'global', 'cluster', 2 or 3")
  const d = o.direction
  if (d !== 'toServer' && d !== 'toClient') fail(`${path}.direction`, "expected 'toServer' or 'toClient'")
  let fc = t | (d === 'toClient' ? TO_CLIENT : 0)
  if (bool(o.disableDefaultResponse, `${path}.disableDefaultResponse`)) fc |= DISABLE_DEFAULT_RESPONSE
  if (o.frameControlReserved !== undefined)
    fc |= int(o.frameControlReserved, `${path}.frameControlReserved`, 1, 7) << 5
  return fc
}

// ---------------------------------------------------------------------------------------------
// Components

function gbzTime(r: Reader, what: string): string {
  return utcToIso(r.u32(what))
}

function readComponent(r: Reader, i: number): JsonObject {
  const what = `component ${i}`
  const control = r.u8(`${what} control field`)
  const cluster = r.u16(`${what} cluster id`)
  const length = r.u16(`${what} length`)
  const b = r.sub(length, `${what} (length ${length})`)
  const c: JsonObject = { clusterId: hex4(cluster), lastComponent: (control & LAST) !== 0 }
  if (control & ~KNOWN_CONTROL) c.controlReserved = control & ~KNOWN_CONTROL
  const encrypted = (control & ENCRYPTED) !== 0
  let additional: JsonObject | undefined
  if (encrypted) {
    additional = {
      additionalHeaderControl: b.u8(`${what} additional header control`),
      additionalHeaderFrameCounter: b.u8(`${what} additional header frame counter`),
    }
  }
  if (control & FROM_DATE_TIME) c.fromDateTime = gbzTime(b, `${what} from date-time`)
  const fc = b.u8(`${what} ZCL frame control`)
  Object.assign(c, frameControlToJson(fc))
  if (fc & MANUFACTURER_SPECIFIC)
    c.manufacturerCode = b.u8('manufacturer code') | (b.u8('manufacturer code') << 8)
  c.sequenceNumber = b.u8(`${what} ZCL sequence number`)
  const commandId = b.u8(`${what} ZCL command id`)
  c.commandId = commandId
  const dir = fc & TO_CLIENT ? 'toClient' : 'toServer'
  const known = commandDef(fc & 3, cluster, dir, commandId)
  if (known) c.command = known.name
  if (encrypted) {
    const n = b.u16(`${what} ciphered information length`)
    if (n !== b.remaining)
      b.fail(`${what}: ciphered information length ${n} but ${b.remaining} octets remain`)
    if (n < 5 + 12) b.fail(`${what}: ciphered information of ${n} octets is shorter than its header and MAC`)
    c.encrypted = {
      ...additional!,
      securityHeader: toHex(b.take(5)),
      ciphertext: toHex(b.take(n - 5 - 12)),
      mac: toHex(b.take(12)),
    }
  } else if (known) {
    c.payload = readSchema(b, known.schema, `${what} ${known.name}`)
    b.end(`${what} ${known.name}`)
  } else {
    c.payloadHex = toHex(b.rest())
  }
  return c
}

function writeComponent(w: Writer, x: unknown, path: string): void {
  const c = obj(x, path)
  const cluster = parseId(c.clusterId, `${path}.clusterId`)
  const encrypted = c.encrypted !== undefined
  let control = bool(c.lastComponent, `${path}.lastComponent`) ? LAST : 0
  if (encrypted) control |= ENCRYPTED
  if (c.fromDateTime !== undefined) control |= FROM_DATE_TIME
  if (c.controlReserved !== undefined) {
    const v = int(c.controlReserved, `${path}.controlReserved`, 1, 255)
    if (v & KNOWN_CONTROL) fail(`${path}.controlReserved`, 'holds only the bits other than 0, 1 and 4')
    control |= v
  }
  const body = new Writer()
  let e: JsonObject | undefined
  if (encrypted) {
    e = obj(c.encrypted, `${path}.encrypted`)
    body.u8(int(e.additionalHeaderControl, `${path}.encrypted.additionalHeaderControl`, 0, 255))
    body.u8(int(e.additionalHeaderFrameCounter, `${path}.encrypted.additionalHeaderFrameCounter`, 0, 255))
  }
  if (c.fromDateTime !== undefined) body.u32(isoToUtc(c.fromDateTime, `${path}.fromDateTime`))
  let fc = frameControlFromJson(c, path)
  if (c.manufacturerCode !== undefined) fc |= MANUFACTURER_SPECIFIC
  body.u8(fc)
  if (c.manufacturerCode !== undefined) {
    const m = int(c.manufacturerCode, `${path}.manufacturerCode`, 0, 0xffff)
    body.u8(m & 0xff).u8(m >> 8)
  }
  body.u8(int(c.sequenceNumber, `${path}.sequenceNumber`, 0, 255))
  const commandId = int(c.commandId, `${path}.commandId`, 0, 255)
  body.u8(commandId)
  const known = commandDef(fc & 3, cluster, fc & TO_CLIENT ? 'toClient' : 'toServer', commandId)
  if (c.command !== undefined && c.command !== known?.name) {
    fail(
      `${path}.command`,
      known ? `command ${commandId} here is '${known.name}'` : 'not a command this codec knows',
    )
  }
  if (e) {
    const sh = hex(e.securityHeader, `${path}.encrypted.securityHeader`, 5)
    const ct = hex(e.ciphertext, `${path}.encrypted.ciphertext`)
    const mac = hex(e.mac, `${path}.encrypted.mac`, 12)
    body
      .u16(5 + ct.length + 12)
      .bytes(sh)
      .bytes(ct)
      .bytes(mac)
  } else if (c.payload !== undefined) {
    if (!known) fail(`${path}.payload`, 'the command is not one this codec knows: give payloadHex')
    writeSchema(body, c.payload, known.schema, `${path}.payload`)
  } else {
    body.bytes(hex(c.payloadHex, `${path}.payloadHex`))
  }
  const b = body.finish()
  if (b.length > 0xffff) fail(path, 'component longer than 65535 octets')
  w.u8(control).u16(cluster).u16(b.length).bytes(b)
}

// ---------------------------------------------------------------------------------------------
// Special alert layouts

function readFutureDated(r: Reader): JsonObject {
  const n = r.u8('future-dated alert payload length')
  if (n !== 14 || r.remaining !== 14) r.fail(`future-dated alert payload length ${n}, expected 14`)
  const messageCode = hex4(r.u16('message code'))
  const counter = r.take(8, 'originator counter')
  const cluster = r.u16('cluster id')
  const fc = r.u8('ZCL frame control')
  const commandId = r.u8('ZCL command id')
  const known = commandDef(fc & 3, cluster, fc & TO_CLIENT ? 'toClient' : 'toServer', commandId)
  return {
    messageCode,
    originatorCounter: BigInt(`0x${toHex(counter)}`).toString(),
    clusterId: hex4(cluster),
    ...frameControlToJson(fc),
    ...(fc & MANUFACTURER_SPECIFIC && { manufacturerSpecific: true }),
    commandId,
    ...(known && { command: known.name }),
  }
}

function writeFutureDated(w: Writer, x: unknown, path: string): void {
  const o = obj(x, path)
  const code = parseId(o.messageCode, `${path}.messageCode`)
  const counterText = str(o.originatorCounter, `${path}.originatorCounter`)
  if (!/^\d+$/.test(counterText) || BigInt(counterText) >= 1n << 64n)
    fail(`${path}.originatorCounter`, 'expected a decimal string 0..2^64-1')
  const cluster = parseId(o.clusterId, `${path}.clusterId`)
  let fc = frameControlFromJson(o, path)
  if (o.manufacturerSpecific !== undefined && bool(o.manufacturerSpecific, `${path}.manufacturerSpecific`))
    fc |= MANUFACTURER_SPECIFIC
  const commandId = int(o.commandId, `${path}.commandId`, 0, 255)
  const known = commandDef(fc & 3, cluster, fc & TO_CLIENT ? 'toClient' : 'toServer', commandId)
  if (o.command !== undefined && o.command !== known?.name)
    fail(`${path}.command`, 'does not match commandId')
  w.u8(14)
    .u16(code)
    .bytes(fromHex(BigInt(counterText).toString(16).padStart(16, '0')))
  w.u16(cluster).u8(fc).u8(commandId)
}

// ---------------------------------------------------------------------------------------------
// Payload

export function decodeGbz(bytes: Uint8Array, ctx: PayloadContext, base = 0): JsonObject {
  const r = new Reader(bytes, base)
  const profile = r.u16('GBZ profile id')
  if (profile !== GBZ_PROFILE_ID) {
    throw new DecodeError(`GBZ profile id 0x${hex4(profile)}, expected 0x0109`, base)
  }
  const count = r.u8('GBZ component count')
  const out: JsonObject = {}
  if (ctx.cra === 'alert') {
    out.alertCode = hex4(r.u16('alert code'))
    out.timestamp = gbzTime(r, 'alert time stamp')
    const special =
      ctx.messageCode === FUTURE_DATED_ALERT ||
      ctx.messageCode === FIRMWARE_RECEIPT_ALERT ||
      ctx.messageCode === INTEGRITY_WARNING_ALERT
    if (special) {
      if (count !== 1) out.componentCount = count
      if (ctx.messageCode === FUTURE_DATED_ALERT) out.futureDatedCommand = readFutureDated(r)
      else if (ctx.messageCode === INTEGRITY_WARNING_ALERT) out.otherInfo = r.u16('other info')
      else {
        if (r.u8('octet-string tag') !== 0x09) r.fail('expected a DLMS octet-string (09) for the hash')
        out.manufacturerHash = toHex(r.take(readLength(r, 'hash length'), 'hash'))
      }
      r.end('GBZ alert')
      return out
    }
  }
  const components: Json[] = []
  for (let i = 0; i < count; i++) components.push(readComponent(r, i))
  out.components = components
  r.end('GBZ payload')
  return out
}

export function encodeGbz(structure: Json, ctx: PayloadContext): Uint8Array {
  const s = obj(structure, 'structure')
  const w = new Writer().u16(GBZ_PROFILE_ID)
  const alert = ctx.cra === 'alert'
  const head = (count: number) => {
    w.u8(count)
    if (alert) {
      w.u16(parseId(s.alertCode, 'structure.alertCode'))
      w.u32(isoToUtc(s.timestamp, 'structure.timestamp'))
    }
  }
  if (alert && ctx.messageCode === FUTURE_DATED_ALERT) {
    head(s.componentCount === undefined ? 1 : int(s.componentCount, 'structure.componentCount', 0, 255))
    writeFutureDated(w, s.futureDatedCommand, 'structure.futureDatedCommand')
  } else if (alert && ctx.messageCode === INTEGRITY_WARNING_ALERT) {
    head(s.componentCount === undefined ? 1 : int(s.componentCount, 'structure.componentCount', 0, 255))
    w.u16(int(s.otherInfo, 'structure.otherInfo', 0, 0xffff))
  } else if (alert && ctx.messageCode === FIRMWARE_RECEIPT_ALERT) {
    head(s.componentCount === undefined ? 1 : int(s.componentCount, 'structure.componentCount', 0, 255))
    const h = hex(s.manufacturerHash, 'structure.manufacturerHash')
    w.u8(0x09)
    writeLength(w, h.length)
    w.bytes(h)
  } else {
    const cs = arr(s.components, 'structure.components')
    if (cs.length > 255) fail('structure.components', 'at most 255 components')
    head(cs.length)
    cs.forEach((c, i) => {
      writeComponent(w, c, `structure.components[${i}]`)
    })
  }
  return w.finish()
}

export const gbzFamily: FamilyCodec = {
  format: 'gbz',
  matches: (bytes, ctx) =>
    bytes.length >= 2 &&
    bytes[0] === 0x01 &&
    bytes[1] === 0x09 &&
    !NOT_GBZ_MESSAGE_CODES.has(ctx.messageCode),
  decode: (bytes, ctx, base) => decodeGbz(bytes, ctx, base),
  encode: (structure, ctx) => encodeGbz(structure, ctx),
}

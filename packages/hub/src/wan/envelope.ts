/**
 * The WAN envelope: what travels on a hub's MQTT topics, CBOR-encoded (cbor-x) around the GBCS
 * bytes. Short keys keep it small; README.md documents the layout. Every message but `ack` and `hi`
 * has an `id`, unique per sender and connection lifetime; what the sender keeps for resending the
 * other end acknowledges end to end (`ack`), so a sender can resend what was not acknowledged after
 * a broker restart. A response that answers its command at once is not kept and not acknowledged:
 * the command it answers is the head end's to resend, and the hub answers a repeat with it again.
 *
 *   { t: 'cmd', id, g }                        DCC → hub: a GBCS command (g: bytes)
 *   { t: 'rsp', id, re, f, g, k? }             hub → DCC: the response to command `re`, from EUI f;
 *                                              k: true when the hub keeps it for resending (a
 *                                              response that did not answer its command at once)
 *   { t: 'alr', id, f, g }                     hub → DCC: a device, CHF or GPF alert (kept)
 *   { t: 'log', id, d, dt, ic, jt? }           DCC → hub: SR 8.11 add in the DCC's in-process form
 *                                              (device, device type, install code, join timeout s)
 *   { t: 'lgr', id, re, ok, j?, r? }           hub → DCC: its outcome (accepted, joined, reason)
 *   { t: 'ack', re, w? }                       either way: message `re` arrived (QoS 0); from the
 *                                              hub, w: true when a response follows (sent, or queued)
 *   { t: 'hi' }                                either way, on every (re)connect once subscribed:
 *                                              'send me again what I have not acknowledged'
 *
 * decodeEnvelope never throws: anything else (not CBOR, wrong shape, too large) comes back as an
 * error with a reason, which the receiver counts and drops.
 */
import { isEui } from '@smetsim/core'
import { Decoder, Encoder } from 'cbor-x'

export type Envelope =
  | { t: 'cmd'; id: number; g: Uint8Array }
  | { t: 'rsp'; id: number; re: number; f: string; g: Uint8Array; k?: boolean }
  | { t: 'alr'; id: number; f: string; g: Uint8Array }
  | { t: 'log'; id: number; d: string; dt: string; ic: Uint8Array; jt?: number }
  | { t: 'lgr'; id: number; re: number; ok: boolean; j?: boolean; r?: string }
  | { t: 'ack'; re: number; w?: boolean }
  | { t: 'hi' }

/** Envelopes above this size are refused unread (a GBCS frame is at most 16 KiB here, hub.ts). */
export const MAX_ENVELOPE_BYTES = 20 * 1024

export type EnvelopeError = 'oversized' | 'not-cbor' | 'bad-envelope'

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true })
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true })

export function encodeEnvelope(e: Envelope): Uint8Array {
  return encoder.encode(e)
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max

export function decodeEnvelope(
  bytes: Uint8Array,
): { ok: true; envelope: Envelope } | { ok: false; error: EnvelopeError } {
  if (bytes.length > MAX_ENVELOPE_BYTES) return { ok: false, error: 'oversized' }
  let v: unknown
  try {
    v = decoder.decode(bytes)
  } catch {
    return { ok: false, error: 'not-cbor' }
  }
  return isEnvelope(v) ? { ok: true, envelope: v } : { ok: false, error: 'bad-envelope' }
}

function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const e = v as Record<string, unknown>
  switch (e.t) {
    case 'cmd':
      return isId(e.id) && isBytes(e.g)
    case 'rsp':
      return (
        isId(e.id) &&
        isId(e.re) &&
        isText(e.f, 16) &&
        isEui(e.f) &&
        isBytes(e.g) &&
        (e.k === undefined || typeof e.k === 'boolean')
      )
    case 'alr':
      return isId(e.id) && isText(e.f, 16) && isEui(e.f) && isBytes(e.g)
    case 'log':
      return (
        isId(e.id) &&
        isText(e.d, 16) &&
        isEui(e.d) &&
        isText(e.dt, 16) &&
        isBytes(e.ic) &&
        (e.jt === undefined || isId(e.jt))
      )
    case 'lgr':
      return (
        isId(e.id) &&
        isId(e.re) &&
        typeof e.ok === 'boolean' &&
        (e.j === undefined || typeof e.j === 'boolean') &&
        (e.r === undefined || isText(e.r, 500))
      )
    case 'ack':
      return isId(e.re) && (e.w === undefined || typeof e.w === 'boolean')
    case 'hi':
      return true
    default:
      return false
  }
}

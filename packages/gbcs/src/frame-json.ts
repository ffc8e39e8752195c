/**
 * The JSON form of a GBCS frame that `smetsim gbcs decode` prints and `smetsim gbcs encode`
 * reads: hex for bytes, decimal strings for 64-bit counters, the payload decoded as far as
 * its codecs go. frameFromJson(frameToJson(f)) encodes to the same bytes as f.
 */
import { fromHex, parseEui, toHex } from '@smetsim/core'
import type { GbcsFrame, GeneralSigning, SignatureField, Supplementary } from './frame.ts'
import { messageCodeName } from './message-codes.ts'
import { decodePayload, encodePayload } from './payload/index.ts'
import type { Cra, DecodedPayload, Json } from './payload/types.ts'

export interface FrameJson {
  cra: Cra
  originatorCounter: string
  originator: string
  recipient: string
  dateTime?: string
  /** Four hex digits, e.g. "0051". */
  messageCode: string
  /** Informational: ignored by frameFromJson. */
  messageName?: string
  supplementary?: {
    remotePartyId: string
    remotePartyCounter?: string
    originatorCounter?: string
    keyAgreementCertificate?: string
  }
  payload: DecodedPayload & { error?: string }
  signature: { kind: 'absent' } | { kind: 'empty' } | { kind: 'ecdsa'; hex: string }
  /** Present exactly when the frame has its MAC header. */
  mac?: string
}

export function frameToJson(frame: GbcsFrame, base = 0): FrameJson {
  const s = frame.signing
  const name = messageCodeName(s.messageCode)
  const sup = s.supplementary
  return {
    cra: s.cra,
    originatorCounter: s.originatorCounter.toString(),
    originator: s.originator,
    recipient: s.recipient,
    ...(s.dateTime && { dateTime: toHex(s.dateTime) }),
    messageCode: hex4(s.messageCode),
    ...(name && { messageName: name }),
    ...(sup && {
      supplementary: {
        remotePartyId: sup.remotePartyId,
        ...(sup.remotePartyCounter !== undefined && {
          remotePartyCounter: sup.remotePartyCounter.toString(),
        }),
        ...(sup.originatorCounter !== undefined && { originatorCounter: sup.originatorCounter.toString() }),
        ...(sup.keyAgreementCertificate && { keyAgreementCertificate: toHex(sup.keyAgreementCertificate) }),
      },
    }),
    payload: decodePayload(s.content, { messageCode: s.messageCode, cra: s.cra }, base),
    signature: s.signature.kind === 'ecdsa' ? { kind: 'ecdsa', hex: toHex(s.signature.bytes) } : s.signature,
    ...(frame.mac && { mac: toHex(frame.mac) }),
  }
}

/** Throws a TypeError naming the field when the JSON is not a frame. */
export function frameFromJson(json: unknown): GbcsFrame {
  const j = object(json, 'frame')
  const cra = j.cra
  if (cra !== 'command' && cra !== 'response' && cra !== 'alert') {
    throw new TypeError("cra must be 'command', 'response' or 'alert'")
  }
  const messageCode = Number.parseInt(string(j.messageCode, 'messageCode'), 16)
  if (!(messageCode >= 0 && messageCode <= 0xffff)) throw new TypeError('messageCode must be 4 hex digits')
  const payload = object(j.payload, 'payload') as unknown as DecodedPayload
  const signing: GeneralSigning = {
    cra,
    originatorCounter: counter(j.originatorCounter, 'originatorCounter'),
    originator: parseEui(string(j.originator, 'originator')),
    recipient: parseEui(string(j.recipient, 'recipient')),
    ...(j.dateTime !== undefined && { dateTime: fromHex(string(j.dateTime, 'dateTime')) }),
    messageCode,
    ...(j.supplementary !== undefined && { supplementary: supplementaryFromJson(j.supplementary) }),
    content: encodePayload(payload, { messageCode, cra }),
    signature: signatureFromJson(j.signature),
  }
  return { signing, ...(j.mac !== undefined && { mac: fromHex(string(j.mac, 'mac')) }) }
}

function supplementaryFromJson(json: unknown): Supplementary {
  const s = object(json, 'supplementary')
  return {
    remotePartyId: parseEui(string(s.remotePartyId, 'supplementary.remotePartyId')),
    ...(s.remotePartyCounter !== undefined && {
      remotePartyCounter: counter(s.remotePartyCounter, 'supplementary.remotePartyCounter'),
    }),
    ...(s.originatorCounter !== undefined && {
      originatorCounter: counter(s.originatorCounter, 'supplementary.originatorCounter'),
    }),
    ...(s.keyAgreementCertificate !== undefined && {
      keyAgreementCertificate: fromHex(
        string(s.keyAgreementCertificate, 'supplementary.keyAgreementCertificate'),
      ),
    }),
  }
}

function signatureFromJson(json: unknown): SignatureField {
  const s = object(json, 'signature')
  if (s.kind === 'absent' || s.kind === 'empty') return { kind: s.kind }
  if (s.kind === 'ecdsa') return { kind: 'ecdsa', bytes: fromHex(string(s.hex, 'signature.hex')) }
  throw new TypeError("signature.kind must be 'absent', 'empty' or 'ecdsa'")
}

function object(v: unknown, what: string): Record<string, Json | undefined> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TypeError(`${what} must be an object`)
  return v as Record<string, Json>
}

function string(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`)
  return v
}

function counter(v: unknown, what: string): bigint {
  const text = typeof v === 'number' ? String(v) : string(v, what)
  if (!/^\d{1,20}$/.test(text)) throw new TypeError(`${what} must be a decimal counter`)
  const n = BigInt(text)
  if (n >= 1n << 64n) throw new TypeError(`${what} does not fit in 64 bits`)
  return n
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

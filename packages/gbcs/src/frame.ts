/**
 * The GBCS frame: a General-Ciphering APDU (tag 0xDD, the "MAC header") around a
 * General-Signing APDU (tag 0xDF, the "grouping header" plus content and signature),
 * followed by a 12-byte MAC. A Pre-Command (DUIS CV4) is a General-Signing block alone,
 * without the signature field; a signed command without MAC header is what a User returns
 * on CV5.
 *
 *   DD 00 00 00 00 00 00 <len> 11 00000000              MAC header: empty transaction id, system
 *                                                       titles, date-time, other-information and
 *                                                       key-info; ciphered-service length; security
 *                                                       header (control 0x11 = authenticated only,
 *                                                       invocation counter 0)
 *   DF 09 <CRA> <counter:8>                             transaction id: CRA flag 1 command,
 *                                                       2 response, 3 alert; originator counter
 *   08 <originator:8> 08 <recipient:8>                  system titles (EUI-64)
 *   00 | 0C <date-time:12>                              future-dated execution time, if any
 *   <len> <message code:2> [supplementary fields]       other-information
 *   <len> <content>                                     the use-case payload
 *   [00 | 40 <r‖s:64>]                                  signature field (absent in a Pre-Command)
 *   <MAC:12>                                            GMAC tag, when the MAC header is present
 *
 * Lengths are in the GBCS/DER definite form (see codec/length.ts). decode(encode(f)) = f and
 * encode(decode(b)) = b for every b that decode accepts; anything else is a DecodeError that
 * names the offset.
 */
import { allocBytes, type Eui64, euiFromBytes, type Result, readUintBE } from '@smetsim/core'
import { lengthSize, readLength, writeLength } from './codec/length.ts'
import { DecodeError, Reader } from './codec/reader.ts'
import { Writer } from './codec/writer.ts'
import { GBCS_KDF_ALGORITHM_ID, GBCS_OTHER_INFO_LENGTH } from './crypto/gbcs-crypto.ts'
import type { Cra } from './payload/types.ts'

export type { Cra }

export const GENERAL_CIPHERING_TAG = 0xdd
export const GENERAL_SIGNING_TAG = 0xdf
/** Security control byte of every GBCS MAC header: authentication only, no encryption. */
export const SECURITY_CONTROL = 0x11
export const MAC_LENGTH = 12
export const SIGNATURE_LENGTH = 64

const CRA_CODES: Record<Cra, number> = { command: 1, response: 2, alert: 3 }
const CRA_BY_CODE: Record<number, Cra> = { 1: 'command', 2: 'response', 3: 'alert' }

export function craCode(cra: Cra): number {
  return CRA_CODES[cra]
}

/**
 * The optional fields GBCS appends to other-information after the message code: a
 * supplementary remote party (e.g. the supplier whose top-up key protects a UTRN, or the
 * party a CS02b hands over to) with its counter, and then either a supplementary originator
 * counter or that party's key-agreement certificate.
 */
export interface Supplementary {
  remotePartyId: Eui64
  remotePartyCounter?: bigint
  originatorCounter?: bigint
  /** DER certificate, when other-information carries one instead of the originator counter. */
  keyAgreementCertificate?: Uint8Array
}

/** The signature field: absent (Pre-Command), present but empty (0x00), or ECDSA r‖s. */
export type SignatureField = { kind: 'absent' } | { kind: 'empty' } | { kind: 'ecdsa'; bytes: Uint8Array }

export interface GeneralSigning {
  cra: Cra
  originatorCounter: bigint
  originator: Eui64
  recipient: Eui64
  /** 12-byte DLMS date-time of a future-dated command, when present. */
  dateTime?: Uint8Array
  messageCode: number
  supplementary?: Supplementary
  content: Uint8Array
  signature: SignatureField
}

export interface GbcsFrame {
  signing: GeneralSigning
  /** The 12-byte MAC; present exactly when the frame has its MAC header (0xDD). */
  mac?: Uint8Array
}

// ---------------------------------------------------------------------------------------------
// Decoding

export function decodeFrame(bytes: Uint8Array): GbcsFrame {
  const r = new Reader(bytes)
  const tag = r.peek()
  if (tag !== GENERAL_CIPHERING_TAG && tag !== GENERAL_SIGNING_TAG) {
    r.fail(`not a GBCS frame: tag 0x${hex2(tag)}, expected 0xDD or 0xDF`)
  }
  const frame = tag === GENERAL_CIPHERING_TAG ? readGeneralCiphering(r) : { signing: readGeneralSigning(r) }
  r.end('the frame')
  return frame
}

/** decodeFrame without throwing: errors are data at package boundaries. */
export function tryDecodeFrame(bytes: Uint8Array): Result<GbcsFrame, DecodeError> {
  try {
    return { ok: true, value: decodeFrame(bytes) }
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e }
    throw e
  }
}

/** The MAC header's general-ciphering fields GBCS leaves empty, in order. */
const EMPTY_CIPHERING_FIELDS = [
  'transaction-id',
  'originator-system-title',
  'recipient-system-title',
  'date-time',
  'other-information',
  'key-info',
] as const

function readGeneralCiphering(r: Reader): GbcsFrame {
  r.u8()
  for (const field of EMPTY_CIPHERING_FIELDS) {
    if (r.u8(field) !== 0) {
      r.fail(`MAC header ${field} must be empty in GBCS`)
    }
  }
  const length = readLength(r, 'ciphered-service length')
  const body = r.sub(length, 'ciphered service')
  if (body.u8('security control') !== SECURITY_CONTROL) {
    body.fail(`security control must be 0x11 (authenticated, not encrypted)`)
  }
  if (body.u32('invocation counter') !== 0) body.fail('invocation counter must be 0 in GBCS')
  if (body.remaining < MAC_LENGTH) body.fail(`ciphered service too short for the ${MAC_LENGTH}-byte MAC`)
  const signing = readGeneralSigning(body.sub(body.remaining - MAC_LENGTH, 'general-signing'))
  const macAt = body.skip(MAC_LENGTH, 'MAC')
  const mac = body.bytes.slice(macAt, macAt + MAC_LENGTH) // a copy, with no view made first
  return { signing, mac }
}

/**
 * The bytes each decoded General-Signing block arrived as, kept on the very object decodeFrame
 * returned (frozen) in a private field: signedBytes, macAad and the KDF's OtherInfo reuse them
 * instead of encoding the block again (a device checks every command it receives). A copy made by
 * spreading the object does not carry them (spread copies own enumerable properties only), so it
 * is encoded afresh. The copy is laid out as the MAC's additional authenticated data — six header
 * bytes, then the block — and the signing's content, date-time and signature are views into it,
 * so even an in-place change to them cannot make the two disagree. (A private class field rather
 * than a non-enumerable symbol set by Object.defineProperty, which cost about five times the
 * object itself, or a WeakMap, whose entry per received frame made every garbage collection walk
 * them.)
 */
/** Bytes before the block in a received copy: security control, invocation counter, a zero byte. */
const AAD_HEADER = 6

interface Received {
  /** Security header (0x11, invocation counter 0), one zero byte, then the whole block. */
  aad: Uint8Array
  /** End of the signed bytes (end of the content) within the block. */
  signedEnd: number
}

/**
 * A decoded block: the GeneralSigning fields as own enumerable properties, in the order of the
 * interface, and the received bytes in a private field.
 */
class ReceivedSigning {
  readonly #received: Received
  // `declare`: no field initialisers, so an absent optional field is no own property at all.
  declare cra: Cra
  declare originatorCounter: bigint
  declare originator: Eui64
  declare recipient: Eui64
  declare dateTime?: Uint8Array
  declare messageCode: number
  declare supplementary?: Supplementary
  declare content: Uint8Array
  declare signature: SignatureField

  constructor(
    received: Received,
    cra: Cra,
    originatorCounter: bigint,
    originator: Eui64,
    recipient: Eui64,
    dateTime: Uint8Array | undefined,
    messageCode: number,
    supplementary: Supplementary | undefined,
    content: Uint8Array,
    signature: SignatureField,
  ) {
    this.#received = received
    this.cra = cra
    this.originatorCounter = originatorCounter
    this.originator = originator
    this.recipient = recipient
    if (dateTime !== undefined) this.dateTime = dateTime
    this.messageCode = messageCode
    if (supplementary !== undefined) this.supplementary = supplementary
    this.content = content
    this.signature = signature
  }

  static of(s: GeneralSigning): Received | undefined {
    return #received in s ? (s as ReceivedSigning).#received : undefined
  }
}

function received(s: GeneralSigning): Received | undefined {
  return ReceivedSigning.of(s)
}

function readGeneralSigning(r: Reader): GeneralSigning {
  const start = r.offset
  if (r.u8('general-signing tag') !== GENERAL_SIGNING_TAG) {
    r.fail('expected the general-signing tag 0xDF')
  }
  if (r.u8('transaction-id length') !== 9) r.fail('transaction-id length must be 9')
  const craAt = r.offset
  const cra = CRA_BY_CODE[r.u8('CRA flag')]
  if (!cra) throw new DecodeError('CRA flag must be 1, 2 or 3', craAt)
  const originatorCounter = r.u64('originator counter')
  const originator = readSystemTitle(r, 'originator system title')
  const recipient = readSystemTitle(r, 'recipient system title')
  const dateTimeLength = r.u8('date-time length')
  const dateTimeAt = r.offset
  if (dateTimeLength === 12) r.skip(12, 'date-time')
  else if (dateTimeLength !== 0) r.fail(`date-time length must be 0 or 12, got ${dateTimeLength}`)
  const otherLength = readLength(r, 'other-information length')
  let messageCode: number
  let supplementary: Supplementary | undefined
  if (otherLength === 2 && r.remaining >= 2) messageCode = r.u16('message code')
  else {
    const other = r.sub(otherLength, 'other-information')
    messageCode = other.u16('message code')
    supplementary = other.done ? undefined : readSupplementary(other)
  }
  const contentLength = readLength(r, 'content length')
  const contentAt = r.offset
  r.skip(contentLength, 'content')
  const signedEnd = r.offset
  const signature = readSignatureField(r)
  r.end('the general-signing block')

  return receivedSigning(r.bytes.subarray(start - r.base, r.offset - r.base), {
    cra,
    originatorCounter,
    originator,
    recipient,
    messageCode,
    supplementary,
    dateTimeAt: dateTimeLength === 12 ? dateTimeAt - start : undefined,
    contentAt: contentAt - start,
    contentLength,
    signedEnd: signedEnd - start,
    signature,
  })
}

/**
 * The decoded General-Signing block, from the bytes it arrived as (`block`, from its 0xDF tag to
 * the end of its signature field) and its fields; offsets are within `block`. One copy of the
 * block is made, after room for the MAC's header, and the byte fields are views into it.
 */
function receivedSigning(
  block: Uint8Array,
  f: {
    cra: Cra
    originatorCounter: bigint
    originator: Eui64
    recipient: Eui64
    messageCode: number
    supplementary: Supplementary | undefined
    dateTimeAt: number | undefined
    contentAt: number
    contentLength: number
    signedEnd: number
    signature: SignatureField['kind']
  },
): GeneralSigning {
  const aad = allocBytes(AAD_HEADER + block.length)
  aad[0] = SECURITY_CONTROL // then invocation counter 0 and one zero byte
  aad.set(block, AAD_HEADER)
  const { dateTimeAt, supplementary } = f
  const at = AAD_HEADER
  const content = aad.subarray(f.contentAt + at, f.contentAt + at + f.contentLength)
  const signature =
    f.signature === 'ecdsa'
      ? Object.freeze({ kind: 'ecdsa' as const, bytes: aad.subarray(aad.length - SIGNATURE_LENGTH) })
      : f.signature === 'empty'
        ? EMPTY_SIGNATURE
        : ABSENT_SIGNATURE
  const dateTime = dateTimeAt === undefined ? undefined : aad.subarray(dateTimeAt + at, dateTimeAt + at + 12)
  const sup = supplementary && Object.freeze(supplementary)
  // A block carrying a key-agreement certificate is not kept as received: encoded afresh when needed.
  if (supplementary?.keyAgreementCertificate) {
    const signing: GeneralSigning = {
      cra: f.cra,
      originatorCounter: f.originatorCounter,
      originator: f.originator,
      recipient: f.recipient,
      ...(dateTime && { dateTime }),
      messageCode: f.messageCode,
      supplementary: sup,
      content,
      signature,
    }
    return signing
  }
  const kept: Received = { aad, signedEnd: f.signedEnd }
  return Object.freeze(
    new ReceivedSigning(
      kept,
      f.cra,
      f.originatorCounter,
      f.originator,
      f.recipient,
      dateTime,
      f.messageCode,
      sup,
      content,
      signature,
    ),
  )
}

const EMPTY_SIGNATURE: SignatureField = Object.freeze({ kind: 'empty' })
const ABSENT_SIGNATURE: SignatureField = Object.freeze({ kind: 'absent' })

function readSystemTitle(r: Reader, what: string): Eui64 {
  if (r.u8(`${what} length`) !== 8) r.fail(`${what} length must be 8`)
  return euiAt(r.bytes, r.skip(8, what))
}

/** Character codes of the 16 upper-case hex digits. */
const HEX_CODES = Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0))

/**
 * The EUI-64 in `b` at `i` as 16 upper-case hex digits (euiFromBytes's text), made as one flat
 * string: two of them are read from every frame.
 */
function euiAt(b: Uint8Array, i: number): Eui64 {
  const h = HEX_CODES
  return String.fromCharCode(
    h[b[i]! >> 4]!,
    h[b[i]! & 15]!,
    h[b[i + 1]! >> 4]!,
    h[b[i + 1]! & 15]!,
    h[b[i + 2]! >> 4]!,
    h[b[i + 2]! & 15]!,
    h[b[i + 3]! >> 4]!,
    h[b[i + 3]! & 15]!,
    h[b[i + 4]! >> 4]!,
    h[b[i + 4]! & 15]!,
    h[b[i + 5]! >> 4]!,
    h[b[i + 5]! & 15]!,
    h[b[i + 6]! >> 4]!,
    h[b[i + 6]! & 15]!,
    h[b[i + 7]! >> 4]!,
    h[b[i + 7]! & 15]!,
  ) as Eui64
}

function readSupplementary(r: Reader): Supplementary {
  const remotePartyId = euiFromBytes(r.take(8, 'supplementary remote party id'))
  if (r.done) return { remotePartyId }
  const remotePartyCounter = readUintBE(r.take(8, 'supplementary remote party counter'))
  if (r.done) return { remotePartyId, remotePartyCounter }
  if (r.remaining === 8) {
    return { remotePartyId, remotePartyCounter, originatorCounter: readUintBE(r.take(8)) }
  }
  // Anything shorter than a counter cannot be a certificate either (encodeFrame refuses one of
  // 8 bytes or fewer, which would read back as a counter): accepting it would give a frame that
  // does not encode again.
  if (r.remaining < 8)
    r.fail(
      `${r.remaining} bytes after the supplementary remote party counter: neither an originator counter (8) nor a key agreement certificate`,
    )
  return { remotePartyId, remotePartyCounter, keyAgreementCertificate: r.rest().slice() }
}

/** Which signature field the block has (its bytes, when ECDSA, are taken from the block's copy). */
function readSignatureField(r: Reader): SignatureField['kind'] {
  if (r.done) return 'absent'
  const length = readLength(r, 'signature length')
  if (length === 0) return 'empty'
  if (length !== SIGNATURE_LENGTH) r.fail(`signature length must be 0 or 64, got ${length}`)
  r.skip(SIGNATURE_LENGTH, 'signature')
  return 'ecdsa'
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeFrame(frame: GbcsFrame): Uint8Array {
  if (!frame.mac) return encodeGeneralSigning(frame.signing)
  if (frame.mac.length !== MAC_LENGTH) throw new RangeError(`MAC must be ${MAC_LENGTH} bytes`)
  const length = generalSigningLength(frame.signing)
  const w = new Writer(macHeaderLength(length) + length + MAC_LENGTH)
  writeMacHeader(w, length)
  return writeGeneralSigning(w, frame.signing).bytes(frame.mac).finish()
}

/** The MAC header for a General-Signing block of `signingLength` bytes. */
export function writeMacHeader(w: Writer, signingLength: number): Writer {
  w.u8(GENERAL_CIPHERING_TAG).u32(0).u16(0)
  writeLength(w, 5 + signingLength + MAC_LENGTH)
  return w.u8(SECURITY_CONTROL).u32(0)
}

/** Bytes of the MAC header (writeMacHeader) before a General-Signing block of `signingLength` bytes. */
export function macHeaderLength(signingLength: number): number {
  return 7 + lengthSize(5 + signingLength + MAC_LENGTH) + 5
}

export function encodeGeneralSigning(s: GeneralSigning): Uint8Array {
  return writeGeneralSigning(new Writer(generalSigningLength(s)), s).finish()
}

/**
 * The encoded length of a General-Signing block, signature field included, for a block that
 * encodes at all (a block that does not may give any number: the encoder still refuses it).
 * Encoders size their buffer with it, so a frame is written once, in place.
 */
export function generalSigningLength(s: GeneralSigning): number {
  const signature = s.signature.kind === 'ecdsa' ? 1 + SIGNATURE_LENGTH : s.signature.kind === 'empty' ? 1 : 0
  return groupingHeaderLength(s) + s.content.length + signature
}

/** Length of the grouping header (writeGroupingHeader): 0xDF tag through the content length. */
function groupingHeaderLength(s: GeneralSigning): number {
  const sup = s.supplementary
  const other = sup
    ? 10 +
      (sup.remotePartyCounter === undefined ? 0 : 8) +
      (sup.originatorCounter === undefined ? 0 : 8) +
      (sup.keyAgreementCertificate?.length ?? 0)
    : 2
  // DF 09 <CRA> <counter:8> 08 <originator:8> 08 <recipient:8> <date-time field>
  return 29 + (s.dateTime ? 13 : 1) + lengthSize(other) + other + lengthSize(s.content.length)
}

/** Writes the block (grouping header, content, signature field) as it is encoded. */
export function writeGeneralSigning(w: Writer, s: GeneralSigning): Writer {
  writeGroupingHeader(w, s)
  w.bytes(s.content)
  if (s.signature.kind === 'empty') w.u8(0)
  else if (s.signature.kind === 'ecdsa') {
    if (s.signature.bytes.length !== SIGNATURE_LENGTH) throw new RangeError('signature must be 64 bytes')
    w.u8(SIGNATURE_LENGTH).bytes(s.signature.bytes)
  }
  return w
}

/** Grouping header from the 0xDF tag through the content length. */
function writeGroupingHeader(w: Writer, s: GeneralSigning): void {
  w.u8(GENERAL_SIGNING_TAG).u8(9).u8(CRA_CODES[s.cra]).u64(s.originatorCounter)
  w.u8(8).eui(s.originator).u8(8).eui(s.recipient)
  if (s.dateTime) {
    if (s.dateTime.length !== 12) throw new RangeError('date-time must be 12 bytes')
    w.u8(12).bytes(s.dateTime)
  } else w.u8(0)
  writeOtherInformation(w, s)
  writeLength(w, s.content.length)
}

/** Other-information with its length: the message code, then the supplementary fields. */
function writeOtherInformation(w: Writer, s: GeneralSigning): void {
  const sup = s.supplementary
  if (!sup) {
    writeLength(w, 2).u16(s.messageCode)
    return
  }
  if (
    sup.remotePartyCounter === undefined &&
    (sup.originatorCounter !== undefined || sup.keyAgreementCertificate)
  ) {
    throw new RangeError('supplementary fields need the remote party counter first')
  }
  if (sup.originatorCounter !== undefined && sup.keyAgreementCertificate) {
    throw new RangeError('supplementary originator counter and certificate are alternatives')
  }
  const certificate = sup.keyAgreementCertificate
  if (certificate && certificate.length <= 8) throw new RangeError('certificate too short')
  const length =
    10 +
    (sup.remotePartyCounter === undefined ? 0 : 8) +
    (sup.originatorCounter === undefined ? 0 : 8) +
    (certificate?.length ?? 0)
  writeLength(w, length).u16(s.messageCode).eui(sup.remotePartyId)
  if (sup.remotePartyCounter !== undefined) w.u64(sup.remotePartyCounter)
  if (sup.originatorCounter !== undefined) w.u64(sup.originatorCounter)
  if (certificate) w.bytes(certificate)
}

// ---------------------------------------------------------------------------------------------
// The byte ranges GBCS protects

/**
 * What the originator signs: the General-Signing block after its 0xDF tag up to the end of
 * the content (GBCS 6.3; the signature field itself excluded).
 */
export function signedBytes(s: GeneralSigning): Uint8Array {
  const r = received(s)
  if (r) return r.aad.subarray(AAD_HEADER + 1, AAD_HEADER + r.signedEnd)
  const w = new Writer(groupingHeaderLength(s) + s.content.length)
  writeGroupingHeader(w, s)
  w.bytes(s.content)
  return w.finish().subarray(1)
}

/**
 * The additional authenticated data of the GMAC: the security header (0x11, invocation
 * counter 0), one zero byte, then the whole General-Signing block including its signature
 * field (GBCS 6.2.3; pinned by the GBCS 18.4 test vector). For a received block, a view of the
 * bytes it arrived as.
 */
export function macAad(s: GeneralSigning): Uint8Array {
  const r = received(s)
  if (r) return r.aad
  const w = new Writer(AAD_HEADER + generalSigningLength(s)).u8(SECURITY_CONTROL).u32(0).u8(0)
  return writeGeneralSigning(w, s).finish()
}

/**
 * The GBCS KDF's 33-byte OtherInfo (algorithm id, originator, transaction id, recipient) copied
 * straight from the bytes a block arrived as, or undefined for a block that was not decoded.
 */
export function receivedOtherInfo(s: GeneralSigning): Uint8Array | undefined {
  const out = new Uint8Array(GBCS_OTHER_INFO_LENGTH)
  return writeReceivedOtherInfo(out, 0, s) ? out : undefined
}

/**
 * Writes receivedOtherInfo(s) into `out` at `at` without an array of its own (the KDF writes it
 * into its input this way for every command a device checks); false, and nothing written, for a
 * block that was not decoded.
 */
export function writeReceivedOtherInfo(out: Uint8Array, at: number, s: GeneralSigning): boolean {
  const r = received(s)
  if (!r) return false
  // DF 09 <CRA> <counter:8> 08 <originator:8> 08 <recipient:8>
  const a = r.aad
  const b = AAD_HEADER
  out.set(GBCS_KDF_ALGORITHM_ID, at)
  for (let i = 0; i < 8; i++) {
    out[at + 7 + i] = a[b + 12 + i]! // originator
    out[at + 25 + i] = a[b + 21 + i]! // recipient
  }
  for (let i = 0; i < 10; i++) out[at + 15 + i] = a[b + 1 + i]! // 09 <CRA> <counter>
  return true
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0')
}

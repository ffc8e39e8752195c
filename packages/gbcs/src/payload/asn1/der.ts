/**
 * The ASN.1 DER payloads of the GBCS security and device-log use cases (CS02a-e, CS03x, CS04x,
 * CS06, CS07, GCS28, GCS59, GCS62, their alerts): the structural layer of the 'asn1' family.
 *
 * The structure is the TLV tree of the one DER value the payload holds:
 *
 *   { tag: '30', children: [ … ] }        constructed (bit 6 of the first identifier octet set)
 *   { tag: '02', value: '05' }            primitive, the contents octets as hex
 *   lengthOctets?: 1..4                   only when the length was sent in a longer form than
 *                                         DER's minimal one: 82 00 DE is { lengthOctets: 2 }
 *
 * `tag` is every identifier octet (class, constructed bit, tag number, high-tag-number octets
 * included), so 'A2' is [2] constructed and '9F21' [33] primitive. GBCS devices send some
 * non-minimal lengths (the CS02b response and alert use 82 00 xx), hence `lengthOctets`: what
 * decode accepts encodes back to the same bytes. Indefinite lengths, lengths in more than four
 * octets, truncation and trailing bytes are DecodeErrors naming the frame offset.
 */
import { toHex } from '@smetsim/core'
import { DecodeError, Reader } from '../../codec/reader.ts'
import { arr, fail, hex, int, type JsonObject, obj } from '../dlms/json.ts'
import type { FamilyCodec, Json, PayloadContext } from '../types.ts'

/** A node of the DER TLV tree (JSON-plain). */
export type DerNode =
  | { tag: string; children: DerNode[]; lengthOctets?: number }
  | { tag: string; value: string; lengthOctets?: number }

/** The message codes whose payload is ASN.1 DER (GBCS use cases CS02a-e, CS03x, CS04x, CS06, CS07, GCS28, GCS59, GCS62 and their alerts). */
export const ASN1_MESSAGE_CODES: ReadonlySet<number> = new Set([
  0x0008, // CS02a Provide Security Credential Details
  0x000a, // CS02c Issue Security Credentials
  0x000b, // CS02d Update Device Certificate on Device
  0x000c, // CS02e Provide Device Certificate from Device
  0x000d, // CS03A1 Method A Join (Meter)
  0x000e, // CS03B Method B Join
  0x000f, // CS04AC Method A or C Unjoin
  0x0010, // CS04B Method B Unjoin
  0x0012, // CS06 Activate Firmware
  0x0013, // CS07 Read Device Join Details
  0x007f, // GCS28 Set Clock on the GSME
  0x008c, // GCS59 Restore GPF Device Log
  0x00ab, // CS03A2 Method A Join (non-Meter)
  0x00af, // CS03C Method C Join
  0x00b2, // GCS62 Backup GPF Device Log (alert)
  0x00ca, // CS06 Activate Firmware (future-dated alert)
  0x00cb, // CS02b Update Security Credentials (future-dated alert)
  0x0100, // CS02b rootBySupplier
  0x0101, // CS02b rootByWanProvider
  0x0102, // CS02b supplierBySupplier
  0x0103, // CS02b networkOperatorByNetworkOperator
  0x0104, // CS02b accessControlBrokerByACB
  0x0105, // CS02b wanProviderByWanProvider
  0x0106, // CS02b transCoSByTransCoS
  0x0107, // CS02b supplierByTransCoS
  0x0108, // CS02b anyExceptAbnormalRootByRecovery
  0x0109, // CS02b anyByContingency
])

/** Nesting deeper than this is refused (a DecodeError, not a stack overflow). */
export const MAX_DEPTH = 64
/** Identifier octets beyond this (a tag number above 2^28) are refused. */
const MAX_IDENTIFIER_OCTETS = 5
const MAX_LENGTH_OCTETS = 4

const CONSTRUCTED = 0x20

/**
 * True when `b` can start a DER value in a GBCS payload: any identifier octet except the
 * universal class tag numbers 0 (end-of-contents), 15 (reserved) and the high-tag-number form.
 */
export function looksLikeTag(b: number | undefined): boolean {
  if (b === undefined) return false
  if (b >> 6 !== 0) return true
  const n = b & 0x1f
  return n !== 0 && n !== 15 && n !== 31
}

/** Octets needed for a long-form length (0 when the short form applies). */
function minimalLengthOctets(length: number): number {
  if (length < 0x80) return 0
  let n = 0
  for (let l = length; l > 0; l = Math.floor(l / 256)) n++
  return n
}

// ---------------------------------------------------------------------------------------------
// Decode

function readIdentifier(r: Reader): Uint8Array {
  const start = r.offset
  const first = r.u8('identifier octet')
  if ((first & 0x1f) !== 0x1f) return Uint8Array.of(first)
  const ids = [first]
  for (;;) {
    const b = r.u8('tag number octet')
    ids.push(b)
    if (!(b & 0x80)) break
    if (ids.length >= MAX_IDENTIFIER_OCTETS)
      throw new DecodeError(`tag number longer than ${MAX_IDENTIFIER_OCTETS - 1} octets`, start)
  }
  return Uint8Array.from(ids)
}

function readNode(r: Reader, depth: number): DerNode {
  const start = r.offset
  if (depth > MAX_DEPTH) throw new DecodeError(`ASN.1 nested deeper than ${MAX_DEPTH}`, start)
  const identifier = readIdentifier(r)
  const tag = toHex(identifier)
  const lengthAt = r.offset
  const first = r.u8(`length of tag ${tag}`)
  let length = first
  let lengthOctets = 0
  if (first & 0x80) {
    lengthOctets = first & 0x7f
    if (lengthOctets === 0) throw new DecodeError(`indefinite length (tag ${tag}) is not DER`, lengthAt)
    if (first === 0xff) throw new DecodeError(`reserved length octet FF (tag ${tag})`, lengthAt)
    if (lengthOctets > MAX_LENGTH_OCTETS)
      throw new DecodeError(`length in ${lengthOctets} octets (tag ${tag}); at most 4 supported`, lengthAt)
    const b = r.take(lengthOctets, `length of tag ${tag}`)
    length = 0
    for (const x of b) length = length * 256 + x
  }
  const content = r.sub(length, `contents of tag ${tag} (length ${length})`)
  const form = lengthOctets !== minimalLengthOctets(length) ? { lengthOctets } : {}
  if (identifier[0]! & CONSTRUCTED) {
    const children: DerNode[] = []
    while (!content.done) children.push(readNode(content, depth + 1))
    return { tag, children, ...form }
  }
  return { tag, value: toHex(content.rest()), ...form }
}

/** Decodes one DER value filling `bytes`; `base` is its offset in the frame. */
export function decodeDer(bytes: Uint8Array, base = 0): DerNode {
  const r = new Reader(bytes, base)
  if (r.done) r.fail('empty ASN.1 payload')
  const node = readNode(r, 0)
  if (!r.done) r.fail(`${r.remaining} trailing bytes after the ASN.1 value`)
  return node
}

// ---------------------------------------------------------------------------------------------
// Encode

function identifierFromJson(x: unknown, path: string): Uint8Array {
  const b = hex(x, path)
  const bad = (why: string): never => fail(path, `not an identifier: ${why}`)
  if (b.length === 0) bad('empty')
  if ((b[0]! & 0x1f) !== 0x1f) {
    if (b.length !== 1) bad('low tag number form takes one octet')
    return b
  }
  if (b.length < 2 || b.length > MAX_IDENTIFIER_OCTETS)
    bad(`high tag number form takes 2..${MAX_IDENTIFIER_OCTETS} octets`)
  for (let i = 1; i < b.length; i++) {
    const last = i === b.length - 1
    if (((b[i]! & 0x80) === 0) !== last) bad('bit 8 must be set on every tag number octet but the last')
  }
  return b
}

function header(
  identifier: Uint8Array,
  length: number,
  lengthOctets: number | undefined,
  path: string,
): number[] {
  const out = [...identifier]
  const n = lengthOctets ?? minimalLengthOctets(length)
  if (n === 0) return [...out, length]
  if (length >= 2 ** (8 * n)) fail(`${path}.lengthOctets`, `${length} does not fit in ${n} octets`)
  out.push(0x80 | n)
  for (let i = n - 1; i >= 0; i--) out.push(Math.floor(length / 2 ** (8 * i)) & 0xff)
  return out
}

function encodeNode(x: unknown, path: string, out: number[][], depth: number): number {
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH}`)
  const o = obj(x, path)
  const identifier = identifierFromJson(o.tag, `${path}.tag`)
  const lengthOctets =
    o.lengthOctets === undefined
      ? undefined
      : int(o.lengthOctets, `${path}.lengthOctets`, 1, MAX_LENGTH_OCTETS)
  const constructed = (identifier[0]! & CONSTRUCTED) !== 0
  const slot = out.length
  out.push([])
  let length = 0
  if (constructed) {
    if (o.value !== undefined) fail(`${path}.value`, 'a constructed tag takes children, not a value')
    arr(o.children, `${path}.children`).forEach((c, i) => {
      length += encodeNode(c, `${path}.children[${i}]`, out, depth + 1)
    })
  } else {
    if (o.children !== undefined) fail(`${path}.children`, 'a primitive tag takes a value, not children')
    const v = hex(o.value, `${path}.value`)
    out.push([...v])
    length = v.length
  }
  const h = header(identifier, length, lengthOctets, path)
  out[slot] = h
  return h.length + length
}

/** Encodes a DER TLV tree (as decodeDer gives it). Bad input is a TypeError naming the path. */
export function encodeDer(node: Json): Uint8Array {
  const parts: number[][] = []
  const total = encodeNode(node, 'structure', parts, 0)
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Family

/** The 'asn1' family: selected by message code, the first octet a plausible DER tag. */
export const asn1Family: FamilyCodec = {
  format: 'asn1',
  matches(bytes: Uint8Array, ctx: PayloadContext): boolean {
    return ASN1_MESSAGE_CODES.has(ctx.messageCode) && looksLikeTag(bytes[0])
  },
  decode(bytes: Uint8Array, _ctx: PayloadContext, base: number): Json {
    return decodeDer(bytes, base) as unknown as JsonObject
  },
  encode(structure: Json): Uint8Array {
    return encodeDer(structure)
  },
}

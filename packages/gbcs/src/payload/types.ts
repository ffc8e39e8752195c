/**
 * The contract every use-case payload codec follows.
 *
 * A payload is the content of a General-Signing block. It is decoded in two layers:
 *  1. a structural layer per encoding family (DLMS COSEM APDUs for ESME, GBZ/ZCL for GSME,
 *     ASN.1 DER for the security use cases, the GBCS alert layouts), which round-trips any
 *     well-formed payload of that family byte for byte;
 *  2. a use-case view (`useCase`): the meaning of one message code — "set payment mode to
 *     prepayment with disablement threshold 500" — from which the same bytes can be built.
 *
 * Values are JSON-plain so that `smetsim gbcs decode | smetsim gbcs encode` round-trips:
 * byte strings as upper-case hex strings, integers beyond 2^53 as decimal strings, no
 * undefined (absent optional fields are left out), no Uint8Array, no bigint, no Date.
 */
export type Cra = 'command' | 'response' | 'alert'

export interface PayloadContext {
  messageCode: number
  cra: Cra
}

/** JSON-plain value. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

export interface DecodedPayload {
  /** Encoding family: 'dlms', 'gbz', 'asn1', 'alert', or 'raw' when nothing applied. */
  format: string
  /** The structural decode (family-specific, JSON-plain). For 'raw': { hex }. */
  structure: Json
  /** The use-case view, when the message code has a codec and the payload matched it. */
  useCase?: { name: string; [field: string]: Json }
}

/**
 * A codec for one encoding family. `decode` must consume the whole payload or throw a
 * DecodeError with the offset; `encode(decode(b))` must equal `b` for every `b` decode accepts.
 */
export interface FamilyCodec {
  format: string
  /** True when the payload's first bytes say it belongs to this family (cheap sniff). */
  matches(bytes: Uint8Array, ctx: PayloadContext): boolean
  decode(bytes: Uint8Array, ctx: PayloadContext, base: number): Json
  encode(structure: Json, ctx: PayloadContext): Uint8Array
}

/**
 * A use-case view over one family's structure, for the message codes it lists.
 * `interpret` returns undefined when the structure is not the shape this use case expects (the
 * payload then decodes with its structure only); `build` is its exact inverse.
 */
export interface UseCaseCodec {
  format: string
  /** Message codes (and CRA flags) this view applies to. */
  messageCodes: readonly number[]
  cra: readonly Cra[]
  interpret(structure: Json, ctx: PayloadContext): { name: string; [field: string]: Json } | undefined
  build(useCase: { name: string; [field: string]: Json }, ctx: PayloadContext): Json
}

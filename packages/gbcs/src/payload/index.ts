/**
 * Payload dispatch: picks the encoding family of a frame's content and, where one is
 * registered for the message code, the use-case view over it.
 */
import { fromHex, toHex } from '@smetsim/core'
import { asn1Family, asn1UseCases } from './asn1/index.ts'
import { dlmsFamily, dlmsUseCases } from './dlms/index.ts'
import { gbzFamily, gbzUseCases } from './gbz/index.ts'
import type { DecodedPayload, FamilyCodec, Json, PayloadContext, UseCaseCodec } from './types.ts'

export {
  type CreditCharge,
  prepaymentCreditCharges,
  type SuspendDebtFlags,
  suspendDebtFlags,
} from './dlms/suspend-debt.ts'
export type * from './types.ts'

/**
 * The encoding families, tried in order: ASN.1 DER (selected by message code: the security
 * credential use cases CS02x, GCS28 and a few more), DLMS COSEM (ESME, hub) and GBZ (ZigBee SE,
 * GSME) by the payload's first bytes. A payload none accepts comes back as 'raw'.
 */
const FAMILIES: readonly FamilyCodec[] = [asn1Family, dlmsFamily, gbzFamily]
const FAMILY_BY_FORMAT = new Map(FAMILIES.map((f) => [f.format, f]))
const USE_CASES: readonly UseCaseCodec[] = [...asn1UseCases, ...dlmsUseCases, ...gbzUseCases]

/** The use-case views by message code (looked up on every payload a device decodes or builds). */
const VIEWS_BY_CODE = new Map<number, UseCaseCodec[]>()
for (const u of USE_CASES)
  for (const code of u.messageCodes) VIEWS_BY_CODE.set(code, [...(VIEWS_BY_CODE.get(code) ?? []), u])

/** The same per message code and then CRA flag, filtered once here rather than per payload. */
const VIEWS_BY_CODE_AND_CRA = new Map<number, Map<string, readonly UseCaseCodec[]>>()
for (const [code, views] of VIEWS_BY_CODE) {
  const byCra = new Map<string, UseCaseCodec[]>()
  for (const u of views) for (const cra of u.cra) byCra.set(cra, [...(byCra.get(cra) ?? []), u])
  VIEWS_BY_CODE_AND_CRA.set(code, byCra)
}
const NO_VIEWS: readonly UseCaseCodec[] = []

function viewsFor(ctx: PayloadContext): readonly UseCaseCodec[] {
  return VIEWS_BY_CODE_AND_CRA.get(ctx.messageCode)?.get(ctx.cra) ?? NO_VIEWS
}

function useCaseFor(format: string, ctx: PayloadContext): UseCaseCodec | undefined {
  for (const u of viewsFor(ctx)) if (u.format === format) return u
  return undefined
}

function familyFor(bytes: Uint8Array, ctx: PayloadContext): FamilyCodec | undefined {
  for (const f of FAMILIES) if (f.matches(bytes, ctx)) return f
  return undefined
}

/**
 * Decodes a payload. Never throws on content: a payload that no family accepts comes back as
 * { format: 'raw', structure: { hex }, error } with the decoder's message.
 * `base` is the payload's offset in the frame, so errors name frame offsets.
 */
export function decodePayload(
  bytes: Uint8Array,
  ctx: PayloadContext,
  base = 0,
): DecodedPayload & { error?: string } {
  const family = familyFor(bytes, ctx)
  if (!family) return { format: 'raw', structure: { hex: toHex(bytes) } }
  let structure: Json
  try {
    structure = family.decode(bytes, ctx, base)
  } catch (e) {
    return {
      format: 'raw',
      structure: { hex: toHex(bytes) },
      error: `${family.format}: ${(e as Error).message}`,
    }
  }
  const useCase = useCaseFor(family.format, ctx)?.interpret(structure, ctx)
  // Literals, not `{ format, structure, ...(useCase && { useCase }) }`: a spread after keys is a
  // runtime copy in node 20, and a device decodes a payload for every command it executes.
  return useCase ? { format: family.format, structure, useCase } : { format: family.format, structure }
}

/**
 * Encodes a payload object. The use-case view, when given, is authoritative (it is how a
 * DCC builds a command from parameters); otherwise the structure is encoded.
 */
export function encodePayload(payload: DecodedPayload, ctx: PayloadContext): Uint8Array {
  if (payload.format === 'raw') {
    const hex = (payload.structure as { hex?: unknown } | null)?.hex
    if (typeof hex !== 'string') throw new TypeError("a 'raw' payload needs structure.hex")
    return fromHex(hex)
  }
  const family = FAMILIES.find((f) => f.format === payload.format)
  if (!family) throw new TypeError(`unknown payload format '${payload.format}'`)
  let structure = payload.structure
  if (payload.useCase) {
    const view = useCaseFor(family.format, ctx)
    if (!view)
      throw new TypeError(`no use-case codec for message code 0x${hex4(ctx.messageCode)} (${ctx.cra})`)
    structure = view.build(payload.useCase, ctx)
  }
  return family.encode(structure, ctx)
}

/**
 * Builds a use-case payload from its view alone, e.g. for a DCC constructing a command.
 * A few message codes have views in two families (device alerts 0x1000/0x1001 are DLMS from an
 * ESME and GBZ from a GSME): those need `format` to say which.
 */
export function buildPayload(
  useCase: { name: string; [field: string]: Json },
  ctx: PayloadContext,
  format?: string,
): Uint8Array {
  const all = viewsFor(ctx)
  // The usual case, one view and in the format asked for (or none asked), without a filtered copy.
  const only = all.length === 1 ? all[0]! : undefined
  if (only && (!format || only.format === format))
    return FAMILY_BY_FORMAT.get(only.format)!.encode(only.build(useCase, ctx), ctx)
  const views = format ? all.filter((u) => u.format === format) : all
  if (views.length !== 1) {
    const what = `message code 0x${hex4(ctx.messageCode)} (${ctx.cra})${format ? ` in format '${format}'` : ''}`
    if (views.length === 0) throw new TypeError(`no use-case codec for ${what}`)
    throw new TypeError(
      `${what} has views in formats ${views.map((v) => `'${v.format}'`).join(', ')}: say which`,
    )
  }
  const view = views[0]!
  const family = FAMILY_BY_FORMAT.get(view.format)!
  return family.encode(view.build(useCase, ctx), ctx)
}

/** Which (message code, CRA) pairs have a use-case view. */
export function supportedUseCases(): { format: string; messageCode: number; cra: string }[] {
  return USE_CASES.flatMap((u) =>
    u.messageCodes.flatMap((messageCode) => u.cra.map((cra) => ({ format: u.format, messageCode, cra }))),
  )
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

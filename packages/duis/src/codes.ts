/**
 * DUIS response codes on the XML interface.
 *
 * The codes the DUIS 5.4 schema allows are read from the vendored schema itself (its
 * `ResponseCode` enumeration), so a code is "real" exactly when the schema says so.
 *
 * `duisResponseCode` is the one place the pipeline's codes (`DuisResult.code`) become DUIS
 * response codes. It passes them through unchanged: a placeholder of the pipeline's (EMALFORMED,
 * ENOTBUILT, …) then makes the response fail XSD validation, which is how the tests prove the
 * pipeline's codes once the real ones land.
 *
 * The codes this layer answers itself, for a message refused before the pipeline sees it, are in
 * `REFUSAL_CODES`: DUIS's public code table (the DCC Systems Response Codes, E1–E30) has no code
 * for an unreadable, unsigned or wrongly signed message or a replayed RequestID, so these are
 * fallbacks (unconfirmed), listed in the README.
 */
import { readFileSync } from 'node:fs'

const DUIS_XSD = readFileSync(new URL('../schema/DUIS Schema V5.4.xsd', import.meta.url), 'utf8')

/** The values of one of the DUIS schema's enumerated simple types. */
export function schemaEnumeration(typeName: string): ReadonlySet<string> {
  const xsd = DUIS_XSD
  const start = xsd.indexOf(`<xs:simpleType name="${typeName}">`)
  if (start < 0) throw new Error(`the DUIS schema has no simpleType ${typeName}`)
  const block = xsd.slice(start, xsd.indexOf('</xs:simpleType>', start))
  return new Set(Array.from(block.matchAll(/<xs:enumeration value="([^"]+)"\/>/g), (m) => m[1]!))
}

/** The DUIS 5.4 ResponseCode enumeration (I0, I99, E1 … E120207, W… warnings). */
export const RESPONSE_CODES: ReadonlySet<string> = schemaEnumeration('ResponseCode')

/** The DUIS 5.4 ServiceReference and ServiceReferenceVariant enumerations. */
export const SERVICE_REFERENCES: ReadonlySet<string> = schemaEnumeration('ServiceReference')
export const SERVICE_REFERENCE_VARIANTS: ReadonlySet<string> = schemaEnumeration('ServiceReferenceVariant')

/** Whether the DUIS 5.4 schema has this response code. */
export const isDuisResponseCode = (code: string): boolean => RESPONSE_CODES.has(code)

/** The DUIS response code for a pipeline answer's code: unchanged (see the module comment). */
export function duisResponseCode(code: string): string {
  return code
}

/** Why this layer refused a message before the pipeline saw it. */
export type RefusalStep =
  | 'too-large'
  | 'not-xml'
  | 'not-utf8'
  | 'doctype'
  | 'not-well-formed'
  | 'too-deep'
  | 'xsd-invalid'
  | 'not-a-request'
  | 'unsigned'
  | 'unknown-signer'
  | 'bad-signature'
  | 'signer-not-a-user'
  | 'caller-not-signer'
  | 'replayed'
  | 'wrong-service'
  | 'local-delivery'
  | 'internal-error'

/**
 * The code answered for each refusal. E13 (Request Type not valid for the URL) and E17 (not
 * available for Local Command Services) are DUIS's own meanings. The rest are fallbacks
 * (unconfirmed: the public DUIS code table has no code for them): E1 (the User / User Role is
 * not a valid SEC Party / User Role) for anything whose sender cannot be authenticated (also a
 * mutual-TLS caller that is not the XML signer, as the pipeline's CALLER_MISMATCH_CODE), and for a
 * replayed RequestID, which DUIS answers with a code not known to us.
 */
export const REFUSAL_CODES: Readonly<Record<RefusalStep, string>> = {
  'too-large': 'E1',
  'not-xml': 'E1',
  'not-utf8': 'E1',
  doctype: 'E1',
  'not-well-formed': 'E1',
  'too-deep': 'E1',
  'xsd-invalid': 'E1',
  'not-a-request': 'E1',
  unsigned: 'E1',
  'unknown-signer': 'E1',
  'bad-signature': 'E1',
  'signer-not-a-user': 'E1',
  'caller-not-signer': 'E1',
  replayed: 'E1',
  'wrong-service': 'E13',
  'local-delivery': 'E17',
  'internal-error': 'E1',
}

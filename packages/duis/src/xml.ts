/**
 * Reading DUIS XML from outside, safely: size limit, strict UTF-8, no DOCTYPE at all (so no
 * entity can be declared, expanded or fetched: no XXE, no billion laughs), well-formedness and
 * XSD validation against the DUIS 5.4 schema by libxml2 (libxml2-wasm), then the DOM
 * (@xmldom/xmldom) that the signature check and the request reader work on.
 *
 * libxml2 parses with XML_PARSE_NONET and XML_PARSE_NO_XXE and without XML_PARSE_NOENT, and
 * keeps its own limits (element nesting 256, text nodes 10 MB); the document it built must have
 * no DTD node. Only then does xmldom, which would not resolve entities either, see the text.
 * Nothing here throws on bad input: the answer is a `XmlRefusal`.
 */
import { err, ok, type Result } from '@smetsim/core'
import { DOMParser, type Document as XmlDomDocument } from '@xmldom/xmldom'
import { ParseOption, XmlDocument, XmlElement, type XmlParseError } from 'libxml2-wasm'
import { duisSchema } from './schema.ts'

/** The largest DUIS message read (bytes); DUIS requests are a few KiB, SR 6.23 with certificates under 8 KiB. */
export const DEFAULT_MAX_XML_BYTES = 256 * 1024
/** Element nesting allowed; the DUIS schema needs about 12 levels. libxml2's own limit is 256. */
export const MAX_XML_DEPTH = 64

export type XmlRefusalKind =
  | 'too-large'
  | 'not-utf8'
  | 'doctype'
  | 'not-well-formed'
  | 'too-deep'
  | 'xsd-invalid'

export interface XmlRefusal {
  kind: XmlRefusalKind
  /** Why, in a sentence (at most a few hundred characters: it goes into the SAT). */
  reason: string
  /** xsd-invalid only: the (well-formed, DTD-free) document, to name the RequestID in the refusal. */
  document?: XmlDomDocument
}

export interface ReadXml {
  /** The text as received (UTF-8). */
  text: string
  /** The DOM of the document, for the signature check and the request reader. */
  document: XmlDomDocument
}

const DOCTYPE = /<!DOCTYPE|<!ENTITY/
const decoder = new TextDecoder('utf-8', { fatal: true })
const PARSE_OPTIONS =
  ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_NOERROR

const clip = (text: string, n = 300) => (text.length > n ? `${text.slice(0, n)}…` : text)

/**
 * Checks the bytes as a DUIS document: size, UTF-8, no DOCTYPE, well-formed, nesting, and
 * valid against the DUIS 5.4 schema. A signature, if any, is not checked here (see xmldsig.ts).
 */
export function readDuisXml(
  bytes: Uint8Array,
  options: { maxBytes?: number } = {},
): Result<ReadXml, XmlRefusal> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES
  if (!(bytes instanceof Uint8Array)) return err({ kind: 'not-well-formed', reason: 'no XML body' })
  if (bytes.length > maxBytes)
    return err({ kind: 'too-large', reason: `${bytes.length} bytes, more than the ${maxBytes} allowed` })
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    return err({ kind: 'not-utf8', reason: 'the body is not UTF-8' })
  }
  // A DOCTYPE is never needed in DUIS; refusing it outright is the whole XXE and entity
  // expansion defence, before any parser sees the text.
  if (DOCTYPE.test(text))
    return err({ kind: 'doctype', reason: 'a DOCTYPE or ENTITY declaration is not allowed in DUIS' })

  let doc: XmlDocument | undefined
  let invalid: string | undefined
  try {
    doc = XmlDocument.fromString(text, { option: PARSE_OPTIONS })
  } catch (e) {
    const detail = (e as XmlParseError).details?.[0]
    const why = detail ? `line ${detail.line}: ${detail.message.trim()}` : (e as Error).message
    return err({ kind: 'not-well-formed', reason: clip(`not well-formed XML: ${why}`) })
  }
  try {
    if (doc.dtd !== null) return err({ kind: 'doctype', reason: 'a DTD is not allowed in DUIS' })
    const depth = maxDepth(doc)
    if (depth > MAX_XML_DEPTH)
      return err({ kind: 'too-deep', reason: `elements nest ${depth} deep, more than ${MAX_XML_DEPTH}` })
    invalid = duisSchema().check(doc)
  } finally {
    doc.dispose()
  }
  const parsed = domOf(text)
  if (invalid) {
    const refusal: XmlRefusal = {
      kind: 'xsd-invalid',
      reason: clip(`not valid against DUIS 5.4: ${invalid}`),
    }
    if (parsed.ok) refusal.document = parsed.value
    return err(refusal)
  }
  if (!parsed.ok)
    return err({ kind: 'not-well-formed', reason: clip(`not well-formed XML: ${parsed.error}`) })
  return ok({ text, document: parsed.value })
}

/** The xmldom DOM of text libxml2 has found well-formed and free of a DTD. */
function domOf(text: string): Result<XmlDomDocument, string> {
  let document: XmlDomDocument | undefined
  let failure: string | undefined
  try {
    document = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') failure ??= message
      },
    }).parseFromString(text, 'text/xml')
  } catch (e) {
    failure ??= (e as Error).message
  }
  if (!document || failure) return err(failure ?? 'no document')
  return ok(document)
}

/** The deepest element nesting of a libxml2 document (iterative: a deep document cannot overflow the stack). */
function maxDepth(doc: XmlDocument): number {
  let deepest = 0
  const stack: [XmlElement, number][] = [[doc.root, 1]]
  while (stack.length > 0) {
    const [element, depth] = stack.pop()!
    if (depth > deepest) deepest = depth
    if (depth > MAX_XML_DEPTH) return depth
    for (let child = element.firstChild; child; child = child.next)
      if (child instanceof XmlElement) stack.push([child, depth + 1])
  }
  return deepest
}

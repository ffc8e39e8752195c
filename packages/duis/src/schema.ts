/**
 * The DUIS 5.4 XML Schema (vendored in ../schema, see its NOTICE.md), compiled once by libxml2
 * (libxml2-wasm) from memory: the schema files are served to libxml2 by an input provider that
 * knows only them, so compiling it reads neither the file system nor the network.
 */
import { readFileSync } from 'node:fs'
import {
  XmlBufferInputProvider,
  XmlDocument,
  XmlValidateError,
  XsdValidator,
  xmlRegisterInputProvider,
} from 'libxml2-wasm'

const SCHEMA_DIR = new URL('../schema/', import.meta.url)
/** The names libxml2 asks for (no spaces: see NOTICE.md) → the vendored files. */
const FILES: Readonly<Record<string, string>> = {
  'smetsim-duis.xsd': 'smetsim-duis.xsd',
  'duis.xsd': 'DUIS Schema V5.4.xsd',
  'mmc.xsd': 'MMC Schema V5.4.xsd',
  'xmldsig-core-schema.xsd': 'xmldsig-core-schema.xsd',
}
const BASE = 'smetsim-duis-schema:/'

export interface DuisSchema {
  /** Undefined when the document is valid, else libxml2's reasons. */
  check(doc: XmlDocument): string | undefined
}

let compiled: DuisSchema | undefined

/** The compiled DUIS 5.4 schema (compiled on first use, about 80 ms). */
export function duisSchema(): DuisSchema {
  if (compiled) return compiled
  const buffers: Record<string, Uint8Array> = {}
  for (const [name, file] of Object.entries(FILES))
    buffers[BASE + name] = new Uint8Array(readFileSync(new URL(file, SCHEMA_DIR)))
  xmlRegisterInputProvider(new XmlBufferInputProvider(buffers))
  const entry = buffers[`${BASE}smetsim-duis.xsd`]!
  const schemaDoc = XmlDocument.fromBuffer(entry, { url: `${BASE}smetsim-duis.xsd` })
  // The schema document stays alive with the validator (libxml2's compiled schema may point into it).
  const validator = XsdValidator.fromDoc(schemaDoc)
  compiled = {
    check(doc) {
      try {
        validator.validate(doc)
        return undefined
      } catch (e) {
        if (e instanceof XmlValidateError)
          return e.details
            .slice(0, 3)
            .map((d) => `line ${d.line}: ${d.message.trim()}`)
            .join('; ')
        return (e as Error).message
      }
    },
  }
  return compiled
}

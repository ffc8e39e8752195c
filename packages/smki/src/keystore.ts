/**
 * A keystore on disk in the layout of the DCC's public RTDS keystore:
 *   <eui>-ds.pem / <eui>-ka.pem         certificates (digital signing, key agreement)
 *   <eui>-ds.key / <eui>-ka.key         PKCS#8 private keys
 *   <eui>-pp-ka.pem / <eui>-pp-ka.key   a supplier's prepayment top-up key agreement key
 * with the EUI as 16 lower-case hex digits. Files are read lazily and cached.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, euiToFileStem } from '@smetsim/core'
import { parseCertificate } from './certificate.ts'

export type KeyUsage = 'digitalSignature' | 'keyAgreement'

export interface KeyLookup {
  /** The supplier's prepayment top-up key-agreement key instead of the ordinary one. */
  prepayment?: boolean
}

export interface Keystore {
  readonly dir: string
  /** EUIs that have at least one file in the keystore. */
  euis(): Eui64[]
  certificate(eui: Eui64, usage: KeyUsage, lookup?: KeyLookup): X509Certificate | undefined
  privateKey(eui: Eui64, usage: KeyUsage, lookup?: KeyLookup): KeyObject | undefined
}

function fileName(eui: Eui64, usage: KeyUsage, lookup: KeyLookup, ext: 'pem' | 'key'): string {
  if (lookup.prepayment && usage !== 'keyAgreement')
    throw new RangeError('prepayment keys are key-agreement keys')
  const suffix = usage === 'digitalSignature' ? 'ds' : lookup.prepayment ? 'pp-ka' : 'ka'
  return `${euiToFileStem(eui)}-${suffix}.${ext}`
}

/** Opens a keystore folder; throws if it is not a readable directory. */
export function openKeystore(dir: string): Keystore {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`keystore ${dir} is not a directory`)
  const certificates = new Map<string, X509Certificate | undefined>()
  const keys = new Map<string, KeyObject | undefined>()
  function load<T>(
    cache: Map<string, T | undefined>,
    name: string,
    parse: (pem: string) => T,
  ): T | undefined {
    if (!cache.has(name)) {
      const path = join(dir, name)
      let value: T | undefined
      if (existsSync(path)) {
        try {
          value = parse(readFileSync(path, 'utf8'))
        } catch (e) {
          throw new Error(`${path}: ${(e as Error).message}`)
        }
      }
      cache.set(name, value)
    }
    return cache.get(name)
  }
  return {
    dir,
    euis: () =>
      [
        ...new Set(
          readdirSync(dir)
            .map((f) => /^([0-9a-f]{16})-/.exec(f)?.[1])
            .filter((e): e is string => e !== undefined),
        ),
      ].map((e) => e.toUpperCase() as Eui64),
    certificate: (eui, usage, lookup = {}) =>
      load(certificates, fileName(eui, usage, lookup, 'pem'), (pem) => new X509Certificate(pem)),
    privateKey: (eui, usage, lookup = {}) =>
      load(keys, fileName(eui, usage, lookup, 'key'), (pem) => createPrivateKey(pem)),
  }
}

/** The file names one keystore entry was written under. */
export interface KeystoreFiles {
  certificate: string
  privateKey?: string
}

/**
 * Writes an Organisation or Device certificate, and its private key if given, into a keystore
 * folder (created if missing) under the RTDS names. EUI and usage come from the certificate
 * itself, so a file can never be named for another party; `prepayment` picks the -pp-ka names.
 */
export function writeKeystoreEntry(
  dir: string,
  certificate: X509Certificate,
  privateKey?: KeyObject,
  lookup: KeyLookup = {},
): KeystoreFiles {
  const parsed = parseCertificate(certificate)
  if (!parsed.eui)
    throw new Error(`certificate ${parsed.serial} (${parsed.subject}) has no EUI to file it under`)
  const ds = parsed.keyUsage.includes('digitalSignature')
  if (ds === parsed.keyUsage.includes('keyAgreement'))
    throw new Error(`certificate ${parsed.serial} is not exactly one of digitalSignature or keyAgreement`)
  const usage: KeyUsage = ds ? 'digitalSignature' : 'keyAgreement'
  mkdirSync(dir, { recursive: true })
  const files: KeystoreFiles = { certificate: fileName(parsed.eui, usage, lookup, 'pem') }
  writeFileSync(join(dir, files.certificate), certificate.toString())
  if (privateKey) {
    files.privateKey = fileName(parsed.eui, usage, lookup, 'key')
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    writeFileSync(join(dir, files.privateKey), pem, { mode: 0o600 })
  }
  return files
}

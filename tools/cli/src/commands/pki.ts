/**
 * `smetsim pki`: make a test PKI in the RTDS keystore layout, list what one holds, and revoke
 * certificates in it (the revocation list the DCC consults).
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, parseEui } from '@smetsim/core'
import {
  initPki,
  normaliseSerial,
  openRevocationList,
  type PkiManifest,
  parseCertificate,
  REVOCATION_LIST,
  readPkiManifest,
  TLS_AUDITOR,
} from '@smetsim/smki'

export interface InitOptions {
  device?: string[]
  deviceCount?: string
  firstDevice: string
  force: boolean
}

/** EUIs of `count` devices numbered on from `first` (which counts as the first of them). */
export function deviceRange(first: string, count: number): Eui64[] {
  const start = BigInt(`0x${parseEui(first)}`)
  if (start + BigInt(count) - 1n > 0xffff_ffff_ffff_ffffn)
    throw new RangeError('the device EUIs run past FFFFFFFFFFFFFFFF')
  return Array.from(
    { length: count },
    (_, i) => (start + BigInt(i)).toString(16).toUpperCase().padStart(16, '0') as Eui64,
  )
}

function parseCount(text: string | undefined): number {
  if (text === undefined) return 0
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
    throw new RangeError(`--device-count must be a whole number from 0 to 1000000, got '${text}'`)
  return n
}

export function init(dir: string, opts: InitOptions): void {
  const devices = [
    ...(opts.device ?? []).map(parseEui),
    ...deviceRange(opts.firstDevice, parseCount(opts.deviceCount)),
  ]
  const started = performance.now()
  let lastReport = started
  const manifest = initPki(dir, {
    devices,
    force: opts.force,
    onProgress(done, total) {
      const now = performance.now()
      if (done === total || now - lastReport >= 1000) {
        lastReport = now
        process.stderr.write(`device certificates: ${done}/${total}\n`)
      }
    },
  })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  process.stdout.write(`test PKI in ${dir} (${seconds} s)\n`)
  printManifest(manifest)
}

function printManifest(manifest: PkiManifest): void {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  for (const [which, files] of Object.entries(manifest.authorities))
    out(`  ${which.padEnd(16)} ${files.certificate.padEnd(28)} ${files.subject.replaceAll('\n', ', ')}`)
  for (const party of manifest.parties) {
    const slots = Object.keys(party.files).join(', ')
    out(`  ${party.role.padEnd(19)} ${party.roleCode} ${party.eui}  ${party.name}  (${slots})`)
  }
  const n = manifest.devices.length
  out(`  devices: ${n}${n > 0 ? ` (${manifest.devices[0]!.eui} … ${manifest.devices[n - 1]!.eui})` : ''}`)
}

/** One JSON line per certificate the PKI's manifest lists, with its revocation status. */
export function show(dir: string): void {
  const manifest = readPkiManifest(dir)
  const revoked = openRevocationList(join(dir, REVOCATION_LIST))
  const files = [
    ...Object.values(manifest.authorities).map((f) => f.certificate),
    ...manifest.parties.flatMap((p) => Object.values(p.files).map((f) => f.certificate)),
    ...manifest.devices.flatMap((d) => Object.values(d.files).map((f) => f.certificate)),
  ]
  for (const file of files) {
    const c = parseCertificate(readFileSync(join(dir, file), 'utf8'))
    const line = {
      file,
      kind: c.kind,
      eui: c.eui ?? null,
      role: c.role ?? null,
      keyUsage: c.keyUsage,
      serial: c.serial,
      notAfter: c.notAfter.toISOString(),
      revoked: revoked.isRevoked(c.serial),
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
  }
  const tls = manifest.tls
  for (const files of tls ? [tls.ca, tls.server, ...tls.clients] : []) {
    const c = new X509Certificate(readFileSync(join(dir, files.certificate)))
    const line = {
      file: files.certificate,
      kind: 'tls',
      subject: c.subject.replaceAll('\n', ', '),
      serial: files.serial,
      notAfter: new Date(c.validTo).toISOString(),
      revoked: revoked.isRevoked(files.serial),
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
  }
}

/**
 * Revokes certificates: by serial, or every SMKI certificate the manifest lists for a party or
 * device EUI (as when a Supplier's licence is revoked), or a User's (or the auditor's) TLS client
 * certificate. Prints one JSON line per entry.
 */
export function revoke(
  dir: string,
  opts: { serial?: string[]; eui?: string[]; tls?: string[]; reason?: string },
): void {
  const manifest = readPkiManifest(dir)
  const serials = [...(opts.serial ?? [])]
  for (const who of opts.tls ?? []) {
    const wanted = who === TLS_AUDITOR ? who : parseEui(who)
    const client = manifest.tls?.clients.find((c) =>
      c.identity.kind === 'user' ? c.identity.user === wanted : c.identity.name === wanted,
    )
    if (!client) throw new Error(`${dir}: no TLS client certificate for ${who}`)
    serials.push(client.serial)
  }
  for (const text of opts.eui ?? []) {
    const eui = parseEui(text)
    const holder = manifest.parties.find((p) => p.eui === eui) ?? manifest.devices.find((d) => d.eui === eui)
    if (!holder) throw new Error(`${dir}: no party or device with EUI ${eui}`)
    serials.push(...Object.values(holder.files).map((f) => f.serial))
  }
  if (serials.length === 0)
    throw new Error('say what to revoke: --serial HEX, --eui EUI or --tls EUI|auditor')
  const normalised = serials.map(normaliseSerial) // every serial checked before any is revoked
  const list = openRevocationList(join(dir, REVOCATION_LIST))
  for (const serial of normalised) {
    const entry = list.revoke(serial, opts.reason === undefined ? {} : { reason: opts.reason })
    process.stdout.write(`${JSON.stringify(entry)}\n`)
  }
}

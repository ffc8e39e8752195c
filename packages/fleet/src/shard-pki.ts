/**
 * The one PKI every shard of a fleet must share. The builder is deterministic except for the
 * PKI (smki issues fresh keys and serials, pki.ts), and a shard's meters must trust the very
 * certificates whose keys shard 1's DCC signs and MACs with. So shard 1 keeps its PKI on the
 * broker as a retained message at `<prefix>/fleet/pki` (hub wan/retained.ts) and the other shards
 * build with it; shard 1 deletes it when it ends.
 *
 * The document carries the parties' private keys as well as their certificates (the fleet's
 * Credential type holds both, and a shard's snapshot keeps them): a test fleet's PKI, readable by
 * whoever may subscribe on that broker, as a fleet's device keys are by whoever has its seed.
 *
 * It names the fleet it belongs to (SHA-256 of the parsed spec), so a shard started with another
 * seed or size than shard 1 is refused with a clear error rather than building meters that
 * refuse every command.
 */
import { createHash } from 'node:crypto'
import { err, ok, type Result } from '@smetsim/core'
import { Encoder } from 'cbor-x'
import { publishRetained, readRetained } from '../../hub/src/wan/retained.ts'
import type { FleetPki } from './pki.ts'
import { type FleetPkiData, pkiData, pkiFromData } from './snapshot.ts'
import type { FleetSpec } from './spec.ts'

const FORMAT = 'smetsim-fleet-pki'
const VERSION = 1
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

export const pkiTopic = (prefix = 'smetsim') => `${prefix}/fleet/pki`

/** Which fleet a spec makes: SHA-256 of its parsed, defaults-filled form. */
export const fleetFingerprint = (spec: FleetSpec): string =>
  createHash('sha256').update(JSON.stringify(spec)).digest('hex')

export function encodeSharedPki(spec: FleetSpec, pki: FleetPki): Uint8Array {
  return cbor.encode({ format: FORMAT, version: VERSION, fleet: fleetFingerprint(spec), pki: pkiData(pki) })
}

/** The PKI from a shared document for the fleet `spec` makes, or why not. Never throws. */
export function decodeSharedPki(spec: FleetSpec, bytes: Uint8Array): Result<FleetPki, string> {
  let data: { format?: unknown; version?: unknown; fleet?: unknown; pki?: unknown }
  try {
    data = cbor.decode(bytes)
  } catch (e) {
    return err(`not a fleet PKI: ${(e as Error).message}`)
  }
  if (data === null || typeof data !== 'object') return err('not a fleet PKI: not a map')
  if (data.format !== FORMAT) return err(`not a fleet PKI: expected format '${FORMAT}'`)
  if (data.version !== VERSION) return err(`fleet PKI version ${String(data.version)}, this reads ${VERSION}`)
  if (data.fleet !== fleetFingerprint(spec))
    return err('the fleet PKI on the broker is for another fleet (seed or premises differ from shard 1)')
  try {
    return ok(pkiFromData(data.pki as FleetPkiData))
  } catch (e) {
    return err(`not a fleet PKI: ${(e as Error).message}`)
  }
}

/** Shard 1: keeps the fleet's PKI on the broker for the other shards. */
export const sharePki = (url: string, spec: FleetSpec, pki: FleetPki, prefix?: string) =>
  publishRetained(url, pkiTopic(prefix), encodeSharedPki(spec, pki))

/** Shard 1, at its end: deletes the retained PKI. */
export const withdrawPki = (url: string, prefix?: string) =>
  publishRetained(url, pkiTopic(prefix), new Uint8Array(0))

/** Any other shard: the fleet's PKI, waiting up to `timeoutMs` for shard 1 to share it. */
export async function fetchSharedPki(
  url: string,
  spec: FleetSpec,
  timeoutMs = 30_000,
  prefix?: string,
): Promise<Result<FleetPki, string>> {
  let bytes: Uint8Array
  try {
    bytes = await readRetained(url, pkiTopic(prefix), timeoutMs)
  } catch (e) {
    return err(`no fleet PKI from shard 1: ${(e as Error).message}`)
  }
  return decodeSharedPki(spec, bytes)
}

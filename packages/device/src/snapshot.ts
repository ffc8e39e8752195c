/**
 * Snapshot and restore a device: its state as CBOR (cbor-x). The cells go out as their DER
 * certificates and come back interned, so a restored fleet shares credentials again.
 */
import { Encoder } from 'cbor-x'
import { type CellName, type Credential, credentialFromCertificate, type TrustAnchorCells } from './cells.ts'
import type { DeviceState } from './state.ts'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

export function snapshotDevice(state: DeviceState): Uint8Array {
  const cells: Partial<Record<CellName, Uint8Array>> = {}
  for (const [name, credential] of Object.entries(state.cells) as [CellName, Credential][])
    cells[name] = credential.certificate
  return cbor.encode({ ...state, cells })
}

/** Throws an Error naming the problem when the bytes are not a device snapshot. */
export function restoreDevice(bytes: Uint8Array): DeviceState {
  let data: DeviceState & { cells: Partial<Record<CellName, Uint8Array>> }
  try {
    data = cbor.decode(bytes)
  } catch (e) {
    throw new Error(`not a device snapshot: ${(e as Error).message}`)
  }
  if (typeof data?.eui !== 'string' || typeof data.type !== 'string' || typeof data.cells !== 'object')
    throw new Error('not a device snapshot: expected a device state')
  const cells: TrustAnchorCells = {}
  for (const [name, der] of Object.entries(data.cells) as [CellName, Uint8Array][])
    cells[name] = credentialFromCertificate(der)
  return { ...data, pending: data.pending ?? [], cells }
}

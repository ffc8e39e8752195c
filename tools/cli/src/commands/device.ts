/**
 * `smetsim device replay`: one emulated device fed GBCS frames from files, reporting what it
 * made of each — the way to check the firmware against the DCC's RTDS or a supplier's own
 * frames.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, parseEui } from '@smetsim/core'
import {
  type CellParties,
  cellsFromKeystore,
  createDevice,
  type DeviceKeys,
  type DeviceState,
  type DeviceType,
  step,
} from '@smetsim/device'
import { type BackendName, decodeFrame, frameToJson, getBackend } from '@smetsim/gbcs'
import { type Keystore, openKeystore, parseCertificate, TEST_PARTIES } from '@smetsim/smki'
import { expandFiles, frameBytes } from '../input.ts'

export interface ReplayOptions {
  keystore: string
  device: string
  type: string
  supplier?: string
  networkOperator?: string
  acb?: string
  cos?: string
  root?: string
  each: boolean
  at?: string
  backend: BackendName
}

const partyEui = (role: string) => TEST_PARTIES.find((p) => p.role === role)?.eui

function keyBytes(pem: { export(o: { format: 'jwk' }): { d?: string } } | undefined): Uint8Array | undefined {
  const d = pem?.export({ format: 'jwk' }).d
  return d ? new Uint8Array(Buffer.from(d, 'base64url')) : undefined
}

/**
 * Without the device's own key-agreement key (the RTDS keystore has none for its devices), the
 * device agrees keys from the other end: its public key and every remote party's private key.
 */
function standInKeys(store: Keystore, eui: Eui64, dir: string): DeviceKeys['standIn'] {
  const certificate = store.certificate(eui, 'keyAgreement')
  if (!certificate)
    throw new Error(`${dir} has neither a key-agreement private key nor a certificate for ${eui}`)
  const peers: Record<string, Uint8Array> = {}
  for (const party of store.euis()) {
    const key = keyBytes(store.privateKey(party, 'keyAgreement'))
    if (key) peers[party] = key
    const pp = keyBytes(store.privateKey(party, 'keyAgreement', { prepayment: true }))
    if (pp) peers[`${party}-pp`] = pp
  }
  process.stderr.write(
    `${eui.toLowerCase()}-ka.key is not in ${dir}: the device agrees keys from the remote parties' private keys\n`,
  )
  return { publicKey: parseCertificate(certificate).publicKey, peers }
}

export function replay(files: string[], opts: ReplayOptions): void {
  const type = opts.type.toUpperCase() as DeviceType
  if (type !== 'ESME' && type !== 'GSME') throw new Error(`--type must be esme or gsme, not '${opts.type}'`)
  const eui = parseEui(opts.device)
  const store = openKeystore(opts.keystore)
  const ka = keyBytes(store.privateKey(eui, 'keyAgreement'))
  const standIn = ka ? undefined : standInKeys(store, eui, opts.keystore)
  const ds = keyBytes(store.privateKey(eui, 'digitalSignature'))
  const parties: CellParties = {
    supplier: opts.supplier ?? partyEui('supplier'),
    networkOperator: opts.networkOperator ?? partyEui('networkOperator'),
    accessControlBroker: opts.acb ?? partyEui('accessControlBroker'),
    transitionalCoS: opts.cos ?? partyEui('transitionalCoS'),
    recovery: partyEui('recovery'),
    wanProvider: partyEui('wanProvider'),
  }
  const rootFile = opts.root ?? join(opts.keystore, 'root.pem')
  const root = existsSync(rootFile) ? readFileSync(rootFile, 'utf8') : undefined
  const cells = cellsFromKeystore(store, parties, root)
  const start = opts.at === undefined ? Date.now() : Date.parse(opts.at)
  if (!Number.isFinite(start)) throw new Error(`--at is not a date-time: '${opts.at}'`)
  const backend = getBackend(opts.backend)
  const fresh = (): DeviceState =>
    createDevice({
      type,
      eui,
      cells,
      keys: { ...(ka && { ka }), ...(standIn && { standIn }), ...(ds && { ds }) },
      now: start,
      ...(type === 'GSME' && { watts: 0 }),
    })

  let device = fresh()
  let rejected = 0
  for (const [i, file] of expandFiles(files).entries()) {
    if (opts.each) device = fresh()
    const now = start + i * 1000
    let bytes: Uint8Array
    try {
      bytes = frameBytes(readFileSync(file))
    } catch (e) {
      rejected++
      process.stdout.write(`${JSON.stringify({ file, outcome: 'rejected', reason: (e as Error).message })}\n`)
      continue
    }
    const { state, outputs } = step(device, { kind: 'frame', bytes }, now, { backend })
    device = state
    if (outputs.outcome === 'rejected') rejected++
    const line = {
      file,
      outcome: outputs.outcome,
      ...(outputs.reason && { reason: outputs.reason }),
      response: outputs.response ? frameToJson(decodeFrame(outputs.response)) : null,
      alerts: outputs.alerts.map((a) => ({
        code: a.code.toString(16).toUpperCase(),
        frame: a.frame ? frameToJson(decodeFrame(a.frame)) : null,
      })),
      supply: state.supply,
      paymentMode: state.paymentMode,
      meterBalance: state.account.meterBalance,
    }
    process.stdout.write(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`)
  }
  if (rejected > 0) process.exitCode = 1
}

/**
 * The main job so far, on embedded defaults: a test SMKI PKI is made (in a temporary folder,
 * or in --pki DIR to keep it); the ESME's trust anchors are read from the Supplier's and the
 * ACB's certificates; the Supplier builds and signs a Critical ECS44 "Arm Supply" command with
 * its private key, the ACB MACs it; then the ESME's side decodes the bytes and checks MAC and
 * signature, and a one-byte tamper and a replayed counter are shown to fail; then the ESME firmware
 * (packages/device) gets the same bytes, executes them once and refuses the replay and the tamper.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Eui64, toHex } from '@smetsim/core'
import { cellsFromKeystore, createDevice, step } from '@smetsim/device'
import {
  applyMac,
  type BackendName,
  buildPayload,
  type CryptoBackend,
  decodeFrame,
  encodeFrame,
  frameToJson,
  type GeneralSigning,
  getBackend,
  messageCodeName,
  messageKey,
  signGeneralSigning,
  verifyGeneralSigning,
  verifyMac,
} from '@smetsim/gbcs'
import {
  initPki,
  isIssuedBy,
  type KeyUsage,
  openKeystore,
  PKI_MANIFEST,
  parseCertificate,
  readAuthority,
  TEST_PARTIES,
} from '@smetsim/smki'

const ESME = '00DB120000000001' as Eui64

export function demo(opts: { backend?: BackendName; pki?: string }): void {
  const backend = getBackend(opts.backend ?? 'native')
  const dir = opts.pki ?? mkdtempSync(join(tmpdir(), 'smetsim-demo-'))
  try {
    run(backend, dir, opts.pki !== undefined)
  } finally {
    if (opts.pki === undefined) rmSync(dir, { recursive: true, force: true })
  }
}

function run(backend: CryptoBackend, dir: string, keep: boolean): void {
  const log = (what: string, value: unknown) => process.stdout.write(`${what.padEnd(36)} ${String(value)}\n`)
  const reuse = existsSync(join(dir, PKI_MANIFEST))
  if (!reuse) initPki(dir, { devices: [ESME] })
  log('test PKI', `${dir} (${keep ? (reuse ? 'reused' : 'kept') : 'temporary'})`)

  const store = openKeystore(dir)
  const organisationCa = readAuthority(dir, 'organisationCa').certificate
  const party = (role: string) => TEST_PARTIES.find((p) => p.role === role)!.eui
  const supplier = party('supplier')
  const acb = party('accessControlBroker')
  const certificate = (eui: Eui64, usage: KeyUsage) => {
    const cert = store.certificate(eui, usage)
    if (!cert) throw new Error(`${dir} has no ${usage} certificate for ${eui}`)
    return cert
  }
  const privateKey = (eui: Eui64, usage: KeyUsage) => {
    const key = store.privateKey(eui, usage)
    if (!key)
      throw new Error(`${dir} has no ${usage} private key for ${eui} (make it with pki init --device ${eui})`)
    return backend.importPrivateKey(key)
  }

  // The ESME's trust anchor cells, filled from Organisation certificates.
  const anchor = (eui: Eui64, usage: KeyUsage) => {
    const cert = certificate(eui, usage)
    const parsed = parseCertificate(cert)
    const issued = isIssuedBy(cert, organisationCa) ? 'issued by the Organisation CA' : 'NOT issued by the CA'
    log(`ESME cell: ${parsed.role} ${usage}`, `${parsed.eui}, serial ${parsed.serial}, ${issued}`)
    return backend.importPublicKey(parsed.publicKey, { trustAnchor: true })
  }
  const supplierDsCell = anchor(supplier, 'digitalSignature')
  const acbKaCell = anchor(acb, 'keyAgreement')
  const esmeKa = privateKey(ESME, 'keyAgreement')

  const messageCode = 0x0051
  const preCommand: GeneralSigning = {
    cra: 'command',
    originatorCounter: 0x1_0000_0001n,
    originator: supplier,
    recipient: ESME,
    messageCode,
    content: buildPayload(
      { name: 'ECS44 Arm Supply', invokeId: 0x20000001 },
      { messageCode, cra: 'command' },
    ),
    signature: { kind: 'absent' },
  }
  log('use case', messageCodeName(messageCode))
  log('Pre-Command (DUIS CV4)', toHex(encodeFrame({ signing: preCommand })))

  const signed = signGeneralSigning(preCommand, privateKey(supplier, 'digitalSignature'), backend)
  const esmeKaPublic = parseCertificate(certificate(ESME, 'keyAgreement')).publicKey
  const acbKey = messageKey(
    signed,
    privateKey(acb, 'keyAgreement'),
    backend.importPublicKey(esmeKaPublic),
    backend,
  )
  const wire = encodeFrame(applyMac(signed, acbKey))
  log('command on the wire', toHex(wire))
  if (keep) {
    writeFileSync(join(dir, 'demo-command.hex'), `${toHex(wire)}\n`)
    log('written to', `${join(dir, 'demo-command.hex')} (try: smetsim gbcs verify --keystore ${dir} FILE)`)
  }

  // The ESME's side: only the bytes, its own key-agreement key and its trust anchor cells.
  const received = decodeFrame(wire)
  const deviceKey = messageKey(received.signing, esmeKa, acbKaCell, backend)
  log('ESME: MAC (ACB key-agreement cell)', verifyMac(received, deviceKey) ? 'valid' : 'invalid')
  log(
    'ESME: signature (supplier DS cell)',
    verifyGeneralSigning(received.signing, supplierDsCell, backend) ? 'valid' : 'invalid',
  )

  const tampered = wire.slice()
  tampered[wire.length - 20] = (tampered[wire.length - 20] ?? 0) ^ 0x01
  const t = decodeFrame(tampered)
  log(
    'one byte flipped: MAC',
    verifyMac(t, messageKey(t.signing, esmeKa, acbKaCell, backend)) ? 'valid' : 'invalid',
  )

  const replay = { ...received.signing, originatorCounter: received.signing.originatorCounter + 1n }
  log(
    'counter changed: signature',
    verifyGeneralSigning(replay, supplierDsCell, backend) ? 'valid' : 'invalid',
  )

  // The same bytes through the ESME firmware (packages/device): its cells filled from the PKI,
  // supply disabled so that arming shows.
  const cells = cellsFromKeystore(
    store,
    { supplier, accessControlBroker: acb, transitionalCoS: party('transitionalCoS') },
    readFileSync(join(dir, 'root.pem'), 'utf8'),
  )
  const keyOf = (usage: KeyUsage) => {
    const d = store.privateKey(ESME, usage)?.export({ format: 'jwk' }).d
    return d ? new Uint8Array(Buffer.from(d, 'base64url')) : undefined
  }
  const now = Date.now()
  let esme = createDevice({
    type: 'ESME',
    eui: ESME,
    cells,
    keys: { ds: keyOf('digitalSignature')!, ka: keyOf('keyAgreement')! },
    now,
    supply: 'disabled',
  })
  const run = (what: string, bytes: Uint8Array) => {
    const { state, outputs } = step(esme, { kind: 'frame', bytes }, now, { backend })
    esme = state
    const alerts = outputs.alerts.map((a) => `0x${a.code.toString(16).toUpperCase()}`).join(' ')
    const answer = outputs.response ? ', response signed by the meter' : ''
    log(
      what,
      `${outputs.outcome}${outputs.reason ? ` (${outputs.reason})` : ''}, supply ${state.supply}${answer}${alerts ? `, alerts ${alerts}` : ''}`,
    )
    return outputs
  }
  const first = run('ESME firmware: the command', wire)
  const response = decodeFrame(first.response!)
  const meterDs = backend.importPublicKey(parseCertificate(certificate(ESME, 'digitalSignature')).publicKey)
  log(
    'response signature (meter DS cert)',
    verifyGeneralSigning(response.signing, meterDs, backend) ? 'valid' : 'invalid',
  )
  run('ESME firmware: the same again', wire)
  run('ESME firmware: one byte flipped', tampered)

  process.stdout.write(`${JSON.stringify(frameToJson(received), null, 2)}\n`)
}

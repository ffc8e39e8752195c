/**
 * The main job so far, on embedded defaults: a Supplier, the DCC's Access Control Broker and
 * an ESME each get fresh P-256 keys; the Supplier builds and signs a Critical ECS44 "Arm
 * Supply" command, the ACB MACs it; then the ESME's side decodes the bytes and checks MAC and
 * signature, and a one-byte tamper and a replayed counter are shown to fail.
 */
import { parseEui, toHex } from '@smetsim/core'
import {
  applyMac,
  buildPayload,
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

export function demo(opts: { backend?: 'native' | 'noble' }): void {
  const backend = getBackend(opts.backend ?? 'native')
  const supplier = { eui: parseEui('90B3D51F30010000'), ds: backend.generatePrivateKey() }
  const acb = { eui: parseEui('90B3D51F30000002'), ka: backend.generatePrivateKey() }
  const esme = { eui: parseEui('0001020304050607'), ka: backend.generatePrivateKey() }
  const log = (what: string, value: unknown) => process.stdout.write(`${what.padEnd(34)} ${String(value)}\n`)

  const messageCode = 0x0051
  const preCommand: GeneralSigning = {
    cra: 'command',
    originatorCounter: 0x1_0000_0001n,
    originator: supplier.eui,
    recipient: esme.eui,
    messageCode,
    content: buildPayload(
      { name: 'ECS44 Arm Supply', invokeId: 0x20000001 },
      { messageCode, cra: 'command' },
    ),
    signature: { kind: 'absent' },
  }
  log('use case', messageCodeName(messageCode))
  log('Pre-Command (DUIS CV4)', toHex(encodeFrame({ signing: preCommand })))

  const signed = signGeneralSigning(preCommand, supplier.ds, backend)
  const command = applyMac(signed, messageKey(signed, acb.ka, esme.ka.publicKey, backend))
  const wire = encodeFrame(command)
  log('command on the wire', toHex(wire))

  // The ESME's side: only the bytes, its own key-agreement key and its trust anchors.
  const received = decodeFrame(wire)
  const deviceKey = messageKey(received.signing, esme.ka, acb.ka.publicKey, backend)
  log('ESME: MAC (ACB key-agreement cell)', verifyMac(received, deviceKey) ? 'valid' : 'invalid')
  log(
    'ESME: signature (supplier DS cell)',
    verifyGeneralSigning(received.signing, supplier.ds.publicKey, backend) ? 'valid' : 'invalid',
  )

  const tampered = wire.slice()
  tampered[wire.length - 20] = (tampered[wire.length - 20] ?? 0) ^ 0x01
  const t = decodeFrame(tampered)
  log(
    'one byte flipped: MAC',
    verifyMac(t, messageKey(t.signing, esme.ka, acb.ka.publicKey, backend)) ? 'valid' : 'invalid',
  )

  const replay = { ...received.signing, originatorCounter: received.signing.originatorCounter + 1n }
  log(
    'counter changed: signature',
    verifyGeneralSigning(replay, supplier.ds.publicKey, backend) ? 'valid' : 'invalid',
  )

  process.stdout.write(`${JSON.stringify(frameToJson(received), null, 2)}\n`)
}

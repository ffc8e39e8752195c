/**
 * GBCS frame codec benchmark: decode and encode of a MACed, signed ECS44 command, the
 * JSON form a CLI user sees, and a whole device-side check (decode, MAC, signature) — each
 * as a ratio to raw node:crypto verify on a cached KeyObject measured in the same run. The
 * device-side check is also compared with the raw cryptography it cannot avoid (the same
 * verify, the KDF hash and the GMAC, straight on node:crypto with the bytes precomputed).
 *
 *   node --import tsx bench/frame.ts
 */
import { createCipheriv, createHash, createPublicKey, verify as nodeVerify } from 'node:crypto'
import { parseEui } from '@smetsim/core'
import { Bench } from 'tinybench'
import {
  applyMac,
  nativeBackend as backend,
  buildPayload,
  decodeFrame,
  encodeFrame,
  frameToJson,
  type GeneralSigning,
  macAad,
  messageKey,
  signedBytes,
  signGeneralSigning,
  verifyGeneralSigning,
  verifyMac,
} from '../packages/gbcs/src/index.ts'

const quick = process.argv.includes('--quick')
const supplier = backend.generatePrivateKey()
const acb = backend.generatePrivateKey()
const device = backend.generatePrivateKey()
const messageCode = 0x0051
const unsigned: GeneralSigning = {
  cra: 'command',
  originatorCounter: 1000n,
  originator: parseEui('90B3D51F30010000'),
  recipient: parseEui('0001020304050607'),
  messageCode,
  content: buildPayload({ name: 'ECS44 Arm Supply', invokeId: 1 }, { messageCode, cra: 'command' }),
  signature: { kind: 'absent' },
}
const signed = signGeneralSigning(unsigned, supplier, backend)
const frame = applyMac(signed, messageKey(signed, acb, device.publicKey, backend))
const wire = encodeFrame(frame)
const signature = signed.signature.kind === 'ecdsa' ? signed.signature.bytes : new Uint8Array(64)
const supplierKeyObject = createPublicKey({
  key: {
    kty: 'EC',
    crv: 'P-256',
    x: b64u(supplier.publicKey.point.subarray(1, 33)),
    y: b64u(supplier.publicKey.point.subarray(33)),
  },
  format: 'jwk',
})
const tbs = signedBytes(signed)
const aad = macAad(signed)
const iv = new Uint8Array(12) // originator ‖ 00000000; the value does not change the cost
const otherInfo = new Uint8Array(41)
// the device's check reuses its cached ECDH secret, as a device does
const sharedSecret = backend.ecdh(device, acb.publicKey)

const bench = new Bench({ time: quick ? 300 : 1000, warmup: true, warmupTime: quick ? 50 : 150 })
bench
  .add('baseline: node:crypto verify, cached KeyObject', () => {
    nodeVerify('sha256', tbs, { key: supplierKeyObject, dsaEncoding: 'ieee-p1363' }, signature)
  })
  .add('raw crypto of one command: verify + KDF hash + GMAC', () => {
    nodeVerify('sha256', tbs, { key: supplierKeyObject, dsaEncoding: 'ieee-p1363' }, signature)
    const key = createHash('sha256').update(sharedSecret).update(otherInfo).digest().subarray(0, 16)
    const gmac = createCipheriv('aes-128-gcm', key, iv, { authTagLength: 12 })
    gmac.setAAD(aad)
    gmac.final()
    gmac.getAuthTag()
  })
  .add('decode frame', () => {
    decodeFrame(wire)
  })
  .add('encode frame', () => {
    encodeFrame(frame)
  })
  .add('decode frame to JSON form (with DLMS payload)', () => {
    frameToJson(decodeFrame(wire))
  })
  .add('device-side check: decode + MAC + signature', () => {
    const f = decodeFrame(wire)
    verifyMac(f, messageKey(f.signing, device, acb.publicKey, backend))
    verifyGeneralSigning(f.signing, supplier.publicKey, backend)
  })
await bench.run()

const medianOps = (name: string) => {
  const r = bench.getTask(name)?.result
  return r && 'throughput' in r && r.throughput ? (r.throughput.p50 ?? 0) : 0
}
const baseline = medianOps('baseline: node:crypto verify, cached KeyObject')
const rawCommand = medianOps('raw crypto of one command: verify + KDF hash + GMAC')
const deviceCheck = medianOps('device-side check: decode + MAC + signature')
console.log(
  `\nGBCS frames (node ${process.version}${quick ? ', --quick' : ''}), ${wire.length}-byte ECS44 command`,
)
console.table(
  bench.tasks.map((t) => ({
    task: t.name,
    'ops/s (median)': Math.round(medianOps(t.name)).toLocaleString('en-GB'),
    'vs baseline': `${(medianOps(t.name) / baseline).toFixed(3)}×`,
  })),
)

console.log(
  `device-side check vs the raw crypto of one command: ${(deviceCheck / rawCommand).toFixed(3)}× ` +
    '(1.000× would mean decoding and checking add nothing to the cryptography)',
)

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url')
}

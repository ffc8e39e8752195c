/**
 * GBCS crypto benchmark: both backends against raw node:crypto, in one run.
 *
 *   node --import tsx bench/crypto.ts
 *
 * Baseline: `crypto.verify` on a cached KeyObject, the least any verification can cost here.
 * Every row prints its median throughput and its ratio to that baseline. See bench/README.md.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { Bench } from 'tinybench'
import {
  createNativeBackend,
  createNobleBackend,
  gbcsKdf,
  gbcsMac,
  verifyGbcsMac,
} from '../packages/gbcs/src/crypto/index.ts'
import { nobleP256 } from '../packages/gbcs/src/crypto/noble.ts'
import { medianOps, ratioRows } from './lib/table.ts'

const quick = process.argv.includes('--quick')
const TIME_MS = quick ? 300 : 1200
const WARMUP_MS = quick ? 50 : 150

const native = createNativeBackend()
const noblePlainRefs = createNobleBackend({ precomputeAfter: Number.POSITIVE_INFINITY })
const nobleTables = createNobleBackend()

// What a device verifies for a Critical command: the grouping header (without DF) and the
// payload of a typical ECS04b frame, 86 bytes.
const message = new Uint8Array(86).map((_, i) => (i * 37 + 11) & 0xff)
const originator = '123456789ABCDEF0'
const recipient = 'FFFFFFFFFFFFFFFE'
const aad = new Uint8Array(6 + 34 + 53 + 65).map((_, i) => (i * 13 + 5) & 0xff)

// Supplier's digital-signing key; signed once with OpenSSL (high or low S, whatever comes).
const supplier = native.generatePrivateKey()
const signature = native.sign(supplier, message)
const supplierPoint = supplier.publicKey.point
const SPKI_P256 = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')
const supplierKeyObject = createPublicKey({
  key: Buffer.concat([SPKI_P256, supplierPoint]),
  format: 'der',
  type: 'spki',
})
const verifyKey = { key: supplierKeyObject, dsaEncoding: 'ieee-p1363' as const }

const nativePub = native.importPublicKey(supplierPoint, { trustAnchor: true })
const noblePlainPub = noblePlainRefs.importPublicKey(supplierPoint)
const nobleTablePub = nobleTables.importPublicKey(supplierPoint, { trustAnchor: true })
// Build the generator's table now, not inside the measurement.
nobleTables.verify(nobleTablePub, message, signature)

const nobleSigner = nobleTables.generatePrivateKey()

// ACB key agreement against one device.
const acbNative = native.generatePrivateKey()
const deviceNative = native.generatePrivateKey().publicKey
const acbNoble = nobleTables.generatePrivateKey()
const deviceNoble = nobleTables.importPublicKey(deviceNative.point)

// Sanity: every path verifies before it is timed.
const checks: [string, boolean][] = [
  ['raw node verify', nodeVerify('sha256', message, verifyKey, signature)],
  ['native verify', native.verify(nativePub, message, signature)],
  ['noble p256.verify', nobleP256.verify(signature, message, supplierPoint, { lowS: false })],
  ['noble verify (ref, no table)', noblePlainRefs.verify(noblePlainPub, message, signature)],
  ['noble verify (table)', nobleTables.verify(nobleTablePub, message, signature)],
]
for (const [name, ok] of checks)
  if (!ok) throw new Error(`${name} does not verify: benchmark set-up is wrong`)

let counter = 0n
const bench = new Bench({ time: TIME_MS, warmupTime: WARMUP_MS, iterations: 16, throws: true })
bench
  .add('baseline: node:crypto verify, cached KeyObject', () => {
    nodeVerify('sha256', message, verifyKey, signature)
  })
  .add('native verify', () => {
    native.verify(nativePub, message, signature)
  })
  .add('noble p256.verify (lowS: false), no tables', () => {
    nobleP256.verify(signature, message, supplierPoint, { lowS: false })
  })
  .add('noble verify, interned point, no table', () => {
    noblePlainRefs.verify(noblePlainPub, message, signature)
  })
  .add('noble verify, precomputed tables', () => {
    nobleTables.verify(nobleTablePub, message, signature)
  })
  .add('native sign', () => {
    native.sign(supplier, message)
  })
  .add('noble sign', () => {
    nobleTables.sign(nobleSigner, message)
  })
  .add('native ECDH uncached', () => {
    native.ecdhUncached(acbNative, deviceNative)
  })
  .add('native ECDH cached', () => {
    native.ecdh(acbNative, deviceNative)
  })
  .add('noble ECDH uncached', () => {
    nobleTables.ecdhUncached(acbNoble, deviceNoble)
  })
  .add('noble ECDH cached', () => {
    nobleTables.ecdh(acbNoble, deviceNoble)
  })
  .add('GBCS KDF + MAC per message (cached ECDH)', () => {
    counter++
    const key = gbcsKdf(native.ecdh(acbNative, deviceNative), {
      originator,
      cra: 'command',
      counter,
      recipient,
    })
    gbcsMac(key, originator, aad)
  })
  .add('GBCS KDF + MAC check per message (cached ECDH)', () => {
    const key = gbcsKdf(native.ecdh(acbNative, deviceNative), {
      originator,
      cra: 'command',
      counter: 1n,
      recipient,
    })
    verifyGbcsMac(key, originator, aad, new Uint8Array(12))
  })

const started = performance.now()
await bench.run()
const seconds = (performance.now() - started) / 1000

const baseline = medianOps(bench, 'baseline: node:crypto verify, cached KeyObject')
const rows = ratioRows(bench, 'baseline: node:crypto verify, cached KeyObject')

console.log(`\nGBCS crypto (node ${process.version}, ${seconds.toFixed(1)} s${quick ? ', --quick' : ''})`)
console.table(rows)

const goals: [string, number, number][] = [
  ['native verify ≥ 0.9 × raw node:crypto verify', medianOps(bench, 'native verify') / baseline, 0.9],
  [
    'noble with tables ≥ 4 × plain noble p256.verify',
    medianOps(bench, 'noble verify, precomputed tables') /
      medianOps(bench, 'noble p256.verify (lowS: false), no tables'),
    4,
  ],
]
for (const [goal, ratio, target] of goals) {
  console.log(`${ratio >= target ? 'PASS' : 'FAIL'}  ${goal}: ${ratio.toFixed(2)}`)
}

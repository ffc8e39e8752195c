/**
 * GBCS crypto benchmark: both backends against raw node:crypto, in one run; then the same
 * operations on 1…N worker threads; then `openssl speed ecdsap256` when openssl is on PATH.
 *
 *   node --import tsx bench/crypto.ts [--quick] [--workers N]     (or: smetsim bench crypto)
 *
 * Baseline: `crypto.verify` on a cached KeyObject on the main thread, the least any
 * verification can cost here. Every row prints its median throughput and its ratio to that
 * baseline. See bench/README.md.
 */
import { createPrivateKey, createPublicKey, verify as nodeVerify } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { Bench } from 'tinybench'
import { newP256KeyPair } from '../packages/core/src/index.ts'
import {
  createNativeBackend,
  createNobleBackend,
  gbcsKdf,
  verifyGbcsMac,
} from '../packages/gbcs/src/crypto/index.ts'
import { nobleP256 } from '../packages/gbcs/src/crypto/noble.ts'
import { aad, BACKENDS, cryptoOps, message, OP_NAMES, OPS } from './lib/crypto-ops.ts'
import { opensslSpeed } from './lib/openssl-speed.ts'
import { consoleReport, type Figure, isMain, optionsFromArgv, type Report } from './lib/report.ts'
import { benchFigures, medianOps, ratioRows } from './lib/table.ts'
import { measureThreadScaling } from './lib/thread-scaling.ts'

const SUITE = 'crypto'
export const BASELINE = 'baseline: node:crypto verify, cached KeyObject'
/** The scaling goal of issue 12: 2 worker threads give at least 1.7 × one thread's throughput. */
const SCALING_GOAL = 1.7

export async function run(report: Report): Promise<void> {
  const { quick, workers } = report.options
  const figure = (f: Omit<Figure, 'suite'>) => report.figure({ suite: SUITE, ...f })
  const started = performance.now()

  // --- Main thread: every operation on both backends, and the variants that explain them.
  const native = createNativeBackend()
  const noblePlainRefs = createNobleBackend({ precomputeAfter: Number.POSITIVE_INFINITY })
  const nobleTables = createNobleBackend()

  // Supplier's digital-signing key; signed once with OpenSSL (high or low S, whatever comes).
  const supplier = native.generatePrivateKey()
  const signature = native.sign(supplier, message)
  const supplierPoint = supplier.publicKey.point
  const SPKI_P256 = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')
  const verifyKey = {
    key: createPublicKey({ key: Buffer.concat([SPKI_P256, supplierPoint]), format: 'der', type: 'spki' }),
    dsaEncoding: 'ieee-p1363' as const,
  }
  const noblePlainPub = noblePlainRefs.importPublicKey(supplierPoint)
  const acbNative = native.generatePrivateKey()
  const deviceNative = native.generatePrivateKey().publicKey
  const acbNoble = nobleTables.generatePrivateKey()
  const deviceNoble = nobleTables.importPublicKey(deviceNative.point)

  // Sanity: every extra path verifies before it is timed (cryptoOps checks its own).
  const checks: [string, boolean][] = [
    ['raw node verify', nodeVerify('sha256', message, verifyKey, signature)],
    ['noble p256.verify', nobleP256.verify(signature, message, supplierPoint, { lowS: false })],
    ['noble verify (ref, no table)', noblePlainRefs.verify(noblePlainPub, message, signature)],
  ]
  for (const [name, ok] of checks)
    if (!ok) throw new Error(`${name} does not verify: benchmark set-up is wrong`)

  // Key import as callers do it per message: the same key bytes (or KeyObject) each time, the
  // ref dropped after use. 64 keys in turn, fewer than the interning table holds strongly (256);
  // against that, the cost of importing a key never seen (what each such call paid when the
  // dropped ref had been collected) and node:crypto's own import of one from JWK.
  const IMPORT_KEYS = 64
  // newP256KeyPair, not generateKeyPairSync: exporting those keys can deadlock under GC (core key-pair.ts).
  const importPairs = Array.from({ length: IMPORT_KEYS }, () => newP256KeyPair())
  const importScalars = importPairs.map((p) => {
    const d = p.privateKey.export({ format: 'jwk' }).d!
    return new Uint8Array(Buffer.from(d, 'base64url'))
  })
  const importKeyObjects = importPairs.map((p) => p.privateKey)
  const importJwks = importPairs.map((p) => p.privateKey.export({ format: 'jwk' }))
  for (const d of importScalars) native.importPrivateKey(d)
  for (const k of importKeyObjects) native.importPrivateKey(k)
  let nextImport = 0
  const nextKey = () => {
    nextImport = nextImport + 1 === IMPORT_KEYS ? 0 : nextImport + 1
    return nextImport
  }

  const ops = { native: cryptoOps(native), noble: cryptoOps(nobleTables) }
  const bench = new Bench({
    time: quick ? 200 : 1200,
    warmupTime: quick ? 50 : 150,
    iterations: 16,
    throws: true,
  })
  bench.add(BASELINE, () => {
    nodeVerify('sha256', message, verifyKey, signature)
  })
  for (const backend of BACKENDS)
    for (const op of OPS) bench.add(`${backend} ${OP_NAMES[op]}`, ops[backend][op])
  bench
    .add('noble p256.verify (lowS: false), no tables', () => {
      nobleP256.verify(signature, message, supplierPoint, { lowS: false })
    })
    .add('noble verify, interned point, no table', () => {
      noblePlainRefs.verify(noblePlainPub, message, signature)
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
    .add('native import of a private key seen before, ref dropped (scalar bytes)', () => {
      native.importPrivateKey(importScalars[nextKey()]!.slice())
    })
    .add('native import of a private key seen before, ref dropped (KeyObject)', () => {
      native.importPrivateKey(importKeyObjects[nextKey()]!)
    })
    .add('native import of a private key never seen (fresh backend, scalar bytes)', () => {
      createNativeBackend().importPrivateKey(importScalars[nextKey()]!)
    })
    .add('raw node:crypto createPrivateKey from JWK', () => {
      createPrivateKey({ key: importJwks[nextKey()]!, format: 'jwk' })
    })
    .add('GBCS KDF + MAC check per message (cached ECDH)', () => {
      const key = gbcsKdf(native.ecdh(acbNative, deviceNative), {
        originator: '123456789ABCDEF0',
        cra: 'command',
        counter: 1n,
        recipient: 'FFFFFFFFFFFFFFFE',
      })
      verifyGbcsMac(key, '123456789ABCDEF0', aad, new Uint8Array(12))
    })
  await bench.run()
  const baseline = medianOps(bench, BASELINE)
  report.log(
    `\nGBCS crypto, main thread (node ${process.version}, ${((performance.now() - started) / 1000).toFixed(1)} s` +
      `${quick ? ', --quick' : ''}; noble verify uses the trust-anchor key's precomputed table)`,
  )
  report.table(ratioRows(bench, BASELINE))
  for (const f of benchFigures(SUITE, bench, BASELINE)) report.figure(f)

  const goals: [string, number, number][] = [
    ['native verify ≥ 0.9 × raw node:crypto verify', medianOps(bench, 'native verify') / baseline, 0.9],
    [
      'noble with tables ≥ 4 × plain noble p256.verify',
      medianOps(bench, 'noble verify') / medianOps(bench, 'noble p256.verify (lowS: false), no tables'),
      4,
    ],
  ]

  // --- OpenSSL's own figure on this machine, when it is here (one process, one thread).
  const speed = opensslSpeed()
  if (speed.ok) {
    const rows: Record<string, string>[] = []
    for (const [what, perSecond] of [
      ['sign', speed.signPerSecond],
      ['verify', speed.verifyPerSecond],
    ] as const) {
      const name = `openssl speed ecdsap256 ${what}`
      figure({ name, unit: 'ops/s', median: perSecond, ratio: perSecond / baseline, baseline: BASELINE })
      const compared =
        what === 'verify' ? [BASELINE, 'native verify', 'noble verify'] : ['native sign', 'noble sign']
      for (const task of compared) {
        const ops = medianOps(bench, task)
        figure({ name: task, unit: 'ops/s', median: ops, ratio: ops / perSecond, baseline: name })
        rows.push({
          task,
          'ops/s (median)': Math.round(ops).toLocaleString('en-GB'),
          [`vs openssl ${what}`]: `${(ops / perSecond).toFixed(3)}×`,
        })
      }
    }
    report.log(
      `\n${speed.command} (${speed.version}): sign ${Math.round(speed.signPerSecond).toLocaleString('en-GB')}/s, ` +
        `verify ${Math.round(speed.verifyPerSecond).toLocaleString('en-GB')}/s; the main-thread rows against it:`,
    )
    report.table(rows)
  } else {
    report.log(`\nopenssl speed: not run (${speed.reason})`)
  }

  // --- 1…N worker threads, each operation on both backends.
  const threadsStarted = performance.now()
  const measured = await measureThreadScaling({
    workers,
    rounds: 3,
    ms: quick ? 100 : 500,
    backends: BACKENDS,
    ops: OPS,
  })
  const at = (backend: string, op: string, k: number) =>
    measured.find((m) => m.backend === backend && m.op === op && m.threads === k)!.opsPerSecond
  const threadName = (backend: string, op: string, k: number) =>
    `${backend} ${OP_NAMES[op as keyof typeof OP_NAMES]}, ${k} worker thread${k === 1 ? '' : 's'}`
  const rows: Record<string, string>[] = []
  for (const backend of BACKENDS)
    for (const op of OPS) {
      const row: Record<string, string> = { task: `${backend} ${OP_NAMES[op]}` }
      for (let k = 1; k <= workers; k++) {
        const ops = at(backend, op, k)
        figure({
          name: threadName(backend, op, k),
          unit: 'ops/s',
          median: ops,
          ratio: ops / baseline,
          baseline: BASELINE,
        })
        row[`${k} thr ops/s`] = Math.round(ops).toLocaleString('en-GB')
      }
      for (let k = 2; k <= workers; k++) {
        const scaling = at(backend, op, k) / at(backend, op, 1)
        figure({
          name: `${backend} ${OP_NAMES[op]}, ${k} threads vs 1`,
          unit: '×',
          median: scaling,
          ratio: scaling,
          baseline: threadName(backend, op, 1),
        })
        row[`${k} vs 1`] = `${scaling.toFixed(2)}×`
      }
      row[`${workers} thr vs baseline`] = `${(at(backend, op, workers) / baseline).toFixed(3)}×`
      rows.push(row)
    }
  report.log(
    `\nWorker threads (node:worker_threads, 1…${workers}; median of 3 rounds of ${quick ? 100 : 500} ms each, ` +
      `${((performance.now() - threadsStarted) / 1000).toFixed(1)} s): summed ops/s, against the main-thread baseline; ` +
      `load average over the last minute ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores (this run included)`,
  )
  report.table(rows)
  if (workers >= 2)
    for (const backend of BACKENDS)
      goals.push([
        `${backend} verify, 2 worker threads ≥ ${SCALING_GOAL} × 1`,
        at(backend, 'verify', 2) / at(backend, 'verify', 1),
        SCALING_GOAL,
      ])
  else report.log('(one worker thread: no scaling figure; --workers 2 or more for one)')

  for (const [goal, ratio, target] of goals)
    report.log(`${ratio >= target ? 'PASS' : 'FAIL'}  ${goal}: ${ratio.toFixed(2)}`)
}

if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

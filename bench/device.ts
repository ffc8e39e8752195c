/**
 * Device firmware benchmark: an ESME handling an authentic ECS44 Arm Supply (Critical: the
 * supplier's signature, the ACB's MAC, a signed response) and ECS45 Read Supply Status
 * (non-critical: MAC only, a MACed response) through the whole `step()` — decode, checks,
 * execution, response building and protection — each against the raw cryptography the
 * device cannot avoid for that command, and all as ratios to raw node:crypto verify on a
 * cached KeyObject measured in the same run (native backend). Then the memory an idle ESME
 * and GSME holds in a fleet of 20,000, and the size of one CBOR snapshot.
 *
 *   node --import tsx bench/device.ts [--quick]
 *
 * The memory part needs a callable GC: it uses `global.gc` when node runs with --expose-gc,
 * and otherwise turns the flag on at run time (v8.setFlagsFromString) and takes `gc` from a
 * fresh vm context.
 */
import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  hash,
  sign as nodeSign,
  verify as nodeVerify,
  timingSafeEqual,
} from 'node:crypto'
import v8 from 'node:v8'
import vm from 'node:vm'
import { Bench } from 'tinybench'
// The device package through its source, as frame.ts reaches gbcs: bench/package.json does not
// list @smetsim/device.
import { createDevice, type DeviceState, snapshotDevice, step } from '../packages/device/src/index.ts'
// Test support (not exported from the package): its in-memory SMKI PKI, the remote parties'
// keys and `command()`, which signs and MACs a command as a supplier and the ACB would.
// Importing it by relative path is fine for a benchmark.
import { ARM, command, installedCells, READ_SUPPLY, T0 } from '../packages/device/src/testing.ts'
import {
  decodeFrame,
  type GbcsFrame,
  gbcsIv,
  gbcsOtherInfo,
  getBackend,
  macAad,
  signedBytes,
} from '../packages/gbcs/src/index.ts'
import { consoleReport, isMain, optionsFromArgv, type Report } from './lib/report.ts'
import { benchFigures, medianOps, ratioRows } from './lib/table.ts'

const SUITE = 'device'

export async function run(report: Report): Promise<void> {
  const quick = report.options.quick
  const TIME_MS = quick ? 300 : 2100
  const WARMUP_MS = quick ? 50 : 150
  /** Commands built ahead per use case, each with a higher counter than the one before. */
  const POOL = quick ? 5_000 : 20_000
  /** Idle devices held at once for the memory figures. */
  const FLEET = 20_000
  const BYTES_GOAL = 2048

  const backend = getBackend('native')
  const cells = installedCells()
  const esme = createDevice({ type: 'ESME', eui: '00DB120000000001', cells, now: T0 })

  // ---------------------------------------------------------------------------------------------
  // The commands, built before timing. ECS44 is signed by supplier A and MACed by the ACB; ECS45
  // only MACed. The supply stays enabled (arming an enabled supply changes nothing and raises no
  // alert), so every ECS44 costs exactly the command's checks and the signed response; `now` stays
  // at T0, so the lazy prepayment settlement has nothing to do either.
  const started = performance.now()
  const armCommands = Array.from({ length: POOL }, (_, i) =>
    command(ARM.code, ARM.view, esme, { counter: BigInt(i + 1) }),
  )
  const readCommands = Array.from({ length: POOL }, (_, i) =>
    command(READ_SUPPLY.code, READ_SUPPLY.view, esme, { counter: BigInt(i + 1), sign: false }),
  )

  // One sample of each, through the firmware, outside the timing: it must execute and answer.
  const armSample = step(esme, { kind: 'frame', bytes: armCommands[0]! }, T0, { backend }).outputs
  const readSample = step(esme, { kind: 'frame', bytes: readCommands[0]! }, T0, { backend }).outputs
  for (const [name, o] of [
    ['ECS44', armSample],
    ['ECS45', readSample],
  ] as const) {
    if (o.outcome !== 'executed' || !o.response || o.alerts.length > 0)
      throw new Error(`${name} sample: ${o.outcome} (${o.reason ?? 'no reason'}), benchmark set-up is wrong`)
  }

  // ---------------------------------------------------------------------------------------------
  // The raw cryptography, straight on node:crypto with every byte string taken from the real
  // frames above (decoded once, here): ECDSA verify and sign on cached KeyObjects, the GBCS KDF
  // (one one-shot SHA-256 over 00000001 ‖ Z ‖ OtherInfo, the ECDH secret Z cached as the device caches it)
  // and the GMAC (AES-128-GCM with no plaintext, 12-byte tag, compared in constant time).
  const armFrame = decodeFrame(armCommands[0]!)
  const armResponse = decodeFrame(armSample.response!)
  const readFrame = decodeFrame(readCommands[0]!)
  const readResponse = decodeFrame(readSample.response!)
  if (armResponse.mac || armResponse.signing.signature.kind !== 'ecdsa' || !readResponse.mac)
    throw new Error('responses are not protected as expected: benchmark set-up is wrong')

  const SPKI_P256 = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')
  const supplierVerifyKey = {
    key: createPublicKey({
      key: Buffer.concat([SPKI_P256, cells.supplierDs!.publicKey]),
      format: 'der',
      type: 'spki',
    }),
    dsaEncoding: 'ieee-p1363' as const,
  }
  const deviceDs = backend.importPrivateKey(esme.keys.ds)
  const deviceSignKey = {
    key: createPrivateKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: b64u(deviceDs.publicKey.point.subarray(1, 33)),
        y: b64u(deviceDs.publicKey.point.subarray(33)),
        d: b64u(esme.keys.ds),
      },
      format: 'jwk',
    }),
    dsaEncoding: 'ieee-p1363' as const,
  }
  const deviceKa = backend.importPrivateKey(esme.keys.ka!)
  const acbSecret = backend.ecdh(deviceKa, backend.importPublicKey(cells.accessControlBrokerKa!.publicKey))
  const supplierSecret = backend.ecdh(deviceKa, backend.importPublicKey(cells.supplierKa!.publicKey))
  const KDF_COUNTER = Uint8Array.of(0, 0, 0, 1)

  interface MacInputs {
    z: Uint8Array
    otherInfo: Uint8Array
    iv: Uint8Array
    aad: Uint8Array
    mac: Uint8Array
  }
  const macInputs = (f: GbcsFrame, z: Uint8Array): MacInputs => ({
    z,
    otherInfo: gbcsOtherInfo({
      originator: f.signing.originator,
      cra: f.signing.cra,
      counter: f.signing.originatorCounter,
      recipient: f.signing.recipient,
    }),
    iv: gbcsIv(f.signing.originator),
    aad: macAad(f.signing),
    mac: f.mac ?? new Uint8Array(12),
  })
  const armMac = macInputs(armFrame, acbSecret)
  const readMac = macInputs(readFrame, acbSecret)
  const readResponseMac = macInputs(readResponse, supplierSecret)
  const signatureOf = (f: GbcsFrame) =>
    f.signing.signature.kind === 'ecdsa' ? f.signing.signature.bytes : new Uint8Array(64)
  const armTbs = signedBytes(armFrame.signing)
  const armSignature = signatureOf(armFrame)

  // The raw cryptography of every command in the pools, inputs prepared before timing: the raw
  // loops walk the same distinct commands (and responses: the sample's, with each command's
  // counter) as the firmware loops do, so neither side gets a cache-hot single message.
  interface RawCritical {
    tbs: Uint8Array
    signature: Uint8Array
    mac: MacInputs
    responseTbs: Uint8Array
  }
  const rawArm: RawCritical[] = armCommands.map((bytes) => {
    const f = decodeFrame(bytes)
    const response = { ...armResponse.signing, originatorCounter: f.signing.originatorCounter }
    return {
      tbs: signedBytes(f.signing),
      signature: signatureOf(f),
      mac: macInputs(f, acbSecret),
      responseTbs: signedBytes(response),
    }
  })
  const rawRead: { mac: MacInputs; response: MacInputs }[] = readCommands.map((bytes) => {
    const f = decodeFrame(bytes)
    const response = {
      ...readResponse,
      signing: { ...readResponse.signing, originatorCounter: f.signing.originatorCounter },
    }
    return { mac: macInputs(f, acbSecret), response: macInputs(response, supplierSecret) }
  })

  // The KDF's 69-byte input (00000001 ‖ Z ‖ OtherInfo) hashed in one call, node's one-shot hash:
  // the cheapest node:crypto way, which the firmware uses too.
  const kdfInput = Buffer.alloc(4 + 32 + 33)
  kdfInput.set(KDF_COUNTER, 0)
  function rawGmac(m: MacInputs): Buffer {
    kdfInput.set(m.z, 4)
    kdfInput.set(m.otherInfo, 36)
    const key = hash('sha256', kdfInput, 'buffer').subarray(0, 16)
    const gmac = createCipheriv('aes-128-gcm', key, m.iv, { authTagLength: 12 })
    gmac.setAAD(m.aad)
    gmac.final()
    return gmac.getAuthTag()
  }
  const rawMacCheck = (m: MacInputs) => timingSafeEqual(rawGmac(m), m.mac)

  // Sanity: the raw paths reproduce what the firmware and test support computed.
  const checks: [string, boolean][] = [
    [
      'raw verify of the ECS44 signature',
      nodeVerify('sha256', rawArm[1]!.tbs, supplierVerifyKey, rawArm[1]!.signature),
    ],
    ['raw MAC check of ECS44', rawMacCheck(armMac) && rawMacCheck(rawArm[1]!.mac)],
    ['raw MAC check of ECS45', rawMacCheck(readMac) && rawMacCheck(rawRead[1]!.mac)],
    ['raw MAC of the ECS45 response', rawMacCheck(readResponseMac)],
  ]
  for (const [name, ok] of checks) if (!ok) throw new Error(`${name} fails: benchmark set-up is wrong`)

  // ---------------------------------------------------------------------------------------------
  // The firmware loops. Each call takes the next command, whose counter is above the last the
  // state accepted, and carries the new state on; when the pool runs out the next command goes
  // to the freshly made device again (counters start over there), so every step executes.
  // Any step that does not execute and answer is counted and fails the run afterwards.
  let misses = 0
  function firmwareLoop(commands: Uint8Array[]): () => void {
    let state: DeviceState = esme
    let next = 0
    return () => {
      if (next === commands.length) {
        state = esme
        next = 0
      }
      const r = step(state, { kind: 'frame', bytes: commands[next++]! }, T0, { backend })
      if (r.outputs.outcome !== 'executed' || !r.outputs.response) misses++
      state = r.state
    }
  }

  /** A task that applies `f` to each element of `pool` in turn. */
  function walk<T>(pool: T[], f: (x: T) => void): () => void {
    let next = 0
    return () => {
      f(pool[next]!)
      next = next + 1 === pool.length ? 0 : next + 1
    }
  }

  const BASELINE = 'baseline: node:crypto verify, cached KeyObject'
  const RAW_44 = 'raw crypto of one Critical command: verify + KDF + GMAC check + sign response'
  const RAW_45 = 'raw crypto of one non-critical command: KDF + GMAC check + KDF + GMAC response'
  const DEVICE_44 = 'device handles ECS44 (Critical)'
  const DEVICE_45 = 'device handles ECS45 (non-critical)'

  // Several short rounds, each timing every task once, rather than one long run: on a shared
  // machine the load drifts between tasks, and a ratio taken within one round shares its drift.
  // Every other round times each device task before its raw crypto instead of after, so a drift
  // in one direction does not favour either side. Printed: the last round's table (in the usual
  // order: the round count is odd); the goals use the median of the per-round ratios.
  const ROUNDS = quick ? 3 : 7
  const ratios = { arm: [] as number[], read: [] as number[] }
  let bench!: Bench
  for (let round = 0; round < ROUNDS; round++) {
    bench = new Bench({ time: TIME_MS / ROUNDS, warmupTime: WARMUP_MS, iterations: 16, throws: true })
    const raw44 = walk(rawArm, (c) => {
      nodeVerify('sha256', c.tbs, supplierVerifyKey, c.signature)
      rawMacCheck(c.mac)
      nodeSign('sha256', c.responseTbs, deviceSignKey)
    })
    const raw45 = walk(rawRead, (c) => {
      rawMacCheck(c.mac)
      rawGmac(c.response)
    })
    const pairs: [string, () => void][][] = [
      [
        [RAW_44, raw44],
        [DEVICE_44, firmwareLoop(armCommands)],
      ],
      [
        [RAW_45, raw45],
        [DEVICE_45, firmwareLoop(readCommands)],
      ],
    ]
    bench.add(BASELINE, () => {
      nodeVerify('sha256', armTbs, supplierVerifyKey, armSignature)
    })
    for (const pair of pairs)
      for (const [name, fn] of round % 2 ? [...pair].reverse() : pair) bench.add(name, fn)
    await bench.run()
    ratios.arm.push(medianOps(bench, DEVICE_44) / medianOps(bench, RAW_44))
    ratios.read.push(medianOps(bench, DEVICE_45) / medianOps(bench, RAW_45))
  }
  const seconds = (performance.now() - started) / 1000
  if (misses > 0) throw new Error(`${misses} timed steps did not execute: the measurement is void`)

  const rows = ratioRows(bench, BASELINE)

  report.log(
    `\nSMETS2 device firmware (node ${process.version}, native backend, ${seconds.toFixed(1)} s` +
      `${quick ? ', --quick' : ''}), ${armCommands[0]!.length}-byte ECS44 and ${readCommands[0]!.length}-byte ` +
      `ECS45 commands, ${POOL.toLocaleString('en-GB')} of each with rising counters; last of ${ROUNDS} rounds:`,
  )
  report.table(rows)
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  const each = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ')
  report.log(`device ECS44 / raw crypto per round: ${each(ratios.arm)}; ECS45: ${each(ratios.read)}`)

  const goals: [string, number, number][] = [
    ['device ECS44 vs raw crypto of the command (median of rounds)', median(ratios.arm), 0.8],
    ['device ECS45 vs raw crypto of the command (median of rounds)', median(ratios.read), 0.8],
  ]
  for (const [goal, ratio, target] of goals) {
    report.log(`${ratio >= target ? 'PASS' : 'FAIL'}  ${goal}: ${ratio.toFixed(2)}× (goal ≥ ${target})`)
  }
  for (const f of benchFigures(SUITE, bench, BASELINE)) report.figure(f)
  for (const [name, xs, raw] of [
    [`${DEVICE_44} vs its raw crypto, median of rounds`, ratios.arm, RAW_44],
    [`${DEVICE_45} vs its raw crypto, median of rounds`, ratios.read, RAW_45],
  ] as const)
    report.figure({ suite: SUITE, name, unit: '×', median: median(xs), ratio: median(xs), baseline: raw })

  // ---------------------------------------------------------------------------------------------
  // Memory per idle device: FLEET devices held in a preallocated array (the array's own slots are
  // not counted), all sharing one cells object, as a fleet does. heapUsed + arrayBuffers after a
  // full GC, before and after making them. Then, for the ESME, the same with parts of the state
  // swapped for one shared object after creation, to show what each part costs.
  const gc = callableGc()
  const euiOf = (i: number) => `00DB12${(0x100000 + i).toString(16).toUpperCase().padStart(10, '0')}`

  function settledBytes(): number {
    for (let i = 0; i < 3; i++) gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }

  function bytesPerDevice(make: (i: number) => DeviceState): number {
    for (let i = 0; i < 200; i++) make(i) // compile and warm the path first
    const held: DeviceState[] = new Array(FLEET)
    const before = settledBytes()
    for (let i = 0; i < FLEET; i++) held[i] = make(i)
    const after = settledBytes()
    if (held[FLEET - 1]?.cells !== cells) throw new Error('fleet not held')
    return (after - before) / FLEET
  }

  const idle = (type: 'ESME' | 'GSME') => (i: number) => createDevice({ type, eui: euiOf(i), cells, now: T0 })
  const esmeBytes = bytesPerDevice(idle('ESME'))
  const gsmeBytes = bytesPerDevice(idle('GSME'))

  const template = createDevice({ type: 'ESME', eui: euiOf(0), cells, now: T0 })
  type Strip = (d: DeviceState) => void
  const strips: [string, Strip][] = [
    ['own keys (two 32-byte scalars and their object)', (d) => (d.keys = template.keys)],
    ['prepayment config (own copy)', (d) => (d.config = template.config)],
    ['account', (d) => (d.account = template.account)],
    [
      'load, counters, utrns',
      (d) => {
        d.load = template.load
        d.counters = template.counters
        d.utrns = template.utrns
      },
    ],
  ]
  const breakdown: { 'ESME state': string; 'B/device': string; 'this part': string }[] = []
  let previous = esmeBytes
  breakdown.push({ 'ESME state': 'as created', 'B/device': esmeBytes.toFixed(0), 'this part': '' })
  for (let k = 0; k < strips.length; k++) {
    const applied = strips.slice(0, k + 1).map(([, f]) => f)
    const bytes = bytesPerDevice((i) => {
      const d = idle('ESME')(i)
      for (const f of applied) f(d)
      return d
    })
    breakdown.push({
      'ESME state': `… with shared ${strips[k]![0]}`,
      'B/device': bytes.toFixed(0),
      'this part': (previous - bytes).toFixed(0),
    })
    previous = bytes
  }
  breakdown.push({
    'ESME state': 'left: the state object itself and its EUI string',
    'B/device': previous.toFixed(0),
    'this part': previous.toFixed(0),
  })

  report.log(
    `\nIdle devices: ${FLEET.toLocaleString('en-GB')} held at once, one shared cells object ` +
      '(heapUsed + arrayBuffers after a full GC)',
  )
  report.table(breakdown)

  const snapshotBytes = (type: 'ESME' | 'GSME') =>
    snapshotDevice(createDevice({ type, eui: euiOf(1), cells, now: T0 })).length
  const certificateBytes = Object.values(cells).reduce((n, c) => n + c.certificate.length, 0)
  report.log(
    `CBOR snapshot of one idle device: ESME ${snapshotBytes('ESME')} B, GSME ${snapshotBytes('GSME')} B ` +
      `(of which ${certificateBytes} B are the ${Object.keys(cells).length} cells' DER certificates)`,
  )
  // A prepayment ESME a fleet has been running: made with £50, then a day of consumption settled
  // (its daily-shape table is built and cached with its load profile; see prepayment/README.md).
  const prepaymentBytes = bytesPerDevice((i) => {
    const d = createDevice({
      type: 'ESME',
      eui: euiOf(i),
      cells,
      now: T0,
      paymentMode: 'prepayment',
      meterBalance: 5_000_000,
    })
    return step(d, { kind: 'time' }, T0 + 86_400_000, { backend }).state
  })
  report.log(
    `prepayment ESME after a day settled: ${prepaymentBytes.toFixed(0)} B per device ` +
      '(not idle in the sense of the goal: its day table is cached with it)',
  )
  // Memory has no baseline measured in the run: ratio and baseline are null (bench/README.md).
  for (const [name, bytes] of [
    ['bytes per idle ESME', esmeBytes],
    ['bytes per idle GSME', gsmeBytes],
    ['bytes per prepayment ESME after a day settled', prepaymentBytes],
  ] as const)
    report.figure({ suite: SUITE, name, unit: 'B', median: bytes, ratio: null, baseline: null })
  for (const [type, bytes] of [
    ['ESME', esmeBytes],
    ['GSME', gsmeBytes],
  ] as const) {
    report.log(
      `${bytes <= BYTES_GOAL ? 'PASS' : 'FAIL'}  bytes per idle ${type}: ${bytes.toFixed(0)} B (goal ≤ ${BYTES_GOAL} B)`,
    )
  }

  /** `global.gc` when node was started with --expose-gc; otherwise the flag set now, and gc taken from a new context. */
  function callableGc(): () => void {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (typeof exposed === 'function') return exposed
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as unknown
    if (typeof gc !== 'function')
      throw new Error('no callable GC: run with `node --expose-gc --import tsx bench/device.ts`')
    return gc as () => void
  }

  function b64u(b: Uint8Array): string {
    return Buffer.from(b).toString('base64url')
  }
}

if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

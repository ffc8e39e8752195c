/**
 * The DCC (packages/dcc): Service Requests per second through the whole pipeline — SAT request
 * record, access control (with its SAT decision), GBCS construction, the User's signature for a
 * Critical SRV, the ACB's MAC — as a ratio to the raw cryptography those need, measured in the
 * same run; the Service Audit Trail's append rate under each durability setting; and the file
 * SAT at fleet scale (1,000,000 records, 100,000 with --quick) in a process of its own
 * (bench/lib/sat-scale.ts): append rate as a ratio to the in-memory SAT's, reopen time and RSS.
 *
 * The transport answers nothing, so each request ends E21 after its last SAT record: the device's
 * side is measured in bench/device.ts. The test PKI and parties come from the dcc package's
 * test support (packages/dcc/src/gbcs/testing.ts), imported by path for this benchmark only.
 *
 *   node --import tsx bench/dcc.ts [--quick]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bench } from 'tinybench'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import {
  createDcc,
  createInProcessSigner,
  createMemorySat,
  openSat,
  RegistrationData,
  type SatDurability,
  SmartMeteringInventory,
  UserDirectory,
} from '../packages/dcc/src/index.ts'
import { gbcsKdf, gbcsMac } from '../packages/gbcs/src/index.ts'
import { consoleReport, isMain, optionsFromArgv, type Report } from './lib/report.ts'
import { benchFigures, medianOps, ratioRows } from './lib/table.ts'

const SUITE = 'dcc'

export async function run(report: Report): Promise<void> {
  const quick = report.options.quick
  const A = PARTIES.supplierA.eui

  function estate() {
    const registration = new RegistrationData()
    registration.assignMpid('AAAA', A, '2020-01-01')
    registration.registerSupplier('1900000000001', 'AAAA', '2020-01-01')
    const inventory = new SmartMeteringInventory()
    inventory.add({
      deviceId: ESME_EUI,
      type: 'ESME',
      mpxn: '1900000000001',
      status: 'Commissioned',
      at: '2020-01-02',
    })
    const deviceKa = backend.generatePrivateKey()
    const sat = createMemorySat({ now: () => new Date(T0) })
    const dcc = createDcc({
      users: new UserDirectory([{ userId: A, name: 'Supplier A', roles: ['IS', 'GS'] }]),
      registration,
      inventory,
      sat,
      acb: ACB,
      cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
      deviceKeyAgreement: () => deviceKa.publicKey,
      userCertificates: () => undefined,
      transport: async () => undefined,
      now: () => T0,
      signers: { [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend) },
      backend,
    })
    return { dcc, deviceKa }
  }

  const { dcc, deviceKa } = estate()
  let counter = 0
  const request = (srv: string, commandVariant: number) => ({
    requestId: `${A}:${ESME_EUI}:${++counter}`,
    role: 'IS',
    srv,
    commandVariant,
    deviceType: 'ESME' as const,
  })

  // The raw cryptography a request needs: for a Critical one the User's signature and the DCC's
  // check of it against the User's certificate, and for every one the ACB's KDF and GMAC (the ECDH
  // secret cached, as the DCC has it).
  const signer = privateRef(PARTIES.supplierA.ds)
  const z = backend.ecdh(privateRef(PARTIES.acb.ka), deviceKa.publicKey)
  const message = new Uint8Array(120).fill(7)
  const signature = backend.sign(signer, message)
  const aad = new Uint8Array(160).fill(9)
  const rawMac = () => {
    const key = gbcsKdf(z, { originator: A, cra: 'command', counter: 1n, recipient: ESME_EUI })
    return gbcsMac(key, A, aad)
  }

  const bench = new Bench({ time: quick ? 300 : 2000, warmupTime: quick ? 100 : 500 })
  const RAW_CRITICAL = 'raw crypto of a Critical SR: sign + verify + KDF + GMAC'
  const RAW_NON_CRITICAL = 'raw crypto of a non-critical SR: KDF + GMAC'
  const CRITICAL = 'DCC: SR 7.2 (Critical, signed in-process) to GBCS'
  const NON_CRITICAL = 'DCC: SR 7.4 (non-critical) to GBCS'
  let outcome = ''
  bench
    .add(RAW_CRITICAL, () => {
      backend.sign(signer, message)
      backend.verify(signer.publicKey, message, signature)
      rawMac()
    })
    .add(CRITICAL, async () => {
      outcome = (await dcc.submit(request('7.2', 4))).code
    })
    .add(RAW_NON_CRITICAL, () => {
      rawMac()
    })
    .add(NON_CRITICAL, async () => {
      outcome = (await dcc.submit(request('7.4', 1))).code
    })
  await bench.run()
  // Each request must have gone all the way to the transport (E21: it answered nothing).
  if (outcome !== 'E21')
    throw new Error(`requests ended ${outcome}, not at the transport: the measurement is void`)

  report.log(`\nDCC Service Requests (node ${process.version}, native backend)`)
  report.table(ratioRows(bench, RAW_CRITICAL))
  for (const f of benchFigures(SUITE, bench, RAW_CRITICAL)) report.figure(f)
  for (const [what, dccTask, raw] of [
    ['Critical SR vs its raw crypto', CRITICAL, RAW_CRITICAL],
    ['non-critical SR vs its raw crypto', NON_CRITICAL, RAW_NON_CRITICAL],
  ] as const) {
    const ops = medianOps(bench, dccTask)
    const ratio = ops / medianOps(bench, raw)
    report.log(`${what}: ${ratio.toFixed(2)}×`)
    // Against the table's own baseline the figure is already out (benchFigures above).
    if (raw !== RAW_CRITICAL)
      report.figure({ suite: SUITE, name: dccTask, unit: 'ops/s', median: ops, ratio, baseline: raw })
  }

  // The Service Audit Trail's append rate, per durability setting, on the local disk.
  const dir = mkdtempSync(join(tmpdir(), 'smetsim-bench-sat-'))
  const satBench = new Bench({ time: quick ? 300 : 1500, warmupTime: 100 })
  const memory = createMemorySat()
  const entry = (i: number) => ({
    kind: 'decision' as const,
    requestId: `${A}:${ESME_EUI}:${i}`,
    user: A,
    role: 'IS' as const,
    srv: '7.2',
    device: ESME_EUI,
    code: 'I99',
  })
  let n = 0
  satBench.add('SAT append, in memory', () => {
    memory.append(entry(++n))
  })
  const files: { close(): void }[] = []
  for (const durability of ['none', 'fsync-batch', 'fsync-each'] as SatDurability[]) {
    const sat = openSat(join(dir, `${durability}.jsonl`), { durability })
    files.push(sat)
    satBench.add(`SAT append to a file, ${durability}`, () => {
      sat.append(entry(++n))
    })
  }
  await satBench.run()
  for (const f of files) f.close()
  rmSync(dir, { recursive: true, force: true })
  report.log('\nService Audit Trail appends (ratios to the in-memory SAT)')
  report.table(ratioRows(satBench, 'SAT append, in memory'))
  for (const f of benchFigures(SUITE, satBench, 'SAT append, in memory')) report.figure(f)

  // The file SAT at fleet scale, in a child process so that its memory is its own.
  const scale = quick ? 100_000 : 1_000_000
  const scaled = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        new URL('./lib/sat-scale.ts', import.meta.url).pathname,
        String(scale),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    ),
  )
  const memoryRate = medianOps(satBench, 'SAT append, in memory')
  report.figure({
    suite: SUITE,
    name: `file SAT appends over ${scale} records (durability none)`,
    unit: 'ops/s',
    median: scaled.appendsPerSecond,
    ratio: scaled.appendsPerSecond / memoryRate,
    baseline: 'SAT append, in memory',
  })
  report.log(`\nThe file SAT at ${scale.toLocaleString('en-GB')} records (durability none)`)
  report.table({
    'appends/s over the whole run': scaled.appendsPerSecond.toLocaleString('en-GB'),
    'vs SAT append, in memory (above)': `${(scaled.appendsPerSecond / memoryRate).toFixed(3)}×`,
    'file size, MB': Math.round(scaled.fileBytes / 2 ** 20),
    'RSS at start, MB': scaled.rssStartMB,
    'RSS after the appends, MB': scaled.rssAfterAppendMB,
    'reopen (verify the chain), s': scaled.reopenSeconds,
    'RSS after reopening, MB': scaled.rssAfterReopenMB,
    'query one RequestID, ms': scaled.queries.byRequestId.ms,
    'query 100 of a device, ms': scaled.queries.byDevice100.ms,
    'query the first 1000, ms': scaled.queries.first1000.ms,
  })
}

if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

/**
 * The DCC (packages/dcc): Service Requests per second through the whole pipeline — SAT request
 * record, access control (with its SAT decision), GBCS construction, the User's signature for a
 * Critical SRV, the ACB's MAC — as a ratio to the raw cryptography those need, measured in the
 * same run; the Service Audit Trail's append rate under each durability setting; and the file
 * SAT at fleet scale (1,000,000 records, 100,000 with --quick) in a process of its own
 * (bench/lib/sat-scale.ts): append rate as a ratio to the in-memory SAT's, reopen time and RSS.
 *
 * Then DCC Schedules at scale (`schedulesAt`): SR 5.1 creations per second and scheduled runs
 * per second (500 of each) with 1 000 and with 100 000 schedules already held (`--quick`: 1 000 and 10 000), as
 * the ratio of the large book's rate to the small one's, in alternating rounds: ≈ 1 when the
 * book's operations do not grow with its size.
 *
 * The transport answers nothing, so each request ends E21 after its last SAT record: the device's
 * side is measured in bench/device.ts. The test PKI and parties come from the dcc package's
 * test support (packages/dcc/src/gbcs/testing.ts), imported by path for this benchmark only.
 *
 *   node --import tsx bench/dcc.ts [--quick] [--only schedules]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bench } from 'tinybench'
import { parseEui } from '../packages/core/src/index.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import {
  createDcc,
  createInProcessSigner,
  createMemorySat,
  type DuisRequest,
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
/** `--only schedules`: the DCC Schedules part alone. */
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined

export async function run(report: Report): Promise<void> {
  const quick = report.options.quick
  if (only !== undefined && only !== 'schedules') throw new Error(`--only schedules, not '${only}'`)
  if (only === 'schedules') return schedulesAtScale(report, quick)
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

  await schedulesAtScale(report, quick)

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

const DAY = 86_400_000
/** Schedules per device in the scale test (the cap is 99 per User and device). */
const PER_DEVICE = 90

/**
 * A DCC holding `n` daily SR 4.16 schedules of one supplier (90 a device, at instants spread over
 * the day, first run tomorrow), handed in as the plain schedule book `createDcc` takes back
 * (`schedules`); then `k` more made by SR 5.1 through the pipeline, timed, and the runs due in the
 * first 1/`n`·`k` of tomorrow (about `k`) run by `runDueSchedules`, timed. Rates per second.
 */
async function schedulesAt(n: number, k: number): Promise<{ creates: number; runs: number; ran: number }> {
  const A = PARTIES.supplierA.eui
  const devices = Math.ceil((n + k) / PER_DEVICE)
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  const inventory = new SmartMeteringInventory()
  const device = (d: number) => parseEui(`00DB12${d.toString(16).toUpperCase().padStart(10, '0')}`)
  for (let d = 0; d < devices; d++) {
    const mpxn = String(1_900_000_000_000 + d)
    registration.registerSupplier(mpxn, 'AAAA', '2020-01-01')
    inventory.add({ deviceId: device(d), type: 'ESME', mpxn, status: 'Commissioned', at: '2020-01-02' })
  }
  const tomorrow = new Date(T0 + DAY).toISOString().slice(0, 10)
  const tomorrowMs = Date.parse(`${tomorrow}T00:00:00Z`)
  const deviceKa = backend.generatePrivateKey()
  // Second of the day of schedule i: spread over the day, the same for any n.
  const second = (i: number) => Math.floor(((i * 7_919) % n) * (86_400 / n))
  const hms = (s: number) =>
    [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((x) => String(x).padStart(2, '0')).join(':')
  const schedules = []
  const counters: { [k: string]: string } = {}
  for (let i = 0; i < n; i++) {
    const number = i + 1
    const deviceId = device(Math.floor(i / PER_DEVICE))
    const executionTime = hms(second(i))
    schedules.push({
      scheduleId: `DS${String(number).padStart(6, '0')}`,
      number,
      owner: A,
      role: 'IS' as const,
      request: { srv: '4.16', deviceId, deviceType: 'ESME', commandVariant: 1, parameters: {} },
      frequency: 'Daily' as const,
      startDate: tomorrow,
      executionTime,
      createdAt: new Date(T0).toISOString(),
      createdBy: `${A}:${deviceId}:1`,
      nextRun: 1,
      nextDue: `${tomorrow}T${executionTime}.000Z`,
    })
    counters[`${A}:${deviceId}`] = '0'
  }
  let now = T0
  const dcc = createDcc({
    users: new UserDirectory([{ userId: A, name: 'Supplier A', roles: ['IS', 'GS'] }]),
    registration,
    inventory,
    sat: createMemorySat({ now: () => new Date(now) }),
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: () => deviceKa.publicKey,
    userCertificates: () => undefined,
    transport: async () => undefined,
    now: () => now,
    backend,
    schedules: { version: 2, nextNumber: n + 1, schedules, counters },
    // Above the default 100 000 a User: the large book is one supplier's.
    scheduleLimits: { perUser: n + k },
  })
  let t = performance.now()
  for (let j = 0; j < k; j++) {
    const deviceId = device(Math.floor((n + j) / PER_DEVICE))
    const request: DuisRequest = {
      requestId: `${A}:${deviceId}:${j + 2}`,
      role: 'IS',
      srv: '5.1',
      commandVariant: 8,
      deviceType: 'ESME',
      parameters: {
        scheduleFrequency: 'Daily',
        scheduleStartDate: tomorrow,
        scheduleExecutionStartTime: '23:59:00',
        dspScheduledServiceReferenceVariant: '4.16',
      },
    }
    const r = await dcc.submit(request)
    if (r.code !== 'I0') throw new Error(`SR 5.1 answered ${r.code}: ${r.reason}`)
  }
  const creates = k / ((performance.now() - t) / 1000)
  now = tomorrowMs + DAY
  const upTo = tomorrowMs + Math.floor(((86_400 * k) / n) * 1000)
  t = performance.now()
  const ran = await dcc.runDueSchedules(upTo)
  const runs = ran.length / ((performance.now() - t) / 1000)
  if (ran.some((r) => r.result.code !== 'E21'))
    throw new Error('a scheduled run did not reach the transport: the measurement is void')
  return { creates, runs, ran: ran.length }
}

async function schedulesAtScale(report: Report, quick: boolean) {
  const small = 1_000
  const large = quick ? 10_000 : 100_000
  const k = 500
  const rounds = quick ? 3 : 5
  const rates: Record<'small' | 'large', { creates: number[]; runs: number[]; ran: number[] }> = {
    small: { creates: [], runs: [], ran: [] },
    large: { creates: [], runs: [], ran: [] },
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)
    for (const size of order) {
      const r = await schedulesAt(size === 'small' ? small : large, k)
      rates[size].creates.push(r.creates)
      rates[size].runs.push(r.runs)
      rates[size].ran.push(r.ran)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  report.log(
    `\nDCC Schedules: ${k} SR 5.1 creations and ~${k} scheduled runs (SR 4.16 to an E21 transport) with ` +
      `${small} vs ${large} schedules held; medians of ${rounds} rounds`,
  )
  const rows = []
  for (const what of ['creates', 'runs'] as const) {
    const s = median(rates.small[what])
    const l = median(rates.large[what])
    const name = what === 'creates' ? 'SR 5.1 creations' : 'scheduled runs'
    rows.push({
      what: `${name}/s`,
      [`${small} held`]: Math.round(s),
      [`${large} held`]: Math.round(l),
      ratio: (l / s).toFixed(2),
    })
    report.figure({
      suite: SUITE,
      name: `DCC Schedules: ${name} with ${large} held`,
      unit: 'ops/s',
      median: l,
      ratio: l / s,
      baseline: `the same with ${small} held`,
    })
  }
  report.table(rows)
  report.log(
    `runs per round: ${small} held ${rates.small.ran.join(', ')}; ${large} held ${rates.large.ran.join(', ')}`,
  )
}

if (isMain(import.meta.url)) await run(consoleReport(optionsFromArgv(process.argv)))

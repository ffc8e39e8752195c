/**
 * Fleet benchmark (packages/fleet): memory and build time of a whole fleet, built and brought up
 * idle — devices, Registration Data, the Smart Metering Inventory, Users, PKI (buildFleet), then a
 * Communications Hub per premise with its meters attached and the DCC over them on the in-process
 * WAN (startFleet) — at 10 000, 100 000 and 1 000 000 premises (`--quick`: 10 000 only), each in a child process of its own (a clean heap,
 * `--expose-gc`, and `--max-old-space-size` as the size needs), against two baselines measured in
 * the same child: the bytes of an idle `createDevice` ESME, and raw P-256 key generation for as
 * many keys as the fleet's meters hold.
 *
 *   node --import tsx bench/fleet.ts [--quick] [--sizes 10000,100000]
 *
 * Memory is heapUsed + external + arrayBuffers after a full GC, before the build and after the
 * run is up. Goal (issue 12): at 100 000 premises ≤ 4 KB per device, everything counted (hubs,
 * devices, the DCC with its registration and inventory), built and up in < 30 s.
 */
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createScheduler } from '../packages/core/src/index.ts'
import { RegistrationData, SmartMeteringInventory } from '../packages/dcc/src/index.ts'
import { createDevice, type DeviceState } from '../packages/device/src/index.ts'
import {
  buildFleet,
  createFleetPki,
  type FleetRun,
  installedCells,
  parseFleetSpec,
  startFleet,
} from '../packages/fleet/src/index.ts'
import { getBackend } from '../packages/gbcs/src/index.ts'
import { consoleReport, isMain, optionsFromArgv, type Report } from './lib/report.ts'

const GOAL_BYTES = 4096
const GOAL_SECONDS = 30
/** The largest fleet whose bytes are broken down by part. */
const PARTS_UP_TO = 100_000
/** Heap limit per size, MB: about 7 KB a premise live, with room for the build's garbage. */
const HEAP_MB = (premises: number) => Math.max(2048, Math.ceil((premises * 14_000) / 1e6))
/** A larger limit the bench itself was started with (`node --max-old-space-size=N`) goes to the children. */
const GIVEN_HEAP_MB = Number(
  process.execArgv.map((a) => /^--max-old-space-size=(\d+)$/.exec(a)?.[1]).find((x) => x) ?? 0,
)
const heapFor = (premises: number) => Math.max(HEAP_MB(premises), GIVEN_HEAP_MB)

interface Measured {
  premises: number
  heapLimitMb: number
  /** buildFleet alone, then startFleet (hubs up, the DCC made). */
  buildSeconds: number
  upSeconds: number
  /** CPU seconds of the process (every thread: user + system) over each: what the shared machine's load does not inflate. */
  buildCpuSeconds: number
  upCpuSeconds: number
  /** Everything: the fleet and the run (hubs, DCC). */
  bytes: number
  /** Of which the run added (hubs, the DCC and its head end). */
  runBytes: number
  hubs: number
  emulatedDevices: number
  smiDevices: number
  meterKeys: number
  parts: Record<string, number>
  baselineEsmeBytes: number
  keygenSecondsSameKeys: number
  publicKeySecondsSameKeys: number
  peakRssMb: number
}

const SUITE = 'fleet'

if (isMain(import.meta.url)) {
  const childAt = process.argv.indexOf('--child')
  if (childAt >= 0) {
    const result = await child(Number(process.argv[childAt + 1]))
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } else {
    await run(consoleReport(optionsFromArgv(process.argv)))
  }
}

export async function run(report: Report): Promise<void> {
  const { quick } = report.options
  const sizes = report.options.sizes ?? (quick ? [10_000] : [10_000, 100_000, 1_000_000])
  const here = fileURLToPath(import.meta.url)
  const rows: Record<string, string>[] = []
  const measured: Measured[] = []
  for (const premises of sizes) {
    const heap = heapFor(premises)
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', `--max-old-space-size=${heap}`, '--import', 'tsx', here, '--child', String(premises)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    )
    const line = run.stdout.trim().split('\n').at(-1)
    if (run.status !== 0 || !line) {
      report.log(`${premises} premises: the child failed (exit ${run.status}, ${run.signal ?? 'no signal'}):`)
      report.log(run.stderr.trim().split('\n').slice(-8).join('\n'))
      continue
    }
    const m = JSON.parse(line) as Measured
    measured.push(m)
    const perDevice = m.bytes / m.emulatedDevices
    report.figure({
      suite: SUITE,
      name: `bytes per device at ${m.premises} premises`,
      unit: 'B',
      median: perDevice,
      ratio: perDevice / m.baselineEsmeBytes,
      baseline: 'idle createDevice ESME, same process',
    })
    const seconds = m.buildSeconds + m.upSeconds
    report.figure({
      suite: SUITE,
      name: `build and bring-up time at ${m.premises} premises`,
      unit: 's',
      median: seconds,
      ratio: seconds / m.keygenSecondsSameKeys,
      baseline: "raw node:crypto P-256 keygen of the meters' keys, same process",
    })
    rows.push({
      premises: m.premises.toLocaleString('en-GB'),
      'build s': m.buildSeconds.toFixed(1),
      'up s': m.upSeconds.toFixed(1),
      'build+up CPU s': `${m.buildCpuSeconds.toFixed(1)}+${m.upCpuSeconds.toFixed(1)}`,
      'MB (heap+ext+ab)': (m.bytes / 1e6).toFixed(0),
      'of which run MB': (m.runBytes / 1e6).toFixed(0),
      'B/premise': (m.bytes / m.premises).toFixed(0),
      'B/device': (m.bytes / m.emulatedDevices).toFixed(0),
      'B/SMI device': (m.bytes / m.smiDevices).toFixed(0),
      'vs idle ESME': `${(m.bytes / m.emulatedDevices / m.baselineEsmeBytes).toFixed(2)}×`,
      'build+up vs raw keygen': `${((m.buildSeconds + m.upSeconds) / m.keygenSecondsSameKeys).toFixed(2)}×`,
      'peak RSS MB': m.peakRssMb.toFixed(0),
      '--max-old-space-size': String(m.heapLimitMb),
    })
  }
  report.log(
    `\nFleet (node ${process.version}): whole fleet built and brought up idle (startFleet: a hub per ` +
      'premise, the DCC, in-process WAN) in a fresh process per size, everything counted; ' +
      '"device" = ESME, GSME or PPMID state held (what the fleet emulates), "SMI device" = every ' +
      'Smart Metering Inventory record (also CHF and GPF).',
  )
  report.table(rows)
  for (const m of measured) {
    const parts = Object.entries(m.parts)
      .map(([k, v]) => `${k} ${(v / m.premises).toFixed(0)}`)
      .join(', ')
    report.log(
      `${m.premises.toLocaleString('en-GB')} premises, bytes per premise by part: ${parts || `not measured above ${PARTS_UP_TO.toLocaleString('en-GB')} premises`}`,
    )
    report.log(
      `  baselines in that process: idle createDevice ESME ${m.baselineEsmeBytes.toFixed(0)} B; raw keygen of ` +
        `${m.meterKeys.toLocaleString('en-GB')} P-256 keys (the meters' DS + KA) ${m.keygenSecondsSameKeys.toFixed(1)} s ` +
        `(extrapolated from 20,000); deriving every meter's KA public key, as a DCC asking for all of them would, ` +
        `${m.publicKeySecondsSameKeys.toFixed(1)} s (extrapolated from 5,000)`,
    )
  }
  const at100k = measured.find((m) => m.premises === 100_000)
  if (at100k) {
    const perDevice = at100k.bytes / at100k.emulatedDevices
    report.log(
      `${perDevice <= GOAL_BYTES ? 'PASS' : 'FAIL'}  100,000 premises: ${perDevice.toFixed(0)} B per device ` +
        `(goal ≤ ${GOAL_BYTES}; per SMI device ${(at100k.bytes / at100k.smiDevices).toFixed(0)} B)`,
    )
    const seconds = at100k.buildSeconds + at100k.upSeconds
    report.log(
      `${seconds < GOAL_SECONDS ? 'PASS' : 'FAIL'}  100,000 premises built and up in ` +
        `${seconds.toFixed(1)} s (build ${at100k.buildSeconds.toFixed(1)} + up ${at100k.upSeconds.toFixed(1)}; goal < ${GOAL_SECONDS} s; ` +
        `CPU ${(at100k.buildCpuSeconds + at100k.upCpuSeconds).toFixed(1)} s, every thread, ${loadAverage()})`,
    )
  }
}

/** The 1-minute load average and the cores, for reading a wall time on a shared machine. */
function loadAverage(): string {
  return `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`
}

async function child(premises: number): Promise<Measured> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run the child with --expose-gc')
  const settled = () => {
    for (let i = 0; i < 3; i++) gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.external + m.arrayBuffers
  }
  const parsed = parseFleetSpec({ seed: 'bench', premises })
  if (!parsed.ok) throw parsed.error
  const spec = parsed.value
  const pki = createFleetPki(spec)
  const warmUp = parseFleetSpec({ seed: 'warm-up', premises: 2000 }) // compile the paths first
  if (warmUp.ok) buildFleet(warmUp.value, { pki })

  // Baseline: an idle ESME as createDevice makes it, 5,000 held with one cells object.
  const cells = installedCells(pki, spec.suppliers[0]!.eui, spec.networkOperators[0]!.eui)
  const held: DeviceState[] = new Array(5000)
  let before = settled()
  for (let i = 0; i < held.length; i++)
    held[i] = createDevice({
      type: 'ESME',
      eui: (0x00db130000000000n + BigInt(i)).toString(16).padStart(16, '0'),
      cells,
      now: 0,
    })
  const baselineEsmeBytes = (settled() - before) / held.length
  held.length = 0

  // Baselines: raw keygen and public-key derivation rates (the same number of keys is extrapolated).
  let t = performance.now()
  for (let i = 0; i < 20_000; i++) generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keygenPerKey = (performance.now() - t) / 1000 / 20_000

  const cpuSeconds = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  before = settled()
  t = performance.now()
  let cpu = cpuSeconds()
  const fleet = buildFleet(spec, { pki })
  const buildSeconds = (performance.now() - t) / 1000
  const buildCpuSeconds = cpuSeconds() - cpu
  const built = settled()
  const backend = getBackend('native')
  t = performance.now()
  cpu = cpuSeconds()
  let fleetRun: FleetRun | undefined = await startFleet(fleet, {
    scheduler: createScheduler({ start: Date.parse(spec.start) }),
    backend,
  })
  const upSeconds = (performance.now() - t) / 1000
  const upCpuSeconds = cpuSeconds() - cpu
  const bytes = settled() - before
  const runBytes = before + bytes - built
  const hubs = fleetRun.snapshot().hubsConnected
  const peakRssMb = process.resourceUsage().maxRSS / 1024

  const gsmes = fleet.gsme.filter((d) => d !== undefined).length
  const ppmids = fleet.ppmid.filter((d) => d !== undefined).length
  const meterKeys = 2 * (premises + gsmes)

  t = performance.now()
  const sample = Math.min(5000, premises)
  for (let i = 0; i < sample; i++) backend.importPrivateKey(fleet.esme[i]!.keys.ka!)
  const publicKeyPerKey = (performance.now() - t) / 1000 / sample

  // Where the bytes go (up to PARTS_UP_TO premises: above, each copy and its full GCs take minutes
  // of a shared machine): copies of the inventory and registration made from their snapshots are
  // measured as they are made; the device arrays are emptied one at a time.
  const parts: Record<string, number> = {}
  if (premises <= PARTS_UP_TO) {
    // The run first (its hubs hold the device states too): closed and let go.
    {
      const b = settled()
      await fleetRun.close()
      fleetRun = undefined
      parts['hubs + DCC (startFleet)'] = b - settled()
    }
    const measureCopy = (name: string, make: () => unknown) => {
      const b = settled()
      const copy = make()
      parts[name] = settled() - b
      ;(globalThis as { kept?: unknown }).kept = copy
      ;(globalThis as { kept?: unknown }).kept = undefined
    }
    measureCopy('inventory', () => new SmartMeteringInventory(fleet.inventory.snapshot()))
    measureCopy('registration', () => new RegistrationData(fleet.registration.snapshot()))
    const drop = (name: string, clear: () => void) => {
      const b = settled()
      clear()
      parts[name] = b - settled()
    }
    drop('PPMIDs', () => fleet.ppmid.fill(undefined))
    drop('GSMEs', () => fleet.gsme.fill(undefined))
    drop('ESMEs', () => fleet.esme.fill(undefined as never))
    parts['rest (users, PKI, arrays)'] = bytes - Object.values(parts).reduce((a, b) => a + b, 0)
  } else await fleetRun.close()

  return {
    premises,
    heapLimitMb: heapFor(premises),
    buildSeconds,
    upSeconds,
    buildCpuSeconds,
    upCpuSeconds,
    bytes,
    runBytes,
    hubs,
    emulatedDevices: premises + gsmes + ppmids,
    smiDevices: fleet.inventory.size,
    meterKeys,
    parts,
    baselineEsmeBytes,
    keygenSecondsSameKeys: keygenPerKey * meterKeys,
    publicKeySecondsSameKeys: publicKeyPerKey * (premises + gsmes),
    peakRssMb,
  }
}

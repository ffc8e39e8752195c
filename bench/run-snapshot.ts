/**
 * Run snapshot benchmark (packages/fleet run-snapshot.ts, issue 12): the size and time of a run
 * snapshot that keeps every hub's state and the DCC's besides the fleet, against the fleet
 * snapshot alone (snapshotFleet, what a run snapshot held before) measured in the same run.
 *
 *   node --import tsx bench/run-snapshot.ts [--sizes 10000] [--rounds 5]
 *
 * The fleet is built from seed 'bench-snap' (2 % InstalledNotCommissioned: their hubs' logs differ
 * from the rest), brought up on the in-process WAN and advanced two virtual hours (every GSME has
 * woken: every GPF holds a mirror), with SR 8.11 joining the first 100 InstalledNotCommissioned
 * ESMEs and an SR 7.4 read to 100 ESMEs (SAT records, CHF Device Log entries, meter counters).
 * Then, in rounds, `snapshotRun(run)` and `snapshotFleet(fleet)` in turn (the run synced first,
 * untimed), then `restoreRun` and `restoreFleet` of their bytes; medians of the rounds, and the
 * median of each round's ratio. Bytes per premise: the whole run snapshot, what the hubs and
 * the DCC add to the fleet's, and the same without the SAT records kept (`satRecords: 0`).
 */
import { createScheduler } from '../packages/core/src/index.ts'
import {
  buildFleet,
  parseFleetSpec,
  restoreFleet,
  restoreRun,
  snapshotFleet,
  snapshotRun,
  startFleet,
} from '../packages/fleet/src/index.ts'
import { getBackend } from '../packages/gbcs/src/index.ts'

const argv = process.argv.slice(2)
const flag = (name: string) => {
  const at = argv.indexOf(name)
  return at >= 0 ? argv[at + 1] : undefined
}
const sizes = (flag('--sizes') ?? '10000').split(',').map(Number)
const rounds = Number(flag('--rounds') ?? 5)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const time = <T>(f: () => T): [T, number] => {
  const t = performance.now()
  const r = f()
  return [r, performance.now() - t]
}

for (const premises of sizes) {
  const spec = parseFleetSpec({ seed: 'bench-snap', premises, install: { installedNotCommissioned: 0.02 } })
  if (!spec.ok) throw spec.error
  const [fleet, buildMs] = time(() => buildFleet(spec.value))
  const scheduler = createScheduler({ start: Date.parse(spec.value.start) })
  const upStart = performance.now()
  const run = await startFleet(fleet, { scheduler, backend: getBackend('native') })
  const upMs = performance.now() - upStart
  let counter = 1
  const inc = [...Array(premises).keys()]
    .filter((i) => fleet.premise(i)!.install !== 'commissioned')
    .slice(0, 100)
  for (const i of inc) {
    const p = fleet.premise(i)!
    await run.submit({
      requestId: `${p.supplierEui}:${p.chf}:${counter++}`,
      role: 'IS',
      srv: '8.11',
      commandVariant: 1,
      deviceType: 'CHF',
      parameters: {
        deviceId: p.esme,
        deviceType: 'ESME',
        installCode: Buffer.from(fleet.esme[i]!.installCode!).toString('hex').toUpperCase(),
      },
    })
  }
  for (let i = 0; i < Math.min(100, premises); i++) {
    const p = fleet.premise(i)!
    if (p.install !== 'commissioned') continue
    await run.submit({
      requestId: `${p.supplierEui}:${p.esme}:${counter++}`,
      role: 'IS',
      srv: '7.4',
      commandVariant: 1,
      deviceType: 'ESME',
    })
  }
  await run.advance(2 * 3_600_000)
  const mirrors = [...Array(premises).keys()].filter((i) => run.hub(i)?.state.gpf?.mirror).length

  const runMs: number[] = []
  const fleetMs: number[] = []
  const ratios: number[] = []
  const restoreRunMs: number[] = []
  const restoreFleetMs: number[] = []
  const restoreRatios: number[] = []
  let runBytes = 0
  let fleetBytes = 0
  for (let r = 0; r < rounds; r++) {
    run.sync()
    // Every other round the baseline first.
    const pair = () => {
      const [a, ta] = time(() => snapshotRun(run))
      const [b, tb] = time(() => snapshotFleet(fleet))
      return { a, ta, b, tb }
    }
    const pairBase = () => {
      const [b, tb] = time(() => snapshotFleet(fleet))
      const [a, ta] = time(() => snapshotRun(run))
      return { a, ta, b, tb }
    }
    const { a, ta, b, tb } = r % 2 ? pairBase() : pair()
    runBytes = a.length
    fleetBytes = b.length
    runMs.push(ta)
    fleetMs.push(tb)
    ratios.push(ta / tb)
    const [ra, tra] = time(() => restoreRun(a))
    const [rb, trb] = time(() => restoreFleet(b))
    if (!ra.ok || !rb.ok) throw new Error('restore failed')
    restoreRunMs.push(tra)
    restoreFleetMs.push(trb)
    restoreRatios.push(tra / trb)
  }
  // What the SAT's kept records (the newest 10,000 at most) weigh: the same snapshot without them.
  run.sync()
  const noSatBytes = snapshotRun(run, { satRecords: 0 }).length
  await run.close()
  console.log(
    JSON.stringify({
      premises,
      buildSeconds: +(buildMs / 1000).toFixed(1),
      upSeconds: +(upMs / 1000).toFixed(1),
      gpfMirrors: mirrors,
      joinedBySr811: inc.length,
      satRecords: run.sat.size,
      runSnapshotBytesPerPremise: +(runBytes / premises).toFixed(1),
      fleetSnapshotBytesPerPremise: +(fleetBytes / premises).toFixed(1),
      hubsAndDccBytesPerPremise: +((runBytes - fleetBytes) / premises).toFixed(1),
      hubsAndDccWithoutSatBytesPerPremise: +((noSatBytes - fleetBytes) / premises).toFixed(1),
      satRecordsKeptBytes: runBytes - noSatBytes,
      snapshotRunMsMedian: +median(runMs).toFixed(0),
      snapshotFleetMsMedian: +median(fleetMs).toFixed(0),
      snapshotRatioMedian: +median(ratios).toFixed(3),
      restoreRunMsMedian: +median(restoreRunMs).toFixed(0),
      restoreFleetMsMedian: +median(restoreFleetMs).toFixed(0),
      restoreRatioMedian: +median(restoreRatios).toFixed(3),
      ratios: ratios.map((x) => +x.toFixed(3)),
      restoreRatios: restoreRatios.map((x) => +x.toFixed(3)),
    }),
  )
}

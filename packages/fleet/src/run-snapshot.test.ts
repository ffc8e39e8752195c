/**
 * A run snapshot keeps devices, hubs and the DCC's state together (issue 12): a run advanced,
 * snapshotted, restored and advanced again answers, alerts, counts and audits exactly as one
 * advanced straight through; a GSME command waiting in the GPF at snapshot time runs after the
 * restore; a device the CHF Device Log holds stays joined; version 1 documents still restore;
 * garbage is refused naming what is wrong.
 */
import { createScheduler } from '@smetsim/core'
import type { AnomalyConfig, DuisRequest } from '@smetsim/dcc'
import { type DeviceState, type PpmidState, step } from '@smetsim/device'
import { getBackend } from '@smetsim/gbcs'
import { Encoder } from 'cbor-x'
import { describe, expect, it } from 'vitest'
import { buildFleet, type Fleet } from './build.ts'
import { createFleetPki } from './pki.ts'
import { type FleetRun, type StartFleetOptions, startFleet } from './run.ts'
import { type RestoredRun, restoredRunOptions, restoreRun, snapshotRun } from './run-snapshot.ts'
import { snapshotFleet } from './snapshot.ts'
import { specOf } from './testing.ts'

const backend = getBackend('native')
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const DAY = 86_400_000

/** Seed 'snap': premises 0–2 commissioned (0 on prepayment, with a PPMID), 3–5 InstalledNotCommissioned; all with gas. */
const SPEC = specOf({
  seed: 'snap',
  premises: 6,
  devices: { gas: 1 },
  install: { installedNotCommissioned: 0.3 },
  balance: { minPounds: 2, maxPounds: 2 },
})
const PKI = createFleetPki(SPEC)

/** A supplier may read supply status (SR 7.4) at most twice a day: the third is quarantined. */
const ANOMALY: AnomalyConfig = {
  version: 1,
  users: SPEC.suppliers.map((s) => ({ user: s.eui, srv: '7.4', limit: 2, windowMs: DAY })),
  roleDefaults: [],
  dcc: [],
}

async function start(fleet: Fleet, at: number, more: Partial<StartFleetOptions> = {}): Promise<FleetRun> {
  const { dcc, ...rest } = more
  return startFleet(fleet, {
    scheduler: createScheduler({ start: at }),
    backend,
    ...rest,
    dcc: { anomaly: { config: ANOMALY }, ...dcc },
  })
}

/** A run started again from a restored snapshot, as `start` starts one (the anomaly thresholds on top of what the snapshot kept). */
async function resume(restored: RestoredRun): Promise<FleetRun> {
  const scheduler = createScheduler({ start: restored.now })
  const kept = restoredRunOptions(restored, scheduler)
  return startFleet(restored.fleet, {
    scheduler,
    backend,
    ...kept,
    dcc: { anomaly: { config: ANOMALY }, ...kept.dcc },
  })
}

const request = (
  fleet: Fleet,
  i: number,
  srv: string,
  counter: number,
  role: 'ESME' | 'GSME' | 'CHF' = 'ESME',
): DuisRequest => {
  const p = fleet.premise(i)!
  const device = role === 'ESME' ? p.esme : role === 'GSME' ? p.gsme! : p.chf
  return {
    requestId: `${p.supplierEui}:${device}:${counter}`,
    role: role === 'GSME' ? 'GS' : 'IS',
    srv,
    commandVariant: srv === '7.4' || srv === '8.11' ? 1 : 4,
    deviceType: role,
  }
}

/** SR 8.11: premise i's ESME into its CHF's Device Log with its install code (it then joins). */
const addEsme = (fleet: Fleet, i: number, counter: number): DuisRequest => ({
  ...request(fleet, i, '8.11', counter, 'CHF'),
  parameters: {
    deviceId: fleet.premise(i)!.esme,
    deviceType: 'ESME',
    installCode: Buffer.from(fleet.esme[i]!.installCode!).toString('hex').toUpperCase(),
  },
})

/** Before the snapshot: SR 8.11 joins premise 3's ESME, two reads, half a day of prepayment. */
async function phaseA(run: FleetRun) {
  const f = run.fleet
  expect((await run.submit(addEsme(f, 3, 10))).hanDeviceLog).toMatchObject({ accepted: true, joined: true })
  for (const [i, n] of [
    [0, 11],
    [1, 12],
  ] as const)
    expect((await run.submit(request(f, i, '7.4', n))).code).toBe('I0')
  await run.advance(DAY / 2)
}

/** After it: what every part of the state decides, as the Users and a tester see it. */
async function phaseB(run: FleetRun) {
  const f = run.fleet
  const out: Record<string, unknown> = {}
  // Supplier A (premises 0–4) has used its two reads of the day: quarantined (I99) until the window moves.
  out.quarantined = await run.submit(request(f, 1, '7.4', 20))
  // A Critical command's response is signed by the meter with a random k: compared without it.
  const { responseBytes: _b, response, ...disarm } = await run.submit(request(f, 2, '7.2', 22))
  const { signature: _s, ...unsigned } = response ?? {}
  out.disarm = { ...disarm, response: unsigned }
  await run.advance(DAY)
  out.later = await run.submit(request(f, 1, '7.4', 23))
  // The same RequestID counter as before the snapshot: the meter remembers it (replay, no answer).
  out.replay = await run.submit(request(f, 0, '7.4', 11))
  const users = SPEC.suppliers.map((s) => s.eui)
  out.alerts = users.map((u) => run.dcc.alertsFor(u).map((a) => [a.seq, a.device, a.alertCode, a.receivedAt]))
  out.dccAlerts = users.map((u) => run.dcc.dccAlertsFor(u).map((a) => [a.seq, a.type, a.at]))
  out.alertCounters = run.dcc.alertCounters()
  out.anomaly = run.dcc.anomalyState
  const { latency: _, ...counts } = run.metrics
  out.metrics = counts
  // Each meter as it reads now (its lazy state settled to this instant: a restored hub steps its
  // meters at bring-up, so their internal settle points differ, not what they read).
  const now = run.scheduler.now()
  const settled = (d: DeviceState | PpmidState | undefined) =>
    d && d.type !== 'PPMID' ? step(d, { kind: 'time' }, now, { backend }).state : d
  out.devices = [...Array(f.size).keys()].flatMap((i) => {
    const p = f.premise(i)!
    return [settled(run.device(p.esme)), p.gsme && settled(run.device(p.gsme))]
  })
  out.hubs = [...Array(f.size).keys()].map((i) => {
    const hub = run.hub(i)!
    const p = f.premise(i)!
    const { chf, gpf } = hub.state
    // The GPF's mirror is the GSME's state as at its last wake-up (`mirrorAt`): read as at then.
    const mirror = gpf?.mirror && step(gpf.mirror, { kind: 'time' }, gpf.mirrorAt!, { backend }).state
    return { chf, gpf: gpf && { ...gpf, mirror }, joined: [hub.isJoined(p.esme), hub.isJoined(p.gsme!)] }
  })
  out.sat = { head: run.sat.head, size: run.sat.size }
  return out
}

describe('snapshotRun / restoreRun keep hubs and the DCC (issue 12)', () => {
  it('advanced, snapshotted, restored and advanced again: the same as straight through', async () => {
    const straight = await start(buildFleet(SPEC, { pki: PKI }), Date.parse(SPEC.start))
    await phaseA(straight)
    const bytes = snapshotRun(straight)
    const satAt = straight.sat.head.seq
    const expected = await phaseB(straight)
    const straightSat = straight.sat.query({ afterSeq: satAt })
    await straight.close()

    const back = restoreRun(bytes)
    if (!back.ok) throw back.error
    const again = await resume(back.value)
    const got = await phaseB(again)
    // Every answer, alert, counter, device and hub; the SAT to the last hash.
    expect(got).toEqual(expected)
    expect(again.sat.query({ afterSeq: satAt })).toEqual(straightSat)
    expect(again.sat.verify()).toEqual({ ok: true })
    // What the comparison covers is not empty.
    expect(expected.quarantined).toMatchObject({ code: 'I99', quarantined: true })
    expect(expected.disarm).toMatchObject({ code: 'I0' })
    expect(expected.later).toMatchObject({ code: 'I0' })
    expect(expected.replay).toMatchObject({ code: 'E21' })
    expect((expected.alerts as unknown[][]).flat().length).toBeGreaterThan(0)
    expect((got.hubs as { joined: boolean[] }[])[3]!.joined).toEqual([true, false])
    await again.close()
  }, 30_000)

  it('without the hubs and the DCC state (a version 1 snapshot), the same run goes otherwise', async () => {
    const straight = await start(buildFleet(SPEC, { pki: PKI }), Date.parse(SPEC.start))
    await phaseA(straight)
    straight.sync()
    const v1 = cbor.encode({
      format: 'smetsim-fleet-run',
      version: 1,
      now: straight.scheduler.now(),
      fleet: snapshotFleet(straight.fleet),
      schedules: straight.dcc.scheduleBook,
      metrics: straight.metrics,
    })
    const expected = await phaseB(straight)
    await straight.close()
    const back = restoreRun(v1)
    if (!back.ok) throw back.error
    expect(back.value.dcc).toBeUndefined()
    expect(back.value.hubs(3)).toBeUndefined()
    const again = await resume(back.value)
    const got = await phaseB(again)
    // Premise 3's ESME left the HAN (its log made again as at bring-up); the anomaly counts started again.
    expect((got.hubs as { joined: boolean[] }[])[3]!.joined).toEqual([false, false])
    expect(got.quarantined).toMatchObject({ code: 'I0' })
    expect(got).not.toEqual(expected)
    await again.close()
  }, 30_000)

  it('a GSME command waiting in the GPF queue at snapshot time is delivered after the restore', async () => {
    const straight = await start(buildFleet(SPEC, { pki: PKI }), Date.parse(SPEC.start))
    const p = straight.fleet.premise(1)!
    void straight.submit(request(straight.fleet, 1, '7.2', 30, 'GSME'))
    await new Promise((r) => setImmediate(r))
    expect(straight.hub(1)!.gsmeQueueLength).toBe(1)
    const bytes = snapshotRun(straight)
    await straight.advance(31 * 60_000)
    const gsmeStraight = straight.device(p.gsme!) as DeviceState
    expect(gsmeStraight.supply).toBe('disabled')
    await straight.close()

    const back = restoreRun(bytes)
    if (!back.ok) throw back.error
    expect(back.value.hubs(1)!.gpf!.queue).toHaveLength(1)
    const scheduler = createScheduler({ start: back.value.now })
    const again = await startFleet(back.value.fleet, {
      scheduler,
      backend,
      ...restoredRunOptions(back.value, scheduler),
    })
    expect(again.hub(1)!.gsmeQueueLength).toBe(1)
    expect((again.device(p.gsme!) as DeviceState).supply).toBe('enabled')
    await again.advance(31 * 60_000)
    expect(again.hub(1)!.gsmeQueueLength).toBe(0)
    expect(again.device(p.gsme!)).toEqual(gsmeStraight)
    // Its response found no request waiting (that DCC is gone), and nothing else was answered with it.
    expect(again.metrics.responses).toBe(back.value.metrics.responses)
    await again.close()
  }, 30_000)

  it('a device in the CHF Device Log stays joined, and is reached through its hub', async () => {
    const run = await start(buildFleet(SPEC, { pki: PKI }), Date.parse(SPEC.start))
    expect((await run.submit(addEsme(run.fleet, 3, 40))).hanDeviceLog).toMatchObject({ joined: true })
    // And a device that is not on these premises (CCS01 straight to the CHF): kept by its EUI and code.
    const foreign = run.fleet.premise(4)!.esme
    expect(
      run
        .hub(3)!
        .addDevice({ deviceId: foreign, deviceType: 'ESME', installCode: new Uint8Array(16).fill(0x31) }),
    ).toMatchObject({ accepted: true })
    const log = run.hub(3)!.deviceLog
    expect(log.entries.map((e) => e.eui)).toContain(foreign)
    const bytes = snapshotRun(run)
    await run.close()
    const back = restoreRun(bytes)
    if (!back.ok) throw back.error
    const scheduler = createScheduler({ start: back.value.now })
    const again = await startFleet(back.value.fleet, {
      scheduler,
      backend,
      ...restoredRunOptions(back.value, scheduler),
    })
    const p = again.fleet.premise(3)!
    expect(again.hub(3)!.isJoined(p.esme)).toBe(true)
    expect(again.hub(3)!.isJoined(p.gsme!)).toBe(false)
    expect(again.hub(3)!.deviceLog).toEqual(log)
    // The commissioned premises' meters are joined and in their logs as before.
    expect(again.hub(0)!.isJoined(again.fleet.premise(0)!.esme)).toBe(true)
    // SR 8.11 again: the CHF already holds it (left as it is), still joined.
    expect((await again.submit(addEsme(again.fleet, 3, 41))).hanDeviceLog).toMatchObject({ accepted: true })
    expect(again.hub(3)!.deviceLog.entries.filter((e) => e.eui === p.esme)).toHaveLength(1)
    await again.close()
  }, 30_000)

  it('refuses garbage in the hubs or the DCC state, naming it', async () => {
    const run = await start(
      buildFleet(specOf({ ...SPEC, premises: 2 }), { pki: PKI }),
      Date.parse(SPEC.start),
    )
    const good = cbor.decode(snapshotRun(run)) as Record<string, unknown>
    await run.close()
    const hubs = good.hubs as unknown[][]
    const cases: [unknown, RegExp][] = [
      [{ ...good, version: 3 }, /version 3, this reads 1 and 2/],
      [{ ...good, hubs: hubs.slice(1) }, /hubs: expected 2 entries/],
      [{ ...good, hubs: [7, hubs[1]] }, /hubs: premise 0: expected a hub/],
      [{ ...good, hubs: [[...hubs[0]!.slice(0, 5), 99], hubs[1]] }, /hubs: premise 0: joined/],
      [{ ...good, hubs: [[0, -1n, [], 0, 0, 0], hubs[1]] }, /premise 0: alertCounter/],
      [
        { ...good, hubs: [[0, 0n, [[5, 0, 1, 0, 0, 0, null]], 0, 0, 0], hubs[1]] },
        /log\[0\]: no such device/,
      ],
      [{ ...good, hubs: [[0, 0n, [], 0, [0, 0n, [['x', 1]], 0, null, 0, 0], 0], hubs[1]] }, /gpf.queue\[0\]/],
      [{ ...good, dcc: { format: 'smetsim-dcc-state', version: 9 } }, /dcc: not a DCC state: version 9/],
      [{ ...good, dcc: 'x' }, /dcc: not a DCC state/],
    ]
    for (const [doc, why] of cases) {
      const r = restoreRun(cbor.encode(doc))
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toMatch(why)
    }
  }, 30_000)
})

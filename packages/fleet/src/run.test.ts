/**
 * The runner: a fleet behind its Communications Hubs, served by the real DCC, in virtual time —
 * commands reach the meters through the hubs (a GSME's when it wakes), refusals stay refusals,
 * prepayment runs down and the meter disables its own supply, alerts come up to the DCC.
 */
import { createRealTimeDriver, createScheduler } from '@smetsim/core'
import type { DeviceState } from '@smetsim/device'
import { getBackend } from '@smetsim/gbcs'
import { Encoder } from 'cbor-x'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../hub/src/wan/broker.ts'
import { buildFleet } from './build.ts'
import { createFleetPki } from './pki.ts'
import { ADVANCE_SLICE_MS, type FleetRun, startFleet, startHubs } from './run.ts'
import { restoreRun, snapshotRun } from './run-snapshot.ts'
import { specOf, twoSupplierSpec } from './testing.ts'

const backend = getBackend('native')

const SPEC = twoSupplierSpec('run')
const PKI = createFleetPki(SPEC)
const DAY = 86_400_000
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const encode = (x: unknown) => cbor.encode(x)

async function running(spec = SPEC, wan?: 'embedded-broker'): Promise<FleetRun> {
  const fleet = buildFleet(spec, { pki: PKI })
  const scheduler = createScheduler({ start: Date.parse(spec.start) })
  return startFleet(fleet, { scheduler, backend, ...(wan && { wan }) })
}

let counter = 1000
const request = (user: string, role: string, srv: string, device: string, deviceType: string) => ({
  requestId: `${user}:${device}:${++counter}`,
  role,
  srv,
  commandVariant: srv === '7.4' ? 1 : 4,
  deviceType,
})

describe('startFleet', () => {
  it("takes the DCC's command to an ESME through its hub, and the ESME's answer back; the other supplier's is refused and changes nothing", async () => {
    const run = await running()
    const p = run.fleet.premise(0)!
    const other = SPEC.suppliers.find((s) => s.eui !== p.supplierEui)!.eui

    const refused = await run.submit(request(other, 'IS', '7.2', p.esme, 'ESME'))
    expect(refused.code).toBe('E4')
    expect((run.device(p.esme) as DeviceState).supply).toBe('enabled')
    expect(run.metrics.commands).toBe(0) // refused by the DCC: nothing went down the WAN

    const done = await run.submit(request(p.supplierEui, 'IS', '7.2', p.esme, 'ESME'))
    expect(done).toMatchObject({ code: 'I0', response: { cra: 'response', originator: p.esme } })
    expect((run.device(p.esme) as DeviceState).supply).toBe('disabled')
    // The fleet's own slot is stale until sync(): the hub holds the device now.
    expect(run.fleet.esme[0]!.supply).toBe('enabled')
    run.sync()
    expect(run.fleet.esme[0]!.supply).toBe('disabled')

    expect(run.snapshot()).toMatchObject({
      requests: 2,
      answered: 1,
      rejections: { E4: 1 },
      commands: 1,
      responses: 1,
      premises: 6,
      hubsConnected: 6,
      devices: 12,
      supply: { disabled: 1 },
    })
    expect(run.snapshot().latencyMs?.window).toBe(2)
    await run.close()
  })

  it("holds a GSME's command in the GPF until the GSME wakes, then answers", async () => {
    const run = await running()
    const p = run.fleet.premise(1)!
    let answer: { code: string } | undefined
    const pending = run.submit(request(p.supplierEui, 'GS', '7.2', p.gsme!, 'GSME')).then((r) => {
      answer = r
      return r
    })
    await new Promise((r) => setImmediate(r))
    expect(answer).toBeUndefined()
    expect(run.hub(1)!.gsmeQueueLength).toBe(1)
    await run.advance(31 * 60_000)
    expect(await pending).toMatchObject({ code: 'I0', response: { originator: p.gsme } })
    expect(run.hub(1)!.gsmeQueueLength).toBe(0)
    expect((run.device(p.gsme!) as DeviceState).supply).toBe('disabled')
    await run.close()
  })

  it('runs prepayment down in virtual time: a prepayment meter disables its own supply and the alert reaches the DCC; credit meters stay on', async () => {
    const run = await running()
    const prepay = [...Array(SPEC.premises).keys()].filter(
      (i) => run.fleet.premise(i)!.paymentMode === 'prepayment',
    )
    const credit = [...Array(SPEC.premises).keys()].filter(
      (i) => run.fleet.premise(i)!.paymentMode === 'credit',
    )
    expect(prepay.length).toBeGreaterThan(0) // seed 'run' draws some of each
    expect(credit.length).toBeGreaterThan(0)
    const first = run.fleet.premise(prepay[0]!)!
    // Day by day: the DCC holds a User's alerts for two days (DUIS), so look while they are fresh.
    let day = 0
    while ((run.device(first.esme) as DeviceState).supply === 'enabled' && day < 14) {
      await run.advance(DAY)
      day++
    }
    expect(run.dcc.alertsFor(first.supplierEui).some((a) => a.device === first.esme)).toBe(true)
    await run.advance((14 - day) * DAY)
    for (const i of prepay)
      expect((run.device(run.fleet.premise(i)!.esme) as DeviceState).supply).toBe('disabled')
    for (const i of credit)
      expect((run.device(run.fleet.premise(i)!.esme) as DeviceState).supply).toBe('enabled')
    expect(run.scheduler.now()).toBe(Date.parse(SPEC.start) + 14 * DAY)
    expect(run.metrics.alerts).toBeGreaterThan(0)
    expect(run.metrics.alertsDelivered).toBe(run.metrics.alerts)
    expect(run.snapshot().supply.disabled).toBeGreaterThanOrEqual(prepay.length)
    await run.close()
  })

  it('SR 8.11 goes to the CHF through the head end; a device the log already holds is left as it is', async () => {
    const run = await running()
    const p = run.fleet.premise(2)!
    const r = await run.submit({
      ...request(p.supplierEui, 'IS', '8.11', p.chf, 'CHF'),
      commandVariant: 1,
      parameters: {
        deviceId: p.esme,
        deviceType: 'ESME',
        installCode: Buffer.from(run.fleet.esme[2]!.installCode!).toString('hex').toUpperCase(),
      },
    })
    expect(r.hanDeviceLog).toMatchObject({ accepted: true, joined: true, commsHub: p.chf })
    await run.close()
  })

  it("SR 8.11 lets an InstalledNotCommissioned premise's meters join: their KA certificates from the fleet's Device CA pass the CHF's check", async () => {
    const spec = specOf({ ...SPEC, premises: 2, install: { installedNotCommissioned: 1 } })
    const run = await running(spec)
    const add = (i: number, role: 'ESME' | 'GSME', code: Uint8Array) => {
      const p = run.fleet.premise(i)!
      return run.submit({
        ...request(p.supplierEui, role === 'GSME' ? 'GS' : 'IS', '8.11', p.chf, 'CHF'),
        commandVariant: 1,
        parameters: {
          deviceId: role === 'GSME' ? p.gsme! : p.esme,
          deviceType: role,
          installCode: Buffer.from(code).toString('hex').toUpperCase(),
        },
      })
    }
    const p = run.fleet.premise(1)!
    const hub = run.hub(1)!
    expect([hub.isJoined(p.esme), hub.isJoined(p.gsme!)]).toEqual([false, false])
    const alertsBefore = run.snapshot().alerts
    for (const role of ['ESME', 'GSME'] as const) {
      const r = await add(1, role, (role === 'ESME' ? run.fleet.esme : run.fleet.gsme)[1]!.installCode!)
      expect(r.hanDeviceLog).toMatchObject({ accepted: true, joined: true, commsHub: p.chf })
    }
    expect([hub.isJoined(p.esme), hub.isJoined(p.gsme!)]).toEqual([true, true])
    expect(hub.deviceLog.entries.every((e) => e.linkKeyHash !== undefined)).toBe(true)
    // A wrong install code: into the log, but the meter cannot prove it knows it, so it does not join.
    const wrong = await add(0, 'ESME', new Uint8Array(16).fill(0x31))
    expect(wrong.hanDeviceLog).toMatchObject({ accepted: true, joined: false, reason: 'install-code' })
    expect(run.hub(0)!.isJoined(run.fleet.premise(0)!.esme)).toBe(false)
    await run.advance(ADVANCE_SLICE_MS)
    // The CHFs' alerts of the additions and joins went up to the DCC.
    expect(run.snapshot().alerts).toBeGreaterThan(alertsBefore)
    await run.close()
  })

  it('works under a real-time driver fed a wall clock with fractions of a millisecond', async () => {
    const run = await running(specOf({ ...SPEC, premises: 1 }))
    let wallMs = 1000.25
    const wall = { now: () => wallMs, setTimer: () => 0, clearTimer: () => {} }
    const driver = createRealTimeDriver(run.scheduler, { acceleration: 3, wall })
    driver.start()
    const before = run.scheduler.now()
    wallMs += 1234.567 // 3703.701 ms of virtual time: the driver gives whole ms (packages/core)
    expect(run.scheduler.now()).toBe(before + 3703)
    const p = run.fleet.premise(0)!
    expect((await run.submit(request(p.supplierEui, 'IS', '7.4', p.esme, 'ESME'))).code).toBe('I0')
    expect(run.hub(0)!.drops).toEqual({})
    driver.stop()
    await run.close()
  })

  it('refuses to advance by a negative or non-finite time, changing nothing', async () => {
    const run = await running(specOf({ ...SPEC, premises: 1 }))
    const before = run.scheduler.now()
    await expect(run.advance(-1)).rejects.toThrow(RangeError)
    await expect(run.advance(Number.NaN)).rejects.toThrow(RangeError)
    expect(run.scheduler.now()).toBe(before)
    await run.close()
  })

  it('fails with a clear error, and leaves nothing connected, when the broker cannot be reached', async () => {
    const fleet = buildFleet(specOf({ ...SPEC, premises: 1 }), { pki: PKI })
    const scheduler = createScheduler({ start: Date.parse(SPEC.start) })
    const started = startFleet(fleet, {
      scheduler,
      backend,
      wan: { broker: 'mqtt://127.0.0.1:1' }, // nobody listens on port 1
      connectTimeoutMs: 300,
    })
    await expect(started).rejects.toThrow(
      /head end could not connect to mqtt:\/\/127\.0\.0\.1:1: not within 300 ms/,
    )
  })

  it('runs over MQTT through the embedded broker: one connection per hub, the command answered', async () => {
    const run = await running(specOf({ ...SPEC, premises: 2 }), 'embedded-broker')
    expect(run.brokerUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    const p = run.fleet.premise(0)!
    const r = await run.submit(request(p.supplierEui, 'IS', '7.2', p.esme, 'ESME'))
    expect(r).toMatchObject({ code: 'I0', response: { originator: p.esme } })
    expect(run.snapshot()).toMatchObject({ hubsConnected: 2, commands: 1, responses: 1 })
    await run.close()
  }, 20_000)
})

describe('snapshotRun / restoreRun', () => {
  it('keeps the virtual time, the devices as their hubs hold them and the counters; the restored fleet runs on and answers', async () => {
    const run = await running()
    const p = run.fleet.premise(0)!
    expect((await run.submit(request(p.supplierEui, 'IS', '7.2', p.esme, 'ESME'))).code).toBe('I0')
    await run.advance(DAY)
    const bytes = snapshotRun(run)
    const esme = run.device(p.esme)
    await run.close()

    const restored = restoreRun(bytes)
    if (!restored.ok) throw restored.error
    const { fleet, now, metrics, schedules } = restored.value
    expect(now).toBe(Date.parse(SPEC.start) + DAY)
    expect(metrics).toMatchObject({ requests: 1, answered: 1, commands: 1, responses: 1 })
    const again = await startFleet(fleet, {
      scheduler: createScheduler({ start: now }),
      backend,
      metrics,
      dcc: { schedules },
    })
    expect(again.device(p.esme)).toEqual(esme)
    expect((again.device(p.esme) as DeviceState).supply).toBe('disabled')
    // The meter remembers the counter it accepted: the same request again is a replay…
    const replay = await again.submit({
      ...request(p.supplierEui, 'IS', '7.4', p.esme, 'ESME'),
      requestId: `${p.supplierEui}:${p.esme}:1`,
    })
    // (the meter refuses it without a response, so the DCC answers E21)
    expect(replay).toMatchObject({ code: 'E21', reason: expect.stringMatching(/no response/) })
    // …and a fresh one executes through the new hub.
    expect((await again.submit(request(p.supplierEui, 'IS', '7.4', p.esme, 'ESME'))).code).toBe('I0')
    expect(again.metrics.requests).toBe(3)
    await again.close()
  })

  it('refuses what is not a run snapshot, naming why', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array([0xff, 0x00]), /not a fleet run snapshot/],
      [encode({ format: 'other' }), /expected format/],
      [encode({ format: 'smetsim-fleet-run', version: 3 }), /version 3, this reads 1 and 2/],
      [encode({ format: 'smetsim-fleet-run', version: 1, now: 'x' }), /no virtual time/],
      [encode({ format: 'smetsim-fleet-run', version: 1, now: 1, fleet: 'x', schedules: {} }), /no fleet/],
      [
        encode({
          format: 'smetsim-fleet-run',
          version: 1,
          now: 1,
          fleet: new Uint8Array([1]),
          schedules: {},
        }),
        /not a fleet snapshot/,
      ],
    ]
    for (const [bytes, why] of cases) {
      const r = restoreRun(bytes)
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toMatch(why)
    }
  })
})

describe('shards: startFleet for shard 1/n, startHubs for the others', () => {
  it('two shards on one broker: each brings up its own premises, the DCC of shard 1 reaches the meters of shard 2', async () => {
    const broker = await startBroker()
    const spec = specOf({ ...SPEC, premises: 4 })
    const wan = { broker: broker.url }
    const start = Date.parse(spec.start)
    const one = await startFleet(buildFleet(spec, { pki: PKI }), {
      scheduler: createScheduler({ start }),
      backend,
      wan,
      shard: { index: 1, count: 2 },
    })
    const two = await startHubs(buildFleet(spec, { pki: PKI }), {
      scheduler: createScheduler({ start }),
      backend,
      wan,
      shard: { index: 2, count: 2 },
    })
    try {
      // Premises 0 and 2 are shard 1's, 1 and 3 shard 2's: neither runs the other's hubs.
      expect([0, 1, 2, 3].map((i) => one.hub(i) !== undefined)).toEqual([true, false, true, false])
      expect([0, 1, 2, 3].map((i) => two.hub(i) !== undefined)).toEqual([false, true, false, true])
      const p = one.fleet.premise(1)!
      expect(one.device(p.esme)).toBeUndefined()
      expect(two.device(p.esme)).toBeDefined()
      const done = await one.submit(request(p.supplierEui, 'IS', '7.4', p.esme, 'ESME'))
      expect(done).toMatchObject({ code: 'I0', response: { originator: p.esme } })
      expect(one.snapshot()).toMatchObject({
        shard: '1/2',
        hubs: 2,
        hubsConnected: 2,
        commands: 1,
        responses: 1,
      })
      expect(one.snapshot().hubTraffic).toEqual({ commands: 0, responses: 0, alerts: 0 })
      expect(two.snapshot()).toMatchObject({ shard: '2/2', hubs: 2, hubsConnected: 2, commands: 0 })
      // Counted at shard 2's hubs; a command sent again (a hub's 'hi' still on its way when it went)
      // is counted again, and answered again with the same response.
      const traffic = two.snapshot().hubTraffic
      expect(traffic.commands).toBeGreaterThanOrEqual(1)
      expect(traffic.responses).toBe(traffic.commands)
      // A shard's run snapshot says which shard it is.
      const back = restoreRun(snapshotRun(two))
      expect(back.ok && back.value.shard).toEqual({ index: 2, count: 2 })
    } finally {
      await two.close()
      await one.close()
      await broker.close()
    }
  }, 30_000)

  it('refuses a sharded run without an external broker: the other shards could not be reached', async () => {
    const fleet = buildFleet(specOf({ ...SPEC, premises: 2 }), { pki: PKI })
    for (const wan of ['in-process', 'embedded-broker'] as const)
      await expect(
        startFleet(fleet, {
          scheduler: createScheduler({ start: Date.parse(SPEC.start) }),
          backend,
          wan,
          shard: { index: 1, count: 2 },
        }),
      ).rejects.toThrow(/a sharded run needs an external broker/)
  })
})

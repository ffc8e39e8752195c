/**
 * The worker-thread fleet: hubs in two worker threads (shards 1/2 and 2/2), the DCC in the main
 * thread, the windowed WAN between them. Commands reach meters in either thread and come back;
 * a GSME's waits for its wake-up; a virtual week gives the same meters and alerts as the
 * single-thread runner.
 */
import { MessageChannel } from 'node:worker_threads'
import { createScheduler, type Eui64 } from '@smetsim/core'
import { getBackend } from '@smetsim/gbcs'
import { afterAll, describe, expect, it } from 'vitest'
import { packForTransfer, type WindowedMessage } from '../../hub/src/wan/windowed.ts'
import { buildFleet } from './build.ts'
import { createFleetPki } from './pki.ts'
import { startFleet } from './run.ts'
import { twoSupplierSpec } from './testing.ts'
import { startWorkerFleet, type WorkerFleet } from './workers.ts'

const SPEC = twoSupplierSpec('workers')
const PKI = createFleetPki(SPEC)
const DAY = 86_400_000
const MINUTE = 60_000

let counter = 1
const sr = (supplier: string, srv: string, device: string, deviceType: string) => ({
  requestId: `${supplier}:${device}:${counter++}`,
  role: deviceType === 'GSME' ? 'GS' : 'IS',
  srv,
  commandVariant: srv === '7.4' ? 1 : 4,
  deviceType,
})

const runs: WorkerFleet[] = []
afterAll(async () => {
  for (const r of runs) await r.close()
})
async function workerFleet(workers: number) {
  const fleet = buildFleet(SPEC, { pki: PKI })
  const scheduler = createScheduler({ start: Date.parse(SPEC.start) })
  const run = await startWorkerFleet(fleet, { scheduler, backend: 'native', workers })
  runs.push(run)
  return run
}

describe('startWorkerFleet', () => {
  it('serves meters in both worker threads from the DCC in the main thread, one WAN latency each way', async () => {
    const run = await workerFleet(2)
    const at = (i: number) => run.fleet.premise(i)!
    const answers = [0, 1].map((i) => run.submit(sr(at(i).supplierEui, '7.4', at(i).esme, 'ESME')))
    await run.advance(MINUTE) // the command is on its way (one latency), the response not back yet
    expect(run.metrics.responses).toBe(0)
    await run.advance(MINUTE)
    for (const [k, a] of (await Promise.all(answers)).entries())
      expect(a, `premise ${k}`).toMatchObject({ code: 'I0', response: { originator: at(k).esme } })
    const s = await run.stats()
    expect(s).toMatchObject({ premises: 6, hubs: 6, hubsConnected: 6, commands: 2, responses: 2 })
    expect(s.hubTraffic).toMatchObject({ commands: 2, responses: 2 })
    expect(s.wanDrops).toEqual({}) // nothing arrived after its time: the windows hold
    expect(run.headEnd.outstanding).toBe(0)
  }, 30_000)

  it("holds a GSME's command in its hub's GPF until the GSME wakes, then the response comes back", async () => {
    const run = await workerFleet(2)
    const p = run.fleet.premise(3)!
    const answer = run.submit(sr(p.supplierEui, '7.2', p.gsme!, 'GSME'))
    let settled = false
    void answer.then(() => {
      settled = true
    })
    await run.advance(2 * MINUTE)
    await run.advance(40 * MINUTE) // a GSME wakes every 30 minutes
    expect(settled).toBe(true)
    expect(await answer).toMatchObject({ code: 'I0', response: { originator: p.gsme } })
  }, 30_000)

  it('lives a virtual week as the single-thread runner does: the same supply states and alerts', async () => {
    const single = await startFleet(buildFleet(SPEC, { pki: PKI }), {
      scheduler: createScheduler({ start: Date.parse(SPEC.start) }),
      backend: getBackend('native'),
    })
    await single.advance(7 * DAY)
    const one = single.snapshot()
    await single.close()
    const run = await workerFleet(2)
    await run.advance(7 * DAY)
    const two = await run.stats()
    expect(one.alerts).toBeGreaterThan(0)
    expect(one.supply.disabled).toBeGreaterThan(0) // prepayment ran down somewhere
    // Alerts as the hubs raised them; the DCC has them all but those still on the windowed WAN
    // (one latency) at the week's end.
    expect({ supply: two.supply, alerts: two.hubTraffic.alerts, devices: two.devices }).toEqual({
      supply: one.supply,
      alerts: one.hubTraffic.alerts,
      devices: one.devices,
    })
    expect(two.alerts).toBeLessThanOrEqual(two.hubTraffic.alerts)
    expect(two.alerts).toBeGreaterThan(0)
    expect(two.wanDrops).toEqual({})
    expect(two.now).toBe(new Date(Date.parse(SPEC.start) + 7 * DAY).toISOString())
  }, 60_000)

  it('runs a quiet day (no request in progress) in hour-long windows, and a request sent while the threads stand ahead is not late', async () => {
    const run = await workerFleet(2)
    let windows = 0
    const take = run.headEnd.take.bind(run.headEnd)
    run.headEnd.take = (lane: number) => {
      if (lane === 0) windows++
      return take(lane)
    }
    await run.advance(DAY)
    // A window a minute (one latency) would be hundreds; a quiet window is at most an hour, and
    // skips to the next event: fewer than 24 when hours hold none (a GSME with nothing queued has
    // no event at its radio wake-ups, packages/hub README).
    expect(windows).toBeLessThanOrEqual(26)
    expect(windows).toBeGreaterThan(0)
    // Where the wall time went: every window counted, each thread busy within it, and the sum of
    // each window's busiest thread at least the busier thread's own sum (Σ max ≥ max Σ).
    const t = (await run.stats()).windows
    expect(t.windows).toBe(windows)
    expect(t.laneBusyMs).toHaveLength(2)
    for (const busy of t.laneBusyMs) {
      expect(busy).toBeGreaterThan(0)
      expect(busy).toBeLessThanOrEqual(t.windowMs)
    }
    expect(t.criticalBusyMs).toBeGreaterThanOrEqual(Math.max(...(t.laneBusyMs as number[])))
    expect(t.criticalBusyMs).toBeLessThanOrEqual(t.windowMs)
    expect(t.coordinatorMs).toBeLessThanOrEqual(t.windowMs)
    // A Service Request while an advance runs (as the HTTP API may send one): it goes down due
    // where the threads stand, is answered, and nothing arrives after its time.
    const p = run.fleet.premise(1)!
    const advancing = run.advance(DAY)
    await new Promise<void>((resolve) => setImmediate(resolve))
    const answer = run.submit(sr(p.supplierEui, '7.4', p.esme, 'ESME'))
    await advancing
    expect(await answer).toMatchObject({ code: 'I0', response: { originator: p.esme } })
    expect((await run.stats()).wanDrops).toEqual({})
  }, 60_000)

  it("packs a window's frames into one buffer to transfer, not the slabs they are views of", () => {
    const slab = new ArrayBuffer(16 * 1024)
    const g1 = new Uint8Array(slab, 64, 3).fill(1)
    const g2 = new Uint8Array(slab, 512, 2).fill(2)
    const code = new Uint8Array(slab, 1024, 16).fill(3)
    const msgs: WindowedMessage[] = [
      { t: 'alr', at: 5, hub: 'H1', f: 'D1', g: g1 },
      { t: 'none', at: 6, hub: 'H1', re: 7 },
      { t: 'rsp', at: 7, hub: 'H2', re: 8, g: g2 },
      {
        t: 'log',
        at: 8,
        hub: 'H2',
        id: 9,
        entry: { deviceId: 'D2' as Eui64, deviceType: 'PPMID', installCode: code },
      },
    ]
    const { msgs: packed, transfer } = packForTransfer(msgs)
    expect(transfer).toHaveLength(1)
    expect(transfer[0]!.byteLength).toBe(3 + 2 + 16)
    expect(packed).toEqual(msgs) // the same messages, byte for byte
    const views = [packed[0], packed[2]].map((m) => (m as { g: Uint8Array }).g)
    views.push((packed[3] as { entry: { installCode: Uint8Array } }).entry.installCode)
    for (const v of views) expect(v.buffer).toBe(transfer[0])
    expect(g1.buffer).toBe(slab) // the originals are left as they were
    const { port1, port2 } = new MessageChannel()
    port1.postMessage(packed, transfer)
    expect(transfer[0]!.byteLength).toBe(0) // moved, not copied
    port1.close()
    port2.close()
    expect(packForTransfer([{ t: 'none', at: 1, hub: 'H', re: 1 }]).transfer).toEqual([])
  })

  it('refuses a bad number of workers before starting any', async () => {
    const fleet = buildFleet(SPEC, { pki: PKI })
    const scheduler = createScheduler({ start: Date.parse(SPEC.start) })
    for (const workers of [0, -1, 1.5, 2000, Number.NaN])
      await expect(startWorkerFleet(fleet, { scheduler, backend: 'native', workers })).rejects.toThrow(
        /workers must be 1 to 1024/,
      )
  })
})

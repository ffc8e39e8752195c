/**
 * Virtual-time shards over a broker (aedes, embedded): shard 1 (the DCC, coordinating) and shard
 * 2 on schedulers of their own, meeting only in the window messages on the broker. Commands reach
 * meters in both, a virtual week equals the single-process runner's, and a shard that goes away
 * fails the other with a clear error rather than hanging it.
 */
import { createHash } from 'node:crypto'
import { createScheduler } from '@smetsim/core'
import { getBackend } from '@smetsim/gbcs'
import { encode } from 'cbor-x'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startBroker } from '../../hub/src/wan/broker.ts'
import { openWindowLink } from '../../hub/src/wan/window-link.ts'
import { buildFleet } from './build.ts'
import { createFleetPki } from './pki.ts'
import { premise } from './premise.ts'
import { startFleet } from './run.ts'
import { parseShard } from './shard.ts'
import { fleetFingerprint } from './shard-pki.ts'
import { joinVirtualShards, startVirtualShards, windowDownTopic, windowUpTopic } from './shard-time.ts'
import { specOf, twoSupplierSpec } from './testing.ts'

const SPEC = twoSupplierSpec('virtual-shards')
const PKI = createFleetPki(SPEC)
const DAY = 86_400_000
const MINUTE = 60_000
const START = Date.parse(SPEC.start)
const shard = (t: string) => {
  const s = parseShard(t)
  if (!s.ok) throw new Error(s.error)
  return s.value
}

let counter = 1
/** SR 7.4 (the ESME's instantaneous values) from premise i's supplier. */
const read = (i: number) => {
  const p = premise(SPEC, i)!
  return {
    requestId: `${p.supplierEui}:${p.esme}:${counter++}`,
    role: 'IS',
    srv: '7.4',
    commandVariant: 1,
    deviceType: 'ESME',
  }
}

let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startBroker()
})
afterAll(async () => {
  await broker?.close()
})

/** Shards 1/2 and 2/2 of the fleet, each on its own scheduler, over the broker. */
async function twoShards(o: { timeoutMs?: number; prefix: string }) {
  const common = { backend: getBackend('native'), broker: broker.url, ...o }
  // Shard 2 first (it says it is ready until shard 1 listens), as processes may start.
  const two = joinVirtualShards(buildFleet(SPEC, { pki: PKI }), {
    ...common,
    scheduler: createScheduler({ start: START }),
    shard: shard('2/2'),
  })
  const one = await startVirtualShards(buildFleet(SPEC, { pki: PKI }), {
    ...common,
    scheduler: createScheduler({ start: START }),
    shard: shard('1/2'),
  })
  return { one, two: await two }
}

describe('virtual-time shards over a broker', () => {
  it('serves meters in both shards from shard 1’s DCC, one latency each way, and ends shard 2 with it', async () => {
    const { one, two } = await twoShards({ prefix: 'vt-serve' })
    try {
      const answers = [0, 1, 3].map((i) => one.submit(read(i)))
      await one.advance(MINUTE) // the commands are on their way, no response yet
      expect(one.metrics.responses).toBe(0)
      await one.advance(MINUTE)
      const got = await Promise.all(answers)
      for (const [k, i] of [0, 1, 3].entries())
        expect(got[k], `premise ${i}`).toMatchObject({
          code: 'I0',
          response: { originator: one.fleet.premise(i)!.esme },
        })
      // Shard 2 stands where shard 1 does, and its hubs took premises 1 and 3's commands.
      expect(two.scheduler.now()).toBe(START + 2 * MINUTE)
      expect(two.snapshot().hubTraffic).toMatchObject({ commands: 2, responses: 2 })
      expect(one.snapshot().hubTraffic).toMatchObject({ commands: 1, responses: 1 })
      expect(one.headEnd.drops).toEqual({})
      expect(two.windowDrops).toEqual({})
    } finally {
      await one.close()
    }
    await expect(two.ended).resolves.toBeUndefined()
    await two.close()
  }, 30_000)

  it('lives a virtual week as one process does: the same supply states, alerts and answers', async () => {
    const single = await startFleet(buildFleet(SPEC, { pki: PKI }), {
      scheduler: createScheduler({ start: START }),
      backend: getBackend('native'),
    })
    const singleAnswers = [0, 1, 2, 3].map((i) => single.submit(read(i)))
    await single.advance(7 * DAY)
    const codes = (await Promise.all(singleAnswers)).map((a) => a.code)
    const s = single.snapshot()
    await single.close()

    const { one, two } = await twoShards({ prefix: 'vt-week' })
    try {
      const answers = [0, 1, 2, 3].map((i) => one.submit(read(i)))
      await one.advance(7 * DAY)
      expect((await Promise.all(answers)).map((a) => a.code)).toEqual(codes)
      const a = one.snapshot()
      const b = two.snapshot()
      const sum = (k: 'enabled' | 'disabled' | 'armed') => a.supply[k] + b.supply[k]
      expect(s.supply.disabled).toBeGreaterThan(0) // prepayment ran down somewhere
      expect({ enabled: sum('enabled'), disabled: sum('disabled'), armed: sum('armed') }).toEqual(s.supply)
      expect(a.hubTraffic.alerts + b.hubTraffic.alerts).toBe(s.hubTraffic.alerts)
      expect(a.devices + b.devices).toBe(s.devices)
      expect(a.responses).toBe(s.responses)
      expect(two.scheduler.now()).toBe(START + 7 * DAY)
      expect(one.headEnd.drops).toEqual({}) // nothing late: the windows hold
      expect(two.windowDrops).toEqual({})
    } finally {
      await one.close()
      await two.close()
    }
  }, 120_000)

  it('fails shard 1 with a clear error when shard 2 goes away, and shard 2 when shard 1 does', async () => {
    // Shard 2 stopped: it says so on its way out, and shard 1 fails at its next window.
    const { one, two } = await twoShards({ prefix: 'vt-closed', timeoutMs: 1_000 })
    await one.advance(10 * MINUTE)
    await two.close()
    await expect(one.advance(DAY)).rejects.toThrow(/shard 2\/2 failed: shard 2\/2 was closed/)
    await expect(one.advance(DAY)).rejects.toThrow(/was closed/) // and stays failed
    expect(one.failure?.message).toMatch(/shard 2\/2 failed/)
    await one.close()

    // A shard 2 that says it is ready and then never answers (a process gone without a word):
    // shard 1 waits one timeout for its window. Garbage on the topics is dropped and counted.
    const silent = await openWindowLink(broker.url, { role: 'test', filter: 'vt-silent/#', timeoutMs: 5_000 })
    const lead = startVirtualShards(buildFleet(SPEC, { pki: PKI }), {
      backend: getBackend('native'),
      broker: broker.url,
      prefix: 'vt-silent',
      timeoutMs: 1_000,
      scheduler: createScheduler({ start: START }),
      shard: shard('1/2'),
    })
    const ready = {
      t: 'ready',
      fleet: fleetFingerprint(SPEC),
      pki: createHash('sha256').update(PKI.root.certificate.raw).digest('hex'),
      now: START,
      next: null,
      instance: 'x',
    }
    const sayReady = setInterval(() => void silent.publish(windowUpTopic(2, 'vt-silent'), encode(ready)), 100)
    const run = await lead.finally(() => clearInterval(sayReady))
    await silent.publish(windowUpTopic(2, 'vt-silent'), new Uint8Array([0xff, 0x00, 0x13]))
    await silent.publish(windowUpTopic(9, 'vt-silent'), encode({ t: 'done', w: 1 }))
    await silent.publish(windowUpTopic(2, 'vt-silent'), encode({ t: 'what' }))
    const started = performance.now()
    await expect(run.advance(DAY)).rejects.toThrow(
      /shard 2\/2 did not finish the window to \S+ within 1000 ms: it stopped, or the broker is unreachable/,
    )
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(run.windowDrops).toEqual({ garbage: 1, 'unknown-shard': 1, malformed: 1 })
    await run.close()

    // A shard 2 whose shard 1 never comes, and one whose shard 1 goes quiet after a window.
    const alone = await joinVirtualShards(buildFleet(SPEC, { pki: PKI }), {
      backend: getBackend('native'),
      broker: broker.url,
      prefix: 'vt-alone',
      timeoutMs: 500,
      joinTimeoutMs: 800,
      scheduler: createScheduler({ start: START }),
      shard: shard('2/2'),
    })
    await expect(alone.ended).rejects.toThrow(/no word from shard 1\/2 \(the DCC\) within 800 ms/)
    await alone.close()
    const quiet = await joinVirtualShards(buildFleet(SPEC, { pki: PKI }), {
      backend: getBackend('native'),
      broker: broker.url,
      prefix: 'vt-quiet',
      timeoutMs: 500,
      scheduler: createScheduler({ start: START }),
      shard: shard('2/2'),
    })
    await silent.publish(
      windowDownTopic(2, 'vt-quiet'),
      encode({ t: 'go', w: 1, until: START + MINUTE, msgs: [] }),
    )
    await expect(quiet.ended).rejects.toThrow(/no word from shard 1\/2 \(the DCC\) within 500 ms/)
    expect(quiet.scheduler.now()).toBe(START + MINUTE)
    await quiet.close()
    await silent.close()
  }, 30_000)

  it('refuses a shard 2 of another fleet, and one joining a run under way', async () => {
    const other = specOf({ ...SPEC, seed: 'another' })
    const two = joinVirtualShards(buildFleet(other, { pki: PKI }), {
      backend: getBackend('native'),
      broker: broker.url,
      prefix: 'vt-other',
      scheduler: createScheduler({ start: START }),
      shard: shard('2/2'),
    })
    await expect(
      startVirtualShards(buildFleet(SPEC, { pki: PKI }), {
        backend: getBackend('native'),
        broker: broker.url,
        prefix: 'vt-other',
        scheduler: createScheduler({ start: START }),
        shard: shard('1/2'),
      }),
    ).rejects.toThrow(/shard 2\/2 is of another fleet/)
    await (await two).close()

    const late = await joinVirtualShards(buildFleet(SPEC, { pki: PKI }), {
      backend: getBackend('native'),
      broker: broker.url,
      prefix: 'vt-late',
      scheduler: createScheduler({ start: START }),
      shard: shard('2/2'),
    })
    const lead = await openWindowLink(broker.url, { role: 'test', filter: 'vt-late/x', timeoutMs: 5_000 })
    await lead.publish(
      windowDownTopic(2, 'vt-late'),
      encode({ t: 'go', w: 40, until: START + DAY, msgs: [] }),
    )
    await expect(late.ended).rejects.toThrow(/joined a virtual-time run under way \(window 40\)/)
    expect(late.scheduler.now()).toBe(START)
    await late.close()
    await lead.close()
  }, 30_000)
})

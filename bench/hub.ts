/**
 * The scheduler and the Communications Hub, each against a baseline measured in the same run.
 *
 *   node --import tsx bench/hub.ts [--quick] [--only scheduler|memory|mqtt] [--hubs N]
 *                                  [--hub-workers N] [--connecting N] [--broker-in-process]
 *
 * 1. Scheduler events/s (packages/core): N devices each waking at its own instants ("hold"
 *    model: every event reschedules itself a random time later), against a textbook binary heap
 *    of the same events (push and pop only) in the same run; sorting all the instants at once is
 *    printed too, as a lower bound that is not a queue.
 * 2. Bytes per idle hub (CHF + GPF, no devices), 10 000 held at once, after a full GC.
 * 3. Over MQTT on the embedded aedes broker, real time: HUBS hubs connect (one connection each;
 *    goal ≤ 10 s for 10 000), then DCC → ESME → response round trips, non-critical (ECS45) and
 *    critical (ECS44), per second with p99 latency, each a first-contact pass (one to every hub:
 *    printed, not the goal) then a sustained one, against raw aedes QoS 1 publish → deliver over
 *    the same connections (goal: sustained round trips ≥ 0.5 × raw). The hubs'
 *    side runs in --hub-workers N worker threads (default 0: in this thread), the head end in
 *    this thread, aedes in a child process.
 * Goal lines print PASS or FAIL; a benchmark never sets the exit code.
 */
import { readFileSync } from 'node:fs'
import v8 from 'node:v8'
import vm from 'node:vm'
import { Worker } from 'node:worker_threads'
import { createScheduler, type ScheduledEvent } from '../packages/core/src/index.ts'
import { createDevice, step, type TrustAnchorCells } from '../packages/device/src/index.ts'
import { ARM, command, installedCells, READ_SUPPLY, T0 } from '../packages/device/src/testing.ts'
import { getBackend } from '../packages/gbcs/src/index.ts'
import { Hub, type Uplink } from '../packages/hub/src/index.ts'
import { CHF_KA, chfCells, DEVICE_CA, GPF_KEYS } from '../packages/hub/src/testing.ts'
import { startBroker } from '../packages/hub/src/wan/broker.ts'
import { encodeEnvelope } from '../packages/hub/src/wan/envelope.ts'
import { downTopic, MqttHeadEnd } from '../packages/hub/src/wan/mqtt.ts'
import {
  buildHubSide,
  clientOf,
  connectHubSide,
  type EsmeKeys,
  hubEui,
  isRaw,
  PREFIX,
  rawPayload,
  rawResponder,
} from './lib/hub-side.ts'

const quick = process.argv.includes('--quick')
/** `--only scheduler|memory|mqtt`: one part (for profiling); default all three. */
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined
const part = (name: 'scheduler' | 'memory' | 'mqtt') => only === undefined || only === name
const backend = getBackend('native')
const line = (s: string) => console.log(s)
const goal = (name: string, ok: boolean, detail: string) =>
  line(`goal ${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`)

interface HeapEntry {
  at: number
  seq: number
  fn: (now: number, entry: HeapEntry) => void
}

/** The scheduler bench's baseline: a plain binary min-heap by (at, seq), push and pop only. */
class TextbookHeap {
  private readonly a: HeapEntry[] = []
  push(e: HeapEntry): void {
    const a = this.a
    let i = a.length
    a.push(e)
    while (i > 0) {
      const p = (i - 1) >> 1
      const q = a[p]!
      if (q.at < e.at || (q.at === e.at && q.seq < e.seq)) break
      a[i] = q
      i = p
    }
    a[i] = e
  }
  pop(): HeapEntry | undefined {
    const a = this.a
    const top = a[0]
    const last = a.pop()
    if (top === undefined || last === undefined || a.length === 0) return top
    const n = a.length
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && (a[r]!.at < a[l]!.at || (a[r]!.at === a[l]!.at && a[r]!.seq < a[l]!.seq)) ? r : l
      const x = a[c]!
      if (last.at < x.at || (last.at === x.at && last.seq < x.seq)) break
      a[i] = x
      i = c
    }
    a[i] = last
    return top
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Scheduler
if (part('scheduler')) {
  const N = quick ? 20_000 : 100_000
  const EVENTS = quick ? 200_000 : 1_000_000
  const ROUNDS = quick ? 3 : 5
  let sink = 0
  // Both sides do the same work per event: pop the earliest, call its callback with the instant
  // and the event, and the callback (the same one for every member, `shared`; or each member's
  // own closure over its event, `perMember`, as a driver that keeps one closure per device does)
  // draws a new instant and puts the event back, in place for the scheduler.
  /** The scheduler in the hold model: events/s. */
  const scheduler = (seed: number, perMember: boolean) => {
    const rand = mulberry(seed)
    const s = createScheduler()
    let left = EVENTS
    const hold = (now: number, e: ScheduledEvent) => {
      sink += now
      if (--left > 0) s.reschedule(e, now + rand() * 1_800_000)
    }
    for (let i = 0; i < N; i++) {
      if (perMember) {
        const e: ScheduledEvent = s.at(rand() * 1_800_000, (now) => {
          sink += now
          if (--left > 0) s.reschedule(e, now + rand() * 1_800_000)
        })
      } else s.at(rand() * 1_800_000, hold)
    }
    const t = performance.now()
    const r = s.run({ maxEvents: EVENTS })
    return r.events / ((performance.now() - t) / 1000)
  }
  // Baseline: a textbook binary heap of the same kind of events (time, sequence, callback), in
  // the same hold model — pop the earliest, run it, push it back later. It cannot cancel or move
  // an event in place (no positions kept): the least a queue that takes new events must do.
  const textbook = (seed: number, perMember: boolean) => {
    const rand = mulberry(seed)
    const heap = new TextbookHeap()
    let left = EVENTS
    let seq = 0
    const hold = (now: number, entry: HeapEntry) => {
      sink += now
      if (--left > 0) {
        entry.at = now + rand() * 1_800_000
        entry.seq = seq++
        heap.push(entry)
      }
    }
    for (let i = 0; i < N; i++) {
      if (perMember) {
        const entry: HeapEntry = {
          at: rand() * 1_800_000,
          seq: seq++,
          fn: (now) => {
            sink += now
            if (--left > 0) {
              entry.at = now + rand() * 1_800_000
              entry.seq = seq++
              heap.push(entry)
            }
          },
        }
        heap.push(entry)
      } else heap.push({ at: rand() * 1_800_000, seq: seq++, fn: hold })
    }
    const t = performance.now()
    let events = 0
    for (let e = heap.pop(); e && events < EVENTS; e = heap.pop()) {
      events++
      e.fn(e.at, e)
    }
    return events / ((performance.now() - t) / 1000)
  }
  // For reference, a lower bound that is not a queue: the same number of instants sorted at
  // once, a call per instant (it cannot take an event that arrives while it runs).
  const sortAll = (seed: number) => {
    const rand = mulberry(seed)
    const times = new Float64Array(EVENTS)
    for (let i = 0; i < EVENTS; i++) times[i] = rand() * 1_800_000
    const call = (now: number) => {
      sink += now
    }
    const t = performance.now()
    times.sort()
    for (let i = 0; i < EVENTS; i++) call(times[i]!)
    return EVENTS / ((performance.now() - t) / 1000)
  }
  // Rounds, every other one with the baseline first, so warm-up and GC fall on both; the goal
  // uses the median of the per-round ratios, for each callback shape.
  const ratios = { shared: [] as number[], perMember: [] as number[] }
  const toSort: number[] = []
  const fmt = (n: number) => Math.round(n).toLocaleString('en-GB')
  line(`scheduler: ${fmt(N)} members, ${fmt(EVENTS)} events a round (hold model)`)
  for (let round = 0; round < ROUNDS; round++) {
    const cells: string[] = []
    for (const shape of ['shared', 'perMember'] as const) {
      const perMember = shape === 'perMember'
      let ours: number
      let base: number
      if (round % 2 === 0) {
        ours = scheduler(round + 1, perMember)
        base = textbook(round + 1, perMember)
      } else {
        base = textbook(round + 1, perMember)
        ours = scheduler(round + 1, perMember)
      }
      ratios[shape].push(ours / base)
      if (!perMember) toSort.push(ours)
      cells.push(
        `${shape === 'shared' ? 'one callback' : 'a closure each'}: ${fmt(ours)} vs heap ${fmt(base)} = ${(ours / base).toFixed(3)}×`,
      )
    }
    const sorted = sortAll(round + 1)
    toSort[round] = toSort[round]! / sorted
    line(`  round ${round + 1}: ${cells.join('; ')}; sort-all ${fmt(sorted)}`)
  }
  for (const shape of ['shared', 'perMember'] as const) {
    const ratio = median(ratios[shape])
    const what = shape === 'shared' ? 'one callback for all members' : 'a closure per member'
    line(`  median, ${what}: ${ratio.toFixed(3)}× the textbook binary heap`)
    goal(
      `scheduler at least as fast as a textbook binary heap (${what})`,
      ratio >= 1,
      `${ratio.toFixed(3)}× ≥ 1`,
    )
  }
  line(`  (one callback: ${median(toSort).toFixed(3)}× sort-all, which is not a queue)`)
  if (sink === 42) line('')
}

// ---------------------------------------------------------------------------------------------
// 2. Bytes per idle hub
const gc = (() => {
  if (typeof global.gc === 'function') return global.gc
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
})()
const heap = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
if (part('memory')) {
  const COUNT = 10_000
  const scheduler = createScheduler({ start: T0 })
  // Each hub gets its own trust anchor cells, Device CA list and uplink (a fleet could share
  // them); the key-agreement and GPF keys are shared, as in every test here. The uplink comes
  // from a function, as MqttHubLink's does: an arrow written inline in the options would carry
  // the name property tsx adds to it (about 300 B of the bench's own, not the hub's).
  const uplinkOf = (_i: number) => (_u: Uplink) => {}
  const build = (i: number) =>
    new Hub({
      scheduler,
      chf: { eui: hubEui(i, 2), ka: CHF_KA, cells: chfCells() },
      gpf: { eui: hubEui(i, 3), keys: GPF_KEYS },
      deviceCas: [DEVICE_CA.certificate],
      uplink: uplinkOf(i),
      backend,
    })
  // One hub first, so the test PKI the fixtures make on first use and the code's first run are
  // not counted as hub bytes.
  const warm = build(COUNT)
  const before = heap()
  const hubs: Hub[] = []
  for (let i = 0; i < COUNT; i++) hubs.push(build(i))
  const per = (heap() - before) / COUNT
  line(
    `\nidle hub (CHF + GPF, no devices; own cells, keys shared in this test): ${Math.round(per)} bytes each`,
  )
  goal('a hub a few hundred bytes when idle', per <= 600, `${Math.round(per)} B ≤ 600 B`)
  if (hubs.length === 0 || !warm) line('')
}

// ---------------------------------------------------------------------------------------------
// 3. MQTT
if (part('mqtt')) await mqtt()

async function mqtt(): Promise<void> {
  const hubsAt = process.argv.indexOf('--hubs')
  const HUBS = hubsAt >= 0 ? Number(process.argv[hubsAt + 1]) : quick ? 300 : 10_000
  // --hub-workers N: the hubs (their connections, hubs and ESMEs) in N worker threads, in equal
  // contiguous ranges; 0: in this thread, beside the head end.
  const workersAt = process.argv.indexOf('--hub-workers')
  // Default 0: on this 2-core machine under load, one worker measured no faster (December 2026,
  // bench/README.md); the CPU per round trip is the same either way.
  const WORKERS = workersAt >= 0 ? Number(process.argv[workersAt + 1]) : 0
  const WINDOW = quick ? 200 : 1_000
  const ROUND_TRIPS = quick ? 2_000 : 20_000
  // --connecting N: connections being set up at once, over all the hubs' threads.
  const connectingAt = process.argv.indexOf('--connecting')
  const CONNECTING = connectingAt >= 0 ? Number(process.argv[connectingAt + 1]) : 1_000
  // The broker runs in a child process of its own unless --broker-in-process: its half of every
  // connection then has the other core and the other process's file descriptors (10 000 hubs are
  // 20 000 sockets counting the broker's side). Worker threads share this process's descriptors.
  const inProcess = process.argv.includes('--broker-in-process')
  const needFds = (inProcess ? 2 : 1) * (HUBS + 1) + 64
  const fdLimit = openFilesLimit()
  if (fdLimit !== undefined && fdLimit < needFds) {
    line(
      `\nMQTT: ${HUBS.toLocaleString('en-GB')} hubs need about ${needFds.toLocaleString('en-GB')} open files in ${inProcess ? 'this process (hubs and broker)' : 'each process (the hubs here, the broker in its child)'}; ulimit -n is ${fdLimit.toLocaleString('en-GB')}: not measured. Raise it (ulimit -n ${needFds}) or use fewer --hubs${inProcess ? ', or drop --broker-in-process' : ''}.`,
    )
    if (HUBS >= 10_000) goal('10 000 hubs connected', false, `ulimit -n ${fdLimit} < ${needFds}`)
    return
  }
  if (!Number.isInteger(WORKERS) || WORKERS < 0 || WORKERS > 64) {
    line(`\nMQTT: --hub-workers takes 0 … 64, not ${process.argv[workersAt + 1]}: not measured.`)
    return
  }
  if (!Number.isInteger(CONNECTING) || CONNECTING < 1) {
    line(
      `\nMQTT: --connecting takes a whole number from 1, not ${process.argv[connectingAt + 1]}: not measured.`,
    )
    return
  }
  const broker = await startBroker({ childProcess: !inProcess })
  // CPU time spent, µs: this process (every thread: the head end and the hubs' workers) and the
  // broker's child; figures per connection and per round trip that a busy machine disturbs less
  // than rates. With --broker-in-process both are in this process's figure.
  const cpu = () => {
    const u = process.cpuUsage()
    return { here: u.user + u.system, broker: inProcess ? 0 : (processCpuMicros(broker.pid) ?? Number.NaN) }
  }
  const cpuPer = (from: { here: number; broker: number }, n: number, what: string) => {
    const to = cpu()
    const here = (to.here - from.here) / n
    const b = (to.broker - from.broker) / n
    return `CPU per ${what}: ${Math.round(here)} µs in this process${inProcess ? ' (broker included)' : `, ${Number.isNaN(b) ? '?' : Math.round(b)} µs in the broker's`}`
  }
  const scheduler = createScheduler({ start: T0 })
  const head = new MqttHeadEnd(scheduler, { url: broker.url, prefix: PREFIX })
  await head.connect()
  // Each ESME is made here, where its commands are built (from its EUI and keys: command() needs
  // nothing else), and again from the same keys on the hubs' side, which runs it.
  const cells = installedCells()
  const esmes = Array.from({ length: HUBS }, (_, j) =>
    createDevice({ type: 'ESME', eui: hubEui(j, 0), cells, now: T0 }),
  )
  const keysOf = (j: number) => {
    const k = esmes[j]!.keys
    return { ds: k.ds as Uint8Array, ka: k.ka as Uint8Array }
  }
  // The hubs and their ESMEs first (the SR 8.11 add raises a MACed CS14 alert each: CPU, not
  // network), then the connections, timed on their own.
  let t0 = performance.now()
  const sides = await startHubSides(broker.url, HUBS, WORKERS, keysOf, cells, CONNECTING)
  const buildS = (performance.now() - t0) / 1000
  t0 = performance.now()
  let c0 = cpu()
  const notConnected = await sides.connect()
  const connectS = (performance.now() - t0) / 1000
  const connectCpu = cpuPer(c0, HUBS, 'connection')
  const where = WORKERS === 0 ? 'in this thread' : `in ${WORKERS} worker thread${WORKERS > 1 ? 's' : ''}`
  line(
    `\nMQTT (embedded aedes, ${inProcess ? 'in this process' : 'in a child process'}; hubs ${where}, head end in this thread): ${HUBS.toLocaleString('en-GB')} hubs built in ${buildS.toFixed(2)} s, connected (subscribed, 'hi' sent) in ${connectS.toFixed(2)} s; ${connectCpu}`,
  )
  if (notConnected > 0) {
    line(
      `${notConnected.toLocaleString('en-GB')} hubs not connected within 30 s: the round trips are not measured`,
    )
    if (HUBS >= 10_000) goal('10 000 hubs connected', false, `${notConnected} not connected within 30 s`)
    await sides.close()
    await head.close()
    await broker.close()
    return
  }
  if (HUBS >= 10_000) goal('10 000 hubs connected', connectS <= 10, `${connectS.toFixed(2)} s ≤ 10 s`)
  await new Promise((r) => setTimeout(r, 500)) // let the 8.11 alerts drain

  // Raw aedes QoS 1 round trips over the same connections, with the hubs' and head end's own
  // message handling set aside: the head end's connection publishes to a hub's down topic a
  // payload the size of an ECS45 'cmd' envelope, the hub's connection (in whichever thread runs
  // it) publishes back on its up topic one the size of the 'rsp' envelope, both QoS 1, WINDOW in
  // flight — a DCC → device → response round trip is two QoS 1 publish → deliver legs, and this
  // is those two with nothing else.
  const sizes = (() => {
    const esme = esmes[0]!
    const cmd = command(READ_SUPPLY.code, READ_SUPPLY.view, esme, { counter: 50n, sign: false })
    const cmdEnvelope = encodeEnvelope({ t: 'cmd', id: 2 ** 40, g: cmd })
    // The ESME's answer, on this thread's copy of its state (step is pure).
    const response = step(esme, { kind: 'frame', bytes: cmd }, T0, { backend }).outputs.response
    const rspEnvelope = encodeEnvelope({ t: 'rsp', id: 2 ** 40, re: 2 ** 40, f: hubEui(0, 0), g: response! })
    return { down: cmdEnvelope.length, up: rspEnvelope.length }
  })()
  let rawPerSecond = 0
  {
    const headClient = clientOf(head)
    const headListeners = headClient.listeners('message')
    headClient.removeAllListeners('message')
    const down = rawPayload(sizes.down, 0xa5)
    const up = rawPayload(sizes.up, 0x5a)
    // Only the raw payloads count: anything else still on the wire (a late alert, its resend)
    // is neither answered nor taken for a round trip.
    await sides.rawOn(down, up)
    const latencies: number[] = []
    const sentAt: number[][] = Array.from({ length: HUBS }, () => [])
    let sent = 0
    let done = 0
    const target = ROUND_TRIPS
    t0 = performance.now()
    c0 = cpu()
    await new Promise<void>((resolve) => {
      const send = () => {
        const h = sent++ % HUBS
        sentAt[h]!.push(performance.now())
        headClient.publish(downTopic(PREFIX, hubEui(h, 2)), down, { qos: 1 })
      }
      headClient.on('message', (topic, payload) => {
        if (!isRaw(payload, up)) return
        const h = Number.parseInt(topic.split('/')[2]!.slice(6), 16) >> 4
        latencies.push(performance.now() - sentAt[h]!.shift()!)
        if (++done >= target) resolve()
        else if (sent < target) send()
      })
      for (let k = 0; k < Math.min(WINDOW, target); k++) send()
    })
    rawPerSecond = target / ((performance.now() - t0) / 1000)
    const rawCpu = cpuPer(c0, target, 'round trip')
    await sides.rawOff()
    headClient.removeAllListeners('message')
    for (const l of headListeners) headClient.on('message', l)
    latencies.sort((a, b) => a - b)
    line(
      `raw aedes QoS 1 round trips (down ${sizes.down} B, up ${sizes.up} B, same connections, window ${WINDOW}): ${Math.round(rawPerSecond).toLocaleString('en-GB')}/s, p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]!.toFixed(1)} ms; ${rawCpu}`,
    )
  }

  /**
   * One phase: a first-contact pass, one command to every hub, then the sustained pass the goal
   * is read on. A device's first command and first response each compute a static-ECDH secret
   * (the native backend then keeps it per key pair): one-off key agreement, about 160 µs a device
   * in ECS45, that a device pays once in its life, not per round trip. The sustained pass
   * (ROUND_TRIPS over every hub, each hub hit ROUND_TRIPS / HUBS times) is the steady state.
   */
  async function roundTrips(name: string, build: (hub: number, counter: bigint) => Uint8Array) {
    const counters = new Array<bigint>(HUBS).fill(100n)
    const batch = (n: number) => {
      const commands: [number, Uint8Array][] = []
      for (let i = 0; i < n; i++) {
        const h = i % HUBS
        counters[h]! += 1n
        commands.push([h, build(h, counters[h]!)])
      }
      return commands
    }
    // Built before either pass is timed: building the commands is the DCC's work, not the WAN's.
    const first = batch(HUBS)
    const sustained = batch(ROUND_TRIPS)
    const pass = async (commands: [number, Uint8Array][]) => {
      const latencies: number[] = []
      let next = 0
      let failed = 0
      const start = performance.now()
      const c = cpu()
      const worker = async () => {
        while (next < commands.length) {
          const [h, bytes] = commands[next++]!
          const t = performance.now()
          const r = await head.send(hubEui(h, 2), bytes)
          if (!r) failed++
          latencies.push(performance.now() - t)
        }
      }
      await Promise.all(Array.from({ length: WINDOW }, worker))
      const perSecond = commands.length / ((performance.now() - start) / 1000)
      const rtCpu = cpuPer(c, commands.length, 'round trip')
      latencies.sort((a, b) => a - b)
      const p50 = latencies[latencies.length >> 1]!
      const p99 = latencies[Math.floor(latencies.length * 0.99)]!
      const text = `${Math.round(perSecond).toLocaleString('en-GB')} round trips/s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ${failed} without response; ${(perSecond / rawPerSecond).toFixed(3)}× raw; ${rtCpu}`
      return { perSecond, text }
    }
    line(`${name}, first contact (one to each hub, not the goal): ${(await pass(first)).text}`)
    const { perSecond, text } = await pass(sustained)
    line(`${name}, sustained (${sustained.length.toLocaleString('en-GB')}): ${text}`)
    goal(
      `${name} sustained ≥ 0.5 × raw aedes QoS 1 round trips`,
      perSecond >= 0.5 * rawPerSecond,
      `${(perSecond / rawPerSecond).toFixed(3)}×`,
    )
  }

  await roundTrips('non-critical ECS45', (h, counter) =>
    command(READ_SUPPLY.code, READ_SUPPLY.view, esmes[h]!, { counter, sign: false }),
  )
  await roundTrips('critical ECS44', (h, counter) =>
    command(ARM.code, ARM.view, esmes[h]!, { counter: counter + 1_000_000n }),
  )

  await sides.close()
  await head.close()
  await broker.close()
}

/** The hubs' side: in this thread (workers 0) or split in equal contiguous ranges over worker threads. */
interface HubSides {
  connect(): Promise<number>
  rawOn(down: Buffer, up: Buffer): Promise<void>
  rawOff(): Promise<void>
  close(): Promise<void>
}

async function startHubSides(
  url: string,
  hubs: number,
  workers: number,
  keysOf: (j: number) => EsmeKeys,
  cells: TrustAnchorCells,
  connecting: number,
): Promise<HubSides> {
  if (workers === 0) {
    const side = buildHubSide(
      url,
      0,
      Array.from({ length: hubs }, (_, j) => keysOf(j)),
      cells,
    )
    let restore: (() => void) | undefined
    return {
      connect: () => connectHubSide(side, connecting),
      rawOn: async (down, up) => {
        restore = rawResponder(side, down, up)
      },
      rawOff: async () => restore?.(),
      close: async () => {
        await Promise.all(side.links.map((l) => l.close()))
      },
    }
  }
  const per = Math.ceil(hubs / workers)
  const threads: { w: Worker; next: (t: string) => Promise<{ t: string; failed?: number }> }[] = []
  for (let first = 0; first < hubs; first += per) {
    const keys = Array.from({ length: Math.min(per, hubs - first) }, (_, n) => keysOf(first + n))
    const w = new Worker(new URL('./lib/ts-worker.mjs', import.meta.url), {
      workerData: {
        entry: new URL('./lib/hub-worker.ts', import.meta.url).href,
        url,
        first,
        keys,
        cells,
        concurrency: Math.ceil(connecting / workers),
      },
    })
    // Each thread answers one message at a time, in order: a queue of the replies awaited.
    const waiting: {
      t: string
      resolve: (m: { t: string; failed?: number }) => void
      reject: (e: Error) => void
    }[] = []
    w.on('message', (m: { t: string; failed?: number }) => {
      const i = waiting.findIndex((x) => x.t === m.t)
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m)
    })
    const fail = (e: Error) => {
      for (const x of waiting.splice(0)) x.reject(e)
    }
    w.on('error', fail)
    w.on('exit', (code) => fail(new Error(`a hub worker exited (${code})`)))
    const next = (t: string) =>
      new Promise<{ t: string; failed?: number }>((resolve, reject) => waiting.push({ t, resolve, reject }))
    threads.push({ w, next })
  }
  await Promise.all(threads.map((x) => x.next('built')))
  const ask = async (m: object, reply: string) =>
    Promise.all(
      threads.map((x) => {
        const r = x.next(reply)
        x.w.postMessage(m)
        return r
      }),
    )
  return {
    connect: async () => (await ask({ t: 'connect' }, 'connected')).reduce((n, m) => n + (m.failed ?? 0), 0),
    rawOn: async (down, up) => {
      await ask(
        { t: 'raw-on', downSize: down.length, downFill: down[0], upSize: up.length, upFill: up[0] },
        'raw-on',
      )
    },
    rawOff: async () => {
      await ask({ t: 'raw-off' }, 'raw-off')
    },
    close: async () => {
      await ask({ t: 'close' }, 'closed')
      await Promise.all(threads.map((x) => x.w.terminate()))
    },
  }
}

/** The soft limit on open files (Linux /proc/self/limits); undefined where it cannot be read. */
function openFilesLimit(): number | undefined {
  try {
    const m = readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\d+|unlimited)/m)
    if (!m) return undefined
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1])
  } catch {
    return undefined
  }
}

/**
 * A process's CPU time, user + system, µs, from Linux /proc/<pid>/stat (fields 14 and 15, in
 * clock ticks of 1/100 s, Linux's USER_HZ); undefined where it cannot be read.
 */
function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return undefined
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function mulberry(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A fleet on several cores of one machine: the hubs split across worker threads by the same
 * shard rule as across processes (shard.ts: worker k of n serves the premises with index mod n
 * = k − 1), the DCC and its head end in the main thread, and between them the windowed WAN of
 * packages/hub (wan/windowed.ts): a fixed latency in virtual time, messages carried over at the
 * ends of windows.
 *
 * Time (virtual only): each thread has its own scheduler. `advance(ms)` moves all of them
 * together in windows: from a barrier at T, where every thread stands and every message has been
 * carried over, to `min(next event of any thread, earliest message not yet carried) + latency`
 * (or the target, if sooner). Nothing sent inside a window is due before its end, so each thread
 * runs its window alone, in parallel, and the result is the one a single scheduler with that WAN
 * latency would give. Windows with no events are skipped.
 *
 * Each worker gets the fleet as a snapshot (snapshotFleet) and restores it, so a restored fleet
 * is served as it stands; each holds the whole fleet in memory and runs only its shard's hubs.
 */
import { Worker } from 'node:worker_threads'
import type { Eui64, Scheduler } from '@smetsim/core'
import { type BackendName, getBackend } from '@smetsim/gbcs'
import { packForTransfer, WindowedHeadEnd, type WindowedMessage } from '../../hub/src/wan/windowed.ts'
import type { Fleet } from './build.ts'
import { addHouseholdStats, type HouseholdStats } from './households.ts'
import { createMetrics, type FleetMetrics, type MetricsSnapshot, snapshotMetrics } from './metrics.ts'
import { ADVANCE_SLICE_MS, createFleetDcc, type FleetDcc, type StartFleetOptions } from './run.ts'
import { MAX_SHARDS } from './shard.ts'
import { type WindowLane, type WindowReply, type WindowTiming, windowedAdvance } from './shard-window.ts'
import { snapshotFleet } from './snapshot.ts'
import type { FromWorker, ToWorker, WorkerShardData } from './worker-shard.ts'

export interface WorkerFleetOptions extends Pick<StartFleetOptions, 'scheduler' | 'sat' | 'dcc' | 'metrics'> {
  /** Worker threads (1 … MAX_SHARDS); the premises are split among them as shards k/n. */
  workers: number
  backend: BackendName
  /** The windowed WAN's latency and window, virtual ms (default ADVANCE_SLICE_MS, one minute). */
  latencyMs?: number
  /** Each worker runs its premises' prepayment households (startHouseholds); default false. */
  households?: boolean
}

export interface WorkerFleet extends FleetDcc {
  readonly fleet: Fleet
  readonly scheduler: Scheduler
  readonly metrics: FleetMetrics
  readonly workers: number
  readonly latencyMs: number
  readonly headEnd: WindowedHeadEnd
  /** Virtual time moves `ms` on in every thread (windows, see above). */
  advance(ms: number): Promise<void>
  /**
   * The DCC's metrics with the gauges summed over the workers' hubs, and the windowed WAN's
   * drops on both sides by reason (`late`: a message carried over after its arrival time, which
   * the windows rule out; `unknown-hub`, `unknown-kind`), and the wall ms each worker spent
   * running its windows (the rest of an advance it waited at the barriers) and its CPU ms.
   */
  stats(): Promise<
    MetricsSnapshot & {
      wanDrops: Record<string, number>
      workerBusyMs: number[]
      /** CPU ms of each worker thread so far (thread-cpu.ts); undefined where it cannot be read. */
      workerCpuMs: (number | undefined)[]
      /** Where the advances' wall time went, window by window (shard-window.ts), a copy. */
      windows: WindowTiming
    }
  >
  close(): Promise<void>
}

/** One worker thread and its replies, in order: a lane of the windows (shard-window.ts). */
class ShardThread implements WindowLane {
  private readonly waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = []
  private failure: Error | undefined
  next: number | undefined

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'failed') return this.fail(new Error(`fleet worker: ${m.message}`))
      this.waiting.shift()?.resolve(m)
    })
    worker.on('error', (e) => this.fail(e))
    worker.on('exit', (code) => this.fail(new Error(`fleet worker exited (${code})`)))
  }

  private fail(e: Error) {
    this.failure ??= e
    for (const w of this.waiting.splice(0)) w.reject(this.failure)
  }

  /** The next reply (the first is 'ready'). */
  reply<T extends FromWorker['t']>(t: T): Promise<Extract<FromWorker, { t: T }>> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiting.push({
        resolve: (m) =>
          m.t === t
            ? resolve(m as Extract<FromWorker, { t: T }>)
            : reject(new Error(`fleet worker said '${m.t}', not '${t}'`)),
        reject,
      })
    })
  }

  ask<T extends FromWorker['t']>(
    m: ToWorker,
    t: T,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<FromWorker, { t: T }>> {
    const r = this.reply(t)
    if (!this.failure) this.worker.postMessage(m, transfer)
    return r
  }

  async advance(until: number, msgs: WindowedMessage[]): Promise<WindowReply> {
    const out = packForTransfer(msgs)
    const r = await this.ask({ t: 'advance', until, msgs: out.msgs }, 'done', out.transfer)
    return { msgs: r.msgs, next: r.next, busyMs: r.busyMs }
  }

  terminate() {
    return this.worker.terminate()
  }
}

export async function startWorkerFleet(fleet: Fleet, o: WorkerFleetOptions): Promise<WorkerFleet> {
  const n = o.workers
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SHARDS)
    throw new RangeError(`workers must be 1 to ${MAX_SHARDS}, got ${n}`)
  const latencyMs = o.latencyMs ?? ADVANCE_SLICE_MS
  if (!(latencyMs > 0) || !Number.isFinite(latencyMs))
    throw new RangeError(`latencyMs must be above 0, got ${latencyMs}`)
  const { scheduler } = o
  const metrics = o.metrics ?? createMetrics()
  const headEnd = new WindowedHeadEnd(scheduler, {
    latencyMs,
    lanes: n,
    route: (commsHub: Eui64) => {
      const at = fleet.locate(commsHub)
      return at?.role === 'CHF' ? at.premise % n : undefined
    },
  })

  const bytes = snapshotFleet(fleet)
  const threads: ShardThread[] = []
  for (let k = 0; k < n; k++) {
    const data: WorkerShardData = {
      entry: new URL('./worker-shard.ts', import.meta.url).href,
      fleet: bytes,
      shard: { index: k + 1, count: n },
      latencyMs,
      backend: o.backend,
      now: scheduler.now(),
      households: o.households === true,
    }
    threads.push(
      new ShardThread(new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: data })),
    )
  }
  try {
    const ready = await Promise.all(threads.map((t) => t.reply('ready')))
    ready.forEach((r, k) => {
      threads[k]!.next = r.next
    })
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate()))
    throw e
  }

  const { dcc, sat, submit } = createFleetDcc(fleet, {
    ...o,
    backend: getBackend(o.backend),
    headEnd,
    metrics,
  })

  const advance = windowedAdvance({ scheduler, headEnd, lanes: threads, latencyMs })

  let closed = false
  return {
    fleet,
    scheduler,
    metrics,
    workers: n,
    latencyMs,
    headEnd,
    dcc,
    sat,
    submit,
    advance,
    async stats() {
      const parts = await Promise.all(threads.map((t) => t.ask({ t: 'stats' }, 'stats')))
      const supply = { enabled: 0, disabled: 0, armed: 0 }
      const hubDrops: Record<string, number> = {}
      const hubTraffic = { commands: 0, responses: 0, alerts: 0 }
      const wanDrops: Record<string, number> = { ...(headEnd.drops as Record<string, number>) }
      let hubsConnected = 0
      let devices = 0
      let households: HouseholdStats | undefined
      for (const { snapshot: s, wanDrops: d } of parts) {
        if (s.households) households = addHouseholdStats(households, s.households)
        for (const [r, c] of Object.entries(d)) wanDrops[r] = (wanDrops[r] ?? 0) + c
        hubsConnected += s.hubsConnected
        devices += s.devices
        for (const k of ['enabled', 'disabled', 'armed'] as const) supply[k] += s.supply[k]
        for (const [r, c] of Object.entries(s.hubDrops)) hubDrops[r] = (hubDrops[r] ?? 0) + c
        for (const k of ['commands', 'responses', 'alerts'] as const) hubTraffic[k] += s.hubTraffic[k]
      }
      const snapshot = snapshotMetrics(metrics, {
        now: new Date(scheduler.now()).toISOString(),
        premises: fleet.size,
        shard: '1/1',
        hubs: fleet.size,
        hubsConnected,
        devices,
        supply,
        hubDrops,
        hubTraffic,
      })
      return {
        ...snapshot,
        ...(households && { households }),
        wanDrops,
        workerBusyMs: parts.map((p) => p.busyMs),
        workerCpuMs: parts.map((p) => p.cpuMs),
        windows: { ...advance.timing, laneBusyMs: [...advance.timing.laneBusyMs] },
      }
    },
    async close() {
      if (closed) return
      closed = true
      await headEnd.close()
      await Promise.all(threads.map((t) => t.ask({ t: 'close' }, 'closed').catch(() => undefined)))
      await Promise.all(threads.map((t) => t.terminate()))
    },
  }
}

/**
 * One worker thread of a worker-thread fleet (workers.ts): the fleet restored from the main
 * thread's snapshot, the hubs of this thread's shard (startHubs) on a scheduler of its own, and
 * the windowed WAN's hub side (packages/hub wan/windowed.ts) to the DCC in the main thread. It
 * moves time only when told (`advance` to a window's end), carrying the messages over.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createScheduler } from '@smetsim/core'
import { type BackendName, getBackend } from '@smetsim/gbcs'
import { packForTransfer, WindowedHubSide, type WindowedMessage } from '../../hub/src/wan/windowed.ts'
import { startHouseholds } from './households.ts'
import { withHouseholds } from './metrics.ts'
import { type HubWan, startHubs } from './run.ts'
import type { Shard } from './shard.ts'
import { runWindow } from './shard-window.ts'
import { restoreFleet } from './snapshot.ts'
import { threadCpuMs } from './thread-cpu.ts'

/** What the main thread gives a worker (workerData). */
export interface WorkerShardData {
  entry: string
  fleet: Uint8Array
  shard: Shard
  latencyMs: number
  backend: BackendName
  now: number
  /** Run this shard's prepayment households (startHouseholds). */
  households: boolean
}

export type ToWorker =
  | { t: 'advance'; until: number; msgs: WindowedMessage[] }
  | { t: 'stats' }
  | { t: 'close' }

export type FromWorker =
  | { t: 'ready'; next: number | undefined }
  | { t: 'done'; msgs: WindowedMessage[]; next: number | undefined; busyMs: number }
  | {
      t: 'stats'
      snapshot: import('./metrics.ts').MetricsSnapshot
      wanDrops: Record<string, number>
      /** Wall ms this thread spent running its windows (the rest it waited at barriers). */
      busyMs: number
      /** CPU ms of this thread so far (thread-cpu.ts), undefined where it cannot be read. */
      cpuMs: number | undefined
    }
  | { t: 'closed' }
  | { t: 'failed'; message: string }

const port = parentPort!
const data = workerData as WorkerShardData
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

try {
  const fleet = restoreFleet(data.fleet)
  if (!fleet.ok) throw fleet.error
  const scheduler = createScheduler({ start: data.now })
  const side = new WindowedHubSide(scheduler, { latencyMs: data.latencyMs })
  const wan: HubWan = {
    open: () => {},
    send: (commsHub, u) => side.uplinkFor(commsHub)(u),
    connect: async (_p, hub) => side.register(hub),
    commandsIn: () => side.commands,
    close: async () => {},
  }
  let busyMs = 0
  const run = await startHubs(fleet.value, {
    scheduler,
    backend: getBackend(data.backend),
    shard: data.shard,
    wan,
  })
  const households = data.households ? startHouseholds(run, { backend: getBackend(data.backend) }) : undefined
  port.on('message', async (m: ToWorker) => {
    try {
      if (m.t === 'advance') {
        // The hubs are synchronous and the port is the thread's only I/O: one run to the window's
        // end, no slicing (run.advance's slices are for I/O that waits between them).
        const r = runWindow(scheduler, side, m.until, m.msgs)
        busyMs += r.busyMs
        const out = packForTransfer(r.msgs)
        post({ t: 'done', msgs: out.msgs, next: r.next, busyMs: r.busyMs }, out.transfer)
      } else if (m.t === 'stats')
        post({
          t: 'stats',
          snapshot: households ? withHouseholds(run.snapshot(), households.stats) : run.snapshot(),
          wanDrops: { ...side.drops } as Record<string, number>,
          busyMs,
          cpuMs: threadCpuMs(),
        })
      else if (m.t === 'close') {
        households?.stop()
        await run.close()
        post({ t: 'closed' })
        port.close()
      }
    } catch (e) {
      post({ t: 'failed', message: e instanceof Error ? e.message : String(e) })
    }
  })
  post({ t: 'ready', next: scheduler.next() })
} catch (e) {
  post({ t: 'failed', message: e instanceof Error ? e.message : String(e) })
  port.close()
}

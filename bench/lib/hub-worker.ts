/**
 * A worker thread of bench/hub.ts's MQTT part (`--hub-workers N`): it owns hubs first … first +
 * keys.length - 1 (hub-side.ts), their MQTT connections and their ESMEs, so the hubs' side gets a
 * thread of its own while the head end stays in the bench's thread and aedes in its child process.
 * Started through ts-worker.mjs (tsx in a worker).
 *
 * workerData: { url, first, keys, cells, concurrency }. Messages, each answered with { t, ... } once done:
 * 'connect' → { t: 'connected', failed }; 'raw-on' { downSize, downFill, upSize, upFill } →
 * { t: 'raw-on' }; 'raw-off' → { t: 'raw-off' }; 'close' → { t: 'closed' }. After building:
 * { t: 'built' }.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { TrustAnchorCells } from '../../packages/device/src/index.ts'
import { buildHubSide, connectHubSide, type EsmeKeys, rawPayload, rawResponder } from './hub-side.ts'

const data = workerData as {
  url: string
  first: number
  keys: EsmeKeys[]
  cells: TrustAnchorCells
  concurrency: number
}
const port = parentPort!
const side = buildHubSide(data.url, data.first, data.keys, data.cells)
let restore: (() => void) | undefined

port.on(
  'message',
  async (m: { t: string; downSize?: number; downFill?: number; upSize?: number; upFill?: number }) => {
    switch (m.t) {
      case 'connect':
        port.postMessage({ t: 'connected', failed: await connectHubSide(side, data.concurrency) })
        return
      case 'raw-on':
        restore = rawResponder(
          side,
          rawPayload(m.downSize ?? 0, m.downFill ?? 0),
          rawPayload(m.upSize ?? 0, m.upFill ?? 0),
        )
        port.postMessage({ t: 'raw-on' })
        return
      case 'raw-off':
        restore?.()
        restore = undefined
        port.postMessage({ t: 'raw-off' })
        return
      case 'close':
        await Promise.all(side.links.map((l) => l.close()))
        port.postMessage({ t: 'closed' })
        port.close()
        return
    }
  },
)
port.postMessage({ t: 'built' })

/**
 * The hubs' side of bench/hub.ts's MQTT part: HUBS Communications Hubs with an ESME each, one
 * MqttHubLink (one connection) per hub, and the raw QoS 1 responder of the baseline on those same
 * connections. Used in the bench's own thread (`--hub-workers 0`) and in each worker thread of
 * hub-worker.ts, which owns a contiguous range of the hubs.
 */
import { createScheduler, type Eui64 } from '../../packages/core/src/index.ts'
import { createDevice, type TrustAnchorCells } from '../../packages/device/src/index.ts'
import { T0 } from '../../packages/device/src/testing.ts'
import { getBackend } from '../../packages/gbcs/src/index.ts'
import { Hub } from '../../packages/hub/src/index.ts'
import { CHF_KA, chfCells, DEVICE_CA } from '../../packages/hub/src/testing.ts'
import { MqttHubLink, upTopic } from '../../packages/hub/src/wan/mqtt.ts'

/** Premises i's EUIs: k 0 its ESME, 2 its CHF. */
export const hubEui = (i: number, k: number) =>
  `00DB13${(i * 16 + k).toString(16).toUpperCase().padStart(10, '0')}` as Eui64

export const PREFIX = 'bench'

/** An ESME's own keys (made by the bench's thread, which builds the commands for it). */
export interface EsmeKeys {
  ds: Uint8Array
  ka: Uint8Array
}

export interface HubSide {
  /** Index of the first hub (hubEui(first, 2)). */
  readonly first: number
  readonly links: MqttHubLink[]
  readonly hubs: Hub[]
}

/**
 * Hubs first … first + keys.length - 1, each with its ESME joined and in its Device Log (SR 8.11).
 * `cells`: the ESMEs' trust anchor cells, from the thread that builds their commands (the test
 * PKI is made afresh in each thread, so a worker's own would trust other keys).
 */
export function buildHubSide(
  url: string,
  first: number,
  keys: readonly EsmeKeys[],
  cells: TrustAnchorCells,
): HubSide {
  const backend = getBackend('native')
  const scheduler = createScheduler({ start: T0 })
  const links: MqttHubLink[] = []
  const hubs: Hub[] = []
  for (const [n, k] of keys.entries()) {
    const j = first + n
    const link = new MqttHubLink(hubEui(j, 2), { url, prefix: PREFIX })
    const hub = new Hub({
      scheduler,
      chf: { eui: hubEui(j, 2), ka: CHF_KA, cells: chfCells() },
      deviceCas: [DEVICE_CA.certificate],
      uplink: link.uplink,
      backend,
    })
    const esme = createDevice({ type: 'ESME', eui: hubEui(j, 0), cells, now: T0, keys: k })
    hub.attach(esme, { joined: true })
    hub.addDevice({ deviceId: esme.eui, deviceType: 'ESME', installCode: new Uint8Array(16) })
    links.push(link)
    hubs.push(hub)
  }
  return { first, links, hubs }
}

/**
 * Connects every link (subscribed, 'hi' sent), `concurrency` being set up at once; resolves with
 * how many did not connect within serve()'s 30 s (mqtt.js goes on retrying those).
 */
export async function connectHubSide(side: HubSide, concurrency: number): Promise<number> {
  let next = 0
  let failed = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, side.links.length) }, async () => {
      while (next < side.links.length) {
        const j = next++
        await side.links[j]!.serve(side.hubs[j]!).catch(() => {
          failed++
        })
      }
    }),
  )
  return failed
}

/** What the baseline needs of an mqtt.js client (the link's own, reached past its privacy). */
export interface RawClient {
  publish(t: string, p: Buffer, o: { qos: 1 }): void
  listeners(e: 'message'): ((topic: string, payload: Buffer) => void)[]
  removeAllListeners(e: 'message'): void
  on(e: 'message', f: (topic: string, payload: Buffer) => void): void
}
export const clientOf = (x: object) => (x as { client: RawClient }).client

/** A raw payload of the baseline: its size and fill byte tell it from anything else on the wire. */
export const rawPayload = (size: number, fill: number) => Buffer.alloc(size, fill)
export const isRaw = (p: Buffer, b: Buffer) => p.length === b.length && p[0] === b[0]

/**
 * The baseline's hub end on the same connections: the links' own message handlers set aside,
 * each answers a raw `down` payload with a raw `up` one on its up topic, QoS 1, nothing else.
 * Returns the function that puts the links' handlers back.
 */
export function rawResponder(side: HubSide, down: Buffer, up: Buffer): () => void {
  const saved = side.links.map((link) => {
    const c = clientOf(link)
    const ls = c.listeners('message')
    c.removeAllListeners('message')
    return { c, ls }
  })
  for (const [n, link] of side.links.entries()) {
    const c = clientOf(link)
    const topic = upTopic(PREFIX, hubEui(side.first + n, 2))
    c.on('message', (_topic, payload) => {
      if (isRaw(payload, down)) c.publish(topic, up, { qos: 1 })
    })
  }
  return () => {
    for (const { c, ls } of saved) {
      c.removeAllListeners('message')
      for (const l of ls) c.on('message', l)
    }
  }
}

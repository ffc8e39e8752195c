/**
 * A plain MQTT client for the lock-step windows of virtual-time shards (packages/fleet
 * shard-time.ts, which owns the topics and what goes on them): one connection per process, clean
 * session, QoS 1 both ways, subscribed to one topic filter before it is handed out. The fleet
 * package has no MQTT client of its own; this keeps mqtt.js in the hub package, as the WAN's other
 * adapters do.
 */
import { randomBytes } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'

export interface WindowLink {
  /** Publishes at QoS 1; settles when the broker has it (or the client is gone). Never rejects. */
  publish(topic: string, payload: Uint8Array): Promise<void>
  /** Every message on the subscribed filter. */
  onMessage(listener: (topic: string, payload: Uint8Array) => void): void
  close(): Promise<void>
}

const QOS1 = { qos: 1 } as const

/** Connected to `url` and subscribed to `filter`, or an Error after `timeoutMs`. */
export async function openWindowLink(
  url: string,
  o: { role: string; filter: string; timeoutMs: number },
): Promise<WindowLink> {
  const client: MqttClient = mqtt.connect(url, {
    clientId: `smetsim-window-${o.role}-${randomBytes(6).toString('hex')}`,
    clean: true,
    reconnectPeriod: 500,
    connectTimeout: Math.min(o.timeoutMs, 10_000),
  })
  client.on('error', () => {}) // a broker that is not there is the time-out's to report
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        const go = () => client.subscribe(o.filter, QOS1, (e) => (e ? reject(e) : resolve()))
        if (client.connected) go()
        else client.once('connect', go)
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no MQTT connection to ${url} within ${o.timeoutMs} ms`)),
          o.timeoutMs,
        )
      }),
    ])
  } catch (e) {
    await client.endAsync(true)
    throw e
  } finally {
    clearTimeout(timer)
  }
  return {
    publish: (topic, payload) =>
      new Promise<void>((resolve) =>
        client.publish(
          topic,
          Buffer.isBuffer(payload)
            ? payload
            : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
          QOS1,
          () => resolve(),
        ),
      ),
    onMessage: (listener) => {
      client.on('message', (topic, payload) => listener(topic, payload))
    },
    close: async () => {
      await client.endAsync()
    },
  }
}

/**
 * One document kept on the broker as a retained MQTT message: what the shards of a fleet share
 * besides the WAN traffic (the fleet's PKI, packages/fleet shard-pki.ts). Retained messages are
 * plain MQTT (3.1.1 §3.3.1.3), so any broker a sharded fleet runs on keeps them; nothing here is
 * a protocol of our own. An empty retained message deletes the document.
 */
import { randomBytes } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'

/** Largest document read (a fleet PKI is about 10 KiB). */
export const MAX_RETAINED_BYTES = 1024 * 1024

function client(url: string, timeoutMs: number): MqttClient {
  const c = mqtt.connect(url, {
    clientId: `smetsim-doc-${randomBytes(6).toString('hex')}`,
    clean: true,
    connectTimeout: timeoutMs,
    reconnectPeriod: 500,
  })
  c.on('error', () => {}) // a refused connection is the time-out's to report
  return c
}

async function withTimeout<T>(c: MqttClient, ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
    await c.endAsync(true)
  }
}

/** Keeps `payload` on the broker at `topic` (QoS 1, retained); an empty payload deletes it. */
export function publishRetained(url: string, topic: string, payload: Uint8Array, timeoutMs = 10_000) {
  const c = client(url, timeoutMs)
  const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return withTimeout(
    c,
    timeoutMs,
    `publishing ${topic} to ${url}`,
    new Promise<void>((resolve, reject) =>
      c.once('connect', () =>
        c.publishAsync(topic, buffer, { qos: 1, retain: true }).then(() => resolve(), reject),
      ),
    ),
  )
}

/**
 * The document at `topic`: the retained one, or the first published within `timeoutMs` (so the
 * reader may start before the writer). Empty messages (deletions) are waited past; one larger
 * than MAX_RETAINED_BYTES is refused.
 */
export function readRetained(url: string, topic: string, timeoutMs = 30_000): Promise<Uint8Array> {
  const c = client(url, timeoutMs)
  return withTimeout(
    c,
    timeoutMs,
    `waiting for ${topic} on ${url}`,
    new Promise<Uint8Array>((resolve, reject) => {
      c.on('message', (t, payload) => {
        if (t !== topic || payload.length === 0) return
        if (payload.length > MAX_RETAINED_BYTES)
          reject(new Error(`${topic}: ${payload.length} bytes, more than ${MAX_RETAINED_BYTES}`))
        else resolve(new Uint8Array(payload))
      })
      c.once('connect', () => c.subscribeAsync(topic, { qos: 1 }).catch(reject))
    }),
  )
}

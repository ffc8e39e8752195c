/**
 * The embedded MQTT broker: aedes on a TCP port of this machine (127.0.0.1 by default), with its
 * default in-memory persistence. `close()` ends every connection at once, as a broker crash
 * would, so tests can restart it on the same port. What a restart loses (the broker's sessions
 * and queued messages) the WAN adapters make good end to end (mqtt.ts). aedes has no limit on a
 * packet's size: the hubs bound what they accept (envelope.ts), not the broker.
 */
import { createServer, type Socket } from 'node:net'
import { Aedes } from 'aedes'

export interface EmbeddedBroker {
  /** mqtt://host:port */
  readonly url: string
  readonly port: number
  /** Messages the broker refused or could not parse, by connection (aedes 'clientError'/'connectionError'). */
  readonly errors: number
  close(): Promise<void>
}

export interface BrokerOptions {
  /** 0 (default): a free port. */
  port?: number
  host?: string
}

export async function startBroker(o: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = o.host ?? '127.0.0.1'
  const aedes = await Aedes.createBroker({
    concurrency: 1000,
    queueLimit: 1000,
    drainTimeout: 10_000,
  } as never)
  let errors = 0
  aedes.on('clientError', () => errors++)
  aedes.on('connectionError', () => errors++)
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    aedes.handle(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 0, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : (o.port ?? 0)
  return {
    url: `mqtt://${host}:${port}`,
    port,
    get errors() {
      return errors
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
    },
  }
}

/**
 * The embedded MQTT broker: aedes on a TCP port of this machine (127.0.0.1 by default), with its
 * default in-memory persistence. `close()` ends every connection at once, as a broker crash
 * would, so tests can restart it on the same port. What a restart loses (the broker's sessions
 * and queued messages) the WAN adapters make good end to end (mqtt.ts). aedes has no limit on a
 * packet's size: the hubs bound what they accept (envelope.ts), not the broker.
 */
import { fork } from 'node:child_process'
import { createServer, type Socket } from 'node:net'
import { Aedes } from 'aedes'

export interface EmbeddedBroker {
  /** mqtt://host:port */
  readonly url: string
  readonly port: number
  /** The process the broker runs in (this one, or its child with `childProcess`). */
  readonly pid: number
  /** Messages the broker refused or could not parse, by connection (aedes 'clientError'/'connectionError'). */
  readonly errors: number
  close(): Promise<void>
}

export interface BrokerOptions {
  /** 0 (default): a free port. */
  port?: number
  host?: string
  /**
   * Run aedes in a child process of its own (broker-process.ts) rather than in this one: the
   * broker's half of every connection (its socket, its packet handling) then takes the other
   * core and the other process's file descriptors — 10 000 hubs are 20 000 sockets in one
   * process, more than a common `ulimit -n`. The same aedes, options and behaviour: `close()`
   * still ends every connection at once, and `errors` is the child's count (reported at most
   * every 100 ms). The child exits with its parent.
   */
  childProcess?: boolean
}

export async function startBroker(o: BrokerOptions = {}): Promise<EmbeddedBroker> {
  if (o.childProcess) return startBrokerProcess(o)
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
    pid: process.pid,
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

/** The execArgv a child needs to load .ts (this repository runs under tsx), keeping the parent's. */
function tsExecArgv(): string[] {
  const a = process.execArgv
  const hasTsx = a.some((x, i) => x.includes('tsx') && (i > 0 || x.startsWith('--import')))
  return hasTsx ? [...a] : [...a, '--import', 'tsx']
}

async function startBrokerProcess(o: BrokerOptions): Promise<EmbeddedBroker> {
  const host = o.host ?? '127.0.0.1'
  const child = fork(new URL('./broker-process.ts', import.meta.url), [], {
    execArgv: tsExecArgv(),
    env: { ...process.env, SMETSIM_BROKER_PORT: String(o.port ?? 0), SMETSIM_BROKER_HOST: host },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let errors = 0
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`the broker process exited (${code}) before it listened`))
    child.once('exit', onExit)
    child.once('error', reject)
    child.on('message', (m: { t?: string; port?: number; n?: number }) => {
      if (m.t === 'up' && typeof m.port === 'number') {
        child.off('exit', onExit)
        resolve(m.port)
      } else if (m.t === 'errors' && typeof m.n === 'number') errors = m.n
    })
  })
  // The parent may exit while the child runs (a test, a bench): the child goes when the IPC
  // channel does; unref so the child does not keep the parent alive on its own.
  child.unref()
  child.channel?.unref()
  return {
    url: `mqtt://${host}:${port}`,
    port,
    pid: child.pid ?? 0,
    get errors() {
      return errors
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.ref()
      child.channel?.ref()
      child.send({ t: 'close' })
      await exited
    },
  }
}

/**
 * Test support: brokers to run the WAN tests against — the embedded aedes broker, and a real
 * mosquitto started by the test itself on a free port with a temporary configuration (never a
 * system service). `.ci/run` installs mosquitto from the OS packages when it is missing; with
 * CI=true a missing mosquitto fails the test instead of skipping it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBroker } from './broker.ts'

export interface TestBroker {
  readonly name: string
  readonly url: string
  /** Stops the broker at once (connections cut) and starts it again on the same port. */
  restart(downMs?: number): Promise<void>
  close(): Promise<void>
}

export function mosquittoPath(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    try {
      execFileSync(p, ['-h'], { stdio: 'ignore' })
      return p
    } catch (e) {
      // `mosquitto -h` exits 3 after printing its help: it is there.
      if ((e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT')
        return p
    }
  }
  return undefined
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

async function waitForPort(port: number, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const c = tcpConnect(port, '127.0.0.1')
      c.once('connect', () => {
        c.destroy()
        resolve(true)
      })
      c.once('error', () => resolve(false))
    })
    if (up) return
    if (Date.now() > end) throw new Error(`nothing listening on port ${port} after ${ms} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export async function aedesBroker(): Promise<TestBroker> {
  let broker = await startBroker()
  const port = broker.port
  return {
    name: 'aedes',
    url: broker.url,
    async restart(downMs = 200) {
      await broker.close()
      await new Promise((r) => setTimeout(r, downMs))
      broker = await startBroker({ port })
    },
    close: () => broker.close(),
  }
}

export async function mosquittoBroker(path: string): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'smetsim-mosquitto-'))
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  // Persistence on: a graceful restart keeps sessions and queued messages (mosquitto saves them
  // on SIGTERM); the adapters' end-to-end acknowledgements cover what a hard stop would lose.
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'max_inflight_messages 1000',
      'max_queued_messages 100000',
      'log_dest none',
      '',
    ].join('\n'),
  )
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(path, ['-c', conf], { stdio: 'ignore' })
    await waitForPort(port)
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child
      if (!c || c.exitCode !== null) return resolve()
      c.once('exit', () => resolve())
      c.kill('SIGTERM')
    })
  await start()
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    async restart(downMs = 200) {
      await stop()
      await new Promise((r) => setTimeout(r, downMs))
      await start()
    },
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

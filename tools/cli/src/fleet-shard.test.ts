/**
 * `smetsim fleet up --shard` as a user runs it: two processes over a real mosquitto (started by
 * the test on a free port; .ci/run installs it, and in CI a missing one fails rather than skips),
 * shard 1 with the DCC and its API, shard 2 with hubs only. Service Requests go into shard 1's
 * DCC and reach meters in either process; a shard stopped and started again from its snapshot
 * rejoins. Children run in their own process groups and are killed as groups in `finally`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFleetSpec, premise } from '@smetsim/fleet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpsJson } from '../../../packages/dcc/src/http/testing.ts'
import {
  mosquittoBroker,
  mosquittoPath,
  type TestBroker,
} from '../../../packages/hub/src/wan/brokers.test-support.ts'

const MAIN = join(import.meta.dirname, 'main.ts')
const PREMISES = 4
const mosquitto = mosquittoPath()
const inCi = process.env.CI === 'true'

interface Shard {
  child: ChildProcess
  /** Signals sent (a second SIGINT ends `fleet up` at once, as a second Ctrl-C does). */
  sent: Set<NodeJS.Signals>
  out: { stdout: string; stderr: string }
  closed: Promise<number | null>
}

/** `fleet up` spawned in a process group of its own. */
function shard(args: string[]): Shard {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'fleet', 'up', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const out = { stdout: '', stderr: '' }
  child.stdout!.on('data', (d) => {
    out.stdout += d
  })
  child.stderr!.on('data', (d) => {
    out.stderr += d
  })
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, out, closed, sent: new Set() }
}

/** Resolves with the first match of `pattern` in the shard's stderr (from character `from` on). */
function said(s: Shard, pattern: RegExp, ms = 20_000, from = 0): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const look = () => {
      const m = s.out.stderr.slice(from).match(pattern)
      if (m) {
        clearInterval(timer)
        clearTimeout(late)
        resolve(m)
      }
    }
    const timer = setInterval(look, 50)
    const late = setTimeout(() => {
      clearInterval(timer)
      reject(new Error(`no ${pattern} within ${ms} ms; stderr:\n${s.out.stderr}`))
    }, ms)
    look()
  })
}

/** Signals the shard's whole process group, once per signal (nothing if it has ended). */
function signal(s: Shard, sig: NodeJS.Signals) {
  if (s.child.exitCode !== null || s.child.signalCode !== null || s.child.pid === undefined) return
  if (s.sent.has(sig)) return
  s.sent.add(sig)
  try {
    process.kill(-s.child.pid, sig)
  } catch {
    // already gone
  }
}

/** Stops a shard as Ctrl-C does and returns its exit code and the JSON object of its last line. */
async function stop(s: Shard) {
  signal(s, 'SIGINT')
  const code = await s.closed
  return { code, summary: JSON.parse(s.out.stdout.trimEnd().split('\n').at(-1) ?? 'null') }
}

describe.runIf(mosquitto || inCi)('smetsim fleet up --shard over mosquitto', () => {
  let broker: TestBroker
  const work = mkdtempSync(join(tmpdir(), 'smetsim-shard-'))
  const shards: Shard[] = []
  beforeAll(async () => {
    broker = await mosquittoBroker(mosquitto ?? 'mosquitto-missing')
  })
  afterAll(async () => {
    for (const s of shards) signal(s, 'SIGKILL')
    await broker?.close()
    rmSync(work, { recursive: true, force: true })
  })

  const spec = parseFleetSpec({ premises: PREMISES })
  if (!spec.ok) throw spec.error
  const p = (i: number) => premise(spec.value, i)!
  const tls = join(work, 'tls')
  const common = () => ['--premises', String(PREMISES), '--broker', broker.url, '--speed', '60', '--json']
  const start = (args: string[]) => {
    const s = shard([...common(), ...args])
    shards.push(s)
    return s
  }
  /** SR 7.4 (read the ESME's instantaneous values) from premise i's supplier, into shard 1's DCC. */
  const read = async (api: string, i: number, counter: number, dir = tls) => {
    const file = (f: string) => readFileSync(join(dir, f), 'utf8')
    const supplier = p(i).supplierEui
    const r = await httpsJson({
      url: `${api}/service-requests`,
      body: {
        requestId: `${supplier}:${p(i).esme}:${counter}`,
        role: 'IS',
        srv: '7.4',
        commandVariant: 1,
        deviceType: 'ESME',
      },
      ca: file('ca.pem'),
      cert: file(`${supplier.toLowerCase()}.pem`),
      key: file(`${supplier.toLowerCase()}.key`),
    })
    return r.json
  }

  it('--shard 1/2 and 2/2 over mosquitto: every hub up across the two, commands from shard 1’s DCC answered by meters in both', async () => {
    // Shard 2 first: it waits on the broker for shard 1's PKI before it builds.
    const two = start(['--shard', '2/2'])
    await said(two, /waiting for the fleet PKI from shard 1/)
    const one = start(['--shard', '1/2', '--port', '0', '--tls', tls])
    try {
      const api = (await said(one, /DCC HTTP API: (https:\S+)/))[1]!
      await said(two, /hubs up: 2\/2/)
      // Premise 1 is shard 2's (1 mod 2 = 1), premise 0 shard 1's: the same DCC serves both.
      expect(await read(api, 1, 1)).toMatchObject({ code: 'I0', response: { originator: p(1).esme } })
      expect(await read(api, 0, 1)).toMatchObject({ code: 'I0', response: { originator: p(0).esme } })
      expect(await read(api, 3, 1)).toMatchObject({ code: 'I0', response: { originator: p(3).esme } })
    } finally {
      signal(one, 'SIGINT')
      signal(two, 'SIGINT')
    }
    const [a, b] = [await stop(one), await stop(two)]
    expect([a.code, b.code]).toEqual([0, 0])
    expect(a.summary).toMatchObject({
      shard: '1/2',
      premises: PREMISES,
      hubs: 2,
      hubsConnected: 2,
      errors: 0,
    })
    expect(b.summary).toMatchObject({
      shard: '2/2',
      premises: PREMISES,
      hubs: 2,
      hubsConnected: 2,
      errors: 0,
    })
    // The DCC (shard 1) sent three commands and had three responses; two of them came from shard 2's hubs.
    expect(a.summary).toMatchObject({ requests: 3, commands: 3, responses: 3 })
    expect(b.summary).toMatchObject({ requests: 0, commands: 0, responses: 0 })
    // Counted at the hubs: a command sent again after a reconnect would count again (and be
    // answered again with the same response), so at least, and one response for each.
    expect(a.summary.hubTraffic.commands).toBeGreaterThanOrEqual(1)
    expect(a.summary.hubTraffic.responses).toBe(a.summary.hubTraffic.commands)
    expect(b.summary.hubTraffic.commands).toBeGreaterThanOrEqual(2)
    expect(b.summary.hubTraffic.responses).toBe(b.summary.hubTraffic.commands)
  }, 60_000)

  /**
   * A restarted shard 2 is up again: from its snapshot it needs no PKI from shard 1 (it has the
   * fleet's own), and its meters, as the snapshot kept them, answer shard 1's DCC again (a later
   * command counter for premise 1, a first read of premise 3).
   */
  const rejoined = async (again: Shard, api: string, dir = tls) => {
    await said(again, /hubs up: 2\/2/)
    expect(again.out.stderr).not.toContain('waiting for the fleet PKI')
    expect(await read(api, 1, 2, dir)).toMatchObject({ code: 'I0', response: { originator: p(1).esme } })
    expect(await read(api, 3, 1, dir)).toMatchObject({ code: 'I0', response: { originator: p(3).esme } })
  }

  /** Both stop cleanly, shard 1 with the three reads answered, the restarted shard 2 with every command it took answered. */
  const stoppedAfterRejoin = async (one: Shard, again: Shard) => {
    const [a, b] = [await stop(one), await stop(again)]
    expect([a.code, b.code]).toEqual([0, 0])
    expect(a.summary).toMatchObject({ shard: '1/2', requests: 3, responses: 3, errors: 0 })
    expect(b.summary).toMatchObject({ shard: '2/2', hubsConnected: 2, errors: 0 })
    expect(b.summary.hubTraffic.commands).toBeGreaterThanOrEqual(2)
    expect(b.summary.hubTraffic.responses).toBe(b.summary.hubTraffic.commands)
  }

  it('a shard stopped and started again from its --snapshot rejoins: restored as the same shard, its meters answer the DCC again', async () => {
    const file = join(work, 'shard-2.cbor')
    const two = start(['--shard', '2/2', '--snapshot', file])
    const one = start(['--shard', '1/2', '--port', '0', '--tls', tls])
    let again: Shard | undefined
    try {
      const api = (await said(one, /DCC HTTP API: (https:\S+)/))[1]!
      await said(two, /hubs up: 2\/2/)
      expect(await read(api, 1, 1)).toMatchObject({ code: 'I0', response: { originator: p(1).esme } })

      // Shard 2 is killed (SIGTERM: it saves its snapshot on the way out) while shard 1 runs on.
      signal(two, 'SIGTERM')
      expect(await two.closed).toBe(0)
      expect(two.out.stderr).toContain(`snapshot written to ${file}`)
      expect(existsSync(file)).toBe(true)

      // Its snapshot is of shard 2 and restores only as shard 2 (refused before any connection).
      const wrong = start(['--shard', '1/2', '--snapshot', file])
      expect(await wrong.closed).toBe(2)
      expect(wrong.out.stderr).toMatch(/a snapshot of shard 2\/2, not of 1\/2/)

      again = start(['--shard', '2/2', '--snapshot', file])
      const at = (await said(again, /restored 4 premises at (\S+) from/))[1]!
      expect(Date.parse(at)).toBeGreaterThan(Date.parse(spec.value.start))
      await rejoined(again, api)
    } finally {
      signal(one, 'SIGINT')
      if (again) signal(again, 'SIGINT')
      signal(two, 'SIGKILL')
    }
    await stoppedAfterRejoin(one, again!)
  }, 60_000)

  it('a shard killed (SIGKILL) after a periodic snapshot restarts from it with the same --snapshot and rejoins: the same shard, its meters answer the DCC again', async () => {
    const file = join(work, 'shard-2-killed.cbor')
    const dir = join(work, 'tls-killed')
    const two = start(['--shard', '2/2', '--snapshot', file, '--snapshot-every', '1s'])
    const one = start(['--shard', '1/2', '--port', '0', '--tls', dir])
    let again: Shard | undefined
    try {
      const api = (await said(one, /DCC HTTP API: (https:\S+)/))[1]!
      await said(two, /hubs up: 2\/2/)
      expect(await read(api, 1, 1, dir)).toMatchObject({ code: 'I0', response: { originator: p(1).esme } })

      // A periodic snapshot taken after that command, then SIGKILL: nothing written on the way out.
      const written = new RegExp(`snapshot written to ${file}: virtual (\\S+),`)
      const snapshotAt = Date.parse((await said(two, written, 20_000, two.out.stderr.length))[1]!)
      signal(two, 'SIGKILL')
      expect(await two.closed).toBeNull()
      expect(two.child.signalCode).toBe('SIGKILL')

      again = start(['--shard', '2/2', '--snapshot', file, '--snapshot-every', '1s'])
      const at = Date.parse((await said(again, /restored 4 premises at (\S+) from/))[1]!)
      expect(at).toBeGreaterThanOrEqual(snapshotAt)
      await rejoined(again, api, dir)
    } finally {
      signal(one, 'SIGINT')
      if (again) signal(again, 'SIGINT')
      signal(two, 'SIGKILL')
    }
    await stoppedAfterRejoin(one, again!)
  }, 60_000)

  /** POST /fleet/advance as the auditor of the run whose credentials are in `dir`. */
  const advance = (api: string, dir: string, ms: number) => {
    const file = (f: string) => readFileSync(join(dir, f), 'utf8')
    return httpsJson({
      url: `${api}/fleet/advance`,
      body: { ms },
      ca: file('ca.pem'),
      cert: file('auditor.pem'),
      key: file('auditor.key'),
    })
  }
  const DAY = 86_400_000
  /** The summary's last line once the process has ended by itself. */
  const ended = async (s: Shard) => ({
    code: await s.closed,
    summary: JSON.parse(s.out.stdout.trimEnd().split('\n').at(-1) ?? 'null'),
  })
  const served = (dir: string) => ['--port', '0', '--tls', dir, '--for', '1d']

  it('in virtual time (no --speed) --shard 1/2 and 2/2 keep lock-step on the broker and agree with the one-process run on the seed', async () => {
    // The one-process run: the same fleet, three reads, a virtual day moved by the API.
    const solo = join(work, 'tls-solo')
    const single = shard(['--premises', String(PREMISES), '--json', ...served(solo)])
    shards.push(single)
    const singleApi = (await said(single, /DCC HTTP API: (https:\S+)/))[1]!
    const singleReads = [0, 1, 3].map((i) => read(singleApi, i, 1, solo))
    expect((await advance(singleApi, solo, DAY)).status).toBe(200)
    const singleCodes = (await Promise.all(singleReads)).map((r) => r?.code)
    const alone = await ended(single)
    expect(alone.code).toBe(0)

    const dir = join(work, 'tls-virtual')
    const args = (more: string[]) => [
      '--premises',
      String(PREMISES),
      '--broker',
      broker.url,
      '--json',
      ...more,
    ]
    const b = shard(args(['--shard', '2/2']))
    shards.push(b)
    await said(b, /waiting for the fleet PKI from shard 1/)
    const a = shard(args(['--shard', '1/2', ...served(dir)]))
    shards.push(a)
    const api = (await said(a, /DCC HTTP API: (https:\S+)/))[1]!
    await said(b, /hubs up, waiting for shard 1's windows/)
    // Premises 1 and 3 are shard 2's: their commands cross the broker in the windows.
    const reads = [0, 1, 3].map((i) => read(api, i, 1, dir))
    expect(await advance(api, dir, DAY)).toMatchObject({
      status: 200,
      json: { virtualTime: alone.summary.virtualTime },
    })
    const codes = (await Promise.all(reads)).map((r) => r?.code)
    const [one, other] = [await ended(a), await ended(b)]
    expect([one.code, other.code]).toEqual([0, 0])
    expect(codes).toEqual(singleCodes)
    expect(codes).toEqual(['I0', 'I0', 'I0'])
    const x = one.summary
    const y = other.summary
    const z = alone.summary
    expect([x.virtualTime, y.virtualTime]).toEqual([z.virtualTime, z.virtualTime])
    expect({ requests: x.requests, commands: x.commands, responses: x.responses }).toEqual({
      requests: z.requests,
      commands: z.commands,
      responses: z.responses,
    })
    const sum = (k: 'enabled' | 'disabled' | 'armed') => x.supply[k] + y.supply[k]
    expect({ enabled: sum('enabled'), disabled: sum('disabled'), armed: sum('armed') }).toEqual(z.supply)
    expect(x.devices + y.devices).toBe(z.devices)
    expect(x.hubTraffic.alerts + y.hubTraffic.alerts).toBe(z.hubTraffic.alerts)
    expect(y.hubTraffic).toMatchObject({ commands: 2, responses: 2 })
    expect(x.households.attempts + y.households.attempts).toBe(z.households.attempts)
    expect(x.households.utrnsAccepted + y.households.utrnsAccepted).toBe(z.households.utrnsAccepted)
    expect([x.errors, y.errors, z.errors]).toEqual([0, 0, 0])
  }, 120_000)

  it('a virtual-time shard that disappears fails the other with a clear error within --shard-timeout', async () => {
    const args = (more: string[]) => [
      '--premises',
      String(PREMISES),
      '--broker',
      broker.url,
      '--shard-timeout',
      '2s',
      '--json',
      ...more,
    ]
    // Shard 2 killed mid-run: shard 1, moving a virtual week, stops at its next window.
    let b = shard(args(['--shard', '2/2']))
    shards.push(b)
    let a = shard(args(['--shard', '1/2', '--for', '7d']))
    shards.push(a)
    await said(b, /hubs up, waiting for shard 1's windows/)
    await said(b, /shard 2\/2 hubs 2\/2/) // a status line: windows are running
    signal(b, 'SIGKILL')
    expect(await a.closed).toBe(2)
    expect(a.out.stderr).toMatch(
      /smetsim: shard 2\/2 did not finish the window to \S+ within 2000 ms: it stopped, or the broker is unreachable/,
    )
    // Shard 1 killed: shard 2 hears nothing more and stops.
    b = shard(args(['--shard', '2/2']))
    shards.push(b)
    a = shard(args(['--shard', '1/2', '--for', '7d']))
    shards.push(a)
    await said(b, /shard 2\/2 hubs 2\/2/)
    signal(a, 'SIGKILL')
    expect(await b.closed).toBe(2)
    expect(b.out.stderr).toMatch(/smetsim: no word from shard 1\/2 \(the DCC\) within 2000 ms/)
  }, 120_000)
})

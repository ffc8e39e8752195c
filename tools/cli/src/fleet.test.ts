/**
 * `smetsim fleet up` as a user runs it: the CLI spawned, its exit status, its JSON last line,
 * the snapshot it leaves, the Prometheus endpoint of a real-time run.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFleetSpec, premise } from '@smetsim/fleet'
import { afterAll, describe, expect, it } from 'vitest'
import { httpsJson } from '../../../packages/dcc/src/http/testing.ts'
import { plan } from './commands/fleet.ts'

const MAIN = join(import.meta.dirname, 'main.ts')
const work = mkdtempSync(join(tmpdir(), 'smetsim-fleet-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const START = Date.parse('2026-01-05T00:00:00Z') // the fleet spec's default start
const DAY = 86_400_000

function smetsim(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** `fleet up` spawned, once stderr has said every pattern's URL. */
async function serving(args: string[], patterns: RegExp[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'fleet', 'up', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (d) => {
    output.stdout += d
  })
  const urls = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URLs; stderr: ${output.stderr}`)), 30_000)
    child.stderr.on('data', (d) => {
      output.stderr += d
      const found = patterns.map((p) => output.stderr.match(p)?.[1])
      if (found.every((u) => u !== undefined)) {
        clearTimeout(timer)
        resolve(found as string[])
      }
    })
  })
  return { child, urls, output }
}

const lastLine = (text: string) => JSON.parse(text.trimEnd().split('\n').at(-1)!)

describe('smetsim fleet up', () => {
  it('--premises 20 --for 1d --json: brings 20 hubs up, runs a virtual day, and ends with one JSON object', () => {
    const r = smetsim(['fleet', 'up', '--premises', '20', '--for', '1d', '--json'])
    expect(r.status).toBe(0)
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1)
    const summary = lastLine(r.stdout)
    expect(summary).toMatchObject({ mode: 'virtual', premises: 20, hubsConnected: 20, errors: 0 })
    expect(Date.parse(summary.virtualTime)).toBe(START + DAY)
    // An ESME at every premise, a GSME at most: what the seed draws.
    expect(summary.devices).toBeGreaterThanOrEqual(20)
    expect(summary.devices).toBeLessThanOrEqual(40)
    const { enabled, disabled, armed } = summary.supply
    expect(enabled + disabled + armed).toBe(summary.devices)
    expect(r.stderr).toContain('hubs up: 20/20')
    expect(r.stderr).toMatch(/20 hubs connected/)
  })

  it('--workers 2: the hubs in two worker threads live the same virtual days as in one thread', () => {
    const args = ['fleet', 'up', '--premises', '20', '--for', '2d', '--json']
    const threads = smetsim([...args, '--workers', '2'])
    const one = smetsim(args)
    expect([threads.status, one.status]).toEqual([0, 0])
    const [a, b] = [lastLine(threads.stdout), lastLine(one.stdout)]
    expect(a).toMatchObject({ mode: 'virtual, 2 worker threads', premises: 20, hubsConnected: 20, errors: 0 })
    expect(b.alerts).toBeGreaterThan(0)
    for (const k of ['virtualTime', 'devices', 'supply']) expect(a[k], k).toEqual(b[k])
    // Alerts as the hubs raised them (the DCC's count may lack those still on the windowed WAN).
    expect(a.hubTraffic.alerts).toBe(b.hubTraffic.alerts)
    expect(a.alerts).toBeLessThanOrEqual(a.hubTraffic.alerts)
    expect(threads.stderr).toContain('hubs in 2 worker threads')
  })

  it('runs the prepayment households by default: their top-ups keep on meters that run out with --no-households; counted in the summary and --metrics, the same in worker threads', () => {
    const metrics = join(work, 'households.jsonl')
    const args = ['fleet', 'up', '--premises', '20', '--for', '14d', '--json']
    const on = smetsim([...args, '--metrics', metrics])
    const off = smetsim([...args, '--no-households'])
    const threads = smetsim([...args, '--workers', '2'])
    expect([on.status, off.status, threads.status]).toEqual([0, 0, 0])
    const [a, b, c] = [lastLine(on.stdout), lastLine(off.stdout), lastLine(threads.stdout)]
    // The seed's prepayment households each topped up (UTRNs typed on the PPMID or keypad, all taken).
    expect(a.households.attempts).toBeGreaterThan(0)
    expect(a.households.utrnsTyped).toBeGreaterThanOrEqual(a.households.attempts)
    expect(a.households.utrnsAccepted).toBe(a.households.utrnsTyped)
    expect(a.households.refused).toEqual({})
    expect(on.stderr).toMatch(
      new RegExp(`${a.households.attempts} top-ups \\(${a.households.utrnsAccepted} UTRNs accepted\\)`),
    )
    // Without them nobody tops up: meters run out of credit and disable their supply.
    expect(b.households).toBeUndefined()
    expect(b.supply.disabled).toBeGreaterThan(a.supply.disabled)
    expect(off.stderr).not.toMatch(/top-ups/)
    // The metrics lines carry the households' counters as they stood.
    const lines = readFileSync(metrics, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.at(-1).households).toEqual(a.households)
    // Worker threads run each shard's households there: the same top-ups, the same meters.
    expect(c.households).toEqual(a.households)
    expect(c.supply).toEqual(a.supply)
  })

  it('--snapshot saves the run at the end and the next run goes on from it; a file that is not a snapshot is refused and left alone', () => {
    const file = join(work, 'fleet.cbor')
    const first = smetsim(['fleet', 'up', '--premises', '5', '--for', '1d', '--snapshot', file, '--json'])
    expect(first.status).toBe(0)
    expect(first.stderr).toContain(`snapshot written to ${file}`)
    const second = smetsim(['fleet', 'up', '--for', '2d', '--snapshot', file, '--json'])
    expect(second.status).toBe(0)
    expect(second.stderr).toMatch(/restored 5 premises at 2026-01-06T00:00:00.000Z/)
    expect(Date.parse(lastLine(second.stdout).virtualTime)).toBe(START + 3 * DAY)
    expect(lastLine(second.stdout).alerts).toBeGreaterThanOrEqual(lastLine(first.stdout).alerts)

    const junk = join(work, 'junk.cbor')
    writeFileSync(junk, 'not cbor at all')
    const refused = smetsim(['fleet', 'up', '--snapshot', junk])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/^smetsim: .*junk\.cbor: not a fleet run snapshot/m)
    expect(refused.stderr).not.toMatch(/\n\s+at /) // no stack trace
    expect(readFileSync(junk, 'utf8')).toBe('not cbor at all')

    // A torn file (a snapshot cut short, as a non-atomic write killed midway leaves one) and an
    // empty one: refused before anything runs, with the reason, exit 2, the file left alone.
    const whole = readFileSync(file)
    for (const [name, bytes] of [
      ['torn.cbor', whole.subarray(0, whole.length >> 1)],
      ['tail.cbor', whole.subarray(0, whole.length - 1)],
      ['empty.cbor', new Uint8Array()],
    ] as const) {
      const f = join(work, name)
      writeFileSync(f, bytes)
      const r = smetsim(['fleet', 'up', '--snapshot', f, '--speed', '60'])
      expect(r.status, name).toBe(2)
      expect(r.stderr, name).toMatch(
        new RegExp(`^smetsim: .*${name.replace('.', '\\.')}: not a fleet run snapshot: `, 'm'),
      )
      expect(r.stderr, name).not.toMatch(/\n\s+at /)
      expect(r.stderr, name).not.toContain('hubs up')
      expect(readFileSync(f).equals(bytes), name).toBe(true)
    }
  })

  it('--snapshot-every writes the snapshot periodically and atomically: a run killed (SIGKILL) restarts from the last one', async () => {
    const file = join(work, 'periodic.cbor')
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'fleet',
        'up',
        '--premises',
        '5',
        '--speed',
        '600',
        '--snapshot',
        file,
        '--snapshot-every',
        '1s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    const written: string[] = []
    const two = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fewer than two periodic snapshots; stderr: ${stderr}`)),
        40_000,
      )
      child.stderr.on('data', (d) => {
        stderr += d
        written.splice(
          0,
          written.length,
          ...Array.from(stderr.matchAll(/snapshot written to \S+: virtual (\S+),/g)).map((m) => m[1]!),
        )
        if (written.length >= 2) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    const closed = new Promise((resolve) => child.on('close', (code, sig) => resolve(sig ?? code)))
    try {
      await two
    } finally {
      child.kill('SIGKILL')
    }
    expect(await closed).toBe('SIGKILL')
    // Each write says what it cost: taking the snapshot (the run stalled) and writing it.
    expect(stderr).toMatch(
      /snapshot written to \S+: virtual \S+, [\d.]+ kB, taken in \d+ ms \(the run stalled\), written in \d+ ms/,
    )
    // Killed without a word, it left a whole snapshot no older than the second periodic one.
    const again = smetsim(['fleet', 'up', '--for', '1h', '--snapshot', file, '--json'])
    expect(again.status, again.stderr).toBe(0)
    const at = Date.parse(again.stderr.match(/restored 5 premises at (\S+) from/)![1]!)
    expect(at).toBeGreaterThanOrEqual(Date.parse(written[1]!))
    expect(lastLine(again.stdout)).toMatchObject({ premises: 5, hubsConnected: 5, errors: 0 })
    expect(Date.parse(lastLine(again.stdout).virtualTime)).toBe(at + 3_600_000)
  })

  it('a snapshot that cannot be written is reported once, the run goes on to its end, and the exit status is 1; FILE is left as it was', () => {
    // The file's directory does not exist: every write fails (ENOENT), periodic and final.
    const missing = join(work, 'no-such-dir', 'run.cbor')
    const r = smetsim([
      'fleet',
      'up',
      '--premises',
      '3',
      '--speed',
      '60',
      '--for',
      '4m',
      '--snapshot',
      missing,
      '--snapshot-every',
      '1s',
      '--json',
    ])
    expect(r.status).toBe(1)
    expect(r.stderr.match(/snapshot: could not write/g)).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`snapshot: could not write the snapshot for ${missing}: ENOENT`))
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(lastLine(r.stdout)).toMatchObject({ premises: 3, hubsConnected: 3 })
    expect(Date.parse(lastLine(r.stdout).virtualTime)).toBeGreaterThanOrEqual(START + 4 * 60_000)

    // FILE.tmp cannot be made (a directory is in the way): FILE keeps the snapshot it held.
    const file = join(work, 'blocked.cbor')
    expect(smetsim(['fleet', 'up', '--premises', '3', '--for', '1h', '--snapshot', file]).status).toBe(0)
    const before = readFileSync(file)
    mkdirSync(`${file}.tmp`)
    const blocked = smetsim(['fleet', 'up', '--for', '1h', '--snapshot', file, '--json'])
    expect(blocked.status).toBe(1)
    expect(blocked.stderr).toMatch(/restored 3 premises/)
    expect(blocked.stderr).toMatch(
      new RegExp(`could not write the snapshot for ${file}: EISDIR.*\\(${file} is as it was\\)`),
    )
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('refuses bad options with one clear line each, before building anything', () => {
    const base = { premises: '20', seed: 'smetsim', json: false, backend: 'native' as const }
    for (const [o, why] of [
      [{ premises: '0' }, /--premises must be 1 to/],
      [{ premises: '2x' }, /--premises must be a whole number/],
      [{ for: 'soon' }, /--for must be a duration/],
      [{ for: '-1d' }, /--for must be a duration/],
      [{ speed: '-3' }, /--speed must be a number above 0/],
      [{ speed: '0' }, /--speed must be a number above 0/],
      [{ broker: 'nonsense' }, /--broker must be 'embedded' or a broker URL/],
      [{ metricsPort: '0' }, /--metrics-port needs --speed or --port/],
      [{ speed: '10', metricsPort: '70000' }, /--metrics-port must be a TCP port/],
      [{ speed: '10', port: '0' }, /--port and --tls go together/],
      [{ speed: '10', tls: 'x' }, /--port and --tls go together/],
      [{ speed: '10', port: 'x', tls: 'x' }, /--port must be a TCP port/],
      [
        { speed: '10', broker: 'mqtt://h:1', shard: '3/2' },
        /^--shard: the shard index must be 1 to 2, got 3$/,
      ],
      [{ speed: '10', broker: 'mqtt://h:1', shard: 'half' }, /^--shard: a shard is i\/n/],
      [{ speed: '10', shard: '1/2' }, /--shard needs --broker URL/],
      [{ speed: '10', broker: 'embedded', shard: '1/2' }, /--shard needs --broker URL/],
      // Virtual-time shards: shard 1 moves time; no run snapshots (they would need one instant).
      [{ broker: 'mqtt://h:1', shard: '2/2', for: '1d' }, /--for: in virtual time shard 1\/2 moves time/],
      [{ broker: 'mqtt://h:1', shard: '1/2', snapshot: 'x' }, /--snapshot: not with virtual-time shards/],
      [
        { broker: 'mqtt://h:1', shard: '2/2', snapshotEvery: '1m' },
        /^--snapshot-every: not with virtual-time shards/,
      ],
      [
        { broker: 'mqtt://h:1', shard: '2/2', snapshot: 'x', snapshotEvery: '1m' },
        /^--snapshot: not with virtual-time shards \(only with --speed\): their snapshots would have to be of one window barrier/,
      ],
      [{ snapshotEvery: '10s' }, /^--snapshot-every needs --snapshot FILE/],
      [{ snapshot: 'x', snapshotEvery: '500ms' }, /--snapshot-every must be a duration from 1s to 1d/],
      [{ snapshot: 'x', snapshotEvery: '2d' }, /--snapshot-every must be a duration from 1s to 1d/],
      [{ snapshot: 'x', snapshotEvery: 'often' }, /--snapshot-every must be a duration from 1s to 1d/],
      [{ broker: 'mqtt://h:1', shard: '1/2', shardTimeout: 'soon' }, /--shard-timeout must be a duration/],
      [{ broker: 'mqtt://h:1', shard: '1/2', shardTimeout: '10ms' }, /--shard-timeout must be a duration/],
      [{ speed: '10', broker: 'mqtt://h:1', shard: '2/2', port: '0', tls: 'x' }, /served by shard 1\/2/],
      [{ workers: '0' }, /^--workers must be 1 to 64, got '0'$/],
      [{ workers: '65' }, /--workers must be 1 to 64/],
      [{ workers: 'two' }, /--workers must be 1 to 64/],
      [{ workers: '2', speed: '10' }, /--workers runs in virtual time on its own WAN: not with --speed/],
      [{ workers: '2', broker: 'embedded' }, /not with --broker/],
      [{ workers: '2', snapshot: 'x' }, /not with --snapshot/],
      [{ workers: '2', port: '0', tls: 'x' }, /not with --port/],
    ] as const)
      expect(() => plan({ ...base, ...o }), JSON.stringify(o)).toThrow(why)
    expect(plan(base)).toMatchObject({ wan: 'in-process', speed: undefined, forMs: DAY })
    // --snapshot writes every minute of wall time unless told otherwise; 'off': only at the end.
    expect(plan(base).snapshotEveryMs).toBeUndefined()
    expect(plan({ ...base, snapshot: 'x' }).snapshotEveryMs).toBe(60_000)
    expect(plan({ ...base, snapshot: 'x', snapshotEvery: '5m' }).snapshotEveryMs).toBe(300_000)
    expect(plan({ ...base, snapshot: 'x', snapshotEvery: 'off' }).snapshotEveryMs).toBeUndefined()
    expect(plan({ ...base, broker: 'mqtt://h:1', shard: '2/2' })).toMatchObject({
      speed: undefined,
      shard: { index: 2, count: 2 },
      shardTimeoutMs: 30_000,
    })
    expect(plan({ ...base, broker: 'mqtt://h:1', shard: '1/2', shardTimeout: '2m' }).shardTimeoutMs).toBe(
      120_000,
    )
    expect(plan({ ...base, speed: 'max', for: '2h' })).toMatchObject({ speed: undefined, forMs: 7_200_000 })
    expect(plan({ ...base, speed: '60' })).toMatchObject({ speed: 60, forMs: undefined })
    // A virtual run that serves the API has no end of its own: time moves by POST /fleet/advance.
    expect(plan({ ...base, port: '0', tls: 'x' })).toMatchObject({ speed: undefined, forMs: undefined })
    expect(plan({ ...base, broker: 'embedded' }).wan).toBe('embedded-broker')
    expect(plan({ ...base, broker: 'mqtt://127.0.0.1:1883' }).wan).toEqual({
      broker: 'mqtt://127.0.0.1:1883',
    })
    expect(plan(base).shard).toEqual({ index: 1, count: 1 })
    expect(plan({ ...base, speed: '1', broker: 'mqtt://h:1', shard: '2/3' }).shard).toEqual({
      index: 2,
      count: 3,
    })

    const r = smetsim(['fleet', 'up', '--premises', '0'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('smetsim: --premises must be 1 to 100000, got 0\n')
  })

  it('in virtual time with --port, time stands still until the auditor advances it over the API', async () => {
    const tls = join(work, 'tls-virtual')
    const { child, urls, output } = await serving(
      ['--premises', '5', '--port', '0', '--tls', tls, '--json'],
      [/DCC HTTP API: (https:\S+)/],
    )
    const apiUrl = urls[0]!
    try {
      const file = (f: string) => readFileSync(join(tls, f), 'utf8')
      const as = (who: string) => ({ ca: file('ca.pem'), cert: file(`${who}.pem`), key: file(`${who}.key`) })
      const advance = (who: string, body: unknown) =>
        httpsJson({ url: `${apiUrl}/fleet/advance`, body, ...as(who) })
      expect((await advance('90b3d51f30010000', { ms: DAY })).status).toBe(403) // a supplier may not
      for (const bad of [{ ms: -1 }, { ms: 1.5 }, { ms: 'x' }, { ms: 400 * DAY }, {}, { ms: 1, more: 1 }])
        expect((await advance('auditor', bad)).status, JSON.stringify(bad)).toBe(400)
      const moved = await advance('auditor', { ms: DAY })
      expect(moved).toMatchObject({ status: 200, json: { virtualTime: new Date(START + DAY).toISOString() } })

      // Consumer actions on a meter: the auditor only (a tester's control, not a DUIS service).
      const spec = parseFleetSpec({ premises: 5 })
      if (!spec.ok) throw spec.error
      const p = premise(spec.value, 0)!
      const act = (who: string, eui: string, action: string, body: unknown = {}) =>
        httpsJson({ url: `${apiUrl}/fleet/devices/${eui}/${action}`, body, ...as(who) })
      const supplier = p.supplierEui.toLowerCase()
      expect((await act(supplier, p.esme, 'button')).status).toBe(403) // not even its own supplier
      expect((await act(supplier, p.esme, 'utrn', { utrn: '12345678901234567890' })).status).toBe(403)
      expect((await act(supplier, p.esme, 'utrn', { utrn: 'not digits' })).status).toBe(403) // before the body
      expect(await act('auditor', p.esme, 'button')).toMatchObject({
        status: 200,
        json: { deviceId: p.esme, supply: 'enabled', alerts: [] },
      })
      expect((await act('auditor', p.esme, 'emergency-credit')).status).toBe(200)
      expect((await act('auditor', '00DB12FFFFFFFF00', 'button')).status).toBe(404)
      expect((await act('auditor', 'nonsense', 'button')).status).toBe(400)
      expect((await act('auditor', p.esme, 'button', { press: 2 })).status).toBe(400)
      for (const bad of [
        {},
        { utrn: '123' },
        { utrn: 1e19 }, // 20 digits in JSON, but a number
        { utrn: '1234567890123456789x' },
      ])
        expect(await act('auditor', p.esme, 'utrn', bad), JSON.stringify(bad)).toMatchObject({
          status: 400,
          json: { message: expect.stringMatching(/^body/) },
        })
      // 20 digits the meter does not take: the answer is its own GBCS alert, 0x8F63 (not authentic).
      expect(await act('auditor', p.esme, 'utrn', { utrn: '12345678901234567890' })).toMatchObject({
        status: 200,
        json: { deviceId: p.esme, alerts: ['8F63'], accepted: false },
      })

      // Premise 4 has a PPMID: the consumer uses it, and it passes the request to a paired meter.
      const q = premise(spec.value, 4)!
      expect(q.ppmid && q.gsme).toBeTruthy()
      expect(await act('auditor', q.ppmid!, 'utrn', { utrn: '12345678901234567890' })).toMatchObject({
        status: 200,
        json: { deviceId: q.esme, via: q.ppmid, alerts: ['8F63'], accepted: false },
      })
      expect(await act('auditor', q.ppmid!, 'emergency-credit', { meter: q.gsme })).toMatchObject({
        status: 200,
        json: { deviceId: q.gsme, deviceType: 'GSME', via: q.ppmid },
      })
      expect(await act('auditor', q.ppmid!, 'button', { meter: q.gsme })).toMatchObject({
        status: 409,
        json: { error: 'a gas supply is enabled on the meter only' },
      })
      expect((await act('auditor', q.ppmid!, 'button', { meter: 'x' })).status).toBe(400)
      expect((await act(q.supplierEui.toLowerCase(), q.ppmid!, 'button')).status).toBe(403)
      const shown = await httpsJson({ url: `${apiUrl}/fleet/devices/${q.ppmid}`, ...as('auditor') })
      expect(shown).toMatchObject({
        status: 200,
        json: {
          deviceId: q.ppmid,
          deviceType: 'PPMID',
          joined: true,
          paired: { [q.esme]: 'ESME', [q.gsme!]: 'GSME' },
        },
      })
      expect(Object.keys(shown.json?.display ?? {}).sort()).toEqual([q.esme, q.gsme].sort())
    } finally {
      child.kill('SIGINT')
    }
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0)
    expect(Date.parse(lastLine(output.stdout).virtualTime)).toBe(START + DAY)
  }, 40_000)

  it('in real time serves the DCC HTTP API (mutual TLS) in front of the fleet and the Prometheus exposition, until stopped', async () => {
    const tls = join(work, 'tls')
    const { child, urls, output } = await serving(
      ['--premises', '3', '--speed', '60', '--metrics-port', '0', '--port', '0', '--tls', tls, '--json'],
      [/metrics: (http:\S+)/, /DCC HTTP API: (https:\S+)/],
    )
    const [metricsUrl, apiUrl] = urls as [string, string]
    try {
      const spec = parseFleetSpec({ premises: 3 })
      if (!spec.ok) throw spec.error
      const p = premise(spec.value, 0)!
      const other = spec.value.suppliers.find((x) => x.eui !== p.supplierEui)!.eui
      const file = (f: string) => readFileSync(join(tls, f), 'utf8')
      const as = (who: string) => ({ ca: file('ca.pem'), cert: file(`${who}.pem`), key: file(`${who}.key`) })
      const sr = (from: string, counter: number) => ({
        requestId: `${from}:${p.esme}:${counter}`,
        role: 'IS',
        srv: '7.4',
        commandVariant: 1,
        deviceType: 'ESME',
      })
      const url = `${apiUrl}/service-requests`
      // Premise 0's supplier reads its ESME through the DCC, the WAN and the hub.
      const done = await httpsJson({ url, body: sr(p.supplierEui, 1), ...as(p.supplierEui.toLowerCase()) })
      expect(done.json).toMatchObject({ code: 'I0', response: { originator: p.esme } })
      // The other supplier is not registered for it (E4); nor may it speak as the first (E1).
      const refused = await httpsJson({ url, body: sr(other, 1), ...as(other.toLowerCase()) })
      expect(refused.json?.code).toBe('E4')
      const posing = await httpsJson({ url, body: sr(p.supplierEui, 2), ...as(other.toLowerCase()) })
      expect(posing.json?.code).toBe('E1')
      // No client certificate: the TLS layer refuses the caller.
      expect(
        (await httpsJson({ url, body: sr(p.supplierEui, 3), ca: file('ca.pem') })).json?.code,
      ).toBeUndefined()

      // The tester's read of a meter's state: its supplier and the auditor may, the other supplier not.
      const state = (who: ReturnType<typeof as>, eui: string) =>
        httpsJson({ url: `${apiUrl}/fleet/devices/${eui}`, ...who })
      const mine = await state(as(p.supplierEui.toLowerCase()), p.esme)
      expect(mine).toMatchObject({
        status: 200,
        json: { deviceId: p.esme, deviceType: 'ESME', supply: 'enabled' },
      })
      expect(typeof mine.json?.meterBalance).toBe('number')
      expect((await state(as('auditor'), p.esme)).status).toBe(200)
      expect((await state(as(other.toLowerCase()), p.esme)).status).toBe(403)
      expect((await state(as('auditor'), 'nonsense')).status).toBe(400)
      expect((await state(as('auditor'), '00DB12FFFFFFFF00')).status).toBe(404)
      // Without a client certificate the TLS layer refuses the connection: no HTTP status at all.
      expect(
        (await httpsJson({ url: `${apiUrl}/fleet/devices/${p.esme}`, ca: file('ca.pem') })).status,
      ).toBeUndefined()

      const res = await fetch(metricsUrl)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      const text = await res.text()
      expect(text).toMatch(/^# TYPE smetsim_hubs_connected gauge$/m)
      expect(text).toMatch(/^smetsim_hubs_connected 3$/m)
      expect(text).toMatch(/^smetsim_commands_total 1$/m)
      expect(text).toMatch(/^smetsim_rejections_total\{code="E4"\} 1$/m)
      const seconds = Number(text.match(/^smetsim_virtual_time_seconds (\S+)$/m)?.[1])
      expect(seconds * 1000).toBeGreaterThanOrEqual(START)
      expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404)
      // Time runs on the wall clock here: nobody advances it by hand.
      const advance = await httpsJson({
        url: `${apiUrl}/fleet/advance`,
        body: { ms: 1000 },
        ...as('auditor'),
      })
      expect(advance.status).toBe(409)
    } finally {
      child.kill('SIGINT')
    }
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(lastLine(output.stdout)).toMatchObject({
      mode: 'real-time x60',
      hubsConnected: 3,
      commands: 1,
      responses: 1,
    })
  }, 40_000)
})

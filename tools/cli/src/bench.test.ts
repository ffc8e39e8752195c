/**
 * `smetsim bench` as a user runs it: the crypto suite's figures as JSON lines, and the errors.
 * One quick crypto run (about 15 s on two cores) serves every check on its output.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseSpeed } from '../../../bench/lib/openssl-speed.ts'
import type { Figure } from '../../../bench/lib/report.ts'

const MAIN = join(import.meta.dirname, 'main.ts')
const smetsim = (args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    timeout: 90_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}
const hasOpenssl = spawnSync('openssl', ['version']).status === 0

describe('smetsim bench crypto --quick --json', () => {
  let run: ReturnType<typeof smetsim>
  let figures: Figure[]
  beforeAll(() => {
    run = smetsim(['bench', 'crypto', '--quick', '--json', '--workers', '2'])
    figures = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Figure)
  }, 90_000)
  const named = (name: string, baseline?: string) => {
    const f = figures.filter((x) => x.name === name && (baseline === undefined || x.baseline === baseline))
    expect(f, name).toHaveLength(1)
    return f[0]!
  }

  it('prints only figures on stdout, each with the six fields and a finite median and ratio', () => {
    expect(run.status, run.stderr).toBe(0)
    expect(figures.length).toBeGreaterThan(30)
    for (const f of figures) {
      expect(Object.keys(f).sort()).toEqual(['baseline', 'median', 'name', 'ratio', 'suite', 'unit'])
      expect(f.suite).toBe('crypto')
      expect(Number.isFinite(f.median) && f.median > 0, f.name).toBe(true)
      expect(Number.isFinite(f.ratio) && (f.ratio ?? 0) > 0, f.name).toBe(true)
    }
    const pairs = figures.map((f) => `${f.name} / ${f.baseline}`)
    expect(new Set(pairs).size).toBe(pairs.length)
    // The tables went to stderr.
    expect(run.stderr).toContain('GBCS crypto, main thread')
  })

  it('has every operation on both backends as a ratio to the raw node:crypto verify baseline', () => {
    const BASELINE = 'baseline: node:crypto verify, cached KeyObject'
    const baseline = named(BASELINE, BASELINE)
    expect(baseline.ratio).toBe(1)
    for (const backend of ['native', 'noble'])
      for (const op of ['verify', 'sign', 'ECDH (uncached) + KDF', 'KDF + MAC per message (cached ECDH)']) {
        const f = named(`${backend} ${op}`, BASELINE)
        expect(f.unit).toBe('ops/s')
        expect(f.ratio).toBeCloseTo(f.median / baseline.median, 9)
      }
  })

  it('has 1 and 2 worker threads for each operation and the scaling of 2 against 1', () => {
    for (const backend of ['native', 'noble'])
      for (const op of ['verify', 'sign', 'ECDH (uncached) + KDF', 'KDF + MAC per message (cached ECDH)']) {
        const one = named(`${backend} ${op}, 1 worker thread`)
        const two = named(`${backend} ${op}, 2 worker threads`)
        const scaling = named(`${backend} ${op}, 2 threads vs 1`)
        expect(scaling.baseline).toBe(one.name)
        expect(scaling.unit).toBe('×')
        expect(scaling.median).toBeCloseTo(two.median / one.median, 9)
      }
    expect(figures.some((f) => f.name.includes('3 worker threads'))).toBe(false)
  })

  it("has openssl speed's sign and verify per second when openssl is on PATH, and says so when not", () => {
    if (hasOpenssl) {
      const verify = named('openssl speed ecdsap256 verify')
      named('openssl speed ecdsap256 sign')
      expect(named('native verify', verify.name).ratio).toBeCloseTo(
        named('native verify', 'baseline: node:crypto verify, cached KeyObject').median / verify.median,
        9,
      )
    } else {
      expect(figures.some((f) => f.name.startsWith('openssl'))).toBe(false)
      expect(run.stderr).toContain('openssl speed: not run (openssl is not on PATH)')
    }
  })
})

describe('smetsim bench errors', () => {
  it('refuses an unknown suite with the list of suites, exit 2, before running any', () => {
    const r = smetsim(['bench', 'crypto', 'frobnicate'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe("smetsim: unknown suite 'frobnicate': the suites are crypto, device, dcc, fleet\n")
    expect(r.stdout).toBe('')
  })

  it('refuses a worker count that is not a whole number from 1 to 64', () => {
    for (const bad of ['0', '2.5']) {
      const r = smetsim(['bench', 'crypto', '--workers', bad])
      expect(r.status, bad).toBe(2)
      expect(r.stderr).toBe(`smetsim: --workers wants a whole number from 1 to 64, not '${bad}'\n`)
    }
  })
})

describe('openssl speed output', () => {
  it('reads sign/s and verify/s from the ECDSA P-256 summary row, and nothing from other text', () => {
    const row =
      '                              sign    verify    sign/s verify/s\n' +
      ' 256 bits ecdsa (nistp256)   0.0000s   0.0001s  39155.3  14838.8\n'
    expect(parseSpeed(row)).toEqual({ signPerSecond: 39155.3, verifyPerSecond: 14838.8 })
    expect(parseSpeed('Doing 256 bits sign ecdsa ops for 1s\n')).toBeUndefined()
    expect(parseSpeed(' 256 bits ecdsa (nistp256)   0.0000s   0.0001s  0.0  14838.8\n')).toBeUndefined()
  })
})

/**
 * `smetsim scenario` as a user runs it: the built-in list, a run with its JSON line and its
 * report files, an expectation that fails (exit 1), and bad input (exit 2, nothing written).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const MAIN = join(import.meta.dirname, 'main.ts')
const work = mkdtempSync(join(tmpdir(), 'smetsim-scenario-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function smetsim(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A two-day scenario on a few premises: quick, and one expectation that cannot hold. */
const SHORT = `
name: short
fleet: { premises: 40, seed: cli }
duration: 2d
timeline:
  - { event: supplierFails, at: 6h, supplier: Supplier A }
  - { event: licenceRevoked, at: 12h, solr: Supplier B }
  - { event: srpSends, at: 18h, srv: "1.6", perDay: 100 }
settings:
  baseline: { timeline: [] }
  mp185: { timeline: [{ event: mpidTransferDelayed, by: 5d }] }
expect:
  - mp185.commands.1.6.E4 == 0
  - baseline.householdHoursOffSupply < 0
`

describe('smetsim scenario', () => {
  it('list names the built-in scenarios', () => {
    const r = smetsim(['scenario', 'list'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^solr-disorderly-exit\t/m)
  })

  it('run --json --out: the runs keyed by setting on the last line, the report written, exit 1 for the failed expectation', () => {
    const file = join(work, 'short.yaml')
    writeFileSync(file, SHORT)
    const out = join(work, 'out')
    const r = smetsim(['scenario', 'run', file, '--json', '--out', out])
    expect(r.status, r.stderr).toBe(1)
    const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
    expect(Object.keys(line)).toEqual(['baseline', 'mp185'])
    expect(line.baseline).toMatchObject({
      householdHoursOffSupply: expect.any(Number),
      householdsDisconnected: expect.any(Number),
    })
    expect(line.baseline.series).toBeUndefined()
    // The SRP's SR 1.6 for the failed Supplier: refused once its MPIDs have moved, accepted while they have not.
    expect(Object.keys(line.baseline.commands['1.6'])).toEqual(['E4'])
    expect(Object.keys(line.mp185.commands['1.6'])).toEqual(['I0'])
    expect(r.stderr).toMatch(/^PASS {2}mp185\.commands\.1\.6\.E4 == 0/m)
    expect(r.stderr).toMatch(/^FAIL {2}baseline\.householdHoursOffSupply < 0/m)
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))
    expect(report.runs.baseline.series.offSupply).toHaveLength(2 * 24 + 1)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i)

    // --threads 1 (each setting in turn on the main thread) gives the same runs as the default,
    // one worker thread per core.
    const alone = smetsim(['scenario', 'run', file, '--json', '--threads', '1'])
    expect(alone.status, alone.stderr).toBe(1)
    expect(JSON.parse(alone.stdout.trim().split('\n').at(-1)!)).toEqual(line)
  })

  it('a bad file exits 2 with its line, and writes nothing', () => {
    const file = join(work, 'bad.yaml')
    writeFileSync(file, SHORT.replace('perDay: 100', 'perDay: lots'))
    const out = join(work, 'bad-out')
    const r = smetsim(['scenario', 'run', file, '--out', out])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/bad\.yaml: line 8: timeline\[2\]\.perDay: must be integer/)
    expect(existsSync(out)).toBe(false)
  })

  it('an unknown scenario, a bad --premises, --speed, --broker or --threads exits 2', () => {
    expect(smetsim(['scenario', 'run', 'no-such-thing']).stderr).toMatch(/nor a built-in scenario/)
    const r = smetsim(['scenario', 'run', 'solr-disorderly-exit', '--premises', 'many'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/--premises must be a whole number/)
    const slow = smetsim(['scenario', 'run', 'fleet-smoke', '--speed', '-3'])
    expect(slow.status).toBe(2)
    expect(slow.stderr).toMatch(/--speed must be a number above 0/)
    const nowhere = smetsim(['scenario', 'run', 'fleet-smoke', '--broker', 'localhost'])
    expect(nowhere.status).toBe(2)
    expect(nowhere.stderr).toMatch(/--broker must be 'embedded' or a broker URL/)
    for (const threads of ['0', '65', 'two']) {
      const r = smetsim(['scenario', 'run', 'fleet-smoke', '--threads', threads])
      expect(r.status).toBe(2)
      expect(r.stderr).toContain(`smetsim: --threads must be 1 to 64, got '${threads}'`)
    }
  })
})

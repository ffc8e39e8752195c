/**
 * The snapshot file of `fleet up --snapshot` (fleet-snapshot.ts): atomic writes, periodic writes
 * on the wall clock and never two at once, a failed write reported once and the run going on.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { snapshotFile, writeAtomically } from './fleet-snapshot.ts'

const work = mkdtempSync(join(tmpdir(), 'smetsim-snapfile-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** A snapshot file on a clock the test moves, its lines collected. */
function harness(file: string, everyMs: number | undefined, take?: () => Uint8Array) {
  let now = 0
  let n = 0
  const lines: string[] = []
  const f = snapshotFile({
    file,
    everyMs,
    take: () => {
      n++
      return {
        bytes: take ? take() : new TextEncoder().encode(`snapshot ${n}`),
        at: Date.UTC(2026, 0, 5) + n,
      }
    },
    log: (l) => lines.push(l),
    now: () => now,
  })
  return {
    f,
    lines,
    taken: () => n,
    advance: (ms: number) => {
      now += ms
    },
  }
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

describe('fleet up --snapshot file', () => {
  it('writeAtomically replaces the file whole through FILE.tmp and leaves no FILE.tmp behind', async () => {
    const file = join(work, 'atomic.cbor')
    writeFileSync(file, 'old')
    await writeAtomically(file, new Uint8Array([1, 2, 3]))
    expect([...readFileSync(file)]).toEqual([1, 2, 3])
    expect(existsSync(`${file}.tmp`)).toBe(false)
    // A FILE.tmp left by a process killed mid-write is overwritten, never read.
    writeFileSync(`${file}.tmp`, 'torn')
    await writeAtomically(file, new Uint8Array([4]))
    expect([...readFileSync(file)]).toEqual([4])
    expect(readdirSync(work).filter((n) => n.startsWith('atomic'))).toEqual(['atomic.cbor'])
  })

  it('a write that fails leaves FILE as it was and no FILE.tmp', async () => {
    const file = join(work, 'kept.cbor')
    writeFileSync(file, 'the last good one')
    mkdirSync(`${file}.tmp`) // cannot be opened for writing: EISDIR
    await expect(writeAtomically(file, new Uint8Array([9]))).rejects.toThrow(/EISDIR/)
    expect(readFileSync(file, 'utf8')).toBe('the last good one')
    await expect(writeAtomically(join(work, 'no-such-dir', 'x.cbor'), new Uint8Array([9]))).rejects.toThrow(
      /ENOENT/,
    )
  })

  it('writes every everyMs of the wall clock, one write at a time, and the final one after any in flight', async () => {
    const file = join(work, 'periodic.cbor')
    const h = harness(file, 1000)
    h.f.tick()
    expect(h.taken()).toBe(0) // not due yet
    h.advance(1000)
    h.f.tick()
    h.f.tick() // in flight: skipped, not queued
    expect(h.taken()).toBe(1)
    await settle()
    expect(readFileSync(file, 'utf8')).toBe('snapshot 1')
    expect(h.lines).toHaveLength(1)
    expect(h.lines[0]).toMatch(
      new RegExp(
        `^snapshot written to ${file}: virtual 2026-01-05T00:00:00.001Z, 0.0 kB, taken in 0 ms \\(the run stalled\\), written in 0 ms$`,
      ),
    )
    expect(h.f.last).toMatchObject({ bytes: 10, takeMs: 0, at: Date.UTC(2026, 0, 5) + 1 })
    h.advance(999)
    h.f.tick()
    expect(h.taken()).toBe(1)
    h.advance(1)
    h.f.tick() // due: in flight when final() is called
    expect(await h.f.final()).toBe(true)
    expect(h.taken()).toBe(3)
    expect(readFileSync(file, 'utf8')).toBe('snapshot 3')
    // After the final write nothing more is periodic.
    h.advance(10_000)
    h.f.tick()
    expect(h.taken()).toBe(3)
  })

  it('without everyMs writes only when asked at the end', async () => {
    const file = join(work, 'end-only.cbor')
    const h = harness(file, undefined)
    h.advance(1e9)
    h.f.tick()
    expect(h.taken()).toBe(0)
    expect(await h.f.final()).toBe(true)
    expect(readFileSync(file, 'utf8')).toBe('snapshot 1')
  })

  it('a failing write is reported once, later ones are tried again and a success after failures says so', async () => {
    const dir = join(work, 'later')
    const file = join(dir, 'run.cbor')
    const h = harness(file, 1000)
    for (let i = 0; i < 3; i++) {
      h.advance(1000)
      h.f.tick()
      await settle()
    }
    expect(h.taken()).toBe(3)
    expect(h.f.failures).toBe(3)
    expect(h.lines).toHaveLength(1)
    expect(h.lines[0]).toMatch(
      new RegExp(
        `^snapshot: could not write the snapshot for ${file}: ENOENT.*; the run goes on and later writes are tried again \\(${file} is as it was\\)$`,
      ),
    )
    mkdirSync(dir)
    h.advance(1000)
    h.f.tick()
    await settle()
    expect(h.lines[1]).toMatch(new RegExp(`^snapshot written to ${file} \\(again, after 3 failed\\): `))
    expect(h.f.failures).toBe(0)
    // A snapshot that cannot be taken is a failure too, and says what FILE still holds.
    const bad = harness(join(work, 'take.cbor'), undefined, () => {
      throw new Error('no memory')
    })
    expect(await bad.f.final()).toBe(false)
    expect(bad.lines).toEqual([
      `snapshot: could not take the snapshot for ${join(work, 'take.cbor')}: no memory; the run goes on and later writes are tried again (${join(work, 'take.cbor')} is as it was)`,
    ])
  })
})

import { spawn } from 'node:child_process'
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { removeTempDirs, tempDir } from '../testing.ts'
import { openSat, type SatDurability, verifySatFile } from './file.ts'
import type { SatQuery } from './query.ts'
import { canonicalJson, type SatEntry } from './record.ts'
import { createMemorySat } from './sat.ts'

afterAll(removeTempDirs)

const SUPPLIER_A = '90B3D51F30010000'
const ESME = '00DB120000000001'
const satPath = () => join(tempDir('sat'), 'sat.jsonl')
const quiet = { onWarning: () => {} }

function entry(n: number): SatEntry {
  return {
    kind: n % 3 === 0 ? 'request' : n % 3 === 1 ? 'decision' : 'response',
    requestId: `${SUPPLIER_A}:${ESME}:${Math.ceil(n / 3)}`,
    user: SUPPLIER_A,
    role: 'IS',
    srv: n % 2 ? '1.6' : '4.1.1',
    device: ESME,
    code: n % 3 === 1 ? 'I99' : 'I0',
    detail: { n, text: `rec ${n} ✓` },
  }
}

function writeSat(path: string, count: number, durability: SatDurability = 'fsync-each') {
  const sat = openSat(path, { durability, ...quiet })
  const records = Array.from({ length: count }, (_, i) => sat.append(entry(i + 1)))
  sat.close()
  return records
}

describe('the SAT file', () => {
  it.each(['fsync-each', 'fsync-batch', 'none'] as const)(
    'keeps every record across a reopen (%s)',
    (durability) => {
      const path = satPath()
      const written = writeSat(path, 25, durability)
      const sat = openSat(path, quiet)
      expect(sat.size).toBe(25)
      expect(sat.query()).toEqual(written)
      expect(sat.query({ srv: '1.6', kind: 'decision' }).map((r) => r.seq)).toEqual([1, 7, 13, 19, 25])
      expect(sat.recovery).toEqual({ tornBytes: 0 })
      expect(sat.verify()).toEqual({ ok: true })
      const next = sat.append(entry(26))
      expect(next.seq).toBe(26)
      expect(next.prevHash).toBe(written[24]!.hash)
      sat.close()
      // one canonical JSON line per record
      const lines = readFileSync(path, 'utf8').split('\n')
      expect(lines).toHaveLength(27)
      expect(lines[25]).toBe(canonicalJson(next))
    },
  )

  it('writes each record before append returns, whatever the durability (write-ahead)', () => {
    for (const durability of ['fsync-each', 'fsync-batch', 'none'] as const) {
      const path = satPath()
      const sat = openSat(path, { durability, batch: { maxRecords: 1000, maxDelayMs: 60_000 } })
      const r = sat.append(entry(1))
      expect(readFileSync(path, 'utf8')).toBe(`${canonicalJson(r)}\n`)
      sat.flush()
      sat.close()
    }
  })

  it('cuts off a torn last line with a warning, then carries on the chain', () => {
    const path = satPath()
    const written = writeSat(path, 5)
    const whole = readFileSync(path)
    const line6 = `${canonicalJson({ ...written[4]!, seq: 6 })}\n`
    for (const cut of [1, 20, line6.length - 1]) {
      writeFileSync(path, whole)
      appendFileSync(path, line6.slice(0, cut)) // a crash part-way through writing seq 6
      const warnings: string[] = []
      const sat = openSat(path, { onWarning: (m) => warnings.push(m) })
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/torn last line \(\d+ bytes after seq 5\)/)
      expect(sat.recovery.tornBytes).toBe(Buffer.byteLength(line6.slice(0, cut)))
      expect(statSync(path).size).toBe(whole.length)
      expect(sat.append(entry(6)).seq).toBe(6)
      sat.close()
      expect(verifySatFile(path).records).toHaveLength(6)
      expect(verifySatFile(path).firstBad).toBeUndefined()
    }
  })

  it('leaves a torn line alone when opened verify-only', () => {
    const path = satPath()
    writeSat(path, 3)
    appendFileSync(path, '{"at":"2026')
    const before = readFileSync(path)
    const sat = openSat(path, { verifyOnly: true })
    expect(sat.recovery.tornBytes).toBe(11)
    expect(sat.verify()).toEqual({
      ok: false,
      firstBad: { seq: 4, reason: 'torn last line (no trailing newline)' },
    })
    expect(() => sat.append(entry(4))).toThrow(/verify-only/)
    sat.close()
    expect(readFileSync(path)).toEqual(before)
  })

  it('refuses to open a file with a record altered in the middle, naming the seq', () => {
    const path = satPath()
    writeSat(path, 10)
    const lines = readFileSync(path, 'utf8').split('\n')
    lines[3] = lines[3]!.replace('"code":"I', '"code":"E')
    writeFileSync(path, lines.join('\n'))
    expect(() => openSat(path)).toThrow(
      /record seq 4 \(line 4, byte \d+\) breaks the chain: hash does not match/,
    )

    const report = openSat(path, { verifyOnly: true })
    expect(report.verify()).toEqual({
      ok: false,
      firstBad: { seq: 4, reason: 'hash does not match the record (altered)' },
    })
    expect(report.size).toBe(3) // the good prefix can still be read
    expect(report.query({ device: ESME }).map((r) => r.seq)).toEqual([1, 2, 3])
  })

  it('detects a removed, duplicated or reordered line', () => {
    const path = satPath()
    writeSat(path, 6)
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, 6)
    const cases: [string[], number][] = [
      [[...lines.slice(0, 2), ...lines.slice(3)], 3],
      [[...lines.slice(0, 4), lines[3]!, ...lines.slice(4)], 5],
      [[lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)], 2],
      [lines.slice(1), 1],
    ]
    for (const [altered, seq] of cases) {
      writeFileSync(path, `${altered.join('\n')}\n`)
      expect(() => openSat(path)).toThrow(new RegExp(`record seq ${seq} `))
    }
  })

  it('detects an edit of any byte of any record (property)', () => {
    const path = satPath()
    writeSat(path, 6)
    const original = readFileSync(path)
    fc.assert(
      fc.property(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (position, delta) => {
          const altered = Buffer.from(original)
          altered[position] = (altered[position]! + delta) & 0xff
          writeFileSync(path, altered)
          const report = openSat(path, { verifyOnly: true })
          // verify-only never changes the file, and always sees the edit
          expect(report.verify().ok).toBe(false)
          // a normal open either refuses the file, or (only if the last '\n' was the byte changed)
          // treats the last line as torn and says so
          const warnings: string[] = []
          let opened: ReturnType<typeof openSat> | undefined
          try {
            opened = openSat(path, { onWarning: (m) => warnings.push(m) })
          } catch (e) {
            expect((e as Error).message).toMatch(/record seq [1-6] /)
            return
          }
          opened.close()
          expect(position).toBe(original.length - 1)
          expect(warnings).toHaveLength(1)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('verify() sees the file changed or cut off after open', () => {
    const path = satPath()
    const sat = openSat(path)
    for (let n = 1; n <= 4; n++) sat.append(entry(n))
    expect(sat.verify()).toEqual({ ok: true })
    const whole = readFileSync(path)
    const lines = whole.toString('utf8').split('\n')
    writeFileSync(path, `${lines.slice(0, 3).join('\n')}\n`)
    expect(sat.verify()).toEqual({
      ok: false,
      firstBad: { seq: 4, reason: 'record missing from the file (cut off)' },
    })
    writeFileSync(path, whole)
    expect(sat.verify()).toEqual({ ok: true })
    sat.close()
  })

  it('keeps the order of appends made from concurrent tasks', async () => {
    const path = satPath()
    const sat = openSat(path, { durability: 'fsync-batch', batch: { maxRecords: 8, maxDelayMs: 1 } })
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 20 }, async (_, task) => {
        for (let i = 0; i < 10; i++) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
          order.push(sat.append({ ...entry(task), detail: { task, i } }).seq)
        }
      }),
    )
    sat.close()
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    const scan = verifySatFile(path)
    expect(scan.firstBad).toBeUndefined()
    expect(scan.records.map((r) => r.seq)).toEqual(order)
    for (let task = 0; task < 20; task++) {
      const mine = scan.records.filter((r) => (r.detail as { task: number }).task === task)
      expect(mine.map((r) => (r.detail as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
  })

  it('loses no acknowledged record when the process is killed mid-append', async () => {
    const path = satPath()
    const script = join(tempDir('crash'), 'writer.ts')
    const fileTs = fileURLToPath(new URL('./file.ts', import.meta.url))
    writeFileSync(
      script,
      `import { openSat } from ${JSON.stringify(fileTs)}
const sat = openSat(${JSON.stringify(path)}, { durability: 'fsync-each' })
const pad = 'x'.repeat(4000)
for (let n = 1; ; n++) {
  sat.append({ kind: 'dccAlert', user: '${SUPPLIER_A}', code: 'N1', detail: { n, pad } })
  process.stdout.write(n + '\\n')
}
`,
    )
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        out += chunk
        if (out.split('\n').length > 200) child.kill('SIGKILL')
      })
      child.on('exit', () => resolve())
    })
    const acknowledged = Math.max(...out.trim().split('\n').map(Number))
    const warnings: string[] = []
    const sat = openSat(path, { onWarning: (m) => warnings.push(m) })
    expect(sat.size).toBeGreaterThanOrEqual(acknowledged)
    expect(sat.verify()).toEqual({ ok: true })
    sat.close()
  })

  it('pages and queries exactly as the memory SAT, across blocks, reopened or not', () => {
    // Records to 5 devices and 3 users; the clock goes back now and then (time ranges then scan).
    let t = Date.parse('2026-01-01T00:00:00.000Z')
    const clock = () => {
      t += t % 7 === 0 ? -3000 : 1000
      return new Date(t)
    }
    const times: Date[] = []
    const at = () => times.shift()!
    const path = satPath()
    const file = openSat(path, { durability: 'none', now: at })
    const memory = createMemorySat({ now: at })
    const users = [SUPPLIER_A, '90B3D51F30030000', '90B3D51F30020000']
    for (let i = 0; i < 300; i++) {
      const device = `00DB12000000000${i % 5}`
      const e: SatEntry = {
        ...entry(i),
        user: users[i % 3]!,
        device,
        requestId: `${users[i % 3]}:${device}:${i}`,
        ...(i % 11 === 0 && { detail: { big: 'x'.repeat(500 + i) } }),
      }
      const when = clock()
      times.push(when, when)
      file.append(e)
      memory.append(e)
    }
    const filters: SatQuery[] = [
      {},
      { limit: 10 },
      { afterSeq: 70, limit: 64 },
      { afterSeq: 299 },
      { afterSeq: 300 },
      { device: '00DB120000000003' },
      { device: '00DB120000000003', afterSeq: 128, limit: 7 },
      { user: users[1]!, kind: 'decision' },
      { requestId: `${users[2]}:00DB120000000002:137` },
      { requestId: `${users[2]}:00DB120000000003:137` },
      { srv: '1.6', maxBytes: 4000 },
      { maxBytes: 1 },
      { afterSeq: 10, maxBytes: 20_000, limit: 500 },
      { from: new Date(Date.parse('2026-01-01T00:01:00Z')), to: '2026-01-01T00:02:30Z' },
      { from: '2026-01-01T00:03:00Z', device: '00DB120000000001', limit: 3 },
      { kind: 'installCode' },
    ]
    const check = (sat: typeof file) => {
      for (const filter of filters) {
        const expected = memory.page(filter)
        expect(sat.page(filter), JSON.stringify(filter)).toEqual(expected)
        expect(sat.query(filter)).toEqual(expected.records)
      }
    }
    check(file)
    // A page that stops says where to go on, and going on from there reaches every record once.
    const seen: number[] = []
    for (let afterSeq = 0; ; ) {
      const page = file.page({ afterSeq, maxBytes: 10_000 })
      seen.push(...page.records.map((r) => r.seq))
      if (page.next === undefined) break
      afterSeq = page.next
    }
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(file.page({ limit: 300 }).next).toBeUndefined()
    expect(file.page({ limit: 299 }).next).toBe(299)
    file.close()
    const reopened = openSat(path, { durability: 'none', ...quiet })
    check(reopened)
    expect(() => reopened.query({ limit: 0 })).toThrow(RangeError)
    expect(() => reopened.query({ afterSeq: -1 })).toThrow(/afterSeq/)
    reopened.close()
  })

  it('refuses an unknown durability and appends after close', () => {
    expect(() => openSat(satPath(), { durability: 'sometimes' as never })).toThrow(/durability/)
    const sat = openSat(satPath())
    sat.close()
    sat.close()
    expect(() => sat.append(entry(1))).toThrow(/closed/)
  })
})

/**
 * The file SAT at fleet scale, run by bench/dcc.ts in a process of its own (so its memory is
 * measured alone): appends N records (durability 'none'), then reopens the file (recovery
 * verifies the whole chain) and runs a few queries. Prints one JSON line: append rate, reopen
 * time, query times and the resident set size (after a full GC) at each stage.
 *
 *   node --expose-gc --import tsx bench/lib/sat-scale.ts N
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSat } from '../../packages/dcc/src/sat/file.ts'

const count = Number(process.argv[2] ?? 1_000_000)
const gc = (globalThis as { gc?: () => void }).gc
const rss = () => {
  gc?.()
  return process.memoryUsage().rss
}
const A = '90B3D51F30010000'
const device = (i: number) => `00DB12${(i % 50_000).toString(16).toUpperCase().padStart(10, '0')}`
const entry = (i: number) => ({
  kind: (['request', 'decision', 'response'] as const)[i % 3]!,
  requestId: `${A}:${device(Math.floor(i / 3))}:${Math.floor(i / 3) + 1}`,
  user: A,
  role: 'IS' as const,
  srv: i % 6 < 3 ? '7.2' : '4.1.1',
  device: device(Math.floor(i / 3)),
  code: i % 3 === 1 ? 'I99' : 'I0',
  detail: { step: 'eligibility', note: 'a sentence of about the length the pipeline writes in a record' },
})

const dir = mkdtempSync(join(tmpdir(), 'smetsim-sat-scale-'))
const path = join(dir, 'sat.jsonl')
try {
  const rssStart = rss()
  const sat = openSat(path, { durability: 'none' })
  let started = performance.now()
  for (let i = 0; i < count; i++) sat.append(entry(i))
  const appendSeconds = (performance.now() - started) / 1000
  const rssAfterAppend = rss()
  sat.close()
  started = performance.now()
  const reopened = openSat(path, { durability: 'none' })
  const reopenSeconds = (performance.now() - started) / 1000
  const rssAfterReopen = rss()
  const timed = (run: () => number) => {
    const t = performance.now()
    const n = run()
    return { ms: Number((performance.now() - t).toFixed(2)), records: n }
  }
  const last = Math.floor((count - 1) / 3)
  const queries = {
    byRequestId: timed(() => reopened.query({ requestId: `${A}:${device(last)}:${last + 1}` }).length),
    byDevice100: timed(() => reopened.query({ device: device(7), limit: 100 }).length),
    first1000: timed(() => reopened.query({ limit: 1000 }).length),
  }
  reopened.close()
  console.log(
    JSON.stringify({
      records: count,
      fileBytes: statSync(path).size,
      appendsPerSecond: Math.round(count / appendSeconds),
      reopenSeconds: Number(reopenSeconds.toFixed(2)),
      rssStartMB: Math.round(rssStart / 2 ** 20),
      rssAfterAppendMB: Math.round(rssAfterAppend / 2 ** 20),
      rssAfterReopenMB: Math.round(rssAfterReopen / 2 ** 20),
      queries,
    }),
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/**
 * Throughput of the GBCS crypto operations on 1…N worker threads (node:worker_threads): N
 * workers are started once; for k threads the first k run the same operation at the same time
 * for a fixed span, and the throughput is the sum of each one's operations per second. Rounds
 * interleave every (backend, operation, k), so drift in the machine's load is shared out; the
 * figure is the median of the rounds.
 */
import { Worker } from 'node:worker_threads'
import type { BackendChoice, CryptoOp } from './crypto-ops.ts'
import type { RunRequest, RunResult } from './crypto-worker.ts'

export interface ThreadFigure {
  backend: BackendChoice
  op: CryptoOp
  threads: number
  /** Median over the rounds of the summed ops/s of `threads` workers. */
  opsPerSecond: number
}

export interface ScalingOptions {
  workers: number
  rounds: number
  ms: number
  backends: readonly BackendChoice[]
  ops: readonly CryptoOp[]
}

/** Worker threads run TypeScript through tsx's loader, registered by ts-worker.mjs. */
function startWorker(): Promise<Worker> {
  const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./crypto-worker.ts', import.meta.url).href },
  })
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => {
      off()
      reject(e)
    }
    const exited = (code: number) => fail(new Error(`crypto worker exited (${code}) before it was ready`))
    const ready = (m: unknown) => {
      off()
      if (m === 'ready') resolve(w)
      else reject(new Error(`crypto worker: unexpected first message ${String(m)}`))
    }
    // Only our own listeners: a Worker starts and stops its port on listeners being added and
    // removed, so removeAllListeners() would leave it deaf.
    const off = () => {
      w.off('error', fail)
      w.off('exit', exited)
      w.off('message', ready)
    }
    w.on('error', fail)
    w.on('exit', exited)
    w.on('message', ready)
  })
}

function run(w: Worker, request: RunRequest): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      w.off('message', onMessage)
      reject(e)
    }
    const onMessage = (r: RunResult) => {
      w.off('error', onError)
      resolve(r)
    }
    w.once('error', onError)
    w.once('message', onMessage)
    w.postMessage(request)
  })
}

export async function measureThreadScaling(o: ScalingOptions): Promise<ThreadFigure[]> {
  const pool = await Promise.all(Array.from({ length: o.workers }, startWorker))
  try {
    const samples = new Map<string, number[]>()
    const key = (b: string, op: string, k: number) => `${b}/${op}/${k}`
    for (let round = 0; round < o.rounds; round++)
      for (const backend of o.backends)
        for (const op of o.ops)
          for (let k = 1; k <= o.workers; k++) {
            const results = await Promise.all(pool.slice(0, k).map((w) => run(w, { backend, op, ms: o.ms })))
            const opsPerSecond = results.reduce((sum, r) => sum + (r.ops * 1000) / r.ms, 0)
            const list = samples.get(key(backend, op, k)) ?? []
            list.push(opsPerSecond)
            samples.set(key(backend, op, k), list)
          }
    const figures: ThreadFigure[] = []
    for (const backend of o.backends)
      for (const op of o.ops)
        for (let k = 1; k <= o.workers; k++)
          figures.push({
            backend,
            op,
            threads: k,
            opsPerSecond: median(samples.get(key(backend, op, k)) ?? []),
          })
    return figures
  } finally {
    await Promise.all(pool.map((w) => w.terminate()))
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

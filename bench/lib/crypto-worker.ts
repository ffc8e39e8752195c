/**
 * One worker thread of bench/crypto.ts's scaling measurement (started by thread-scaling.ts).
 * It builds the crypto operations of both backends, says `ready`, then for each request
 * `{ backend, op, ms }` runs that operation back to back for `ms` milliseconds and answers how
 * many it did and in how long.
 */
import { parentPort } from 'node:worker_threads'
import { BACKENDS, type BackendChoice, type CryptoOp, cryptoOps, makeBackend } from './crypto-ops.ts'

export interface RunRequest {
  backend: BackendChoice
  op: CryptoOp
  ms: number
}
export interface RunResult {
  ops: number
  ms: number
}

const port = parentPort
if (!port) throw new Error('crypto-worker.ts runs as a worker thread')
const ops = Object.fromEntries(BACKENDS.map((b) => [b, cryptoOps(makeBackend(b))])) as Record<
  BackendChoice,
  ReturnType<typeof cryptoOps>
>
port.on('message', (r: RunRequest) => {
  const f = ops[r.backend][r.op]
  const started = performance.now()
  let n = 0
  let elapsed = 0
  // Read the clock every 8 operations: the cheapest here (kdf+mac) takes about 5 µs.
  do {
    for (let i = 0; i < 8; i++) f()
    n += 8
    elapsed = performance.now() - started
  } while (elapsed < r.ms)
  port.postMessage({ ops: n, ms: elapsed } satisfies RunResult)
})
port.postMessage('ready')

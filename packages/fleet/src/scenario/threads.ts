/**
 * A scenario's settings run side by side on worker threads (`runScenario`'s `threads`): every
 * setting's run is independent — its own fleet built from the same spec and seed, its own DCC and
 * scheduler — so each thread takes the next setting not yet run, and its report is the one the
 * main thread would have made (the same inputs, the same virtual-time run; `threads.test.ts`
 * compares them). Virtual time only: a real-time run's timing belongs to the wall clock of one
 * process.
 *
 * A thread gets the parsed scenario and the options as plain data (`workerData`); the crypto
 * backend goes by name. It posts `progress` while a setting runs and `done` (or `error`) at its end.
 */
import { Worker } from 'node:worker_threads'
import type { BackendName } from '@smetsim/gbcs'
import type { SettingResult } from './run.ts'
import type { Scenario } from './scenario.ts'

export interface ThreadsOptions {
  threads: number
  backend: BackendName
  premises?: number
  seed?: string | number
  onProgress?(setting: string, done: number): void
}

/** What a setting thread posts. */
export type SettingMessage =
  | { kind: 'progress'; setting: string; done: number }
  | { kind: 'done'; setting: string; result: SettingResult }
  | { kind: 'error'; setting: string; message: string }

/** Each of `settings` run on one of `o.threads` worker threads; the results by setting. */
export async function runSettingsOnThreads(
  scenario: Scenario,
  settings: readonly string[],
  o: ThreadsOptions,
): Promise<Map<string, SettingResult>> {
  const results = new Map<string, SettingResult>()
  const queue = [...settings]
  const workers: Worker[] = []
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL('../worker-entry.mjs', import.meta.url), {
        workerData: {
          entry: new URL('./setting-thread.ts', import.meta.url).href,
          scenario,
          backend: o.backend,
          premises: o.premises,
          seed: o.seed,
        },
      })
      workers.push(worker)
      const next = () => {
        const setting = queue.shift()
        if (setting === undefined) return void worker.terminate().then(() => resolve(), reject)
        worker.postMessage({ setting })
      }
      worker.on('message', (m: SettingMessage) => {
        if (m.kind === 'progress') o.onProgress?.(m.setting, m.done)
        else if (m.kind === 'error') reject(new Error(`setting '${m.setting}': ${m.message}`))
        else {
          results.set(m.setting, m.result)
          next()
        }
      })
      worker.on('error', reject)
      worker.on('exit', (code) => {
        if (code !== 0 && code !== 1) reject(new Error(`a setting thread exited with ${code}`))
      })
      next()
    })
  try {
    await Promise.all(Array.from({ length: Math.min(o.threads, settings.length) }, one))
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return results
}

/** A worker thread of threads.ts: runs the settings it is sent, one at a time, and posts each report. */
import { parentPort, workerData } from 'node:worker_threads'
import { getBackend } from '@smetsim/gbcs'
import { buildFleet } from '../build.ts'
import { fleetSpecOf, runSetting } from './run.ts'
import type { SettingMessage } from './threads.ts'

const port = parentPort!
const { scenario, backend, premises, seed } = workerData
const spec = fleetSpecOf(scenario, { premises, seed })
const post = (m: SettingMessage) => port.postMessage(m)

port.on('message', async ({ setting }: { setting: string }) => {
  try {
    const result = await runSetting(scenario, setting, buildFleet(spec), {
      backend: getBackend(backend),
      speed: undefined,
      onProgress: (s, done) => post({ kind: 'progress', setting: s, done }),
    })
    post({ kind: 'done', setting, result })
  } catch (e) {
    post({ kind: 'error', setting, message: (e as Error).message })
  }
})

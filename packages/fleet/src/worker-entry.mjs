// A fleet worker thread's entry: Node 20 does not pass `--import tsx` on to worker threads, so
// this plain module registers tsx's loader, then imports the TypeScript module in workerData.entry.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)

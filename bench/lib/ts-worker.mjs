// A worker thread's entry that can load TypeScript: Node 20 does not pass `--import tsx` on to
// worker threads, so this plain module registers tsx's loader and then imports the worker
// module named in workerData.entry (a file URL). Used by thread-scaling.ts.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)

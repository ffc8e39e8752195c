/**
 * CPU time of the calling thread, from Linux's /proc/thread-self/stat (utime + stime, in clock
 * ticks of 10 ms). Node 20 has no per-thread CPU clock, and on a machine shared with other work
 * a thread's wall time says more about the load than about what the thread did: the worker
 * fleet's figures (bench/shard.ts) use both. Undefined where /proc is not there.
 */
import { readFileSync } from 'node:fs'

const TICK_MS = 10

export function threadCpuMs(): number | undefined {
  let stat: string
  try {
    stat = readFileSync('/proc/thread-self/stat', 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * TICK_MS : undefined
}

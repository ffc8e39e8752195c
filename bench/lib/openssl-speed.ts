/**
 * `openssl speed` for ECDSA P-256, one process, one thread: sign/s and verify/s as OpenSSL
 * itself reaches them on this machine, a baseline outside node for bench/crypto.ts.
 */
import { spawnSync } from 'node:child_process'

export type OpensslSpeed =
  | { ok: true; version: string; command: string; signPerSecond: number; verifyPerSecond: number }
  | { ok: false; reason: string }

/** Tried in turn: OpenSSL 1.1 and 3 take `-seconds`; `-elapsed` makes it wall-clock time. */
const FORMS = [
  ['speed', '-seconds', '1', 'ecdsap256'],
  ['speed', '-elapsed', '-seconds', '1', 'ecdsap256'],
]

export function opensslSpeed(): OpensslSpeed {
  const version = spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: 5000 })
  if (version.error || version.status !== 0) return { ok: false, reason: 'openssl is not on PATH' }
  let last = ''
  for (const args of FORMS) {
    const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 60_000 })
    const parsed = r.status === 0 ? parseSpeed(r.stdout) : undefined
    if (parsed)
      return { ok: true, version: version.stdout.trim(), command: `openssl ${args.join(' ')}`, ...parsed }
    last = `openssl ${args.join(' ')}: exit ${r.status}${r.error ? ` (${r.error.message})` : ''}`
  }
  return { ok: false, reason: `no ECDSA P-256 figures from openssl speed (${last})` }
}

/** The summary row `256 bits ecdsa (nistp256)   0.0000s   0.0001s  39155.3  14838.8`. */
export function parseSpeed(stdout: string): { signPerSecond: number; verifyPerSecond: number } | undefined {
  const m = /256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(stdout)
  if (!m) return undefined
  const signPerSecond = Number(m[1])
  const verifyPerSecond = Number(m[2])
  return signPerSecond > 0 && verifyPerSecond > 0 ? { signPerSecond, verifyPerSecond } : undefined
}

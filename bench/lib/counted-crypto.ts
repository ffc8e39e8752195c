/**
 * What a run's cryptography would cost done raw: a backend wrapper that counts every ECDSA sign
 * and verify and every ECDH a run asks for, and the timing of those operations done raw, for the
 * benchmarks whose goal is a run against its own cryptography (virtual-day.ts, scenario.ts).
 */
import type { CryptoBackend } from '../../packages/gbcs/src/index.ts'

export type Counted = Record<'sign' | 'verify' | 'ecdh' | 'ecdhUncached' | 'imports', number>

/**
 * The backend with every elliptic-curve operation counted (imports are not: they are set-up). A
 * cached `ecdh` is counted as a real ECDH the first time it sees a pair of key refs: the backend's
 * cache is keyed on the same ref objects and drops nothing while both live, so that is exactly
 * when it computes one.
 */
export function counting(inner: CryptoBackend): { backend: CryptoBackend; counts: Counted } {
  const counts: Counted = { sign: 0, verify: 0, ecdh: 0, ecdhUncached: 0, imports: 0 }
  // A private key the backend had not made before: a point multiplication (d·G) for its public key.
  const made = new WeakSet<object>()
  const imported = <T extends object>(ref: T): T => {
    if (!made.has(ref)) {
      made.add(ref)
      counts.imports++
    }
    return ref
  }
  const seen = new WeakMap<object, WeakSet<object>>()
  const firstTime = (own: object, other: object) => {
    let others = seen.get(own)
    if (!others) {
      others = new WeakSet()
      seen.set(own, others)
    }
    if (others.has(other)) return false
    others.add(other)
    return true
  }
  const backend: CryptoBackend = {
    name: inner.name,
    importPublicKey: (k, o) => inner.importPublicKey(k, o),
    tryImportPublicKey: (k, o) => inner.tryImportPublicKey(k, o),
    importPrivateKey: (k) => imported(inner.importPrivateKey(k)),
    tryImportPrivateKey(k) {
      const r = inner.tryImportPrivateKey(k)
      if (r.ok) imported(r.value)
      return r
    },
    generatePrivateKey: () => inner.generatePrivateKey(),
    sign(k, m) {
      counts.sign++
      return inner.sign(k, m)
    },
    verify(k, m, s) {
      counts.verify++
      return inner.verify(k, m, s)
    },
    ecdh(o, p) {
      if (firstTime(o, p)) counts.ecdhUncached++
      else counts.ecdh++
      return inner.ecdh(o, p)
    },
    ecdhUncached(o, p) {
      counts.ecdhUncached++
      return inner.ecdhUncached(o, p)
    },
  }
  return { backend, counts }
}

/** This process's CPU time so far (user + system, all its threads), in seconds. */
export function cpuSeconds(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/**
 * Seconds `n` runs of `op` take: the median per-op time of five timed batches, times n — wall
 * time, and CPU time (this process's, the batches timed by `process.cpuUsage`).
 */
export function rawSeconds(op: () => void, n: number): { wall: number; cpu: number } {
  if (n === 0) return { wall: 0, cpu: 0 }
  const batch = Math.min(n, 5_000)
  for (let i = 0; i < Math.min(batch, 500); i++) op() // warm-up
  const perOp: number[] = []
  const perOpCpu: number[] = []
  for (let round = 0; round < 5; round++) {
    const t = performance.now()
    const c = cpuSeconds()
    for (let i = 0; i < batch; i++) op()
    perOpCpu.push((cpuSeconds() - c) / batch)
    perOp.push((performance.now() - t) / batch)
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!
  return { wall: (median(perOp) * n) / 1000, cpu: median(perOpCpu) * n }
}

/**
 * Daily load shapes: how a household's average demand is spread over the 24 UTC hours of a day.
 *
 * A shape is 24 hourly multipliers whose mean is exactly 1, so a load profile of W watts consumes
 * exactly 24 × W Wh per day. Internally every multiplier is a whole number of thousandths
 * ("per mille") and the 24 per-mille values sum to exactly 24 000, which keeps every
 * consumption and charge computation in integers.
 */

/** Number of hours in a daily shape. */
export const HOURS_PER_DAY = 24

/** The flat shape: the same demand in every hour (useful for hand-computed scenarios). */
export const FLAT_SHAPE: readonly number[] = Object.freeze(Array.from({ length: HOURS_PER_DAY }, () => 1))

/**
 * mulberry32: a small 32-bit PRNG (Tommy Ettinger's public-domain generator). Deterministic per seed;
 * returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}

/** A typical domestic day: a night trough, a morning bump and an evening peak (relative weights). */
const BASE_DAY = [
  0.55, 0.45, 0.4, 0.4, 0.4, 0.45, 0.7, 1.1, 1.2, 0.95, 0.85, 0.85, 0.9, 0.85, 0.8, 0.85, 1.0, 1.4, 1.75, 1.7,
  1.5, 1.25, 0.95, 0.7,
]

const cache = new Map<number, readonly number[]>()
const CACHE_SIZE = 32

/**
 * The per-mille daily shape drawn from a seed: BASE_DAY scaled by a random factor in [0.6, 1.4) per
 * hour (mulberry32), normalised to 24 000 by largest remainder, each hour at least 1 ‰.
 */
export function shapePerMille(seed: number): readonly number[] {
  const hit = cache.get(seed)
  if (hit) return hit
  const rnd = mulberry32(seed)
  const raw = BASE_DAY.map((w) => w * (0.6 + 0.8 * rnd()))
  const out = normalisePerMille(raw)
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as number)
  cache.set(seed, out)
  return out
}

/** Scales non-negative weights to integers ≥ 1 summing to exactly 24 000 (largest remainder, ties by hour). */
export function normalisePerMille(weights: readonly number[]): readonly number[] {
  if (weights.length !== HOURS_PER_DAY)
    throw new RangeError(`a daily shape has 24 hours, not ${weights.length}`)
  const total = HOURS_PER_DAY * 1000 - HOURS_PER_DAY // 1 ‰ reserved per hour
  const sum = weights.reduce((s, w) => {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`bad shape multiplier ${w}`)
    return s + w
  }, 0)
  const exact = weights.map((w) => (sum > 0 ? (w * total) / sum : total / HOURS_PER_DAY))
  const out = exact.map((x) => Math.floor(x))
  let missing = total - out.reduce((s, x) => s + x, 0)
  const order = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((p, q) => q[0] - p[0] || p[1] - q[1])
  for (let k = 0; missing > 0; k++, missing--) out[order[k % HOURS_PER_DAY]![1]]! += 1
  return Object.freeze(out.map((x) => x + 1))
}

/** 24 hourly multipliers for a seed, mean exactly 1 (each a multiple of 1/1000). */
export function dailyShape(seed: number): readonly number[] {
  return shapePerMille(seed).map((p) => p / 1000)
}

/**
 * The fleet's randomness: a counter-based generator. Every number a premise needs is read off
 * SHA-256(fleet key ‖ premise index ‖ label), so premise i depends on the seed and i alone —
 * never on how many premises were drawn before it, nor in what order. That is what lets a fleet
 * grow without changing the premises it already has, and lets a runner (or a shard of one) make
 * any premise without making the others.
 *
 * The fleet key is SHA-256 of a fixed domain string and the seed's text. These are test fleets:
 * whoever has the seed has every device key.
 *
 * (A seeded RNG belongs in packages/core by ARCHITECTURE.md; it lives here until core has one.)
 */
import { hash } from 'node:crypto'
import { P256_N } from '@smetsim/gbcs'

const DOMAIN = 'smetsim fleet v1\u0000'
const encoder = new TextEncoder()

/** The 32-byte key every draw of a fleet is made from. */
export function fleetKey(seed: string | number): Uint8Array {
  return new Uint8Array(hash('sha256', encoder.encode(`${DOMAIN}${String(seed)}`), 'buffer'))
}

/**
 * SHA-256 (FIPS 180-4) of one block, in JS: a draw's input (key 32 ‖ index 4 ‖ label ≤ 19 bytes)
 * always fits one 64-byte block, and hashing it here writes the digest into a reused state array
 * without the Buffer and ArrayBuffer node:crypto's `hash` makes for every digest (a fleet draws
 * about 15 a premise). The tests check it against node:crypto.
 */
const K = new Int32Array(64)
const IV = new Int32Array(8)
{
  // The first 32 bits of the fractional parts of the cube roots of the first 64 primes (K) and of
  // the square roots of the first 8 (IV), FIPS 180-4 §4.2.2 and §5.3.3, worked out exactly.
  const root = (n: bigint, k: bigint) => {
    let x = 1n << ((BigInt(n.toString(2).length) + k - 1n) / k) // above the root
    for (;;) {
      const y = ((k - 1n) * x + n / x ** (k - 1n)) / k
      if (y >= x) return x
      x = y
    }
  }
  const primes: bigint[] = []
  for (let n = 2n; primes.length < 64; n++) if (primes.every((q) => n % q !== 0n)) primes.push(n)
  primes.forEach((q, i) => {
    K[i] = Number(root(q << 96n, 3n) & 0xffffffffn) | 0
    if (i < 8) IV[i] = Number(root(q << 64n, 2n) & 0xffffffffn) | 0
  })
}
const block = new Uint8Array(64)
const W = new Int32Array(64)
/** The digest of the last draw, as eight big-endian words (FIPS 180-4's H). */
const H = new Int32Array(8)

/** H = SHA-256 of block[0, length), length ≤ 55 (one block). */
function sha256OneBlock(length: number): void {
  block.fill(0, length)
  block[length] = 0x80
  block[62] = (length * 8) >>> 8
  block[63] = (length * 8) & 0xff
  for (let t = 0; t < 16; t++)
    W[t] = (block[4 * t]! << 24) | (block[4 * t + 1]! << 16) | (block[4 * t + 2]! << 8) | block[4 * t + 3]!
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!
    const w2 = W[t - 2]!
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0
  }
  let a = IV[0]!
  let b = IV[1]!
  let c = IV[2]!
  let d = IV[3]!
  let e = IV[4]!
  let f = IV[5]!
  let g = IV[6]!
  let h = IV[7]!
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t]! + W[t]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  H[0] = (IV[0]! + a) | 0
  H[1] = (IV[1]! + b) | 0
  H[2] = (IV[2]! + c) | 0
  H[3] = (IV[3]! + d) | 0
  H[4] = (IV[4]! + e) | 0
  H[5] = (IV[5]! + f) | 0
  H[6] = (IV[6]! + g) | 0
  H[7] = (IV[7]! + h) | 0
}

/** H = SHA-256(key ‖ index (4 bytes, big-endian) ‖ label). */
function draw(key: Uint8Array, index: number, label: string): void {
  if (label.length > 19) throw new RangeError(`draw label '${label}' is longer than 19 characters`)
  block.set(key, 0)
  const i = index >>> 0
  block[32] = i >>> 24
  block[33] = (i >>> 16) & 0xff
  block[34] = (i >>> 8) & 0xff
  block[35] = i & 0xff
  for (let k = 0; k < label.length; k++) block[36 + k] = label.charCodeAt(k) & 0x7f
  sha256OneBlock(36 + label.length)
}

/** The digest of the last draw into out[at, at + 32). */
function digestInto(out: Uint8Array, at: number): void {
  for (let k = 0; k < 8; k++) {
    const w = H[k]!
    out[at + 4 * k] = w >>> 24
    out[at + 4 * k + 1] = (w >>> 16) & 0xff
    out[at + 4 * k + 2] = (w >>> 8) & 0xff
    out[at + 4 * k + 3] = w & 0xff
  }
}

/**
 * 32 bytes for (key, index, label): SHA-256(key ‖ index ‖ label), one compression. Labels are
 * short ASCII names, one per use ('draws0', 'esme-ds', …), so no two uses ever share bytes.
 * A new array, or written into `out` at `at` when given.
 */
export function drawBytes(
  key: Uint8Array,
  index: number,
  label: string,
  out?: Uint8Array,
  at = 0,
): Uint8Array {
  draw(key, index, label)
  const into = out ?? new Uint8Array(32)
  digestInto(into, out ? at : 0)
  return into
}

/** Eight 32-bit words for (key, index, label): a new array, or written into `out` when given. */
export function drawWords(key: Uint8Array, index: number, label: string, out?: Uint32Array): Uint32Array {
  draw(key, index, label)
  const words = out ?? new Uint32Array(8)
  for (let k = 0; k < 8; k++) words[k] = H[k]!
  return words
}

/** A word as a uniform number in [0, 1). */
export const unit = (word: number): number => word / 4_294_967_296

/** A word as a uniform number in (0, 1], for logarithms. */
export const unitOpen = (word: number): number => (word + 1) / 4_294_967_296

/** A standard normal number from two words (Box–Muller). */
export function normal(w1: number, w2: number): number {
  return Math.sqrt(-2 * Math.log(unitOpen(w1))) * Math.cos(2 * Math.PI * unit(w2))
}

/** The index whose cumulative weight first exceeds u (cumulative: ascending, the last equals 1). */
export function pickCumulative(cumulative: readonly number[], u: number): number {
  for (let k = 0; k < cumulative.length - 1; k++) if (u < cumulative[k]!) return k
  return cumulative.length - 1
}

/** A uniform integer in [min, max] from a word. */
export function uniformInt(word: number, min: number, max: number): number {
  return min + Math.floor(unit(word) * (max - min + 1))
}

/** n as eight big-endian 32-bit words. */
const N_WORDS = Array.from({ length: 8 }, (_, k) => Number((P256_N >> BigInt(32 * (7 - k))) & 0xffffffffn))

/** Whether the last draw's digest, as a big-endian number, is a scalar: 1 ≤ d < n. */
function digestInScalarRange(): boolean {
  let zero = true
  for (let k = 0; k < 8; k++) if (H[k] !== 0) zero = false
  if (zero) return false
  for (let k = 0; k < 8; k++) {
    const w = H[k]! >>> 0
    if (w < N_WORDS[k]!) return true
    if (w > N_WORDS[k]!) return false
  }
  return false // equal to n
}

/**
 * A P-256 private scalar (1 ≤ d < n) for (key, index, label): the hash itself, or when that falls
 * outside the range (about one time in 2^32) the hash under the label with '#1', '#2', … added.
 * A new array, or a view of `slab` (what a fleet keeps) when given.
 */
export function drawScalar(key: Uint8Array, index: number, label: string, slab?: ByteSlab): Uint8Array {
  for (let attempt = 0; ; attempt++) {
    draw(key, index, attempt === 0 ? label : `${label}#${attempt}`)
    if (!digestInScalarRange()) continue
    const out = slab ? slab.take(32) : new Uint8Array(32)
    digestInto(out, 0)
    return out
  }
}

/**
 * Small byte strings a fleet keeps for good (scalars, install codes) as views of shared buffers.
 * V8 gives a Uint8Array of its own an ArrayBuffer object and backing store besides the view: about
 * 250 B for 32 bytes (node 20), where a view of a shared buffer costs about 70 B. A slab's buffer
 * lives while any of its views does, so it is for what lives as long as the fleet.
 */
export class ByteSlab {
  private buffer = new Uint8Array(0)
  private used = 0

  constructor(private readonly chunk = 64 * 1024) {}

  /** A view of the slab holding a copy of `bytes`. */
  copy(bytes: Uint8Array): Uint8Array {
    const view = this.take(bytes.length)
    view.set(bytes)
    return view
  }

  /** A view of `length` fresh (zero) bytes of the slab, to be filled by the caller. */
  take(length: number): Uint8Array {
    if (this.used + length > this.buffer.length) {
      this.buffer = new Uint8Array(Math.max(this.chunk, length))
      this.used = 0
    }
    const view = this.buffer.subarray(this.used, this.used + length)
    this.used += length
    return view
  }
}

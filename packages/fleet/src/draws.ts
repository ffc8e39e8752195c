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

/** Input buffer reused across calls: key (32) ‖ index (4, big-endian) ‖ label (≤ 19 bytes). */
const input = new Uint8Array(55)
const view = new DataView(input.buffer)

/**
 * 32 bytes for (key, index, label): one SHA-256 compression. Labels are short ASCII names, one
 * per use ('draws0', 'esme-ds', …), so no two uses ever share bytes.
 */
export function drawBytes(key: Uint8Array, index: number, label: string): Uint8Array {
  if (label.length > 19) throw new RangeError(`draw label '${label}' is longer than 19 characters`)
  input.set(key, 0)
  view.setUint32(32, index >>> 0)
  for (let k = 0; k < label.length; k++) input[36 + k] = label.charCodeAt(k) & 0x7f
  // A 32-byte copy of its own (on the heap): the digest Buffer is a slice of Node's shared pool.
  return new Uint8Array(hash('sha256', input.subarray(0, 36 + label.length), 'buffer'))
}

/** Eight 32-bit words for (key, index, label). */
export function drawWords(key: Uint8Array, index: number, label: string): Uint32Array {
  const b = drawBytes(key, index, label)
  const words = new Uint32Array(8)
  // Read by hand: a DataView would move the small on-heap digest off the heap first.
  for (let k = 0; k < 8; k++)
    words[k] = (b[4 * k]! << 24) | (b[4 * k + 1]! << 16) | (b[4 * k + 2]! << 8) | b[4 * k + 3]!
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

const N_BYTES = (() => {
  const out = new Uint8Array(32)
  let n = P256_N
  for (let k = 31; k >= 0; k--, n >>= 8n) out[k] = Number(n & 0xffn)
  return out
})()

function inScalarRange(d: Uint8Array): boolean {
  let zero = true
  for (const b of d) if (b !== 0) zero = false
  if (zero) return false
  for (let k = 0; k < 32; k++) {
    if (d[k]! < N_BYTES[k]!) return true
    if (d[k]! > N_BYTES[k]!) return false
  }
  return false // equal to n
}

/**
 * A P-256 private scalar (1 ≤ d < n) for (key, index, label): the hash itself, or when that falls
 * outside the range (about one time in 2^32) the hash under the label with '#1', '#2', … added.
 */
export function drawScalar(key: Uint8Array, index: number, label: string): Uint8Array {
  for (let attempt = 0; ; attempt++) {
    const d = drawBytes(key, index, attempt === 0 ? label : `${label}#${attempt}`)
    if (inScalarRange(d)) return d
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
    if (this.used + bytes.length > this.buffer.length) {
      this.buffer = new Uint8Array(Math.max(this.chunk, bytes.length))
      this.used = 0
    }
    const view = this.buffer.subarray(this.used, this.used + bytes.length)
    view.set(bytes)
    this.used += bytes.length
    return view
  }
}

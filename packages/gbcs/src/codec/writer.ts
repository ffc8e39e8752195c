/** Growable byte buffer for the GBCS encoders. */
import { allocBytes, fromHex } from '@smetsim/core'

/**
 * Scratch buffers handed back by finished Writers. Every frame a device checks or answers goes
 * through several Writers, and a fresh ArrayBuffer for each was a measurable share of the work
 * (and of the garbage). finish() copies the result out, so a buffer is free again after it.
 */
const spare: Uint8Array[] = []
const SPARE_MAX = 16
/** What a finished Writer holds: one shared empty array, not a new one per finish(). */
const FINISHED = new Uint8Array(0)

export class Writer {
  private buf: Uint8Array
  private at = 0
  /** The buffer is the result's own, made to the size the caller expected (see constructor). */
  private exact: boolean

  /**
   * `size`: the length the caller expects to write. The buffer is then made to exactly that
   * size, and finish() hands it over without a copy when that is what was written (a wrong
   * guess costs a copy, never a wrong result).
   */
  constructor(size?: number) {
    this.exact = size !== undefined && Number.isSafeInteger(size) && size >= 0
    this.buf = this.exact ? allocBytes(size!) : (spare.pop() ?? new Uint8Array(256))
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return
    let size = Math.max(64, this.buf.length * 2)
    while (size < this.at + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.at))
    this.buf = next
    this.exact = false
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`not a byte: ${v}`)
    this.ensure(1)
    this.buf[this.at++] = v
    return this
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`not a uint16: ${v}`)
    return this.u8(v >> 8).u8(v & 0xff)
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`not a uint32: ${v}`)
    return this.u16(v >>> 16).u16(v & 0xffff)
  }

  /** Big-endian 8-byte unsigned integer (GBCS counters). */
  u64(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`not a uint64: ${v}`)
    return this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn))
  }

  /**
   * An EUI-64 given as 16 hex digits, as its 8 bytes (written in place: no array of its own).
   * Any other text is written as `fromHex` reads it.
   */
  eui(text: string): this {
    if (text.length === 16) {
      this.ensure(8)
      const at = this.at
      for (let i = 0; i < 8; i++) {
        const hi = hexValue(text.charCodeAt(2 * i))
        const lo = hexValue(text.charCodeAt(2 * i + 1))
        if (hi < 0 || lo < 0) return this.bytes(fromHex(text))
        this.buf[at + i] = (hi << 4) | lo
      }
      this.at += 8
      return this
    }
    return this.bytes(fromHex(text))
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
    return this
  }

  get length(): number {
    return this.at
  }

  /** The bytes written, as a new array; the Writer must not be used afterwards. */
  finish(): Uint8Array {
    if (this.exact && this.at === this.buf.length) {
      const own = this.buf
      this.buf = FINISHED
      this.at = 0
      return own
    }
    const out = allocBytes(this.at)
    out.set(this.buf.subarray(0, this.at))
    if (!this.exact && spare.length < SPARE_MAX) spare.push(this.buf)
    this.buf = FINISHED
    this.at = 0
    return out
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48 // 0-9
  if (c >= 65 && c <= 70) return c - 55 // A-F
  if (c >= 97 && c <= 102) return c - 87 // a-f
  return -1
}

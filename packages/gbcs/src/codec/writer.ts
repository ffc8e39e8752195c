/** Growable byte buffer for the GBCS encoders. */
import { allocBytes } from '@smetsim/core'

/**
 * Scratch buffers handed back by finished Writers. Every frame a device checks or answers goes
 * through several Writers, and a fresh ArrayBuffer for each was a measurable share of the work
 * (and of the garbage). finish() copies the result out, so a buffer is free again after it.
 */
const spare: Uint8Array[] = []
const SPARE_MAX = 16

export class Writer {
  private buf = spare.pop() ?? new Uint8Array(256)
  private at = 0

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return
    let size = Math.max(64, this.buf.length * 2)
    while (size < this.at + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.at))
    this.buf = next
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
    const out = allocBytes(this.at)
    out.set(this.buf.subarray(0, this.at))
    if (spare.length < SPARE_MAX) spare.push(this.buf)
    this.buf = new Uint8Array(0)
    this.at = 0
    return out
  }
}

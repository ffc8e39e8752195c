/** Growable byte buffer for the GBCS encoders. */
export class Writer {
  private buf = new Uint8Array(256)
  private at = 0

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return
    let size = this.buf.length * 2
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

  finish(): Uint8Array {
    return this.buf.slice(0, this.at)
  }
}

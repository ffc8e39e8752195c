/**
 * Cursor over a byte array for the GBCS decoders. Every failure is a DecodeError naming the
 * absolute offset in the outermost input, so a truncated or garbled frame says where it broke.
 */
export class DecodeError extends Error {
  override name = 'DecodeError'
  constructor(
    message: string,
    /** Offset in the outermost input where decoding failed. */
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`)
  }
}

export class Reader {
  /** Absolute offset of `bytes[0]` in the outermost input, for error messages. */
  readonly base: number
  private at = 0

  constructor(
    readonly bytes: Uint8Array,
    base = 0,
  ) {
    this.base = base
  }

  get offset(): number {
    return this.base + this.at
  }
  get remaining(): number {
    return this.bytes.length - this.at
  }
  get done(): boolean {
    return this.at >= this.bytes.length
  }

  fail(message: string): never {
    throw new DecodeError(message, this.offset)
  }

  peek(): number {
    if (this.at >= this.bytes.length) this.fail('unexpected end of input')
    return this.bytes[this.at]!
  }

  u8(what = 'byte'): number {
    if (this.at >= this.bytes.length) this.fail(`unexpected end of input reading ${what}`)
    return this.bytes[this.at++]!
  }

  /** Big-endian, read in place (no view made: a frame's decode reads several). */
  u16(what = 'uint16'): number {
    const at = this.skip(2, what)
    const b = this.bytes
    return (b[at]! << 8) | b[at + 1]!
  }

  u32(what = 'uint32'): number {
    const at = this.skip(4, what)
    const b = this.bytes
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
  }

  /** Skips the next `n` bytes and returns where they start in `bytes` (no view made). */
  skip(n: number, what = 'bytes'): number {
    if (n > this.remaining) {
      this.fail(`${what} needs ${n} bytes but only ${this.remaining} remain`)
    }
    const start = this.at
    this.at += n
    return start
  }

  /** Big-endian 8-byte unsigned integer (no view or DataView made for it). */
  u64(what = 'uint64'): bigint {
    const at = this.skip(8, what)
    const b = this.bytes
    const hi = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
    const lo = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0
    // Below 2^53 (every counter in practice) one Number conversion; otherwise two halves.
    return hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo)
  }

  /** The next `n` bytes (a view, not a copy). */
  take(n: number, what = 'bytes'): Uint8Array {
    if (n > this.remaining) {
      this.fail(`${what} needs ${n} bytes but only ${this.remaining} remain`)
    }
    const out = this.bytes.subarray(this.at, this.at + n)
    this.at += n
    return out
  }

  /** A Reader over the next `n` bytes, keeping absolute offsets. */
  sub(n: number, what = 'field'): Reader {
    const start = this.offset
    return new Reader(this.take(n, what), start)
  }

  rest(): Uint8Array {
    return this.take(this.remaining)
  }

  /** Fails unless every byte has been consumed. */
  end(what = 'field'): void {
    if (!this.done) this.fail(`${this.remaining} unexpected trailing bytes after ${what}`)
  }
}

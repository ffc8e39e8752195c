/**
 * What the file SAT keeps in memory instead of its records: a sparse index over blocks of
 * BLOCK_RECORDS consecutive records. Per block: the byte offset of its first line, the earliest
 * and latest record time, and a Bloom filter of the indexed field values its records carry
 * (user, business originator, device, SRV, kind, RequestID). A query reads from the file only
 * the blocks whose filter may hold every value it asks for and whose times overlap its range.
 *
 * About 4 bytes a record (a 256-byte filter and three numbers per 64 records), whatever the
 * records hold; a filter with about 140 distinct values (64 records to as many devices) still
 * answers "maybe" for a value not there less than 0.5 % of the time (k = 4 hashes, 2048 bits).
 */
import type { IndexedField } from './query.ts'
import type { SatRecord } from './record.ts'

export const BLOCK_RECORDS = 64
const FILTER_BITS = 2048
const FILTER_WORDS = FILTER_BITS / 32
const HASHES = 4
const FIELDS: readonly IndexedField[] = ['user', 'businessOriginator', 'device', 'srv', 'kind', 'requestId']

/** The filter bit positions of one field value (double hashing over two 32-bit FNV-1a variants). */
export function keyBits(field: IndexedField, value: string): number[] {
  const key = `${field}\u0000${value}`
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15)
  }
  h2 |= 1
  const bits: number[] = []
  for (let i = 0; i < HASHES; i++) bits.push(((h1 + Math.imul(i, h2)) >>> 0) % FILTER_BITS)
  return bits
}

export class BlockIndex {
  private offsets = new Float64Array(64)
  private minTimes = new Float64Array(64)
  private maxTimes = new Float64Array(64)
  private filters = new Uint32Array(64 * FILTER_WORDS)
  /** Records indexed so far (the last one's seq). */
  private count = 0

  get blocks(): number {
    return Math.ceil(this.count / BLOCK_RECORDS)
  }

  /** Adds the record with seq count + 1, stored from byte `offset` of the file. */
  add(record: SatRecord, offset: number): void {
    const block = Math.floor(this.count / BLOCK_RECORDS)
    const time = Date.parse(record.at)
    if (this.count % BLOCK_RECORDS === 0) {
      this.grow(block + 1)
      this.offsets[block] = offset
      this.minTimes[block] = time
      this.maxTimes[block] = time
    } else {
      if (time < this.minTimes[block]!) this.minTimes[block] = time
      if (time > this.maxTimes[block]!) this.maxTimes[block] = time
    }
    const base = block * FILTER_WORDS
    for (const field of FIELDS) {
      const value = record[field]
      if (value === undefined) continue
      for (const bit of keyBits(field, value)) this.filters[base + (bit >>> 5)]! |= 1 << (bit & 31)
    }
    this.count++
  }

  /** Byte offset of the block's first record. */
  offsetOf(block: number): number {
    return this.offsets[block]!
  }

  /** First seq in the block. */
  firstSeq(block: number): number {
    return block * BLOCK_RECORDS + 1
  }

  /** The block holding `seq`. */
  blockOf(seq: number): number {
    return Math.floor((seq - 1) / BLOCK_RECORDS)
  }

  /** Whether the block may hold records with every one of these values (as keyBits) in [from, to). */
  mayHold(block: number, bits: readonly number[][], from: number, to: number): boolean {
    if (this.maxTimes[block]! < from || this.minTimes[block]! >= to) return false
    const base = block * FILTER_WORDS
    for (const key of bits)
      for (const bit of key) if ((this.filters[base + (bit >>> 5)]! & (1 << (bit & 31))) === 0) return false
    return true
  }

  private grow(blocks: number): void {
    if (blocks <= this.offsets.length) return
    const size = Math.max(blocks, this.offsets.length * 2)
    const widen = (old: Float64Array) => {
      const next = new Float64Array(size)
      next.set(old)
      return next
    }
    this.offsets = widen(this.offsets)
    this.minTimes = widen(this.minTimes)
    this.maxTimes = widen(this.maxTimes)
    const filters = new Uint32Array(size * FILTER_WORDS)
    filters.set(this.filters)
    this.filters = filters
  }
}

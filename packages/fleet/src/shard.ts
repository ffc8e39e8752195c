/**
 * Which premises a shard serves. A fleet sharded `n` ways is built whole from its seed in every
 * shard (the builder is deterministic, so every shard agrees on every premise); shard `i` brings
 * up the hubs of the premises whose index is `i − 1` modulo `n`. Round-robin rather than ranges,
 * so growing a fleet keeps the shards even and leaves every existing premise where it was.
 */
import { err, ok, type Result } from '@smetsim/core'

/** Shard `index` of `count` (1 ≤ index ≤ count ≤ MAX_SHARDS). */
export interface Shard {
  readonly index: number
  readonly count: number
}

/** Most shards a fleet is split into. */
export const MAX_SHARDS = 1024

/** The one shard that is the whole fleet. */
export const WHOLE_FLEET: Shard = Object.freeze({ index: 1, count: 1 })

/** `i/n` as a Shard, or a one-line message saying what is wrong. Never throws. */
export function parseShard(text: unknown): Result<Shard, string> {
  if (typeof text !== 'string') return err('a shard is i/n, such as 1/4')
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text)
  if (!m) return err(`a shard is i/n, such as 1/4, got '${text.slice(0, 40)}'`)
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || count > MAX_SHARDS) return err(`the shard count must be 1 to ${MAX_SHARDS}, got ${count}`)
  if (index < 1 || index > count) return err(`the shard index must be 1 to ${count}, got ${index}`)
  return ok(Object.freeze({ index, count }))
}

/** Whether premise `premise` (0-based) is served by `shard`. */
export const inShard = (shard: Shard, premise: number): boolean => premise % shard.count === shard.index - 1

/** The premises of `shard` in a fleet of `size`, in order. */
export function* shardPremises(shard: Shard, size: number): Generator<number> {
  for (let i = shard.index - 1; i < size; i += shard.count) yield i
}

/** How many of a fleet of `size` premises `shard` serves. */
export const shardSize = (shard: Shard, size: number): number =>
  size <= shard.index - 1 ? 0 : Math.floor((size - shard.index) / shard.count) + 1

export const shardText = (shard: Shard): string => `${shard.index}/${shard.count}`

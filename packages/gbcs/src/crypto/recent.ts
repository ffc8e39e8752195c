/**
 * A size-capped map that forgets its least recently used entry first. Used where a cache is
 * keyed by whatever callers send (key bytes, certificate DER): the cap, not the callers,
 * decides how much it holds.
 */
export class RecentCache<K, V> {
  /** Insertion order is recency order: a hit is moved to the end, eviction takes the front. */
  readonly #map = new Map<K, V>()

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`a cache capacity is a positive integer, got ${capacity}`)
  }

  get(key: K): V | undefined {
    const map = this.#map
    const value = map.get(key)
    if (value !== undefined) {
      map.delete(key)
      map.set(key, value)
    }
    return value
  }

  set(key: K, value: V): void {
    const map = this.#map
    map.delete(key)
    map.set(key, value)
    if (map.size > this.capacity) map.delete(map.keys().next().value as K)
  }

  get size(): number {
    return this.#map.size
  }
}

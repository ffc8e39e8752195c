/**
 * The interning tables under garbage collection: a ref dropped by its caller is still the same
 * object on the next import (the strong recent part), the strong part never grows past its cap
 * (the weak part then lets the garbage collector take the rest), and a bad key is never stored.
 */
import { KeyObject } from 'node:crypto'
import v8 from 'node:v8'
import vm from 'node:vm'
import { err, newP256KeyPair, ok } from '@smetsim/core'
import { describe, expect, it, vi } from 'vitest'
import { bigintTo32, Interner, P256_N, PrivateKeyTable } from './keys.ts'
import { createNativeBackend } from './native.ts'
import { createNobleBackend } from './noble.ts'
import { RecentCache } from './recent.ts'
import { InvalidKeyError } from './types.ts'

/** A callable full GC without --expose-gc on the command line (the flag set at run time). */
function callableGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return exposed
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}
const gc = callableGc()

/**
 * Collects until `done` holds or 40 rounds pass. WeakRefs are only cleared after the job that
 * made them ends and finalizers run as tasks, so each round yields to the event loop first.
 */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 40 && !done(); i++) {
    await new Promise((r) => setTimeout(r, 0))
    gc()
  }
}

/** Something only the table can keep alive: the test holds a WeakRef to it, nothing more. */
function unheld(interner: Interner<object>, key: string): WeakRef<object> {
  const value = { key }
  interner.set(key, value)
  return new WeakRef(value)
}

describe('RecentCache', () => {
  it('forgets the least recently used entry first and never holds more than its capacity', () => {
    const cache = new RecentCache<string, number>(3)
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      cache.set(k, v)
    expect(cache.get('a')).toBe(1) // a is now the most recent: b goes first
    cache.set('d', 4)
    expect(cache.size).toBe(3)
    expect(cache.get('b')).toBeUndefined()
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([1, 3, 4])
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, i)
    expect(cache.size).toBe(3)
    expect(() => new RecentCache(0)).toThrow(RangeError)
  })
})

describe('Interner', () => {
  it('returns the same object for a key its caller dropped, across a forced GC', async () => {
    const interner = new Interner<object>(4)
    const ref = unheld(interner, 'k')
    await collectUntil(() => false) // a full set of rounds: anything only weakly held is gone
    expect(ref.deref()).toBeDefined()
    expect(interner.get('k')).toBe(ref.deref())
  })

  it('holds at most its cap strongly: beyond it, values nobody holds are collected', async () => {
    const cap = 8
    const k = 50
    const interner = new Interner<object>(cap)
    const refs = Array.from({ length: cap + k }, (_, i) => unheld(interner, `k${i}`))
    expect(interner.strongSize).toBe(cap)
    await collectUntil(() => interner.size <= cap)
    expect(interner.strongSize).toBe(cap)
    expect(interner.size).toBeLessThanOrEqual(cap)
    // The survivors are the most recently set, and still the same objects.
    for (let i = k; i < cap + k; i++) expect(interner.get(`k${i}`)).toBe(refs[i]!.deref())
    expect(refs.slice(0, k).every((r) => r.deref() === undefined)).toBe(true)
  })

  it('keeps a value someone else holds even after it has left the recent part', async () => {
    const interner = new Interner<object>(2)
    const held = { held: true }
    interner.set('held', held)
    for (let i = 0; i < 10; i++) unheld(interner, `other${i}`)
    await collectUntil(() => interner.size <= 3)
    expect(interner.get('held')).toBe(held)
  })
})

describe('PrivateKeyTable', () => {
  const scalar = bigintTo32(12345n)

  it('never stores a bad key: out-of-range scalars and unparseable PEM fail before make runs', () => {
    const table = new PrivateKeyTable<object>(4)
    const make = vi.fn(() => ok({}))
    for (const bad of [
      new Uint8Array(32),
      bigintTo32(P256_N),
      bigintTo32(P256_N + 1n),
      new Uint8Array(31).fill(1),
      '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n',
    ]) {
      const r = table.import(bad, make)
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error).toBeInstanceOf(InvalidKeyError)
    }
    expect(make).not.toHaveBeenCalled()
    expect(table.interner.size).toBe(0)
    expect(table.interner.strongSize).toBe(0)
  })

  it('stores nothing when the backend cannot make the key, and tries again next time', () => {
    const table = new PrivateKeyTable<object>(4)
    const make = vi.fn(() => err(new InvalidKeyError('refused')))
    expect(table.import(scalar, make).ok).toBe(false)
    expect(table.import(scalar, make).ok).toBe(false)
    expect(make).toHaveBeenCalledTimes(2)
    expect(table.interner.size).toBe(0)
  })

  it('a scalar copied for each import is made once; the highest scalar n − 1 is accepted', () => {
    const table = new PrivateKeyTable<object>(4)
    const make = vi.fn(() => ok({}))
    const first = table.import(scalar.slice(), make)
    const second = table.import(scalar.slice(), make)
    expect(first.ok && second.ok && first.value === second.value).toBe(true)
    expect(make).toHaveBeenCalledTimes(1)
    expect(table.import(bigintTo32(P256_N - 1n), make).ok).toBe(true)
  })
})

for (const backend of [createNativeBackend(), createNobleBackend()]) {
  describe(`${backend.name} backend interning under GC`, () => {
    it('a private key imported from bytes and dropped is the same ref after a forced GC', async () => {
      const scalar = bigintTo32(0xc0ffeen)
      const ref = new WeakRef(backend.importPrivateKey(scalar.slice()))
      const pub = new WeakRef(ref.deref()!.publicKey)
      await collectUntil(() => false)
      expect(ref.deref()).toBeDefined()
      expect(backend.importPrivateKey(scalar.slice())).toBe(ref.deref())
      const point = pub.deref()!.point.slice()
      expect(backend.importPublicKey(point)).toBe(pub.deref())
    })

    it('a KeyObject seen before is not exported again; PEM text seen before gives the same ref', () => {
      const { privateKey } = newP256KeyPair()
      const first = backend.importPrivateKey(privateKey)
      const exportSpy = vi.spyOn(privateKey, 'export')
      expect(backend.importPrivateKey(privateKey)).toBe(first)
      expect(exportSpy).not.toHaveBeenCalled()
      exportSpy.mockRestore()
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
      expect(backend.importPrivateKey(pem)).toBe(first)
      expect(backend.importPrivateKey(pem)).toBe(first)
      expect(privateKey).toBeInstanceOf(KeyObject)
    })
  })
}

import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  memoryRevocationList,
  openRevocationList,
  type RevocationEntry,
  watchRevocationList,
} from './revocation.ts'
import { removeTempDirs, tempDir } from './testing.ts'

afterAll(removeTempDirs)

const tempPath = () => join(tempDir('revoked'), 'revoked.json')

describe('revocation list', () => {
  it('starts empty when there is no file, and persists each revocation at once', () => {
    const path = tempPath()
    const list = openRevocationList(path)
    expect(list.entries()).toEqual([])
    const at = new Date('2026-02-03T04:05:06Z')
    list.revoke('4a:07:bc:01', { reason: 'keyCompromise', at })
    list.revoke(0xff01n)

    const reopened = openRevocationList(path)
    expect(reopened.isRevoked('4A07BC01')).toBe(true)
    expect(reopened.isRevoked('0x00FF01')).toBe(true)
    expect(reopened.isRevoked('4A07BC02')).toBe(false)
    expect(reopened.entries()[0]).toEqual({
      serial: '4A07BC01',
      at: at.toISOString(),
      reason: 'keyCompromise',
    })
    expect(readdirSync(join(path, '..'))).toEqual(['revoked.json']) // no temp file left behind
  })

  it('keeps the first entry when a serial is revoked twice', () => {
    const list = openRevocationList(tempPath())
    const first = list.revoke('01', { reason: 'superseded' })
    expect(list.revoke('0001', { reason: 'other' })).toEqual(first)
    expect(list.entries()).toHaveLength(1)
  })

  it('in memory: the same normalised serials and first entries as the file list, no file', () => {
    const list = memoryRevocationList()
    const at = new Date('2026-02-03T04:05:06Z')
    expect(list.isRevoked('4A07BC01')).toBe(false)
    const first = list.revoke('4a:07:bc:01', { reason: 'keyCompromise', at })
    expect(first).toEqual({ serial: '4A07BC01', at: at.toISOString(), reason: 'keyCompromise' })
    expect(list.revoke('004A07BC01', { reason: 'other' })).toEqual(first)
    list.revoke(0xff01n)
    expect(list.isRevoked('0x00FF01')).toBe(true)
    expect(list.isRevoked('4A07BC02')).toBe(false)
    expect(list.entries().map((e) => e.serial)).toEqual(['4A07BC01', 'FF01'])
    expect(() => list.revoke('not hex')).toThrow()
    expect(list.entries()).toHaveLength(2)
  })

  it('names a corrupt file', () => {
    const path = tempPath()
    writeFileSync(path, '{ "version": 1, "revoked": [')
    expect(() => openRevocationList(path)).toThrow(/revocation list .*revoked\.json is corrupt/)
    writeFileSync(path, '{ "version": 1, "revoked": [{ "serial": "zz", "at": "2026-01-01T00:00:00Z" }] }')
    expect(() => openRevocationList(path)).toThrow(/entry 0: not a hex serial/)
    writeFileSync(path, '[]')
    expect(() => openRevocationList(path)).toThrow(/expected \{ version: 1/)
  })

  it('a watched list sees what another writer revokes, and keeps its entries when the file is corrupt', async () => {
    const path = tempPath()
    const served = openRevocationList(path)
    const reloads: RevocationEntry[][] = []
    const errors: Error[] = []
    let heard: () => void = () => {}
    const next = () => new Promise<void>((resolve) => (heard = resolve))
    const watch = watchRevocationList(served, {
      onReload: (entries) => {
        reloads.push(entries)
        heard()
      },
      onError: (e) => {
        errors.push(e)
        heard()
      },
    })
    try {
      let seen = next()
      openRevocationList(path).revoke('0A0B') // another process's list, say `smetsim pki revoke`
      await seen
      expect(served.isRevoked('0A0B')).toBe(true)
      seen = next()
      writeFileSync(path, '{ "version": 1, "revoked": [')
      await seen
      expect(errors[0]?.message).toMatch(/corrupt/)
      expect(served.isRevoked('0A0B')).toBe(true)
      expect(reloads).toHaveLength(1)
    } finally {
      watch.close()
    }
  })
})

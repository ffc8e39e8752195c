import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canonicalJson, GENESIS_HASH, normaliseRequestId, recordHash, verifyChain } from './record.ts'
import { createMemorySat } from './sat.ts'

const SUPPLIER_A = '90B3D51F30010000'
const SUPPLIER_B = '90B3D51F30030000'
const ESME = '00DB120000000001'
const GSME = '00DB120000000002'

/** A clock that moves one second per record. */
function steppingClock(start = '2026-01-01T00:00:00.000Z') {
  let t = Date.parse(start)
  return () => {
    const d = new Date(t)
    t += 1000
    return d
  }
}

function sample() {
  const sat = createMemorySat({ now: steppingClock() })
  const rid = (n: number, device = ESME) => `${SUPPLIER_A}:${device}:${n}`
  sat.append({ kind: 'request', requestId: rid(1), user: SUPPLIER_A, role: 'IS', srv: '1.6', device: ESME })
  sat.append({ kind: 'decision', requestId: rid(1), user: SUPPLIER_A, srv: '1.6', device: ESME, code: 'I99' })
  sat.append({
    kind: 'request',
    requestId: `${SUPPLIER_B}:${GSME}:7`,
    user: SUPPLIER_B,
    role: 'GS',
    srv: '4.1.1',
    device: GSME,
  })
  sat.append({
    kind: 'decision',
    requestId: `${SUPPLIER_B}:${GSME}:7`,
    user: SUPPLIER_B,
    srv: '4.1.1',
    device: GSME,
    code: 'E4',
  })
  sat.append({ kind: 'response', requestId: rid(1), user: SUPPLIER_A, srv: '1.6', device: ESME, code: 'I0' })
  sat.append({ kind: 'alert', user: SUPPLIER_A, device: ESME, code: '8F0A', detail: { alertCode: 0x8f0a } })
  sat.append({
    kind: 'dccAlert',
    user: SUPPLIER_B,
    code: 'N24',
    detail: { type: 'UpdateHANDeviceLogResult' },
  })
  return sat
}

describe('Service Audit Trail records', () => {
  it('numbers records from 1 and links each to the hash of the one before', () => {
    const sat = sample()
    const all = sat.query()
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(all[0]!.prevHash).toBe(GENESIS_HASH)
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash)
    expect(sat.size).toBe(7)
    expect(sat.head).toEqual({ seq: 7, hash: all[6]!.hash })
    expect(sat.verify()).toEqual({ ok: true })
  })

  it('hashes the canonical form: sorted keys, no white space, no hash field', () => {
    const sat = createMemorySat({ now: () => new Date('2026-01-01T00:00:00Z') })
    const r = sat.append({
      kind: 'dccAlert',
      user: SUPPLIER_A,
      code: 'N1',
      detail: { z: 1, a: [true, null, 'x'] },
    })
    const expected =
      '{"at":"2026-01-01T00:00:00.000Z","code":"N1","detail":{"a":[true,null,"x"],"z":1},"kind":"dccAlert",' +
      `"prevHash":"${GENESIS_HASH}","seq":1,"user":"${SUPPLIER_A}"}`
    expect(r.hash).toBe(createHash('sha256').update(expected).digest('hex'))
    expect(recordHash(r)).toBe(r.hash)
    expect(canonicalJson({ b: 1, a: { d: undefined, c: -0 } })).toBe('{"a":{"c":0},"b":1}')
  })

  it('normalises EUIs and the DUIS RequestID, and keeps its own frozen copy of detail', () => {
    const sat = createMemorySat()
    const detail = { parameters: { mode: 'Prepayment' } }
    const r = sat.append({
      kind: 'request',
      requestId: '90-B3-D5-1F-30-01-00-00:00-db-12-00-00-00-00-01:0042',
      user: '90-b3-d5-1f-30-01-00-00',
      businessOriginator: '90B3D51F30030000',
      device: '00-DB-12-00-00-00-00-01',
      srv: '1.6',
      detail,
    })
    detail.parameters.mode = 'Credit'
    expect(r.requestId).toBe(`${SUPPLIER_A}:${ESME}:42`)
    expect(r.user).toBe(SUPPLIER_A)
    expect(r.device).toBe(ESME)
    expect(r.detail).toEqual({ parameters: { mode: 'Prepayment' } })
    expect(Object.isFrozen(r)).toBe(true)
    expect(() => {
      ;(r.detail as { parameters: { mode: string } }).parameters.mode = 'x'
    }).toThrow(TypeError)
    expect(sat.verify()).toEqual({ ok: true })
  })

  it('refuses malformed entries and stores nothing for them', () => {
    const sat = createMemorySat()
    const bad = [
      { kind: 'response', user: SUPPLIER_A, code: 'I0' }, // a response without a RequestID
      { kind: 'gossip', user: SUPPLIER_A },
      { kind: 'alert', user: 'not-an-eui' },
      { kind: 'alert', user: SUPPLIER_A, role: 'XX' },
      { kind: 'alert', user: SUPPLIER_A, srv: '1..6' },
      { kind: 'alert', user: SUPPLIER_A, detail: { when: new Date() } },
      { kind: 'alert', user: SUPPLIER_A, detail: { n: Number.NaN } },
      { kind: 'request', user: SUPPLIER_A, requestId: `${SUPPLIER_A}:${ESME}:18446744073709551616` },
      { kind: 'request', user: SUPPLIER_A, requestId: `${SUPPLIER_A}:${ESME}` },
    ]
    for (const entry of bad) expect(() => sat.append(entry as never), JSON.stringify(entry)).toThrow()
    expect(sat.size).toBe(0)
    expect(normaliseRequestId(`${SUPPLIER_A}:${ESME}:18446744073709551615`)).toMatch(/:18446744073709551615$/)
  })

  it('records a request that could not be read, without a RequestID, attributed to who sent it', () => {
    const sat = createMemorySat()
    const r = sat.append({ kind: 'request', user: SUPPLIER_A, detail: { unreadable: 'not JSON' } })
    expect(r).toMatchObject({ seq: 1, kind: 'request', user: SUPPLIER_A })
    expect(r.requestId).toBeUndefined()
    expect(sat.append({ kind: 'decision', user: SUPPLIER_A, code: 'E1' }).seq).toBe(2)
    expect(sat.verify()).toEqual({ ok: true })
  })

  it('finds records by user, business originator, device, SRV, kind, RequestID and time', () => {
    const sat = sample()
    const seqs = (q: Parameters<typeof sat.query>[0]) => sat.query(q).map((r) => r.seq)
    expect(seqs({ user: SUPPLIER_B })).toEqual([3, 4, 7])
    expect(seqs({ user: '90-b3-d5-1f-30-03-00-00', kind: 'decision' })).toEqual([4])
    expect(seqs({ device: ESME })).toEqual([1, 2, 5, 6])
    expect(seqs({ srv: '1.6' })).toEqual([1, 2, 5])
    expect(seqs({ srv: '1.6', kind: 'response' })).toEqual([5])
    expect(seqs({ requestId: `${SUPPLIER_A}:${ESME}:1` })).toEqual([1, 2, 5])
    expect(seqs({ kind: 'alert' })).toEqual([6])
    // record n is stamped at 00:00:0(n-1); from inclusive, to exclusive
    expect(seqs({ from: '2026-01-01T00:00:02Z', to: new Date('2026-01-01T00:00:05Z') })).toEqual([3, 4, 5])
    expect(seqs({ device: ESME, from: '2026-01-01T00:00:02Z' })).toEqual([5, 6])
    expect(seqs({ limit: 2, user: SUPPLIER_A })).toEqual([1, 2])
    expect(seqs({ device: '00DB12FFFFFFFFFF' })).toEqual([])
    expect(seqs({ businessOriginator: SUPPLIER_A })).toEqual([])
    expect(() => sat.query({ from: 'yesterday' })).toThrow(/not a time/)
  })

  it('answers time queries when the clock goes backwards too', () => {
    const times = ['2026-01-01T00:00:05Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:03Z']
    let i = 0
    const sat = createMemorySat({ now: () => new Date(times[i++]!) })
    for (let n = 0; n < 3; n++) sat.append({ kind: 'dccAlert', user: SUPPLIER_A, code: 'N1' })
    expect(sat.query({ from: '2026-01-01T00:00:02Z', to: '2026-01-01T00:00:04Z' }).map((r) => r.seq)).toEqual(
      [3],
    )
    expect(sat.query({ from: '2026-01-01T00:00:03Z' }).map((r) => r.seq)).toEqual([1, 3])
  })

  it('verifyChain names the first record that was changed, removed or reordered', () => {
    const all = sample().query()
    const changed = all.map((r) => ({ ...r }))
    changed[3] = { ...changed[3]!, code: 'I0' }
    expect(verifyChain(changed)).toEqual({
      ok: false,
      firstBad: { seq: 4, reason: 'hash does not match the record (altered)' },
    })
    expect(verifyChain([...all.slice(0, 2), ...all.slice(3)]).firstBad).toEqual({
      seq: 3,
      reason: 'seq 4 where 3 was expected',
    })
    expect(verifyChain([all[1], all[0]]).firstBad?.seq).toBe(1)
    // a consistent re-hash from the altered record on still fails: its prevHash no longer matches
    const rehashed = { ...all[4]!, code: 'E4', hash: '' }
    rehashed.hash = recordHash(rehashed)
    expect(verifyChain([...all.slice(0, 4), rehashed, ...all.slice(5)]).firstBad?.seq).toBe(6)
  })

  it('refuses appends after close', () => {
    const sat = createMemorySat()
    sat.close()
    expect(() => sat.append({ kind: 'dccAlert', user: SUPPLIER_A })).toThrow(/closed/)
  })
})

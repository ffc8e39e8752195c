import { describe, expect, it } from 'vitest'
import { UserDirectory } from './access/users.ts'
import { RegistrationData } from './registration/registration.ts'
import {
  advanceSolr,
  describeSolrAction,
  failSupplier,
  grantableUsers,
  pendingSolrActions,
  SolrError,
  type SolrEstate,
} from './solr.ts'

const FAILED = '90B3D51F30010000'
const SOLR = '90B3D51F30030000'
const SRP = '90B3D51F30050000'
const AT = '2026-02-01T00:00:00.000Z'
const LATER = '2026-02-15T00:00:00.000Z'

function estate() {
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', FAILED, '2020-01-01')
  registration.assignMpid('AGAS', FAILED, '2020-01-01')
  registration.assignMpid('BBBB', SOLR, '2020-01-01')
  registration.registerSupplier('1200000000001', 'AAAA', '2024-01-01')
  const users = grantableUsers(
    new UserDirectory([
      { userId: FAILED, name: 'Failed', roles: ['IS', 'GS'], certificates: ['0A', '0B'] },
      { userId: SOLR, name: 'SoLR', roles: ['IS', 'GS'] },
      { userId: SRP, name: 'SRP', roles: [], sendsFor: [FAILED] },
    ]),
  )
  const revoked: { serial: string; at?: string }[] = []
  const solrContingency = { srvs: ['1.6'], failedSuppliers: [] as string[] }
  const e: SolrEstate = {
    registration,
    users,
    revocation: { revoke: (serial, d) => revoked.push({ serial, at: d?.at?.toISOString() }) },
    solrContingency,
    grantRole: users.grantRole,
  }
  return { e, registration, users, revoked, solrContingency }
}

const timeline = (c: ReturnType<typeof failSupplier>) => c.actions.map((a) => [a.at, a.kind])

describe('SoLR action timelines', () => {
  it('baseline: revoke and transfer at once', () => {
    const { e, registration, revoked } = estate()
    const c = failSupplier(e, { setting: 'baseline', supplier: FAILED, solr: SOLR, at: AT })
    expect(timeline(c)).toEqual([
      [AT, 'revokeCertificates'],
      [AT, 'transferMpids'],
    ])
    expect(c.actions[1]).toMatchObject({ mpids: ['AAAA', 'AGAS'], from: FAILED, to: SOLR })
    expect(advanceSolr(c, '2026-01-31T23:59:59Z')).toEqual([])
    expect(advanceSolr(c, AT)).toHaveLength(2)
    expect(advanceSolr(c, LATER)).toEqual([]) // each action once
    expect(revoked).toEqual([
      { serial: '0A', at: AT },
      { serial: '0B', at: AT },
    ])
    expect(registration.mpidOwnerAt('AAAA', AT)).toBe(SOLR)
    expect(registration.mpidOwnerAt('AAAA', '2026-01-31')).toBe(FAILED)
    for (const a of c.actions) console.log('baseline:', describeSolrAction(a))
  })

  it('MP134A: transfer at once, revocation when the PMA says', () => {
    const { e, revoked } = estate()
    const c = failSupplier(e, { setting: 'MP134A', supplier: FAILED, solr: SOLR, at: AT, revokeAt: LATER })
    expect(timeline(c)).toEqual([
      [AT, 'transferMpids'],
      [LATER, 'revokeCertificates'],
    ])
    expect(advanceSolr(c, AT).map((a) => a.kind)).toEqual(['transferMpids'])
    expect(revoked).toEqual([])
    expect(pendingSolrActions(c).map((a) => a.kind)).toEqual(['revokeCertificates'])
    expect(advanceSolr(c, LATER).map((a) => a.kind)).toEqual(['revokeCertificates'])
    expect(revoked).toHaveLength(2)
    expect(() => failSupplier(e, { setting: 'MP134A', supplier: FAILED, solr: SOLR, at: AT })).toThrow(
      SolrError,
    )
    expect(() =>
      failSupplier(e, { setting: 'MP134A', supplier: FAILED, solr: SOLR, at: AT, revokeAt: AT }),
    ).toThrow(/must be after/)
  })

  it('MP185: nothing until the transfer; revocation with it (unconfirmed)', () => {
    const { e, registration, revoked } = estate()
    const c = failSupplier(e, { setting: 'MP185', supplier: FAILED, solr: SOLR, at: AT, transferAt: LATER })
    expect(timeline(c)).toEqual([
      [LATER, 'transferMpids'],
      [LATER, 'revokeCertificates'],
    ])
    expect(c.actions[1]?.unconfirmed).toEqual(['revoked with the delayed MPID transfer'])
    expect(advanceSolr(c, '2026-02-14T23:00:00Z')).toEqual([])
    expect(registration.mpidOwnerAt('AAAA', '2026-02-14T23:00:00Z')).toBe(FAILED)
    expect(advanceSolr(c, LATER)).toHaveLength(2)
    expect(registration.mpidOwnerAt('AAAA', LATER)).toBe(SOLR)
    expect(revoked).toHaveLength(2)
    expect(() => failSupplier(e, { setting: 'MP185', supplier: FAILED, solr: SOLR, at: AT })).toThrow(
      /transferAt/,
    )
  })

  it('MP134B: failed-supplier list and SoLRC role at once, transfer and revocation later', () => {
    const { e, users, solrContingency } = estate()
    const c = failSupplier(e, {
      setting: 'MP134B',
      supplier: FAILED,
      solr: SOLR,
      at: AT,
      transferAt: LATER,
      srp: SRP,
    })
    expect(timeline(c)).toEqual([
      [AT, 'addFailedSupplier'],
      [AT, 'grantRole'],
      [LATER, 'transferMpids'],
      [LATER, 'revokeCertificates'],
    ])
    expect(users.get(SRP)?.roles).toEqual([])
    advanceSolr(c, AT)
    expect(users.get(SRP)?.roles).toEqual(['SoLRC'])
    expect(solrContingency.failedSuppliers).toEqual([FAILED])
    expect(pendingSolrActions(c)).toHaveLength(2)
    advanceSolr(c, LATER)
    expect(pendingSolrActions(c)).toEqual([])
    expect(JSON.parse(JSON.stringify(c.actions))).toEqual(c.actions) // plain data
    expect(() =>
      failSupplier(e, { setting: 'MP134B', supplier: FAILED, solr: SOLR, at: AT, transferAt: LATER }),
    ).toThrow(/srp/)
  })

  it('refuses unknown settings, unknown Users and a SoLR that is the failed Supplier', () => {
    const { e } = estate()
    // biome-ignore lint/suspicious/noExplicitAny: a bad setting on purpose
    expect(() => failSupplier(e, { setting: 'X' as any, supplier: FAILED, solr: SOLR, at: AT })).toThrow(
      /unknown SoLR setting/,
    )
    expect(() => failSupplier(e, { setting: 'baseline', supplier: FAILED, solr: FAILED, at: AT })).toThrow(
      SolrError,
    )
    expect(() =>
      failSupplier(e, { setting: 'baseline', supplier: '90B3D51F300F0000', solr: SOLR, at: AT }),
    ).toThrow(/not a DCC User/)
  })
})

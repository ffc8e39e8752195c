import { join } from 'node:path'
import { openRevocationList } from '@smetsim/smki'
import { afterAll, describe, expect, it } from 'vitest'
import { CERTIFICATE_REVOKED_CODE } from '../duis-codes.ts'
import { SmartMeteringInventory } from '../registration/inventory.ts'
import { RegistrationData } from '../registration/registration.ts'
import { createMemorySat } from '../sat/sat.ts'
import { DSP_SCHEDULABLE_SRVS } from '../schedules/schedules.ts'
import { removeTempDirs, tempDir } from '../testing.ts'
import { type AnomalyConfig, DAY_MS, DEFAULT_ANOMALY_CONFIG } from './anomaly.ts'
import {
  type AccessContext,
  type AccessDecision,
  AccessRequestError,
  checkServiceRequest,
  type ServiceRequest,
} from './check.ts'
import {
  DEFAULT_PERMISSIONS,
  defaultPermissions,
  PermissionMatrixError,
  parsePermissionMatrix,
  permissionMatrixFromJson,
  permissionMatrixToJson,
} from './permissions.ts'
import { UserDirectory, UserError } from './users.ts'

afterAll(removeTempDirs)

const SUPPLIER_A = '90B3D51F30010000' // losing supplier (MPIDs AAAA, AGAS); the failed supplier in SoLR cases
const SUPPLIER_B = '90B3D51F30030000' // gaining supplier (MPID BBBB)
const NETWORK = '90B3D51F30020000' // DNO1 and GTR1
const SRP = '90B3D51F30040000' // Shared Resource Provider: SoLR Contingency role, sends for B
const SOLR = '90B3D51F300A0000' // Supplier of Last Resort
const OTHER = '90B3D51F30060000' // an Other User
const MPAN = '1200000000001'
const MPAN2 = '1200000000003'
const MPRN = '7000000001'
const ESME = '00DB120000000001'
const GSME = '00DB120000000002'
const CHF = '00DB120000000010'
const ESME_PENDING = '00DB120000000003'
const UNKNOWN = '00DB1200000000FF'
const SSD = '2026-03-01' // Supply Start Date of the Change of Supplier of MPAN from AAAA to BBBB
const BEFORE = '2026-02-15T12:00:00Z'
const AFTER = '2026-03-05T12:00:00Z'

function fixture(overrides: Partial<AccessContext> = {}) {
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', SUPPLIER_A, '2020-01-01')
  registration.assignMpid('AGAS', SUPPLIER_A, '2020-01-01')
  registration.assignMpid('BBBB', SUPPLIER_B, '2020-01-01')
  registration.assignMpid('DNO1', NETWORK, '2020-01-01')
  registration.assignMpid('GTR1', NETWORK, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  registration.registerSupplier(MPAN2, 'AAAA', '2024-01-01')
  registration.registerSupplier(MPRN, 'AGAS', '2024-01-01')
  registration.registerNetworkOperator(MPAN, 'DNO1', '2020-01-01')
  registration.registerNetworkOperator(MPRN, 'GTR1', '2020-01-01')
  registration.changeOfSupplier(MPAN, 'BBBB', SSD)

  const inventory = new SmartMeteringInventory()
  const at = '2024-01-02'
  inventory.add({ deviceId: CHF, type: 'CHF', status: 'Commissioned', at })
  inventory.add({ deviceId: ESME, type: 'ESME', mpxn: MPAN, commsHub: CHF, status: 'Commissioned', at })
  inventory.add({ deviceId: GSME, type: 'GSME', mpxn: MPRN, commsHub: CHF, status: 'Commissioned', at })
  inventory.add({ deviceId: ESME_PENDING, type: 'ESME', mpxn: MPAN2, status: 'Pending', at })

  const users = new UserDirectory([
    { userId: SUPPLIER_A, name: 'Supplier A', roles: ['IS', 'GS'], certificates: ['A1', 'A2'] },
    { userId: SUPPLIER_B, name: 'Supplier B', roles: ['IS', 'GS'], certificates: ['B1'] },
    { userId: NETWORK, name: 'Network', roles: ['ED', 'GT'], certificates: ['C1'] },
    { userId: SRP, name: 'SRP', roles: ['SoLRC'], certificates: ['D1'], sendsFor: [SUPPLIER_B] },
    { userId: SOLR, name: 'SoLR', roles: ['IS', 'GS'] },
    { userId: OTHER, name: 'Other User', roles: ['OU'] },
  ])
  const sat = createMemorySat()
  const context: AccessContext = {
    permissions: DEFAULT_PERMISSIONS,
    users,
    registration,
    inventory,
    solrContingency: { srvs: ['1.6'], failedSuppliers: [SUPPLIER_A] },
    sat,
    ...overrides,
  }
  let counter = 0
  let checks = 0
  const check = (
    user: string,
    role: string,
    srv: string,
    device: string,
    at: string,
    extra: Partial<ServiceRequest> = {},
  ): AccessDecision => {
    checks++
    const decision = checkServiceRequest(
      { requestId: `${user}:${device}:${++counter}`, role, srv, commandVariant: cvFor(srv), ...extra },
      context,
      at,
    )
    if (decision.anomalyState) context.anomaly = { ...context.anomaly, state: decision.anomalyState }
    return decision
  }
  return { context, registration, inventory, users, sat, check, checks: () => checks }
}

function cvFor(srv: string): number {
  const rule = DEFAULT_PERMISSIONS.srvs[srv]
  if (!rule) return 1
  return rule.nonDevice ? 8 : rule.critical ? 4 : 1
}

function refused(decision: AccessDecision) {
  if (decision.ok) throw new Error(`expected a refusal, got ${decision.code}`)
  return decision
}

describe('checkServiceRequest: accepted', () => {
  it('accepts the registered supplier with I99 and records it in the SAT', () => {
    const f = fixture()
    const decision = f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE)
    expect(decision).toMatchObject({ ok: true, code: 'I99', critical: true, role: 'IS' })
    if (!decision.ok) throw new Error()
    expect(decision.registration?.mpid).toBe('AAAA')
    expect(decision.device?.deviceId).toBe(ESME)
    expect(decision.satRecord).toMatchObject({ kind: 'decision', code: 'I99', user: SUPPLIER_A, srv: '7.2' })
    expect(decision.satRecord.device).toBe(ESME)
    expect(f.sat.size).toBe(1)
  })

  it('lets network operators read their meters (ED electricity, GT gas) but not the other fuel', () => {
    const f = fixture()
    expect(f.check(NETWORK, 'ED', '4.1.1', ESME, BEFORE).code).toBe('I99')
    expect(f.check(NETWORK, 'GT', '4.1.1', GSME, BEFORE).code).toBe('I99')
    expect(f.check(NETWORK, 'ED', '4.1.1', GSME, BEFORE).code).toBe('E4')
  })

  it('accepts SR 12.2 Device Pre-notification for a device the DCC does not know yet', () => {
    const f = fixture()
    const decision = f.check(SUPPLIER_A, 'IS', '12.2', UNKNOWN, BEFORE)
    expect(decision).toMatchObject({ ok: true, code: 'I99' })
    if (decision.ok) expect(decision.device).toBeUndefined()
  })

  it('accepts a request sent by a Shared Resource Provider for the User it serves, recording both', () => {
    const f = fixture()
    const decision = f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER, { sender: SRP })
    expect(decision.code).toBe('I99')
    expect(decision.satRecord).toMatchObject({ user: SRP, businessOriginator: SUPPLIER_B })
    expect(decision.respondTo).toBe(SUPPLIER_B)
  })
})

describe('Change of Supplier', () => {
  it("gives the losing supplier's SR 7.2 E4 after the Supply Start Date and lets the gaining supplier's work", () => {
    const f = fixture()
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE).code).toBe('I99')
    expect(f.check(SUPPLIER_B, 'IS', '7.2', ESME, BEFORE).code).toBe('E4')
    const losing = refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, AFTER))
    expect(losing).toMatchObject({ code: 'E4', step: 'eligibility' })
    expect(losing.reason).toContain('BBBB')
    expect(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER).code).toBe('I99')
    expect(f.check(SUPPLIER_B, 'IS', '6.23', ESME, AFTER, { commandVariant: 1 }).code).toBe('I99')
    // the gas meter did not change supplier
    expect(f.check(SUPPLIER_A, 'GS', '7.2', GSME, AFTER).code).toBe('I99')
    expect(f.sat.query({ kind: 'decision' }).filter((r) => r.code === 'E4')).toHaveLength(2)
  })

  it('judges a future-dated request at its execution time', () => {
    const f = fixture()
    const d = f.check(SUPPLIER_A, 'IS', '1.6', ESME, BEFORE, { executionDateTime: AFTER })
    expect(d.code).toBe('E4')
    expect(d.satRecord.detail).toMatchObject({ eligibleAt: new Date(AFTER).toISOString() })
  })
})

describe('checkServiceRequest: each refusal', () => {
  it('E1: not a DUIS role, not a User, role not held, sender not allowed for the Business Originator', () => {
    const f = fixture()
    const notRole = refused(f.check(SUPPLIER_A, 'XX', '7.2', ESME, BEFORE))
    expect(notRole).toMatchObject({ code: 'E1', step: 'role' })
    expect(notRole.satRecord.role).toBeUndefined()
    expect(notRole.satRecord.detail).toMatchObject({ claimedRole: 'XX' })
    expect(f.check('90B3D51F300F0000', 'IS', '7.2', ESME, BEFORE).code).toBe('E1')
    expect(refused(f.check(NETWORK, 'IS', '7.2', ESME, BEFORE)).reason).toContain('does not hold the IS role')
    const srp = refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { sender: SRP }))
    expect(srp.reason).toContain('may not send for')
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { sender: '90B3D51F300F0000' }).code).toBe('E1')
  })

  it('E2: role may not use the SRV, SRV not in the matrix', () => {
    const f = fixture()
    expect(refused(f.check(NETWORK, 'ED', '7.2', ESME, BEFORE))).toMatchObject({ code: 'E2', step: 'srv' })
    expect(refused(f.check(SUPPLIER_A, 'IS', '9.99', ESME, BEFORE)).reason).toContain(
      'not in the permission matrix',
    )
    expect(f.check(OTHER, 'OU', '1.6', ESME, BEFORE).code).toBe('E2')
  })

  it('E3: a suspended Business Originator or sender', () => {
    const f = fixture()
    f.users.setStatus(SUPPLIER_A, 'suspended')
    expect(refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE))).toMatchObject({
      code: 'E3',
      step: 'userStatus',
    })
    f.users.setStatus(SRP, 'withdrawn')
    expect(refused(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER, { sender: SRP })).reason).toContain(
      'withdrawn',
    )
  })

  it('E19: device not in the inventory, or not a Device ID', () => {
    const f = fixture()
    expect(refused(f.check(SUPPLIER_A, 'IS', '7.2', UNKNOWN, BEFORE))).toMatchObject({
      code: 'E19',
      step: 'device',
    })
    const bad = refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { device: 'not-a-device' }))
    expect(bad.code).toBe('E19')
    expect(bad.satRecord.detail).toMatchObject({ claimedDevice: 'not-a-device' })
  })

  it('E5: SMI status does not fit', () => {
    const f = fixture()
    const d = refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME_PENDING, BEFORE))
    expect(d).toMatchObject({ code: 'E5', step: 'smiStatus' })
    expect(d.reason).toContain('Pending')
    // Commission Device needs InstalledNotCommissioned
    expect(f.check(SUPPLIER_A, 'IS', '8.1.1', ESME, BEFORE).code).toBe('E5')
  })

  it('E11: wrong device type; E12: wrong command variant', () => {
    const f = fixture()
    expect(refused(f.check(SUPPLIER_A, 'IS', '7.1', GSME, BEFORE))).toMatchObject({
      code: 'E11',
      step: 'deviceType',
    })
    expect(f.check(SUPPLIER_A, 'IS', '8.11', ESME, BEFORE).code).toBe('E11')
    expect(f.check(SUPPLIER_A, 'IS', '8.11', CHF, BEFORE).code).toBe('I99')
    const cv = refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { commandVariant: 1 }))
    expect(cv).toMatchObject({ code: 'E12', step: 'commandVariant' })
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { commandVariant: 5 }).code).toBe('I99')
  })

  it('revoked certificate: every certificate, or the named signer; a signer not the sender’s', () => {
    const revoked = new Set<string>()
    const f = fixture({ revocation: { isRevoked: (s) => revoked.has(s) } })
    revoked.add('A1')
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE).code).toBe('I99') // A2 still good
    expect(
      refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { signerCertificate: 'a1' })),
    ).toMatchObject({
      code: CERTIFICATE_REVOKED_CODE,
      step: 'certificate',
    })
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { signerCertificate: 'A2' }).code).toBe('I99')
    expect(
      refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { signerCertificate: 'B1' })).reason,
    ).toContain('not one of sender')
    revoked.add('A2')
    expect(refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE)).reason).toContain('every SMKI certificate')
    // The code is DUIS's E1 (fallback: see duis-codes.ts), never a placeholder.
    expect(CERTIFICATE_REVOKED_CODE).toBe('E1')
  })

  it('a list that cannot read a serial counts it as revoked (fail closed)', () => {
    const f = fixture({
      revocation: {
        isRevoked: () => {
          throw new Error('list unreadable')
        },
      },
    })
    expect(refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE))).toMatchObject({
      code: 'E1',
      step: 'certificate',
    })
    expect(
      refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { signerCertificate: 'zz' })).reason,
    ).toContain('not a certificate serial')
  })

  it('an SRP sending for a Supplier whose certificates are all revoked is refused (MP134A: revocation ends it)', () => {
    const revoked = new Set<string>()
    const f = fixture({ revocation: { isRevoked: (s) => revoked.has(s) } })
    const forB = { sender: SRP, role: 'IS' } as const
    const check = () => f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER, { sender: forB.sender })
    // The SRP holds no IS role itself: access control looks at the Business Originator's role.
    expect(check().code).toBe('I99')
    // The SRP's own certificates are fine; B's are revoked: the request for B stops.
    revoked.add('B1')
    expect(refused(check())).toMatchObject({ code: 'E1', step: 'certificate' })
    expect(refused(check()).reason).toContain(`sends for ${SUPPLIER_B}`)
    // Naming one of its own (good) certificates does not help.
    expect(
      refused(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER, { sender: SRP, signerCertificate: 'D1' })).code,
    ).toBe('E1')
  })

  it('a SoLR Contingency request fails once the failed Supplier’s certificates are revoked', () => {
    const revoked = new Set<string>()
    const f = fixture({
      revocation: { isRevoked: (s) => revoked.has(s) },
      anomaly: {
        config: {
          ...DEFAULT_ANOMALY_CONFIG,
          users: [{ user: SRP, srv: '1.6', limit: 100, windowMs: DAY_MS }],
        },
      },
    })
    expect(f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE).code).toBe('I99')
    revoked.add('A1')
    expect(f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE).code).toBe('I99') // A2 still stands
    revoked.add('A2')
    expect(refused(f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE))).toMatchObject({
      code: 'E1',
      step: 'certificate',
    })
  })

  it('reads the revocation list at every check: a replaced list takes effect at once', () => {
    const f = fixture({ revocation: { isRevoked: () => false } })
    expect(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER).code).toBe('I99')
    f.context.revocation = { isRevoked: (s) => s === 'B1' }
    expect(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER).code).toBe('E1')
  })

  it('uses the SMKI revocation list file as it is', () => {
    const list = openRevocationList(join(tempDir('access'), 'revoked.json'))
    const f = fixture({ revocation: list })
    expect(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER).code).toBe('I99')
    list.revoke('B1', { reason: 'licence revoked' })
    expect(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER).code).toBe(CERTIFICATE_REVOKED_CODE)
  })

  it('a malformed RequestID throws without a SAT record', () => {
    const f = fixture()
    expect(() =>
      checkServiceRequest(
        { requestId: 'nonsense', role: 'IS', srv: '7.2', commandVariant: 4 },
        f.context,
        BEFORE,
      ),
    ).toThrow(AccessRequestError)
    expect(f.sat.size).toBe(0)
  })
})

describe('SoLR Contingency role (MP134B)', () => {
  const contingency = {
    config: { ...DEFAULT_ANOMALY_CONFIG, users: [{ user: SRP, srv: '1.6', limit: 100, windowMs: DAY_MS }] },
  }

  it('is quarantined by default: anomaly threshold zero until set, alert to the sender', () => {
    const f = fixture()
    const d = refused(f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE))
    // Quarantined: acknowledged (I99) but held; the DCC Alert carries AD1.
    expect(d).toMatchObject({ code: 'I99', step: 'anomaly', quarantined: true, respondTo: SRP })
    expect(d.alert).toMatchObject({
      type: 'QuarantinedRequest',
      breach: 'ADUserThresholdBreach',
      recipient: SRP,
      quarantineEventRef: 1,
    })
    expect(d.satRecord).toMatchObject({ user: SRP, code: 'I99', detail: { quarantined: true } })
  })

  it('with a threshold set, sends SR 1.6 for a failed supplier’s device and the SAT records the sender', () => {
    const f = fixture({ anomaly: contingency })
    const d = f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE)
    expect(d).toMatchObject({ ok: true, code: 'I99', failedSupplier: SUPPLIER_A, respondTo: SRP })
    expect(d.satRecord).toMatchObject({ user: SRP, role: 'SoLRC' })
    expect(d.satRecord.detail).toMatchObject({ sender: SRP, failedSupplier: SUPPLIER_A })
  })

  it('only SRVs on its list (configurable), only devices whose supplier is on the failed-supplier list', () => {
    const f = fixture({ anomaly: contingency })
    expect(refused(f.check(SRP, 'SoLRC', '7.2', GSME, BEFORE)).reason).toContain('only SRV 1.6')
    expect(f.check(SRP, 'SoLRC', '1.6', ESME, BEFORE).code).toBe('I99') // A registered before the CoS
    expect(f.check(SRP, 'SoLRC', '1.6', ESME, AFTER).code).toBe('E4') // B is not a failed supplier
    f.context.solrContingency = { srvs: ['1.6', '7.2'], failedSuppliers: [SUPPLIER_A] }
    f.context.anomaly = {
      config: { ...contingency.config, users: [{ user: SRP, srv: '*', limit: 100, windowMs: DAY_MS }] },
    }
    expect(f.check(SRP, 'SoLRC', '7.2', GSME, BEFORE).code).toBe('I99')
  })

  it('stops once the failed supplier’s MPIDs are transferred to the SoLR (MP185)', () => {
    const f = fixture({ anomaly: contingency })
    f.registration.transferMpid('AGAS', SOLR, '2026-02-20')
    expect(f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE).code).toBe('I99')
    expect(f.check(SRP, 'SoLRC', '1.6', GSME, '2026-02-21').code).toBe('E4')
    expect(f.check(SOLR, 'GS', '1.6', GSME, '2026-02-21').code).toBe('I99')
  })
})

describe('anomaly detection', () => {
  const hour = 3_600_000

  it('quarantines past a per-User per-SRV threshold in a rolling window, then lets requests through again', () => {
    const config: AnomalyConfig = {
      ...DEFAULT_ANOMALY_CONFIG,
      users: [{ user: SUPPLIER_A, srv: '7.2', limit: 2, windowMs: hour }],
    }
    const f = fixture({ anomaly: { config } })
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, '2026-02-01T10:00:00Z').code).toBe('I99')
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, '2026-02-01T10:10:00Z').code).toBe('I99')
    const third = refused(f.check(SUPPLIER_A, 'IS', '7.2', ESME, '2026-02-01T10:20:00Z'))
    expect(third).toMatchObject({
      code: 'I99',
      quarantined: true,
      alert: { breach: 'ADUserThresholdBreach', recipient: SUPPLIER_A },
    })
    expect(f.check(SUPPLIER_A, 'IS', '2.2', ESME, '2026-02-01T10:25:00Z').code).toBe('I99') // other SRV
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, '2026-02-01T11:05:00Z').code).toBe('I99') // first left the window
  })

  it('threshold 0 quarantines every request', () => {
    const config: AnomalyConfig = {
      ...DEFAULT_ANOMALY_CONFIG,
      users: [{ user: SUPPLIER_B, srv: '*', limit: 0, windowMs: hour }],
    }
    const f = fixture({ anomaly: { config } })
    for (const srv of ['7.2', '4.18'])
      expect(f.check(SUPPLIER_B, 'IS', srv, ESME, AFTER)).toMatchObject({
        ok: false,
        code: 'I99',
        quarantined: true,
      })
    expect(f.check(SUPPLIER_A, 'GS', '7.2', GSME, AFTER).code).toBe('I99')
  })

  it('DCC-wide thresholds count all Users', () => {
    const config: AnomalyConfig = {
      ...DEFAULT_ANOMALY_CONFIG,
      dcc: [{ srv: '7.2', limit: 1, windowMs: hour }],
    }
    const f = fixture({ anomaly: { config } })
    expect(f.check(SUPPLIER_A, 'GS', '7.2', GSME, AFTER).code).toBe('I99')
    const d = refused(f.check(SUPPLIER_B, 'IS', '7.2', ESME, AFTER))
    expect(d.alert?.breach).toBe('ADDCCThresholdBreach')
  })
  // detectAnomaly itself (purity, windows, what is kept, configuration): anomaly.test.ts
})

describe('permission matrix as configuration', () => {
  it('round-trips the default through JSON and covers the SRVs of DOMAIN.md section 5 and the DCC-schedulable reads', () => {
    const loaded = permissionMatrixFromJson(permissionMatrixToJson(DEFAULT_PERMISSIONS))
    expect(loaded).toEqual(DEFAULT_PERMISSIONS)
    const srvs =
      '1.5 1.6 2.1 2.2 2.3 2.5 4.1.1 4.3 4.18 5.1 5.2 5.3 6.8 6.11 6.15.1 6.15.2 6.17 6.21 6.23 6.24.1 7.1 7.2 7.3 7.4 8.1.1 8.2 8.3 8.4 8.7.1 8.7.2 8.8.1 8.8.2 8.11 12.2'
    const schedulable = DSP_SCHEDULABLE_SRVS.filter((srv) => !srvs.split(' ').includes(srv))
    expect(Object.keys(loaded.srvs).sort()).toEqual([...srvs.split(' '), ...schedulable].sort())
    expect(loaded.srvs['6.23']).toMatchObject({ critical: false, roles: ['IS', 'GS'] })
    expect(loaded.srvs['7.1']).toMatchObject({ critical: true, roles: ['IS'], deviceTypes: ['ESME'] })
  })

  it('a bad entry gives a clear error naming the SRV and field', () => {
    const bad = defaultPermissions() as unknown as { srvs: Record<string, Record<string, unknown>> }
    bad.srvs['7.2']!.roles = ['IS', 'XX']
    bad.srvs['1.6']!.deviceTypes = ['METER']
    delete bad.srvs['2.2']!.critical
    let error: PermissionMatrixError | undefined
    try {
      permissionMatrixFromJson(JSON.stringify(bad))
    } catch (e) {
      error = e as PermissionMatrixError
    }
    expect(error).toBeInstanceOf(PermissionMatrixError)
    expect(error?.problems).toEqual([
      `srvs["1.6"].deviceTypes[0]: 'METER' is not a device type (ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD, CAD)`,
      `srvs["2.2"].critical: expected true or false, got nothing`,
      `srvs["7.2"].roles[1]: 'XX' is not a DUIS role (IS, ES, GS, ED, GT, RSA, OU)`,
    ])
    expect(error?.message).toContain('3 problems')
    expect(() => permissionMatrixFromJson('{ not json')).toThrow(/not JSON/)
    expect(() => parsePermissionMatrix({ version: 2, srvs: {} })).toThrow(/version: expected 1/)
    const solrc = defaultPermissions()
    solrc.srvs['1.6']!.roles.push('SoLRC')
    expect(() => parsePermissionMatrix(solrc)).toThrow(/granted by the SoLR Contingency SRV list/)
  })

  it('a changed matrix changes the decisions', () => {
    const permissions = defaultPermissions()
    permissions.srvs['7.2']!.roles = ['GS']
    const f = fixture({ permissions })
    expect(f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE).code).toBe('E2')
    expect(f.check(SUPPLIER_A, 'GS', '7.2', GSME, BEFORE).code).toBe('I99')
  })
})

describe('users', () => {
  it('rejects a bad User with a clear error and normalises certificate serials', () => {
    expect(() => new UserDirectory([{ userId: SUPPLIER_A, name: 'A', roles: ['IS', 'XX' as 'IS'] }])).toThrow(
      /users\[0\].*'XX' is not a DUIS role/,
    )
    expect(() => new UserDirectory({ version: 2 } as never)).toThrow(UserError)
    const users = new UserDirectory([
      { userId: '90-B3-D5-1F-30-01-00-00', name: 'A', roles: ['IS'], certificates: ['0x00ab'] },
    ])
    expect(users.get(SUPPLIER_A)?.certificates).toEqual(['AB'])
    expect(users.holderOf('ab')?.userId).toBe(SUPPLIER_A)
    expect(new UserDirectory(users.snapshot()).all()).toEqual(users.all())
  })
})

describe('Service Audit Trail', () => {
  it('records every decision, accepted or refused, once, in a valid chain', () => {
    const f = fixture()
    const codes = [
      f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE).code,
      f.check(SUPPLIER_A, 'XX', '7.2', ESME, BEFORE).code,
      f.check(NETWORK, 'ED', '7.2', ESME, BEFORE).code,
      f.check(SUPPLIER_A, 'IS', '7.2', UNKNOWN, BEFORE).code,
      f.check(SUPPLIER_A, 'IS', '7.2', ESME_PENDING, BEFORE).code,
      f.check(SUPPLIER_A, 'IS', '7.1', GSME, BEFORE).code,
      f.check(SUPPLIER_A, 'IS', '7.2', ESME, BEFORE, { commandVariant: 8 }).code,
      f.check(SUPPLIER_A, 'IS', '7.2', ESME, AFTER).code,
      f.check(SRP, 'SoLRC', '1.6', GSME, BEFORE).code,
      f.check(SUPPLIER_A, 'IS', '9.9', ESME, BEFORE).code,
    ]
    expect(codes).toEqual(['I99', 'E1', 'E2', 'E19', 'E5', 'E11', 'E12', 'E4', 'I99', 'E2'])
    expect(f.sat.size).toBe(f.checks())
    expect(f.sat.query({ kind: 'decision' }).map((r) => r.code)).toEqual(codes)
    expect(new Set(f.sat.query().map((r) => r.requestId)).size).toBe(codes.length)
    expect(f.sat.verify().ok).toBe(true)
  })
})

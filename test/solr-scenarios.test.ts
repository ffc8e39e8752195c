/**
 * The SoLR control switches end to end: a DCC (createDcc) over an emulated ESME, supplier A
 * failing with B as the Supplier of Last Resort and an SRP sending for A. For each of the four
 * settings (packages/dcc/src/solr.ts) the same six requests are sent after licence revocation
 * ("before": the delayed step has not happened yet), again after the delayed step ("after"),
 * and once more after the SoLR has sent SR 6.23 to the meter ("after 6.23": the meter's supplier
 * cells are now the SoLR's), and the DUIS codes are asserted as a table, which is also printed.
 *
 * MP134A's row equals the baseline's, and that is the finding the SECMP185 decision records
 * (seed 000): the DCC transfers the failed Supplier's MPIDs at once, so an SRP's requests for it
 * are refused "regardless of SMKI Certificate status" (E4 here) — delaying revocation alone
 * changes nothing at the DCC; MP185's delayed transfer is what makes the SRP's requests work.
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import type { Eui64 } from '@smetsim/core'
import { createDevice, credentialFromCertificate, type DeviceState, step } from '@smetsim/device'
import type { PublicKeyRef } from '@smetsim/gbcs'
import { issueOrganisationCertificate, normaliseSerial } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import { DAY_MS } from '../packages/dcc/src/access/anomaly.ts'
import type { SolrContingencySettings } from '../packages/dcc/src/access/check.ts'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import { createDcc, type DuisRequest } from '../packages/dcc/src/dcc.ts'
import { createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import {
  ACB,
  backend,
  ESME_EUI,
  ORG_CA,
  PARTIES,
  privateRef,
  ROOT,
  T0,
} from '../packages/dcc/src/gbcs/testing.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import {
  advanceSolr,
  describeSolrAction,
  failSupplier,
  grantableUsers,
  type SolrSetting,
} from '../packages/dcc/src/solr.ts'

const A = PARTIES.supplierA.eui // fails
const B = PARTIES.supplierB.eui // the SoLR
const SRP = '90B3D51F30050000' as Eui64
const SRP_DS = issueOrganisationCertificate(ORG_CA, {
  eui: SRP,
  role: 'otherUser',
  usage: 'digitalSignature',
})
const MPAN = '1200000000001'
const HOUR_MS = 3_600_000
const AT = T0 + DAY_MS // licence revocation
const DELAYED = T0 + 15 * DAY_MS // the delayed step (revocation for MP134A, MPID transfer otherwise)

const serial = (c: { certificate: { serialNumber: string } }) => normaliseSerial(c.certificate.serialNumber)

function estate(o: { srpThreshold?: boolean } = {}) {
  let clock = T0
  const cred = (c: { certificate: Parameters<typeof credentialFromCertificate>[0] }) =>
    credentialFromCertificate(c.certificate)
  let meter: DeviceState = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: {
      root: cred(ROOT),
      supplierDs: cred(PARTIES.supplierA.ds),
      supplierKa: cred(PARTIES.supplierA.ka),
      ...(PARTIES.supplierA.pp && { supplierPrepaymentKa: cred(PARTIES.supplierA.pp) }),
      networkOperatorDs: cred(PARTIES.networkOperator.ds),
      networkOperatorKa: cred(PARTIES.networkOperator.ka),
      accessControlBrokerDs: cred(PARTIES.acb.ds),
      accessControlBrokerKa: cred(PARTIES.acb.ka),
      transitionalCoSDs: cred(PARTIES.cos.ds),
    },
    now: T0,
    paymentMode: 'credit',
  })
  const rejections: string[] = []

  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: MPAN, status: 'Commissioned', at: '2024-01-02' })
  const users = grantableUsers(
    new UserDirectory([
      {
        userId: A,
        name: 'Supplier A (fails)',
        roles: ['IS', 'GS'],
        certificates: [serial(PARTIES.supplierA.ds), serial(PARTIES.supplierA.ka)],
      },
      {
        userId: B,
        name: 'Supplier B (SoLR)',
        roles: ['IS', 'GS'],
        certificates: [serial(PARTIES.supplierB.ds)],
      },
      { userId: SRP, name: 'SRP', roles: [], certificates: [serial(SRP_DS)], sendsFor: [A] },
    ]),
  )
  const revoked = new Set<string>()
  const revocation = {
    isRevoked: (s: string) => revoked.has(normaliseSerial(s)),
    revoke: (s: string) => revoked.add(normaliseSerial(s)),
  }
  const sat = createMemorySat({ now: () => new Date(clock) })
  const solrContingency: SolrContingencySettings = { srvs: ['1.6'], failedSuppliers: [] }
  const dcc = createDcc({
    users,
    registration,
    inventory,
    sat,
    revocation,
    solrContingency,
    // MP134B: the SoLR Contingency role's threshold is zero unless set; set one for the SRP.
    anomaly: {
      config: {
        version: 1,
        users: o.srpThreshold === false ? [] : [{ user: SRP, srv: '1.6', limit: 100, windowMs: DAY_MS }],
        roleDefaults: [{ role: 'SoLRC', srv: '*', limit: 0, windowMs: DAY_MS }],
        dcc: [],
      },
    },
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: (): PublicKeyRef => backend.importPrivateKey(meter.keys.ka!).publicKey,
    // SR 6.23: the SoLR's certificates as the SMKI repository holds them.
    userCertificates: (id) =>
      id === B
        ? {
            digitalSigning: PARTIES.supplierB.ds.certificate.raw,
            keyAgreement: PARTIES.supplierB.ka.certificate.raw,
            ...(PARTIES.supplierB.pp && { prepaymentTopUp: PARTIES.supplierB.pp.certificate.raw }),
            certificationPath: [ORG_CA.certificate.raw],
          }
        : undefined,
    transport: async (_id, bytes) => {
      const r = step(meter, { kind: 'frame', bytes }, clock, { backend })
      meter = r.state
      if (r.outputs.outcome === 'rejected') rejections.push(String(r.outputs.reason))
      return r.outputs.response
    },
    now: () => clock,
    backend,
    signers: {
      [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend),
      [B]: createInProcessSigner(privateRef(PARTIES.supplierB.ds), backend),
      // The SRP's own key (a command under the SRP's name would reach no meter). Its SoLRC
      // requests are signed under A's certificate, with A's key above, which the SRP holds.
      [SRP]: createInProcessSigner(privateRef(SRP_DS), backend),
    },
  })
  return {
    dcc,
    sat,
    solrEstate: { registration, users, revocation, solrContingency, grantRole: users.grantRole },
    rejections,
    meter: () => meter,
    setClock: (t: number) => {
      clock = t
    },
  }
}

interface Row {
  name: string
  request(counter: number): DuisRequest
}

const sr = (originator: Eui64, counter: number, srv: string, role: string, sender?: Eui64): DuisRequest => ({
  requestId: `${originator}:${ESME_EUI}:${counter}`,
  ...(sender && { sender }),
  role,
  srv,
  commandVariant: 4,
  deviceType: 'ESME',
  ...(srv === '1.6' && { parameters: { paymentMode: 'prepayment', disablementThreshold: -250 } }),
})

const ROWS: Row[] = [
  { name: "failed supplier's SR 1.6", request: (n) => sr(A, n, '1.6', 'IS') },
  { name: 'SRP for failed supplier SR 1.6', request: (n) => sr(A, n, '1.6', 'IS', SRP) },
  { name: 'SRP for failed supplier SR 7.2', request: (n) => sr(A, n, '7.2', 'IS', SRP) },
  { name: "SoLR's SR 1.6", request: (n) => sr(B, n, '1.6', 'IS') },
  { name: 'SRP as SoLRC SR 1.6', request: (n) => sr(SRP, n, '1.6', 'SoLRC') },
  { name: 'SRP as SoLRC SR 7.2', request: (n) => sr(SRP, n, '7.2', 'SoLRC') },
]

const PHASES = ['before', 'after', 'after 6.23'] as const
type Phase = (typeof PHASES)[number]

/**
 * Expected DUIS codes [before the delayed step, after it, after the SoLR's SR 6.23] per row, in
 * ROWS order. The SoLR's own SR 1.6 gets E21 until its 6.23: the DCC accepts it, but the meter
 * still trusts only the failed Supplier's certificates and refuses it (unknown originator).
 */
const EXPECTED: Record<SolrSetting, [string, string, string][]> = {
  baseline: [
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E21', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
    ['E1', 'E1', 'E1'],
  ],
  MP134A: [
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E21', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
    ['E1', 'E1', 'E1'],
  ],
  MP185: [
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['E4', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
    ['E1', 'E1', 'E1'],
  ],
  MP134B: [
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['E4', 'E21', 'I0'],
    ['I0', 'E4', 'E4'],
    ['E2', 'E2', 'E2'],
  ],
}

describe('SoLR control switches end to end (createDcc over an emulated ESME)', () => {
  for (const setting of ['baseline', 'MP134A', 'MP185', 'MP134B'] as const)
    it(`${setting}: which requests succeed before and after the delayed step`, async () => {
      const e = estate()
      const controller = failSupplier(e.solrEstate, {
        setting,
        supplier: A,
        solr: B,
        at: new Date(AT),
        ...(setting === 'MP134A' && { revokeAt: new Date(DELAYED) }),
        ...((setting === 'MP185' || setting === 'MP134B') && { transferAt: new Date(DELAYED) }),
        ...(setting === 'MP134B' && { srp: SRP }),
      })
      const table: ({ request: string } & Record<Phase, string>)[] = ROWS.map((r) => ({
        request: r.name,
        before: '',
        after: '',
        'after 6.23': '',
      }))
      const outcome = (code: string, rejected: string | undefined) =>
        rejected ? `${code} (device: ${rejected})` : code
      let counter = 100
      for (const [phase, t] of [
        ['before', AT],
        ['after', DELAYED],
        ['after 6.23', DELAYED + HOUR_MS],
      ] as const) {
        e.setClock(t)
        advanceSolr(controller, new Date(t))
        if (phase === 'after 6.23') {
          // The SoLR, now the registered supplier under every setting, takes the meter over.
          const cos = await e.dcc.submit({ ...sr(B, ++counter, '6.23', 'IS'), commandVariant: 1 })
          expect(cos.code).toBe('I0')
          expect(e.meter().cells.supplierDs?.eui).toBe(B)
        }
        for (const [i, row] of ROWS.entries()) {
          const seen = e.rejections.length
          const result = await e.dcc.submit(row.request(++counter))
          table[i]![phase] = outcome(result.code, e.rejections[seen])
        }
      }
      console.log(`SoLR setting ${setting}:\n  ${controller.actions.map(describeSolrAction).join('\n  ')}`)
      console.table(table)
      expect(table.map((r) => PHASES.map((p) => r[p].split(' ')[0]))).toEqual(EXPECTED[setting])
    })

  it('MP134B: the SoLRC role is quarantined (AD1) without a threshold; the SAT records the SRP as sender', async () => {
    for (const srpThreshold of [false, true]) {
      const e = estate({ srpThreshold })
      const controller = failSupplier(e.solrEstate, {
        setting: 'MP134B',
        supplier: A,
        solr: B,
        at: new Date(AT),
        transferAt: new Date(DELAYED),
        srp: SRP,
      })
      e.setClock(AT)
      advanceSolr(controller, new Date(AT))
      const result = await e.dcc.submit(sr(SRP, 300, '1.6', 'SoLRC'))
      if (!srpThreshold) {
        expect(result.code).toBe('AD1')
        expect(result.dccAlerts?.map((a) => [a.type, a.recipient])).toEqual([['QuarantinedRequest', SRP]])
      } else {
        // Accepted by the DCC, sent as A's command signed with A's key, which the SRP holds: the
        // meter, which trusts only A's certificates, executes it (credit -> prepayment).
        expect(result.code).toBe('I0')
        expect(e.meter().paymentMode).toBe('prepayment')
        expect(result.response?.originator).toBe(ESME_EUI)
        expect(result.response?.recipient).toBe(A)
        const decision = e.sat.query({ kind: 'decision', requestId: result.requestId! })
        expect(
          decision.map((r) => [
            r.code,
            r.user,
            (r.detail as { failedSupplier?: string } | undefined)?.failedSupplier,
          ]),
        ).toEqual([['I99', SRP, A]])
        expect(e.sat.query({ kind: 'response', requestId: result.requestId! }).map((r) => r.user)).toEqual([
          SRP,
        ])
      }
    }
  })
})

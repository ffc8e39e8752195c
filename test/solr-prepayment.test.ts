/**
 * The case the SoLR controls exist for (seed 003, MP134): a prepayment consumer whose Supplier
 * leaves the market in a disorderly way. Supplier A fails; B is the Supplier of Last Resort; an
 * SRP sends for A. The meter has £3 of credit, no emergency credit, and burns 770 000 mp a day
 * (1 000 W flat at 30 p/kWh plus 50 p/day). It self-disconnects when its credit falls below the
 * disablement threshold of 0, i.e. once 300 001 mp are drawn, at
 *   ceil(8 640 × 300 001 / 77) ms = 33 662 450 ms ≈ 9 h 21 min.
 *
 * Under the baseline nobody can reach the meter in time: A's MPIDs move to B at once, so the
 * SRP's SR 1.6 for A gets E4, and B's own SR 1.6 passes the DCC but the meter, which trusts only
 * A's certificates until B's SR 6.23, refuses it. The consumer goes off supply and stays off
 * until B has sent 6.23 and then 1.6 and 7.1 (here the next day).
 *
 * Under MP134B (on a delayed MPID transfer) the SRP, in the SoLR Contingency role, sends SR 1.6
 * an hour after the failure: the meter goes to credit mode and the supply never drops.
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import type { Eui64 } from '@smetsim/core'
import { createDevice, type DeviceState, FLAT_SHAPE, HOUR_MS, step } from '@smetsim/device'
import type { PublicKeyRef } from '@smetsim/gbcs'
import { issueOrganisationCertificate, normaliseSerial } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import { DAY_MS } from '../packages/dcc/src/access/anomaly.ts'
import type { SolrContingencySettings } from '../packages/dcc/src/access/check.ts'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import { createDcc, type DuisRequest } from '../packages/dcc/src/dcc.ts'
import { createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import { ACB, backend, ESME_EUI, ORG_CA, PARTIES, privateRef, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import { advanceSolr, failSupplier, grantableUsers, type SolrSetting } from '../packages/dcc/src/solr.ts'
import { installedCells } from './support.ts'

const A = PARTIES.supplierA.eui // fails
const B = PARTIES.supplierB.eui // the SoLR
const SRP = '90B3D51F30050000' as Eui64
const SRP_DS = issueOrganisationCertificate(ORG_CA, {
  eui: SRP,
  role: 'otherUser',
  usage: 'digitalSignature',
})
const MPAN = '1200000000001'
const FAILS = T0 + HOUR_MS
/** 300 001 mp at 77/8 640 mp per ms, from T0 with nothing carried. */
const RUNS_OUT = T0 + Math.ceil((8_640 * 300_001) / 77)

const serial = (c: { certificate: { serialNumber: string } }) => normaliseSerial(c.certificate.serialNumber)

function estate() {
  let clock = T0
  const made = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: 'prepayment',
    watts: 1000,
    meterBalance: 300_000,
    tariff: { unitRate: 30_000, standingCharge: 50_000 },
    config: { emergencyCreditLimit: 0, emergencyCreditThreshold: 0, disablementThreshold: 0 },
  })
  let meter: DeviceState = { ...made, load: { ...made.load, shape: FLAT_SHAPE } }
  /** When the supply went off, as the meter's own alerts tell it (0x8F0F: below disablement threshold). */
  const disconnections: number[] = []
  const run = (input: Parameters<typeof step>[1], t: number) => {
    const r = step(meter, input, t, { backend })
    meter = r.state
    for (const a of r.outputs.alerts) if (a.code === 0x8f0f) disconnections.push(a.at)
    return r.outputs
  }

  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: MPAN, status: 'Commissioned', at: '2024-01-02' })
  const users = grantableUsers(
    new UserDirectory([
      { userId: A, name: 'Supplier A (fails)', roles: ['IS'], certificates: [serial(PARTIES.supplierA.ds)] },
      { userId: B, name: 'Supplier B (SoLR)', roles: ['IS'], certificates: [serial(PARTIES.supplierB.ds)] },
      { userId: SRP, name: 'SRP', roles: [], certificates: [serial(SRP_DS)], sendsFor: [A] },
    ]),
  )
  const revoked = new Set<string>()
  const revocation = {
    isRevoked: (s: string) => revoked.has(normaliseSerial(s)),
    revoke: (s: string) => revoked.add(normaliseSerial(s)),
  }
  const solrContingency: SolrContingencySettings = { srvs: ['1.6'], failedSuppliers: [] }
  const dcc = createDcc({
    users,
    registration,
    inventory,
    sat: createMemorySat({ now: () => new Date(clock) }),
    revocation,
    solrContingency,
    anomaly: {
      config: {
        version: 1,
        users: [{ user: SRP, srv: '1.6', limit: 1000, windowMs: DAY_MS }],
        roleDefaults: [{ role: 'SoLRC', srv: '*', limit: 0, windowMs: DAY_MS }],
        dcc: [],
      },
    },
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: (): PublicKeyRef => backend.importPrivateKey(meter.keys.ka!).publicKey,
    userCertificates: (id) =>
      id === B
        ? {
            digitalSigning: PARTIES.supplierB.ds.certificate.raw,
            keyAgreement: PARTIES.supplierB.ka.certificate.raw,
            ...(PARTIES.supplierB.pp && { prepaymentTopUp: PARTIES.supplierB.pp.certificate.raw }),
            certificationPath: [ORG_CA.certificate.raw],
          }
        : undefined,
    transport: async (_id, bytes) => run({ kind: 'frame', bytes }, clock).response,
    now: () => clock,
    backend,
    signers: {
      // A's key, which the SRP holds for A; B signs for itself.
      [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend),
      [B]: createInProcessSigner(privateRef(PARTIES.supplierB.ds), backend),
    },
  })
  let counter = 1000
  const submit = (originator: Eui64, srv: string, role: string, o: Partial<DuisRequest> = {}) =>
    dcc.submit({
      requestId: `${originator}:${ESME_EUI}:${++counter}`,
      role,
      srv,
      commandVariant: ['6.23'].includes(srv) ? 1 : 4,
      deviceType: 'ESME',
      ...o,
    })
  /** Time passes: the meter is woken at every instant it asks for, up to t. */
  const advance = (t: number) => {
    let steps = 0
    for (let wake = run({ kind: 'time' }, clock).wakeAt; wake !== undefined && wake <= t; ) {
      if (++steps > 100)
        throw new Error(`the meter keeps asking to be woken at ${new Date(wake).toISOString()}`)
      clock = Math.max(clock, wake)
      wake = run({ kind: 'time' }, clock).wakeAt
    }
    clock = t
    run({ kind: 'time' }, t)
  }
  return {
    dcc,
    submit,
    advance,
    meter: () => meter,
    disconnections,
    solrEstate: { registration, users, revocation, solrContingency, grantRole: users.grantRole },
  }
}

const toCredit = { parameters: { paymentMode: 'credit' } }

describe('a prepayment consumer through a disorderly supplier exit', () => {
  it('the meter runs out of credit when hand-computed (no SoLR action)', () => {
    const e = estate()
    e.advance(RUNS_OUT - 1)
    expect(e.meter().supply).toBe('enabled')
    e.advance(RUNS_OUT + 1)
    expect(e.meter().supply).toBe('disabled')
    expect(e.disconnections).toEqual([RUNS_OUT])
  })

  for (const setting of ['baseline', 'MP134B'] as const satisfies readonly SolrSetting[]) {
    it(`${setting}: ${setting === 'baseline' ? 'off supply until the SoLR has taken the meter over' : 'the SRP keeps the supply on'}`, async () => {
      const e = estate()
      const controller = failSupplier(e.solrEstate, {
        setting,
        supplier: A,
        solr: B,
        at: new Date(FAILS),
        ...(setting === 'MP134B' && { transferAt: new Date(FAILS + 14 * DAY_MS), srp: SRP }),
      })
      e.advance(FAILS)
      advanceSolr(controller, new Date(FAILS))

      // An hour after the failure, everyone who might tries to put the meter in credit mode.
      e.advance(FAILS + HOUR_MS)
      const srpForA = await e.submit(A, '1.6', 'IS', { sender: SRP, ...toCredit })
      const solr = await e.submit(B, '1.6', 'IS', toCredit)
      // MP134B: the SRP as Business Originator in the SoLR Contingency role (solr.ts).
      const contingency = await e.submit(SRP, '1.6', 'SoLRC', toCredit)
      e.advance(RUNS_OUT + HOUR_MS)

      if (setting === 'baseline') {
        expect([srpForA.code, solr.code, contingency.code]).toEqual(['E4', 'E21', 'E1'])
        expect(e.meter().paymentMode).toBe('prepayment')
        expect(e.meter().supply).toBe('disabled')
        expect(e.disconnections).toEqual([RUNS_OUT])
        // The next day B takes the meter over (6.23), switches it to credit and enables supply.
        e.advance(T0 + DAY_MS)
        expect((await e.submit(B, '6.23', 'IS')).code).toBe('I0')
        expect((await e.submit(B, '1.6', 'IS', toCredit)).code).toBe('I0')
        expect((await e.submit(B, '7.1', 'IS')).code).toBe('I0')
        expect(e.meter()).toMatchObject({ paymentMode: 'credit', supply: 'enabled' })
        console.log(`baseline: off supply for ${((T0 + DAY_MS - RUNS_OUT) / HOUR_MS).toFixed(1)} h`)
      } else {
        // A is still registered (transfer delayed): the SRP's request for A works as A's, and so
        // does its SoLR Contingency request; B is not registered yet.
        expect([srpForA.code, solr.code, contingency.code]).toEqual(['I0', 'E4', 'I0'])
        expect(e.meter()).toMatchObject({ paymentMode: 'credit', supply: 'enabled' })
        expect(e.disconnections).toEqual([])
      }
    })
  }
})

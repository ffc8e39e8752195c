/**
 * Support for the end-to-end tests (not a test file): the trust anchor cells a meter gets at
 * installation, from the dcc package's in-memory test PKI, so the DCC and the devices trust the
 * same parties; and the SoLR estate the SoLR scenario tests share.
 */
import type { Eui64 } from '@smetsim/core'
import { credentialFromCertificate, type DeviceState, type TrustAnchorCells } from '@smetsim/device'
import type { PublicKeyRef } from '@smetsim/gbcs'
import { issueOrganisationCertificate, memoryRevocationList, normaliseSerial } from '@smetsim/smki'
import { DAY_MS } from '../packages/dcc/src/access/anomaly.ts'
import type { SolrContingencySettings } from '../packages/dcc/src/access/check.ts'
import { UserDirectory } from '../packages/dcc/src/access/users.ts'
import { createDcc } from '../packages/dcc/src/dcc.ts'
import { createInProcessSigner } from '../packages/dcc/src/gbcs/construct.ts'
import {
  ACB,
  backend,
  ESME_EUI,
  ORG_CA,
  PARTIES,
  type Party,
  privateRef,
  ROOT,
} from '../packages/dcc/src/gbcs/testing.ts'
import { SmartMeteringInventory } from '../packages/dcc/src/registration/inventory.ts'
import { RegistrationData } from '../packages/dcc/src/registration/registration.ts'
import { createMemorySat } from '../packages/dcc/src/sat/sat.ts'
import { grantableUsers } from '../packages/dcc/src/solr.ts'

/** The cells of a meter installed for `supplier` (default supplier A). */
export function installedCells(supplier: Party = PARTIES.supplierA): TrustAnchorCells {
  const cred = (c: { certificate: Parameters<typeof credentialFromCertificate>[0] }) =>
    credentialFromCertificate(c.certificate)
  return {
    root: cred(ROOT),
    supplierDs: cred(supplier.ds),
    supplierKa: cred(supplier.ka),
    ...(supplier.pp && { supplierPrepaymentKa: cred(supplier.pp) }),
    networkOperatorDs: cred(PARTIES.networkOperator.ds),
    networkOperatorKa: cred(PARTIES.networkOperator.ka),
    accessControlBrokerDs: cred(PARTIES.acb.ds),
    accessControlBrokerKa: cred(PARTIES.acb.ka),
    transitionalCoSDs: cred(PARTIES.cos.ds),
  }
}

/** The device's key-agreement public key (the DCC reads it from the device's KA certificate). */
export const kaPublic = (d: Pick<DeviceState, 'keys'>): PublicKeyRef =>
  backend.importPrivateKey(d.keys.ka!).publicKey

// ---------------------------------------------------------------------------------------------
// The SoLR estate shared by the SoLR scenario tests: supplier A fails, B is the Supplier of Last
// Resort, an SRP sends for A; one ESME on MPAN 1200000000001 registered to A. The caller owns the
// meter (the transport and the device's key-agreement key) and the clock.

export const SOLR = {
  failed: PARTIES.supplierA.eui,
  solr: PARTIES.supplierB.eui,
  srp: '90B3D51F30050000' as Eui64,
  mpan: '1200000000001',
} as const

const SRP_DS = issueOrganisationCertificate(ORG_CA, {
  eui: SOLR.srp,
  role: 'otherUser',
  usage: 'digitalSignature',
})
const serial = (c: { certificate: { serialNumber: string } }) => normaliseSerial(c.certificate.serialNumber)

export interface SolrEstateOptions {
  now: () => number
  /** The device's key-agreement public key (from its KA certificate, as the DCC would have it). */
  deviceKa: () => PublicKeyRef
  transport: (bytes: Uint8Array) => Uint8Array | undefined
  /** The SRP's own SR 1.6 threshold (default 100 a day); false: none, so MP134B's zero applies. */
  srpThreshold?: number | false
}

export function solrEstate(o: SolrEstateOptions) {
  const { failed: A, solr: B, srp: SRP, mpan } = SOLR
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(mpan, 'AAAA', '2024-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: mpan, status: 'Commissioned', at: '2024-01-02' })
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
  const revocation = memoryRevocationList()
  const sat = createMemorySat({ now: () => new Date(o.now()) })
  const solrContingency: SolrContingencySettings = { srvs: ['1.6'], failedSuppliers: [] }
  const srpLimit = o.srpThreshold ?? 100
  const dcc = createDcc({
    users,
    registration,
    inventory,
    sat,
    revocation,
    solrContingency,
    // MP134B: the SoLR Contingency role's threshold is zero unless set; one is set for the SRP.
    anomaly: {
      config: {
        version: 1,
        users: srpLimit === false ? [] : [{ user: SRP, srv: '1.6', limit: srpLimit, windowMs: DAY_MS }],
        roleDefaults: [{ role: 'SoLRC', srv: '*', limit: 0, windowMs: DAY_MS }],
        dcc: [],
      },
    },
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: o.deviceKa,
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
    transport: async (_id, bytes) => o.transport(bytes),
    now: o.now,
    backend,
    signers: {
      // A's key, which the SRP holds for A and uses for its SoLR Contingency requests (MP134B).
      [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend),
      [B]: createInProcessSigner(privateRef(PARTIES.supplierB.ds), backend),
      // The SRP's own key: a command under the SRP's name would reach no meter.
      [SRP]: createInProcessSigner(privateRef(SRP_DS), backend),
    },
  })
  return {
    dcc,
    sat,
    /** What the SoLR controller acts on (failSupplier / advanceSolr). */
    controls: { registration, users, revocation, solrContingency, grantRole: users.grantRole },
  }
}

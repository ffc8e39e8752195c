/**
 * DCC Boxed's ZAZ1 organisations, as its keystore.json (SmartDCCInnovation/dccboxed-keystore)
 * holds them: which of its credentials are the DCC Users, the DCC's Access Control Broker and
 * transitional Change of Supplier party, and which certificates a device's trust anchor cells
 * hold (GBCS's Known Remote Parties: supplier, network operator, ACB, transitional CoS, recovery,
 * WAN provider; no root, as the keystore publishes no ZAZ1 root certificate). A DCC and estate built from this verify what the DCC's own signing tool signs
 * with no key arguments, end to end: the DUIS XMLDSig (the Users' XML signing certificates, OU=87)
 * and the GBCS signature of a Signed Pre-Command (the Users' digital signing certificates).
 *
 * The keystore names its credentials (`Z1-supplier-ds`, `otherUser-ds`, …); `Z1b-…` is a second
 * set for the same parties, for anchor replacement, and is not used here. Which User roles each
 * party holds in DCC Boxed is not published: suppliers IS and GS, the network operator ED and GT,
 * the other user OU (a modelling choice; the `mdr` party is left out, its role unknown).
 */
import type { KeyObject, X509Certificate } from 'node:crypto'
import type { Eui64 } from '@smetsim/core'
import type { DuisRole, NewUser, UserCertificates } from '@smetsim/dcc'
import type { BoxedCredential } from './certificates.ts'

/** DCC Boxed's Users: the keystore name prefix of each one's credentials and its roles. */
const BOXED_USERS: readonly { name: string; prefix: string; roles: readonly DuisRole[] }[] = [
  { name: 'ZAZ1 supplier', prefix: 'Z1-supplier', roles: ['IS', 'GS'] },
  { name: 'ZAZ1 supplier 2', prefix: 'Z1-supplier2', roles: ['IS', 'GS'] },
  { name: 'ZAZ1 network operator', prefix: 'Z1-networkOperator', roles: ['ED', 'GT'] },
  { name: 'ZAZ1 other user', prefix: 'otherUser', roles: ['OU'] },
]

/** A party of the keystore with the key of a certificate. */
export interface BoxedParty {
  eui: Eui64
  certificate: X509Certificate
  privateKey: KeyObject
}

/** The certificates of a device's trust anchor cells, by cell (packages/device `CELL_NAMES`). */
export interface BoxedAnchors {
  supplierDs: X509Certificate
  supplierKa: X509Certificate
  supplierPrepaymentKa: X509Certificate
  networkOperatorDs: X509Certificate
  networkOperatorKa: X509Certificate
  accessControlBrokerDs: X509Certificate
  accessControlBrokerKa: X509Certificate
  transitionalCoSDs: X509Certificate
  recovery: X509Certificate
  wanProviderDs: X509Certificate
}

export interface BoxedOrganisations {
  /** The DCC Users, each with every certificate serial the keystore holds for it (XML signing too). */
  users: NewUser[]
  /** The supplier the devices' supplier cells name (ZAZ1's first supplier). */
  supplier: Eui64
  networkOperator: Eui64
  acb: { eui: Eui64; ds: BoxedParty; ka: BoxedParty }
  cos: BoxedParty
  anchors: BoxedAnchors
  /** A User's digital signing key (GBCS signatures: the in-process signer, a Pre-Command's). */
  signingKeys: Map<Eui64, KeyObject>
  /** A User's Organisation certificates in the SMKI repository, as the pipeline asks for them. */
  userCertificates(eui: Eui64): UserCertificates | undefined
}

/**
 * DCC Boxed's organisations from its keystore (`readBoxedKeystore`'s credentials). Throws a
 * TypeError naming the first credential the estate needs and the keystore lacks.
 */
export function boxedOrganisations(credentials: readonly BoxedCredential[]): BoxedOrganisations {
  const byName = new Map(credentials.map((c) => [c.name, c]))
  const party = (name: string): BoxedParty => {
    const c = byName.get(name)
    if (!c?.privateKey) throw new TypeError(`DCC Boxed keystore: no ${name} with its private key`)
    return { eui: c.eui, certificate: c.certificate, privateKey: c.privateKey }
  }
  const cert = (name: string) => party(name).certificate
  const users: NewUser[] = []
  const signingKeys = new Map<Eui64, KeyObject>()
  const certificates = new Map<Eui64, UserCertificates>()
  for (const u of BOXED_USERS) {
    const ds = party(`${u.prefix}-ds`)
    const ka = byName.get(`${u.prefix}-ka`)
    const pp = byName.get(`${u.prefix}PP-ka`)
    users.push({
      userId: ds.eui,
      name: u.name,
      roles: u.roles,
      certificates: credentials.filter((c) => c.eui === ds.eui).map((c) => c.certificate.serialNumber),
    })
    signingKeys.set(ds.eui, ds.privateKey)
    certificates.set(ds.eui, {
      digitalSigning: new Uint8Array(ds.certificate.raw),
      ...(ka && { keyAgreement: new Uint8Array(ka.certificate.raw) }),
      ...(pp && { prepaymentTopUp: new Uint8Array(pp.certificate.raw) }),
    })
  }
  const acbDs = party('Z1-accessControlBroker-ds')
  return {
    users,
    supplier: party('Z1-supplier-ds').eui,
    networkOperator: party('Z1-networkOperator-ds').eui,
    acb: { eui: acbDs.eui, ds: acbDs, ka: party('Z1-accessControlBroker-ka') },
    cos: party('Z1-transitionalCoS-ds'),
    anchors: {
      supplierDs: cert('Z1-supplier-ds'),
      supplierKa: cert('Z1-supplier-ka'),
      supplierPrepaymentKa: cert('Z1-supplierPP-ka'),
      networkOperatorDs: cert('Z1-networkOperator-ds'),
      networkOperatorKa: cert('Z1-networkOperator-ka'),
      accessControlBrokerDs: cert('Z1-accessControlBroker-ds'),
      accessControlBrokerKa: cert('Z1-accessControlBroker-ka'),
      transitionalCoSDs: cert('Z1-transitionalCoS-ds'),
      recovery: cert('Z1-recovery-ds'),
      wanProviderDs: cert('Z1-wanProvider-ds'),
    },
    signingKeys,
    userCertificates: (eui) => certificates.get(eui),
  }
}

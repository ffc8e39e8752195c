/**
 * Support for the end-to-end tests (not a test file): the trust anchor cells a meter gets at
 * installation, from the dcc package's in-memory test PKI, so the DCC and the devices trust the
 * same parties.
 */
import { credentialFromCertificate, type DeviceState, type TrustAnchorCells } from '@smetsim/device'
import type { PublicKeyRef } from '@smetsim/gbcs'
import { backend, PARTIES, type Party, ROOT } from '../packages/dcc/src/gbcs/testing.ts'

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

/**
 * One SMKI test PKI per fleet: a root, the Organisation and Device CAs under it, and the Organisation
 * certificates of every remote party the fleet's devices know — each supplier (digital signing,
 * key agreement, prepayment top-up key agreement), each network operator (signing, key
 * agreement), the DCC's Access Control Broker (signing, key agreement) and its transitional CoS
 * Party (signing). Trust anchor cells are made once per (supplier, network operator) pair and
 * shared by every device of that pair, their credentials interned per certificate by
 * @smetsim/device (ARCHITECTURE.md principle 5).
 *
 * smki issues fresh keys and random serials, so two builds of the same spec have different PKIs
 * (everything else about the fleet is the same): keep one with `snapshotFleet`, or pass it to
 * `buildFleet` again.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import { credentialFromCertificate, type TrustAnchorCells } from '@smetsim/device'
import {
  type Credential,
  certifyDeviceKeyDer,
  createDeviceCa,
  createOrganisationCa,
  createRootCa,
  issueOrganisationCertificate,
  type SmkiRole,
} from '@smetsim/smki'
import { DCC_PARTIES, type FleetSpec } from './spec.ts'

export type FleetPartyRole = Extract<
  SmkiRole,
  'supplier' | 'networkOperator' | 'accessControlBroker' | 'transitionalCoS'
>

export interface FleetParty {
  eui: Eui64
  role: FleetPartyRole
  name: string
  /** Suppliers and network operators: their market participant ID. */
  mpid?: string
  /** Network operators: the fuel they operate. */
  fuel?: 'electricity' | 'gas'
  ds: Credential
  ka?: Credential
  /** Suppliers: the prepayment top-up key agreement key. */
  pp?: Credential
}

export interface FleetPki {
  root: Credential
  organisationCa: Credential
  /**
   * The Device CA under the root: it certifies the key-agreement keys of the meters that join
   * their hub during a run (InstalledNotCommissioned ones, `meterKaCertificate`), and the CHFs
   * trust it (their Device CA list).
   */
  deviceCa: Credential
  parties: ReadonlyMap<Eui64, FleetParty>
}

/** Makes the PKI a spec's parties need (about 2 ms a certificate). */
export function createFleetPki(spec: FleetSpec): FleetPki {
  const root = createRootCa()
  const organisationCa = createOrganisationCa(root)
  const deviceCa = createDeviceCa(root)
  const parties = new Map<Eui64, FleetParty>()
  const add = (
    p: { eui: string; name: string; mpid?: string; fuel?: 'electricity' | 'gas' },
    role: FleetPartyRole,
    slots: { ka: boolean; pp: boolean },
  ) => {
    const eui = parseEui(p.eui)
    const issue = (usage: 'digitalSignature' | 'keyAgreement') =>
      issueOrganisationCertificate(organisationCa, { eui, role, usage, name: p.name })
    parties.set(eui, {
      eui,
      role,
      name: p.name,
      ...(p.mpid !== undefined && { mpid: p.mpid }),
      ...(p.fuel !== undefined && { fuel: p.fuel }),
      ds: issue('digitalSignature'),
      ...(slots.ka && { ka: issue('keyAgreement') }),
      ...(slots.pp && { pp: issue('keyAgreement') }),
    })
  }
  for (const s of spec.suppliers) add(s, 'supplier', { ka: true, pp: true })
  for (const n of spec.networkOperators) add(n, 'networkOperator', { ka: true, pp: false })
  add({ eui: DCC_PARTIES.acb, name: 'DCC ACCESS CONTROL BROKER' }, 'accessControlBroker', {
    ka: true,
    pp: false,
  })
  add({ eui: DCC_PARTIES.cos, name: 'DCC TRANSITIONAL COS' }, 'transitionalCoS', { ka: false, pp: false })
  return { root, organisationCa, deviceCa, parties }
}

/**
 * A meter's key-agreement Device Certificate (DER) from the fleet's Device CA, for the public key
 * of its own KA scalar: what it presents when it joins its hub's HAN. An ECDSA signature each
 * (smki's certifyDeviceKeyDer), so the runner makes one only for a meter that has yet to join.
 */
export function meterKaCertificate(pki: FleetPki, eui: Eui64, kaPoint: Uint8Array): Uint8Array {
  return certifyDeviceKeyDer(pki.deviceCa, { eui, usage: 'keyAgreement', publicKey: kaPoint })
}

export class FleetPkiError extends Error {
  override name = 'FleetPkiError'
}

/** The party with this EUI and role; throws FleetPkiError naming what is missing. */
export function partyOf(pki: FleetPki, eui: string, role: FleetPartyRole): FleetParty {
  const party = pki.parties.get(parseEui(eui))
  if (!party || party.role !== role) throw new FleetPkiError(`the fleet PKI has no ${role} ${eui}`)
  return party
}

const cellSets = new WeakMap<FleetPki, Map<string, TrustAnchorCells>>()

/**
 * The cells a meter of this supplier on this network operator is installed with: root,
 * supplier (DS, KA, prepayment KA), network operator (DS, KA), ACB (DS, KA), transitional CoS
 * (DS). Recovery and WAN provider cells are left empty (no party for them here). The same
 * frozen object for every meter of the pair.
 */
export function installedCells(pki: FleetPki, supplier: string, networkOperator: string): TrustAnchorCells {
  let byPair = cellSets.get(pki)
  if (!byPair) {
    byPair = new Map()
    cellSets.set(pki, byPair)
  }
  const pairKey = `${supplier}|${networkOperator}`
  const known = byPair.get(pairKey)
  if (known) return known
  const s = partyOf(pki, supplier, 'supplier')
  const n = partyOf(pki, networkOperator, 'networkOperator')
  const acb = partyOf(pki, DCC_PARTIES.acb, 'accessControlBroker')
  const cos = partyOf(pki, DCC_PARTIES.cos, 'transitionalCoS')
  const cred = (c: Credential | undefined) => c && credentialFromCertificate(c.certificate)
  const cells: TrustAnchorCells = Object.freeze({
    root: cred(pki.root)!,
    supplierDs: cred(s.ds)!,
    supplierKa: cred(s.ka)!,
    supplierPrepaymentKa: cred(s.pp)!,
    networkOperatorDs: cred(n.ds)!,
    networkOperatorKa: cred(n.ka)!,
    accessControlBrokerDs: cred(acb.ds)!,
    accessControlBrokerKa: cred(acb.ka)!,
    transitionalCoSDs: cred(cos.ds)!,
  })
  byPair.set(pairKey, cells)
  return cells
}

/**
 * Test support (not exported from the package): a small SMKI PKI made in memory, the remote
 * parties' keys, a device provisioned from it, and commands built, signed and MACed the way
 * the DCC and a supplier would.
 */
import type { Eui64 } from '@smetsim/core'
import {
  applyMac,
  buildPayload,
  encodeFrame,
  type GeneralSigning,
  getBackend,
  type Json,
  messageKey,
  signGeneralSigning,
} from '@smetsim/gbcs'
import {
  createMemoryPki,
  issueOrganisationCertificate,
  type PartyCredentials,
  type Credential as SmkiCredential,
  type SmkiRole,
} from '@smetsim/smki'
import type { DeviceType } from './authority.ts'
import { credentialFromCertificate, type TrustAnchorCells } from './cells.ts'
import { createDevice, type NewDeviceOptions } from './provision.ts'
import type { DeviceState } from './state.ts'

export const backend = getBackend('native')
export const T0 = Date.UTC(2026, 0, 5, 12) // a Monday, noon UTC

const { root, organisationCa: orgCa, parties } = createMemoryPki()

export type Party = PartyCredentials

export const PARTIES = parties
export const ROOT_CERTIFICATE = root.certificate
export const ORG_CA_CERTIFICATE = orgCa.certificate

/** A fresh Organisation certificate (and key) for `eui` in `role`, from the test PKI's Organisation CA. */
export function issueCertificate(
  eui: Eui64,
  role: SmkiRole,
  usage: 'digitalSignature' | 'keyAgreement',
): SmkiCredential {
  return issueOrganisationCertificate(orgCa, { eui, role, usage })
}

const cred = (c: SmkiCredential) => credentialFromCertificate(c.certificate)

/** The cells a meter gets at installation for supplier A. */
export function installedCells(supplier: Party = PARTIES.supplierA): TrustAnchorCells {
  return {
    root: cred(root),
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

export const ESME_EUI = '00DB120000000001' as Eui64

export function testDevice(type: DeviceType = 'ESME', o: Partial<NewDeviceOptions> = {}): DeviceState {
  return createDevice({ type, eui: ESME_EUI, cells: installedCells(), now: T0, ...o })
}

export interface CommandOptions {
  from?: Party
  counter: bigint
  to?: DeviceState
  /** Sign (Critical commands); default true. */
  sign?: boolean
  mac?: boolean
  /** The ACB key-agreement key that MACs it (default the test PKI's ACB). */
  acbKa?: SmkiCredential
}

/** A command as it reaches the device: built from a use-case view, signed by `from`, MACed by the ACB. */
export function command(
  messageCode: number,
  view: { name: string; [k: string]: Json },
  device: DeviceState,
  o: CommandOptions,
): Uint8Array {
  const from = o.from ?? PARTIES.supplierA
  const s: GeneralSigning = {
    cra: 'command',
    originatorCounter: o.counter,
    originator: from.eui,
    recipient: device.eui,
    messageCode,
    content: buildPayload(view, { messageCode, cra: 'command' }),
    signature: { kind: 'absent' },
  }
  const signed =
    o.sign === false
      ? { ...s, signature: { kind: 'empty' as const } }
      : signGeneralSigning(s, backend.importPrivateKey(from.ds.privateKey), backend)
  if (o.mac === false) return encodeFrame({ signing: signed })
  const devicePublic = backend.importPrivateKey(device.keys.ka!).publicKey
  const acb = (o.acbKa ?? PARTIES.acb.ka).privateKey
  const key = messageKey(signed, backend.importPrivateKey(acb), devicePublic, backend)
  return encodeFrame(applyMac(signed, key))
}

export const ARM = { code: 0x0051, view: { name: 'ECS44 Arm Supply', invokeId: 1 } }
export const DISABLE = { code: 0x0050, view: { name: 'ECS43 Disable Supply', invokeId: 1 } }
export const ENABLE = { code: 0x004f, view: { name: 'ECS42 Enable Supply', invokeId: 1 } }
export const READ_SUPPLY = { code: 0x0052, view: { name: 'ECS45 Read Supply Status', invokeId: 1 } }

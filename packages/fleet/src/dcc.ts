/**
 * What a DCC needs to serve a fleet: everything in @smetsim/dcc's `DccConfig` that the fleet
 * decides — its Users, Registration Data and Smart Metering Inventory, the Access Control Broker
 * and CoS Party keys, the device key-agreement public keys (as the SMKI repository would hold
 * them in the devices' certificates), the Users' certificates for SR 6.23 and CV5 checks, and
 * in-process signers for every User. The runner adds the rest: the Service Audit Trail, the
 * transport to the hubs and the clock.
 */
import type { Eui64 } from '@smetsim/core'
import {
  type AccessControlBroker,
  type CosParty,
  createInProcessSigner,
  type DccConfig,
  type Signer,
  type UserCertificates,
} from '@smetsim/dcc'
import { type DeviceState, privateKeyOf } from '@smetsim/device'
import type { CryptoBackend, PublicKeyRef } from '@smetsim/gbcs'
import { type Fleet, meterKaScalar } from './build.ts'
import { partyOf } from './pki.ts'
import { compileSpec } from './premise.ts'
import { DCC_PARTIES } from './spec.ts'

export type DccParts = DccConfigParts & {
  /** How many device key-agreement public keys are kept now. */
  keysKept(): number
}

type DccConfigParts = Pick<
  DccConfig,
  | 'users'
  | 'registration'
  | 'inventory'
  | 'acb'
  | 'cos'
  | 'deviceKeyAgreement'
  | 'userCertificates'
  | 'signers'
  | 'backend'
>

/**
 * The fewest device key-agreement public keys `deviceKeyAgreement` keeps. By default it keeps one
 * for every meter of the fleet: the DCC talks to each meter at least daily, and a key made again
 * costs a point multiplication plus a fresh ECDH with the ACB (the pair's secret is cached on the
 * key's ref), while a kept ref costs tens of bytes. A smaller `keyCache` bounds it (LRU).
 */
export const DEVICE_KEY_CACHE = 4096

export function dccParts<H>(
  fleet: Fleet<H>,
  backend: CryptoBackend,
  options: { keyCache?: number } = {},
): DccParts {
  const keyCache = Math.max(1, options.keyCache ?? Math.max(DEVICE_KEY_CACHE, 2 * fleet.size))
  const c = compileSpec(fleet.spec)
  const { pki } = fleet
  const acbParty = partyOf(pki, DCC_PARTIES.acb, 'accessControlBroker')
  const cosParty = partyOf(pki, DCC_PARTIES.cos, 'transitionalCoS')
  const acb: AccessControlBroker = {
    eui: acbParty.eui,
    kaPrivateKeyRef: backend.importPrivateKey(acbParty.ka!.privateKey),
  }
  const cos: CosParty = {
    eui: cosParty.eui,
    signer: createInProcessSigner(backend.importPrivateKey(cosParty.ds.privateKey), backend),
  }
  const signers: Record<string, Signer> = {}
  const certificates = new Map<Eui64, UserCertificates>()
  for (const party of pki.parties.values()) {
    if (party.role !== 'supplier' && party.role !== 'networkOperator') continue
    signers[party.eui] = createInProcessSigner(backend.importPrivateKey(party.ds.privateKey), backend)
    certificates.set(party.eui, {
      digitalSigning: new Uint8Array(party.ds.certificate.raw),
      ...(party.ka && { keyAgreement: new Uint8Array(party.ka.certificate.raw) }),
      ...(party.pp && { prepaymentTopUp: new Uint8Array(party.pp.certificate.raw) }),
      certificationPath: [new Uint8Array(pki.organisationCa.certificate.raw)],
    })
  }

  // The devices' key-agreement public keys are made when first asked for, from the same drawn
  // scalar the device holds, and the latest `keyCache` kept (a Map in insertion order).
  const keys = new Map<Eui64, PublicKeyRef>()
  const deviceKeyAgreement = (deviceId: Eui64): PublicKeyRef | undefined => {
    const hit = keys.get(deviceId)
    if (hit) {
      keys.delete(deviceId)
      keys.set(deviceId, hit)
      return hit
    }
    const at = fleet.locate(deviceId)
    if (!at || (at.role !== 'ESME' && at.role !== 'GSME')) return undefined
    if (at.role === 'GSME' && !fleet.premise(at.premise)?.gsme) return undefined
    // The meter's own scalar array when the fleet holds it: its key ref is the one the meter's
    // firmware uses (packages/device privateKeyOf caches it on the array), made once for both.
    const held = fleet.device(deviceId) as DeviceState | undefined
    const key = privateKeyOf(held?.keys.ka ?? meterKaScalar(c, at.premise, at.role), backend).publicKey
    keys.set(deviceId, key)
    if (keys.size > keyCache) keys.delete(keys.keys().next().value!)
    return key
  }

  return {
    users: fleet.users,
    registration: fleet.registration,
    inventory: fleet.inventory,
    acb,
    cos,
    deviceKeyAgreement,
    userCertificates: (id) => certificates.get(id),
    signers,
    backend,
    keysKept: () => keys.size,
  }
}

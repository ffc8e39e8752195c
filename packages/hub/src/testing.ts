/**
 * Test support (not exported from the package): a hub on the device package's in-memory test PKI
 * (packages/device/src/testing.ts, reached by relative path as bench/ does), a Device CA with
 * certificates for the premises' devices, and CCS01/CCS02 frames built and MACed as the DCC's
 * ACB would.
 */
import type { KeyObject } from 'node:crypto'
import { createScheduler, type Eui64, type Scheduler } from '@smetsim/core'
import {
  createDevice,
  credentialFromCertificate,
  type DeviceState,
  type TrustAnchorCells,
} from '@smetsim/device'
import {
  applyMac,
  encodeFrame,
  encodePayload,
  type GeneralSigning,
  type Json,
  messageKey,
} from '@smetsim/gbcs'
import { createDeviceCa, createRootCa, issueDeviceCertificate } from '@smetsim/smki'
import { backend, installedCells, PARTIES, T0 } from '../../device/src/testing.ts'
import { CCS01, CCS02 } from './chf.ts'
import { Hub, type Uplink } from './hub.ts'

export { ARM, command, DISABLE, READ_SUPPLY } from '../../device/src/testing.ts'
export { backend, PARTIES, T0 }

export const CHF_EUI = '00DB1234567890A2' as Eui64
export const GPF_EUI = '00DB1234567890A3' as Eui64
export const ESME_EUI = '00DB1234567890A0' as Eui64
export const GSME_EUI = '00DB1234567890A1' as Eui64

const root = createRootCa()
export const DEVICE_CA = createDeviceCa(root)
/** A Device CA the hub does not trust. */
export const OTHER_CA = createDeviceCa(createRootCa(), { name: 'X999' })

export const scalarOf = (k: KeyObject): Uint8Array =>
  new Uint8Array(Buffer.from(k.export({ format: 'jwk' }).d!, 'base64url'))

/** A device with its key-agreement Device Certificate (and the private key behind it). */
export function deviceWithCertificate(
  type: 'ESME' | 'GSME' | 'PPMID',
  eui: Eui64,
  o: { ca?: typeof DEVICE_CA; certEui?: Eui64; installCode?: Uint8Array; now?: number } = {},
): { state: DeviceState; certificate: Uint8Array } {
  const ka = issueDeviceCertificate(o.ca ?? DEVICE_CA, { eui: o.certEui ?? eui, usage: 'keyAgreement' })
  const state = createDevice({
    type,
    eui,
    cells: installedCells(),
    now: o.now ?? T0,
    keys: { ka: scalarOf(ka.privateKey) },
    installCode: o.installCode ?? new Uint8Array(16).fill(0x30),
  })
  return { state, certificate: new Uint8Array(ka.certificate.raw) }
}

/** The CHF's cells: the ACB's certificates (a CHF trusts the ACB for CCS01/CCS02). */
export function chfCells(): TrustAnchorCells {
  return {
    accessControlBrokerDs: credentialFromCertificate(PARTIES.acb.ds.certificate),
    accessControlBrokerKa: credentialFromCertificate(PARTIES.acb.ka.certificate),
  }
}

export const CHF_KA = scalarOf(
  issueDeviceCertificate(DEVICE_CA, { eui: CHF_EUI, usage: 'keyAgreement' }).privateKey,
)
export const GPF_KEYS = {
  ds: scalarOf(issueDeviceCertificate(DEVICE_CA, { eui: GPF_EUI, usage: 'digitalSignature' }).privateKey),
  ka: scalarOf(issueDeviceCertificate(DEVICE_CA, { eui: GPF_EUI, usage: 'keyAgreement' }).privateKey),
}

export function testHub(o: { scheduler?: Scheduler; logCapacity?: number } = {}): {
  hub: Hub
  scheduler: Scheduler
  up: Uplink[]
} {
  const scheduler = o.scheduler ?? createScheduler({ start: T0 })
  const up: Uplink[] = []
  const hub = new Hub({
    scheduler,
    chf: { eui: CHF_EUI, ka: CHF_KA, cells: chfCells() },
    gpf: { eui: GPF_EUI, keys: GPF_KEYS },
    deviceCas: [DEVICE_CA.certificate],
    uplink: (u) => up.push(u),
    backend,
    ...(o.logCapacity !== undefined && { logCapacity: o.logCapacity }),
  })
  return { hub, scheduler, up }
}

const NETWORK_CONTROL = { classId: 104, instance: '0.0.30.3.0.255' }

/** A CCS01 Access-Request as the RTDS carries it: register_device, join_timeout, joining enabled. */
export function ccs01Payload(device: Eui64, installCode: Uint8Array, joinTimeout = 90, enable = true): Json {
  return {
    apdu: 'accessRequest',
    invokeId: 536872214,
    specs: [
      { kind: 'action', ...NETWORK_CONTROL, method: 1 },
      { kind: 'set', ...NETWORK_CONTROL, attribute: 3 },
      { kind: 'set', ...NETWORK_CONTROL, attribute: 2 },
    ],
    data: [
      {
        type: 'structure',
        value: [
          { type: 'octetString', value: device },
          { type: 'enum', value: 1 },
          { type: 'octetString', value: Buffer.from(installCode).toString('hex').toUpperCase() },
          { type: 'enum', value: 0 },
        ],
      },
      { type: 'uint16', value: joinTimeout },
      { type: 'boolean', value: enable },
    ],
  } as Json
}

export function ccs02Payload(device: Eui64): Json {
  return {
    apdu: 'accessRequest',
    invokeId: 536872215,
    specs: [{ kind: 'action', ...NETWORK_CONTROL, method: 2 }],
    data: [{ type: 'octetString', value: device }],
  } as Json
}

/** A command to the CHF from `from` (default the ACB), MACed with `macBy`'s key (default the ACB's). */
export function chfCommand(
  messageCode: number,
  structure: Json,
  counter: bigint,
  o: { from?: Eui64; macBy?: KeyObject; to?: Eui64; chfKa?: Uint8Array } = {},
): Uint8Array {
  const s: GeneralSigning = {
    cra: 'command',
    originatorCounter: counter,
    originator: o.from ?? PARTIES.acb.eui,
    recipient: o.to ?? CHF_EUI,
    messageCode,
    supplementary: { remotePartyId: PARTIES.supplierA.eui, remotePartyCounter: counter },
    content: encodePayload({ format: 'dlms', structure }, { messageCode, cra: 'command' }),
    signature: { kind: 'empty' },
  }
  const chfPublic = backend.importPrivateKey(o.chfKa ?? CHF_KA).publicKey
  const key = messageKey(
    s,
    backend.importPrivateKey(o.macBy ?? PARTIES.acb.ka.privateKey),
    chfPublic,
    backend,
  )
  return encodeFrame(applyMac(s, key))
}

export { CCS01, CCS02 }

/**
 * Test support for the GBCS construction tests (not exported): an SMKI test PKI made in memory
 * (root ZA, organisation CA Z1) and the remote parties' credentials — two Suppliers with
 * prepayment top-up keys, a Network Operator, the ACB and the CoS Party.
 */
import type { X509Certificate } from 'node:crypto'
import type { Eui64 } from '@smetsim/core'
import { getBackend, type Json, type PrivateKeyRef } from '@smetsim/gbcs'
import { type Credential, createMemoryPki, type PartyCredentials } from '@smetsim/smki'
import type { AccessControlBroker } from './construct.ts'

export const backend = getBackend('native')
export const T0 = Date.UTC(2026, 0, 5, 12)

const { root, organisationCa: orgCa, parties } = createMemoryPki()

export const ROOT = root
export const ORG_CA = orgCa

export type Party = PartyCredentials

export const PARTIES = parties

export const privateRef = (c: Credential): PrivateKeyRef => backend.importPrivateKey(c.privateKey)

export const ACB: AccessControlBroker = { eui: PARTIES.acb.eui, kaPrivateKeyRef: privateRef(PARTIES.acb.ka) }

export const ESME_EUI = '00DB120000000001' as Eui64
export const GSME_EUI = '00DB120000000002' as Eui64

/** DER of a certificate as upper-case hex, as SR 6.23 carries it. */
export const derHex = (c: X509Certificate): string => c.raw.toString('hex').toUpperCase()

/** SR 6.23 parameters handing the supplier cells to `gaining`, certification path via Z1. */
export function cosParameters(gaining: Party, floor = 500) {
  return {
    supplierDigitalSigningCertificate: derHex(gaining.ds.certificate),
    supplierKeyAgreementCertificate: derHex(gaining.ka.certificate),
    ...(gaining.pp && { supplierPrepaymentTopUpCertificate: derHex(gaining.pp.certificate) }),
    certificationPath: [derHex(orgCa.certificate)],
    supplierFloorSeqNumber: floor,
    supplierPrepaymentTopUpFloorSeqNumber: 0,
  }
}

export interface Case {
  srv: string
  deviceType: 'ESME' | 'GSME'
  parameters: { [name: string]: Json }
  useCase: string
  messageCode: number
}

/** One Service Request per SRV and device type built here (SR 2.2 and 6.23 apart). */
export const CASES: readonly Case[] = [
  { srv: '7.1', deviceType: 'ESME', parameters: {}, useCase: 'ECS42', messageCode: 0x004f },
  { srv: '7.2', deviceType: 'ESME', parameters: {}, useCase: 'ECS43', messageCode: 0x0050 },
  { srv: '7.2', deviceType: 'GSME', parameters: {}, useCase: 'GCS32', messageCode: 0x0081 },
  { srv: '7.3', deviceType: 'ESME', parameters: {}, useCase: 'ECS44', messageCode: 0x0051 },
  { srv: '7.3', deviceType: 'GSME', parameters: {}, useCase: 'GCS39', messageCode: 0x0085 },
  { srv: '7.4', deviceType: 'ESME', parameters: {}, useCase: 'ECS45', messageCode: 0x0052 },
  { srv: '7.4', deviceType: 'GSME', parameters: {}, useCase: 'GCS33', messageCode: 0x0082 },
  {
    srv: '6.8',
    deviceType: 'ESME',
    parameters: { executionTimes: [{ time: '001E0000', date: 'FFFFFFFFFF' }] },
    useCase: 'ECS30',
    messageCode: 0x0046,
  },
  {
    srv: '1.6',
    deviceType: 'ESME',
    parameters: { paymentMode: 'prepayment', disablementThreshold: -250, suspendDebtDisabled: true },
    useCase: 'ECS03',
    messageCode: 0x001b,
  },
  {
    srv: '1.6',
    deviceType: 'ESME',
    parameters: { paymentMode: 'credit' },
    useCase: 'ECS02',
    messageCode: 0x001a,
  },
  {
    srv: '1.6',
    deviceType: 'GSME',
    parameters: {
      paymentMode: 'prepayment',
      disablementThreshold: -500,
      suspendDebtDisabled: false,
      suspendDebtEmergency: true,
    },
    useCase: 'GCS03',
    messageCode: 0x006d,
  },
  {
    srv: '1.6',
    deviceType: 'GSME',
    parameters: { paymentMode: 'credit' },
    useCase: 'GCS02',
    messageCode: 0x006c,
  },
  { srv: '2.5', deviceType: 'ESME', parameters: {}, useCase: 'ECS09', messageCode: 0x0020 },
  { srv: '2.5', deviceType: 'GSME', parameters: {}, useCase: 'GCS06', messageCode: 0x0070 },
  { srv: '4.1.1', deviceType: 'ESME', parameters: {}, useCase: 'ECS17b', messageCode: 0x0027 },
  { srv: '4.1.1', deviceType: 'GSME', parameters: {}, useCase: 'GCS13a', messageCode: 0x0074 },
  { srv: '4.3', deviceType: 'ESME', parameters: {}, useCase: 'ECS19', messageCode: 0x002d },
  { srv: '4.3', deviceType: 'GSME', parameters: {}, useCase: 'GCS14', messageCode: 0x0075 },
  { srv: '6.11', deviceType: 'ESME', parameters: {}, useCase: 'ECS70', messageCode: 0x0062 },
  { srv: '6.11', deviceType: 'GSME', parameters: {}, useCase: 'GCS28', messageCode: 0x007f },
  { srv: '8.1.1', deviceType: 'ESME', parameters: {}, useCase: 'ECS70', messageCode: 0x0062 },
  { srv: '8.1.1', deviceType: 'GSME', parameters: {}, useCase: 'GCS28', messageCode: 0x007f },
]

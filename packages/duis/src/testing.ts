/**
 * Test support (not exported from the package): a DCC over the dcc package's in-memory test PKI
 * with one ESME, XML signing certificates issued for its Users and for the DCC itself (a test PKI
 * from `pki init` has none: see the README), the DUIS interface over it, and a DUIS Request
 * built with the DOM and signed as a User's system would sign it.
 */
import type { X509Certificate } from 'node:crypto'
import type { Eui64 } from '@smetsim/core'
import {
  createDcc,
  createInProcessSigner,
  createMemorySat,
  type Dcc,
  RegistrationData,
  SmartMeteringInventory,
  UserDirectory,
} from '@smetsim/dcc'
import { type Credential, issueOrganisationCertificate, type SmkiRole } from '@smetsim/smki'
import { DOMImplementation, type Document as XmlDomDocument } from '@xmldom/xmldom'
import { ACB, backend, ESME_EUI, ORG_CA, PARTIES, privateRef, T0 } from '../../dcc/src/gbcs/testing.ts'
import { XmlSigningRegister } from './certificates.ts'
import { createDeliveryQueue, type Post } from './delivery.ts'
import { SR_NAMESPACE } from './request.ts'
import { duisEui } from './response.ts'
import { createDuisInterface } from './service.ts'
import { signDuisDocument } from './xmldsig.ts'

export { backend, ESME_EUI, PARTIES, privateRef, T0 }
export const A = PARTIES.supplierA.eui
export const B = PARTIES.supplierB.eui

export const xmlSigning = (eui: Eui64, role: SmkiRole = 'xmlSigning'): Credential =>
  issueOrganisationCertificate(ORG_CA, { eui, role, usage: 'digitalSignature' })

/** XML signing credentials: supplier A's and B's (OU=87) and the DCC's (OU=89, the ACB's EUI). */
export const XML_KEYS = {
  A: xmlSigning(A),
  B: xmlSigning(B),
  dcc: xmlSigning(PARTIES.acb.eui, 'dccXmlSigning'),
}

export interface RequestSpec {
  originator?: string
  target?: string
  counter: bigint | number
  commandVariant: number
  serviceReference: string
  srv: string
  /** The body's element and its children (name, text) in schema order. */
  body: string
  children?: [string, string][]
}

const dom = new DOMImplementation()

/** A DUIS Request document, unsigned. */
export function requestDocument(spec: RequestSpec): XmlDomDocument {
  const doc = dom.createDocument(SR_NAMESPACE, 'sr:Request', null)
  const root = doc.documentElement!
  root.setAttribute('schemaVersion', '5.4')
  const add = (parent: ReturnType<typeof doc.createElementNS>, name: string, value?: string) => {
    const el = doc.createElementNS(SR_NAMESPACE, `sr:${name}`)
    if (value !== undefined) el.appendChild(doc.createTextNode(value))
    parent.appendChild(el)
    return el
  }
  const header = add(root, 'Header')
  const requestId = `${duisEui(spec.originator ?? A)}:${duisEui(spec.target ?? ESME_EUI)}:${spec.counter}`
  add(header, 'RequestID', requestId)
  add(header, 'CommandVariant', String(spec.commandVariant))
  add(header, 'ServiceReference', spec.serviceReference)
  add(header, 'ServiceReferenceVariant', spec.srv)
  const body = add(add(root, 'Body'), spec.body)
  for (const [name, value] of spec.children ?? []) add(body, name, value)
  return doc
}

/** The request signed with `key` (default supplier A's XML signing key), as bytes. */
export async function signedRequest(spec: RequestSpec, key: Credential = XML_KEYS.A): Promise<Uint8Array> {
  return new TextEncoder().encode(await signDuisDocument(requestDocument(spec), key))
}

export const readSupplyStatus = (counter: number | bigint): RequestSpec => ({
  counter,
  commandVariant: 1,
  serviceReference: '7.4',
  srv: '7.4',
  body: 'ReadSupplyStatus',
})
export const armSupply = (counter: number | bigint, commandVariant = 4): RequestSpec => ({
  counter,
  commandVariant,
  serviceReference: '7.3',
  srv: '7.3',
  body: 'ArmSupply',
})

export interface TestEstateOptions {
  /** Answers the DCC's GBCS to the ESME; default: no response (E21). */
  transport?: (bytes: Uint8Array) => Uint8Array | undefined
  post?: Post
  endpoints?: Record<string, string>
  /** In-process signer for supplier A's Critical commands (default none: CV4/CV5). */
  signInProcess?: boolean
  /** The DUIS interface's body limit (default DEFAULT_MAX_XML_BYTES). */
  maxBytes?: number
}

/** Supplier A's ESME, a DCC and its DUIS interface; `sent` counts the GBCS sent to the device. */
export function testEstate(options: TestEstateOptions = {}) {
  let clock = T0
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.registerSupplier('1900000000001', 'AAAA', '2020-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({
    deviceId: ESME_EUI,
    type: 'ESME',
    mpxn: '1900000000001',
    status: 'Commissioned',
    at: '2020-01-02',
  })
  const sat = createMemorySat({ now: () => new Date(clock) })
  const deviceKa = backend.generatePrivateKey()
  const users = new UserDirectory([
    // A User's XML signing certificate is one of its SMKI certificates (access control checks the signer's).
    {
      userId: A,
      name: 'Supplier A',
      roles: ['IS', 'GS'],
      certificates: [XML_KEYS.A.certificate.serialNumber],
    },
    {
      userId: B,
      name: 'Supplier B',
      roles: ['IS', 'GS'],
      certificates: [XML_KEYS.B.certificate.serialNumber],
    },
  ])
  const sent: Uint8Array[] = []
  const dcc: Dcc = createDcc({
    users,
    registration,
    inventory,
    sat,
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: () => deviceKa.publicKey,
    userCertificates: (id) =>
      id === A ? { digitalSigning: new Uint8Array(PARTIES.supplierA.ds.certificate.raw) } : undefined,
    transport: async (_id, bytes) => {
      sent.push(bytes)
      return options.transport?.(bytes)
    },
    now: () => clock,
    ...(options.signInProcess && {
      signers: { [A]: createInProcessSigner(privateRef(PARTIES.supplierA.ds), backend) },
    }),
    backend,
  })
  const signingCertificates = new XmlSigningRegister()
  for (const k of [XML_KEYS.A, XML_KEYS.B]) signingCertificates.add(k.certificate)
  const endpoints = options.endpoints ?? {}
  const delivery = createDeliveryQueue({
    endpointOf: (user) => endpoints[user],
    sat,
    ...(options.post && { post: options.post }),
  })
  const duis = createDuisInterface({
    dcc,
    sat,
    users,
    deviceTypeOf: (id) => inventory.get(id)?.type,
    signingCertificates,
    dccSigningKey: XML_KEYS.dcc,
    dccEui: PARTIES.acb.eui,
    delivery,
    now: () => clock,
    ...(options.maxBytes !== undefined && { maxBytes: options.maxBytes }),
  })
  return {
    dcc,
    duis,
    sat,
    signingCertificates,
    delivery,
    sent,
    inventory,
    advance: (ms: number) => {
      clock += ms
      return clock
    },
    now: () => clock,
  }
}

/** The DCC's XML signing certificate, to check its responses with. */
export const dccCertificate: X509Certificate = XML_KEYS.dcc.certificate

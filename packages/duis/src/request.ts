/**
 * A DUIS Request (already XSD-valid) as the DCC's pipeline takes it: the header (RequestID,
 * Command Variant, Service Reference and Variant), and the body turned into the pipeline's
 * parameters for the SRVs it builds (DUIS element names in lower camel case, as
 * @smetsim/dcc's `DuisRequest.parameters`). A Signed Pre-Command body carries the GBCS bytes the
 * User signed (DUIS CV5).
 *
 * DUIS carries no User Role and no device type: the DCC knows both (the User's registration and
 * the Smart Metering Inventory), so they are inputs here (`roleFor`, `deviceType`).
 */
import { SCHEDULE_SRVS } from '@smetsim/dcc'
import type { Json } from '@smetsim/gbcs'
import type { Document as XmlDomDocument, Element as XmlDomElement } from '@xmldom/xmldom'
import { scheduledParametersOf } from './schedules.ts'

export const SR_NAMESPACE = 'http://www.dccinterface.co.uk/ServiceUserGateway'

/** The three DUIS web services at DCC Boxed's paths. */
export type DuisService = 'S' | 'T' | 'D'
export const SERVICE_PATHS: Readonly<Record<DuisService, string>> = {
  S: '/api/v1/serviceS',
  T: '/api/v1/serviceT',
  D: '/api/v1/serviceD',
}
export const SERVICE_NAMES: Readonly<Record<DuisService, string>> = {
  S: 'Send Command Service',
  T: 'Transform Service',
  D: 'Non-Device Service',
}

/**
 * The web service each DUIS Command Variant is sent to (DUIS Command Variant table, as the
 * DCC's duis-parser `cv.ts` lists it): 1, 3, 5, 7 Send Command; 4 Transform; 2, 6, 8 Non-Device.
 */
export const SERVICE_OF_COMMAND_VARIANT: Readonly<Record<number, DuisService>> = {
  1: 'S',
  2: 'D',
  3: 'S',
  4: 'T',
  5: 'S',
  6: 'D',
  7: 'S',
  8: 'D',
}

/** Command Variants for local delivery (a copy of the command returned to the User): 2, 3, 6, 7. */
export const LOCAL_DELIVERY_VARIANTS: readonly number[] = [2, 3, 6, 7]

export interface DuisRequestXml {
  /** The RequestID as written (DUIS form: dashed EUIs). */
  requestId: string
  originator: string
  target: string
  counter: bigint
  commandVariant: number
  serviceReference: string
  srv: string
  /** The body's one element (its local name, e.g. 'ArmSupply', 'SignedPreCommand'). */
  bodyName: string
  body: XmlDomElement
}

const elements = (el: XmlDomElement): XmlDomElement[] =>
  Array.from(el.childNodes).filter((n) => n.nodeType === 1) as XmlDomElement[]
const child = (el: XmlDomElement | undefined, name: string): XmlDomElement | undefined =>
  el && elements(el).find((e) => e.localName === name && e.namespaceURI === SR_NAMESPACE)
const text = (el: XmlDomElement | undefined): string | undefined => el?.textContent?.trim()

/**
 * The RequestID of a document that names one, whether or not it is valid or signed (for the
 * SAT record of a refusal); undefined when there is none.
 */
export function claimedRequestId(doc: XmlDomDocument): string | undefined {
  const root = doc.documentElement
  if (!root) return undefined
  const id = text(child(child(root as unknown as XmlDomElement, 'Header'), 'RequestID'))
  return id && id.length <= 80 ? id : undefined
}

/**
 * The ServiceReference and Variant a document claims, when both are values the DUIS schema
 * has (a DUIS Response can only be formed with them); undefined otherwise.
 */
export function claimedServiceReference(
  doc: XmlDomDocument,
  known: { references: ReadonlySet<string>; variants: ReadonlySet<string> },
): { serviceReference: string; srv: string } | undefined {
  const root = doc.documentElement as unknown as XmlDomElement | null
  const header = root ? child(root, 'Header') : undefined
  const serviceReference = text(child(header, 'ServiceReference'))
  const srv = text(child(header, 'ServiceReferenceVariant'))
  if (!serviceReference || !srv || !known.references.has(serviceReference) || !known.variants.has(srv))
    return undefined
  return { serviceReference, srv }
}

/** Reads the header and body of an XSD-valid DUIS Request; undefined when the root is not a Request. */
export function readRequest(doc: XmlDomDocument): DuisRequestXml | undefined {
  const root = doc.documentElement as unknown as XmlDomElement | null
  if (root?.localName !== 'Request' || root.namespaceURI !== SR_NAMESPACE) return undefined
  const header = child(root, 'Header')
  const bodyParent = child(root, 'Body')
  const body = bodyParent && elements(bodyParent)[0]
  const requestId = text(child(header, 'RequestID'))
  const cv = Number(text(child(header, 'CommandVariant')))
  const serviceReference = text(child(header, 'ServiceReference'))
  const srv = text(child(header, 'ServiceReferenceVariant'))
  if (!requestId || !body || !serviceReference || !srv || !Number.isInteger(cv)) return undefined
  const [originator, target, counter] = requestId.split(':') as [string, string, string]
  return {
    requestId,
    originator,
    target,
    counter: BigInt(counter),
    commandVariant: cv,
    serviceReference,
    srv,
    bodyName: body.localName ?? '',
    body,
  }
}

/** The GBCS bytes of a Signed Pre-Command body (DUIS CV5), or undefined for any other body. */
export function signedPreCommandOf(request: DuisRequestXml): Uint8Array | undefined {
  if (request.bodyName !== 'SignedPreCommand') return undefined
  const payload = text(child(request.body, 'GBCSPayload'))
  return payload === undefined ? undefined : new Uint8Array(Buffer.from(payload, 'base64'))
}

/** xs:boolean. */
const bool = (v: string | undefined) => (v === undefined ? undefined : v === 'true' || v === '1')
const int = (v: string | undefined) => (v === undefined ? undefined : Number(v))
const derHex = (v: string | undefined) =>
  v === undefined ? undefined : Buffer.from(v, 'base64').toString('hex').toUpperCase()

type Params = { [name: string]: Json }
const defined = (o: { [name: string]: Json | undefined }): Params =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Params

/**
 * The body as the pipeline's parameters, for the SRVs whose GBCS the DCC builds. The bodies of
 * 2.5, 4.1.1, 4.3 and 7.1–7.4 carry nothing the commands use; 6.11's and 8.1.1's CurrentDateTime
 * and TolerancePeriod are not used either (the DCC's clock sets the validity interval). 5.1–5.3
 * get their schedule elements. Other SRVs get no parameters (the pipeline answers them as it does over JSON).
 */
export function parametersOf(request: DuisRequestXml): Params {
  const b = request.body
  const executionDateTime = text(child(b, 'ExecutionDateTime'))
  switch (request.srv) {
    case '1.6': {
      const prepayment = child(b, 'Prepayment')
      return defined({
        paymentMode: prepayment ? 'prepayment' : 'credit',
        suspendDebtDisabled: bool(text(child(prepayment, 'SuspendDebtDisabled'))),
        suspendDebtEmergency: bool(text(child(prepayment, 'SuspendDebtEmergency'))),
        disablementThreshold: int(text(child(prepayment, 'DisablementThreshold'))),
        executionDateTime,
      })
    }
    case '2.2':
      return defined({ utrn: text(child(b, 'UTRN')) })
    case '6.23': {
      const certs = child(b, 'SupplierReplacementCertificates')
      const path = child(b, 'CertificationPathCertificates')
      return defined({
        supplierFloorSeqNumber: int(text(child(b, 'SupplierFloorSeqNumber'))),
        supplierPrepaymentTopUpFloorSeqNumber: int(text(child(b, 'SupplierPrepaymentTopUpFloorSeqNumber'))),
        supplierDigitalSigningCertificate: derHex(text(child(certs, 'DigitalSigningCertificate'))),
        supplierKeyAgreementCertificate: derHex(text(child(certs, 'KeyAgreementCertificate'))),
        supplierPrepaymentTopUpCertificate: derHex(text(child(certs, 'KeyAgreementTopUpCertificate'))),
        certificationPath: path ? elements(path).map((c) => derHex(text(c)) ?? '') : undefined,
        applyTimeBasedCPVChecks: bool(text(child(b, 'ApplyTimeBasedCPVChecks'))),
        executionDateTime,
      })
    }
    case '5.1':
      // DUIS CreateSchedule's elements, as the pipeline reads them (lower camel case). The
      // scheduled SRV's own element (e.g. DSPReadActivePowerImport, an empty DSPReadData) carries
      // nothing for the SRVs the DCC builds.
      return defined({
        scheduleFrequency: text(child(b, 'ScheduleFrequency')),
        scheduleStartDate: text(child(b, 'ScheduleStartDate')),
        scheduleEndDate: text(child(b, 'ScheduleEndDate')),
        scheduleExecutionStartTime: text(child(b, 'ScheduleExecutionStartTime')),
        dspScheduledServiceReference: text(child(b, 'DSPScheduledServiceReference')),
        dspScheduledServiceReferenceVariant: text(child(b, 'DSPScheduledServiceReferenceVariant')),
        parameters: scheduledParametersOf(b, text(child(b, 'DSPScheduledServiceReferenceVariant'))),
      })
    case '8.11': {
      // UpdateHANDeviceLog (DUIS XSD): the device to add to (or remove from) the CHF's Device
      // Log, and for Add its install code; JoinTimePeriod and the MPxNs are not used by the DCC.
      const add = child(b, 'AddDeviceToCHFWhitelist')
      const type = text(child(b, 'RequestType'))
      return defined({
        action: type === 'Add' ? 'add' : type === 'Remove' ? 'remove' : type,
        deviceId: text(child(b, 'DeviceID')),
        installCode: text(child(add, 'InstallCode')),
        executionDateTime,
      })
    }
    case '5.2':
    case '5.3':
      // ReadSchedule / DeleteSchedule: a DSPScheduleID (or a DeviceID: then none, all of the device's).
      return defined({ dspScheduleId: int(text(child(b, 'DSPScheduleID'))) })
    default:
      return defined({ executionDateTime })
  }
}

/**
 * The device a Non-Device SR 5.1–5.3 names in its body: DUIS XSD `DSPSchedule` (CreateSchedule)
 * `DeviceID`, or the `DeviceID` of ReadSchedule / DeleteSchedule's choice. Undefined for other SRVs.
 */
export function scheduleDeviceIdOf(request: DuisRequestXml): string | undefined {
  if (!SCHEDULE_SRVS.includes(request.srv)) return undefined
  return text(child(request.body, 'DeviceID'))
}

/**
 * The User Role a request is sent in. DUIS names no role: a User ID belongs to a User in its
 * roles, and which role applies follows from the device (an electricity meter's supplier is the
 * Import Supplier, a gas meter's the Gas Supplier; a network operator is ED or GT the same way).
 * Modelling choice (unconfirmed): the first of the User's roles in the order listed for the
 * device type, else the User's first role (access control then answers E1/E2 as it would).
 */
const ROLE_ORDER: Readonly<Record<string, readonly string[]>> = {
  ESME: ['IS', 'ED', 'ES', 'RSA', 'SoLRC', 'OU'],
  GSME: ['GS', 'GT', 'RSA', 'SoLRC', 'OU'],
  GPF: ['GS', 'GT', 'RSA', 'OU'],
}
export function roleFor(userRoles: readonly string[], deviceType: string | undefined): string {
  const order = ROLE_ORDER[deviceType ?? ''] ?? ['IS', 'GS', 'ED', 'GT', 'ES', 'RSA', 'SoLRC', 'OU']
  return order.find((r) => userRoles.includes(r)) ?? userRoles[0] ?? 'OU'
}

/**
 * DUIS Response documents, built with the DOM (@xmldom/xmldom) and signed by the caller: the
 * synchronous answers (acknowledgement I99, a Pre-Command, a refusal) and the asynchronous
 * messages delivered to a User (a device's response, a device alert, a DCC alert), in the shape
 * of the DUIS 5.4 schema's `sr:Response`.
 */
import {
  DOMImplementation,
  type Document as XmlDomDocument,
  type Element as XmlDomElement,
} from '@xmldom/xmldom'
import { SR_NAMESPACE } from './request.ts'

/** schemaVersion written on every Response (the schema this package validates against). */
export const SCHEMA_VERSION = '5.4'
/**
 * GBCSVersion written in a Pre-Command: the GBCS version the DUIS 5.4 schema is aligned with
 * (unconfirmed which value DCC Systems write there).
 */
export const GBCS_VERSION = '4.3'

export interface ResponseHeader {
  /** The request's RequestID (DUIS form); absent for alerts and for messages that named none. */
  requestId?: string
  /** `device:user:counter` for a device's response or alert (DUIS form). */
  responseId?: string
  code: string
  /** ISO 8601. */
  at: string
}

/** An element and its text, or its child elements in schema order. */
export type XmlNode = [name: string, content: string | XmlNode[]]

export type ResponseBody =
  | {
      kind: 'message'
      serviceReference: string
      srv: string
      gbcsPayload?: Uint8Array
      preCommand?: Uint8Array
      dspScheduleId?: string
      /** SR 5.2: the DSPSchedules of a DSPSchedulesRead (schedules.ts). */
      schedulesRead?: XmlNode[]
    }
  | { kind: 'deviceAlert'; alertCode: string; gbcsPayload: Uint8Array }
  | {
      kind: 'dccAlert'
      dccAlertCode: string
      /** The DCCAlert choice's element and its children, in schema order. */
      alert: { name: string; children: [string, string][] }
    }

const dom = new DOMImplementation()
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** A DUIS Response document, not yet signed. */
export function buildResponse(header: ResponseHeader, body: ResponseBody): XmlDomDocument {
  const doc = dom.createDocument(SR_NAMESPACE, 'sr:Response', null)
  const root = doc.documentElement!
  root.setAttribute('schemaVersion', SCHEMA_VERSION)
  const add = (parent: XmlDomElement, name: string, value?: string): XmlDomElement => {
    const el = doc.createElementNS(SR_NAMESPACE, `sr:${name}`)
    if (value !== undefined) el.appendChild(doc.createTextNode(value))
    parent.appendChild(el)
    return el
  }
  const addNodes = (parent: XmlDomElement, nodes: readonly XmlNode[]): void => {
    for (const [name, content] of nodes)
      if (typeof content === 'string') add(parent, name, content)
      else addNodes(add(parent, name), content)
  }
  const h = add(root, 'Header')
  if (header.requestId !== undefined) add(h, 'RequestID', header.requestId)
  if (header.responseId !== undefined) add(h, 'ResponseID', header.responseId)
  add(h, 'ResponseCode', header.code)
  add(h, 'ResponseDateTime', header.at)
  const b = add(root, 'Body')
  switch (body.kind) {
    case 'message': {
      const m = add(b, 'ResponseMessage')
      add(m, 'ServiceReference', body.serviceReference)
      add(m, 'ServiceReferenceVariant', body.srv)
      if (body.preCommand) {
        const p = add(m, 'PreCommand')
        add(p, 'GBCSVersion', GBCS_VERSION)
        add(p, 'GBCSPayload', b64(body.preCommand))
      } else if (body.gbcsPayload) add(m, 'GBCSPayload', b64(body.gbcsPayload))
      else if (body.dspScheduleId !== undefined) add(m, 'DSPScheduleID', body.dspScheduleId)
      else if (body.schedulesRead?.length) addNodes(add(m, 'DSPSchedulesRead'), body.schedulesRead)
      break
    }
    case 'deviceAlert': {
      const a = add(b, 'DeviceAlertMessage')
      add(a, 'AlertCode', body.alertCode)
      add(a, 'GBCSPayload', b64(body.gbcsPayload))
      break
    }
    case 'dccAlert': {
      const a = add(b, 'DCCAlertMessage')
      add(a, 'DCCAlertCode', body.dccAlertCode)
      const alert = add(add(a, 'DCCAlert'), body.alert.name)
      for (const [name, value] of body.alert.children) add(alert, name, value)
      break
    }
  }
  return doc
}

/** The Service Reference of an SRV: its first two parts ('4.1.1' → '4.1', '7.3' → '7.3'). */
export function serviceReferenceOf(srv: string): string {
  return srv.split('.').slice(0, 2).join('.')
}

/** An EUI-64 in DUIS form: upper-case hex pairs joined by dashes. */
export function duisEui(eui: string): string {
  const hex = eui.replace(/[^0-9A-Fa-f]/g, '').toUpperCase()
  return hex.match(/../g)?.join('-') ?? hex
}

/**
 * The DUIS XML interface of the DCC, as DCC Boxed offers it: a signed DUIS Request POSTed to one
 * of the three web services is read (size, no DOCTYPE, well-formed, XSD-valid), its XML signature
 * verified against the sending User's certificate, checked for a replayed RequestID, and then
 * handed to the same Service Request pipeline as the JSON API (`Dcc.submit`, or `submitSigned`
 * for a Signed Pre-Command) with the authenticated User as `caller`. The answer is a signed DUIS
 * Response:
 *
 * | request | synchronous answer | asynchronous, to the User's endpoint |
 * | --- | --- | --- |
 * | device SRV, CV1 (Send Command Service) | I99 once the pipeline has it, or its refusal | the device's response (I0 with GBCSPayload), or E20/E21 |
 * | Critical SRV, CV4 (Transform Service) | I0 with the PreCommand, or a refusal | — |
 * | Signed Pre-Command, CV5 (Send Command Service) | I99, or a refusal | as CV1 |
 * | Non-Device SRV, CV8 (Non-Device Service) | the pipeline's answer | — |
 *
 * Device alerts and DCC Alerts the pipeline delivers to a User are sent the same asynchronous
 * way (`collectAlerts`). A message refused before the pipeline gets one SAT `decision` record
 * here (the pipeline records everything after); see `refuse`.
 *
 * Pure orchestration: the DCC, the SAT, the registers and the clock come in through the config;
 * nothing here throws on bad input.
 */
import { createHash } from 'node:crypto'
import { type Eui64, isEui, parseEui } from '@smetsim/core'
import type { Dcc, DccAlert, DeliveredAlert, DuisRequest, DuisResult, ServiceAuditTrail } from '@smetsim/dcc'
import type { Document as XmlDomDocument } from '@xmldom/xmldom'
import type { XmlSigningRegister } from './certificates.ts'
import {
  duisResponseCode,
  REFUSAL_CODES,
  type RefusalStep,
  SERVICE_REFERENCE_VARIANTS,
  SERVICE_REFERENCES,
} from './codes.ts'
import type { DeliveryQueue } from './delivery.ts'
import {
  claimedRequestId,
  claimedServiceReference,
  type DuisRequestXml,
  type DuisService,
  LOCAL_DELIVERY_VARIANTS,
  parametersOf,
  readRequest,
  roleFor,
  SERVICE_NAMES,
  SERVICE_OF_COMMAND_VARIANT,
  scheduleDeviceIdOf,
  signedPreCommandOf,
} from './request.ts'
import { buildResponse, duisEui, type ResponseBody, type ResponseHeader } from './response.ts'
import { dspSchedulesRead } from './schedules.ts'
import { readDuisXml } from './xml.ts'
import { signDuisDocument, verifyDuisSignature, type XmlSigningKey } from './xmldsig.ts'

export interface DuisServiceConfig {
  dcc: Dcc
  sat: ServiceAuditTrail
  /** The User register (the dcc's UserDirectory fits): roles, and the list of Users for alerts. */
  users: {
    get(userId: string): { userId: Eui64; roles: readonly string[] } | undefined
    all(): { userId: Eui64 }[]
  }
  /** The device type the Smart Metering Inventory holds for a device. */
  deviceTypeOf(deviceId: Eui64): string | undefined
  /** The certificates whose XML signatures the DCC accepts, and whose they are. */
  signingCertificates: XmlSigningRegister
  /** The DCC's own XML signing key, for every Response it sends. */
  dccSigningKey: XmlSigningKey
  /** The DCC's EUI-64: the SAT `user` of a refused message nobody can be named for. */
  dccEui: Eui64
  /** Asynchronous delivery; without it, nothing asynchronous is sent. */
  delivery?: DeliveryQueue
  /** DCC time, epoch ms. */
  now(): number
  /** Largest body read (default DEFAULT_MAX_XML_BYTES). */
  maxBytes?: number
  /** (originator, target) pairs whose last counter is remembered for the replay check (default 100 000). */
  replayMemory?: number
}

export interface DuisAnswer {
  /**
   * HTTP status: 200 for every DUIS answer, refusals included; 400 for a message from which no
   * Service Reference can be read (not XML, a DOCTYPE, too large …), which no DUIS Response can
   * answer: then `xml` is empty and `reason` says why.
   */
  status: number
  /** The signed DUIS Response. */
  xml: string
  reason?: string
  /** The DUIS response code it carries. */
  code: string
}

/** Who the transport authenticated: the User a TLS client certificate names (none: the auditor). */
export interface TransportCaller {
  user?: Eui64
}

export interface DuisInterface {
  /**
   * Takes the body POSTed to a web service; never rejects. `caller` is who the transport
   * authenticated, when it did (mutual TLS: `user` for a DCC User's certificate, none for the
   * auditor's): the XML signer must be that User, else the message is refused (E1) and recorded.
   */
  handle(service: DuisService, body: Uint8Array, caller?: TransportCaller): Promise<DuisAnswer>
  /** Queues the device alerts and DCC Alerts the pipeline delivered since the last call, for each User. */
  collectAlerts(): Promise<number>
  /**
   * Records a message the HTTP layer refused before reading its body (over the body limit, not
   * an XML media type): the SAT `decision` record `handle` would make, with the length the
   * client declared and no digest (the body was never held). Throws only if the SAT does.
   */
  refuseUnread(
    service: DuisService,
    step: 'too-large' | 'not-xml',
    reason: string,
    bytes?: number,
  ): DuisAnswer
}

/** The Response codes after which the device was reached: answered I99 at once, the outcome later. */
const AFTER_ACKNOWLEDGEMENT = new Set(['I0', 'E20', 'E21', 'E30'])
const REQUEST_ID_FORM = /^(?:[0-9A-Fa-f]{2}-){7}[0-9A-Fa-f]{2}:(?:[0-9A-Fa-f]{2}-){7}[0-9A-Fa-f]{2}:\d{1,20}$/

export function createDuisInterface(config: DuisServiceConfig): DuisInterface {
  const { dcc, sat } = config
  const iso = () => new Date(config.now()).toISOString()
  const replayMemory = config.replayMemory ?? 100_000
  /** Highest counter accepted per `originator:target` (insertion order = least recently used first). */
  const lastCounter = new Map<string, bigint>()
  const alertCursor = new Map<Eui64, { alerts: number; dccAlerts: number }>()

  const sign = (doc: XmlDomDocument) => signDuisDocument(doc, config.dccSigningKey)
  const respond = async (header: ResponseHeader, body: ResponseBody): Promise<string> =>
    sign(buildResponse(header, body))

  /**
   * A message refused before the pipeline: one SAT `decision` record (bounded: the reason is
   * clipped, the body is kept only as its length and SHA-256) and a signed refusal. The record is
   * under the RequestID and originator the message claims when it names a readable one (marked
   * `authenticated: false`); otherwise under the DCC's own EUI with RequestID `DCC:DCC:0`, a
   * form no User sends (the SAT needs a RequestID and a User for a decision).
   */
  /** The SAT `decision` record of a refusal before the pipeline; `body` undefined when never read. */
  function recordRefusal(
    step: RefusalStep,
    reason: string,
    body: Uint8Array | { declaredBytes?: number },
    readable: string | undefined,
    service: DuisService,
    authenticated: boolean,
  ): void {
    const [originator, target] = readable?.split(':') ?? []
    const dcc = duisEui(config.dccEui)
    sat.append({
      kind: 'decision',
      requestId: readable ?? `${dcc}:${dcc}:0`,
      user: originator ?? config.dccEui,
      ...(target !== undefined && { device: target }),
      code: REFUSAL_CODES[step],
      detail: {
        step: `duis-${step}`,
        reason: reason.slice(0, 300),
        service: SERVICE_NAMES[service],
        authenticated,
        ...(readable === undefined && { unattributable: true }),
        ...(body instanceof Uint8Array
          ? { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') }
          : body.declaredBytes !== undefined && { bytes: body.declaredBytes, unread: true }),
        unconfirmed: 'the DUIS response code for this refusal',
      },
    })
  }

  async function refuse(
    step: RefusalStep,
    reason: string,
    body: Uint8Array,
    doc: XmlDomDocument | undefined,
    service: DuisService,
    authenticated = false,
  ): Promise<DuisAnswer> {
    const code = REFUSAL_CODES[step]
    const claimed = doc ? claimedRequestId(doc) : undefined
    const readable = claimed !== undefined && REQUEST_ID_FORM.test(claimed) ? claimed : undefined
    recordRefusal(step, reason, body, readable, service, authenticated)
    // A DUIS Response names the Service Reference: without a readable one there is none to send.
    const reference = doc
      ? claimedServiceReference(doc, { references: SERVICE_REFERENCES, variants: SERVICE_REFERENCE_VARIANTS })
      : undefined
    if (!reference) return { status: 400, xml: '', code, reason: reason.slice(0, 300) }
    const xml = await respond(
      { ...(readable !== undefined && { requestId: readable }), code, at: iso() },
      { kind: 'message', ...reference },
    )
    return { status: 200, xml, code }
  }

  /** Remembers the counter; false when it does not exceed the last one accepted for the pair. */
  function fresh(request: DuisRequestXml): boolean {
    const key = `${parseEui(request.originator)}:${parseEui(request.target)}`
    const last = lastCounter.get(key)
    if (last !== undefined && request.counter <= last) return false
    lastCounter.delete(key)
    lastCounter.set(key, request.counter)
    if (lastCounter.size > replayMemory) lastCounter.delete(lastCounter.keys().next().value!)
    return true
  }

  async function handle(
    service: DuisService,
    body: Uint8Array,
    caller?: TransportCaller,
  ): Promise<DuisAnswer> {
    const read = readDuisXml(body, config.maxBytes !== undefined ? { maxBytes: config.maxBytes } : {})
    if (!read.ok) return refuse(read.error.kind, read.error.reason, body, read.error.document, service)
    const { document } = read.value
    const request = readRequest(document)
    if (!request) return refuse('not-a-request', 'the message is not a DUIS Request', body, document, service)

    // Who sent it: the User whose certificate the XML signature verifies with (DUIS: every
    // request is signed by its sender).
    const verified = await verifyDuisSignature(document, config.signingCertificates.lookup)
    if (!verified.ok) {
      const step: RefusalStep = verified.error.startsWith('the message is not signed')
        ? 'unsigned'
        : verified.error.startsWith('no XML signing certificate')
          ? 'unknown-signer'
          : 'bad-signature'
      return refuse(step, verified.error, body, document, service)
    }
    const signer = config.signingCertificates.find(verified.value.serial)?.eui
    const user = signer && config.users.get(signer)
    if (!user)
      return refuse('signer-not-a-user', `${signer} is not a DCC User`, body, document, service, true)
    // Both must name one sender: the DCC User Interface authenticates the connection (TLS) and
    // every message (its signature); a connection of one User carrying another's signed request
    // is not that User acting (the JSON API's rule C1, CALLER_MISMATCH_CODE in packages/dcc).
    if (caller && caller.user !== signer)
      return refuse(
        'caller-not-signer',
        `the TLS client certificate names ${caller.user ?? 'the auditor'}, the XML signature ${signer}`,
        body,
        document,
        service,
        true,
      )

    // DUIS: each Command Variant has its web service; a request at the wrong one is E13.
    const expected = SERVICE_OF_COMMAND_VARIANT[request.commandVariant]
    if (expected !== service)
      return refuse(
        'wrong-service',
        `Command Variant ${request.commandVariant} is for the ${expected ? SERVICE_NAMES[expected] : 'no'} service, not the ${SERVICE_NAMES[service]}`,
        body,
        document,
        service,
        true,
      )
    if (LOCAL_DELIVERY_VARIANTS.includes(request.commandVariant))
      return refuse(
        'local-delivery',
        `Command Variant ${request.commandVariant} (local delivery) is not modelled`,
        body,
        document,
        service,
        true,
      )
    const signedPreCommand = signedPreCommandOf(request)
    // A Signed Pre-Command repeats the RequestID of its CV4 request; the pipeline uses it once.
    if (!signedPreCommand && !fresh(request))
      return refuse(
        'replayed',
        `RequestID ${request.requestId}: the counter does not exceed the last one accepted from ${request.originator} for ${request.target}`,
        body,
        document,
        service,
        true,
      )

    let result: DuisResult
    if (signedPreCommand) result = await dcc.submitSigned(request.requestId, signedPreCommand)
    else {
      const euiOf = (text: string) =>
        isEui(text.replace(/-/g, '').toUpperCase()) ? parseEui(text) : undefined
      const addressed = euiOf(request.target)
      // SR 5.1–5.3 address the DCC; the device is the body's DeviceID (DUIS XSD DSPSchedule).
      const named = addressed === config.dccEui ? scheduleDeviceIdOf(request) : undefined
      const target = named === undefined ? addressed : euiOf(named)
      const deviceType = target ? config.deviceTypeOf(target) : undefined
      const parameters = parametersOf(request)
      const originator = parseEui(request.originator)
      const submitted: DuisRequest & { caller: Eui64 } = {
        requestId: request.requestId,
        ...(signer !== originator && { sender: signer }),
        caller: signer,
        role: roleFor(user.roles, deviceType),
        srv: request.srv,
        commandVariant: request.commandVariant,
        deviceType: deviceType ?? 'unknown',
        parameters,
        ...(named !== undefined && { deviceId: named }),
        signerCertificate: verified.value.certificate.serialNumber,
        ...(typeof parameters.executionDateTime === 'string' && {
          executionDateTime: parameters.executionDateTime,
        }),
      }
      result = await dcc.submit(submitted)
    }
    return answer(service, request, result)
  }

  async function answer(
    service: DuisService,
    request: DuisRequestXml,
    result: DuisResult,
  ): Promise<DuisAnswer> {
    const code = duisResponseCode(result.code)
    const at = iso()
    const message = (extra: Partial<Extract<ResponseBody, { kind: 'message' }>> = {}): ResponseBody => ({
      kind: 'message',
      serviceReference: request.serviceReference,
      srv: request.srv,
      ...extra,
    })
    const requestId = request.requestId
    // CV4: the Pre-Command comes back at once, as DCC Boxed's Transform Service answers it.
    if (service === 'T' && result.preCommand) {
      const xml = await respond({ requestId, code: 'I0', at }, message({ preCommand: result.preCommand }))
      return { status: 200, xml, code: 'I0' }
    }
    if (service === 'S' && AFTER_ACKNOWLEDGEMENT.has(code)) {
      // Past access control: acknowledged now, the device's outcome sent to the User's endpoint.
      if (config.delivery) {
        const responseId = `${request.target}:${request.originator}:${request.counter}`
        const xml = await respond(
          { requestId, responseId, code, at },
          message(result.responseBytes ? { gbcsPayload: result.responseBytes } : {}),
        )
        const user = parseEui(request.originator)
        config.delivery.enqueue(
          { user, kind: 'response', xml, requestId, device: parseEui(request.target), code },
          config.now(),
        )
      }
      const xml = await respond({ requestId, code: 'I99', at }, message())
      return { status: 200, xml, code: 'I99' }
    }
    // SR 5.2: the schedules read (none: no DSPSchedulesRead, which needs at least one).
    const read = result.schedules && dspSchedulesRead(result.schedules)
    const xml = await respond(
      { requestId, code, at },
      message(
        read
          ? { schedulesRead: read.nodes }
          : result.schedule
            ? { dspScheduleId: dspScheduleIdOf(result.schedule.scheduleId) }
            : {},
      ),
    )
    return { status: 200, xml, code }
  }

  async function deviceAlertXml(a: DeliveredAlert): Promise<string> {
    return respond(
      {
        responseId: `${duisEui(a.device)}:${duisEui(a.recipient)}:${a.frame.originatorCounter}`,
        code: 'I0',
        at: a.receivedAt,
      },
      { kind: 'deviceAlert', alertCode: a.alertCode, gbcsPayload: a.bytes },
    )
  }

  /**
   * A DCC Alert as DUIS carries it, for the types whose schema content the pipeline's alert
   * has (a RequestID); undefined for the others (QuarantinedRequest and SecurityCredentialsUpdated
   * need fields the pipeline's alerts do not carry: not sent, see the README).
   */
  async function dccAlertXml(a: DccAlert): Promise<string | undefined> {
    const requestId = a.requestId && duisRequestId(a.requestId)
    const children: Partial<Record<string, [string, string][]>> = {
      ChangeOfSupplier: requestId ? [['ChangeOfSupplierServiceRequestID', requestId]] : undefined,
      UpdateHANDeviceLogResult: requestId ? [['UpdateHANDeviceLogServiceRequestID', requestId]] : undefined,
    }
    const content = children[a.type]
    // No DCCAlertCode known for the alert: nothing valid to send (DCCAlertCode is mandatory).
    if (!content || !a.code) return undefined
    return respond(
      { code: 'I0', at: a.at },
      { kind: 'dccAlert', dccAlertCode: a.code, alert: { name: a.type, children: content } },
    )
  }

  async function collectAlerts(): Promise<number> {
    const { delivery } = config
    if (!delivery) return 0
    let queued = 0
    for (const { userId } of config.users.all()) {
      const cursor = alertCursor.get(userId) ?? { alerts: 0, dccAlerts: 0 }
      const alerts = dcc.alertsFor(userId)
      const dccAlerts = dcc.dccAlertsFor(userId)
      for (const a of alerts.slice(cursor.alerts)) {
        delivery.enqueue(
          { user: userId, kind: 'alert', xml: await deviceAlertXml(a), device: a.device, code: a.alertCode },
          config.now(),
        )
        queued++
      }
      for (const a of dccAlerts.slice(cursor.dccAlerts)) {
        const xml = await dccAlertXml(a)
        if (!xml) continue
        delivery.enqueue(
          {
            user: userId,
            kind: 'dccAlert',
            xml,
            ...(a.requestId && { requestId: a.requestId }),
            ...(a.device && { device: a.device }),
            code: a.code,
          },
          config.now(),
        )
        queued++
      }
      alertCursor.set(userId, { alerts: alerts.length, dccAlerts: dccAlerts.length })
    }
    return queued
  }

  return {
    async handle(service, body, caller) {
      try {
        return await handle(service, body, caller)
      } catch (e) {
        // A defect, not bad input: still a DUIS answer, and the SAT says what happened.
        return refuse('internal-error', `internal error: ${(e as Error).message}`, body, undefined, service)
      }
    },
    collectAlerts,
    refuseUnread(service, step, reason, bytes) {
      const declared = bytes !== undefined && Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined
      recordRefusal(
        step,
        reason,
        declared === undefined ? {} : { declaredBytes: declared },
        undefined,
        service,
        false,
      )
      return { status: 400, xml: '', code: REFUSAL_CODES[step], reason: reason.slice(0, 300) }
    },
  }
}

/** DUIS's DSPScheduleID (an xs:nonNegativeInteger) of the pipeline's schedule id ('DS000001' → '1'). */
function dspScheduleIdOf(scheduleId: string): string {
  return String(Number.parseInt(scheduleId.replace(/^DS/, ''), 10))
}

/** A RequestID in DUIS form (dashed EUIs), from the SAT's normal form. */
function duisRequestId(id: string): string {
  const [o, t, c] = id.split(':') as [string, string, string]
  return `${duisEui(o)}:${duisEui(t)}:${c}`
}

/**
 * The DCC's in-process Service Request pipeline: a DUIS Service Request from a User goes
 * through access control, is built into GBCS, signed by the User when Critical, MACed by the
 * Access Control Broker, delivered to the device, and the device's response comes back as the
 * DUIS response; device alerts are routed to the User whose certificate the device used. Every
 * step leaves Service Audit Trail records.
 *
 * Pure orchestration: every I/O goes through the functions in `DccConfig` (the transport to the
 * device or its Communications Hub, the SMKI repository look-ups, the clock). The DCC and the
 * devices meet only as bytes: this module never imports @smetsim/device.
 *
 * `submit(request)`, in order:
 *  1. SAT `request` record (when the DUIS RequestID can be read at all);
 *  2. access control (`checkServiceRequest`: E1 … E4, EREVOKED, AD1 — a refusal is the answer);
 *  3. the Pre-Command is built for the device type the Smart Metering Inventory holds;
 *  4. Critical: signed in-process when the User has a signer, else the DUIS CV4 answer
 *     `{ code: 'I99', preCommand, awaitingSignature: true }` and the request waits for the
 *     signed Pre-Command (CV5) through `submitSigned`; a Pre-Command awaiting its signature
 *     expires after `preCommandTtlMs` (EEXPIRED);
 *     SR 6.23: the CoS Party builds and signs CS02b supplierByTransCoS with the gaining
 *     Supplier's certificates instead;
 *  5. the ACB MACs the command with the key agreed with the device's key agreement certificate;
 *  6. transport; the device's response is decoded and the DUIS answer is `I0` with it, SAT
 *     `response` record. No response: E21; the transport failing (throwing): E20.
 * SR 5.1–5.3 (DCC Schedules) and SR 8.11 (Update HAN Device Log) leave the line after step 2.
 *
 * This file is the core: `createDcc` builds one internal context (`PipelineContext`: the config,
 * the SAT, `finish`, `deliver`, `raiseDccAlert`, `submit` …) and hands each piece the part it uses.
 * The pieces, in `pipeline/`:
 *  - `types.ts`, `codes.ts`: the public types and the DUIS codes (all re-exported here);
 *  - `outcome.ts`: SAT outcome records, GBCS build refusals, step 6;
 *  - `change-of-supplier.ts`: SR 6.23 with the CoS Party's counter and its DCC Alerts;
 *  - `dcc-schedules.ts`: SR 5.1–5.3 and `runDueSchedules` over the schedule book;
 *  - `han-device-log.ts`: SR 8.11 as an in-process call to the CHF;
 *  - `install-code-register.ts`: lodging and obtaining install codes (MP121);
 *  - `device-alerts.ts`: device alert routing and the DP072 remedy; `dcc-alerts.ts`: DCC Alerts.
 *
 * Not modelled here: other Non-Device SRVs (8.2, 8.3, 8.4, 12.2 are accepted by access control
 * but not built), future-dated responses arriving later, per-device serialisation of concurrent
 * requests.
 */
import { X509Certificate } from 'node:crypto'
import { type Eui64, isEui, parseEui, toHex } from '@smetsim/core'
import type { GeneralSigning, PublicKeyRef } from '@smetsim/gbcs'
import { type AccessContext, AccessRequestError, checkServiceRequest } from './access/check.ts'
import { DEFAULT_PERMISSIONS } from './access/permissions.ts'
import {
  buildPreCommand,
  CommandProtectionError,
  completeCommand,
  isCriticalMessageCode,
  type OriginatorSignature,
  preCommandBytes,
  type Signer,
  signedFromUser,
} from './gbcs/construct.ts'
import type { GbcsServiceRequest, MeterType } from './gbcs/service-requests.ts'
import { createChangeOfSupplier } from './pipeline/change-of-supplier.ts'
import {
  DEFAULT_PRE_COMMAND_TTL_MS,
  MALFORMED_REQUEST_CODE,
  NO_PRE_COMMAND_CODE,
  NOT_BUILT_CODE,
  PRE_COMMAND_EXPIRED_CODE,
  SIGNATURE_INVALID_CODE,
} from './pipeline/codes.ts'
import {
  hex4,
  METER_TYPES,
  type PipelineContext,
  type PipelineState,
  type ScheduleRunRef,
  userKey,
} from './pipeline/context.ts'
import { createDccAlerts } from './pipeline/dcc-alerts.ts'
import { createDccSchedules, SCHEDULE_SRVS } from './pipeline/dcc-schedules.ts'
import { createDeviceAlerts } from './pipeline/device-alerts.ts'
import { auditedParameters, updateHanDeviceLog } from './pipeline/han-device-log.ts'
import { createInstallCodeRegister } from './pipeline/install-code-register.ts'
import { buildRefusal, deliver, finisher } from './pipeline/outcome.ts'
import type { Dcc, DccConfig, DuisRequest, DuisResult } from './pipeline/types.ts'
import { isEligibleUser } from './registration/eligibility.ts'
import { isDuisRole } from './roles.ts'
import { canonicalJson, normaliseRequestId } from './sat/record.ts'

// The public API of the pipeline, as it has always been importable from this file.
export {
  BAD_PARAMETERS_CODE,
  COMMS_FAILURE_CODE,
  DCC_ALERT_CODES,
  type DccAlertType,
  DEFAULT_PRE_COMMAND_TTL_MS,
  HAN_LOG_REFUSED_CODE,
  MALFORMED_REQUEST_CODE,
  NO_INSTALL_CODE_CODE,
  NO_PRE_COMMAND_CODE,
  NO_RESPONSE_CODE,
  NOT_BUILT_CODE,
  NOT_SCHEDULE_OWNER_CODE,
  PRE_COMMAND_EXPIRED_CODE,
  SIGNATURE_INVALID_CODE,
  SUCCESS_CODE,
  UNKNOWN_SCHEDULE_CODE,
} from './pipeline/codes.ts'
export { defaultIsCriticalAlert } from './pipeline/device-alerts.ts'
export type {
  AlertCounters,
  AlertOutcome,
  Dcc,
  DccAlert,
  DccConfig,
  DeliveredAlert,
  DuisRequest,
  DuisResult,
  HanDeviceLogEntry,
  HanDeviceLogOutcome,
  HanDeviceLogTransport,
  ScheduleRunResult,
  UserCertificates,
} from './pipeline/types.ts'

/** A Critical request's Pre-Command awaiting the User's signature (CV4 issued, CV5 not yet in). */
interface Pending extends PipelineState {
  preCommand: GeneralSigning
  eligibilityChecked: boolean
  /** DCC time (epoch ms) the Pre-Command was issued. */
  issuedAt: number
  /** The GBCS originator, whose certificate the signature must verify with. */
  commandOriginator: Eui64
}

/** The DCC: Service Requests in, GBCS to devices, responses and alerts back, everything in the SAT. */
export function createDcc(config: DccConfig): Dcc {
  const { sat, backend } = config
  const permissions = config.permissions ?? DEFAULT_PERMISSIONS
  let anomalyState = config.anomaly?.state
  const signers = new Map<Eui64, Signer>()
  for (const [user, signer] of Object.entries(config.signers ?? {})) signers.set(parseEui(user), signer)
  const pending = new Map<string, Pending>()
  const preCommandTtlMs = config.preCommandTtlMs ?? DEFAULT_PRE_COMMAND_TTL_MS

  // The pieces of the pipeline, each given the part of this context it uses.
  const iso = () => new Date(config.now()).toISOString()
  const finish = finisher(sat)
  const dccAlerts = createDccAlerts({ sat, iso })
  const ctx: PipelineContext = {
    config,
    sat,
    backend,
    permissions,
    iso,
    finish,
    deliver: (p, bytes, extra) => deliver(ctx, p, bytes, extra),
    buildRefusal: (p, e) => buildRefusal(finish, p, e),
    raiseDccAlert: dccAlerts.raise,
    submit,
  }
  const changeOfSupplier = createChangeOfSupplier(ctx)
  const schedules = createDccSchedules(ctx)
  const deviceAlerts = createDeviceAlerts(ctx)
  const installCodes = createInstallCodeRegister(ctx)

  /**
   * Drops the Pre-Commands whose signature did not come back in time, each with its SAT record.
   * `pending` is in order of issue, so the walk stops at the first one still in time.
   */
  function expirePreCommands(now: number): void {
    for (const [requestId, p] of pending) {
      if (now - p.issuedAt < preCommandTtlMs) break
      pending.delete(requestId)
      finish(
        'decision',
        p,
        PRE_COMMAND_EXPIRED_CODE,
        `the Pre-Command issued at ${new Date(p.issuedAt).toISOString()} was not signed within ${preCommandTtlMs} ms`,
        { step: 'preCommand', unconfirmed: 'the expiry and its code' },
      )
    }
  }

  /** Access control's inputs, with the anomaly detection state as it stands. */
  const context = (): AccessContext => ({
    permissions,
    users: config.users,
    registration: config.registration,
    inventory: config.inventory,
    sat,
    ...(config.revocation && { revocation: config.revocation }),
    ...(config.solrContingency && { solrContingency: config.solrContingency }),
    anomaly: {
      ...(config.anomaly?.config && { config: config.anomaly.config }),
      ...(anomalyState && { state: anomalyState }),
    },
  })

  /** The User's digital signing public key, from its certificate in the SMKI repository. */
  function userDsKey(user: Eui64): PublicKeyRef | undefined {
    const der = config.userCertificates(user)?.digitalSigning
    if (!der) return undefined
    try {
      return backend.importPublicKey(new X509Certificate(der).publicKey)
    } catch {
      return undefined
    }
  }

  /**
   * Steps 1–6 of the header. `now` is when access control judges the request (a schedule run's due
   * time); `run` names the DCC Schedule run, kept in the SAT `request` record.
   */
  async function submit(request: DuisRequest, now = config.now(), run?: ScheduleRunRef): Promise<DuisResult> {
    expirePreCommands(config.now())
    let requestId: string
    try {
      requestId = normaliseRequestId(String(request?.requestId))
    } catch (e) {
      // Unattributable: no SAT record can name a User for it.
      return { code: MALFORMED_REQUEST_CODE, reason: `malformed DUIS RequestID: ${(e as Error).message}` }
    }
    const [originator, target, counterText] = requestId.split(':') as [Eui64, Eui64, string]
    const senderOk =
      request.sender === undefined ||
      isEui(
        String(request.sender)
          .replace(/[\s:-]/g, '')
          .toUpperCase(),
      )
    const sender = request.sender !== undefined && senderOk ? parseEui(String(request.sender)) : originator
    const role = isDuisRole(request.role) ? request.role : undefined
    const srv = String(request.srv)
    const srvOk = /^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/.test(srv)
    sat.append({
      kind: 'request',
      requestId,
      user: sender,
      ...(sender !== originator && { businessOriginator: originator }),
      ...(role && { role }),
      ...(srvOk && { srv }),
      device: target,
      detail: {
        commandVariant:
          typeof request.commandVariant === 'number'
            ? request.commandVariant
            : String(request.commandVariant),
        deviceType: String(request.deviceType),
        ...(!role && { claimedRole: String(request.role) }),
        ...(!srvOk && { claimedSrv: srv }),
        ...(!senderOk && { claimedSender: String(request.sender) }),
        ...(request.parameters !== undefined &&
          plainJson(request.parameters) && { parameters: auditedParameters(request.parameters) }),
        ...(run && { schedule: { ...run } }),
      },
    })

    // Access control (records its decision).
    let decision: ReturnType<typeof checkServiceRequest>
    try {
      decision = checkServiceRequest(
        {
          requestId,
          ...(request.sender !== undefined && { sender: String(request.sender) }),
          role: String(request.role),
          srv,
          commandVariant: request.commandVariant,
          ...(request.signerCertificate !== undefined && { signerCertificate: request.signerCertificate }),
          ...(request.executionDateTime !== undefined && { executionDateTime: request.executionDateTime }),
        },
        context(),
        new Date(now),
      )
    } catch (e) {
      if (!(e instanceof AccessRequestError || e instanceof RangeError)) throw e
      return finish(
        'decision',
        { requestId, respondTo: originator },
        MALFORMED_REQUEST_CODE,
        (e as Error).message,
      )
    }
    if (decision.anomalyState) anomalyState = decision.anomalyState
    if (!decision.ok) {
      const result: DuisResult = { code: decision.code, requestId, reason: decision.reason }
      if (decision.alert) result.dccAlerts = [dccAlerts.quarantine(decision.alert)]
      return result
    }
    const granted = decision
    const p: PipelineState = {
      requestId,
      originator,
      sender,
      respondTo: granted.respondTo,
      role: granted.role,
      srv,
      deviceId: target,
    }

    // The device type the Smart Metering Inventory holds is the one the command is built for.
    const smiType = granted.device?.type
    if (smiType !== undefined && smiType !== request.deviceType)
      return finish(
        'decision',
        p,
        'E11',
        `device ${target} is a ${smiType}, not a ${String(request.deviceType)}`,
        {
          step: 'build',
        },
      )
    if (SCHEDULE_SRVS.includes(srv)) return schedules.request(p, granted, request, now)
    if (srv === '8.11') return updateHanDeviceLog(ctx, p, request, now)
    if (!METER_TYPES.includes(String(request.deviceType)))
      return finish(
        'decision',
        p,
        NOT_BUILT_CODE,
        `SR ${srv} to a ${String(request.deviceType)} has no GBCS command here`,
        {
          step: 'build',
        },
      )
    const sr: GbcsServiceRequest = {
      srv,
      target,
      deviceType: request.deviceType as MeterType,
      parameters: request.parameters ?? {},
    }
    const deviceKa = config.deviceKeyAgreement(target)
    if (!deviceKa)
      return finish(
        'decision',
        p,
        NOT_BUILT_CODE,
        `no key agreement certificate of device ${target} is known`,
        {
          step: 'build',
        },
      )

    if (srv === '6.23') return changeOfSupplier(p, granted, sr, BigInt(counterText), deviceKa, now)

    // The command's originator is the Business Originator, except for a SoLR Contingency request:
    // the meter trusts only the failed Supplier's certificates, so the SRP's command goes out as
    // the failed Supplier's, signed with its key (MP134B; TABASC: "private keys can still be used
    // to wrap the GBCS message" after revocation). Its RequestID counter is the command's counter.
    const commandOriginator = granted.failedSupplier ?? originator
    let pre: GeneralSigning
    try {
      pre = buildPreCommand(sr, { originator: commandOriginator, counter: BigInt(counterText), now })
    } catch (e) {
      return ctx.buildRefusal(p, e)
    }
    if (!isCriticalMessageCode(pre.messageCode)) return protectAndSend(p, pre, undefined, deviceKa)

    const signer = signers.get(commandOriginator)
    if (!signer) {
      // A RequestID sent again while its Pre-Command waits: the new one replaces it (and goes to
      // the end of the queue in issue order, which expirePreCommands relies on); the old one's
      // fate is recorded.
      const superseded = pending.get(requestId)
      if (superseded) {
        pending.delete(requestId)
        finish(
          'decision',
          superseded,
          PRE_COMMAND_EXPIRED_CODE,
          'superseded by a new Pre-Command for the same RequestID',
          {
            step: 'preCommand',
            unconfirmed: 'what the DCC does with a RequestID sent again',
          },
        )
      }
      pending.set(requestId, {
        ...p,
        preCommand: pre,
        eligibilityChecked: granted.registration !== undefined,
        issuedAt: now,
        commandOriginator,
      })
      const preCommand = preCommandBytes(pre)
      finish('response', p, 'I99', undefined, {
        step: 'preCommand',
        awaitingSignature: true,
        preCommand: toHex(preCommand),
      })
      return { code: 'I99', requestId, preCommand, awaitingSignature: true }
    }
    let signature: OriginatorSignature
    try {
      const signed = signer.sign(pre)
      // Verified with the key of the User's certificate when the DCC holds it, not the signer's say-so.
      signature = {
        signature: signed.signature,
        signerPublic: userDsKey(commandOriginator) ?? signed.signerPublic,
      }
    } catch (e) {
      return finish(
        'decision',
        p,
        SIGNATURE_INVALID_CODE,
        `the in-process signer failed: ${(e as Error).message}`,
      )
    }
    return protectAndSend(p, pre, signature, deviceKa)
  }

  async function protectAndSend(
    p: PipelineState,
    pre: GeneralSigning,
    signature: OriginatorSignature | undefined,
    deviceKa: PublicKeyRef,
  ): Promise<DuisResult> {
    let bytes: Uint8Array
    try {
      bytes = completeCommand(pre, signature, config.acb, deviceKa, backend)
    } catch (e) {
      if (e instanceof CommandProtectionError)
        return finish('decision', p, SIGNATURE_INVALID_CODE, e.message, { step: 'signature', kind: e.kind })
      throw e
    }
    return ctx.deliver(p, bytes, { messageCode: hex4(pre.messageCode) })
  }

  async function submitSigned(requestIdText: string, signed: Uint8Array): Promise<DuisResult> {
    let requestId: string
    try {
      requestId = normaliseRequestId(String(requestIdText))
    } catch (e) {
      return { code: MALFORMED_REQUEST_CODE, reason: `malformed DUIS RequestID: ${(e as Error).message}` }
    }
    const [originator, target] = requestId.split(':') as [Eui64, Eui64, string]
    expirePreCommands(config.now())
    const p = pending.get(requestId)
    const bytes = signed instanceof Uint8Array ? signed : new Uint8Array(0)
    sat.append({
      kind: 'request',
      requestId,
      user: p?.sender ?? originator,
      ...(p && p.sender !== originator && { businessOriginator: originator }),
      ...(p && { role: p.role, srv: p.srv }),
      device: target,
      detail: { commandVariant: 5, signedPreCommandBytes: bytes.length },
    })
    if (!p)
      return finish(
        'decision',
        { requestId, respondTo: originator, deviceId: target },
        NO_PRE_COMMAND_CODE,
        `no Pre-Command of ${requestId} awaits a signature`,
      )

    // The User must still be eligible when it signs (the Supply Start Date may have passed).
    if (p.eligibilityChecked) {
      const eligibility = isEligibleUser(config, p.originator, p.role, p.deviceId, new Date(config.now()))
      if (!eligibility.eligible) {
        pending.delete(requestId)
        return finish('decision', p, eligibility.code, eligibility.reason, {
          step: 'eligibility',
          commandVariant: 5,
        })
      }
    }
    const key = userDsKey(p.commandOriginator)
    if (!key)
      return finish(
        'decision',
        p,
        SIGNATURE_INVALID_CODE,
        `no digital signing certificate of ${p.commandOriginator} is known`,
        {
          step: 'signature',
        },
      )
    let signature: OriginatorSignature
    try {
      signature = signedFromUser(bytes, p.preCommand, key)
    } catch (e) {
      if (!(e instanceof CommandProtectionError)) throw e
      // The Pre-Command stays pending: the User may send the right one.
      return finish('decision', p, SIGNATURE_INVALID_CODE, e.message, { step: 'signature', kind: e.kind })
    }
    const deviceKa = config.deviceKeyAgreement(p.deviceId)
    if (!deviceKa)
      return finish(
        'decision',
        p,
        NOT_BUILT_CODE,
        `no key agreement certificate of device ${p.deviceId} is known`,
      )
    let command: Uint8Array
    try {
      command = completeCommand(p.preCommand, signature, config.acb, deviceKa, backend)
    } catch (e) {
      if (!(e instanceof CommandProtectionError)) throw e
      return finish('decision', p, SIGNATURE_INVALID_CODE, e.message, { step: 'signature', kind: e.kind })
    }
    pending.delete(requestId)
    sat.append({
      kind: 'decision',
      requestId,
      user: p.respondTo,
      ...(p.originator !== p.respondTo && { businessOriginator: p.originator }),
      role: p.role,
      srv: p.srv,
      device: p.deviceId,
      code: 'I99',
      detail: {
        step: 'signature',
        commandVariant: 5,
        reason: 'the signed Pre-Command is the one issued and verifies',
      },
    })
    return ctx.deliver(p, command, { messageCode: hex4(p.preCommand.messageCode), commandVariant: 5 })
  }

  return {
    submit: async (request) => submit(request ?? ({} as DuisRequest)),
    submitSigned,
    deliverAlert: deviceAlerts.deliver,
    alertsFor: deviceAlerts.alertsFor,
    dccAlertsFor: (userId) => dccAlerts.for(userKey(userId) as Eui64),
    alertCounters: deviceAlerts.counters,
    pendingSignatures: () => {
      expirePreCommands(config.now())
      return [...pending.keys()]
    },
    get anomalyState() {
      return anomalyState
    },
    runDueSchedules: schedules.runDue,
    schedulesOf: schedules.of,
    scheduleResultsFor: schedules.resultsFor,
    get scheduleBook() {
      return schedules.book
    },
    lodgeInstallCode: installCodes.lodgeInstallCode,
    obtainInstallCode: installCodes.obtainInstallCode,
    obtainInstallCodes: installCodes.obtainInstallCodes,
  }
}

/** Whether the value is a plain JSON object the SAT can keep. */
function plainJson(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  try {
    canonicalJson(value)
    return true
  } catch {
    return false
  }
}

/**
 * The DCC's in-process Service Request pipeline: a DUIS Service Request from a User goes
 * through access control, is built into GBCS, signed by the User when Critical, MACed by the
 * Access Control Broker, delivered to the device, and the device's response comes back as the
 * DUIS response; device alerts are routed to the User whose certificate the device used. Every
 * step leaves Service Audit Trail records; every answer is a DUIS code (`duis-codes.ts`).
 *
 * Pure orchestration: every I/O goes through the functions in `DccConfig` (the transport to the
 * device or its Communications Hub, the SMKI repository look-ups, the clock). The DCC and the
 * devices meet only as bytes: this module never imports @smetsim/device.
 *
 * `submit(request)`, in order — it never throws, and whatever comes in leaves a SAT record:
 *  1. the RequestID: unreadable → E1 (E19 for an unreadable target), recorded under the marker
 *     RequestID `WHO:WHO:0` (counter 0 is never a DUIS counter) attributed to the authenticated
 *     caller, else the originator it names, else the DCC (its ACB EUI);
 *  2. SAT `request` record, parameters kept bounded (`pipeline/audit.ts`);
 *  3. the caller (contract C1): a transport-authenticated `caller` must be the sender, else E1;
 *  4. access control (`checkServiceRequest`: E1 … E5, E11, E12, E19, revoked certificates; a
 *     quarantine is I99 with `quarantined` and a QuarantinedRequest DCC Alert);
 *  5. the device type the Smart Metering Inventory holds (E11); MP134B: a SoLR Contingency SR 1.6
 *     must set Credit mode (E2);
 *  6. the Pre-Command is built; Critical: signed in-process when the User has a signer — verified
 *     with the key of its DS certificate in the SMKI repository, which must not be revoked — else
 *     the DUIS CV4 answer `{ code: 'I99', preCommand, awaitingSignature: true }` and the request
 *     waits (bounded, `pipeline/pre-commands.ts`) for the signed Pre-Command (CV5, `submitSigned`);
 *     SR 6.23: the CoS Party builds and signs CS02b supplierByTransCoS instead;
 *  7. the ACB MACs the command with the key agreed with the device's key agreement certificate;
 *  8. transport; the device's response is the DUIS answer `I0`, SAT `response` record. No response:
 *     E21; the transport failing: E20. A future-dated SR 6.23 is I99 and completes with the device's
 *     outcome alert (`pipeline/future-dated.ts`); SR 8.1.1's I0 commissions the device.
 * SR 5.1–5.3 (DCC Schedules) and SR 8.11 (Update HAN Device Log) leave the line after step 5.
 *
 * This file is the core: `createDcc` builds one internal context (`PipelineContext`) and hands
 * each piece in `pipeline/` the part it uses: `outcome.ts` (SAT outcome records, step 8),
 * `change-of-supplier.ts` (SR 6.23), `dcc-schedules.ts` (SR 5.1–5.3, runs), `han-device-log.ts`
 * (SR 8.11), `install-code-register.ts` (MP121), `device-alerts.ts` and `dcc-alerts.ts` (alerts,
 * queued per User in `alert-queue.ts`), `pre-commands.ts`, `future-dated.ts`, `commission.ts`.
 *
 * Not modelled here: other Non-Device SRVs (8.2, 8.3, 8.4, 12.2 are accepted by access control
 * but not built), per-device serialisation of concurrent requests.
 */
import { X509Certificate } from 'node:crypto'
import { type Eui64, isEui, parseEui, toHex } from '@smetsim/core'
import { type GeneralSigning, type Json, type PublicKeyRef, RecentCache } from '@smetsim/gbcs'
import { type AccessContext, AccessRequestError, checkServiceRequest, clip } from './access/check.ts'
import { DEFAULT_PERMISSIONS } from './access/permissions.ts'
import { certificateProblem, certificateSerial, verifyingCertificateProblem } from './access/revocation.ts'
import {
  ACKNOWLEDGED_CODE,
  BAD_PARAMETERS_CODE,
  CALLER_MISMATCH_CODE,
  CERTIFICATE_REVOKED_CODE,
  COMMS_FAILURE_CODE,
  INTERNAL_FAULT_CODE,
  MALFORMED_REQUEST_CODE,
  MALFORMED_TARGET_CODE,
  NO_PRE_COMMAND_CODE,
  NOT_BUILT_CODE,
  PRE_COMMAND_EXPIRED_CODE,
  SCHEDULE_NOT_FOUND_CODES,
  SIGNATURE_INVALID_CODE,
  SOLR_CONTINGENCY_MODE_CODE,
  SUCCESS_CODE,
  WRONG_DEVICE_TYPE_CODE,
} from './duis-codes.ts'
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
import { auditedParameters } from './pipeline/audit.ts'
import { createChangeOfSupplier } from './pipeline/change-of-supplier.ts'
import { commissionDevice } from './pipeline/commission.ts'
import {
  hex4,
  METER_TYPES,
  type OutcomeRef,
  type PipelineContext,
  type PipelineState,
  type ScheduleRunRef,
  userKey,
} from './pipeline/context.ts'
import { createDccAlerts } from './pipeline/dcc-alerts.ts'
import { createDccSchedules, SCHEDULE_SRVS, scheduleDevice } from './pipeline/dcc-schedules.ts'
import { createDeviceAlerts } from './pipeline/device-alerts.ts'
import { createFutureDatedRegister, futureDatedAt } from './pipeline/future-dated.ts'
import { updateHanDeviceLog } from './pipeline/han-device-log.ts'
import { createInstallCodeRegister } from './pipeline/install-code-register.ts'
import { buildRefusal, deliver, finisher } from './pipeline/outcome.ts'
import { createPreCommandRegister, type DropReason } from './pipeline/pre-commands.ts'
import type { Dcc, DccConfig, DuisRequest, DuisResult } from './pipeline/types.ts'
import { isEligibleUser } from './registration/eligibility.ts'
import { isDuisRole } from './roles.ts'
import { normaliseRequestId } from './sat/record.ts'
import { DCC_STATE, type DccRuntimeState, type PendingPreCommand } from './state.ts'

// The public API of the pipeline, as it has always been importable from this file.
export * from './duis-codes.ts'
export { type AlertPage, type AlertQueueLimits, DEFAULT_ALERT_QUEUE_LIMITS } from './pipeline/alert-queue.ts'
export { AUDIT_LIMITS } from './pipeline/audit.ts'
export { defaultIsCriticalAlert } from './pipeline/device-alerts.ts'
export { DEFAULT_FUTURE_DATED_LIMITS, type FutureDatedLimits } from './pipeline/future-dated.ts'
export {
  DEFAULT_PRE_COMMAND_LIMITS,
  DEFAULT_PRE_COMMAND_TTL_MS,
  type PreCommandLimits,
} from './pipeline/pre-commands.ts'
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

/** A Critical request's Pre-Command awaiting the User's signature (state.ts keeps them). */
type Pending = PendingPreCommand

/** A digital signing certificate from the SMKI repository: its key and serial. */
interface SigningCertificate {
  key: PublicKeyRef
  serial: string
}

/** Signing certificates kept parsed by their bytes: one per DCC User and more, still bounded. */
const SIGNING_CERTIFICATES_HELD = 1024

/** What a RequestID's text is: the normalised RequestID and its parts, or why it cannot be read. */
type ReadRequestId =
  | { ok: true; requestId: string; originator: Eui64; target: Eui64; counter: bigint }
  | { ok: false; code: string; reason: string; originator?: Eui64; target?: Eui64 }

/** The DCC: Service Requests in, GBCS to devices, responses and alerts back, everything in the SAT. */
export function createDcc(config: DccConfig): Dcc {
  const { sat, backend } = config
  const permissions = config.permissions ?? DEFAULT_PERMISSIONS
  const restore = config.restore
  let anomalyState = restore ? restore.anomaly : config.anomaly?.state
  const signers = new Map<Eui64, Signer>()
  for (const [user, signer] of Object.entries(config.signers ?? {})) signers.set(parseEui(user), signer)

  // The pieces of the pipeline, each given the part of this context it uses.
  const iso = () => new Date(config.now()).toISOString()
  const finish = finisher(sat)
  let alertSeq = restore?.alertSeq ?? 0
  const nextAlertSeq = () => ++alertSeq
  const dccAlerts = createDccAlerts({
    sat,
    iso,
    now: () => config.now(),
    nextSeq: nextAlertSeq,
    ...(config.alerts && { limits: config.alerts }),
    ...(restore && { restore: restore.dccAlerts }),
  })
  const futureDated = createFutureDatedRegister(config.futureDated)
  const preCommands = createPreCommandRegister<Pending>(
    { ...config.preCommands, ...(config.preCommandTtlMs !== undefined && { ttlMs: config.preCommandTtlMs }) },
    (_requestId, p, why: DropReason) =>
      finish('decision', p, PRE_COMMAND_EXPIRED_CODE, preCommandDropped(p, why), {
        step: 'preCommand',
        dropped: why,
        unconfirmed: 'the expiry, the caps and their code',
      }),
  )
  for (const [requestId, p] of restore?.preCommands ?? []) preCommands.add(requestId, p)
  const ctx: PipelineContext = {
    config,
    sat,
    backend,
    permissions,
    iso,
    finish,
    deliver: (p, bytes, extra, fd) => deliver(ctx, p, bytes, extra, fd),
    buildRefusal: (p, e) => buildRefusal(finish, p, e),
    raiseDccAlert: dccAlerts.raise,
    futureDated,
    submit: (request, now, run) => guarded(() => submit(request, now, run)),
  }
  const changeOfSupplier = createChangeOfSupplier(ctx, restore?.cosCounter)
  const schedules = createDccSchedules(ctx)
  const deviceAlerts = createDeviceAlerts({
    config,
    sat,
    futureDated,
    nextSeq: nextAlertSeq,
    ...(restore && { restore: restore.deviceAlerts }),
  })
  const installCodes = createInstallCodeRegister(ctx)
  /** Parsed signing certificates: by the DER array first, then by its bytes (bounded), so a
   * repository that hands out a fresh copy per call is not parsed again on every message. */
  const signingCertificates = new WeakMap<Uint8Array, SigningCertificate | null>()
  const signingCertificatesByDer = new RecentCache<string, SigningCertificate | null>(
    SIGNING_CERTIFICATES_HELD,
  )

  /** Drops what has waited too long: unsigned Pre-Commands, future-dated commands without an outcome. */
  function housekeeping(): void {
    const now = config.now()
    preCommands.expire(now)
    futureDated.expire(now)
  }

  /**
   * Runs a step that must answer: an internal fault becomes E20 (fallback, nothing was sent) with
   * a SAT decision when the request can be named, never an exception across the boundary.
   */
  async function guarded(
    step: () => Promise<DuisResult>,
    ref?: () => OutcomeRef | undefined,
  ): Promise<DuisResult> {
    try {
      return await step()
    } catch (e) {
      const reason = `internal fault of the DCC: ${clip(String((e as Error)?.message ?? e), 256)}`
      let named: OutcomeRef | undefined
      try {
        named = ref?.()
      } catch {
        named = undefined
      }
      try {
        if (named) return finish('decision', named, INTERNAL_FAULT_CODE, reason, { step: 'internal' })
      } catch {
        // The SAT itself failed: the answer is all that is left.
      }
      return { code: INTERNAL_FAULT_CODE, ...(named && { requestId: named.requestId }), reason }
    }
  }

  /** Access control's inputs, with the anomaly detection state as it stands (and the revocation list as it is now). */
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

  /** The User's digital signing certificate in the SMKI repository, parsed once per certificate held. */
  function signingCertificate(user: Eui64): SigningCertificate | undefined {
    const der = config.userCertificates(user)?.digitalSigning
    if (!der) return undefined
    const known = signingCertificates.get(der)
    if (known !== undefined) return known ?? undefined
    const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1')
    let parsed = signingCertificatesByDer.get(bytes)
    if (parsed === undefined) {
      parsed = null
      try {
        const serial = certificateSerial(der)
        if (serial) parsed = { key: backend.importPublicKey(new X509Certificate(der).publicKey), serial }
      } catch {
        parsed = null
      }
      signingCertificatesByDer.set(bytes, parsed)
    }
    signingCertificates.set(der, parsed)
    return parsed ?? undefined
  }

  /** Why the request's certificates no longer stand now (a CV5 re-check), or undefined. */
  function certificatesNow(p: Pending): string | undefined {
    const sender = config.users.get(p.sender)
    if (!sender) return `sender ${p.sender} is no longer a DCC User`
    const principalId = p.failedSupplier ?? (p.sender !== p.originator ? p.originator : undefined)
    const principal = principalId ? config.users.get(principalId) : undefined
    return certificateProblem({ sender, ...(principal && { onBehalfOf: principal }) }, config.revocation)
  }

  /** Reads a RequestID's text without trusting any of it. */
  function readRequestId(raw: unknown): ReadRequestId {
    const text = typeof raw === 'string' ? raw : String(raw)
    try {
      const requestId = normaliseRequestId(text)
      const [originator, target, counter] = requestId.split(':') as [Eui64, Eui64, string]
      return { ok: true, requestId, originator, target, counter: BigInt(counter) }
    } catch (e) {
      const parts = text.length <= 128 ? text.split(':') : []
      const originator = parts.length >= 2 ? userKey(parts[0]!) : undefined
      const target = parts.length === 3 ? userKey(parts[1]!) : undefined
      const targetOnly = originator !== undefined && target === undefined && /^\d{1,20}$/.test(parts[2] ?? '')
      return {
        ok: false,
        code: targetOnly ? MALFORMED_TARGET_CODE : MALFORMED_REQUEST_CODE,
        reason: `malformed DUIS RequestID: ${clip(String((e as Error).message), 160)}`,
        ...(originator && { originator }),
        ...(target && { target }),
      }
    }
  }

  /**
   * A request whose RequestID cannot be read is still recorded (contract C2): under the marker
   * RequestID `WHO:TARGET:0` — counter 0 is never a DUIS counter — attributed to the authenticated
   * caller, else the originator the text names, else the DCC itself (its ACB EUI).
   */
  function unreadable(
    read: Extract<ReadRequestId, { ok: false }>,
    raw: unknown,
    caller: unknown,
    cv: number | string,
  ) {
    const authenticated = caller === undefined ? undefined : userKey(String(caller))
    const who = authenticated ?? read.originator ?? config.acb.eui
    const requestId = `${who}:${read.target ?? who}:0`
    sat.append({
      kind: 'request',
      requestId,
      user: who,
      ...(read.target && { device: read.target }),
      detail: {
        commandVariant: cv,
        claimedRequestId: clip(typeof raw === 'string' ? raw : String(raw), 128),
        attributedTo: authenticated ? 'caller' : read.originator ? 'originator' : 'dcc',
        marker: 'RequestID unreadable: recorded under counter 0',
      },
    })
    const ref = { requestId, respondTo: who, ...(read.target && { deviceId: read.target }) }
    return finish('decision', ref, read.code, read.reason, { step: 'requestId' })
  }

  /**
   * Steps 1–8 of the header. `now` is when access control judges the request (a schedule run's due
   * time); `run` names the DCC Schedule run, kept in the SAT `request` record.
   */
  async function submit(given: DuisRequest, now = config.now(), run?: ScheduleRunRef): Promise<DuisResult> {
    housekeeping()
    const cv =
      typeof given.commandVariant === 'number' ? given.commandVariant : clip(String(given.commandVariant))
    const read = readRequestId(given.requestId)
    if (!read.ok) return unreadable(read, given.requestId, given.caller, cv)
    const { requestId, originator, counter } = read
    const srv = String(given.srv)
    // SR 5.1–5.3 as DUIS writes them target the DCC and name the device in the body's DeviceID.
    let target = scheduleDevice(srv, read.target, given.deviceId)
    let request = given
    // A 5.2 / 5.3 to the DCC naming only a DSPScheduleID (DUIS XSD ReadSchedule / DeleteSchedule:
    // DSPScheduleID or DeviceID): the device, its type and the role are the User's schedule's,
    // as DUIS names no role. None of the User's: the not-found answer, after the request record.
    let unnamedSchedule = false
    if ((srv === '5.2' || srv === '5.3') && given.deviceId === undefined && read.target === config.acb.eui) {
      const owned = schedules.ownedNamed(originator, given.parameters as { [k: string]: Json } | undefined)
      if (owned) {
        target = owned.request.deviceId
        request = { ...given, role: owned.role, deviceType: owned.request.deviceType }
      } else unnamedSchedule = true
    }
    if (target === undefined)
      return finish(
        'decision',
        { requestId, respondTo: originator, srv, deviceId: read.target },
        MALFORMED_TARGET_CODE,
        `DeviceID '${clip(String(request.deviceId))}' is not a Device ID (EUI-64)`,
        { step: 'device', claimedDevice: clip(String(request.deviceId)) },
      )
    const senderText = request.sender === undefined ? undefined : String(request.sender)
    const senderOk = senderText === undefined || isEui(senderText.replace(/[\s:-]/g, '').toUpperCase())
    const sender = senderText !== undefined && senderOk ? parseEui(senderText) : originator
    const callerText = request.caller === undefined ? undefined : String(request.caller)
    const caller = callerText === undefined ? undefined : userKey(callerText)
    const role = isDuisRole(request.role) ? request.role : undefined
    const srvOk = srv.length <= 16 && /^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/.test(srv)
    const audited = request.parameters === undefined ? undefined : auditedParameters(request.parameters)
    sat.append({
      kind: 'request',
      requestId,
      // The sender as the transport authenticated it, when it did.
      user: caller ?? sender,
      ...((caller ?? sender) !== originator && { businessOriginator: originator }),
      ...(role && { role }),
      ...(srvOk && { srv }),
      device: target,
      detail: {
        commandVariant: cv,
        deviceType: clip(String(request.deviceType)),
        ...(!role && { claimedRole: clip(String(request.role)) }),
        ...(!srvOk && { claimedSrv: clip(srv) }),
        ...(!senderOk && { claimedSender: clip(String(senderText)) }),
        ...(callerText !== undefined &&
          caller !== sender && { claimedSender: sender, caller: clip(callerText) }),
        ...(audited && { parameters: audited.value }),
        ...(audited?.truncated && { parametersTruncated: true }),
        ...(run && { schedule: { ...run } }),
      },
    })
    const ref: OutcomeRef = { requestId, respondTo: caller ?? sender, deviceId: target }
    if (unnamedSchedule)
      return finish(
        'decision',
        ref,
        SCHEDULE_NOT_FOUND_CODES[srv as '5.2' | '5.3'],
        `SR ${srv} to the DCC names no DCC Schedule of ${originator} (DSPScheduleID) and no DeviceID`,
        { step: 'schedule', unconfirmed: 'which E0502nn / E0503nn code' },
      )

    // C1: the transport-authenticated caller must be the sender (E1: not the SEC party it claims to be).
    if (callerText !== undefined && caller !== sender)
      return finish(
        'decision',
        ref,
        CALLER_MISMATCH_CODE,
        `the authenticated caller ${clip(callerText)} is not the request's sender ${sender}`,
        { step: 'caller', caller: clip(callerText), claimedSender: sender },
      )
    if (!senderOk)
      return finish(
        'decision',
        ref,
        MALFORMED_REQUEST_CODE,
        `malformed sender ID '${clip(String(senderText))}'`,
        {
          step: 'role',
        },
      )

    // Access control (records its decision).
    let decision: ReturnType<typeof checkServiceRequest>
    try {
      decision = checkServiceRequest(
        {
          requestId,
          ...(senderText !== undefined && { sender: senderText }),
          role: String(request.role),
          srv,
          commandVariant: request.commandVariant,
          ...(target !== read.target && { device: target }),
          ...(request.signerCertificate !== undefined && {
            signerCertificate: String(request.signerCertificate),
          }),
          ...(request.executionDateTime !== undefined && { executionDateTime: request.executionDateTime }),
        },
        context(),
        new Date(now),
      )
    } catch (e) {
      if (e instanceof AccessRequestError)
        return finish('decision', ref, MALFORMED_REQUEST_CODE, clip(e.message, 200))
      if (e instanceof RangeError)
        return finish('decision', ref, BAD_PARAMETERS_CODE, clip(e.message, 200), {
          step: 'executionDateTime',
        })
      throw e
    }
    if (decision.anomalyState) anomalyState = decision.anomalyState
    if (!decision.ok) {
      const result: DuisResult = { code: decision.code, requestId, reason: decision.reason }
      if (decision.quarantined) result.quarantined = true
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
    const parameters = plainObject(request.parameters)

    // The device type the Smart Metering Inventory holds is the one the command is built for.
    const smiType = granted.device?.type
    if (smiType !== undefined && smiType !== request.deviceType)
      return finish(
        'decision',
        p,
        WRONG_DEVICE_TYPE_CODE,
        `device ${target} is a ${smiType}, not a ${clip(String(request.deviceType))}`,
        { step: 'build' },
      )
    // MP134B (seed 001): "SoLR Contingency Users will be required to submit SR 1.6 … to set a meter
    // (ESME and GSME) into Credit mode for a Failed Supplier, otherwise getting an error".
    if (granted.role === 'SoLRC' && srv === '1.6' && parameters.paymentMode !== 'credit')
      return finish(
        'decision',
        p,
        SOLR_CONTINGENCY_MODE_CODE,
        `the SoLR Contingency role may set only Credit mode with SR 1.6 (MP134B), not ${clip(JSON.stringify(parameters.paymentMode ?? null) ?? 'nothing')}`,
        { step: 'solrContingency' },
      )
    if (SCHEDULE_SRVS.includes(srv)) return schedules.request(p, granted, request, now)
    if (srv === '8.11') return updateHanDeviceLog(ctx, p, request, now)
    if (!METER_TYPES.includes(String(request.deviceType)))
      return finish(
        'decision',
        p,
        NOT_BUILT_CODE,
        `SR ${srv} to a ${clip(String(request.deviceType))} has no GBCS command here`,
        { step: 'build' },
      )
    const sr: GbcsServiceRequest = { srv, target, deviceType: request.deviceType as MeterType, parameters }
    const deviceKa = config.deviceKeyAgreement(target)
    if (!deviceKa)
      return finish(
        'decision',
        p,
        COMMS_FAILURE_CODE,
        `no key agreement certificate of device ${target} is known: the DCC cannot reach it`,
        { step: 'build' },
      )

    if (srv === '6.23') return changeOfSupplier(p, granted, sr, counter, deviceKa, now)

    // The command's originator is the Business Originator, except for a SoLR Contingency request:
    // the meter trusts only the failed Supplier's certificates, so the SRP's command goes out as
    // the failed Supplier's, signed with its key (MP134B; TABASC: "private keys can still be used
    // to wrap the GBCS message" after revocation). Its RequestID counter is the command's counter.
    const commandOriginator = granted.failedSupplier ?? originator
    let pre: GeneralSigning
    try {
      pre = buildPreCommand(sr, { originator: commandOriginator, counter, now })
    } catch (e) {
      return ctx.buildRefusal(p, e)
    }
    const executeAt = futureDatedAt(parameters.executionDateTime, now)
    if (!isCriticalMessageCode(pre.messageCode)) return protectAndSend(p, pre, undefined, deviceKa, executeAt)

    const signer = signers.get(commandOriginator)
    if (!signer) {
      preCommands.add(requestId, {
        ...p,
        preCommand: pre,
        eligibilityChecked: granted.registration !== undefined,
        issuedAt: now,
        commandOriginator,
        ...(granted.failedSupplier && { failedSupplier: granted.failedSupplier }),
        ...(executeAt !== undefined && { executeAt }),
      })
      const preCommand = preCommandBytes(pre)
      finish('response', p, ACKNOWLEDGED_CODE, undefined, {
        step: 'preCommand',
        awaitingSignature: true,
        preCommand: toHex(preCommand),
      })
      return { code: ACKNOWLEDGED_CODE, requestId, preCommand, awaitingSignature: true }
    }
    // Verified with the key of the User's certificate when the DCC holds it, not the signer's say-so;
    // and that certificate must not be revoked, whatever serial the request named.
    const certificate = signingCertificate(commandOriginator)
    if (certificate) {
      const revoked = verifyingCertificateProblem(
        { owner: commandOriginator, ...certificate },
        config.revocation,
      )
      if (revoked) return finish('decision', p, CERTIFICATE_REVOKED_CODE, revoked, { step: 'signature' })
    }
    let signature: OriginatorSignature
    try {
      const signed = signer.sign(pre)
      signature = { signature: signed.signature, signerPublic: certificate?.key ?? signed.signerPublic }
    } catch (e) {
      return finish(
        'decision',
        p,
        SIGNATURE_INVALID_CODE,
        `the in-process signer failed: ${clip(String((e as Error)?.message ?? e), 200)}`,
      )
    }
    return protectAndSend(p, pre, signature, deviceKa, executeAt)
  }

  /** Steps 7 and 8 for a built command (signed when Critical). */
  async function protectAndSend(
    p: PipelineState,
    pre: GeneralSigning,
    signature: OriginatorSignature | undefined,
    deviceKa: PublicKeyRef,
    executeAt: number | undefined,
    extra: { commandVariant?: number } = {},
  ): Promise<DuisResult> {
    let bytes: Uint8Array
    try {
      bytes = completeCommand(pre, signature, config.acb, deviceKa, backend)
    } catch (e) {
      if (e instanceof CommandProtectionError)
        return finish('decision', p, SIGNATURE_INVALID_CODE, e.message, { step: 'signature', kind: e.kind })
      throw e
    }
    // Sent: later DCC Schedule runs for this originator and device count above it.
    schedules.counterSent(pre.originator, p.deviceId, pre.originatorCounter)
    const result = await ctx.deliver(p, bytes, { messageCode: hex4(pre.messageCode), ...extra })
    // MP134B: a SoLR Contingency future-dated command's outcome alerts go to its sender.
    if (executeAt !== undefined && p.role === 'SoLRC' && result.code === SUCCESS_CODE)
      futureDated.add({
        kind: 'route',
        requestId: p.requestId,
        deviceId: p.deviceId,
        respondTo: p.respondTo,
        messageCode: pre.messageCode,
        counter: pre.originatorCounter,
        executeAt,
        onOutcome: () =>
          dccAlerts.raise({
            type: 'CommandFailure',
            recipient: p.respondTo,
            device: p.deviceId,
            requestId: p.requestId,
            detail: { outcome: 'notActioned' },
            unconfirmed: ['code'],
          }),
      })
    return p.srv === '8.1.1' ? commissionDevice(ctx, p, result) : result
  }

  async function submitSigned(
    requestIdText: string,
    signed: Uint8Array,
    callerText?: string,
  ): Promise<DuisResult> {
    housekeeping()
    const read = readRequestId(requestIdText)
    if (!read.ok) return unreadable(read, requestIdText, callerText, 5)
    const { requestId, originator, target } = read
    const p = preCommands.get(requestId)
    const caller = callerText === undefined ? undefined : userKey(String(callerText))
    const bytes = signed instanceof Uint8Array ? signed : new Uint8Array(0)
    const who = caller ?? p?.sender ?? originator
    sat.append({
      kind: 'request',
      requestId,
      user: who,
      ...(who !== originator && { businessOriginator: originator }),
      ...(p && { role: p.role, srv: p.srv }),
      device: target,
      detail: {
        commandVariant: 5,
        signedPreCommandBytes: bytes.length,
        ...(callerText !== undefined && { caller: clip(String(callerText)) }),
      },
    })
    // C1: a CV5 only from the User the Pre-Command was sent to (the request's sender).
    const expected = p?.sender ?? originator
    if (callerText !== undefined && caller !== expected)
      return finish(
        'decision',
        { requestId, respondTo: who, deviceId: target },
        CALLER_MISMATCH_CODE,
        `the authenticated caller ${clip(String(callerText))} is not ${expected}, to whom the Pre-Command was sent`,
        { step: 'caller', commandVariant: 5 },
      )
    if (!p)
      return finish(
        'decision',
        { requestId, respondTo: originator, deviceId: target },
        NO_PRE_COMMAND_CODE,
        `no Pre-Command of ${requestId} awaits a signature`,
        { step: 'preCommand', commandVariant: 5 },
      )

    // Re-checked now: the User must still be eligible (the Supply Start Date may have passed) and
    // its certificates, and those of whom it sends for, must still stand (revocation since the CV4).
    if (p.eligibilityChecked) {
      const eligibility = isEligibleUser(config, p.originator, p.role, p.deviceId, new Date(config.now()))
      if (!eligibility.eligible) {
        preCommands.remove(requestId)
        return finish('decision', p, eligibility.code, eligibility.reason, {
          step: 'eligibility',
          commandVariant: 5,
        })
      }
    }
    const certificates = certificatesNow(p)
    if (certificates) {
      preCommands.remove(requestId)
      return finish('decision', p, CERTIFICATE_REVOKED_CODE, certificates, {
        step: 'certificate',
        commandVariant: 5,
      })
    }
    const certificate = signingCertificate(p.commandOriginator)
    if (!certificate)
      return finish(
        'decision',
        p,
        SIGNATURE_INVALID_CODE,
        `no digital signing certificate of ${p.commandOriginator} is known`,
        { step: 'signature', commandVariant: 5 },
      )
    const revoked = verifyingCertificateProblem(
      { owner: p.commandOriginator, ...certificate },
      config.revocation,
    )
    if (revoked) {
      preCommands.remove(requestId)
      return finish('decision', p, CERTIFICATE_REVOKED_CODE, revoked, {
        step: 'signature',
        commandVariant: 5,
      })
    }
    let signature: OriginatorSignature
    try {
      signature = signedFromUser(bytes, p.preCommand, certificate.key)
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
        COMMS_FAILURE_CODE,
        `no key agreement certificate of device ${p.deviceId} is known: the DCC cannot reach it`,
      )
    try {
      // Checked before it is used up: a CV5 whose signature does not verify leaves it pending.
      completeCommand(p.preCommand, signature, config.acb, deviceKa, backend)
    } catch (e) {
      if (!(e instanceof CommandProtectionError)) throw e
      return finish('decision', p, SIGNATURE_INVALID_CODE, e.message, { step: 'signature', kind: e.kind })
    }
    preCommands.remove(requestId)
    sat.append({
      kind: 'decision',
      requestId,
      user: p.respondTo,
      ...(p.originator !== p.respondTo && { businessOriginator: p.originator }),
      role: p.role,
      srv: p.srv,
      device: p.deviceId,
      code: ACKNOWLEDGED_CODE,
      detail: {
        step: 'signature',
        commandVariant: 5,
        reason: 'the signed Pre-Command is the one issued and verifies with a certificate that stands',
      },
    })
    return protectAndSend(p, p.preCommand, signature, deviceKa, p.executeAt, { commandVariant: 5 })
  }

  /** The SAT reason of a Pre-Command dropped unsigned. */
  function preCommandDropped(p: Pending, why: DropReason): string {
    switch (why) {
      case 'expired':
        return `the Pre-Command issued at ${new Date(p.issuedAt).toISOString()} was not signed in time`
      case 'superseded':
        return 'superseded by a new Pre-Command for the same RequestID'
      default:
        return `dropped unsigned: ${why}`
    }
  }

  return {
    submit: (request) =>
      guarded(
        () => submit(request ?? ({} as DuisRequest)),
        () => {
          const read = readRequestId(request?.requestId)
          return read.ok ? { requestId: read.requestId, respondTo: read.originator } : undefined
        },
      ),
    submitSigned: (requestId, signed, caller) =>
      guarded(
        () => submitSigned(requestId, signed, caller),
        () => {
          const read = readRequestId(requestId)
          return read.ok ? { requestId: read.requestId, respondTo: read.originator } : undefined
        },
      ),
    deliverAlert: (deviceId, bytes) => {
      housekeeping()
      return deviceAlerts.deliver(deviceId, bytes)
    },
    alertsFor: (userId, page) => {
      housekeeping()
      return deviceAlerts.alertsFor(userId, page)
    },
    dccAlertsFor: (userId, page) => {
      housekeeping()
      const key = userKey(userId)
      return key ? dccAlerts.for(key, page) : []
    },
    alertCounters: deviceAlerts.counters,
    pendingSignatures: () => {
      housekeeping()
      return preCommands.requestIds()
    },
    get anomalyState() {
      return anomalyState
    },
    runDueSchedules: (upTo) => {
      housekeeping()
      return schedules.runDue(upTo)
    },
    schedulesOf: schedules.of,
    scheduleResultsFor: schedules.resultsFor,
    get scheduleBook() {
      return schedules.book
    },
    lodgeInstallCode: installCodes.lodgeInstallCode,
    obtainInstallCode: installCodes.obtainInstallCode,
    obtainInstallCodes: installCodes.obtainInstallCodes,
    // What state.ts's exportDccState keeps (createDcc takes it back as `config.restore`).
    // No housekeeping here: taking a snapshot must not change the DCC (what is due expires at the
    // next call, in the restored DCC as in this one).
    [DCC_STATE]: (): DccRuntimeState => {
      return {
        alertSeq,
        cosCounter: changeOfSupplier.cosCounter,
        anomaly: anomalyState,
        deviceAlerts: deviceAlerts.state(),
        dccAlerts: dccAlerts.held(),
        preCommands: preCommands.entries(),
      }
    },
  }
}

/** The request's parameters when they are a plain object (else none: the builders then say what is missing). */
function plainObject(value: unknown): { [name: string]: Json } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null ? (value as never) : {}
}

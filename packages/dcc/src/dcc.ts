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
 *     signed Pre-Command (CV5) through `submitSigned`;
 *     SR 6.23: the CoS Party builds and signs CS02b supplierByTransCoS with the gaining
 *     Supplier's certificates instead;
 *  5. the ACB MACs the command with the key agreed with the device's key agreement certificate;
 *  6. transport; the device's response is decoded and the DUIS answer is `I0` with it, SAT
 *     `response` record. No response: E21; the transport failing (throwing): E20.
 *
 * DUIS codes used beyond access control's (see the constants below; placeholders are ours where
 * the DUIS code is not known to us, all unconfirmed): E11 for a request whose device type is not
 * the one the SMI holds; E20 transport failed; E21 no (usable) response; EMALFORMED,
 * ESIGNATURE, ENOPRECOMMAND, ENOTBUILT, EPARAMETERS.
 *
 * DCC Schedules (SR 5.1 Create, 5.2 Read, 5.3 Delete; Non-Device SRVs, CV8): after access control
 * for the 5.x request itself, 5.1 checks that the scheduled Service Request would be permitted for
 * that role and device now (E2, E11, E5, E12, E4; only non-critical device SRVs the DCC builds
 * can be scheduled) and answers I0 with the schedule; 5.2 answers with the User's schedules on
 * the target device (or one by `scheduleId`); 5.3 deletes one, only the owner's. The DCC has no
 * timers: `runDueSchedules(now)` runs every due run through `submit` as its own Service Request
 * (RequestID `owner:device:counter`, the counter from the schedule and run number, see
 * `runCounter`), access control judged at the run's due time — so after a Change of Supplier's
 * Supply Start Date the losing supplier's run gets E4, in the SAT and in its results
 * (`scheduleResultsFor`), not data (DP072's contrast with device-held schedules).
 *
 * SR 8.11 Update HAN Device Log (add, CCS01): modelled as an in-process call to the
 * Communications Hub (`hanDeviceLog`, implemented by the hub's transport) rather than as GBCS
 * bytes — the DCC does not build CCS01/CCS02. The request targets the CHF; parameters `deviceId`
 * (on that CHF's hub) and `installCode` (16 bytes, hex). No install code: NO_INSTALL_CODE_CODE
 * (placeholder). The CHF accepting the entry is I0 (a Pending device becomes Whitelisted); whether
 * the device then joined the HAN comes back as the DCC Alert UpdateHANDeviceLogResult (N24) to
 * the requester — a wrong install code is accepted into the log but the join fails. Removal
 * (CCS02), join windows and the historic device log are not modelled. The install code register
 * (MP121, `registration/install-codes.ts`): `lodgeInstallCode`, `obtainInstallCode(s)`, with the
 * `installCodes.mp121` switch deciding whether the registered (gaining) supplier may obtain it.
 *
 * Not modelled here: other Non-Device SRVs (8.2, 8.3, 8.4, 12.2 are accepted by access control
 * but not built), future-dated responses arriving later, per-device serialisation of concurrent
 * requests. A Pre-Command awaiting its signature expires after `preCommandTtlMs` (EEXPIRED).
 */
import { X509Certificate } from 'node:crypto'
import { type Eui64, fromHex, isEui, parseEui, toHex } from '@smetsim/core'
import {
  type CryptoBackend,
  decodeFrame,
  type FrameJson,
  frameToJson,
  type GbcsFrame,
  type GeneralSigning,
  type Json,
  type PublicKeyRef,
} from '@smetsim/gbcs'
import type { AnomalyConfig, AnomalyState, QuarantinedRequestAlert } from './access/anomaly.ts'
import {
  type AccessContext,
  type AccessGranted,
  AccessRequestError,
  checkServiceRequest,
  type SolrContingencySettings,
} from './access/check.ts'
import { DEFAULT_PERMISSIONS, type PermissionMatrix } from './access/permissions.ts'
import {
  type AccessControlBroker,
  buildPreCommand,
  CommandProtectionError,
  type CosParty,
  changeOfSupplierCommand,
  completeCommand,
  isCriticalMessageCode,
  type OriginatorSignature,
  preCommandBytes,
  type Signer,
  signedFromUser,
} from './gbcs/construct.ts'
import {
  GBCS_SRVS,
  type GbcsServiceRequest,
  type MeterType,
  ServiceRequestError,
} from './gbcs/service-requests.ts'
import { isEligibleUser } from './registration/eligibility.ts'
import {
  DEFAULT_INSTALL_CODE_SETTINGS,
  type InstallCodeAnswer,
  type InstallCodeSettings,
  lodgeInstallCode,
  NO_INSTALL_CODE_CODE,
  obtainInstallCodes,
} from './registration/install-codes.ts'
import type { SmartMeteringInventory } from './registration/inventory.ts'
import type { RegistrationData } from './registration/registration.ts'
import { type DuisRole, isDuisRole, SUPPLIER_ROLES } from './roles.ts'
import { canonicalJson, type JsonValue, normaliseRequestId, type SatEntry } from './sat/record.ts'
import type { ServiceAuditTrail } from './sat/sat.ts'
import {
  createSchedule,
  type DccSchedule,
  deleteSchedule,
  dueRuns,
  emptyScheduleBook,
  findSchedule,
  parseScheduleParameters,
  recordRun,
  runCounter,
  type ScheduleBook,
  type ScheduleSpec,
  schedulesOf,
} from './schedules/schedules.ts'

/** DUIS: the request completed and the device's response is returned. */
export const SUCCESS_CODE = 'I0'
/** DUIS E20: DCC Systems cannot establish communications with the Device — here: the transport failed (threw). */
export const COMMS_FAILURE_CODE = 'E20'
/** DUIS E21: no response received from the Device — here: the transport returned none, or bytes that are not a GBCS response (unconfirmed). */
export const NO_RESPONSE_CODE = 'E21'
/** Placeholder (unconfirmed): a request the DCC cannot read — a malformed RequestID or sender ID. */
export const MALFORMED_REQUEST_CODE = 'EMALFORMED'
/** Placeholder (unconfirmed): a signed Pre-Command (CV5) that is not the one issued, or whose signature does not verify. */
export const SIGNATURE_INVALID_CODE = 'ESIGNATURE'
/** Placeholder (unconfirmed): a signed Pre-Command (CV5) for a RequestID with no Pre-Command awaiting signature. */
export const NO_PRE_COMMAND_CODE = 'ENOPRECOMMAND'
/** Placeholder (unconfirmed): access control accepted the SRV but the DCC has no GBCS command for it (or lacks a certificate it needs). */
export const NOT_BUILT_CODE = 'ENOTBUILT'
/** Placeholder (unconfirmed): a Pre-Command whose signature (CV5) did not come back in time. */
export const PRE_COMMAND_EXPIRED_CODE = 'EEXPIRED'
/** How long a Pre-Command waits for its signature by default (unconfirmed: a day). */
export const DEFAULT_PRE_COMMAND_TTL_MS = 86_400_000
/** Placeholder (unconfirmed): the SRV's parameters are not valid for its GBCS command. */
export const BAD_PARAMETERS_CODE = 'EPARAMETERS'
/** Placeholder (unconfirmed): SR 5.2 / 5.3 name a DCC Schedule the DCC does not hold (for that device). */
export const UNKNOWN_SCHEDULE_CODE = 'ENOSCHEDULE'
/** Placeholder (unconfirmed): SR 5.2 / 5.3 name another User's DCC Schedule. */
export const NOT_SCHEDULE_OWNER_CODE = 'ENOTOWNER'
/** Placeholder (unconfirmed): the CHF refused the SR 8.11 device log entry. */
export const HAN_LOG_REFUSED_CODE = 'EHANLOG'
export { NO_INSTALL_CODE_CODE }

/** DCC Alert types raised by the pipeline. */
export type DccAlertType =
  | 'ChangeOfSupplier'
  | 'SecurityCredentialsUpdated'
  | 'QuarantinedRequest'
  | 'UpdateHANDeviceLogResult'

/**
 * SAT `code` of each DCC Alert type: the DUIS DCC Alert codes are not known to us (except AD1,
 * itself unconfirmed), so these are placeholders short enough for a SAT code.
 */
export const DCC_ALERT_CODES: Readonly<Record<DccAlertType, string>> = {
  ChangeOfSupplier: 'ChangeOfSupplier',
  SecurityCredentialsUpdated: 'SecCredsUpdated',
  QuarantinedRequest: 'AD1',
  // DUIS DCC Alert N24 (DOMAIN.md 6, from the DUIS request matrix).
  UpdateHANDeviceLogResult: 'N24',
}

/** A DUIS Service Request as a User submits it to the DCC. */
export interface DuisRequest {
  /** DUIS RequestID `originator:target:counter`; the counter becomes the command's Originator Counter. */
  requestId: string
  /** The sending User, when not the Business Originator (a Shared Resource Provider). */
  sender?: string
  /** DUIS User Role. */
  role: string
  /** Service Reference Variant, e.g. '7.2'. */
  srv: string
  /** DUIS Command Variant: 4 for a Critical request (answered by a Pre-Command or signed in-process), 1–3 otherwise. */
  commandVariant: number
  /** The target's device type; must be the one the Smart Metering Inventory holds (E11). */
  deviceType: string
  /** The SRV's parameters (DUIS element names in lower camel case). */
  parameters?: { [name: string]: Json }
  /** Serial of the SMKI certificate the request was signed with (checked for revocation). */
  signerCertificate?: string
  /** Execution date-time of a future-dated request (E4 is judged then). */
  executionDateTime?: string
}

/** The DUIS answer to a request or to a signed Pre-Command. */
export interface DuisResult {
  /** DUIS response code: I0, I99 (with a Pre-Command), E1 … E21, or a placeholder above. */
  code: string
  /** The RequestID, normalised (absent when it could not be read). */
  requestId?: string
  /** Why, for every code but I0 and I99. */
  reason?: string
  /** CV4: the Pre-Command for the User to sign and return with `submitSigned`. */
  preCommand?: Uint8Array
  awaitingSignature?: true
  /** I0: the device's response, decoded. */
  response?: FrameJson
  /** I0: the device's response as it came. */
  responseBytes?: Uint8Array
  /** DCC Alerts this request caused (QuarantinedRequest, SR 6.23's ChangeOfSupplier / SecurityCredentialsUpdated, SR 8.11's UpdateHANDeviceLogResult). */
  dccAlerts?: DccAlert[]
  /** SR 5.1: the schedule created; SR 5.3: the schedule deleted. */
  schedule?: DccSchedule
  /** SR 5.2: the User's schedules asked for. */
  schedules?: DccSchedule[]
  /** SR 8.11: what the CHF did with the device log entry. */
  hanDeviceLog?: HanDeviceLogOutcome & { commsHub: Eui64; deviceId: Eui64 }
}

/** A device to add to a CHF's HAN device log (SR 8.11, CCS01 as modelled here). */
export interface HanDeviceLogEntry {
  deviceId: Eui64
  deviceType: string
  /** The 16-byte install code the requester supplied. */
  installCode: Uint8Array
}

/** What the CHF did: accepted the entry or not, and whether the device then joined its HAN. */
export interface HanDeviceLogOutcome {
  accepted: boolean
  /** The device's HAN join attempt after an accepted entry (a wrong install code: joined false). */
  joined?: boolean
  reason?: string
}

/**
 * SR 8.11 as an in-process command to the Communications Hub, which the hub's transport
 * implements (there is no hub package yet). Not GBCS: the DCC does not build CCS01/CCS02 frames.
 */
export interface HanDeviceLogTransport {
  /** CCS01: add the device to the CHF's device log with its install code, and let it try to join. */
  addDevice(commsHub: Eui64, entry: HanDeviceLogEntry): Promise<HanDeviceLogOutcome>
}

/** One run of a DCC Schedule, delivered to the schedule's owner. */
export interface ScheduleRunResult {
  scheduleId: string
  run: number
  owner: Eui64
  srv: string
  deviceId: Eui64
  /** When the run was due and judged (ISO 8601). */
  dueAt: string
  /** DCC time it ran (ISO 8601). */
  ranAt: string
  requestId: string
  /** The run's DUIS answer: I0 with the device's response, or a refusal such as E4. */
  result: DuisResult
}

export interface DccAlert {
  type: DccAlertType
  /** SAT code (see DCC_ALERT_CODES). */
  code: string
  recipient: Eui64
  device?: Eui64
  requestId?: string
  /** DCC time it was raised (ISO 8601). */
  at: string
  detail: { [key: string]: JsonValue }
  /** What about this alert is a modelling assumption. */
  unconfirmed?: string[]
}

/** A device alert as delivered to a User. */
export interface DeliveredAlert {
  device: Eui64
  recipient: Eui64
  /** The device alert code (four hex digits, e.g. '8F0A') or, for a use-case alert, its message code. */
  alertCode: string
  messageCode: number
  critical: boolean
  /** DCC time it arrived (ISO 8601). */
  receivedAt: string
  frame: FrameJson
  bytes: Uint8Array
}

export interface AlertOutcome {
  delivered: boolean
  /** Blocked by the DP072 remedy (`blockAlertsToUnregisteredSuppliers`). */
  blocked?: true
  reason?: string
  alert?: DeliveredAlert
}

/** Device alert counters (DP072: alerts to a supplier no longer registered are counted whether blocked or not). */
export interface AlertCounters {
  delivered: number
  blocked: number
  /** Non-critical alerts to a supplier not registered for the device then, delivered or blocked. */
  toUnregisteredSupplier: number
  /** Alerts that could not be decoded or had nobody to go to. */
  undeliverable: number
}

/** The gaining Supplier's certificates as the SMKI repository holds them (DER), for SR 6.23 and CV5 checks. */
export interface UserCertificates {
  digitalSigning: Uint8Array
  keyAgreement?: Uint8Array
  prepaymentTopUp?: Uint8Array
  /** The organisation CA certificates up to (not including) the root, at most 3. */
  certificationPath?: Uint8Array[]
}

export interface DccConfig {
  /** The User register (UserDirectory fits). */
  users: AccessContext['users']
  /** Default DEFAULT_PERMISSIONS. */
  permissions?: PermissionMatrix
  registration: RegistrationData
  inventory: SmartMeteringInventory
  sat: ServiceAuditTrail
  revocation?: AccessContext['revocation']
  anomaly?: { config?: AnomalyConfig; state?: AnomalyState }
  solrContingency?: SolrContingencySettings
  /** The Access Control Broker: its EUI-64 and key agreement private key. */
  acb: AccessControlBroker
  /** The CoS Party: its EUI-64 and signer; `counter` is its next Originator Counter (default 1). */
  cos: CosParty & { counter?: bigint }
  /** The device's key agreement public key, from its certificate in the SMKI repository. */
  deviceKeyAgreement(deviceId: Eui64): PublicKeyRef | undefined
  /** A User's SMKI Organisation Certificates (DER), from the SMKI repository. */
  userCertificates(userId: Eui64): UserCertificates | undefined
  /** Delivers GBCS to the device (through its hub) and resolves with its response; undefined: no response. */
  transport(deviceId: Eui64, bytes: Uint8Array): Promise<Uint8Array | undefined>
  /** The DCC's clock, epoch ms. */
  now(): number
  /**
   * In-process signers that let the DCC sign Critical Pre-Commands, keyed by the EUI whose digital
   * signing certificate the command is signed under (the GBCS originator); others use CV4/CV5. For
   * a SoLR Contingency request that is the failed Supplier's, whose key its SRP holds (MP134B).
   */
  signers?: Record<string, Signer>
  backend: CryptoBackend
  /**
   * How long a Pre-Command waits for the User's signature (CV5), ms; default
   * DEFAULT_PRE_COMMAND_TTL_MS. An expired one is dropped with a SAT decision record
   * (PRE_COMMAND_EXPIRED_CODE) at the next call into the DCC, and its CV5 is refused.
   */
  preCommandTtlMs?: number
  /** The DP072 remedy (off by default, as in the SEC today): do not deliver non-critical alerts to a supplier not registered for the device. */
  blockAlertsToUnregisteredSuppliers?: boolean
  /** Whether a device alert is critical; default `defaultIsCriticalAlert`. */
  isCriticalAlert?(alert: { messageCode: number; alertCode: string; signed: boolean }): boolean
  /** SR 8.11's way to the Communications Hub; without it 8.11 is answered ENOTBUILT. */
  hanDeviceLog?: HanDeviceLogTransport
  /** The install code register's MP121 switch, read at every call (default off). */
  installCodes?: InstallCodeSettings
  /** DCC Schedules held at start (default none). */
  schedules?: ScheduleBook
}

/**
 * Default critical-alert test: GBCS has a device sign its critical alerts and MAC the others (the
 * RTDS shows it), so an alert is critical when it carries a signature. The billing data log alert
 * 0x8F0A of a device-held schedule is critical (DOMAIN.md, DP072): the DP072 remedy, which blocks
 * only non-critical alerts, does not stop it.
 */
export function defaultIsCriticalAlert(alert: {
  messageCode: number
  alertCode: string
  signed: boolean
}): boolean {
  return alert.signed
}

export interface Dcc {
  /** Takes a DUIS Service Request; never throws on bad input (the answer is a DUIS code). */
  submit(request: DuisRequest): Promise<DuisResult>
  /** DUIS CV5: the User's signed Pre-Command for a request answered with `awaitingSignature`. */
  submitSigned(requestId: string, signed: Uint8Array): Promise<DuisResult>
  /** A device alert arrives from the device (through its hub). */
  deliverAlert(deviceId: string, bytes: Uint8Array): AlertOutcome
  /** Device alerts delivered to this User, in order. */
  alertsFor(userId: string): DeliveredAlert[]
  /** DCC Alerts raised to this User, in order. */
  dccAlertsFor(userId: string): DccAlert[]
  /** Device alert counters, DCC-wide or for one recipient. */
  alertCounters(userId?: string): AlertCounters
  /** RequestIDs of Pre-Commands awaiting the User's signature. */
  pendingSignatures(): string[]
  /** Threshold Anomaly Detection state as it stands. */
  readonly anomalyState: AnomalyState | undefined
  /**
   * Runs every DCC Schedule run due at or before `upTo` (default now), oldest first, each as a
   * Service Request through the pipeline judged at its due time; resolves with their results
   * (also kept for the owners, see `scheduleResultsFor`). Calls are serialised.
   */
  runDueSchedules(upTo?: number): Promise<ScheduleRunResult[]>
  /** The User's DCC Schedules. */
  schedulesOf(userId: string): DccSchedule[]
  /** Results of the User's schedule runs, in order. */
  scheduleResultsFor(userId: string): ScheduleRunResult[]
  /** Every DCC Schedule as plain JSON (to save and give back as `config.schedules`). */
  readonly scheduleBook: ScheduleBook
  /** The installing Supplier lodges a device's install code (MP121 register); SAT `installCode` record. */
  lodgeInstallCode(userId: string, deviceId: string, installCode: string): InstallCodeAnswer
  /** A device's install code for the User, or why not; SAT `installCode` record. */
  obtainInstallCode(userId: string, deviceId: string): InstallCodeAnswer
  /** Install codes of many devices, one answer (code or per-device error) each; SAT records per device. */
  obtainInstallCodes(userId: string, deviceIds: readonly string[]): InstallCodeAnswer[]
}

interface Pending {
  requestId: string
  originator: Eui64
  sender: Eui64
  respondTo: Eui64
  role: DuisRole
  srv: string
  deviceId: Eui64
  preCommand: GeneralSigning
  eligibilityChecked: boolean
  /** DCC time (epoch ms) the Pre-Command was issued. */
  issuedAt: number
  /** The GBCS originator, whose certificate the signature must verify with. */
  commandOriginator: Eui64
}

const emptyCounters = (): AlertCounters => ({
  delivered: 0,
  blocked: 0,
  toUnregisteredSupplier: 0,
  undeliverable: 0,
})

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0')

const METER_TYPES: readonly string[] = ['ESME', 'GSME']

/** The DCC: Service Requests in, GBCS to devices, responses and alerts back, everything in the SAT. */
export function createDcc(config: DccConfig): Dcc {
  const { sat, backend } = config
  const permissions = config.permissions ?? DEFAULT_PERMISSIONS
  let anomalyState = config.anomaly?.state
  let cosCounter = config.cos.counter ?? 1n
  const signers = new Map<Eui64, Signer>()
  for (const [user, signer] of Object.entries(config.signers ?? {})) signers.set(parseEui(user), signer)
  const pending = new Map<string, Pending>()
  const preCommandTtlMs = config.preCommandTtlMs ?? DEFAULT_PRE_COMMAND_TTL_MS

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
  const delivered = new Map<Eui64, DeliveredAlert[]>()
  const dccAlerts = new Map<Eui64, DccAlert[]>()
  const counters = emptyCounters()
  const countersByUser = new Map<Eui64, AlertCounters>()
  const isCriticalAlert = config.isCriticalAlert ?? defaultIsCriticalAlert
  let scheduleBook: ScheduleBook = config.schedules ? structuredClone(config.schedules) : emptyScheduleBook()
  const scheduleResults = new Map<Eui64, ScheduleRunResult[]>()
  let scheduleChain: Promise<unknown> = Promise.resolve()

  const iso = () => new Date(config.now()).toISOString()
  const userKey = (userId: string): Eui64 | undefined => {
    try {
      return parseEui(String(userId))
    } catch {
      return undefined
    }
  }
  const push = <T>(map: Map<Eui64, T[]>, key: Eui64, item: T) => {
    const list = map.get(key)
    if (list) list.push(item)
    else map.set(key, [item])
  }

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

  function raiseDccAlert(alert: Omit<DccAlert, 'code' | 'at'>): DccAlert {
    const full: DccAlert = { ...alert, code: DCC_ALERT_CODES[alert.type], at: iso() }
    sat.append({
      kind: 'dccAlert',
      ...(full.requestId && { requestId: full.requestId }),
      user: full.recipient,
      ...(full.device && { device: full.device }),
      code: full.code,
      detail: {
        type: full.type,
        ...full.detail,
        ...(full.unconfirmed && { unconfirmed: full.unconfirmed }),
      },
    })
    push(dccAlerts, full.recipient, full)
    return full
  }

  /** A DUIS outcome after access control: recorded as a decision (refusal) or response (comms) record. */
  function finish(
    kind: 'decision' | 'response',
    p: {
      requestId: string
      respondTo: Eui64
      role?: DuisRole
      srv?: string
      deviceId?: Eui64
      originator?: Eui64
    },
    code: string,
    reason: string | undefined,
    detail: { [key: string]: JsonValue } = {},
  ): DuisResult {
    const entry: SatEntry = {
      kind,
      requestId: p.requestId,
      user: p.respondTo,
      ...(p.originator && p.originator !== p.respondTo && { businessOriginator: p.originator }),
      ...(p.role && { role: p.role }),
      ...(p.srv && { srv: p.srv }),
      ...(p.deviceId && { device: p.deviceId }),
      code,
      detail: { ...(reason && { reason }), ...detail },
    }
    sat.append(entry)
    return { code, requestId: p.requestId, ...(reason && { reason }) }
  }

  async function deliver(
    p: Pending | PipelineState,
    bytes: Uint8Array,
    extra: { [k: string]: JsonValue } = {},
  ) {
    let answer: Uint8Array | undefined
    try {
      answer = await config.transport(p.deviceId, bytes)
    } catch (e) {
      return finish(
        'response',
        p,
        COMMS_FAILURE_CODE,
        `transport to ${p.deviceId} failed: ${(e as Error).message}`,
        extra,
      )
    }
    if (!answer)
      return finish('response', p, NO_RESPONSE_CODE, `no response from device ${p.deviceId}`, {
        ...extra,
        unconfirmed: 'E21 for no response',
      })
    let frame: GbcsFrame
    try {
      frame = decodeFrame(answer)
    } catch (e) {
      return finish(
        'response',
        p,
        NO_RESPONSE_CODE,
        `the device's answer is not GBCS: ${(e as Error).message}`,
        extra,
      )
    }
    if (frame.signing.cra !== 'response' || frame.signing.originator !== p.deviceId)
      return finish(
        'response',
        p,
        NO_RESPONSE_CODE,
        `the device's answer is a ${frame.signing.cra} from ${frame.signing.originator}, not a response from ${p.deviceId}`,
        extra,
      )
    const json = frameToJson(frame)
    const view = json.payload.useCase
    const result = finish('response', p, SUCCESS_CODE, undefined, {
      ...extra,
      messageCode: json.messageCode,
      ...(json.messageName && { messageName: json.messageName }),
      originatorCounter: json.originatorCounter,
      responseRecipient: json.recipient,
      ...(view && { response: view as JsonValue }),
    })
    return { ...result, response: json, responseBytes: answer }
  }

  interface PipelineState {
    requestId: string
    originator: Eui64
    sender: Eui64
    respondTo: Eui64
    role: DuisRole
    srv: string
    deviceId: Eui64
  }

  /** A run of a DCC Schedule, when `submit` runs one. */
  interface ScheduleRunRef {
    scheduleId: string
    run: number
    dueAt: string
  }

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
          plainJson(request.parameters) && { parameters: auditedParameters(srv, request.parameters) }),
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
      if (decision.alert) result.dccAlerts = [quarantineAlert(decision.alert)]
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
    if (SCHEDULE_SRVS.includes(srv)) return scheduleRequest(p, granted, request, now)
    if (srv === '8.11') return updateHanDeviceLog(p, request, now)
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
      return buildRefusal(p, e)
    }
    if (!isCriticalMessageCode(pre.messageCode)) return protectAndSend(p, pre, undefined, deviceKa)

    const signer = signers.get(commandOriginator)
    if (!signer) {
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

  // --- DCC Schedules (SR 5.1, 5.2, 5.3) ---

  /** Why the scheduled request would not be permitted for `role` on the device at `now`, or undefined. */
  function scheduledRequestProblem(
    role: DuisRole,
    spec: ScheduleSpec,
    deviceId: Eui64,
    deviceType: string,
  ): { code: string; reason: string } | undefined {
    const srv = spec.srv
    const rule = permissions.srvs[srv]
    if (!rule) return { code: 'E2', reason: `the scheduled SRV '${srv}' is not in the permission matrix` }
    if (!rule.roles.includes(role))
      return { code: 'E2', reason: `role ${role} may not use the scheduled SRV ${srv} (${rule.name})` }
    if (rule.nonDevice || rule.critical || !GBCS_SRVS.includes(srv))
      return {
        code: BAD_PARAMETERS_CODE,
        reason: `SR ${srv} cannot be scheduled: only non-critical device SRVs the DCC builds (${GBCS_SRVS.filter(
          (s) => permissions.srvs[s] && !permissions.srvs[s]!.critical && !permissions.srvs[s]!.nonDevice,
        ).join(', ')})`,
      }
    const device = config.inventory.get(deviceId)
    if (!device) return { code: 'E19', reason: `device ${deviceId} is not in the Smart Metering Inventory` }
    if (rule.deviceTypes.length && !rule.deviceTypes.includes(device.type))
      return { code: 'E11', reason: `the scheduled SR ${srv} does not target a ${device.type}` }
    if (!METER_TYPES.includes(deviceType))
      return { code: NOT_BUILT_CODE, reason: `SR ${srv} to a ${deviceType} has no GBCS command here` }
    if (rule.smiStatuses.length && !rule.smiStatuses.includes(device.status))
      return {
        code: 'E5',
        reason: `device ${deviceId} is ${device.status}; SR ${srv} needs ${rule.smiStatuses.join(' or ')}`,
      }
    if (!(rule.commandVariants as number[]).includes(spec.commandVariant))
      return { code: 'E12', reason: `SR ${srv} is not sent as Command Variant ${spec.commandVariant}` }
    return undefined
  }

  function scheduleRequest(
    p: PipelineState,
    granted: AccessGranted,
    request: DuisRequest,
    now: number,
  ): DuisResult {
    const params = (request.parameters ?? {}) as { [k: string]: Json }
    if (p.srv === '5.1') {
      const parsed = parseScheduleParameters(params, now)
      if (!parsed.ok) return finish('decision', p, BAD_PARAMETERS_CODE, parsed.reason, { step: 'schedule' })
      const spec = parsed.spec
      const problem = scheduledRequestProblem(granted.role, spec, p.deviceId, String(request.deviceType))
      if (problem)
        return finish('decision', p, problem.code, problem.reason, {
          step: 'schedule',
          scheduledSrv: spec.srv,
        })
      // E4 for the scheduled SR at creation (5.1 itself was judged by access control already).
      if (permissions.srvs[spec.srv]!.eligibility === 'registration') {
        const eligibility = isEligibleUser(config, p.originator, granted.role, p.deviceId, new Date(now))
        if (!eligibility.eligible)
          return finish('decision', p, eligibility.code, eligibility.reason, {
            step: 'schedule',
            scheduledSrv: spec.srv,
          })
      }
      const created = createSchedule(scheduleBook, {
        ...spec,
        owner: p.originator,
        role: granted.role,
        deviceId: p.deviceId,
        deviceType: String(request.deviceType),
        at: new Date(now),
        createdBy: p.requestId,
      })
      scheduleBook = created.book
      const schedule = created.schedule
      const result = finish('response', p, SUCCESS_CODE, undefined, {
        step: 'schedule',
        scheduleId: schedule.scheduleId,
        scheduledSrv: spec.srv,
        start: schedule.start,
        intervalMs: schedule.intervalMs,
        ...(schedule.end && { end: schedule.end }),
      })
      return { ...result, schedule }
    }
    const scheduleId = params.scheduleId
    if (scheduleId !== undefined && typeof scheduleId !== 'string')
      return finish('decision', p, BAD_PARAMETERS_CODE, 'scheduleId: expected a string', { step: 'schedule' })
    if (p.srv === '5.3' && scheduleId === undefined)
      return finish('decision', p, BAD_PARAMETERS_CODE, 'SR 5.3 needs the scheduleId to delete', {
        step: 'schedule',
      })
    if (scheduleId !== undefined) {
      const found = findSchedule(scheduleBook, scheduleId)
      if (!found || found.request.deviceId !== p.deviceId)
        return finish(
          'decision',
          p,
          UNKNOWN_SCHEDULE_CODE,
          `no DCC Schedule ${scheduleId} for device ${p.deviceId}`,
          { step: 'schedule', scheduleId },
        )
      if (found.owner !== p.originator)
        return finish(
          'decision',
          p,
          NOT_SCHEDULE_OWNER_CODE,
          `DCC Schedule ${scheduleId} belongs to another User`,
          { step: 'schedule', scheduleId },
        )
    }
    if (p.srv === '5.2') {
      const schedules = schedulesOf(scheduleBook, p.originator, p.deviceId).filter(
        (x) => scheduleId === undefined || x.scheduleId === scheduleId,
      )
      const result = finish('response', p, SUCCESS_CODE, undefined, {
        step: 'schedule',
        scheduleIds: schedules.map((x) => x.scheduleId),
      })
      return { ...result, schedules }
    }
    const deleted = deleteSchedule(scheduleBook, p.originator, scheduleId as string)
    scheduleBook = deleted.book
    const result = finish('response', p, SUCCESS_CODE, undefined, {
      step: 'schedule',
      deleted: scheduleId as string,
    })
    return { ...result, ...(deleted.schedule && { schedule: deleted.schedule }) }
  }

  async function runDueSchedulesNow(upTo: number): Promise<ScheduleRunResult[]> {
    const out: ScheduleRunResult[] = []
    for (const due of dueRuns(scheduleBook, upTo)) {
      const schedule = findSchedule(scheduleBook, due.schedule.scheduleId)
      // Deleted, or run already, since the list was made.
      if (!schedule || schedule.nextRun > due.run) continue
      scheduleBook = recordRun(scheduleBook, schedule.scheduleId, due.run)
      const r = schedule.request
      const requestId = `${schedule.owner}:${r.deviceId}:${runCounter(schedule, due.run)}`
      const dueAt = new Date(due.dueAt).toISOString()
      const result = await submit(
        {
          requestId,
          role: schedule.role,
          srv: r.srv,
          commandVariant: r.commandVariant,
          deviceType: r.deviceType,
          parameters: structuredClone(r.parameters),
        },
        due.dueAt,
        { scheduleId: schedule.scheduleId, run: due.run, dueAt },
      )
      const entry: ScheduleRunResult = {
        scheduleId: schedule.scheduleId,
        run: due.run,
        owner: schedule.owner,
        srv: r.srv,
        deviceId: r.deviceId,
        dueAt,
        ranAt: iso(),
        requestId: result.requestId ?? requestId,
        result,
      }
      push(scheduleResults, schedule.owner, entry)
      out.push(entry)
    }
    return out
  }

  function runDueSchedules(upTo?: number): Promise<ScheduleRunResult[]> {
    const limit = upTo ?? config.now()
    const next = scheduleChain.then(() => runDueSchedulesNow(limit))
    scheduleChain = next.catch(() => undefined)
    return next
  }

  // --- SR 8.11 Update HAN Device Log (CCS01 add, as an in-process call to the CHF) ---

  async function updateHanDeviceLog(
    p: PipelineState,
    request: DuisRequest,
    now: number,
  ): Promise<DuisResult> {
    const params = (request.parameters ?? {}) as { [k: string]: Json }
    const step = { step: 'hanDeviceLog' }
    const action = params.action ?? 'add'
    if (action !== 'add')
      return finish(
        'decision',
        p,
        action === 'remove' ? NOT_BUILT_CODE : BAD_PARAMETERS_CODE,
        action === 'remove'
          ? 'SR 8.11 removal (CCS02) is not modelled'
          : `action: expected 'add' or 'remove', got ${JSON.stringify(action)}`,
        step,
      )
    let deviceId: Eui64
    try {
      deviceId = parseEui(String(params.deviceId))
    } catch {
      return finish(
        'decision',
        p,
        BAD_PARAMETERS_CODE,
        `deviceId: expected the EUI-64 of the device to add, got ${JSON.stringify(params.deviceId ?? null)}`,
        step,
      )
    }
    const device = config.inventory.get(deviceId)
    if (!device)
      return finish('decision', p, 'E19', `device ${deviceId} is not in the Smart Metering Inventory`, step)
    if (device.commsHub !== p.deviceId)
      return finish(
        'decision',
        p,
        BAD_PARAMETERS_CODE,
        `device ${deviceId} is not on CHF ${p.deviceId}'s HAN (its hub: ${device.commsHub ?? 'none'})`,
        step,
      )
    // Access control judged the User against the CHF (any meter on its hub); the device added must be one it may act for.
    const eligibility = isEligibleUser(config, p.originator, p.role, deviceId, new Date(now))
    if (!eligibility.eligible)
      return finish('decision', p, eligibility.code, eligibility.reason, { ...step, addedDevice: deviceId })
    if (params.installCode === undefined || params.installCode === null || params.installCode === '')
      return finish(
        'decision',
        p,
        NO_INSTALL_CODE_CODE,
        `SR 8.11 to add device ${deviceId} needs its install code (parameter installCode, 16 bytes hex)`,
        step,
      )
    let installCode: Uint8Array
    try {
      installCode = fromHex(String(params.installCode))
      if (installCode.length !== 16) throw new Error(`an install code is 16 bytes, got ${installCode.length}`)
    } catch (e) {
      return finish('decision', p, BAD_PARAMETERS_CODE, `installCode: ${(e as Error).message}`, step)
    }
    if (!config.hanDeviceLog)
      return finish('decision', p, NOT_BUILT_CODE, 'no way to the Communications Hub for SR 8.11 here', step)
    let outcome: HanDeviceLogOutcome
    try {
      outcome = await config.hanDeviceLog.addDevice(p.deviceId, {
        deviceId,
        deviceType: device.type,
        installCode,
      })
    } catch (e) {
      return finish(
        'response',
        p,
        COMMS_FAILURE_CODE,
        `transport to CHF ${p.deviceId} failed: ${(e as Error).message}`,
        step,
      )
    }
    const log = { commsHub: p.deviceId, deviceId, ...outcome }
    if (!outcome.accepted) {
      const refused = finish(
        'response',
        p,
        HAN_LOG_REFUSED_CODE,
        outcome.reason ?? `CHF ${p.deviceId} refused the device log entry`,
        { ...step, addedDevice: deviceId },
      )
      return { ...refused, hanDeviceLog: log }
    }
    // On the CHF's whitelist now (SMI: Pending → Whitelisted).
    if (device.status === 'Pending')
      config.inventory.setStatus(deviceId, 'Whitelisted', new Date(config.now()))
    const result = finish('response', p, SUCCESS_CODE, undefined, {
      ...step,
      addedDevice: deviceId,
      joined: outcome.joined === true,
      ...(outcome.reason && { chfReason: outcome.reason }),
    })
    const alert = raiseDccAlert({
      type: 'UpdateHANDeviceLogResult',
      recipient: p.respondTo,
      device: deviceId,
      requestId: p.requestId,
      detail: {
        commsHub: p.deviceId,
        joined: outcome.joined === true,
        ...(outcome.reason && { reason: outcome.reason }),
      },
      unconfirmed: ['detail'],
    })
    return { ...result, hanDeviceLog: log, dccAlerts: [alert] }
  }

  // --- the install code register (MP121) ---

  const installSources = () => ({
    registration: config.registration,
    inventory: config.inventory,
    users: config.users,
  })
  const installSettings = () => config.installCodes ?? DEFAULT_INSTALL_CODE_SETTINGS

  function auditInstallCode(user: string, action: 'lodge' | 'obtain', answers: InstallCodeAnswer[]) {
    const who = userKey(user)
    if (!who) return // unattributable: no SAT record can name a User
    for (const a of answers) {
      const device = userKey(a.deviceId)
      sat.append({
        kind: 'installCode',
        user: who,
        ...(device && { device }),
        code: a.ok ? SUCCESS_CODE : a.code,
        // Never the code itself.
        detail: {
          action,
          mp121: installSettings().mp121,
          ...(a.ok
            ? { grantedAs: a.grantedAs, ...(a.suppliedBy && { suppliedBy: a.suppliedBy }) }
            : { reason: a.reason }),
          ...(!device && { claimedDevice: String(a.deviceId) }),
        },
      })
    }
  }

  function buildRefusal(p: PipelineState, e: unknown): DuisResult {
    if (e instanceof ServiceRequestError) {
      const code =
        e.kind === 'wrong-device-type'
          ? 'E11'
          : e.kind === 'bad-parameters'
            ? BAD_PARAMETERS_CODE
            : NOT_BUILT_CODE
      return finish('decision', p, code, e.message, { step: 'build', kind: e.kind })
    }
    if (e instanceof CommandProtectionError)
      return finish('decision', p, BAD_PARAMETERS_CODE, e.message, { step: 'build', kind: e.kind })
    throw e
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
    return deliver(p, bytes, { messageCode: hex4(pre.messageCode) })
  }

  async function changeOfSupplier(
    p: PipelineState,
    granted: AccessGranted,
    sr: GbcsServiceRequest,
    requestCounter: bigint,
    deviceKa: PublicKeyRef,
    now: number,
  ): Promise<DuisResult> {
    const certs = config.userCertificates(p.originator)
    if (!certs?.keyAgreement)
      return finish(
        'decision',
        p,
        NOT_BUILT_CODE,
        `the SMKI repository has no certificates of ${p.originator}`,
        {
          step: 'build',
        },
      )
    const hex = (der: Uint8Array) => toHex(der).toUpperCase()
    const given = sr.parameters ?? {}
    const parameters: { [name: string]: Json } = {
      supplierDigitalSigningCertificate: hex(certs.digitalSigning),
      supplierKeyAgreementCertificate: hex(certs.keyAgreement),
      ...(certs.prepaymentTopUp && { supplierPrepaymentTopUpCertificate: hex(certs.prepaymentTopUp) }),
      certificationPath: (certs.certificationPath ?? []).map(hex),
      // The gaining Supplier's next commands must count above the floor: its RequestID counter (unconfirmed).
      supplierFloorSeqNumber: given.supplierFloorSeqNumber ?? Number(requestCounter),
      supplierPrepaymentTopUpFloorSeqNumber: given.supplierPrepaymentTopUpFloorSeqNumber ?? 0,
      ...(given.executionDateTime !== undefined && { executionDateTime: given.executionDateTime }),
      ...(given.applyTimeBasedCPVChecks !== undefined && {
        applyTimeBasedCPVChecks: given.applyTimeBasedCPVChecks,
      }),
    }
    const counter = cosCounter
    let bytes: Uint8Array
    try {
      bytes = changeOfSupplierCommand(
        { ...sr, parameters },
        { cos: config.cos, counter, acb: config.acb, deviceKaPublic: deviceKa, now },
        backend,
      )
    } catch (e) {
      return buildRefusal(p, e)
    }
    cosCounter = counter + 1n
    const result = await deliver(p, bytes, { cosCounter: counter.toString(), messageCode: '0107' })
    if (result.code !== SUCCESS_CODE) return result

    // DCC Alerts: the gaining Supplier learns the outcome; the losing Supplier that its credentials are gone.
    const outcome = result.response?.payload.useCase?.executionOutcome as
      | { replacementOutcomes?: { statusCode?: string }[] }
      | undefined
    const statuses = (outcome?.replacementOutcomes ?? []).map((o) => String(o.statusCode))
    const replaced = statuses.some((s) => s === 'success')
    const alerts: DccAlert[] = [
      raiseDccAlert({
        type: 'SecurityCredentialsUpdated',
        recipient: p.originator,
        device: p.deviceId,
        requestId: p.requestId,
        detail: { replacementStatuses: statuses },
        unconfirmed: ['recipient', 'code'],
      }),
    ]
    const losing = losingSupplier(granted)
    if (replaced && losing && losing !== p.originator)
      alerts.push(
        raiseDccAlert({
          type: 'ChangeOfSupplier',
          recipient: losing,
          device: p.deviceId,
          requestId: p.requestId,
          detail: { gainingSupplier: p.originator, replacementStatuses: statuses },
          unconfirmed: ['recipient', 'code'],
        }),
      )
    return { ...result, dccAlerts: alerts }
  }

  /** The supplier registered just before the gaining Supplier's registration took effect. */
  function losingSupplier(granted: AccessGranted): Eui64 | undefined {
    const reg = granted.registration
    if (!reg) return undefined
    const before = new Date(Date.parse(reg.from) - 1)
    return config.registration.registeredSupplierAt(reg.mpxn, before)?.user
  }

  function quarantineAlert(alert: QuarantinedRequestAlert): DccAlert {
    return raiseDccAlert({
      type: 'QuarantinedRequest',
      recipient: alert.recipient,
      requestId: alert.requestId,
      detail: { breach: alert.breach, quarantineEventRef: alert.quarantineEventRef, srv: alert.srv },
    })
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
    return deliver(p, command, { messageCode: hex4(p.preCommand.messageCode), commandVariant: 5 })
  }

  function countersOf(user: Eui64): AlertCounters {
    let c = countersByUser.get(user)
    if (!c) {
      c = emptyCounters()
      countersByUser.set(user, c)
    }
    return c
  }

  /** Whether `user` is a supplier not registered for the device at `at` (DP072). */
  function unregisteredSupplier(user: Eui64, deviceId: Eui64, at: Date): boolean {
    const record = config.users.get(user)
    const roles = (record?.roles ?? []).filter((r) => SUPPLIER_ROLES.includes(r))
    if (roles.length === 0) return false
    return !roles.some((role) => isEligibleUser(config, user, role, deviceId, at).eligible)
  }

  function deliverAlert(deviceIdText: string, bytes: Uint8Array): AlertOutcome {
    const undeliverable = (reason: string): AlertOutcome => {
      counters.undeliverable++
      return { delivered: false, reason }
    }
    let deviceId: Eui64
    try {
      deviceId = parseEui(String(deviceIdText))
    } catch {
      return undeliverable(`'${String(deviceIdText)}' is not a Device ID`)
    }
    let frame: GbcsFrame
    try {
      frame = decodeFrame(bytes)
    } catch (e) {
      return undeliverable(`alert from ${deviceId} is not GBCS: ${(e as Error).message}`)
    }
    const s = frame.signing
    if (s.cra !== 'alert') return undeliverable(`a ${s.cra} from ${deviceId} is not an alert`)
    if (s.originator !== deviceId)
      return undeliverable(`alert from ${s.originator} arrived as from device ${deviceId}`)
    const json = frameToJson(frame)
    const alertCodeField = json.payload.useCase?.alertCode
    const alertCode = typeof alertCodeField === 'string' ? alertCodeField.toUpperCase() : hex4(s.messageCode)
    const critical = isCriticalAlert({
      messageCode: s.messageCode,
      alertCode,
      signed: s.signature.kind === 'ecdsa',
    })
    const recipient = s.recipient
    const at = new Date(config.now())
    // Counted whatever their kind; only non-critical ones are blocked, and only with the remedy on.
    const toUnregistered = unregisteredSupplier(recipient, deviceId, at)
    const blocked = toUnregistered && !critical && config.blockAlertsToUnregisteredSuppliers === true
    const known = config.users.get(recipient) !== undefined
    const mine = countersOf(recipient)
    if (toUnregistered) {
      counters.toUnregisteredSupplier++
      mine.toUnregisteredSupplier++
    }
    const alert: DeliveredAlert = {
      device: deviceId,
      recipient,
      alertCode,
      messageCode: s.messageCode,
      critical,
      receivedAt: at.toISOString(),
      frame: json,
      bytes: bytes.slice(),
    }
    const deliveredNow = known && !blocked
    sat.append({
      kind: 'alert',
      user: recipient,
      device: deviceId,
      code: alertCode,
      detail: {
        messageCode: hex4(s.messageCode),
        critical,
        alertCounter: json.originatorCounter,
        delivered: deliveredNow,
        ...(toUnregistered && { toUnregisteredSupplier: true }),
        ...(blocked && { blocked: 'DP072: non-critical alert to a supplier not registered for the device' }),
        ...(!known && { reason: `${recipient} is not a DCC User` }),
      },
    })
    if (!known) {
      counters.undeliverable++
      mine.undeliverable++
      return { delivered: false, reason: `${recipient} is not a DCC User`, alert }
    }
    if (blocked) {
      counters.blocked++
      mine.blocked++
      return {
        delivered: false,
        blocked: true,
        reason: `supplier ${recipient} is not registered for device ${deviceId}: non-critical alert blocked (DP072)`,
        alert,
      }
    }
    counters.delivered++
    mine.delivered++
    push(delivered, recipient, alert)
    return { delivered: true, alert }
  }

  return {
    submit: async (request) => submit(request ?? ({} as DuisRequest)),
    submitSigned,
    deliverAlert,
    alertsFor: (userId) => [...(delivered.get(userKey(userId) as Eui64) ?? [])],
    dccAlertsFor: (userId) => [...(dccAlerts.get(userKey(userId) as Eui64) ?? [])],
    alertCounters: (userId) => {
      if (userId === undefined) return { ...counters }
      const key = userKey(userId)
      return { ...((key && countersByUser.get(key)) || emptyCounters()) }
    },
    pendingSignatures: () => {
      expirePreCommands(config.now())
      return [...pending.keys()]
    },
    get anomalyState() {
      return anomalyState
    },
    runDueSchedules,
    schedulesOf: (userId) => {
      const key = userKey(userId)
      return key ? structuredClone(schedulesOf(scheduleBook, key)) : []
    },
    scheduleResultsFor: (userId) => [...(scheduleResults.get(userKey(userId) as Eui64) ?? [])],
    get scheduleBook() {
      return structuredClone(scheduleBook)
    },
    lodgeInstallCode: (userId, deviceId, installCode) => {
      const answer = lodgeInstallCode(installSources(), userId, deviceId, installCode, new Date(config.now()))
      auditInstallCode(userId, 'lodge', [answer])
      return answer
    },
    obtainInstallCode: (userId, deviceId) => {
      const [answer] = obtainInstallCodes(
        installSources(),
        installSettings(),
        userId,
        [deviceId],
        new Date(config.now()),
      )
      auditInstallCode(userId, 'obtain', [answer!])
      return answer!
    },
    obtainInstallCodes: (userId, deviceIds) => {
      const answers = obtainInstallCodes(
        installSources(),
        installSettings(),
        userId,
        Array.isArray(deviceIds) ? deviceIds : [],
        new Date(config.now()),
      )
      auditInstallCode(userId, 'obtain', answers)
      return answers
    },
  }
}

const SCHEDULE_SRVS: readonly string[] = ['5.1', '5.2', '5.3']

/** The parameters as the SAT keeps them: an SR 8.11 install code is not written to the audit trail. */
function auditedParameters(srv: string, parameters: object): JsonValue {
  const copy = { ...(parameters as { [k: string]: JsonValue }) }
  if (srv === '8.11' && copy.installCode !== undefined) copy.installCode = '(redacted)'
  return copy
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

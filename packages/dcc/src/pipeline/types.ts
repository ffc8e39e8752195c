/**
 * The public types of the DCC's Service Request pipeline (`createDcc` in `dcc.ts`): the DUIS
 * Service Request and its answer, the DCC's configuration (every I/O it does goes through it),
 * the DCC object, and what it hands back — DCC Alerts, delivered device alerts, alert counters,
 * DCC Schedule run results and SR 8.11's Communications Hub interface.
 */
import type { Eui64 } from '@smetsim/core'
import type { CryptoBackend, FrameJson, Json, PublicKeyRef } from '@smetsim/gbcs'
import type { AnomalyConfig, AnomalyState } from '../access/anomaly.ts'
import type { AccessContext, SolrContingencySettings } from '../access/check.ts'
import type { PermissionMatrix } from '../access/permissions.ts'
import type { DccAlertType } from '../duis-codes.ts'
import type { AccessControlBroker, CosParty, Signer } from '../gbcs/construct.ts'
import type { InstallCodeAnswer, InstallCodeSettings } from '../registration/install-codes.ts'
import type { SmartMeteringInventory } from '../registration/inventory.ts'
import type { RegistrationData } from '../registration/registration.ts'
import type { JsonValue } from '../sat/record.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import type { DccSchedule, ScheduleBook, ScheduleLimits } from '../schedules/schedules.ts'
import type { DCC_STATE, DccRuntimeState } from '../state.ts'
import type { AlertPage, AlertQueueLimits } from './alert-queue.ts'
import type { FutureDatedLimits } from './future-dated.ts'
import type { PreCommandLimits } from './pre-commands.ts'

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
  /**
   * SR 5.1–5.3 only: the device the body's DUIS `DeviceID` names, when the RequestID targets the
   * DCC (DUIS's form for these Non-Device SRVs; `scheduleDevice` in dcc-schedules.ts). Ignored for
   * other SRVs.
   */
  deviceId?: string
  /** Serial of the SMKI certificate the request was signed with (checked for revocation). */
  signerCertificate?: string
  /** Execution date-time of a future-dated request (E4 is judged then). */
  executionDateTime?: string
  /**
   * The EUI-64 of the User the transport authenticated (mutual TLS, a signed request): when given,
   * the request is refused (E1) unless it is the sender — `sender`, else the RequestID's Business
   * Originator. Absent for in-process use.
   */
  caller?: string
}

/** The DUIS answer to a request or to a signed Pre-Command. */
export interface DuisResult {
  /** DUIS response code (duis-codes.ts): I0, I99, E1 … E30, or an SRV-specific one such as E050101. */
  code: string
  /** The RequestID, normalised (absent when it could not be read). */
  requestId?: string
  /** Why, for every code but I0 and I99. */
  reason?: string
  /** CV4: the Pre-Command for the User to sign and return with `submitSigned`. */
  preCommand?: Uint8Array
  awaitingSignature?: true
  /** I99: quarantined by Threshold Anomaly Detection (not sent; see the QuarantinedRequest DCC Alert). */
  quarantined?: true
  /** I99: a future-dated command the device has acknowledged; it completes with the device's outcome alert. */
  futureDated?: { executionDateTime: string }
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
 * SR 8.11 as an in-process command to the Communications Hub, which the hub's head end
 * implements (packages/hub `HeadEnd.addDevice`). Not GBCS: the DCC does not build CCS01/CCS02 frames.
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
  /** DCC-wide alert sequence number, shared with device alerts: increasing, for paging. */
  seq: number
  /** The DUIS DCCAlert element it is (the XSD's choice names). */
  type: DccAlertType
  /** DUIS DCCAlertCode, where known (DCC_ALERT_CODES); absent when DUIS's code for the type is not known to us. */
  code?: string
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
  /** DCC-wide alert sequence number, shared with DCC Alerts: increasing, for paging. */
  seq: number
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
  /** The request the alert reports the outcome of (a future-dated command's 0x8F66 / 0x8F67). */
  requestId?: string
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
  /** The SMKI revocation list; read at every check (replace or reload it and the next check sees it). */
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
  /** Caps on the Pre-Commands waiting (per User, DCC-wide); `preCommandTtlMs` wins over `ttlMs`. */
  preCommands?: Partial<PreCommandLimits>
  /** Alerts kept for Users to fetch: per User, and how long (default DUIS's two days). */
  alerts?: Partial<AlertQueueLimits>
  /** Future-dated commands awaiting their outcome: how long after their time (E30), and how many. */
  futureDated?: Partial<FutureDatedLimits>
  /** Caps on DCC Schedules (per User, per User and device). */
  scheduleLimits?: Partial<ScheduleLimits>
  /** The DP072 remedy (off by default, as in the SEC today): do not deliver non-critical alerts to a supplier not registered for the device. */
  blockAlertsToUnregisteredSuppliers?: boolean
  /** Whether a device alert is critical; default `defaultIsCriticalAlert`. */
  isCriticalAlert?(alert: { messageCode: number; alertCode: string; signed: boolean }): boolean
  /** SR 8.11's way to the Communications Hub; without it 8.11 is answered E11 (NOT_BUILT_CODE). */
  hanDeviceLog?: HanDeviceLogTransport
  /** The install code register's MP121 switch, read at every call (default off). */
  installCodes?: InstallCodeSettings
  /** DCC Schedules held at start (default none). */
  schedules?: ScheduleBook
  /**
   * A DCC's state from before a restart (`state.ts`: `exportDccState` / `restoreDccState`):
   * alert sequence, queues and counters, Pre-Commands awaiting a signature, the CoS Party's
   * counter, anomaly detection state (which then wins over `anomaly.state`).
   */
  restore?: DccRuntimeState
}

export interface Dcc {
  /** Takes a DUIS Service Request; never throws on bad input (the answer is a DUIS code). */
  submit(request: DuisRequest): Promise<DuisResult>
  /**
   * DUIS CV5: the User's signed Pre-Command for a request answered with `awaitingSignature`;
   * `caller`, when given, must be the User the Pre-Command was sent to (the request's sender).
   */
  submitSigned(requestId: string, signed: Uint8Array, caller?: string): Promise<DuisResult>
  /** A device alert arrives from the device (through its hub). */
  deliverAlert(deviceId: string, bytes: Uint8Array): AlertOutcome
  /** Device alerts delivered to this User and still held, in seq order; a page with `afterSeq` / `limit`. */
  alertsFor(userId: string, page?: AlertPage): DeliveredAlert[]
  /** DCC Alerts raised to this User and still held, in seq order; a page with `afterSeq` / `limit`. */
  dccAlertsFor(userId: string, page?: AlertPage): DccAlert[]
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
  /** The state `exportDccState` (state.ts) reads: not for other use. */
  readonly [DCC_STATE]: () => DccRuntimeState
}

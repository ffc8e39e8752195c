/**
 * The DSP's access control for one DUIS Service Request, in the order of DOMAIN.md 3.5 (the
 * order is unconfirmed; the codes are DUIS's except where marked):
 *
 *  1. E1  the User-Role is valid: a DUIS role, held by the Business Originator (the RequestID's
 *         originator), which is a registered User; a sender other than the Business Originator
 *         (a Shared Resource Provider) must be a registered User allowed to send for it
 *         (`sendsFor`, unconfirmed how the DCC records SRP arrangements);
 *  2. E2  the role may use the SRV: the SRV is in the permission matrix and lists the role; the
 *         SoLR Contingency role (MP134B) may use only the SRVs on the SoLR Contingency list
 *         (default ['1.6']);
 *  3. E3  the Business Originator's and the sender's User status is active;
 *  4. E19 the target device is in the Smart Metering Inventory (SR 12.2 Device Pre-notification
 *         may name a device the DCC does not know yet: the device checks are then skipped);
 *  5. E5  the device's SMI status fits the SRV;
 *  6. E11 the device type fits the SRV; E12 the DUIS Command Variant fits the SRV;
 *  7. E4  the Business Originator is an Eligible User for the device at the relevant time (the
 *         request's execution time if future-dated, else `at`) from Registration Data — the
 *         registered supplier or network operator by Supply Start Date. For the SoLR Contingency
 *         role instead: the device's registered supplier then must be on the failed-supplier list
 *         (MP134B), which stops working once the failed supplier's MPIDs move to the SoLR (MP185);
 *  8. E1  (fallback, see duis-codes.ts) the SMKI certificates stand (`revocation.ts`): a signer
 *         certificate named must be the sender's (or its principal's) and not revoked; not every
 *         certificate of the sender is revoked; a request sent for another party (an SRP for its
 *         Business Originator, a SoLR Contingency request for the failed Supplier) fails once that
 *         party's certificates are all revoked (MP134A, seeds 000 and 001). The revocation list is
 *         read at this check, every time;
 *  9. Threshold Anomaly Detection: a breach quarantines the request — acknowledged (I99, with
 *         `quarantined`) but not sent — and yields a QuarantinedRequest DCC Alert (AD1); whether
 *         DUIS acknowledges a quarantined request is unconfirmed;
 * 10. I99 accepted: acknowledged after access control, to be built into GBCS and sent.
 *
 * Every outcome, accepted or not, is appended to the Service Audit Trail as one 'decision'
 * record: `user` is the sender (so for an SRP in the SoLR Contingency role the SAT records the
 * sender, as MP134B requires), `businessOriginator` when it differs, and `detail` says which
 * step decided and why; text the request claims (role, SRV, device) is kept clipped. Only a
 * request that cannot be attributed at all (a malformed RequestID or sender ID) throws an
 * AccessRequestError without a SAT record, for the caller to record and answer as malformed.
 */
import { type Eui64, isEui, parseEui } from '@smetsim/core'
import { ACKNOWLEDGED_CODE, CERTIFICATE_REVOKED_CODE } from '../duis-codes.ts'
import { isEligibleUser } from '../registration/eligibility.ts'
import type { DeviceRecord, SmartMeteringInventory } from '../registration/inventory.ts'
import type { RegisteredParty, RegistrationData } from '../registration/registration.ts'
import { isoTime, type When } from '../registration/time.ts'
import { type DuisRole, isDuisRole } from '../roles.ts'
import { type JsonValue, normaliseRequestId, type SatRecord } from '../sat/record.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import {
  type AnomalyConfig,
  type AnomalyState,
  DEFAULT_ANOMALY_CONFIG,
  detectAnomaly,
  emptyAnomalyState,
  type QuarantinedRequestAlert,
  quarantinedRequestAlert,
} from './anomaly.ts'
import type { PermissionMatrix, SrvRule } from './permissions.ts'
import { certificateProblem, type RevocationStatus } from './revocation.ts'
import type { DccUser } from './users.ts'

/** DUIS I99: acknowledged after access control. */
export const ACCEPTED_CODE = ACKNOWLEDGED_CODE
/**
 * The code of a quarantined request: I99, acknowledged but held (`quarantined: true`); the
 * QuarantinedRequest DCC Alert carries AD1 (unconfirmed: see duis-codes.ts).
 */
export const QUARANTINED_CODE = ACKNOWLEDGED_CODE

/** Longest claimed text (role, SRV, device, sender) kept in a decision record or reason. */
export const CLAIM_CHARS = 64

/** `text` clipped to `max` characters, marked when it was longer (so no caller can grow a SAT record or reason). */
export function clip(text: string, max = CLAIM_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}

export type AccessStep =
  | 'role'
  | 'srv'
  | 'userStatus'
  | 'device'
  | 'smiStatus'
  | 'deviceType'
  | 'commandVariant'
  | 'eligibility'
  | 'certificate'
  | 'anomaly'

export type AccessFailureCode =
  | 'E1'
  | 'E2'
  | 'E3'
  | 'E4'
  | 'E5'
  | 'E11'
  | 'E12'
  | 'E19'
  | typeof QUARANTINED_CODE

/** A DUIS Service Request as access control needs it (the payload is not looked at here). */
export interface ServiceRequest {
  /** DUIS RequestID `originator:target:counter`; the originator is the Business Originator. */
  requestId: string
  /** The User that sent it, when not the Business Originator (a Shared Resource Provider). */
  sender?: string
  /** The DUIS User Role claimed (text as received). */
  role: string
  /** Service Reference Variant, e.g. '1.6'. */
  srv: string
  /** DUIS Command Variant 1–8. */
  commandVariant: number
  /** The target device; default: the RequestID's target. */
  device?: string
  /** Serial of the SMKI certificate the request (or signed Pre-Command) was signed with. */
  signerCertificate?: string
  /** Execution date-time of a future-dated request: E4 is judged then (unconfirmed). */
  executionDateTime?: When
}

/** MP134B's SoLR Contingency controls. */
export interface SolrContingencySettings {
  /** SRVs the SoLR Contingency role may use; MP134B: SR 1.6 only, configurable. */
  srvs: string[]
  /** Supplier Users (EUI-64) on the failed-supplier list. */
  failedSuppliers: string[]
}

export const DEFAULT_SOLR_CONTINGENCY: SolrContingencySettings = Object.freeze({
  srvs: Object.freeze(['1.6']) as unknown as string[],
  failedSuppliers: Object.freeze([]) as unknown as string[],
})

export interface AccessContext {
  permissions: PermissionMatrix
  /** The User register: a UserDirectory or anything with the same `get`. */
  users: { get(userId: string): DccUser | undefined }
  registration: RegistrationData
  inventory: SmartMeteringInventory
  /** The SMKI revocation list (`openRevocationList(path)` fits), read at every check; without it revocation is not checked. */
  revocation?: RevocationStatus
  /** Threshold Anomaly Detection configuration and state; without it DEFAULT_ANOMALY_CONFIG and an empty state are used. */
  anomaly?: { config?: AnomalyConfig; state?: AnomalyState }
  /** Default DEFAULT_SOLR_CONTINGENCY. */
  solrContingency?: SolrContingencySettings
  /** Where every decision is recorded. */
  sat: ServiceAuditTrail
}

interface DecisionBase {
  requestId: string
  businessOriginator: Eui64
  sender: Eui64
  /** Who gets the response and DCC Alerts: the sender for the SoLR Contingency role (MP134B), else the Business Originator (unconfirmed for other SRP requests). */
  respondTo: Eui64
  srv: string
  /** The SAT record of this decision. */
  satRecord: SatRecord
}

export interface AccessGranted extends DecisionBase {
  ok: true
  code: typeof ACCEPTED_CODE
  role: DuisRole
  rule: SrvRule
  critical: boolean
  commandVariant: number
  /** The target's SMI record (absent for a Pre-notification of an unknown device). */
  device?: DeviceRecord
  /** The registration that made the Business Originator eligible, when E4 was checked. */
  registration?: RegisteredParty
  /** SoLR Contingency: the failed supplier registered for the device. */
  failedSupplier?: Eui64
  /** Threshold Anomaly Detection state with this request counted: keep it for the next check. */
  anomalyState: AnomalyState
}

export interface AccessRefused extends DecisionBase {
  ok: false
  code: AccessFailureCode
  step: AccessStep
  reason: string
  /** Set when anomaly detection quarantined the request (code I99: acknowledged, not sent). */
  quarantined?: true
  /** The QuarantinedRequest DCC Alert to deliver to `respondTo`. */
  alert?: QuarantinedRequestAlert
  /** Threshold Anomaly Detection state after this request (changed only by a quarantine). */
  anomalyState?: AnomalyState
}

export type AccessDecision = AccessGranted | AccessRefused

export class AccessRequestError extends Error {
  override name = 'AccessRequestError'
}

/** Runs the access-control checks for `request` at time `at` and records the decision in the SAT. */
export function checkServiceRequest(
  request: ServiceRequest,
  context: AccessContext,
  at: When,
): AccessDecision {
  let requestId: string
  try {
    requestId = normaliseRequestId(String(request.requestId))
  } catch (e) {
    throw new AccessRequestError(`malformed DUIS RequestID: ${(e as Error).message}`)
  }
  const [originator, target] = requestId.split(':') as [Eui64, Eui64, string]
  let sender: Eui64
  try {
    sender = request.sender === undefined ? originator : parseEui(String(request.sender))
  } catch (e) {
    throw new AccessRequestError(`malformed sender ID: ${(e as Error).message}`)
  }
  const when = isoTime(at, 'at')
  const solr = context.solrContingency ?? DEFAULT_SOLR_CONTINGENCY
  const role = isDuisRole(request.role) ? request.role : undefined
  const srv = String(request.srv)
  const deviceText =
    request.device === undefined
      ? target
      : String(request.device)
          .replace(/[\s:-]/g, '')
          .toUpperCase()
  const deviceId = isEui(deviceText) ? deviceText : undefined
  const respondTo = role === 'SoLRC' ? sender : originator
  const anomalyIn = context.anomaly?.state

  const base = { requestId, businessOriginator: originator, sender, respondTo, srv }
  const detailBase: Record<string, JsonValue> = {
    commandVariant:
      typeof request.commandVariant === 'number'
        ? request.commandVariant
        : clip(String(request.commandVariant)),
    checkedAt: when,
  }
  if (!role) detailBase.claimedRole = clip(String(request.role))
  if (!/^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/.test(srv) || srv.length > 16) detailBase.claimedSrv = clip(srv)
  if (request.device !== undefined && !deviceId) detailBase.claimedDevice = clip(String(request.device))

  const audit = (code: string, detail: Record<string, JsonValue>): SatRecord =>
    context.sat.append({
      kind: 'decision',
      requestId,
      user: sender,
      ...(sender !== originator && { businessOriginator: originator }),
      ...(role && { role }),
      ...(detailBase.claimedSrv === undefined && { srv }),
      ...(deviceId && { device: deviceId }),
      code,
      detail: { ...detailBase, ...detail },
    })

  const refuse = (
    code: AccessFailureCode,
    step: AccessStep,
    reason: string,
    extra: Record<string, JsonValue> = {},
  ): AccessRefused => ({
    ok: false,
    ...base,
    code,
    step,
    reason,
    satRecord: audit(code, { step, reason, ...extra }),
    ...(anomalyIn && { anomalyState: anomalyIn }),
  })

  // 1. E1: the User-Role
  const user = context.users.get(originator)
  if (!role) return refuse('E1', 'role', `'${clip(String(request.role))}' is not a DUIS User Role`)
  if (!user) return refuse('E1', 'role', `Business Originator ${originator} is not a DCC User`)
  if (!user.roles.includes(role))
    return refuse('E1', 'role', `User ${originator} (${user.name}) does not hold the ${role} role`)
  let senderUser = user
  if (sender !== originator) {
    const found = context.users.get(sender)
    if (!found) return refuse('E1', 'role', `sender ${sender} is not a DCC User`)
    if (!found.sendsFor.includes(originator))
      return refuse(
        'E1',
        'role',
        `sender ${sender} (${found.name}) may not send for ${originator} (${user.name})`,
      )
    senderUser = found
  }

  // 2. E2: the role may use the SRV
  const rule = context.permissions.srvs[srv]
  if (!rule) return refuse('E2', 'srv', `SRV '${clip(srv)}' is not in the permission matrix`)
  if (role === 'SoLRC') {
    if (!solr.srvs.includes(srv))
      return refuse(
        'E2',
        'srv',
        `the SoLR Contingency role may use only SRV ${solr.srvs.join(', ') || '(none)'}, not ${srv}`,
      )
  } else if (!rule.roles.includes(role))
    return refuse(
      'E2',
      'srv',
      `role ${role} may not use SRV ${srv} (${rule.name}): only ${rule.roles.join(', ')}`,
    )

  // 3. E3: User status
  if (user.status !== 'active')
    return refuse('E3', 'userStatus', `User ${originator} (${user.name}) is ${user.status}`)
  if (senderUser.status !== 'active')
    return refuse('E3', 'userStatus', `sender ${sender} (${senderUser.name}) is ${senderUser.status}`)

  // 4. E19: device known
  const device = deviceId ? context.inventory.get(deviceId) : undefined
  if (!deviceId)
    return refuse('E19', 'device', `'${clip(String(request.device))}' is not a Device ID (EUI-64)`)
  if (!device && rule.deviceMustBeKnown)
    return refuse('E19', 'device', `device ${deviceId} is not in the Smart Metering Inventory`)

  let registration: RegisteredParty | undefined
  let failedSupplier: Eui64 | undefined
  if (device) {
    // 5. E5: SMI status
    if (rule.smiStatuses.length && !rule.smiStatuses.includes(device.status))
      return refuse(
        'E5',
        'smiStatus',
        `device ${deviceId} is ${device.status}; SRV ${srv} needs ${rule.smiStatuses.join(' or ')}`,
      )
    // 6. E11: device type
    if (rule.deviceTypes.length && !rule.deviceTypes.includes(device.type))
      return refuse(
        'E11',
        'deviceType',
        `device ${deviceId} is a ${device.type}; SRV ${srv} targets ${rule.deviceTypes.join(', ')}`,
      )
  }
  // 6. E12: command variant
  if (!(rule.commandVariants as number[]).includes(request.commandVariant))
    return refuse(
      'E12',
      'commandVariant',
      `SRV ${srv} is not sent as Command Variant ${clip(String(request.commandVariant))}: only ${rule.commandVariants.join(', ')}`,
    )

  // 7. E4: Eligible User at the relevant time
  const eligibleAt =
    request.executionDateTime === undefined ? when : isoTime(request.executionDateTime, 'executionDateTime')
  if (device && rule.eligibility === 'registration') {
    if (role === 'SoLRC') {
      failedSupplier = failedSupplierOf(context, solr, deviceId, eligibleAt)
      if (!failedSupplier)
        return refuse(
          'E4',
          'eligibility',
          `device ${deviceId}'s registered supplier at ${eligibleAt} is not on the failed-supplier list`,
          { eligibleAt },
        )
    } else {
      const eligibility = isEligibleUser(context, originator, role, deviceId, eligibleAt)
      if (!eligibility.eligible)
        return refuse(
          eligibility.code,
          eligibility.code === 'E4' ? 'eligibility' : 'device',
          eligibility.reason,
          {
            eligibleAt,
          },
        )
      registration = eligibility.registration
    }
  }

  // 8. the SMKI certificates stand (revocation.ts; E1 fallback): the revocation list is read now
  const principal = failedSupplier
    ? context.users.get(failedSupplier)
    : sender !== originator
      ? user
      : undefined
  const certificates = certificateProblem(
    {
      ...(request.signerCertificate !== undefined && { signerCertificate: request.signerCertificate }),
      sender: senderUser,
      ...(principal && { onBehalfOf: principal }),
    },
    context.revocation,
  )
  if (certificates) return refuse(CERTIFICATE_REVOKED_CODE, 'certificate', certificates)

  // 9. Threshold Anomaly Detection
  const config = context.anomaly?.config ?? DEFAULT_ANOMALY_CONFIG
  const anomaly = detectAnomaly(
    config,
    anomalyIn ?? emptyAnomalyState(),
    { user: originator, role, srv },
    when,
  )
  if (anomaly.decision.quarantine) {
    const decision = anomaly.decision
    const alert = quarantinedRequestAlert(decision, { requestId, srv, recipient: respondTo }, when)
    return {
      ok: false,
      ...base,
      code: QUARANTINED_CODE,
      step: 'anomaly',
      reason: decision.reason,
      quarantined: true,
      alert,
      anomalyState: anomaly.state,
      satRecord: audit(QUARANTINED_CODE, {
        step: 'anomaly',
        reason: decision.reason,
        quarantined: true,
        breach: decision.breach,
        quarantineEventRef: decision.quarantineEventRef,
        alertTo: respondTo,
        ...(failedSupplier && { failedSupplier, sender }),
      }),
    }
  }

  // 10. accepted
  return {
    ok: true,
    ...base,
    code: ACCEPTED_CODE,
    role,
    rule,
    critical: rule.critical,
    commandVariant: request.commandVariant,
    ...(device && { device }),
    ...(registration && { registration }),
    ...(failedSupplier && { failedSupplier }),
    anomalyState: anomaly.state,
    satRecord: audit(ACCEPTED_CODE, {
      step: 'accepted',
      critical: rule.critical,
      ...(registration && { registeredMpid: registration.mpid, registeredFrom: registration.from }),
      ...(failedSupplier && { failedSupplier, sender }),
    }),
  }
}

/** The failed supplier registered for the device at `at` (as import or gas supplier), if any. */
function failedSupplierOf(
  sources: { registration: RegistrationData; inventory: SmartMeteringInventory },
  solr: SolrContingencySettings,
  deviceId: string,
  at: string,
): Eui64 | undefined {
  for (const supplier of solr.failedSuppliers) {
    const eui = parseEui(supplier)
    for (const role of ['IS', 'GS'] as const)
      if (isEligibleUser(sources, eui, role, deviceId, at).eligible) return eui
  }
  return undefined
}

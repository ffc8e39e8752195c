/**
 * CS02b Update Security Credentials: replace the certificates in trust anchor cells.
 *
 * The command has been authenticated already: its MAC by the ACB, its signature (when the mode
 * has one) against the digital-signing cell of the role its message code needs, and that role's
 * authority for the message code (authority.ts COMMAND_RULES). The message code names the
 * credentials replacement mode (0x0100 + mode; authority.ts REPLACEMENT_MODES), and the command
 * is refused, nothing replaced and nothing answered, unless its payload keeps to that mode:
 *
 *  - credentialsReplacementMode is the message code's mode, and
 *    authorisingRemotePartyTACellIdentifier names the mode's authorising cell — the very cell the
 *    signature was checked against — or, for accessControlBrokerByACB, is left out (GBCS v0.8.1
 *    13.3, Requirements for AuthorisingRemotePartyControl elements); authorisingRemotePartySeqNumber
 *    is the frame's counter. Otherwise 0x8F1E (integrity: the content disagrees with its header);
 *  - every replacement targets a cell of the mode's own role(s): a supplierBySupplier or
 *    supplierByTransCoS only the supplier cells, networkOperatorByNetworkOperator the network
 *    operator's, accessControlBrokerByACB the ACB's, transCoSByTransCoS the transitional CoS
 *    party's; a target of any other role (root, recovery, another party) refuses the whole
 *    command with 0x8F30 (the source has no authority for it), and a cell named twice with 0x8F1E.
 *    GBCS's per-cell status codes (success, badCertificate, noTrustAnchor, insufficientMemory,
 *    trustAnchorNotFound, resourcesBusy, other: SmartDCCInnovation/gbcs-parser src/asn1.ts) have
 *    none for "not authorised" (RFC 5934's notAuthorized is not among them), which is why an
 *    unauthorised target refuses the command rather than failing its cell (our reading of
 *    GBCS 13.3, whose processing text is not public here: unconfirmed).
 *
 * Then each replacement certificate is checked — the role and key usage the target cell needs,
 * and a certification path to the root cell through the certificates the command carries — and
 * the cells that pass are replaced; a target of the mode's role that names no cell the device
 * has is trustAnchorNotFound. Counters (anti-replay floors):
 *
 *  - otherRemotePartySeqNumberChanges set the counters of the other roles whose cells were
 *    replaced (supplierByTransCoS: the gaining supplier's), their prepayment top-up specialist
 *    floor the top-up counter;
 *  - newRemotePartyFloorSeqNumber sets the mode's own role's counter only on a change of control
 *    (a different party now holds the role's cell: the DCC handing a device over, RTDS 6.21). A
 *    party renewing its own certificates keeps its counter, so its earlier commands cannot be
 *    replayed under a lowered floor (our reading: GBCS "If the Command is to effect a change of
 *    control, then newRemotePartyFloorSeqNumber should be included", 13.3; unconfirmed);
 *  - replacing the supplier's prepayment top-up cell resets the UTRN counter cache
 *    (top-up.ts resetTopUpCounters) to the command's prepayment top-up floor
 *    (newRemotePartySpecialistFloorSeqNumbers, or the specialist floor of the supplier's
 *    otherRemotePartySeqNumberChanges entry).
 *
 * The response reports each cell and the floors the command set (the own role's first, as the
 * RTDS responses list them). Time-based checks of the path are not applied
 * (ApplyTimeBasedCPVChecks is not honoured: GBCS applies them only when asked; DOMAIN.md 3.1).
 */
import { X509Certificate } from 'node:crypto'
import { type CryptoBackend, type Json, RecentCache } from '@smetsim/gbcs'
import { ROLE_CODES } from '@smetsim/smki'
import type { Authenticated } from '../authenticate.ts'
import { REPLACEMENT_MODES, type ReplacementMode } from '../authority.ts'
import {
  type CellName,
  type CellUsage,
  type Credential,
  cellName,
  credentialFromCertificate,
  type KeyUsage,
  type RemotePartyRole,
  signingCell,
} from '../cells.ts'
import type { AlertEvent as Event } from '../prepayment/index.ts'
import type { CounterKey, DeviceState } from '../state.ts'
import { resetTopUpCounters } from '../top-up.ts'
import { deferred, type UseCaseResult, type View, whenToRun } from './index.ts'

interface CellIdentifier {
  remotePartyRole: RemotePartyRole
  keyUsage: KeyUsage[]
  cellUsage?: CellUsage
}

type StatusCode = 'success' | 'badCertificate' | 'noTrustAnchor' | 'trustAnchorNotFound' | 'other'

const ZERO_ID = '0000000000000000'
const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'))

/** Whether `der` chains to the root cell through the path certificates, and fits the cell. */
function checkReplacement(
  cells: DeviceState['cells'],
  target: CellIdentifier,
  der: string,
  path: readonly string[],
): { status: StatusCode; credential?: Credential; candidate?: Credential } {
  let credential: Credential
  try {
    credential = credentialFromCertificate(fromHex(der))
  } catch {
    return { status: 'badCertificate' }
  }
  const usage = target.keyUsage[0]
  if (
    credential.roleCode !== ROLE_CODES[target.remotePartyRole] ||
    !usage ||
    !credential.keyUsage.includes(usage)
  )
    return { status: 'badCertificate', candidate: credential }
  const root = cells.root
  if (!root) return { status: 'noTrustAnchor', candidate: credential }
  const verdictKey = `${der}|${path.join(',')}|${Buffer.from(root.certificate).toString('hex')}`
  let chained = chainVerdicts.get(verdictKey)
  if (chained === undefined) {
    chained = chainsToRoot(der, path, root.certificate)
    chainVerdicts.set(verdictKey, chained)
  }
  return chained
    ? { status: 'success', credential, candidate: credential }
    : { status: 'badCertificate', candidate: credential }
}

/**
 * Whether the certificate (hex DER) was issued and signed by one of `path`'s CAs that the root
 * issued and signed, or by the root itself. It depends only on the bytes, so verdicts are kept:
 * a SoLR's SR 6.23 brings the same certificates to every meter it takes over, and checking them
 * (three X.509 parses, up to four ECDSA verifications) costs about 3 ms. The cache is bounded by
 * its cap, not by what commands bring.
 */
const chainVerdicts = new RecentCache<string, boolean>(1024)

function chainsToRoot(der: string, path: readonly string[], root: Uint8Array): boolean {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(Buffer.from(der, 'hex'))
  } catch {
    return false
  }
  const rootCert = new X509Certificate(Buffer.from(root))
  const issuers = path.flatMap((hex) => {
    try {
      return [new X509Certificate(Buffer.from(hex, 'hex'))]
    } catch {
      return []
    }
  })
  const chains = issuers.some(
    (ca) =>
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      ca.checkIssued(rootCert) &&
      ca.verify(rootCert.publicKey),
  )
  return chains || (cert.checkIssued(rootCert) && cert.verify(rootCert.publicKey))
}

interface Replacement {
  replacementCertificate: string
  targetTrustAnchorCell: CellIdentifier
}

interface SeqNumberChange {
  remotePartyRole: RemotePartyRole
  floorSeqNumber: number | string
  specialistFloorSeqNumbers?: { seqNumberUsage: string; seqNumber: number | string }[]
}

const INTEGRITY = 0x8f1e
const AUTHORITY = 0x8f30

/** The device cell a target names, or undefined when the device has no such cell. */
function cellOf(target: CellIdentifier): CellName | undefined {
  try {
    return cellName(target.remotePartyRole, target.keyUsage?.[0] ?? 'digitalSignature', target.cellUsage)
  } catch {
    return undefined
  }
}

const roleOfCell = (name: CellName): RemotePartyRole =>
  name === 'root' || name === 'recovery'
    ? name
    : (name.replace(/(Ds|Ka|PrepaymentKa)$/, '') as RemotePartyRole)

/** Why a CS02b must be refused whole under its mode, or undefined when it keeps to it. */
function outsideMode(
  mode: ReplacementMode,
  control: Record<string, Json>,
  replacements: readonly Replacement[],
  auth: Authenticated,
): { alert: number; reason: string } | undefined {
  if (control.credentialsReplacementMode !== mode.name)
    return {
      alert: INTEGRITY,
      reason: `credentialsReplacementMode ${String(control.credentialsReplacementMode)} is not the message code's ${mode.name}`,
    }
  const identifier = control.authorisingRemotePartyTACellIdentifier as CellIdentifier | undefined
  const authorising = identifier && cellOf(identifier)
  if (mode.authorisedBy === undefined) {
    // accessControlBrokerByACB: the ACB's MAC authorises it; the identifier is left out.
    if (identifier !== undefined && authorising !== 'accessControlBrokerKa')
      return { alert: INTEGRITY, reason: `${mode.name} names ${authorising ?? 'no cell'} as its authoriser` }
  } else if (authorising !== mode.authorisedBy || signingCell(auth.role) !== mode.authorisedBy)
    return {
      alert: INTEGRITY,
      reason: `${mode.name} is authorised by ${mode.authorisedBy}, not ${authorising ?? 'an absent cell'}`,
    }
  const seq = control.authorisingRemotePartySeqNumber
  if (seq === undefined || BigInt(seq as number | string) !== auth.frame.signing.originatorCounter)
    return { alert: INTEGRITY, reason: 'authorisingRemotePartySeqNumber differs from the frame counter' }

  const roles = new Set(mode.cells.map(roleOfCell))
  const seen = new Set<CellName>()
  for (const r of replacements) {
    const target = r.targetTrustAnchorCell
    if (!roles.has(target.remotePartyRole))
      return { alert: AUTHORITY, reason: `${mode.name} may not replace a ${target.remotePartyRole} cell` }
    const name = cellOf(target)
    if (name && !mode.cells.includes(name))
      return { alert: AUTHORITY, reason: `${mode.name} may not replace the ${name} cell` }
    if (name && seen.has(name)) return { alert: INTEGRITY, reason: `the ${name} cell is named twice` }
    if (name) seen.add(name)
  }
  return undefined
}

const counterOf = (n: number | string): bigint => BigInt(n)

/** The cell whose party is the role (its signing cell; the ACB's key agreement cell, which MACs). */
const identityCell = (role: RemotePartyRole): CellName =>
  role === 'accessControlBroker' ? 'accessControlBrokerKa' : signingCell(role)

/** The prepayment top-up floor among specialist floors, if any. */
const topUpFloor = (
  specialist: readonly { seqNumberUsage: string; seqNumber: number | string }[] | undefined,
) => {
  const sp = specialist?.find((x) => x.seqNumberUsage === 'prePaymentTopUp')
  return sp === undefined ? undefined : counterOf(sp.seqNumber)
}

export function updateSecurityCredentials(
  state: DeviceState,
  v: View,
  auth: Authenticated,
  now: number,
  _backend: CryptoBackend,
): UseCaseResult {
  const mode = REPLACEMENT_MODES.get(auth.frame.signing.messageCode)
  const control = v.authorisingRemotePartyControl as Record<string, Json> | undefined
  const replacements = ((v.replacements as unknown as Replacement[] | undefined) ?? []).filter(
    (r) => r && typeof r === 'object' && r.targetTrustAnchorCell,
  )
  if (!mode || !control)
    return { state, events: [], refuse: { alert: INTEGRITY, reason: 'not a CS02b of an emulated mode' } }
  const refusal = outsideMode(mode, control, replacements, auth)
  if (refusal) return { state, events: [], refuse: refusal }
  // Future-dated: acknowledged without a response now (the outcome comes with 0x8F66 later).
  const run = whenToRun(v.executionDateTime, state, now)
  if (run !== 'now') return deferred(state, run, v, 'executionDateTime')

  const path = (v.certificationPathCertificates as string[] | undefined) ?? []
  const cells = { ...state.cells }
  const replacementOutcomes: Json[] = []
  const replaced = new Set<CellName>()
  for (const r of replacements) {
    const target = r.targetTrustAnchorCell
    const name = cellOf(target)
    const existing = name ? state.cells[name] : undefined
    const checked = name
      ? checkReplacement(state.cells, target, r.replacementCertificate, path)
      : { status: 'trustAnchorNotFound' as const }
    if (name && checked.credential) {
      cells[name] = checked.credential
      replaced.add(name)
    }
    // GBCS reports both identities in every outcome; a cell or certificate that is missing is
    // reported as the other one (as the RTDS does for a refused cell), or as zeros.
    const was = existing ?? ('candidate' in checked ? checked.candidate : undefined)
    const replacing = ('candidate' in checked ? checked.candidate : undefined) ?? existing
    replacementOutcomes.push({
      affectedTrustAnchorCell: target as unknown as Json,
      statusCode: checked.status,
      existingSubjectUniqueID: was?.eui ?? ZERO_ID,
      existingSubjectKeyIdentifier: was?.keyIdentifier || ZERO_ID,
      replacingSubjectUniqueID: replacing?.eui ?? ZERO_ID,
      replacingSubjectKeyIdentifier: replacing?.keyIdentifier || ZERO_ID,
    })
  }
  const replacedRoles = new Set([...replaced].map(roleOfCell))

  // The mode's own role: the role of its cells (supplierByTransCoS: the supplier, set through
  // otherRemotePartySeqNumberChanges rather than newRemotePartyFloorSeqNumber).
  const ownRole = roleOfCell(mode.cells[0]!)
  const own: SeqNumberChange | undefined =
    control.newRemotePartyFloorSeqNumber === undefined
      ? undefined
      : {
          remotePartyRole: ownRole,
          floorSeqNumber: control.newRemotePartyFloorSeqNumber as number,
          ...(control.newRemotePartySpecialistFloorSeqNumbers !== undefined && {
            specialistFloorSeqNumbers: control.newRemotePartySpecialistFloorSeqNumbers as never,
          }),
        }
  // A role's floor comes from whoever authorised the replacement: the role itself
  // (newRemotePartyFloorSeqNumber, on a change of control) or another party
  // (otherRemotePartySeqNumberChanges, e.g. the CoS party's for the gaining supplier).
  const selfAuthorised = mode.authorisedBy === undefined || roleOfCell(mode.authorisedBy) === ownRole
  const others = selfAuthorised
    ? []
    : ((control.otherRemotePartySeqNumberChanges as unknown as SeqNumberChange[] | undefined) ?? [])

  let next: DeviceState = { ...state, cells }
  const counters = { ...state.counters }
  let prepaymentFloor: bigint | undefined
  if (own && replacedRoles.has(ownRole)) {
    const identity = identityCell(ownRole)
    if (state.cells[identity]?.eui !== cells[identity]?.eui)
      counters[ownRole as CounterKey] = counterOf(own.floorSeqNumber)
    prepaymentFloor = topUpFloor(own.specialistFloorSeqNumbers)
  }
  for (const change of others) {
    if (!replacedRoles.has(change.remotePartyRole)) continue
    counters[change.remotePartyRole as CounterKey] = counterOf(change.floorSeqNumber)
    if (change.remotePartyRole === 'supplier')
      prepaymentFloor = topUpFloor(change.specialistFloorSeqNumbers) ?? prepaymentFloor
  }
  next = { ...next, counters }
  if (replaced.has('supplierPrepaymentKa')) next = resetTopUpCounters(next, prepaymentFloor)

  const events: Event[] = replaced.size > 0 ? [{ at: now, alert: 0x8f70 }] : []
  const response: View = {
    name: v.name,
    executionOutcome: {
      authorisingRemotePartySeqNumber: control.authorisingRemotePartySeqNumber as number,
      credentialsReplacementMode: control.credentialsReplacementMode as string,
      remotePartySeqNumberChanges: [
        ...(own ? [own] : []),
        ...((control.otherRemotePartySeqNumberChanges as Json[] | undefined) ?? []),
      ] as unknown as Json,
      replacementOutcomes,
    },
  }
  return { state: next, response, events }
}

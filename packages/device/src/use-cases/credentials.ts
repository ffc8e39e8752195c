/**
 * CS02b Update Security Credentials: replace the certificates in trust anchor cells.
 *
 * The command has been authenticated already: its MAC by the ACB, its signature against the
 * authorising party's cell (the supplier's own for supplierBySupplier, the transitional CoS
 * party's for supplierByTransCoS, SR 6.23), and the party's authority for the mode. Here each
 * replacement certificate is checked — the role and key usage the target cell needs, and a
 * certification path to the root cell through the certificates the command carries — and the
 * cells that pass are replaced. The floor counters the command sets become the new parties'
 * last-accepted counters, so the old supplier's commands fail from now on (they are signed by a
 * key no cell holds, and counters restart from the floor). The response reports each cell.
 * Time-based checks of the path are not applied (ApplyTimeBasedCPVChecks is not honoured:
 * GBCS applies them only when asked; see DOMAIN.md 3.1).
 */
import { X509Certificate } from 'node:crypto'
import type { CryptoBackend, Json } from '@smetsim/gbcs'
import { ROLE_CODES } from '@smetsim/smki'
import type { Authenticated } from '../authenticate.ts'
import {
  type CellName,
  type CellUsage,
  type Credential,
  cellName,
  credentialFromCertificate,
  type KeyUsage,
  type RemotePartyRole,
} from '../cells.ts'
import type { AlertEvent as Event } from '../prepayment/index.ts'
import type { CounterKey, DeviceState } from '../state.ts'
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
  let cert: X509Certificate
  try {
    credential = credentialFromCertificate(fromHex(der))
    cert = new X509Certificate(Buffer.from(der, 'hex'))
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
  const rootCert = new X509Certificate(Buffer.from(root.certificate))
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
  const direct = cert.checkIssued(rootCert) && cert.verify(rootCert.publicKey)
  return chains || direct
    ? { status: 'success', credential, candidate: credential }
    : { status: 'badCertificate', candidate: credential }
}

export function updateSecurityCredentials(
  state: DeviceState,
  v: View,
  auth: Authenticated,
  now: number,
  _backend: CryptoBackend,
): UseCaseResult {
  const control = v.authorisingRemotePartyControl as Record<string, Json>
  const counter = auth.frame.signing.originatorCounter
  const fail = (reason: string): UseCaseResult => ({ state, events: [{ at: now, alert: 0x8f1e }], reason })
  if (!control || BigInt(control.authorisingRemotePartySeqNumber as number) !== counter)
    return fail('authorisingRemotePartySeqNumber differs from the frame counter')
  // Future-dated: acknowledged without a response now (the outcome comes with 0x8F66 later).
  const run = whenToRun(v.executionDateTime, state, now)
  if (run !== 'now') return deferred(state, run, v, 'executionDateTime')

  const path = (v.certificationPathCertificates as string[] | undefined) ?? []
  const cells = { ...state.cells }
  const replacementOutcomes: Json[] = []
  const replacedRoles = new Set<RemotePartyRole>()
  for (const r of (v.replacements as unknown as {
    replacementCertificate: string
    targetTrustAnchorCell: CellIdentifier
  }[]) ?? []) {
    const target = r.targetTrustAnchorCell
    let name: CellName | undefined
    try {
      name = cellName(target.remotePartyRole, target.keyUsage[0] ?? 'digitalSignature', target.cellUsage)
    } catch {
      name = undefined
    }
    const existing = name ? state.cells[name] : undefined
    const checked = name
      ? checkReplacement(state.cells, target, r.replacementCertificate, path)
      : { status: 'trustAnchorNotFound' as const }
    if (name && checked.credential) {
      cells[name] = checked.credential
      replacedRoles.add(target.remotePartyRole)
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

  // Floors: the new parties' counters start from the values the command sets.
  const counters = { ...state.counters, [auth.role]: counter }
  const changes = (control.otherRemotePartySeqNumberChanges as Json[] | undefined) ?? []
  for (const change of changes as {
    remotePartyRole: RemotePartyRole
    floorSeqNumber: number
    specialistFloorSeqNumbers?: { seqNumberUsage: string; seqNumber: number }[]
  }[]) {
    if (!replacedRoles.has(change.remotePartyRole)) continue
    counters[change.remotePartyRole as CounterKey] = BigInt(change.floorSeqNumber)
    for (const sp of change.specialistFloorSeqNumbers ?? [])
      if (change.remotePartyRole === 'supplier' && sp.seqNumberUsage === 'prePaymentTopUp')
        counters.supplierPrepayment = BigInt(sp.seqNumber)
  }

  const next: DeviceState = { ...state, cells, counters }
  const events: Event[] = replacedRoles.size > 0 ? [{ at: now, alert: 0x8f70 }] : []
  const response: View = {
    name: v.name,
    executionOutcome: {
      authorisingRemotePartySeqNumber: control.authorisingRemotePartySeqNumber as number,
      credentialsReplacementMode: control.credentialsReplacementMode as string,
      remotePartySeqNumberChanges: changes,
      replacementOutcomes,
    },
  }
  return { state: next, response, events }
}

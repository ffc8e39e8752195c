/**
 * The device's checks on a remote party's command, in the order of GBCS (and ARCHITECTURE.md
 * step 5): is it for me → MAC with the ACB's key-agreement cell → is the originator a Known
 * Remote Party (in the role the message code needs, when it holds that one) → originator counter
 * above the last accepted from that role (not for a top-up: its counter is the UTRN's) → for a Critical
 * command, the signature against the party's digital-signing cell → may that role send this
 * message code to this kind of device. A refusal names the check and the GBCS alert for it;
 * the caller changes no state.
 */
import {
  type CryptoBackend,
  type GbcsFrame,
  messageKey,
  tryDecodeFrame,
  verifyGeneralSigning,
  verifyMac,
} from '@smetsim/gbcs'
import { COMMAND_RULES, type CommandRule, TOP_UP_MESSAGE_CODES } from './authority.ts'
import {
  holdsRole,
  keyAgreement,
  publicKeyOf,
  type RemotePartyRole,
  roleOfOriginator,
  signingCell,
} from './cells.ts'
import type { DeviceState } from './state.ts'

/** GBCS alert codes of the security refusals. */
export const SECURITY_ALERTS = {
  /** Command content or format integrity check failed. */
  integrity: 0x8f1e,
  /** Trusted source authentication failure (MAC, unknown party, signature). */
  authentication: 0x8f3d,
  /** Source does not have authority for the command. */
  authority: 0x8f30,
  /** Failed authentication or authorisation not covered by other codes (replay, misrouting). */
  other: 0x8f53,
} as const

export type RefusalReason =
  | 'malformed'
  | 'not-a-command'
  | 'recipient'
  | 'mac'
  | 'unknown-originator'
  | 'replay'
  | 'signature'
  | 'unauthorised'
  | 'wrong-device-type'

export interface Refusal {
  ok: false
  reason: RefusalReason
  /** The alert the device raises for it. */
  alert: number
  detail: string
  /** The decoded frame, when it decoded. */
  frame?: GbcsFrame
}

export interface Authenticated {
  ok: true
  frame: GbcsFrame
  role: RemotePartyRole
  /** Undefined for a message code the firmware does not emulate. */
  rule: CommandRule | undefined
  critical: boolean
}

const refuse = (reason: RefusalReason, alert: number, detail: string, frame?: GbcsFrame): Refusal => ({
  ok: false,
  reason,
  alert,
  detail,
  ...(frame && { frame }),
})

export function authenticateCommand(
  state: DeviceState,
  bytes: Uint8Array,
  backend: CryptoBackend,
): Authenticated | Refusal {
  const decoded = tryDecodeFrame(bytes)
  if (!decoded.ok) return refuse('malformed', SECURITY_ALERTS.integrity, decoded.error.message)
  const frame = decoded.value
  const s = frame.signing
  if (s.cra !== 'command')
    return refuse('not-a-command', SECURITY_ALERTS.integrity, `a ${s.cra} is not a command`, frame)
  if (s.recipient !== state.eui)
    return refuse(
      'recipient',
      SECURITY_ALERTS.other,
      `addressed to ${s.recipient}, not to ${state.eui}`,
      frame,
    )

  const acb = state.cells.accessControlBrokerKa
  if (!frame.mac) return refuse('mac', SECURITY_ALERTS.authentication, 'the command carries no MAC', frame)
  if (!acb)
    return refuse(
      'mac',
      SECURITY_ALERTS.authentication,
      'no ACB key-agreement certificate in the cells',
      frame,
    )
  const pair = keyAgreement(state.keys, acb, backend)
  if (!pair) return refuse('mac', SECURITY_ALERTS.authentication, 'no key to agree with the ACB', frame)
  if (!verifyMac(frame, messageKey(s, pair.own, pair.other, backend)))
    return refuse('mac', SECURITY_ALERTS.authentication, 'MAC does not verify', frame)

  // The role the message code needs, when the originator holds it; otherwise whatever role the
  // originator does hold (the authority check below then refuses it).
  const rule = COMMAND_RULES.get(s.messageCode)
  const role =
    rule?.roles.find((r) => holdsRole(state.cells, r, s.originator)) ??
    roleOfOriginator(state.cells, s.originator)
  if (!role)
    return refuse(
      'unknown-originator',
      SECURITY_ALERTS.authentication,
      `${s.originator} is in no trust anchor cell`,
      frame,
    )

  // A top-up's counter is its UTRN's, checked against the top-up counter when it is applied
  // (top-up.ts), never against the command counter (authority.ts TOP_UP_MESSAGE_CODES).
  const last = state.counters[role] ?? 0n
  if (s.originatorCounter <= last && !TOP_UP_MESSAGE_CODES.has(s.messageCode))
    return refuse(
      'replay',
      SECURITY_ALERTS.other,
      `counter ${s.originatorCounter} is not above ${last} (${role})`,
      frame,
    )

  const critical = rule?.critical ?? s.signature.kind === 'ecdsa'
  if (critical || s.signature.kind === 'ecdsa') {
    const cell = state.cells[signingCell(role)]
    if (s.signature.kind !== 'ecdsa')
      return refuse(
        'signature',
        SECURITY_ALERTS.authentication,
        'a Critical command without a signature',
        frame,
      )
    if (!cell || !verifyGeneralSigning(s, publicKeyOf(cell, backend), backend))
      return refuse(
        'signature',
        SECURITY_ALERTS.authentication,
        `signature does not verify against the ${role} cell`,
        frame,
      )
  }

  if (rule && !rule.roles.includes(role))
    return refuse('unauthorised', SECURITY_ALERTS.authority, `${role} may not send ${rule.useCase}`, frame)
  if (rule && !rule.devices.includes(state.type))
    return refuse(
      'wrong-device-type',
      SECURITY_ALERTS.integrity,
      `${rule.useCase} is not for a ${state.type}`,
      frame,
    )
  return { ok: true, frame, role, rule, critical }
}

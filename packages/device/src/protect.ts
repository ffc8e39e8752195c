import {
  buildPayload,
  type CryptoBackend,
  encodeMacedFrame,
  encodeSignedFrame,
  type GeneralSigning,
  type Json,
  messageKey,
} from '@smetsim/gbcs'
import { keyAgreementWith, privateKeyOf } from './cells.ts'
import type { DeviceState } from './state.ts'

function protect(
  state: DeviceState,
  s: GeneralSigning,
  signed: boolean,
  backend: CryptoBackend,
): Uint8Array | undefined {
  if (signed) return encodeSignedFrame(s, privateKeyOf(state.keys.ds, backend), backend)
  const pair = keyAgreementWith(state.keys, state.cells, s.recipient, backend)
  if (!pair) return undefined // nobody to agree a key with: the message cannot be protected
  const unsigned: GeneralSigning = s.signature.kind === 'empty' ? s : { ...s, signature: EMPTY }
  return encodeMacedFrame(unsigned, messageKey(unsigned, pair.own, pair.other, backend))
}

/** The signature fields of an unsigned frame: none yet (signed next), or present but empty (MACed). */
const ABSENT: GeneralSigning['signature'] = Object.freeze({ kind: 'absent' })
const EMPTY: GeneralSigning['signature'] = Object.freeze({ kind: 'empty' })

/** The response frame to a command, with the given payload. */
export function buildResponse(
  state: DeviceState,
  command: GeneralSigning,
  content: Uint8Array,
  critical: boolean,
  backend: CryptoBackend,
): Uint8Array | undefined {
  const s: GeneralSigning = {
    cra: 'response',
    originatorCounter: command.originatorCounter,
    originator: state.eui,
    recipient: command.originator,
    messageCode: command.messageCode,
    content,
    // Written as it is sent, so that protect has no copy to make for a MACed response.
    signature: critical ? ABSENT : EMPTY,
  }
  return protect(state, s, critical, backend)
}

/** GBCS marks 0x8Fxx alerts Critical, 0x80xx/0x81xx non-critical. */
export const isCriticalAlert = (code: number): boolean => code >>> 8 === 0x8f

/** ISO 8601 UTC to the second, the form the alert views use. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`
}

/**
 * What makes an alert use-case specific rather than the generic 0x1000/0x1001: its own message
 * code (e.g. 0x00CC/0x00CD, the outcome of a future-dated command) and the fields its view
 * carries after the alert code and time stamp (e.g. `futureDatedCommand`).
 */
export interface AlertDetail {
  messageCode: number
  fields: { [field: string]: Json }
}

/**
 * An alert frame from the device, and the state with its counter advanced; undefined frame
 * when the device has no supplier to send it to. Without `detail` it is the generic alert
 * (0x1000 for a critical code, 0x1001 otherwise). Either way a 0x8Fxx alert is signed and any
 * other MACed, as the RTDS shows (its 0x00CC/0x00CD 8F66 alerts are signed too).
 */
export function buildAlert(
  state: DeviceState,
  alertCode: number,
  at: number,
  backend: CryptoBackend,
  detail?: AlertDetail,
): { state: DeviceState; frame: Uint8Array | undefined } {
  const recipient = state.cells.supplierDs?.eui ?? state.cells.supplierKa?.eui
  if (!recipient) return { state, frame: undefined }
  const critical = isCriticalAlert(alertCode)
  const messageCode = detail?.messageCode ?? (critical ? 0x1000 : 0x1001)
  const counter = state.alertCounter + 1n
  const code = alertCode.toString(16).toUpperCase().padStart(4, '0')
  const timestamp = isoSeconds(at + state.clockOffset)
  const view: { name: string; [field: string]: Json } =
    state.type === 'GSME'
      ? { name: `GSME Alert ${code}`, alertCode: code, timestamp, ...detail?.fields }
      : {
          name: `ESME Alert ${code}`,
          invokeId: Number(0x20000000n | (counter & 0xffffffn)),
          alertCode: code,
          timestamp,
          ...detail?.fields,
        }
  const content = buildPayload(view, { messageCode, cra: 'alert' }, state.type === 'GSME' ? 'gbz' : 'dlms')
  const s: GeneralSigning = {
    cra: 'alert',
    originatorCounter: counter,
    originator: state.eui,
    recipient,
    messageCode,
    content,
    signature: { kind: 'absent' },
  }
  return { state: { ...state, alertCounter: counter }, frame: protect(state, s, critical, backend) }
}

import {
  buildPayload,
  type CryptoBackend,
  encodeMacedFrame,
  encodeSignedFrame,
  type GeneralSigning,
  type Json,
  messageKey,
} from '@smetsim/gbcs'
import { keyAgreement, keyAgreementCredential, privateKeyOf } from './cells.ts'
import type { DeviceState } from './state.ts'

function protect(
  state: DeviceState,
  s: GeneralSigning,
  signed: boolean,
  backend: CryptoBackend,
): Uint8Array | undefined {
  if (signed) return encodeSignedFrame(s, privateKeyOf(state.keys.ds, backend), backend)
  const credential = keyAgreementCredential(state.cells, s.recipient)
  if (!credential) return undefined // nobody to agree a key with: the message cannot be protected
  const pair = keyAgreement(state.keys, credential, backend)
  if (!pair) return undefined
  const unsigned: GeneralSigning = { ...s, signature: { kind: 'empty' } }
  return encodeMacedFrame(unsigned, messageKey(unsigned, pair.own, pair.other, backend))
}

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
    signature: { kind: 'absent' },
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
 * An alert frame from the device, and the state with its counter advanced; undefined frame
 * when the device has no supplier to send it to.
 */
export function buildAlert(
  state: DeviceState,
  alertCode: number,
  at: number,
  backend: CryptoBackend,
): { state: DeviceState; frame: Uint8Array | undefined } {
  const recipient = state.cells.supplierDs?.eui ?? state.cells.supplierKa?.eui
  if (!recipient) return { state, frame: undefined }
  const critical = isCriticalAlert(alertCode)
  const messageCode = critical ? 0x1000 : 0x1001
  const counter = state.alertCounter + 1n
  const code = alertCode.toString(16).toUpperCase().padStart(4, '0')
  const timestamp = isoSeconds(at + state.clockOffset)
  const view: { name: string; [field: string]: Json } =
    state.type === 'GSME'
      ? { name: `GSME Alert ${code}`, alertCode: code, timestamp }
      : {
          name: `ESME Alert ${code}`,
          invokeId: Number(0x20000000n | (counter & 0xffffffn)),
          alertCode: code,
          timestamp,
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

/**
 * How a Service Request ends once access control has passed it: the SAT `decision` or `response`
 * record with the DUIS answer (`finish`), a GBCS build error as its DUIS code (`buildRefusal`),
 * and the last step of the pipeline, the transport to the device with the device's response
 * decoded into the DUIS answer (`deliver`: I0, or E20 when the transport throws, E21 when nothing
 * usable comes back). A future-dated command is answered I99 once sent: the device acknowledges
 * it (the RTDS 6.23 FUTURE_DATED response is an empty acknowledgement; the emulated device sends
 * none) and its outcome comes later in an alert (`future-dated.ts`).
 */
import { decodeFrame, frameToJson, type GbcsFrame } from '@smetsim/gbcs'
import {
  ACKNOWLEDGED_CODE,
  BAD_PARAMETERS_CODE,
  COMMS_FAILURE_CODE,
  NO_RESPONSE_CODE,
  NOT_BUILT_CODE,
  SUCCESS_CODE,
  WRONG_DEVICE_TYPE_CODE,
} from '../duis-codes.ts'
import { CommandProtectionError } from '../gbcs/construct.ts'
import { ServiceRequestError } from '../gbcs/service-requests.ts'
import type { JsonValue, SatEntry } from '../sat/record.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import type { Finish, OutcomeRef, PipelineContext, PipelineState } from './context.ts'
import type { DuisResult } from './types.ts'

/** `finish` over this SAT: a DUIS outcome after access control, recorded as a decision or response record. */
export function finisher(sat: ServiceAuditTrail): Finish {
  return (kind, p: OutcomeRef, code, reason, detail = {}) => {
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
}

/** A GBCS build error as its DUIS refusal (all E11, see duis-codes.ts); anything else is rethrown. */
export function buildRefusal(finish: Finish, p: PipelineState, e: unknown): DuisResult {
  if (e instanceof ServiceRequestError) {
    const code =
      e.kind === 'wrong-device-type'
        ? WRONG_DEVICE_TYPE_CODE
        : e.kind === 'bad-parameters'
          ? BAD_PARAMETERS_CODE
          : NOT_BUILT_CODE
    return finish('decision', p, code, e.message, { step: 'build', kind: e.kind })
  }
  if (e instanceof CommandProtectionError)
    return finish('decision', p, BAD_PARAMETERS_CODE, e.message, { step: 'build', kind: e.kind })
  throw e
}

/**
 * Hands the command to the transport: the device's answer (undefined when none came), or, when the
 * transport throws, the E20 outcome (SAT `response` record, `detail` as given) naming `to`.
 */
export async function transmit(
  { config, finish }: Pick<PipelineContext, 'config' | 'finish'>,
  p: PipelineState,
  bytes: Uint8Array,
  to: string,
  detail: { [k: string]: JsonValue },
): Promise<{ answer: Uint8Array | undefined } | { failed: DuisResult }> {
  try {
    return { answer: await config.transport(p.deviceId, bytes) }
  } catch (e) {
    return { failed: transportFailed(finish, p, to, e, detail) }
  }
}

/** The E20 outcome of a transport (or CHF) that threw `e`: SAT `response` record, reason clipped. */
export function transportFailed(
  finish: Finish,
  p: OutcomeRef,
  to: string,
  e: unknown,
  detail: { [k: string]: JsonValue },
): DuisResult {
  const why = String((e as Error | null | undefined)?.message ?? e).slice(0, 256)
  return finish('response', p, COMMS_FAILURE_CODE, `transport to ${to} failed: ${why}`, detail)
}

/** Sends the command to the device and answers with its response (SAT `response` record either way). */
export async function deliver(
  { config, finish }: Pick<PipelineContext, 'config' | 'finish'>,
  p: PipelineState,
  bytes: Uint8Array,
  extra: { [k: string]: JsonValue } = {},
  futureDated?: { executionDateTime: string },
): Promise<DuisResult> {
  const sent = await transmit({ config, finish }, p, bytes, `${p.deviceId}`, extra)
  if ('failed' in sent) return sent.failed
  const answer = sent.answer
  if (futureDated) return acknowledged(finish, p, answer, extra, futureDated)
  if (!answer)
    return finish('response', p, NO_RESPONSE_CODE, `no response from device ${p.deviceId}`, {
      ...extra,
      unconfirmed: 'E21 for no response',
    })
  const read = deviceResponse(answer, p.deviceId)
  if (!read.ok) return finish('response', p, NO_RESPONSE_CODE, read.reason, extra)
  const json = frameToJson(read.frame)
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

/** The device's answer as a GBCS response from that device, or why it is not one (E21). */
function deviceResponse(
  answer: Uint8Array,
  deviceId: string,
): { ok: true; frame: GbcsFrame } | { ok: false; reason: string } {
  let frame: GbcsFrame
  try {
    frame = decodeFrame(answer)
  } catch (e) {
    return { ok: false, reason: `the device's answer is not GBCS: ${(e as Error).message}` }
  }
  if (frame.signing.cra !== 'response' || frame.signing.originator !== deviceId)
    return {
      ok: false,
      reason: `the device's answer is a ${frame.signing.cra} from ${frame.signing.originator}, not a response from ${deviceId}`,
    }
  return { ok: true, frame }
}

/**
 * A future-dated command sent: I99 when the device acknowledged it — with a GBCS response from it,
 * or (as the emulated device does for CS02b) with none — and E21 for an answer that is not one.
 */
function acknowledged(
  finish: Finish,
  p: PipelineState,
  answer: Uint8Array | undefined,
  extra: { [k: string]: JsonValue },
  futureDated: { executionDateTime: string },
): DuisResult {
  const detail = {
    ...extra,
    futureDated: true,
    executionDateTime: futureDated.executionDateTime,
    acknowledgedWith: answer ? 'response' : 'no response',
    unconfirmed: 'I99 for a future-dated command; its outcome completes it',
  }
  if (answer) {
    const read = deviceResponse(answer, p.deviceId)
    if (!read.ok) return finish('response', p, NO_RESPONSE_CODE, read.reason, extra)
  }
  const result = finish('response', p, ACKNOWLEDGED_CODE, undefined, detail)
  return { ...result, futureDated, ...(answer && { responseBytes: answer }) }
}

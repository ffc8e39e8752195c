/**
 * SR 8.11 Update HAN Device Log (add, CCS01), one of two ways:
 *  - as GBCS, when the DCC has no in-process way to the hub (`config.hanDeviceLog` absent) but
 *    knows the CHF's key-agreement key (`config.deviceKeyAgreement`): the ACB sends the CHF a
 *    CCS01 command as the RTDS 4.5.0 8.11_CCS01 frame is built (`ccs01Command`), and the CHF's
 *    MACed response is the answer's GBCS payload (DUIS: the asynchronous response carries it).
 *    Whether the device then joined comes from the CHF in its own alerts (0x8F49 joined, 0x8F48
 *    joining failed), as GBCS has it; the N24 says the update was made.
 *  - as an in-process call to the Communications Hub (`config.hanDeviceLog`, implemented by the
 *    hub's transport), with no GBCS bytes; the hub answers at once whether the device joined, and
 *    the N24's detail says so (the fleet's way: no CHF keys to agree).
 * The request targets the CHF; parameters `deviceId` (on that CHF's
 * hub) and `installCode` (16 bytes, hex). The User must be eligible for the device added, not only
 * for the CHF access control judged. A missing or malformed install code, or a device not on
 * that CHF: E081101; the CHF refusing the entry: E081102 (SR 8.11's own codes, which member for
 * which case unconfirmed); no way to the CHF (`config.hanDeviceLog` absent): E20. The CHF
 * accepting the entry is I0 (a Pending device becomes Whitelisted); whether the device then joined
 * the HAN comes back as the DCC Alert UpdateHANDeviceLogResult (N24) to the requester — a wrong
 * install code is accepted into the log but the join fails. The install code is never written to
 * the SAT (`audit.ts`). Removal (CCS02, answered E11 "not built"), join windows and the historic
 * device log are not modelled.
 */
import { type Eui64, fromHex, parseEui, toHex } from '@smetsim/core'
import {
  decodeFrame,
  decodePayload,
  encodeMacedFrame,
  encodePayload,
  frameToJson,
  type GeneralSigning,
  type Json,
  messageKey,
} from '@smetsim/gbcs'
import { clip } from '../access/check.ts'
import {
  BAD_PARAMETERS_CODE,
  COMMS_FAILURE_CODE,
  HAN_DEVICE_LOG_REQUEST_CODE,
  HAN_LOG_REFUSED_CODE,
  NO_INSTALL_CODE_CODE,
  NO_RESPONSE_CODE,
  NOT_BUILT_CODE,
  SUCCESS_CODE,
  UNKNOWN_DEVICE_CODE,
} from '../duis-codes.ts'
import { isEligibleUser } from '../registration/eligibility.ts'
import type { PipelineContext, PipelineState } from './context.ts'
import { transmit, transportFailed } from './outcome.ts'
import type { DccConfig, DuisRequest, DuisResult, HanDeviceLogOutcome } from './types.ts'

/** GBCS message code of CCS01 'Add Device to CHF Device Log' (message-codes.ts). */
export const CCS01 = 0x0001

/**
 * The GBCS Device Type enumeration (as the DCC's gbcs-parser decodes it: 0 GSME, 1 ESME, 2 CHF,
 * 3 GPF, 4 HCALCS, 5 PPMID, 6 Type 2); the RTDS 8.11_CCS01 frame adds an ESME with 1.
 */
const GBCS_DEVICE_TYPE: Readonly<Record<string, number>> = {
  GSME: 0,
  ESME: 1,
  CHF: 2,
  GPF: 3,
  HCALCS: 4,
  PPMID: 5,
  'Type 2': 6,
}

/** The ZigBee network control object (DLMS class 104, 0.0.30.3.0.255) CCS01 addresses. */
const NETWORK_CONTROL = { classId: 104, instance: '0.0.30.3.0.255' } as const

/** DUIS JoinTimePeriod, seconds (XSD AddDeviceToCHFWhitelist: 1 to 3600); the default when none is given. */
const MAX_JOIN_SECONDS = 3600

/**
 * The CCS01 Access-Request as the RTDS frame carries it: action register_device {ieee_address,
 * device type, install code, key type 0}, set join_timeout (attribute 3), set joining enabled
 * (attribute 2).
 */
export function ccs01Payload(
  device: Eui64,
  deviceType: number,
  installCode: Uint8Array,
  joinSeconds: number,
  invokeId: number,
): Json {
  return {
    apdu: 'accessRequest',
    invokeId,
    specs: [
      { kind: 'action', ...NETWORK_CONTROL, method: 1 },
      { kind: 'set', ...NETWORK_CONTROL, attribute: 3 },
      { kind: 'set', ...NETWORK_CONTROL, attribute: 2 },
    ],
    data: [
      {
        type: 'structure',
        value: [
          { type: 'octetString', value: device },
          { type: 'enum', value: deviceType },
          { type: 'octetString', value: toHex(installCode) },
          { type: 'enum', value: 0 },
        ],
      },
      { type: 'uint16', value: joinSeconds },
      { type: 'boolean', value: true },
    ],
  }
}

/**
 * The ACB's Originator Counter towards CHFs, per DCC (its config object): above the last one
 * and above the DCC's clock in microseconds, so that it keeps rising across restarts (how the
 * real ACB counts is not published; a modelling choice).
 */
const acbCounters = new WeakMap<DccConfig, bigint>()
function nextAcbCounter(config: DccConfig, now: number): bigint {
  const last = acbCounters.get(config) ?? 0n
  const next = BigInt(Math.floor(now)) * 1000n > last ? BigInt(Math.floor(now)) * 1000n : last + 1n
  acbCounters.set(config, next)
  return next
}

/** SR 8.11 from access-granted request to DUIS answer. */
export async function updateHanDeviceLog(
  { config, finish, raiseDccAlert }: Pick<PipelineContext, 'config' | 'finish' | 'raiseDccAlert'>,
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
        : `action: expected 'add' or 'remove', got ${clip(JSON.stringify(action) ?? 'nothing')}`,
      step,
    )
  let deviceId: Eui64
  try {
    deviceId = parseEui(String(params.deviceId))
  } catch {
    return finish(
      'decision',
      p,
      HAN_DEVICE_LOG_REQUEST_CODE,
      `deviceId: expected the EUI-64 of the device to add, got ${clip(JSON.stringify(params.deviceId ?? null) ?? 'nothing')}`,
      step,
    )
  }
  const device = config.inventory.get(deviceId)
  if (!device)
    return finish(
      'decision',
      p,
      UNKNOWN_DEVICE_CODE,
      `device ${deviceId} is not in the Smart Metering Inventory`,
      step,
    )
  if (device.commsHub !== p.deviceId)
    return finish(
      'decision',
      p,
      HAN_DEVICE_LOG_REQUEST_CODE,
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
    return finish('decision', p, NO_INSTALL_CODE_CODE, `installCode: ${(e as Error).message}`, step)
  }
  if (!config.hanDeviceLog) {
    const chfKa = config.deviceKeyAgreement(p.deviceId)
    if (!chfKa)
      return finish(
        'decision',
        p,
        COMMS_FAILURE_CODE,
        `no way to the Communications Hub for SR 8.11 here (no key agreement key for CHF ${p.deviceId})`,
        step,
      )
    const deviceType = GBCS_DEVICE_TYPE[device.type]
    if (deviceType === undefined)
      return finish(
        'decision',
        p,
        HAN_DEVICE_LOG_REQUEST_CODE,
        `a ${device.type} has no GBCS device type`,
        step,
      )
    return viaGbcs({ config, finish, raiseDccAlert }, p, now, {
      deviceId,
      deviceType,
      installCode,
      chfKa,
      wasPending: device.status === 'Pending',
    })
  }
  let outcome: HanDeviceLogOutcome
  try {
    outcome = await config.hanDeviceLog.addDevice(p.deviceId, {
      deviceId,
      deviceType: device.type,
      installCode,
    })
  } catch (e) {
    return transportFailed(finish, p, `CHF ${p.deviceId}`, e, step)
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
  if (device.status === 'Pending') config.inventory.setStatus(deviceId, 'Whitelisted', new Date(config.now()))
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

/** SR 8.11 as GBCS: CCS01 from the ACB to the CHF, its response the answer's payload. */
async function viaGbcs(
  { config, finish, raiseDccAlert }: Pick<PipelineContext, 'config' | 'finish' | 'raiseDccAlert'>,
  p: PipelineState,
  now: number,
  add: {
    deviceId: Eui64
    deviceType: number
    installCode: Uint8Array
    chfKa: NonNullable<ReturnType<DccConfig['deviceKeyAgreement']>>
    wasPending: boolean
  },
): Promise<DuisResult> {
  const backend = config.backend
  const requestCounter = BigInt(p.requestId.split(':')[2] ?? '0')
  const counter = nextAcbCounter(config, now)
  const command: GeneralSigning = {
    cra: 'command',
    originatorCounter: counter,
    originator: config.acb.eui,
    recipient: p.deviceId,
    messageCode: CCS01,
    // The requesting User, as the RTDS frame names the supplier.
    supplementary: { remotePartyId: p.originator, remotePartyCounter: requestCounter },
    content: encodePayload(
      {
        format: 'dlms',
        structure: ccs01Payload(
          add.deviceId,
          add.deviceType,
          add.installCode,
          MAX_JOIN_SECONDS,
          Number(counter % 0x7fff_ffffn),
        ),
      },
      { messageCode: CCS01, cra: 'command' },
    ),
    signature: { kind: 'empty' },
  }
  const bytes = encodeMacedFrame(command, messageKey(command, config.acb.kaPrivateKeyRef, add.chfKa, backend))
  const step = {
    step: 'hanDeviceLog',
    via: 'gbcs',
    addedDevice: add.deviceId,
    acbCounter: counter.toString(),
  }
  const sent = await transmit({ config, finish }, p, bytes, `CHF ${p.deviceId}`, step)
  if ('failed' in sent) return sent.failed
  const answer = sent.answer
  const results = answer && ccs01Results(answer, p.deviceId)
  if (!answer || !results)
    return finish('response', p, NO_RESPONSE_CODE, `no CCS01 response from CHF ${p.deviceId}`, step)
  const json = frameToJson(decodeFrame(answer))
  if (results.some((r) => r !== 0)) {
    const refused = finish(
      'response',
      p,
      HAN_LOG_REFUSED_CODE,
      `CHF ${p.deviceId} refused the device log entry (CCS01 results ${results.join(', ')})`,
      { ...step, results },
    )
    return { ...refused, response: json, responseBytes: answer }
  }
  const device = config.inventory.get(add.deviceId)
  if (add.wasPending && device?.status === 'Pending')
    config.inventory.setStatus(add.deviceId, 'Whitelisted', new Date(config.now()))
  const result = finish('response', p, SUCCESS_CODE, undefined, step)
  const alert = raiseDccAlert({
    type: 'UpdateHANDeviceLogResult',
    recipient: p.respondTo,
    device: add.deviceId,
    requestId: p.requestId,
    detail: { commsHub: p.deviceId },
  })
  return { ...result, response: json, responseBytes: answer, dccAlerts: [alert] }
}

/** The action and set results of a CHF's CCS01 response (0 success), or undefined if it is not one. */
function ccs01Results(answer: Uint8Array, chf: Eui64): number[] | undefined {
  try {
    const frame = decodeFrame(answer)
    const s = frame.signing
    if (s.cra !== 'response' || s.originator !== chf || s.messageCode !== CCS01) return undefined
    const payload = decodePayload(s.content, { messageCode: CCS01, cra: 'response' })
    const results = (payload.structure as { results?: { result?: unknown }[] } | null)?.results
    if (!Array.isArray(results)) return undefined
    return results.map((r) => (typeof r?.result === 'number' ? r.result : -1))
  } catch {
    return undefined
  }
}

/**
 * SR 8.11 Update HAN Device Log (add, CCS01): modelled as an in-process call to the Communications
 * Hub (`config.hanDeviceLog`, implemented by the hub's transport) rather than as GBCS bytes — the
 * DCC does not build CCS01/CCS02. The request targets the CHF; parameters `deviceId` (on that CHF's
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
import { type Eui64, fromHex, parseEui } from '@smetsim/core'
import type { Json } from '@smetsim/gbcs'
import { clip } from '../access/check.ts'
import {
  BAD_PARAMETERS_CODE,
  COMMS_FAILURE_CODE,
  HAN_DEVICE_LOG_REQUEST_CODE,
  HAN_LOG_REFUSED_CODE,
  NO_INSTALL_CODE_CODE,
  NOT_BUILT_CODE,
  SUCCESS_CODE,
  UNKNOWN_DEVICE_CODE,
} from '../duis-codes.ts'
import { isEligibleUser } from '../registration/eligibility.ts'
import type { PipelineContext, PipelineState } from './context.ts'
import type { DuisRequest, DuisResult, HanDeviceLogOutcome } from './types.ts'

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
  if (!config.hanDeviceLog)
    return finish(
      'decision',
      p,
      COMMS_FAILURE_CODE,
      'no way to the Communications Hub for SR 8.11 here',
      step,
    )
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

/**
 * SR 8.1.1 Commission Device: the device's answer to its clock command (ECS70 / GCS28) decides
 * whether the Smart Metering Inventory moves it to Commissioned (DOMAIN.md §2.1: "8.1.1 Commission
 * (critical clock set ECS70/GCS28) → Commissioned"). Success as the RTDS 4.5.0 8.1.1 responses
 * show it: an ESME answers every ECS70 attribute `success` (the ERROR response has one
 * `hardware-fault`); a GSME answers GCS28 with `deviceTimeStatus: 'reliable'` (the ERROR one:
 * `unreliable`). Anything else leaves the status as it was. The status change is noted in the
 * request's SAT `response` record's neighbour: a `decision` record with step `inventory`.
 */
import type { Json } from '@smetsim/gbcs'
import { SUCCESS_CODE } from '../duis-codes.ts'
import type { PipelineContext, PipelineState } from './context.ts'
import type { DuisResult } from './types.ts'

/** Why the clock command's response is not a success, or undefined when it is. */
export function commissioningProblem(view: { [k: string]: Json } | undefined): string | undefined {
  if (!view) return 'the response has no use-case view'
  if (typeof view.deviceTimeStatus === 'string')
    return view.deviceTimeStatus === 'reliable' ? undefined : `the GSME's clock is ${view.deviceTimeStatus}`
  const results = view.results
  if (results && typeof results === 'object' && !Array.isArray(results)) {
    const failed = Object.entries(results).filter(([, r]) => r !== 'success')
    return failed.length === 0
      ? undefined
      : `the ESME did not set ${failed.map(([k, r]) => `${k} (${String(r)})`).join(', ')}`
  }
  return 'the response carries no clock result'
}

/** After SR 8.1.1's I0: the SMI status moves to Commissioned when the device set its clock. */
export function commissionDevice(
  { config, sat }: Pick<PipelineContext, 'config' | 'sat'>,
  p: PipelineState,
  result: DuisResult,
): DuisResult {
  if (result.code !== SUCCESS_CODE) return result
  const problem = commissioningProblem(result.response?.payload.useCase as { [k: string]: Json } | undefined)
  const device = config.inventory.get(p.deviceId)
  let detail: { [k: string]: Json }
  if (problem) detail = { step: 'inventory', commissioned: false, reason: problem }
  else if (device?.status !== 'InstalledNotCommissioned')
    detail = {
      step: 'inventory',
      commissioned: false,
      reason: `the device is ${device?.status ?? 'not in the inventory'}`,
    }
  else {
    config.inventory.setStatus(p.deviceId, 'Commissioned', new Date(config.now()))
    detail = { step: 'inventory', commissioned: true, smiStatus: 'Commissioned' }
  }
  sat.append({
    kind: 'decision',
    requestId: p.requestId,
    user: p.respondTo,
    ...(p.originator !== p.respondTo && { businessOriginator: p.originator }),
    role: p.role,
    srv: p.srv,
    device: p.deviceId,
    code: SUCCESS_CODE,
    detail,
  })
  return result
}

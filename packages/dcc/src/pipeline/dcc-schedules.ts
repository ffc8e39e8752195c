/**
 * DCC Schedules in the pipeline (SR 5.1 Create, 5.2 Read, 5.3 Delete; Non-Device SRVs, CV8); the
 * pure schedule book is `schedules/schedules.ts`, held here as the DCC's state.
 *
 * After access control for the 5.x request itself, 5.1 checks that the scheduled Service Request
 * would be permitted for that role and device now (E2, E11, E5, E12, E4; only non-critical device
 * SRVs the DCC builds can be scheduled) and answers I0 with the schedule; 5.2 answers with the
 * User's schedules on the target device (or one by `scheduleId`); 5.3 deletes one, only the
 * owner's. The DCC has no timers: `runDue(upTo)` runs every due run through the pipeline's
 * `submit` as its own Service Request (RequestID `owner:device:counter`, the counter from the
 * schedule and run number, see `runCounter`), access control judged at the run's due time — so
 * after a Change of Supplier's Supply Start Date the losing supplier's run gets E4, in the SAT and
 * in its results, not data (DP072's contrast with device-held schedules). Calls are serialised.
 */
import type { Eui64 } from '@smetsim/core'
import type { Json } from '@smetsim/gbcs'
import type { AccessGranted } from '../access/check.ts'
import { GBCS_SRVS } from '../gbcs/service-requests.ts'
import { isEligibleUser } from '../registration/eligibility.ts'
import type { DuisRole } from '../roles.ts'
import {
  createSchedule,
  type DccSchedule,
  deleteSchedule,
  dueRuns,
  emptyScheduleBook,
  findSchedule,
  parseScheduleParameters,
  recordRun,
  runCounter,
  type ScheduleBook,
  type ScheduleSpec,
  schedulesOf,
} from '../schedules/schedules.ts'
import {
  BAD_PARAMETERS_CODE,
  NOT_BUILT_CODE,
  NOT_SCHEDULE_OWNER_CODE,
  SUCCESS_CODE,
  UNKNOWN_SCHEDULE_CODE,
} from './codes.ts'
import { METER_TYPES, type PipelineContext, type PipelineState, push, userKey } from './context.ts'
import type { DuisRequest, DuisResult, ScheduleRunResult } from './types.ts'

/** The SRVs this module answers. */
export const SCHEDULE_SRVS: readonly string[] = ['5.1', '5.2', '5.3']

export interface DccSchedules {
  /** SR 5.1, 5.2 or 5.3 after access control granted it. */
  request(p: PipelineState, granted: AccessGranted, request: DuisRequest, now: number): DuisResult
  /** Runs every run due at or before `upTo` (default now), oldest first; serialised. */
  runDue(upTo?: number): Promise<ScheduleRunResult[]>
  /** The User's DCC Schedules (a copy). */
  of(userId: string): DccSchedule[]
  /** Results of the User's schedule runs, in order (a copy): the latest SCHEDULE_RESULTS_KEPT. */
  resultsFor(userId: string): ScheduleRunResult[]
  /** Every DCC Schedule as plain JSON (a copy). */
  readonly book: ScheduleBook
}

/** Schedule run results kept per User for `scheduleResultsFor` (older ones are in the SAT). */
export const SCHEDULE_RESULTS_KEPT = 1000

export function createDccSchedules(
  ctx: Pick<PipelineContext, 'config' | 'permissions' | 'finish' | 'iso' | 'submit'>,
): DccSchedules {
  const { config, permissions, finish, iso } = ctx
  let scheduleBook: ScheduleBook = config.schedules ? structuredClone(config.schedules) : emptyScheduleBook()
  // The latest results per User only: a long-running DCC would otherwise keep every run's
  // response for ever. The SAT keeps the record of every run.
  const scheduleResults = new Map<Eui64, ScheduleRunResult[]>()
  let scheduleChain: Promise<unknown> = Promise.resolve()

  /** Why the scheduled request would not be permitted for `role` on the device at `now`, or undefined. */
  function scheduledRequestProblem(
    role: DuisRole,
    spec: ScheduleSpec,
    deviceId: Eui64,
    deviceType: string,
  ): { code: string; reason: string } | undefined {
    const srv = spec.srv
    const rule = permissions.srvs[srv]
    if (!rule) return { code: 'E2', reason: `the scheduled SRV '${srv}' is not in the permission matrix` }
    if (!rule.roles.includes(role))
      return { code: 'E2', reason: `role ${role} may not use the scheduled SRV ${srv} (${rule.name})` }
    if (rule.nonDevice || rule.critical || !GBCS_SRVS.includes(srv))
      return {
        code: BAD_PARAMETERS_CODE,
        reason: `SR ${srv} cannot be scheduled: only non-critical device SRVs the DCC builds (${GBCS_SRVS.filter(
          (s) => permissions.srvs[s] && !permissions.srvs[s]!.critical && !permissions.srvs[s]!.nonDevice,
        ).join(', ')})`,
      }
    const device = config.inventory.get(deviceId)
    if (!device) return { code: 'E19', reason: `device ${deviceId} is not in the Smart Metering Inventory` }
    if (rule.deviceTypes.length && !rule.deviceTypes.includes(device.type))
      return { code: 'E11', reason: `the scheduled SR ${srv} does not target a ${device.type}` }
    if (!METER_TYPES.includes(deviceType))
      return { code: NOT_BUILT_CODE, reason: `SR ${srv} to a ${deviceType} has no GBCS command here` }
    if (rule.smiStatuses.length && !rule.smiStatuses.includes(device.status))
      return {
        code: 'E5',
        reason: `device ${deviceId} is ${device.status}; SR ${srv} needs ${rule.smiStatuses.join(' or ')}`,
      }
    if (!(rule.commandVariants as number[]).includes(spec.commandVariant))
      return { code: 'E12', reason: `SR ${srv} is not sent as Command Variant ${spec.commandVariant}` }
    return undefined
  }

  function scheduleRequest(
    p: PipelineState,
    granted: AccessGranted,
    request: DuisRequest,
    now: number,
  ): DuisResult {
    const params = (request.parameters ?? {}) as { [k: string]: Json }
    if (p.srv === '5.1') {
      const parsed = parseScheduleParameters(params, now)
      if (!parsed.ok) return finish('decision', p, BAD_PARAMETERS_CODE, parsed.reason, { step: 'schedule' })
      const spec = parsed.spec
      const problem = scheduledRequestProblem(granted.role, spec, p.deviceId, String(request.deviceType))
      if (problem)
        return finish('decision', p, problem.code, problem.reason, {
          step: 'schedule',
          scheduledSrv: spec.srv,
        })
      // E4 for the scheduled SR at creation (5.1 itself was judged by access control already).
      if (permissions.srvs[spec.srv]!.eligibility === 'registration') {
        const eligibility = isEligibleUser(config, p.originator, granted.role, p.deviceId, new Date(now))
        if (!eligibility.eligible)
          return finish('decision', p, eligibility.code, eligibility.reason, {
            step: 'schedule',
            scheduledSrv: spec.srv,
          })
      }
      const created = createSchedule(scheduleBook, {
        ...spec,
        owner: p.originator,
        role: granted.role,
        deviceId: p.deviceId,
        deviceType: String(request.deviceType),
        at: new Date(now),
        createdBy: p.requestId,
      })
      scheduleBook = created.book
      const schedule = created.schedule
      const result = finish('response', p, SUCCESS_CODE, undefined, {
        step: 'schedule',
        scheduleId: schedule.scheduleId,
        scheduledSrv: spec.srv,
        start: schedule.start,
        intervalMs: schedule.intervalMs,
        ...(schedule.end && { end: schedule.end }),
      })
      return { ...result, schedule }
    }
    const scheduleId = params.scheduleId
    if (scheduleId !== undefined && typeof scheduleId !== 'string')
      return finish('decision', p, BAD_PARAMETERS_CODE, 'scheduleId: expected a string', { step: 'schedule' })
    if (p.srv === '5.3' && scheduleId === undefined)
      return finish('decision', p, BAD_PARAMETERS_CODE, 'SR 5.3 needs the scheduleId to delete', {
        step: 'schedule',
      })
    if (scheduleId !== undefined) {
      const found = findSchedule(scheduleBook, scheduleId)
      if (!found || found.request.deviceId !== p.deviceId)
        return finish(
          'decision',
          p,
          UNKNOWN_SCHEDULE_CODE,
          `no DCC Schedule ${scheduleId} for device ${p.deviceId}`,
          { step: 'schedule', scheduleId },
        )
      if (found.owner !== p.originator)
        return finish(
          'decision',
          p,
          NOT_SCHEDULE_OWNER_CODE,
          `DCC Schedule ${scheduleId} belongs to another User`,
          { step: 'schedule', scheduleId },
        )
    }
    if (p.srv === '5.2') {
      const schedules = schedulesOf(scheduleBook, p.originator, p.deviceId).filter(
        (x) => scheduleId === undefined || x.scheduleId === scheduleId,
      )
      const result = finish('response', p, SUCCESS_CODE, undefined, {
        step: 'schedule',
        scheduleIds: schedules.map((x) => x.scheduleId),
      })
      return { ...result, schedules }
    }
    const deleted = deleteSchedule(scheduleBook, p.originator, scheduleId as string)
    scheduleBook = deleted.book
    const result = finish('response', p, SUCCESS_CODE, undefined, {
      step: 'schedule',
      deleted: scheduleId as string,
    })
    return { ...result, ...(deleted.schedule && { schedule: deleted.schedule }) }
  }

  async function runDueSchedulesNow(upTo: number): Promise<ScheduleRunResult[]> {
    const out: ScheduleRunResult[] = []
    for (const due of dueRuns(scheduleBook, upTo)) {
      const schedule = findSchedule(scheduleBook, due.schedule.scheduleId)
      // Deleted, or run already, since the list was made.
      if (!schedule || schedule.nextRun > due.run) continue
      scheduleBook = recordRun(scheduleBook, schedule.scheduleId, due.run)
      const r = schedule.request
      const requestId = `${schedule.owner}:${r.deviceId}:${runCounter(schedule, due.run)}`
      const dueAt = new Date(due.dueAt).toISOString()
      const result = await ctx.submit(
        {
          requestId,
          role: schedule.role,
          srv: r.srv,
          commandVariant: r.commandVariant,
          deviceType: r.deviceType,
          parameters: structuredClone(r.parameters),
        },
        due.dueAt,
        { scheduleId: schedule.scheduleId, run: due.run, dueAt },
      )
      const entry: ScheduleRunResult = {
        scheduleId: schedule.scheduleId,
        run: due.run,
        owner: schedule.owner,
        srv: r.srv,
        deviceId: r.deviceId,
        dueAt,
        ranAt: iso(),
        requestId: result.requestId ?? requestId,
        result,
      }
      push(scheduleResults, schedule.owner, entry)
      const kept = scheduleResults.get(schedule.owner)!
      if (kept.length > SCHEDULE_RESULTS_KEPT) kept.splice(0, kept.length - SCHEDULE_RESULTS_KEPT)
      out.push(entry)
    }
    return out
  }

  function runDueSchedules(upTo?: number): Promise<ScheduleRunResult[]> {
    const limit = upTo ?? config.now()
    const next = scheduleChain.then(() => runDueSchedulesNow(limit))
    scheduleChain = next.catch(() => undefined)
    return next
  }

  return {
    request: scheduleRequest,
    runDue: runDueSchedules,
    of: (userId) => {
      const key = userKey(userId)
      return key ? structuredClone(schedulesOf(scheduleBook, key)) : []
    },
    resultsFor: (userId) => [...(scheduleResults.get(userKey(userId) as Eui64) ?? [])],
    get book() {
      return structuredClone(scheduleBook)
    },
  }
}

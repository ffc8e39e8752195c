/**
 * DCC Schedules in the pipeline (SR 5.1 Create, 5.2 Read, 5.3 Delete; Non-Device SRVs, CV8); the
 * pure schedule book is `schedules/schedules.ts`, held here as the DCC's state.
 *
 * After access control for the 5.x request itself, 5.1 checks the schedule is one DUIS lets the
 * DCC keep (an SRV of the XSD's DSPScheduledServiceReferenceVariant, a ScheduleFrequency) and that
 * the scheduled Service Request would be permitted for that role and device now (E2, E11, E5, E4)
 * and answers I0 with the schedule; 5.2 answers with the User's schedules on the target device (or
 * one by id); 5.3 deletes one of the User's. Another User's schedule is answered exactly as an
 * unknown one (E050201 / E050301), so nobody learns which ids exist. Refusals of the schedule
 * itself are E050101 (duis-codes.ts: which E0501nn member, unconfirmed).
 *
 * The DCC has no timers: `runDue(upTo)` runs every due run through the pipeline's `submit` as its
 * own Service Request (RequestID `owner:device:counter`, the counter never going backwards for the
 * owner and device: `runCounter`), access control judged at the run's due time — so after a Change
 * of Supplier's Supply Start Date the losing supplier's run gets E4, in the SAT and in its results,
 * not data (DP072's contrast with device-held schedules). A run whose command fails (E20, E21)
 * raises the DCC Alert CommandFailure with its DSPScheduleID to the owner. Calls are serialised;
 * a call's due runs are in flight together.
 */
import type { Eui64 } from '@smetsim/core'
import type { Json } from '@smetsim/gbcs'
import type { AccessGranted } from '../access/check.ts'
import {
  COMMS_FAILURE_CODE,
  CREATE_SCHEDULE_CODE,
  NO_RESPONSE_CODE,
  NOT_BUILT_CODE,
  ROLE_NOT_PERMITTED_CODE,
  SCHEDULE_NOT_FOUND_CODES,
  SUCCESS_CODE,
} from '../duis-codes.ts'
import { GBCS_SRVS } from '../gbcs/service-requests.ts'
import { isEligibleUser } from '../registration/eligibility.ts'
import type { DuisRole } from '../roles.ts'
import { ScheduleIndex } from '../schedules/schedule-index.ts'
import {
  type DccSchedule,
  emptyScheduleBook,
  parseScheduleParameters,
  type ScheduleBook,
  ScheduleError,
  type ScheduleSpec,
  scheduleIdOf,
} from '../schedules/schedules.ts'
import { type PipelineContext, type PipelineState, push, userKey } from './context.ts'
import type { DuisRequest, DuisResult, ScheduleRunResult } from './types.ts'

/** The SRVs this module answers. */
export const SCHEDULE_SRVS: readonly string[] = ['5.1', '5.2', '5.3']

/**
 * The device an SR 5.1–5.3 is about. DUIS writes these as Non-Device Service Requests: the
 * RequestID targets the DCC and the body names the device — DUIS XSD `DSPSchedule` (CreateSchedule)
 * has `DeviceID` (minOccurs 1); `ReadSchedule` / `DeleteSchedule` a choice of `DSPScheduleID` or
 * `DeviceID`. `named` is that DeviceID as the DUIS layer read it (`DuisRequest.deviceId`); without
 * one the RequestID's target is the device (the JSON API's form). Other SRVs always take the
 * RequestID's target. A DeviceID that is no EUI-64 is undefined here: E19 for the caller.
 */
export function scheduleDevice(srv: string, target: Eui64, named: unknown): Eui64 | undefined {
  if (!SCHEDULE_SRVS.includes(srv) || named === undefined) return target
  return userKey(String(named).slice(0, 64))
}

export interface DccSchedules {
  /** SR 5.1, 5.2 or 5.3 after access control granted it. */
  request(p: PipelineState, granted: AccessGranted, request: DuisRequest, now: number): DuisResult
  /** Runs every run due at or before `upTo` (default now), oldest first; serialised. */
  runDue(upTo?: number): Promise<ScheduleRunResult[]>
  /** The DCC sent `counter` for `originator` to `deviceId`: later runs for that pair count above it. */
  counterSent(originator: Eui64, deviceId: Eui64, counter: bigint): void
  /** The User's DCC Schedules (a copy). */
  of(userId: string): DccSchedule[]
  /**
   * The schedule of `owner` a 5.2 / 5.3's parameters name (`scheduleId` or DUIS `dspScheduleId`),
   * or undefined (none named, no such schedule, or another User's).
   */
  ownedNamed(owner: Eui64, parameters: { [k: string]: Json } | undefined): DccSchedule | undefined
  /** Results of the User's schedule runs, in order (a copy): the latest SCHEDULE_RESULTS_KEPT. */
  resultsFor(userId: string): ScheduleRunResult[]
  /** Every DCC Schedule as plain JSON (a copy). */
  readonly book: ScheduleBook
}

/** Schedule run results kept per User for `scheduleResultsFor` (older ones are in the SAT). */
export const SCHEDULE_RESULTS_KEPT = 1000

export function createDccSchedules(
  ctx: Pick<PipelineContext, 'config' | 'permissions' | 'finish' | 'iso' | 'submit' | 'raiseDccAlert'>,
): DccSchedules {
  const { config, permissions, finish, iso } = ctx
  const given = config.schedules
  if (given !== undefined && (given as { version?: unknown }).version !== 2)
    throw new ScheduleError('config.schedules: expected a schedule book { version: 2, … }')
  // Kept in place (O(log N) a change, a heap of next runs): the plain book only when read.
  const book = ScheduleIndex.fromBook(given ?? emptyScheduleBook())
  // The latest results per User only: a long-running DCC would otherwise keep every run's
  // response for ever. The SAT keeps the record of every run.
  const scheduleResults = new Map<Eui64, ScheduleRunResult[]>()
  let scheduleChain: Promise<unknown> = Promise.resolve()

  /** Why the scheduled request would not be permitted for `role` on the device now, or undefined. */
  function scheduledRequestProblem(
    role: DuisRole,
    spec: ScheduleSpec,
    deviceId: Eui64,
    deviceType: string,
  ): { code: string; reason: string } | undefined {
    const srv = spec.srv
    const rule = permissions.srvs[srv]
    if (!rule)
      return {
        code: ROLE_NOT_PERMITTED_CODE,
        reason: `the scheduled SRV '${srv}' is not in the permission matrix`,
      }
    if (!rule.roles.includes(role))
      return {
        code: ROLE_NOT_PERMITTED_CODE,
        reason: `role ${role} may not use the scheduled SRV ${srv} (${rule.name})`,
      }
    const device = config.inventory.get(deviceId)
    if (!device) return { code: 'E19', reason: `device ${deviceId} is not in the Smart Metering Inventory` }
    if (rule.deviceTypes.length && !rule.deviceTypes.includes(device.type))
      return { code: 'E11', reason: `the scheduled SR ${srv} does not target a ${device.type}` }
    if (rule.smiStatuses.length && !rule.smiStatuses.includes(device.status))
      return {
        code: 'E5',
        reason: `device ${deviceId} is ${device.status}; SR ${srv} needs ${rule.smiStatuses.join(' or ')}`,
      }
    if (deviceType !== device.type)
      return { code: 'E11', reason: `device ${deviceId} is a ${device.type}, not a ${deviceType}` }
    return undefined
  }

  /** The schedule a 5.2 / 5.3 names, by `scheduleId` ('DS000001') or DUIS `dspScheduleId` (1). */
  function namedSchedule(params: { [k: string]: Json }): string | undefined | { bad: string } {
    if (params.scheduleId !== undefined)
      return typeof params.scheduleId === 'string'
        ? params.scheduleId
        : { bad: 'scheduleId: expected a string' }
    if (params.dspScheduleId !== undefined) {
      const n = params.dspScheduleId
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
        ? scheduleIdOf(n)
        : { bad: 'dspScheduleId: expected a whole number' }
    }
    return undefined
  }

  function create(p: PipelineState, granted: AccessGranted, request: DuisRequest, now: number): DuisResult {
    const params = (request.parameters ?? {}) as { [k: string]: Json }
    const refuse = (code: string, reason: string, extra: { [k: string]: Json } = {}) =>
      finish('decision', p, code, reason, { step: 'schedule', ...extra })
    const parsed = parseScheduleParameters(params, now)
    if (!parsed.ok) return refuse(CREATE_SCHEDULE_CODE, parsed.reason, { unconfirmed: 'which E0501nn code' })
    const spec = parsed.spec
    const problem = scheduledRequestProblem(granted.role, spec, p.deviceId, String(request.deviceType))
    if (problem) return refuse(problem.code, problem.reason, { scheduledSrv: spec.srv })
    // E4 for the scheduled SR at creation (5.1 itself was judged by access control already).
    if (permissions.srvs[spec.srv]!.eligibility === 'registration') {
      const eligibility = isEligibleUser(config, p.originator, granted.role, p.deviceId, new Date(now))
      if (!eligibility.eligible)
        return refuse(eligibility.code, eligibility.reason, { scheduledSrv: spec.srv })
    }
    let schedule: DccSchedule
    try {
      schedule = book.create(
        {
          ...spec,
          owner: p.originator,
          role: granted.role,
          deviceId: p.deviceId,
          deviceType: String(request.deviceType),
          at: new Date(now),
          createdBy: p.requestId,
        },
        config.scheduleLimits,
      )
    } catch (e) {
      if (!(e instanceof ScheduleError)) throw e
      return refuse(CREATE_SCHEDULE_CODE, e.message, { unconfirmed: 'which E0501nn code' })
    }
    const result = finish('response', p, SUCCESS_CODE, undefined, {
      step: 'schedule',
      scheduleId: schedule.scheduleId,
      scheduledSrv: spec.srv,
      frequency: schedule.frequency,
      startDate: schedule.startDate,
      executionTime: schedule.executionTime,
      ...(schedule.endDate && { endDate: schedule.endDate }),
      ...(!GBCS_SRVS.includes(spec.srv) && {
        note: `SR ${spec.srv} is not built here: its runs get ${NOT_BUILT_CODE}`,
      }),
    })
    return { ...result, schedule }
  }

  function readOrDelete(p: PipelineState, request: DuisRequest): DuisResult {
    const srv = p.srv as '5.2' | '5.3'
    const notFound = SCHEDULE_NOT_FOUND_CODES[srv]
    const params = (request.parameters ?? {}) as { [k: string]: Json }
    const named = namedSchedule(params)
    if (typeof named === 'object') return finish('decision', p, notFound, named.bad, { step: 'schedule' })
    if (srv === '5.3' && named === undefined)
      return finish(
        'decision',
        p,
        notFound,
        'SR 5.3 needs the schedule to delete (scheduleId or dspScheduleId)',
        {
          step: 'schedule',
        },
      )
    if (named !== undefined) {
      const found = book.find(named)
      if (!found || found.request.deviceId !== p.deviceId || found.owner !== p.originator)
        // The same answer for another User's schedule as for none: no way to probe for ids.
        return finish(
          'decision',
          p,
          notFound,
          `no DCC Schedule ${named} of ${p.originator} on device ${p.deviceId}`,
          {
            step: 'schedule',
            scheduleId: named,
            ...(found && { actually: found.owner !== p.originator ? 'another User’s' : 'on another device' }),
            unconfirmed: 'which E0502nn / E0503nn code',
          },
        )
    }
    if (srv === '5.2') {
      const schedules = book
        .of(p.originator, p.deviceId)
        .filter((x) => named === undefined || x.scheduleId === named)
      const result = finish('response', p, SUCCESS_CODE, undefined, {
        step: 'schedule',
        scheduleIds: schedules.map((x) => x.scheduleId),
      })
      return { ...result, schedules: structuredClone(schedules) }
    }
    const deleted = book.delete(p.originator, named as string)
    const result = finish('response', p, SUCCESS_CODE, undefined, {
      step: 'schedule',
      deleted: named as string,
    })
    return { ...result, ...(deleted.schedule && { schedule: deleted.schedule }) }
  }

  async function runDueSchedulesNow(upTo: number): Promise<ScheduleRunResult[]> {
    const running: Promise<ScheduleRunResult>[] = []
    // Runs of schedules made while this round runs wait for the next round.
    const below = book.nextNumber
    try {
      // A round's runs are in flight together, as a DCC with many schedules due at once sends
      // them: each takes its counter and is recorded before the next is taken (runOne does both
      // before its first await), so two runs for one device still reach it in counter order.
      for (let due = book.nextDue(upTo, below); due; due = book.nextDue(upTo, below))
        running.push(runOne(due.schedule, due.run, due.dueAt))
      return await Promise.all(running)
    } finally {
      book.restoreSetAside()
    }
  }

  async function runOne(schedule: DccSchedule, run: number, dueAtMs: number): Promise<ScheduleRunResult> {
    const counter = book.runCounter(schedule, run)
    book.recordRun(schedule.scheduleId, run)
    book.noteCounter(schedule.owner, schedule.request.deviceId, counter)
    const r = schedule.request
    const requestId = `${schedule.owner}:${r.deviceId}:${counter}`
    const dueAt = new Date(dueAtMs).toISOString()
    const result = await ctx.submit(
      {
        requestId,
        role: schedule.role,
        srv: r.srv,
        commandVariant: r.commandVariant,
        deviceType: r.deviceType,
        parameters: structuredClone(r.parameters),
      },
      dueAtMs,
      { scheduleId: schedule.scheduleId, run, dueAt },
    )
    if (result.code === COMMS_FAILURE_CODE || result.code === NO_RESPONSE_CODE)
      ctx.raiseDccAlert({
        type: 'CommandFailure',
        recipient: schedule.owner,
        device: r.deviceId,
        requestId,
        detail: {
          dspScheduleId: schedule.number,
          scheduleId: schedule.scheduleId,
          run,
          code: result.code,
        },
        unconfirmed: ['code', 'that a failed scheduled run raises it'],
      })
    const entry: ScheduleRunResult = {
      scheduleId: schedule.scheduleId,
      run,
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
    return entry
  }

  function runDueSchedules(upTo?: number): Promise<ScheduleRunResult[]> {
    const limit = upTo ?? config.now()
    const next = scheduleChain.then(() => runDueSchedulesNow(limit))
    scheduleChain = next.catch(() => undefined)
    return next
  }

  return {
    request: (p, granted, request, now) =>
      p.srv === '5.1' ? create(p, granted, request, now) : readOrDelete(p, request),
    runDue: runDueSchedules,
    counterSent(originator, deviceId, counter) {
      book.noteCounter(originator, deviceId, counter)
    },
    of: (userId) => {
      const key = userKey(userId)
      return key ? structuredClone(book.of(key)) : []
    },
    ownedNamed: (owner, parameters) => {
      const named = namedSchedule(parameters ?? {})
      if (typeof named !== 'string') return undefined
      const found = book.find(named)
      return found?.owner === owner ? structuredClone(found) : undefined
    },
    resultsFor: (userId) => [...(scheduleResults.get(userKey(userId) as Eui64) ?? [])],
    get book() {
      return structuredClone(book.toBook())
    },
  }
}

/**
 * What the pieces of the Service Request pipeline share, internal to the package: the request as
 * access control granted it (`PipelineState`), the context object `createDcc` builds once and hands
 * to each piece (each takes only the fields it uses), and small helpers. No state lives here.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import type { CryptoBackend } from '@smetsim/gbcs'
import type { PermissionMatrix } from '../access/permissions.ts'
import type { DuisRole } from '../roles.ts'
import type { JsonValue } from '../sat/record.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import type { NewDccAlert } from './dcc-alerts.ts'
import type { FutureDatedRegister } from './future-dated.ts'
import type { DccAlert, DccConfig, DuisRequest, DuisResult } from './types.ts'

/** A Service Request access control has granted: who sent it, for whom, what, to which device. */
export interface PipelineState {
  requestId: string
  originator: Eui64
  sender: Eui64
  respondTo: Eui64
  role: DuisRole
  srv: string
  deviceId: Eui64
}

/** Whom a SAT outcome record names: at least the RequestID and the User answered. */
export interface OutcomeRef {
  requestId: string
  respondTo: Eui64
  role?: DuisRole
  srv?: string
  deviceId?: Eui64
  originator?: Eui64
}

/** Records a DUIS outcome as a SAT decision (refusal) or response (comms) record and returns the answer. */
export type Finish = (
  kind: 'decision' | 'response',
  p: OutcomeRef,
  code: string,
  reason: string | undefined,
  detail?: { [key: string]: JsonValue },
) => DuisResult

/** A run of a DCC Schedule, when `submit` runs one (kept in the SAT `request` record). */
export interface ScheduleRunRef {
  scheduleId: string
  run: number
  dueAt: string
}

/** The internal context `createDcc` builds once; every piece of the pipeline takes the part it needs. */
export interface PipelineContext {
  config: DccConfig
  sat: ServiceAuditTrail
  backend: CryptoBackend
  /** `config.permissions` or DEFAULT_PERMISSIONS. */
  permissions: PermissionMatrix
  /** DCC time as ISO 8601. */
  iso(): string
  finish: Finish
  /**
   * Transport to the device and its response as the DUIS answer (`outcome.ts`); with
   * `futureDated`, the device's acknowledgement (or its silence) is the answer I99.
   */
  deliver(
    p: PipelineState,
    bytes: Uint8Array,
    extra?: { [k: string]: JsonValue },
    futureDated?: { executionDateTime: string },
  ): Promise<DuisResult>
  /** A GBCS build error as its DUIS refusal (`outcome.ts`); rethrows anything else. */
  buildRefusal(p: PipelineState, e: unknown): DuisResult
  /** Raises a DCC Alert to a User, with its SAT record (`dcc-alerts.ts`). */
  raiseDccAlert(alert: NewDccAlert): DccAlert
  /** Future-dated commands awaiting the device's outcome (`future-dated.ts`). */
  futureDated: FutureDatedRegister
  /** The pipeline's own entry, judged at `now`; DCC Schedule runs go through it. */
  submit(request: DuisRequest, now: number, run: ScheduleRunRef): Promise<DuisResult>
}

/** Device types the DCC builds GBCS commands for. */
export const METER_TYPES: readonly string[] = ['ESME', 'GSME']

/** A message code as four upper-case hex digits. */
export const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0')

/** A User or device ID as the maps key it, or undefined when it is not an EUI-64. */
export const userKey = (userId: string): Eui64 | undefined => {
  try {
    return parseEui(String(userId))
  } catch {
    return undefined
  }
}

/** Appends to the list kept for `key`. */
export const push = <T>(map: Map<Eui64, T[]>, key: Eui64, item: T) => {
  const list = map.get(key)
  if (list) list.push(item)
  else map.set(key, [item])
}

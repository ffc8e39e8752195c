/**
 * The Gas Proxy Function: the Communications Hub's stand-in for the battery-powered GSME, which
 * sleeps between wake-ups (every 30 minutes: packages/device `nextWake`).
 *  - Commands for the GSME wait in the GPF's queue until the GSME next wakes and collects them.
 *    One not collected in time is dropped with the alert 0x819D 'GSME Command Not Retrieved';
 *    when the GSME misses three wake-ups in a row the GPF raises 0x8F29 'Three Lost GSME
 *    Searches Failed' (alert names: GBCS alert code table, as gbcs-parser src/util.ts lists it).
 *    How long GBCS lets a command wait and how the GPF counts a lost GSME are not public here:
 *    the defaults below are the emulator's (unconfirmed).
 *  - Reads the RTDS 4.5.0 answers from the GPF (its *_RELIABLE_GPF / *_RELIABLE_GSME frames:
 *    addressed to the GPF's EUI, answered by it) are answered from the mirror: the GSME's state
 *    as it was at its last wake-up. The GPF authenticates and answers such a read itself, with
 *    its own EUI, keys and anti-replay counters, through the same firmware as the GSME
 *    (packages/device `step`), so the answer is the GSME's data protected as the GPF.
 * Pure data and functions: the hub (hub.ts) does the timing.
 */
import type { Eui64 } from '@smetsim/core'
import { type Counters, type DeviceKeys, type DeviceState, raiseAlerts, step } from '@smetsim/device'
import type { CryptoBackend } from '@smetsim/gbcs'
import type { RaisedAlert } from './chf.ts'

export const GSME_COMMAND_NOT_RETRIEVED = 0x819d
export const THREE_LOST_GSME_SEARCHES_FAILED = 0x8f29

/**
 * Message codes the GPF answers from its mirror: GCS13a, GCS13b, GCS13c, GCS14, GCS60a — the
 * use cases whose RTDS 4.5.0 frames come in GPF-answered form. The device firmware executes
 * GCS13a and GCS14; the others are authenticated and reported not emulated.
 */
export const GPF_READS: ReadonlySet<number> = new Set([0x0074, 0x00b8, 0x00b6, 0x0075, 0x012a])

/** Defaults (unconfirmed): at most 16 commands wait, each for two wake-up intervals; three missed wake-ups mean lost. */
export const GPF_DEFAULTS = { queueLimit: 16, retrievalWakes: 2, lostAfterMissedWakes: 3 } as const

export interface QueuedCommand {
  bytes: Uint8Array
  queuedAt: number
  /** The WAN message id it came with, for the response's `re`. */
  id: number | undefined
}

export interface GpfState {
  eui: Eui64
  keys: DeviceKeys
  counters: Counters
  alertCounter: bigint
  queue: readonly QueuedCommand[]
  /**
   * The GSME's state as it last reported it; undefined until it has woken once. Its firmware may
   * not have been stepped since (it steps only when something is due), so the mirror is that
   * state as at `mirrorAt`, the GSME's last wake-up: `gpfRead` settles it to then.
   */
  mirror: DeviceState | undefined
  mirrorAt?: number
  /** Consecutive wake-ups the GSME missed. */
  missedWakes: number
  lostRaised: boolean
}

/** Every new GPF starts from these (state is replaced, never mutated). */
const NO_COUNTERS: Counters = Object.freeze({})
const EMPTY_QUEUE: readonly QueuedCommand[] = Object.freeze([])

export function createGpf(o: { eui: Eui64; keys: DeviceKeys }): GpfState {
  return {
    eui: o.eui,
    keys: o.keys,
    counters: NO_COUNTERS,
    alertCounter: 0n,
    queue: EMPTY_QUEUE,
    mirror: undefined,
    missedWakes: 0,
    lostRaised: false,
  }
}

/** The GPF speaking as itself over the GSME's data and cells: its EUI, keys, counters. */
function asGpf(gpf: GpfState, gsme: DeviceState): DeviceState {
  return { ...gsme, eui: gpf.eui, keys: gpf.keys, counters: gpf.counters, alertCounter: gpf.alertCounter }
}

const keepIdentity = (gpf: GpfState, s: DeviceState): GpfState => ({
  ...gpf,
  counters: s.counters,
  alertCounter: s.alertCounter,
})

export function enqueue(
  gpf: GpfState,
  command: QueuedCommand,
  limit: number = GPF_DEFAULTS.queueLimit,
): { gpf: GpfState; queued: boolean } {
  if (gpf.queue.length >= limit) return { gpf, queued: false }
  return { gpf: { ...gpf, queue: [...gpf.queue, command] }, queued: true }
}

export interface GpfReadResult {
  gpf: GpfState
  outcome: 'executed' | 'rejected' | 'not-emulated' | 'no-mirror'
  reason?: string
  response?: Uint8Array
  alerts: RaisedAlert[]
}

/**
 * A read addressed to the GPF, answered from the mirror as of the GSME's last wake-up (the
 * step runs at that instant, so nothing is settled past what the GSME reported). Anything but a
 * GPF read is not executed here.
 */
export function gpfRead(
  gpf: GpfState,
  bytes: Uint8Array,
  messageCode: number,
  backend: CryptoBackend,
): GpfReadResult {
  if (!GPF_READS.has(messageCode))
    return {
      gpf,
      outcome: 'not-emulated',
      reason: `the GPF does not execute message code ${messageCode}`,
      alerts: [],
    }
  if (!gpf.mirror)
    return { gpf, outcome: 'no-mirror', reason: 'the GSME has not woken since the hub started', alerts: [] }
  const at = Math.max(gpf.mirrorAt ?? 0, gpf.mirror.account.at)
  const r = step(asGpf(gpf, gpf.mirror), { kind: 'frame', bytes }, at, { backend })
  return {
    gpf: keepIdentity(gpf, r.state),
    outcome: r.outputs.outcome ?? 'rejected',
    ...(r.outputs.reason && { reason: r.outputs.reason }),
    ...(r.outputs.response && { response: r.outputs.response }),
    alerts: r.outputs.alerts.map((a) => ({ code: a.code, frame: a.frame })),
  }
}

/** An alert from the GPF (as the GSME's supplier's counterpart: to the supplier in the mirrored cells). */
export function gpfAlert(
  gpf: GpfState,
  gsme: DeviceState,
  code: number,
  at: number,
  backend: CryptoBackend,
  alerts: RaisedAlert[],
): GpfState {
  const out: { code: number; at: number; frame: Uint8Array | undefined }[] = []
  const s = raiseAlerts(asGpf(gpf, gsme), [{ at, alert: code }], backend, out)
  for (const a of out) alerts.push({ code: a.code, frame: a.frame })
  return keepIdentity(gpf, s)
}

/**
 * The GSME's wake-up instant came and it did not (lost, out of range, battery flat): commands
 * waiting `retrievalMs` or longer are dropped with 0x819D each, and at the third missed wake-up
 * in a row 0x8F29 is raised once.
 */
export function missedWake(
  gpf: GpfState,
  gsme: DeviceState,
  now: number,
  retrievalMs: number,
  backend: CryptoBackend,
  lostAfter: number = GPF_DEFAULTS.lostAfterMissedWakes,
): { gpf: GpfState; alerts: RaisedAlert[]; expired: QueuedCommand[] } {
  const alerts: RaisedAlert[] = []
  let g: GpfState = { ...gpf, missedWakes: gpf.missedWakes + 1 }
  const expired = g.queue.filter((c) => now - c.queuedAt >= retrievalMs)
  if (expired.length > 0) {
    g = { ...g, queue: g.queue.filter((c) => now - c.queuedAt < retrievalMs) }
    for (const _ of expired) g = gpfAlert(g, gsme, GSME_COMMAND_NOT_RETRIEVED, now, backend, alerts)
  }
  if (g.missedWakes >= lostAfter && !g.lostRaised) {
    g = gpfAlert({ ...g, lostRaised: true }, gsme, THREE_LOST_GSME_SEARCHES_FAILED, now, backend, alerts)
  }
  return { gpf: g, alerts, expired }
}

/** The GSME woke and was heard: it takes the queue, and the mirror is its state now. */
export function collected(gpf: GpfState): { gpf: GpfState; commands: readonly QueuedCommand[] } {
  // Most wake-ups find nothing waiting: the same state, no new object.
  if (gpf.queue.length === 0 && gpf.missedWakes === 0 && !gpf.lostRaised) return { gpf, commands: gpf.queue }
  return { gpf: { ...gpf, queue: EMPTY_QUEUE, missedWakes: 0, lostRaised: false }, commands: gpf.queue }
}

/** The GSME reported at `at` (a wake-up, a join, the consumer at the meter): the mirror is its state as of then. */
export function updateMirror(gpf: GpfState, gsme: DeviceState, at: number): GpfState {
  return gpf.mirror === gsme && gpf.mirrorAt === at ? gpf : { ...gpf, mirror: gsme, mirrorAt: at }
}

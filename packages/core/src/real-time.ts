/**
 * Real time with an acceleration factor: the scheduler's virtual clock runs `acceleration` times
 * as fast as the wall clock (1: real time; 60: an hour a minute). The driver sleeps until the
 * wall-clock moment of the next event, runs everything due by then, and sleeps again; when an
 * earlier event is scheduled meanwhile (input from the network) it wakes sooner. This is the only
 * place in smetsim that sets a timer: everything else asks the scheduler.
 */
import type { Scheduler } from './scheduler.ts'

/** A wall clock and a one-shot timer; node's performance.now and setTimeout by default. */
export interface WallClock {
  now(): number
  setTimer(ms: number, fn: () => void): unknown
  clearTimer(handle: unknown): void
}

export const NODE_WALL_CLOCK: WallClock = {
  now: () => performance.now(),
  setTimer: (ms, fn) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export interface RealTimeOptions {
  /** Virtual ms per wall ms (> 0). Default 1. */
  acceleration?: number
  wall?: WallClock
  /** Called with an error a callback threw; the driver stops. Default: rethrown asynchronously. */
  onError?: (error: unknown) => void
}

export interface RealTimeDriver {
  /** Starts mapping: virtual now() at this moment stays where it is and moves on with the wall clock. */
  start(): void
  /** Runs what is due by now and stops the timer; virtual time stands still again at that instant. */
  stop(): void
  readonly running: boolean
}

/** Timers longer than this are split, as node caps a timeout at 2^31-1 ms. */
const MAX_TIMER_MS = 2 ** 30

export function createRealTimeDriver(scheduler: Scheduler, options: RealTimeOptions = {}): RealTimeDriver {
  const acceleration = options.acceleration ?? 1
  if (!(acceleration > 0) || !Number.isFinite(acceleration))
    throw new RangeError(`acceleration must be a finite number above 0, got ${acceleration}`)
  const wall = options.wall ?? NODE_WALL_CLOCK
  let running = false
  let timer: unknown
  let wall0 = 0
  let virtual0 = 0
  /** The instant the timer was set for: when it fires, that instant is due even if rounding says not quite. */
  let armedFor = Number.NEGATIVE_INFINITY
  /**
   * Virtual now, in whole milliseconds (rounded down, so never ahead of the wall clock's mapping):
   * what runs on the scheduler — device firmware above all — settles only at integer instants.
   */
  const mapped = () => Math.floor(virtual0 + (wall.now() - wall0) * acceleration)

  const arm = () => {
    if (timer !== undefined) wall.clearTimer(timer)
    timer = undefined
    if (!running) return
    const next = scheduler.next()
    if (next === undefined) return
    const wait = (next - mapped()) / acceleration
    armedFor = wait <= MAX_TIMER_MS ? next : Number.NEGATIVE_INFINITY
    timer = wall.setTimer(Math.min(Math.max(0, wait), MAX_TIMER_MS), fire)
  }

  const fire = () => {
    timer = undefined
    if (!running) return
    try {
      scheduler.run({ until: Math.max(mapped(), armedFor) })
    } catch (e) {
      halt()
      if (options.onError) options.onError(e)
      else
        queueMicrotask(() => {
          throw e
        })
      return
    }
    arm()
  }

  const halt = () => {
    running = false
    scheduler.setClock(undefined)
    scheduler.onEarliestChanged(undefined)
    if (timer !== undefined) wall.clearTimer(timer)
    timer = undefined
  }

  const stop = () => {
    if (!running) return
    const at = scheduler.now()
    halt()
    // What fell due before the stop runs now, and the clock stays where the wall clock took it.
    scheduler.run({ until: at })
  }

  return {
    start() {
      if (running) return
      running = true
      wall0 = wall.now()
      virtual0 = scheduler.now()
      scheduler.setClock(mapped)
      scheduler.onEarliestChanged(arm)
      arm()
    },
    stop,
    get running() {
      return running
    },
  }
}

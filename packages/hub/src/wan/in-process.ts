/**
 * The in-process WAN: bytes handed over directly, no broker — the fastest, for scenario runs.
 * Responses that come later (a GSME's, when it wakes) resolve their promise then; the time-out
 * runs on the scheduler, in virtual time.
 */
import type { Eui64, Scheduler } from '@smetsim/core'
import type { Hub, Uplink } from '../hub.ts'
import type { HanDeviceLogRequest, HanDeviceLogResult, HeadEnd } from './types.ts'

export interface InProcessWan {
  readonly headEnd: HeadEnd
  /** The uplink to give a hub at construction (HubOptions.uplink). */
  uplinkFor(commsHub: Eui64): (u: Uplink) => void
  /** Makes the hub reachable from the head end. */
  register(hub: Hub): void
  /** Commands handed to a hub so far. */
  readonly commandsDelivered: number
}

/** Default wait for a response: two GSME wake-up intervals and a margin (virtual time). */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 75 * 60_000

export function createInProcessWan(
  scheduler: Scheduler,
  o: { responseTimeoutMs?: number } = {},
): InProcessWan {
  const timeout = o.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS
  const hubs = new Map<Eui64, Hub>()
  const pending = new Map<number, (bytes: Uint8Array | undefined) => void>()
  const listeners: ((a: { commsHub: Eui64; from: Eui64; bytes: Uint8Array }) => void)[] = []
  let nextId = 1
  let delivered = 0

  const headEnd: HeadEnd = {
    send(commsHub, gbcs) {
      const hub = hubs.get(commsHub)
      if (!hub) return Promise.resolve(undefined)
      const id = nextId++
      return new Promise((resolve) => {
        let answered = false
        const finish = (bytes: Uint8Array | undefined) => {
          if (answered) return
          answered = true
          pending.delete(id)
          timer?.cancel()
          resolve(bytes)
        }
        pending.set(id, finish)
        let timer: ReturnType<Scheduler['after']> | undefined
        delivered++
        const d = hub.receive(gbcs, id)
        if (answered) return
        if (d.kind !== 'queued') return finish(undefined)
        timer = scheduler.after(timeout, () => finish(undefined))
      })
    },
    addDevice(commsHub, entry: HanDeviceLogRequest): Promise<HanDeviceLogResult> {
      const hub = hubs.get(commsHub)
      if (!hub) return Promise.resolve({ accepted: false, reason: `no Communications Hub ${commsHub}` })
      return Promise.resolve(hub.addDevice(entry))
    },
    onAlert(listener) {
      listeners.push(listener)
    },
    close: () => Promise.resolve(),
  }

  return {
    headEnd,
    uplinkFor: (commsHub) => (u) => {
      if (u.kind === 'response') {
        if (u.re !== undefined) pending.get(u.re)?.(u.bytes)
        return
      }
      for (const l of listeners) l({ commsHub, from: u.from, bytes: u.bytes })
    },
    register(hub) {
      hubs.set(hub.eui, hub)
    },
    get commandsDelivered() {
      return delivered
    },
  }
}

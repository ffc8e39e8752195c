/**
 * The Pre-Commands awaiting their User's signature (DUIS CV4 issued, CV5 not yet in), bounded: a
 * Pre-Command waits at most `ttlMs`, a User has at most `perUser` waiting, and the DCC at most
 * `total`. Whatever leaves unsigned — expired, superseded by the same RequestID sent again, or
 * pushed out as the oldest of a User (or of the DCC) over the cap — is handed to `dropped` (which
 * writes its SAT record); its late CV5 then finds nothing. Kept in order of issue, so expiry stops
 * at the first one still in time. The caps and the expiry are modelling choices (unconfirmed).
 */
import type { Eui64 } from '@smetsim/core'

/** How long a Pre-Command waits for its signature by default (unconfirmed: a day). */
export const DEFAULT_PRE_COMMAND_TTL_MS = 86_400_000

export interface PreCommandLimits {
  /** How long one waits, ms (default DEFAULT_PRE_COMMAND_TTL_MS). */
  ttlMs: number
  /** Most waiting per User (the sender the CV4 went to; default 1,000). */
  perUser: number
  /** Most waiting in the DCC (default 100,000). */
  total: number
}

export const DEFAULT_PRE_COMMAND_LIMITS: Readonly<PreCommandLimits> = Object.freeze({
  ttlMs: DEFAULT_PRE_COMMAND_TTL_MS,
  perUser: 1000,
  total: 100_000,
})

export type DropReason = 'expired' | 'superseded' | 'over the User’s cap' | 'over the DCC’s cap'

export interface Waiting {
  sender: Eui64
  /** DCC time (epoch ms) it was issued. */
  issuedAt: number
}

export interface PreCommandRegister<P extends Waiting> {
  /** Holds a Pre-Command; one already waiting for the RequestID is superseded. */
  add(requestId: string, p: P): void
  get(requestId: string): P | undefined
  /** Removes it (used once: signed and sent, or refused for good). */
  remove(requestId: string): void
  /** Drops every one not signed in time. */
  expire(now: number): void
  requestIds(): string[]
  /** Every one waiting, in order of issue (DCC state snapshot, `state.ts`; `add` them back in this order). */
  entries(): [string, P][]
}

export function createPreCommandRegister<P extends Waiting>(
  limits: Partial<PreCommandLimits> | undefined,
  dropped: (requestId: string, p: P, why: DropReason) => void,
): PreCommandRegister<P> {
  const ttlMs = limits?.ttlMs ?? DEFAULT_PRE_COMMAND_LIMITS.ttlMs
  const perUser = Math.max(1, limits?.perUser ?? DEFAULT_PRE_COMMAND_LIMITS.perUser)
  const total = Math.max(1, limits?.total ?? DEFAULT_PRE_COMMAND_LIMITS.total)
  const waiting = new Map<string, P>()
  const countOf = new Map<Eui64, number>()

  function remove(requestId: string): P | undefined {
    const p = waiting.get(requestId)
    if (!p) return undefined
    waiting.delete(requestId)
    const n = (countOf.get(p.sender) ?? 1) - 1
    if (n > 0) countOf.set(p.sender, n)
    else countOf.delete(p.sender)
    return p
  }

  function drop(requestId: string, why: DropReason): void {
    const p = remove(requestId)
    if (p) dropped(requestId, p, why)
  }

  /** The User's oldest waiting Pre-Command (the map is in order of issue). */
  function oldestOf(sender: Eui64): string | undefined {
    for (const [requestId, p] of waiting) if (p.sender === sender) return requestId
    return undefined
  }

  return {
    add(requestId, p) {
      // Sent again: the new one goes to the end of the queue in issue order, which expiry relies on.
      if (waiting.has(requestId)) drop(requestId, 'superseded')
      if ((countOf.get(p.sender) ?? 0) >= perUser) drop(oldestOf(p.sender)!, 'over the User’s cap')
      if (waiting.size >= total) drop(waiting.keys().next().value!, 'over the DCC’s cap')
      waiting.set(requestId, p)
      countOf.set(p.sender, (countOf.get(p.sender) ?? 0) + 1)
    },
    get: (requestId) => waiting.get(requestId),
    remove: (requestId) => void remove(requestId),
    expire(now) {
      for (const [requestId, p] of waiting) {
        if (now - p.issuedAt < ttlMs) break
        drop(requestId, 'expired')
      }
    },
    requestIds: () => [...waiting.keys()],
    entries: () => [...waiting],
  }
}

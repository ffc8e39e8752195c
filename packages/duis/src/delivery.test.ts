import type { Eui64 } from '@smetsim/core'
import { createMemorySat } from '@smetsim/dcc'
import { describe, expect, it } from 'vitest'
import { createDeliveryQueue, QUEUE_LIFETIME_MS, RETRY_OFFSETS_MS } from './delivery.ts'

const U = '90B3D51F30010000' as Eui64
const message = (n: number) => ({ user: U, kind: 'alert' as const, xml: `<x n="${n}"/>`, code: '8F0A' })

describe('asynchronous delivery', () => {
  it('retries within 300 s, then every 15 minutes, and drops after 2 days with a SAT record', async () => {
    const sat = createMemorySat()
    const attempts: number[] = []
    let now = 0
    const q = createDeliveryQueue({
      endpointOf: () => 'http://127.0.0.1:9/duis',
      post: async () => {
        attempts.push(now)
        return false
      },
      sat,
    })
    q.enqueue(message(1), 0)
    for (now = 0; now <= QUEUE_LIFETIME_MS; now += 5_000) await q.run(now)
    expect(attempts.slice(0, RETRY_OFFSETS_MS.length)).toEqual(RETRY_OFFSETS_MS)
    expect(attempts[RETRY_OFFSETS_MS.length]).toBe(300_000 + 15 * 60_000)
    // 6 attempts in the first 300 s, then one each 15 minutes until 2 days.
    expect(attempts).toHaveLength(6 + Math.floor((QUEUE_LIFETIME_MS - 300_000 - 1) / (15 * 60_000)))
    expect(q.pending()).toBe(0)
    const [drop] = sat.query({ kind: 'alert' })
    expect(drop).toMatchObject({
      user: U,
      code: '8F0A',
      detail: { step: 'duis-delivery', dropped: 'not delivered within 2 days' },
    })
  })

  it('delivers in order once the endpoint answers, and keeps a bounded queue per User', async () => {
    const sat = createMemorySat()
    let up = false
    const got: string[] = []
    const q = createDeliveryQueue({
      endpointOf: () => 'http://127.0.0.1:9/duis',
      post: async (_url, xml) => {
        if (up) got.push(xml)
        return up
      },
      sat,
      maxQueuedPerUser: 3,
    })
    for (let i = 1; i <= 5; i++) q.enqueue(message(i), 0)
    expect(q.pending(U)).toBe(3)
    expect(sat.query({ kind: 'alert' })).toHaveLength(2)
    expect(await q.run(0)).toEqual({ delivered: 0, failed: 3, dropped: 0 })
    up = true
    expect(await q.run(10_000)).toEqual({ delivered: 3, failed: 0, dropped: 0 })
    expect(got).toEqual(['<x n="3"/>', '<x n="4"/>', '<x n="5"/>'])
    expect(q.delivered(U)).toHaveLength(3)
  })

  it('queues for a User with no endpoint by the same rules', async () => {
    const q = createDeliveryQueue({
      endpointOf: () => undefined,
      post: async () => true,
      sat: createMemorySat(),
    })
    q.enqueue(message(1), 0)
    expect(await q.run(0)).toEqual({ delivered: 0, failed: 1, dropped: 0 })
    expect(q.pending(U)).toBe(1)
  })
})

/** Prepayment households acting on their top-up habits, through their PPMIDs and meters, in virtual time. */
import { createScheduler } from '@smetsim/core'
import type { DeviceState } from '@smetsim/device'
import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../hub/src/wan/broker.ts'
import { buildFleet } from './build.ts'
import { addHouseholdStats, firstTopUp, startHouseholds } from './households.ts'
import { createFleetPki } from './pki.ts'
import { startFleet } from './run.ts'
import { type FleetSpec, parseFleetSpec } from './spec.ts'

const backend = getBackend('native')
const DAY = 86_400_000

function specOf(balancePounds: number, pressesButtonWhenArmed = 1): FleetSpec {
  const r = parseFleetSpec({
    seed: 'households',
    premises: 4,
    suppliers: [
      { name: 'A', eui: '90B3D51F30010000', mpid: 'SUPA', share: 0.5, prepaymentShare: 1 },
      { name: 'B', eui: '90B3D51F30030000', mpid: 'SUPB', share: 0.5, prepaymentShare: 1 },
    ],
    install: { installedNotCommissioned: 0 },
    devices: { gas: 0.5, ppmid: { prepayment: 0.5 } },
    balance: { minPounds: balancePounds, maxPounds: balancePounds },
    topUp: {
      everyDays: { min: 2, max: 2 },
      amountPounds: { min: 10, max: 10 },
      noAnswerDays: { min: 1, max: 1 },
      pressesButtonWhenArmed,
    },
  })
  if (!r.ok) throw r.error
  return r.value
}

async function running(spec: FleetSpec) {
  const fleet = buildFleet(spec, { pki: createFleetPki(spec) })
  const scheduler = createScheduler({ start: Date.parse(spec.start) })
  return startFleet(fleet, { scheduler, backend })
}

const metersOf = (run: Awaited<ReturnType<typeof running>>) =>
  Array.from({ length: run.fleet.size }, (_, i) => run.fleet.premise(i)!).flatMap((p) =>
    [p.esme, p.gsme].filter((e) => e !== undefined).map((e) => run.device(e) as DeviceState),
  )

describe('prepayment households', () => {
  it('top up when due with a UTRN their supplier sells, on the PPMID or the keypad, and the meters take it', async () => {
    const spec = specOf(20)
    const run = await running(spec)
    try {
      const premises = Array.from({ length: run.fleet.size }, (_, i) => run.fleet.premise(i)!)
      expect(premises.some((p) => p.ppmid) && premises.some((p) => !p.ppmid)).toBe(true) // both ways in
      const h = startHouseholds(run, { backend })
      await run.advance(5 * DAY)
      const meters = metersOf(run)
      // Every 2 days from a first due day within the first 2: two or three top-ups in 5 days.
      expect(h.stats.attempts).toBeGreaterThanOrEqual(2 * premises.length)
      expect(h.stats.unanswered).toBe(0)
      expect(h.stats.utrnsTyped).toBeGreaterThanOrEqual(2 * meters.length)
      expect(h.stats.utrnsAccepted).toBe(h.stats.utrnsTyped)
      expect(h.stats.refused).toEqual({})
      for (const m of meters) expect(m.utrns.length, m.eui).toBeGreaterThanOrEqual(2)
      h.stop()
    } finally {
      await run.close()
    }
  })

  it('get nothing from a supplier that does not answer: they try again a day later, and the meters run out', async () => {
    const run = await running(specOf(0.5))
    try {
      const h = startHouseholds(run, { backend, answers: () => false })
      await run.advance(6 * DAY)
      expect(h.stats.attempts).toBeGreaterThanOrEqual(4 * run.fleet.size) // daily retries (noAnswerDays 1)
      expect(h.stats.unanswered).toBe(h.stats.attempts)
      expect(h.stats.utrnsTyped).toBe(0)
      expect(metersOf(run).every((m) => m.supply === 'disabled' && m.utrns.length === 0)).toBe(true)
    } finally {
      await run.close()
    }
  })

  it('once the supplier answers again, the top-up arms the meter and a household that presses the button gets its supply back', async () => {
    for (const [presses, expected] of [
      [1, 'enabled'],
      [0, 'armed'],
    ] as const) {
      const spec = specOf(0.5, presses)
      const run = await running(spec)
      try {
        const back = Date.parse(spec.start) + 3 * DAY
        const h = startHouseholds(run, { backend, answers: (_, at) => at >= back })
        await run.advance(6 * DAY)
        expect(h.stats.unanswered).toBeGreaterThan(0)
        expect(h.stats.utrnsAccepted).toBeGreaterThan(0)
        expect(metersOf(run).map((m) => m.supply)).toEqual(metersOf(run).map(() => expected))
        expect(h.stats.buttonPresses > 0).toBe(presses === 1)
      } finally {
        await run.close()
      }
    }
  })

  it('on a shard, only its own premises’ households act: the others’ meters are on another shard’s hubs', async () => {
    const spec = specOf(20)
    const fleet = buildFleet(spec, { pki: createFleetPki(spec) })
    const start = Date.parse(spec.start)
    const broker = await startBroker()
    const run = await startFleet(fleet, {
      scheduler: createScheduler({ start }),
      backend,
      wan: { broker: broker.url },
      shard: { index: 1, count: 2 },
    })
    try {
      const h = startHouseholds(run, { backend })
      const end = start + 5 * DAY
      await run.advance(5 * DAY)
      // Premises 0 and 2 are shard 1/2's: every top-up due there, and none of premises 1 and 3.
      let due = 0
      for (const i of [0, 2]) for (let t = fleet.premise(i)!.topUp!.firstDueAt; t <= end; t += 2 * DAY) due++
      expect(h.stats.attempts).toBe(due)
      expect(h.stats.utrnsAccepted).toBe(h.stats.utrnsTyped)
      expect(h.stats.utrnsTyped).toBeGreaterThan(0)
    } finally {
      await run.close()
      await broker.close()
    }
  })

  it('a run started after a first top-up was due takes up the rhythm at its next instant; shards add up', () => {
    const habit = { firstDueAt: 10 * DAY, everyDays: 3 }
    expect(firstTopUp(habit, 0)).toBe(10 * DAY)
    expect(firstTopUp(habit, 10 * DAY)).toBe(10 * DAY)
    expect(firstTopUp(habit, 10 * DAY + 1)).toBe(13 * DAY)
    expect(firstTopUp(habit, 16 * DAY)).toBe(16 * DAY)
    expect(firstTopUp(habit, 17 * DAY)).toBe(19 * DAY)
    const one = {
      attempts: 2,
      unanswered: 1,
      utrnsTyped: 1,
      utrnsAccepted: 0,
      refused: { '8F63': 1 },
      buttonPresses: 0,
    }
    const two = { attempts: 3, unanswered: 0, utrnsTyped: 4, utrnsAccepted: 4, refused: {}, buttonPresses: 2 }
    expect(addHouseholdStats(addHouseholdStats(undefined, one), two)).toEqual({
      attempts: 5,
      unanswered: 1,
      utrnsTyped: 5,
      utrnsAccepted: 4,
      refused: { '8F63': 1 },
      buttonPresses: 2,
    })
    expect(one.refused).toEqual({ '8F63': 1 })
  })
})

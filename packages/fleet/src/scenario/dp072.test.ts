import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { loadScenario } from './builtin.ts'
import { runScenario } from './run.ts'
import { parseScenario } from './scenario.ts'

describe('cos-stalled-623 (DP072) at a small size', () => {
  it('meets its expectations; the mechanisms differ where the seed says they do', async () => {
    const r = await runScenario(loadScenario('cos-stalled-623'), {
      backend: getBackend(),
      premises: 150,
      seed: 'ci',
    })
    for (const e of r.expectations) expect(e, e.text).toMatchObject({ ok: true })
    type Metrics = Record<string, number> & Record<'dccReadsBeforeSsd', number>
    const m = (s: string) => r.runs[s]!.metrics as Metrics
    const [once, late, never, block] = ['sends-at-once', 'sends-late', 'never', 'never+block'].map(m) as [
      Metrics,
      Metrics,
      Metrics,
      Metrics,
    ]
    expect(never.movedMeters).toBeGreaterThan(10)
    // SR 6.8 and SR 5.1 went to every ESME of the losing Supplier and were taken.
    expect(Object.keys(r.runs.never!.commands['6.8']!)).toEqual(['I0'])
    expect(Object.keys(r.runs.never!.commands['5.1']!)).toEqual(['I0'])

    // The device schedule: one 0x8F0A a moved ESME a day while its cells name the losing Supplier.
    const esmes = never.dccReadsBeforeSsd / 3 // the DCC Schedule's runs on days 2, 3 and 4
    expect(never.billingAlertsToLosingSupplier).toBe(esmes * 45) // from the Supply Start Date, day 5, to day 50
    expect(late.billingAlertsToLosingSupplier).toBe(esmes * 20)
    expect(once.alertsToLosingSupplier).toBe(0)
    // The DCC Schedule: E4 from the Supply Start Date whatever SR 6.23 did, and never data.
    for (const s of [once, late, never, block]) {
      expect(s.dccReadsE4).toBe(esmes * 45)
      expect(s.dccReadsAfterSsd).toBe(0)
    }
    // The remedy blocks the non-critical alerts only: the critical ones (0x8F0A) still pass.
    expect(never.nonCriticalAlertsToLosingSupplier).toBeGreaterThan(0)
    expect(block.nonCriticalAlertsToLosingSupplier).toBe(0)
    expect(block.alertsBlocked).toBe(never.nonCriticalAlertsToLosingSupplier)
    expect(block.criticalAlertsToLosingSupplier).toBe(never.criticalAlertsToLosingSupplier)
    expect(block.billingAlertsToLosingSupplier).toBe(never.billingAlertsToLosingSupplier)
    expect(never.alertsBlocked).toBe(0)
    // SR 6.23 reached every moved meter when sent, none when not.
    expect(once.metersReachedBy623).toBe(once.movedMeters)
    expect(late.metersReachedBy623).toBe(late.movedMeters)
    expect(never.metersReachedBy623).toBe(0)
  }, 120_000)

  it('counts every DCC Schedule run due before the end, those in its last minutes too', async () => {
    // 400 premises, all of the losing Supplier's moving on day 5: its ~160 ESMEs' runs are spread
    // over the day, so the last falls due after 23:50, in the run's last 10-minute timer window
    // (which the part's timer used to leave unrun).
    const file = `
name: dp072-last-round
fleet:
  premises: 400
  seed: last-round
  start: "2026-01-05T00:00:00Z"
  suppliers:
    - { name: Losing Supplier, eui: 90B3D51F30010000, mpid: LOSE, share: 0.4, prepaymentShare: 0 }
    - { name: Gaining Supplier, eui: 90B3D51F30030000, mpid: GAIN, share: 0.6, prepaymentShare: 0 }
duration: 7d
sampleEvery: 1d
timeline:
  - { event: dccDailyRead, at: 1d, supplier: Losing Supplier, srv: "4.16" }
  - { event: changeOfSupplier, at: 5d, from: Losing Supplier, to: Gaining Supplier, share: 1 }
settings: { never: { timeline: [] } }
`
    const r = await runScenario(parseScenario(file, 'last-round.yaml'), { backend: getBackend() })
    const m = r.runs.never!.metrics as Record<string, number>
    const esmes = m.dccReadsBeforeSsd! / 3 // days 2, 3 and 4
    expect(esmes).toBeGreaterThan(72) // (1 − 0.5 / n) of a day is after 23:50 for n > 72
    expect(Number.isInteger(esmes)).toBe(true)
    expect(m.dccReadsE4).toBe(esmes * 2) // days 5 and 6, up to the run's last instant
    expect(m.requestsUnanswered).toBe(0)
  }, 120_000)

  it('checks a setting names one losing Supplier, and that the block has one', () => {
    const file = (timeline: string) => `name: x\ntimeline: [${timeline}]\nsettings: { a: { timeline: [] } }`
    expect(() =>
      parseScenario(
        file(
          '{ event: deviceBillingCalendar, at: 1d, supplier: A, srv: "6.8" }, { event: dccDailyRead, at: 1d, supplier: B, srv: "4.16" }',
        ),
        'x.yaml',
      ),
    ).toThrow(/more than one losing Supplier \(A, B\)/)
    expect(() => parseScenario(file('{ event: dccBlocksNonCriticalAlerts }'), 'x.yaml')).toThrow(
      /'dccBlocksNonCriticalAlerts' needs a 'deviceBillingCalendar' or 'dccDailyRead'/,
    )
    expect(() =>
      parseScenario(
        file('{ event: deviceBillingCalendar, at: 1d, supplier: A, srv: "6.8", time: "25:00" }'),
        'x.yaml',
      ),
    ).toThrow(/time/)
    expect(() =>
      parseScenario(file('{ event: dccDailyRead, at: 1d, supplier: A, srv: "4.1.1" }'), 'x.yaml'),
    ).toThrow(/srv/)
  })
})

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

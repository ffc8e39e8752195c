import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { householdDraw } from './consumers.ts'
import { runScenario } from './run.ts'
import { parseScenario } from './scenario.ts'

describe('consumers part: households that stop topping up', () => {
  it('the draw is spread over [0, 1): about a share of households is picked', () => {
    const draws = Array.from({ length: 10_000 }, (_, i) => householdDraw(i))
    expect(draws.every((d) => d >= 0 && d < 1)).toBe(true)
    expect(draws.filter((d) => d < 0.3).length / draws.length).toBeCloseTo(0.3, 1)
  })

  it('households that skip their top-ups run out; those of another Supplier are left alone', async () => {
    const r = await runScenario(
      parseScenario(
        `
name: stop
fleet: { premises: 300, seed: stop }
duration: 12d
sampleEvery: 6h
timeline: []
settings:
  top-up: { timeline: [{ event: householdsStopTopUp, at: 1d, share: 0, supplier: Supplier A }] }
  stop-a: { timeline: [{ event: householdsStopTopUp, at: 1d, share: 1, supplier: Supplier A }] }
  stop-all: { timeline: [{ event: householdsStopTopUp, at: 1d, until: 6d, share: 1 }] }
expect:
  - stop-a.householdHoursOffSupply > top-up.householdHoursOffSupply
  - stop-a.metrics.topUpsSkipped > 0
  - top-up.metrics.topUpsSkipped == 0
`,
        'stop.yaml',
      ),
      { backend: getBackend() },
    )
    for (const e of r.expectations) expect(e, e.text).toMatchObject({ ok: true })
    const { 'top-up': topUp, 'stop-a': stopA, 'stop-all': stopAll } = r.runs
    // Every top-up skipped is one not tried; Supplier B's households still try theirs.
    expect(stopA!.topUps.attempts).toBe(topUp!.topUps.attempts - stopA!.metrics.topUpsSkipped!)
    expect(stopA!.topUps.attempts).toBeGreaterThan(0)
    // A spell that ends: households top up again after it, so fewer are skipped than with no end.
    expect(stopAll!.metrics.topUpsSkipped).toBeGreaterThan(0)
  }, 90_000)
})

import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { runScenario } from './run.ts'
import { parseScenario } from './scenario.ts'

const scenario = (sends: string) =>
  parseScenario(
    `
name: cos
fleet: { premises: 300, seed: cos }
duration: 4d
sampleEvery: 6h
timeline:
  - { event: changeOfSupplier, at: 1d, from: Supplier A, to: Supplier B, share: 0.5 }
settings:
  sends: { timeline: [${sends}] }
  never: { timeline: [] }
expect:
  - sends.commands.6.23.I0 > 0
  - never.commands.6.23.I0 == 0
  - sends.metrics.premisesChanged == never.metrics.premisesChanged
`,
    'cos.yaml',
  )

describe('Change of Supplier part', () => {
  it("moves half of A's premises to B, whose SR 6.23 the meters take; without the event none is sent", async () => {
    const r = await runScenario(
      scenario('{ event: gainingSupplierSends, after: 1d, srv: "6.23", perDay: 1000 }'),
      {
        backend: getBackend(),
      },
    )
    for (const e of r.expectations) expect(e, e.text).toMatchObject({ ok: true })
    const moved = r.runs.sends!.metrics.premisesChanged!
    expect(moved).toBeGreaterThan(10)
    // Every moved meter (an ESME each, a GSME for most) got its SR 6.23, and took it.
    expect(Object.keys(r.runs.sends!.commands['6.23']!)).toEqual(['I0'])
    expect(r.runs.sends!.commands['6.23']!.I0).toBeGreaterThanOrEqual(moved)
    expect(r.runs.never!.commands).toEqual({})
    expect(r.failedSupplier).toBeUndefined()
  }, 60_000)

  it('gainingSupplierSends needs a changeOfSupplier', () => {
    expect(() =>
      parseScenario(
        'name: x\ntimeline: [{ event: gainingSupplierSends, after: 1d, srv: "6.23", perDay: 5 }]\nsettings: { a: { timeline: [] } }',
        'x.yaml',
      ),
    ).toThrow(/needs a 'changeOfSupplier'/)
  })
})

import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { loadScenario } from './builtin.ts'
import { addWorkingDays } from './mp121.ts'
import { runScenario } from './run.ts'
import { parseScenario } from './scenario.ts'

const backend = getBackend()
const DAY = 86_400_000

/** A small fleet, half of it InstalledNotCommissioned, the WAN fixed early; settings as given. */
const scenario = (settings: string, o: { wan?: string; window?: string; duration?: string } = {}) =>
  parseScenario(
    `
name: mp121
fleet: { premises: 150, seed: mp121, start: "2026-01-05T00:00:00Z", install: { installedNotCommissioned: 0.5 } }
duration: ${o.duration ?? '60d'}
sampleEvery: 1d
timeline:
  - { event: wanFixed, ${o.wan ?? 'from: 10d, over: 20d'} }
  - { event: supplierCommissions, after: 1d }
  - { event: commissioningWindowCloses, at: ${o.window ?? '60d'} }
settings:
${settings}
`,
    'mp121.yaml',
  )
const COS =
  '{ event: changeOfSupplier, at: 5d, from: Supplier A, to: Supplier B, share: 0.5, install: installedNotCommissioned }'

describe('commissioning after CoS (MP121)', () => {
  it('the built-in at 200 premises: every expectation holds, and the figures say why', async () => {
    const r = await runScenario(loadScenario('commissioning-after-cos'), { backend, premises: 200 })
    for (const e of r.expectations) expect(e, e.text).toMatchObject({ ok: true })
    const { 'no-cos': none, 'cos-without-code': without, 'cos-mp121': mp121 } = r.runs
    const m = without!.metrics
    expect(m.gainedPremises).toBeGreaterThan(10)
    // The same premises move in every CoS setting, and the same ones stay.
    expect(mp121!.metrics.gainedPremises).toBe(m.gainedPremises)
    expect(m.gainedPremises! + m.keptPremises!).toBe(none!.metrics.keptPremises)
    // Without the code: every gaining 8.11 is refused for want of it (E081101), none joins.
    expect(without!.commands['8.11']!.E081101).toBe(m.gainedDevices)
    expect(m.gainedDevicesJoined).toBe(0)
    expect(without!.commands['6.23']).toBeUndefined()
    // With MP121: the gaining Supplier's meters join, take its SR 6.23, then commission.
    const g = mp121!.metrics
    expect(g.gainedDevicesCommissioned).toBeGreaterThan(0)
    expect(g.gainedDevicesJoined).toBeGreaterThanOrEqual(g.gainedDevicesCommissioned!)
    expect(mp121!.commands['6.23']!.I0).toBe(g.gainedDevicesJoined)
    // Every 8.1.1 that came back I0 commissioned a meter, of one group or the other.
    expect(mp121!.commands['8.1.1']!.I0).toBe(g.gainedDevicesCommissioned! + g.keptDevicesCommissioned!)
    // Ten working days are fourteen calendar days, after the day's wait from the WAN fix.
    expect(g.gainedMedianDaysToCommission).toBeGreaterThanOrEqual(15)
    expect(g.keptMedianDaysToCommission).toBeLessThan(2)
  }, 60_000)

  it('the SLA decides: codes at once commission every gained premise; 40 working days miss the window', async () => {
    const r = await runScenario(
      scenario(`
  sla0: { timeline: [${COS}, { event: mp121, slaWorkingDays: 0 }] }
  sla40: { timeline: [${COS}, { event: mp121, slaWorkingDays: 40 }] }
  mp121-no-cos: { timeline: [{ event: mp121, slaWorkingDays: 10 }] }
`),
      { backend },
    )
    const { sla0, sla40, 'mp121-no-cos': noCos } = r.runs
    expect(sla0!.metrics.gainedPremises).toBeGreaterThan(5)
    expect(sla0!.metrics.gainedPremisesSiteVisit).toBe(0)
    expect(sla0!.metrics.gainedDevicesCommissioned).toBe(sla0!.metrics.gainedDevices)
    expect(sla0!.metrics.gainedMedianDaysToCommission).toBeLessThan(2)
    // 40 working days are 56 days: with the WAN fixed from day 10 (+1 day) every code comes after the day-60 close.
    expect(sla40!.metrics.gainedPremisesSiteVisit).toBe(sla40!.metrics.gainedPremises)
    expect(sla40!.metrics.gainedDevicesCommissioned).toBe(0)
    expect(sla40!.metrics.gainedInstallCodesRefused).toBe(0)
    expect(sla40!.commands['8.11']!.I0).toBe(sla40!.metrics.keptDevices)
    // MP121 without a CoS changes nothing for the installing Supplier's own premises.
    expect(noCos!.metrics.gainedPremises).toBe(0)
    expect(noCos!.metrics.keptPremisesSiteVisit).toBe(0)
    expect(noCos!.metrics.keptDevicesCommissioned).toBe(noCos!.metrics.keptDevices)
    expect(noCos!.commands['6.23']).toBeUndefined()
  }, 60_000)

  it('a WAN fixed after the window closes leaves the premises to a site visit, MP121 or not', async () => {
    const r = await runScenario(
      scenario(`  late: { timeline: [{ event: mp121, slaWorkingDays: 0 }] }`, {
        wan: 'from: 20d, over: 20d',
        window: '30d',
        duration: '40d',
      }),
      { backend },
    )
    const m = r.runs.late!.metrics
    expect(m.premisesWanLate).toBeGreaterThan(0)
    expect(m.premisesWanLate).toBeLessThan(m.keptPremises!)
    // Those whose WAN came a day before the close or later were never reached.
    expect(m.keptPremisesSiteVisit).toBeGreaterThanOrEqual(m.premisesWanLate!)
    expect(m.keptDevicesCommissioned).toBeLessThan(m.keptDevices!)
    expect(m.keptDevicesCommissioned).toBeGreaterThan(0)
  }, 60_000)

  it('checks its timeline, and a window that closes after the run', async () => {
    expect(() =>
      parseScenario(
        'name: x\ntimeline: [{ event: wanFixed, from: 1d, over: 1d }]\nsettings: { a: { timeline: [] } }',
        'x.yaml',
      ),
    ).toThrow(/needs 'supplierCommissions', 'commissioningWindowCloses' as well/)
    expect(() => scenario(`  a: { timeline: [{ event: mp121, slaWorkingDays: 1.5 }] }`)).toThrow(
      /slaWorkingDays: must be integer/,
    )
    expect(() =>
      scenario(
        `  a: { timeline: [{ event: mp121, slaWorkingDays: 5 }, { event: mp121, slaWorkingDays: 10 }] }`,
      ),
    ).toThrow(/'mp121' comes more than once/)
    await expect(
      runScenario(scenario('  a: { timeline: [] }', { window: '90d' }), { backend, premises: 2 }),
    ).rejects.toThrow(/closes on day 90, after the run ends/)
  })

  it('counts working days Monday to Friday', () => {
    const friday = Date.parse('2026-01-09T10:00:00Z')
    expect(addWorkingDays(friday, 0)).toBe(friday)
    expect(new Date(addWorkingDays(friday, 1)).toISOString()).toBe('2026-01-12T10:00:00.000Z')
    expect(addWorkingDays(friday, 5)).toBe(friday + 7 * DAY)
    expect(addWorkingDays(friday, 10)).toBe(friday + 14 * DAY)
    // From a Saturday, the first working day is the Monday.
    expect(addWorkingDays(friday + DAY, 1)).toBe(friday + 3 * DAY)
  })
})

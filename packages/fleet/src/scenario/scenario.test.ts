import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { builtinScenarios, loadScenario } from './builtin.ts'
import { checkExpectation, ExpectationError, parseExpectation } from './expect.ts'
import { dccOfParts } from './part.ts'
import type { RunReport } from './report.ts'
import { runScenario, solrSettingOf } from './run.ts'
import { parseScenario, type Scenario, ScenarioError } from './scenario.ts'

const MINIMAL = `
name: tiny
timeline:
  - { event: supplierFails, at: 1d, supplier: Supplier A }
  - { event: licenceRevoked, at: 2d, solr: Supplier B }
settings:
  baseline: { timeline: [] }
`

const problemsOf = (text: string) => {
  try {
    parseScenario(text, 'test.yaml')
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError)
    return (e as ScenarioError).problems
  }
  throw new Error('parsed')
}

describe('scenario files', () => {
  it('a minimal file gets its defaults', () => {
    const s = parseScenario(MINIMAL, 'test.yaml')
    expect(s).toMatchObject({ version: 1, duration: '21d', sampleEvery: '1h', expect: [], description: '' })
    expect(s.srp.eui).toBe('90B3D51F30050000')
  })

  it('JSON is read as well as YAML', () => {
    const s = parseScenario(JSON.stringify(parseScenario(MINIMAL, 'a')), 'test.json')
    expect(s.name).toBe('tiny')
  })

  it('a YAML syntax error names its line', () => {
    const [p] = problemsOf('name: x\ntimeline: [\n  {event: \n')
    expect(p).toMatchObject({ field: '(file)', line: expect.any(Number) })
  })

  it('a repeated key is an error, not a silent overwrite', () => {
    expect(problemsOf(`${MINIMAL}\nname: again\n`)[0]!.message).toMatch(/unique/i)
  })

  it('a bad event names its field and line, and only its own branch of the schema', () => {
    const text = MINIMAL.replace(
      'at: 2d, solr: Supplier B',
      'at: 2d, solr: Supplier B }\n  - { event: srpSends, at: 3d, srv: "1.6"',
    )
    const problems = problemsOf(text)
    expect(problems).toEqual([{ field: 'timeline[2].perDay', message: 'required', line: 6 }])
  })

  it('an unknown event is refused with the events listed', () => {
    const problems = problemsOf(MINIMAL.replace('event: supplierFails', 'event: supplierExplodes'))
    expect(problems[0]).toMatchObject({ field: 'timeline[0].event', line: 4 })
    expect(problems[0]!.message).toMatch(/allowed values/)
  })

  it('durations must parse, and MP134B needs a delayed MPID transfer', () => {
    const problems = problemsOf(
      MINIMAL.replace('at: 1d', 'at: soon').replace(
        'baseline: { timeline: [] }',
        'mp134b: { timeline: [{ event: solrContingency }] }',
      ),
    )
    expect(problems.map((p) => p.field)).toEqual(['timeline[0].at', 'settings.mp134b'])
    expect(problems[1]!.message).toMatch(/mpidTransferDelayed/)
  })

  it('a run samples at most every minute, and at most 100 000 times', () => {
    expect(problemsOf(MINIMAL.replace('name: tiny', 'name: tiny\nsampleEvery: 10s'))).toEqual([
      { field: 'sampleEvery', message: 'must be at least 1m', line: 3 },
    ])
    expect(
      problemsOf(MINIMAL.replace('name: tiny', 'name: tiny\nduration: 1000d\nsampleEvery: 5m'))[0],
    ).toMatchObject({
      field: 'sampleEvery',
      message: '1000d / 5m is over 100000 samples: sample less often',
    })
    expect(
      parseScenario(MINIMAL.replace('name: tiny', 'name: tiny\nduration: 1000d\nsampleEvery: 15m'), 't')
        .duration,
    ).toBe('1000d')
  })

  it('every setting needs one failure and one revocation', () => {
    const problems = problemsOf(MINIMAL.replace(/ {2}- \{ event: licenceRevoked.*\n/, ''))
    expect(problems).toEqual([
      { field: 'settings.baseline', message: "needs one 'supplierFails' and one 'licenceRevoked'", line: 6 },
    ])
  })

  it('the built-in scenarios load, each under its own name', () => {
    expect(builtinScenarios()).toContain('solr-disorderly-exit')
    for (const name of builtinScenarios()) expect(loadScenario(name).name).toBe(name)
    expect(() => loadScenario('no-such-scenario')).toThrow(/nor a built-in scenario \(.*solr-disorderly-exit/)
  })

  it('the delay events decide the SoLR control setting', () => {
    const s = loadScenario('solr-disorderly-exit')
    const of = (name: string) => solrSettingOf([...s.timeline, ...s.settings[name]!.timeline])
    expect(Object.keys(s.settings).map(of)).toEqual(['baseline', 'MP134A', 'MP185', 'MP134B'])
  })
})

const run = (o: Partial<RunReport>): RunReport => ({
  description: '',
  householdHoursOffSupply: 0,
  householdsDisconnected: 0,
  householdsOffAtEnd: 0,
  othersHouseholdHoursOffSupply: 0,
  series: { intervalMs: 3_600_000, offSupply: [] },
  commands: {},
  alerts: {},
  topUps: { attempts: 0, unanswered: 0, accepted: 0, rejected: 0 },
  metrics: {},
  ...o,
})

describe('expectations', () => {
  const settings = ['baseline', 'mp134b']
  const runs = {
    baseline: run({ householdHoursOffSupply: 120, commands: { '1.6': { E4: 3 } } }),
    mp134b: run({ householdHoursOffSupply: 20 }),
  }

  it('compare two runs, or a run with a number, and say what they found', () => {
    const r = checkExpectation(
      parseExpectation('mp134b.householdHoursOffSupply < baseline.householdHoursOffSupply', settings),
      runs,
    )
    expect(r).toEqual({
      text: 'mp134b.householdHoursOffSupply < baseline.householdHoursOffSupply',
      ok: true,
      actual: { 'mp134b.householdHoursOffSupply': 20, 'baseline.householdHoursOffSupply': 120 },
    })
    expect(
      checkExpectation(parseExpectation('baseline.householdHoursOffSupply <= 100', settings), runs).ok,
    ).toBe(false)
    expect(checkExpectation(parseExpectation('baseline.commands.1.6.E4 == 3', settings), runs).ok).toBe(true)
    expect(checkExpectation(parseExpectation('mp134b.commands.1.6.E4 == 0', settings), runs).ok).toBe(true)
  })

  it('refuse unknown settings, metrics and forms', () => {
    expect(() => parseExpectation('mp999.householdsDisconnected > 0', settings)).toThrow(ExpectationError)
    expect(() => parseExpectation('baseline.wellbeing > 0', settings)).toThrow(/unknown metric 'wellbeing'/)
    expect(() => parseExpectation('baseline.householdsDisconnected is small', settings)).toThrow(/expected/)
  })
})

describe('solr-disorderly-exit at a small size', () => {
  const scenario: Scenario = loadScenario('solr-disorderly-exit')
  const small = { backend: getBackend(), premises: 600, seed: 'ci' }

  it('meets its expectations, and the same seed gives the same report, on one thread or two', async () => {
    const a = await runScenario(scenario, small)
    for (const e of a.expectations) expect(e, e.text).toMatchObject({ ok: true })
    expect(Object.keys(a.runs)).toEqual(['baseline', 'mp134a', 'mp134a+mp185', 'mp134b'])
    // The SRP's SR 1.6 for the failed Supplier: E4 once its MPIDs have moved, I0 while they have not.
    expect(Object.keys(a.runs.baseline!.commands['1.6']!)).toEqual(['E4'])
    expect(Object.keys(a.runs.mp134b!.commands['1.6']!)).toEqual(['I0'])
    const baseline = a.runs.baseline!
    expect(baseline.series.offSupply).toHaveLength(28 * 24 + 1)
    expect(baseline.householdsDisconnected).toBeLessThanOrEqual(a.failedSupplier!.prepaymentHouseholds)

    // The settings side by side on two worker threads (threads.ts): the report the main thread made.
    const progress: string[] = []
    const b = await runScenario(scenario, { ...small, threads: 2, onProgress: (s) => progress.push(s) })
    expect(new Set(progress)).toEqual(new Set(Object.keys(a.runs)))
    expect(JSON.stringify({ ...b, generatedAt: '' })).toBe(JSON.stringify({ ...a, generatedAt: '' }))
  }, 120_000)
})

describe('dccOfParts', () => {
  const signer = {} as never
  it("joins the parts' DCC settings and their signers", () => {
    const dcc = dccOfParts([
      {
        name: 'a',
        run: { dcc: { blockAlertsToUnregisteredSuppliers: true, signers: { '00DB120000000001': signer } } },
      },
      { name: 'b', run: {} },
      { name: 'c', run: { dcc: { signers: { '00DB120000000002': signer } } } },
    ])
    expect(dcc).toEqual({
      blockAlertsToUnregisteredSuppliers: true,
      signers: { '00DB120000000001': signer, '00DB120000000002': signer },
    })
    expect(dccOfParts([{ name: 'a', run: {} }])).toEqual({})
  })
  it('refuses a setting, or a signer for one EUI, given by two parts', () => {
    expect(() =>
      dccOfParts([
        { name: 'a', run: { dcc: { blockAlertsToUnregisteredSuppliers: true } } },
        { name: 'b', run: { dcc: { blockAlertsToUnregisteredSuppliers: false } } },
      ]),
    ).toThrow("parts 'a' and 'b' both set the DCC's blockAlertsToUnregisteredSuppliers")
    expect(() =>
      dccOfParts([
        { name: 'a', run: { dcc: { signers: { '00DB120000000001': signer } } } },
        { name: 'b', run: { dcc: { signers: { '00DB120000000001': signer } } } },
      ]),
    ).toThrow("parts 'a' and 'b' both set the DCC's signer for 00DB120000000001")
  })
})

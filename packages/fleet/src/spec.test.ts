import { describe, expect, it } from 'vitest'
import { FLEET_SPEC_SCHEMA, type FleetSpec, parseFleetSpec } from './spec.ts'

const problems = (input: unknown) => {
  const r = parseFleetSpec(input)
  if (r.ok) throw new Error('expected the spec to be refused')
  return r.error.problems
}

describe('parseFleetSpec', () => {
  it('fills every default into an empty spec, frozen', () => {
    const r = parseFleetSpec({})
    expect(r.ok).toBe(true)
    const spec = (r as { value: FleetSpec }).value
    expect(spec).toMatchObject({
      version: 1,
      seed: 'smetsim',
      premises: 1000,
      start: '2026-01-05T00:00:00Z',
      euis: { first: '00DB120000000000' },
      devices: { gas: 0.8, ppmid: { prepayment: 0.9, credit: 0.05 } },
      suppliers: [
        { eui: '90B3D51F30010000', mpid: 'SUPA', share: 0.6, prepaymentShare: 0.3 },
        { eui: '90B3D51F30030000', mpid: 'SUPB', share: 0.4 },
      ],
      consumption: { electricity: { medianKwhPerYear: 2700 }, gas: { medianKwhPerYear: 11_500 } },
      topUp: { everyDays: { min: 3, max: 14 }, pressesButtonWhenArmed: 0.9 },
    })
    expect(Object.isFrozen(spec) && Object.isFrozen(spec.suppliers[0])).toBe(true)
  })

  it('keeps what is given and never changes its input', () => {
    const input = { premises: 5, seed: 7, topUp: { everyDays: { min: 1 } } }
    const copy = structuredClone(input)
    const r = parseFleetSpec(input)
    expect(r.ok && r.value).toMatchObject({ premises: 5, seed: 7, topUp: { everyDays: { min: 1, max: 14 } } })
    expect(input).toEqual(copy)
  })

  it('names the field of every schema problem', () => {
    expect(
      problems({
        premises: 2.5,
        seed: true,
        devices: { gas: 1.5 },
        suppliers: [{ name: 'S', eui: 'nope', mpid: 'SUPA', share: 1, colour: 'red' }],
        networkOperators: [{ name: 'N', eui: '90B3D51F30020000', mpid: 'DNOA', share: 1 }],
      }),
    ).toEqual(
      expect.arrayContaining([
        { field: 'premises', message: 'must be integer' },
        { field: 'seed', message: 'must be string,integer' },
        { field: 'devices.gas', message: 'must be <= 1' },
        { field: 'suppliers[0].colour', message: 'unknown field' },
        { field: 'suppliers[0].eui', message: expect.stringContaining('must match pattern') },
        { field: 'networkOperators[0].fuel', message: 'required' },
      ]),
    )
    expect(problems({ wheels: 4 })).toEqual([{ field: 'wheels', message: 'unknown field' }])
    expect(problems('a fleet')).toEqual([{ field: '(spec)', message: 'must be object' }])
    expect(problems({ premises: 10_000_001 })).toEqual([
      { field: 'premises', message: 'must be <= 10000000' },
    ])
  })

  it('refuses what the schema cannot see: sums, references, clashes, ranges', () => {
    const supplier = (eui: string, mpid: string, share: number) => ({ name: mpid, eui, mpid, share })
    expect(
      problems({
        seed: '',
        start: '2026-02-30T00:00:00Z',
        suppliers: [supplier('90B3D51F30010000', 'SUPA', 0.5), supplier('90B3D51F30010000', 'SUPA', 0.4)],
        defaultTariffs: { credit: 'cheap' },
        balance: { minPounds: 10, maxPounds: 5 },
        euis: { first: '00DB120000000004' },
      }),
    ).toEqual(
      expect.arrayContaining([
        { field: 'seed', message: expect.stringContaining('1 to 200 characters') },
        { field: 'suppliers', message: 'shares must add up to 1, not 0.9' },
        { field: 'suppliers[1].eui', message: "90B3D51F30010000 is also suppliers[0]'s" },
        { field: 'suppliers[1].mpid', message: "SUPA is also suppliers[0]'s" },
        { field: 'defaultTariffs.credit', message: "no tariff named 'cheap'" },
        { field: 'balance', message: 'min (10) is above max (5)' },
        { field: 'euis.first', message: expect.stringContaining('multiple of 8') },
      ]),
    )
    expect(problems({ start: 'soon' })).toEqual([
      { field: 'start', message: expect.stringContaining('pattern') },
    ])
    expect(problems({ registeredFrom: '2027-01-01' })).toEqual([
      { field: 'registeredFrom', message: 'must not be after start (2026-01-05T00:00:00Z)' },
    ])
    // A party inside the devices' EUIs, and a fleet running past its OUI.
    expect(problems({ euis: { first: '90B3D51F30010000' }, premises: 2 })).toEqual([
      { field: 'suppliers[0].eui', message: "90B3D51F30010000 is inside the devices' EUI range" },
    ])
    expect(problems({ euis: { first: '00DB12FFFFFFFFF8' }, premises: 2 })).toEqual([
      { field: 'euis.first', message: '2 premises do not fit in the EUIs after it with the same OUI' },
    ])
    // Network operators: one per fuel that has premises, electricity ones with a distributor ID.
    expect(
      problems({
        networkOperators: [
          { name: 'N', eui: '90B3D51F30020000', mpid: 'DNOA', fuel: 'electricity', share: 1 },
        ],
      }),
    ).toEqual([
      { field: 'networkOperators', message: 'no gas transporter' },
      { field: 'networkOperators[0].distributorId', message: 'required for an electricity network operator' },
    ])
    const electricityOnly = parseFleetSpec({
      devices: { gas: 0 },
      networkOperators: [
        {
          name: 'N',
          eui: '90B3D51F30020000',
          mpid: 'DNOA',
          fuel: 'electricity',
          share: 1,
          distributorId: 14,
        },
      ],
    })
    expect(electricityOnly.ok).toBe(true)
    expect(
      problems({ suppliers: [{ ...supplier('90B3D51F30000002', 'SUPA', 1) }] }).map((p) => p.message),
    ).toEqual(["90B3D51F30000002 is also the DCC Access Control Broker's"])
  })

  it('publishes its schema, whose defaults are what an empty spec gets', () => {
    expect(FLEET_SPEC_SCHEMA.properties.premises.default).toBe(1000)
    expect(FLEET_SPEC_SCHEMA.additionalProperties).toBe(false)
  })
})

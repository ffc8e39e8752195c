/**
 * The case the SoLR controls exist for (seed 003, MP134): a prepayment consumer whose Supplier
 * leaves the market in a disorderly way. Supplier A fails; B is the Supplier of Last Resort; an
 * SRP sends for A. The meter has £3 of credit, no emergency credit, and burns 770 000 mp a day
 * (1 000 W flat at 30 p/kWh plus 50 p/day). It self-disconnects when its credit falls below the
 * disablement threshold of 0, i.e. once 300 001 mp are drawn, at
 *   ceil(8 640 × 300 001 / 77) ms = 33 662 450 ms ≈ 9 h 21 min.
 *
 * Under the baseline nobody can reach the meter in time: A's MPIDs move to B at once, so the
 * SRP's SR 1.6 for A gets E4, and B's own SR 1.6 passes the DCC but the meter, which trusts only
 * A's certificates until B's SR 6.23, refuses it. The consumer goes off supply and stays off
 * until B has sent 6.23 and then 1.6 and 7.1 (here the next day).
 *
 * Under MP134B (on a delayed MPID transfer) the SRP, in the SoLR Contingency role, sends SR 1.6
 * an hour after the failure: the meter goes to credit mode and the supply never drops.
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import type { Eui64 } from '@smetsim/core'
import { createDevice, type DeviceState, FLAT_SHAPE, HOUR_MS, step } from '@smetsim/device'
import { describe, expect, it } from 'vitest'
import { DAY_MS } from '../packages/dcc/src/access/anomaly.ts'
import type { DuisRequest } from '../packages/dcc/src/dcc.ts'
import { backend, ESME_EUI, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import { advanceSolr, failSupplier, type SolrSetting } from '../packages/dcc/src/solr.ts'
import { installedCells, kaPublic, SOLR, solrEstate } from './support.ts'

const { failed: A, solr: B, srp: SRP } = SOLR
const FAILS = T0 + HOUR_MS
/** 300 001 mp at 77/8 640 mp per ms, from T0 with nothing carried. */
const RUNS_OUT = T0 + Math.ceil((8_640 * 300_001) / 77)

function estate() {
  let clock = T0
  const made = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: 'prepayment',
    watts: 1000,
    meterBalance: 300_000,
    tariff: { unitRate: 30_000, standingCharge: 50_000 },
    config: { emergencyCreditLimit: 0, emergencyCreditThreshold: 0, disablementThreshold: 0 },
  })
  let meter: DeviceState = { ...made, load: { ...made.load, shape: FLAT_SHAPE } }
  /** When the supply went off, as the meter's own alerts tell it (0x8F0F: below disablement threshold). */
  const disconnections: number[] = []
  const run = (input: Parameters<typeof step>[1], t: number) => {
    const r = step(meter, input, t, { backend })
    meter = r.state
    for (const a of r.outputs.alerts) if (a.code === 0x8f0f) disconnections.push(a.at)
    return r.outputs
  }

  const { dcc, controls } = solrEstate({
    now: () => clock,
    deviceKa: () => kaPublic(meter),
    transport: (bytes) => run({ kind: 'frame', bytes }, clock).response,
  })
  let counter = 1000
  const submit = (originator: Eui64, srv: string, role: string, o: Partial<DuisRequest> = {}) =>
    dcc.submit({
      requestId: `${originator}:${ESME_EUI}:${++counter}`,
      role,
      srv,
      commandVariant: ['6.23'].includes(srv) ? 1 : 4,
      deviceType: 'ESME',
      ...o,
    })
  /** Time passes: the meter is woken at every instant it asks for, up to t. */
  const advance = (t: number) => {
    let steps = 0
    for (let wake = run({ kind: 'time' }, clock).wakeAt; wake !== undefined && wake <= t; ) {
      if (++steps > 100)
        throw new Error(`the meter keeps asking to be woken at ${new Date(wake).toISOString()}`)
      clock = Math.max(clock, wake)
      wake = run({ kind: 'time' }, clock).wakeAt
    }
    clock = t
    run({ kind: 'time' }, t)
  }
  return {
    dcc,
    submit,
    advance,
    meter: () => meter,
    disconnections,
    controls,
  }
}

const toCredit = { parameters: { paymentMode: 'credit' } }

describe('a prepayment consumer through a disorderly supplier exit', () => {
  it('the meter runs out of credit when hand-computed (no SoLR action)', () => {
    const e = estate()
    e.advance(RUNS_OUT - 1)
    expect(e.meter().supply).toBe('enabled')
    e.advance(RUNS_OUT + 1)
    expect(e.meter().supply).toBe('disabled')
    expect(e.disconnections).toEqual([RUNS_OUT])
  })

  for (const setting of ['baseline', 'MP134B'] as const satisfies readonly SolrSetting[]) {
    it(`${setting}: ${setting === 'baseline' ? 'off supply until the SoLR has taken the meter over' : 'the SRP keeps the supply on'}`, async () => {
      const e = estate()
      const controller = failSupplier(e.controls, {
        setting,
        supplier: A,
        solr: B,
        at: new Date(FAILS),
        ...(setting === 'MP134B' && { transferAt: new Date(FAILS + 14 * DAY_MS), srp: SRP }),
      })
      e.advance(FAILS)
      advanceSolr(controller, new Date(FAILS))

      // An hour after the failure, everyone who might tries to put the meter in credit mode.
      e.advance(FAILS + HOUR_MS)
      const srpForA = await e.submit(A, '1.6', 'IS', { sender: SRP, ...toCredit })
      const solr = await e.submit(B, '1.6', 'IS', toCredit)
      // MP134B: the SRP as Business Originator in the SoLR Contingency role (solr.ts).
      const contingency = await e.submit(SRP, '1.6', 'SoLRC', toCredit)
      e.advance(RUNS_OUT + HOUR_MS)

      if (setting === 'baseline') {
        expect([srpForA.code, solr.code, contingency.code]).toEqual(['E4', 'E21', 'E1'])
        expect(e.meter().paymentMode).toBe('prepayment')
        expect(e.meter().supply).toBe('disabled')
        expect(e.disconnections).toEqual([RUNS_OUT])
        // The next day B takes the meter over (6.23), switches it to credit and enables supply.
        e.advance(T0 + DAY_MS)
        expect((await e.submit(B, '6.23', 'IS')).code).toBe('I0')
        expect((await e.submit(B, '1.6', 'IS', toCredit)).code).toBe('I0')
        expect((await e.submit(B, '7.1', 'IS')).code).toBe('I0')
        expect(e.meter()).toMatchObject({ paymentMode: 'credit', supply: 'enabled' })
        console.log(`baseline: off supply for ${((T0 + DAY_MS - RUNS_OUT) / HOUR_MS).toFixed(1)} h`)
      } else {
        // A is still registered (transfer delayed): the SRP's request for A works as A's, and so
        // does its SoLR Contingency request; B is not registered yet.
        expect([srpForA.code, solr.code, contingency.code]).toEqual(['I0', 'E4', 'I0'])
        expect(e.meter()).toMatchObject({ paymentMode: 'credit', supply: 'enabled' })
        expect(e.disconnections).toEqual([])
      }
    })
  }
})

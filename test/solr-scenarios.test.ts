/**
 * The SoLR control switches end to end: a DCC (createDcc) over an emulated ESME, supplier A
 * failing with B as the Supplier of Last Resort and an SRP sending for A. For each of the four
 * settings (packages/dcc/src/solr.ts) the same six requests are sent after licence revocation
 * ("before": the delayed step has not happened yet), again after the delayed step ("after"),
 * and once more after the SoLR has sent SR 6.23 to the meter ("after 6.23": the meter's supplier
 * cells are now the SoLR's), and the DUIS codes are asserted as a table, which is also printed.
 *
 * MP134A's row equals the baseline's, and that is the finding the SECMP185 decision records
 * (seed 000): the DCC transfers the failed Supplier's MPIDs at once, so an SRP's requests for it
 * are refused "regardless of SMKI Certificate status" (E4 here) — delaying revocation alone
 * changes nothing at the DCC; MP185's delayed transfer is what makes the SRP's requests work.
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import type { Eui64 } from '@smetsim/core'
import { createDevice, type DeviceState, step } from '@smetsim/device'
import { describe, expect, it } from 'vitest'
import { DAY_MS } from '../packages/dcc/src/access/anomaly.ts'
import type { DuisRequest } from '../packages/dcc/src/dcc.ts'
import { backend, ESME_EUI, T0 } from '../packages/dcc/src/gbcs/testing.ts'
import { advanceSolr, describeSolrAction, failSupplier, type SolrSetting } from '../packages/dcc/src/solr.ts'
import { installedCells, kaPublic, SOLR, solrEstate } from './support.ts'

const { failed: A, solr: B, srp: SRP } = SOLR
const HOUR_MS = 3_600_000
const AT = T0 + DAY_MS // licence revocation
const DELAYED = T0 + 15 * DAY_MS // the delayed step (revocation for MP134A, MPID transfer otherwise)

function estate(o: { srpThreshold?: false } = {}) {
  let clock = T0
  let meter: DeviceState = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: 'credit',
  })
  const rejections: string[] = []
  const { dcc, sat, controls } = solrEstate({
    now: () => clock,
    deviceKa: () => kaPublic(meter),
    transport: (bytes) => {
      const r = step(meter, { kind: 'frame', bytes }, clock, { backend })
      meter = r.state
      if (r.outputs.outcome === 'rejected') rejections.push(String(r.outputs.reason))
      return r.outputs.response
    },
    ...(o.srpThreshold === false && { srpThreshold: false }),
  })
  return {
    dcc,
    sat,
    solrEstate: controls,
    rejections,
    meter: () => meter,
    setClock: (t: number) => {
      clock = t
    },
  }
}

interface Row {
  name: string
  request(counter: number): DuisRequest
}

const sr = (originator: Eui64, counter: number, srv: string, role: string, sender?: Eui64): DuisRequest => ({
  requestId: `${originator}:${ESME_EUI}:${counter}`,
  ...(sender && { sender }),
  role,
  srv,
  commandVariant: 4,
  deviceType: 'ESME',
  ...(srv === '1.6' && { parameters: { paymentMode: 'prepayment', disablementThreshold: -250 } }),
})

const ROWS: Row[] = [
  { name: "failed supplier's SR 1.6", request: (n) => sr(A, n, '1.6', 'IS') },
  { name: 'SRP for failed supplier SR 1.6', request: (n) => sr(A, n, '1.6', 'IS', SRP) },
  { name: 'SRP for failed supplier SR 7.2', request: (n) => sr(A, n, '7.2', 'IS', SRP) },
  { name: "SoLR's SR 1.6", request: (n) => sr(B, n, '1.6', 'IS') },
  { name: 'SRP as SoLRC SR 1.6', request: (n) => sr(SRP, n, '1.6', 'SoLRC') },
  { name: 'SRP as SoLRC SR 7.2', request: (n) => sr(SRP, n, '7.2', 'SoLRC') },
]

const PHASES = ['before', 'after', 'after 6.23'] as const
type Phase = (typeof PHASES)[number]

/**
 * Expected DUIS codes [before the delayed step, after it, after the SoLR's SR 6.23] per row, in
 * ROWS order. The SoLR's own SR 1.6 gets E21 until its 6.23: the DCC accepts it, but the meter
 * still trusts only the failed Supplier's certificates and refuses it (unknown originator).
 */
const EXPECTED: Record<SolrSetting, [string, string, string][]> = {
  baseline: [
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E21', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
    ['E1', 'E1', 'E1'],
  ],
  MP134A: [
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E21', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
    ['E1', 'E1', 'E1'],
  ],
  MP185: [
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['E4', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
    ['E1', 'E1', 'E1'],
  ],
  MP134B: [
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['E4', 'E21', 'I0'],
    ['I0', 'E4', 'E4'],
    ['E2', 'E2', 'E2'],
  ],
}

describe('SoLR control switches end to end (createDcc over an emulated ESME)', () => {
  for (const setting of ['baseline', 'MP134A', 'MP185', 'MP134B'] as const)
    it(`${setting}: which requests succeed before and after the delayed step`, async () => {
      const e = estate()
      const controller = failSupplier(e.solrEstate, {
        setting,
        supplier: A,
        solr: B,
        at: new Date(AT),
        ...(setting === 'MP134A' && { revokeAt: new Date(DELAYED) }),
        ...((setting === 'MP185' || setting === 'MP134B') && { transferAt: new Date(DELAYED) }),
        ...(setting === 'MP134B' && { srp: SRP }),
      })
      const table: ({ request: string } & Record<Phase, string>)[] = ROWS.map((r) => ({
        request: r.name,
        before: '',
        after: '',
        'after 6.23': '',
      }))
      const outcome = (code: string, rejected: string | undefined) =>
        rejected ? `${code} (device: ${rejected})` : code
      let counter = 100
      for (const [phase, t] of [
        ['before', AT],
        ['after', DELAYED],
        ['after 6.23', DELAYED + HOUR_MS],
      ] as const) {
        e.setClock(t)
        advanceSolr(controller, new Date(t))
        if (phase === 'after 6.23') {
          // The SoLR, now the registered supplier under every setting, takes the meter over.
          const cos = await e.dcc.submit({ ...sr(B, ++counter, '6.23', 'IS'), commandVariant: 1 })
          expect(cos.code).toBe('I0')
          expect(e.meter().cells.supplierDs?.eui).toBe(B)
        }
        for (const [i, row] of ROWS.entries()) {
          const seen = e.rejections.length
          const result = await e.dcc.submit(row.request(++counter))
          table[i]![phase] = outcome(result.code, e.rejections[seen])
        }
      }
      console.log(`SoLR setting ${setting}:\n  ${controller.actions.map(describeSolrAction).join('\n  ')}`)
      console.table(table)
      expect(table.map((r) => PHASES.map((p) => r[p].split(' ')[0]))).toEqual(EXPECTED[setting])
    })

  it('MP134B: the SoLRC role is quarantined (AD1) without a threshold; the SAT records the SRP as sender', async () => {
    for (const srpThreshold of [false, true]) {
      const e = estate(srpThreshold ? {} : { srpThreshold: false })
      const controller = failSupplier(e.solrEstate, {
        setting: 'MP134B',
        supplier: A,
        solr: B,
        at: new Date(AT),
        transferAt: new Date(DELAYED),
        srp: SRP,
      })
      e.setClock(AT)
      advanceSolr(controller, new Date(AT))
      const result = await e.dcc.submit(sr(SRP, 300, '1.6', 'SoLRC'))
      if (!srpThreshold) {
        expect(result.code).toBe('AD1')
        expect(result.dccAlerts?.map((a) => [a.type, a.recipient])).toEqual([['QuarantinedRequest', SRP]])
      } else {
        // Accepted by the DCC, sent as A's command signed with A's key, which the SRP holds: the
        // meter, which trusts only A's certificates, executes it (credit -> prepayment).
        expect(result.code).toBe('I0')
        expect(e.meter().paymentMode).toBe('prepayment')
        expect(result.response?.originator).toBe(ESME_EUI)
        expect(result.response?.recipient).toBe(A)
        const decision = e.sat.query({ kind: 'decision', requestId: result.requestId! })
        expect(
          decision.map((r) => [
            r.code,
            r.user,
            (r.detail as { failedSupplier?: string } | undefined)?.failedSupplier,
          ]),
        ).toEqual([['I99', SRP, A]])
        expect(e.sat.query({ kind: 'response', requestId: result.requestId! }).map((r) => r.user)).toEqual([
          SRP,
        ])
      }
    }
  })
})

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

function estate(o: { srpThreshold?: false; paymentMode?: 'credit' | 'prepayment' } = {}) {
  let clock = T0
  let meter: DeviceState = createDevice({
    type: 'ESME',
    eui: ESME_EUI,
    cells: installedCells(),
    now: T0,
    paymentMode: o.paymentMode ?? 'credit',
  })
  const rejections: string[] = []
  const outbox: Uint8Array[] = []
  const run = (input: Parameters<typeof step>[1]) => {
    const r = step(meter, input, clock, { backend })
    meter = r.state
    for (const a of r.outputs.alerts) if (a.frame) outbox.push(a.frame)
    return r
  }
  const { dcc, sat, controls } = solrEstate({
    now: () => clock,
    deviceKa: () => kaPublic(meter),
    transport: (bytes) => {
      const r = run({ kind: 'frame', bytes })
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
    /** Time passes for the meter; its alerts reach the DCC. */
    advance: (t: number) => {
      clock = t
      run({ kind: 'time' })
      return outbox.splice(0).map((frame) => dcc.deliverAlert(ESME_EUI, frame))
    },
  }
}

interface Row {
  name: string
  request(counter: number): DuisRequest
}

const sr = (
  originator: Eui64,
  counter: number,
  srv: string,
  role: string,
  sender?: Eui64,
  mode: 'prepayment' | 'credit' = 'prepayment',
): DuisRequest => ({
  requestId: `${originator}:${ESME_EUI}:${counter}`,
  ...(sender && { sender }),
  role,
  srv,
  commandVariant: 4,
  deviceType: 'ESME',
  ...(srv === '1.6' && {
    parameters:
      mode === 'credit'
        ? { paymentMode: 'credit' }
        : { paymentMode: 'prepayment', disablementThreshold: -250 },
  }),
})

const ROWS: Row[] = [
  { name: "failed supplier's SR 1.6", request: (n) => sr(A, n, '1.6', 'IS') },
  { name: 'SRP for failed supplier SR 1.6', request: (n) => sr(A, n, '1.6', 'IS', SRP) },
  { name: 'SRP for failed supplier SR 7.2', request: (n) => sr(A, n, '7.2', 'IS', SRP) },
  { name: "SoLR's SR 1.6", request: (n) => sr(B, n, '1.6', 'IS') },
  { name: 'SRP as SoLRC SR 1.6 to credit', request: (n) => sr(SRP, n, '1.6', 'SoLRC', undefined, 'credit') },
  { name: 'SRP as SoLRC SR 1.6 to prepayment', request: (n) => sr(SRP, n, '1.6', 'SoLRC') },
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
    ['E1', 'E1', 'E1'],
  ],
  MP134A: [
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E4', 'E4', 'E4'],
    ['E21', 'E21', 'I0'],
    ['E1', 'E1', 'E1'],
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
    ['E1', 'E1', 'E1'],
  ],
  MP134B: [
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['I0', 'E4', 'E4'],
    ['E4', 'E21', 'I0'],
    ['I0', 'E4', 'E4'],
    // MP134B: only Credit mode ("otherwise getting an error"); after the transfer E4 comes first.
    ['E2', 'E4', 'E4'],
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

  it('MP134B: the SoLRC role is quarantined (I99 + AD1) without a threshold; the SAT records the SRP as sender', async () => {
    for (const srpThreshold of [false, true]) {
      const e = estate({ paymentMode: 'prepayment', ...(!srpThreshold && { srpThreshold: false }) })
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
      const result = await e.dcc.submit(sr(SRP, 300, '1.6', 'SoLRC', undefined, 'credit'))
      if (!srpThreshold) {
        expect(result).toMatchObject({ code: 'I99', quarantined: true })
        expect(result.dccAlerts?.map((a) => [a.type, a.recipient, a.code])).toEqual([
          ['QuarantinedRequest', SRP, 'AD1'],
        ])
        expect(e.meter().paymentMode).toBe('prepayment')
      } else {
        // Accepted by the DCC, sent as A's command signed with A's key, which the SRP holds: the
        // meter, which trusts only A's certificates, executes it (prepayment -> credit, "safe mode").
        expect(result.code).toBe('I0')
        expect(e.meter().paymentMode).toBe('credit')
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

  it('MP134B: any mode but Credit is refused (E2), nothing sent; a future-dated one’s outcome alert goes to the SRP', async () => {
    const e = estate({ paymentMode: 'prepayment' })
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
    const before = e.meter().counters.supplier
    const prepay = await e.dcc.submit(sr(SRP, 400, '1.6', 'SoLRC'))
    expect(prepay).toMatchObject({ code: 'E2', reason: expect.stringMatching(/only Credit mode/) })
    expect(e.sat.query({ requestId: prepay.requestId!, kind: 'decision' }).map((r) => r.code)).toEqual([
      'I99',
      'E2',
    ])
    expect(e.meter().counters.supplier).toBe(before) // never reached the meter
    const weird = await e.dcc.submit({
      ...sr(SRP, 401, '1.6', 'SoLRC'),
      parameters: { paymentMode: { credit: 1 } },
    })
    expect(weird.code).toBe('E2')

    // Future-dated: the meter acknowledges at once (I0 with its response) and actions it an hour on.
    const at = new Date(AT + HOUR_MS).toISOString()
    const later = await e.dcc.submit({
      ...sr(SRP, 402, '1.6', 'SoLRC', undefined, 'credit'),
      parameters: { paymentMode: 'credit', executionDateTime: at },
    })
    expect(later.code).toBe('I0')
    expect(e.meter().paymentMode).toBe('prepayment')
    const delivered = e.advance(AT + HOUR_MS + 1000)
    expect(e.meter().paymentMode).toBe('credit')
    // The meter addresses its outcome alert (0x00CC 0x8F66, naming the command) to A, whose
    // certificate is in its cells; MP134B: it goes to the sender of the SoLR Contingency request.
    const outcome = delivered.filter((d) => d.alert?.alertCode === '8F66')
    expect(outcome.map((d) => [d.delivered, d.alert?.recipient, d.alert?.requestId])).toEqual([
      [true, SRP, later.requestId],
    ])
    expect(e.dcc.alertsFor(SRP).map((a) => a.alertCode)).toContain('8F66')
    expect(e.dcc.alertsFor(A).map((a) => a.alertCode)).not.toContain('8F66')
    const record = e.sat.query({ kind: 'alert', requestId: later.requestId! })
    expect(record.map((r) => [r.user, r.code])).toEqual([[SRP, '8F66']])
    expect(record[0]!.detail).toMatchObject({ addressedTo: A })
  })
})

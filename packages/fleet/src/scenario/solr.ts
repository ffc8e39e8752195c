/**
 * The Supplier-of-Last-Resort story (seeds 000, 001, 003: SECMP185, MP134): a Supplier fails,
 * Ofgem revokes its licence and appoints a SoLR, and the DCC's SoLR controls (packages/dcc
 * solr.ts) decide whether the Shared Resource Provider's SR 1.6 reaches the failed Supplier's
 * prepayment meters before they run out of credit.
 *
 * Events (times: `at` from the fleet's start, `by` and `from` from the licence revocation):
 * - `supplierFails`: the Supplier stops answering its prepayment customers' top-up requests.
 * - `licenceRevoked`: the licence is revoked and `solr` appointed; the SoLR plan for the setting
 *   (`failSupplier`: baseline, MP134A, MP185 or MP134B, from the delay events) is made, and each
 *   of its actions applied at its time (`advanceSolr`).
 * - `revocationDelayed` (MP134A): the SMKI PMA delays revoking the Supplier's certificates `by`.
 * - `mpidTransferDelayed` (MP185): the Panel/PMA delay the MPID transfer `by`.
 * - `solrContingency` (MP134B): the SRP gets the SoLR Contingency role at licence revocation.
 *   MP134B is modelled on a delayed MPID transfer (solr.ts), so it needs `mpidTransferDelayed`.
 * - `srpSends`: from `at`, the SRP sends SR 1.6 Update Payment Mode (to credit, the "safe mode"
 *   of MP134A) to `perDay` of the failed Supplier's prepayment meters a day, as the SoLR
 *   Contingency role where it holds it, otherwise on the failed Supplier's behalf.
 * - `solrSends`: from the MPID transfer plus `from`, the SoLR sends SR 6.23 Update Security
 *   Credentials (CoS) to `perDay` of the failed Supplier's meters a day, prepayment meters first,
 *   then the others, in premise order. A SoLR that never sends it is a timeline without this event.
 *
 * The DCC gets: a revocation list, the SoLR Contingency settings, `grantableUsers`, and MP134B's
 * anomaly thresholds (the SoLR Contingency role at zero; the SRP's SR 1.6 set). The SRP is a DCC
 * User with an Organisation Certificate of its own, sending for the failed Supplier.
 */
import type { Eui64 } from '@smetsim/core'
import {
  advanceSolr,
  createInProcessSigner,
  DAY_MS,
  failSupplier,
  grantableUsers,
  type SolrContingencySettings,
  type SolrSetting,
} from '@smetsim/dcc'
import { issueOrganisationCertificate, memoryRevocationList, normaliseSerial } from '@smetsim/smki'
import { durationMs } from './duration.ts'
import {
  eventsOf,
  FIELD,
  metersOf,
  type PremiseMeter,
  type ScenarioPart,
  supplierRole,
  type TimelineEvent,
} from './part.ts'

export type SolrEvent =
  | { event: 'supplierFails'; at: string; supplier: string }
  | { event: 'licenceRevoked'; at: string; solr: string }
  | { event: 'revocationDelayed'; by: string }
  | { event: 'mpidTransferDelayed'; by: string }
  | { event: 'solrContingency' }
  | { event: 'srpSends'; at: string; srv: '1.6'; perDay: number }
  | { event: 'solrSends'; from: string; srv: '6.23'; perDay: number }

/** The SoLR control setting (packages/dcc solr.ts) a timeline's delay events amount to. */
export function solrSettingOf(timeline: readonly TimelineEvent[]): SolrSetting {
  const has = (e: SolrEvent['event']) => timeline.some((x) => x.event === e)
  if (has('solrContingency')) return 'MP134B'
  if (has('mpidTransferDelayed')) return 'MP185'
  if (has('revocationDelayed')) return 'MP134A'
  return 'baseline'
}

const { duration, name, perDay } = FIELD

export const solrPart: ScenarioPart = {
  name: 'Supplier of Last Resort',
  events: {
    supplierFails: { fields: { at: duration, supplier: name } },
    licenceRevoked: { fields: { at: duration, solr: name } },
    revocationDelayed: { fields: { by: duration } },
    mpidTransferDelayed: { fields: { by: duration } },
    solrContingency: { fields: {} },
    srpSends: { fields: { at: duration, srv: { const: '1.6' }, perDay } },
    solrSends: { fields: { from: duration, srv: { const: '6.23' }, perDay } },
  },
  once: ['supplierFails', 'licenceRevoked', 'revocationDelayed', 'mpidTransferDelayed'],
  check(timeline) {
    const count = (e: SolrEvent['event']) => timeline.filter((x) => x.event === e).length
    const problems: string[] = []
    if (count('licenceRevoked') !== 1 || count('supplierFails') !== 1)
      problems.push("needs one 'supplierFails' and one 'licenceRevoked'")
    if (count('solrContingency') && !count('mpidTransferDelayed'))
      problems.push(
        "'solrContingency' (MP134B) needs 'mpidTransferDelayed': MP134B is modelled on a delayed MPID transfer",
      )
    return problems
  },

  setUp({ fleet, timeline, srp: srpSpec, backend, start, supplierOf }) {
    const find = <E extends SolrEvent['event']>(e: E) =>
      eventsOf<Extract<SolrEvent, { event: E }>>(timeline, e)[0]
    const fails = find('supplierFails')!
    const revoked = find('licenceRevoked')!
    const failed = supplierOf(fails.supplier)
    const solr = supplierOf(revoked.solr)
    const failAt = start + durationMs(fails.at)!
    const revokedAt = start + durationMs(revoked.at)!

    const srp = srpSpec.eui.toUpperCase() as Eui64
    if (fleet.users.get(srp)) throw new Error(`the SRP's EUI ${srp} is already a User of the fleet`)
    const srpDs = issueOrganisationCertificate(fleet.pki.organisationCa, {
      eui: srp,
      role: 'otherUser',
      usage: 'digitalSignature',
      name: srpSpec.name,
    })
    fleet.users.add({
      userId: srp,
      name: srpSpec.name,
      roles: [],
      certificates: [normaliseSerial(srpDs.certificate.serialNumber)],
      sendsFor: [failed.eui],
    })
    const users = grantableUsers(fleet.users)
    const revocation = memoryRevocationList()
    const solrContingency: SolrContingencySettings = { srvs: ['1.6'], failedSuppliers: [] }
    const revocationDelay = find('revocationDelayed')
    const transferDelay = find('mpidTransferDelayed')
    const setting = solrSettingOf(timeline)
    const controller = failSupplier(
      { registration: fleet.registration, users, revocation, solrContingency, grantRole: users.grantRole },
      {
        setting,
        supplier: failed.eui,
        solr: solr.eui,
        at: new Date(revokedAt),
        ...(revocationDelay && { revokeAt: new Date(revokedAt + durationMs(revocationDelay.by)!) }),
        ...(transferDelay && { transferAt: new Date(revokedAt + durationMs(transferDelay.by)!) }),
        ...(setting === 'MP134B' && { srp }),
      },
    )
    const transferAt = Date.parse(controller.actions.find((a) => a.kind === 'transferMpids')?.at ?? '')

    return {
      dcc: {
        users,
        revocation,
        solrContingency,
        // MP134B: the SoLR Contingency role's ADT is zero by default; the SRP's is set for SR 1.6.
        anomaly: {
          config: {
            version: 1,
            users: [{ user: srp, srv: '1.6', limit: 10_000_000, windowMs: DAY_MS }],
            roleDefaults: [{ role: 'SoLRC', srv: '*', limit: 0, windowMs: DAY_MS }],
            dcc: [],
          },
        },
        signers: { [srp]: createInProcessSigner(backend.importPrivateKey(srpDs.privateKey), backend) },
      },
      answers: (supplier, at) => !(supplier === failed.eui && at >= failAt),
      households: failed,
      description: `${setting} (${controller.actions.length} SoLR actions planned)`,

      play({ at, send, daily, start }) {
        for (const t of new Set(controller.actions.map((a) => Date.parse(a.at))))
          at(t, (now) => advanceSolr(controller, new Date(now)))

        const prepayment: PremiseMeter[] = []
        const other: PremiseMeter[] = []
        for (let i = 0; i < fleet.size; i++) {
          const p = fleet.premise(i)!
          if (p.install !== 'commissioned' || p.supplierEui !== failed.eui) continue
          ;(p.paymentMode === 'prepayment' ? prepayment : other).push(...metersOf(p))
        }
        for (const e of eventsOf<Extract<SolrEvent, { event: 'srpSends' }>>(timeline, 'srpSends'))
          daily(start + durationMs(e.at)!, e.perDay, prepayment, (m) => {
            // As the SoLR Contingency role once granted (MP134B), else on the failed Supplier's behalf.
            const contingency = users.get(srp)?.roles.includes('SoLRC') === true
            send('1.6', contingency ? srp : failed.eui, m.eui, {
              role: contingency ? 'SoLRC' : supplierRole(m.type),
              srv: '1.6',
              commandVariant: 4,
              deviceType: m.type,
              parameters: { paymentMode: 'credit' },
              ...(!contingency && { sender: srp }),
            })
          })
        for (const e of eventsOf<Extract<SolrEvent, { event: 'solrSends' }>>(timeline, 'solrSends'))
          if (Number.isFinite(transferAt))
            daily(transferAt + durationMs(e.from)!, e.perDay, [...prepayment, ...other], (m) =>
              send('6.23', solr.eui, m.eui, {
                role: supplierRole(m.type),
                srv: '6.23',
                commandVariant: 1,
                deviceType: m.type,
              }),
            )
      },
    }
  },
}

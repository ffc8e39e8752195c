/**
 * Runs a scenario (scenario.ts) under each of its control settings, in virtual time, on a fleet
 * built afresh from the same spec and seed for every setting, and reports what happened to the
 * households (report.ts).
 *
 * One run: the fleet (buildFleet) brought up in-process (startFleet) with a DCC that has the SoLR
 * controls wired in — a revocation list, the SoLR Contingency settings, grantable Users, the
 * anomaly thresholds of MP134B (the SoLR Contingency role at zero unless set; one is set for the
 * SRP) — and the prepayment households acting on their top-up habits (startHouseholds). Then, on
 * the run's scheduler:
 *  - the failing Supplier stops answering top-ups at `supplierFails`;
 *  - at `licenceRevoked` the SoLR plan for the setting (packages/dcc solr.ts `failSupplier`: from
 *    the delay events, baseline, MP134A, MP185 or MP134B) is made, and each of its actions is
 *    applied at its time (`advanceSolr`);
 *  - `srpSends` and `solrSends` send their Service Requests through the DCC, a day's batch at a
 *    time, to the meters the DCC then routes them to;
 *  - every `sampleEvery` the prepayment households with a meter whose supply is not enabled
 *    (disabled, or armed and waiting for the button) are counted.
 *
 * Modelling choices (README "Scenarios"): the SRP and the SoLR send each day's batch at the same
 * instant of the day as their first; the SRP's SR 1.6 asks for credit mode (the "safe mode" of
 * MP134A); the SoLR takes the failed Supplier's prepayment meters first, then the others, in
 * premise order; a household counts as off supply while any of its prepayment meters is.
 */
import type { Eui64 } from '@smetsim/core'
import { createScheduler } from '@smetsim/core'
import {
  advanceSolr,
  createInProcessSigner,
  DAY_MS,
  type DuisResult,
  failSupplier,
  grantableUsers,
  type SolrContingencySettings,
  type SolrSetting,
} from '@smetsim/dcc'
import type { CryptoBackend } from '@smetsim/gbcs'
import type { Hub } from '@smetsim/hub'
import { issueOrganisationCertificate, normaliseSerial } from '@smetsim/smki'
import { buildFleet, type Fleet } from '../build.ts'
import { startHouseholds } from '../households.ts'
import { startFleet } from '../run.ts'
import { parseFleetSpec } from '../spec.ts'
import { checkExpectation, parseExpectation } from './expect.ts'
import type { RunReport, ScenarioReport } from './report.ts'
import { durationMs, type Scenario, type ScenarioEvent } from './scenario.ts'

export interface RunScenarioOptions {
  backend: CryptoBackend
  /** Overrides the scenario's fleet size and seed. */
  premises?: number
  seed?: string | number
  /** Called as virtual time moves: the setting, and how far through its run (0 … 1). */
  onProgress?(setting: string, done: number): void
}

export class ScenarioRunError extends Error {
  override name = 'ScenarioRunError'
}

/** Runs every setting of `scenario` in turn and checks its expectations. */
export async function runScenario(scenario: Scenario, o: RunScenarioOptions): Promise<ScenarioReport> {
  const settings = Object.keys(scenario.settings)
  const expectations = scenario.expect.map((e) => parseExpectation(e, settings))
  const spec = parseFleetSpec({
    ...scenario.fleet,
    ...(o.premises !== undefined && { premises: o.premises }),
    ...(o.seed !== undefined && { seed: o.seed }),
  })
  if (!spec.ok) throw new ScenarioRunError(`scenario '${scenario.name}': ${spec.error.message}`)
  const runs: Record<string, RunReport> = {}
  let households = { failed: 0, all: 0, name: '' }
  for (const name of settings) {
    const r = await runSetting(scenario, name, buildFleet(spec.value), o)
    runs[name] = r.report
    households = r.households
  }
  return {
    version: 1,
    scenario: { name: scenario.name, description: scenario.description },
    generatedAt: new Date().toISOString(),
    fleet: {
      premises: spec.value.premises,
      seed: spec.value.seed,
      start: spec.value.start,
      prepaymentHouseholds: households.all,
    },
    failedSupplier: { name: households.name, prepaymentHouseholds: households.failed },
    durationMs: durationMs(scenario.duration)!,
    habits: { ...spec.value.topUp },
    runs,
    expectations: expectations.map((e) => checkExpectation(e, runs)),
  }
}

type Find<E extends ScenarioEvent['event']> = Extract<ScenarioEvent, { event: E }>

/** The SoLR control setting (solr.ts) a timeline's delay events amount to. */
export function solrSettingOf(timeline: readonly ScenarioEvent[]): SolrSetting {
  const has = (e: ScenarioEvent['event']) => timeline.some((x) => x.event === e)
  if (has('solrContingency')) return 'MP134B'
  if (has('mpidTransferDelayed')) return 'MP185'
  if (has('revocationDelayed')) return 'MP134A'
  return 'baseline'
}

/** A Supplier by name or EUI in the fleet spec. */
function supplierOf(fleet: Fleet, text: string): { eui: Eui64; name: string } {
  const s = fleet.spec.suppliers.find((x) => x.name === text || x.eui.toUpperCase() === text.toUpperCase())
  if (!s)
    throw new ScenarioRunError(
      `'${text}' is not a Supplier of the fleet (${fleet.spec.suppliers.map((x) => x.name).join(', ')})`,
    )
  return { eui: s.eui.toUpperCase() as Eui64, name: s.name }
}

async function runSetting(
  scenario: Scenario,
  setting: string,
  fleet: Fleet,
  o: RunScenarioOptions,
): Promise<{ report: RunReport; households: { failed: number; all: number; name: string } }> {
  const timeline = [...scenario.timeline, ...scenario.settings[setting]!.timeline]
  const find = <E extends ScenarioEvent['event']>(e: E) =>
    timeline.find((x) => x.event === e) as Find<E> | undefined
  const all = <E extends ScenarioEvent['event']>(e: E) => timeline.filter((x) => x.event === e) as Find<E>[]
  const start = Date.parse(fleet.spec.start)
  const end = start + durationMs(scenario.duration)!
  const sampleMs = durationMs(scenario.sampleEvery)!
  const fails = find('supplierFails')!
  const revoked = find('licenceRevoked')!
  const failed = supplierOf(fleet, fails.supplier)
  const solr = supplierOf(fleet, revoked.solr)
  const failAt = start + durationMs(fails.at)!
  const revokedAt = start + durationMs(revoked.at)!
  const { backend } = o

  // The SRP: a DCC User with an Organisation Certificate of its own, sending for the failing Supplier.
  const srp = scenario.srp.eui.toUpperCase() as Eui64
  if (fleet.users.get(srp)) throw new ScenarioRunError(`the SRP's EUI ${srp} is already a User of the fleet`)
  const srpDs = issueOrganisationCertificate(fleet.pki.organisationCa, {
    eui: srp,
    role: 'otherUser',
    usage: 'digitalSignature',
    name: scenario.srp.name,
  })
  fleet.users.add({
    userId: srp,
    name: scenario.srp.name,
    roles: [],
    certificates: [normaliseSerial(srpDs.certificate.serialNumber)],
    sendsFor: [failed.eui],
  })
  const users = grantableUsers(fleet.users)
  const revokedSerials = new Set<string>()
  const revocation = {
    isRevoked: (s: string) => revokedSerials.has(normaliseSerial(s)),
    revoke: (s: string) => revokedSerials.add(normaliseSerial(s)),
  }
  const solrContingency: SolrContingencySettings = { srvs: ['1.6'], failedSuppliers: [] }
  const scheduler = createScheduler({ start })
  const run = await startFleet(fleet, {
    scheduler,
    backend,
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
  })
  const households = startHouseholds(run, {
    backend,
    answers: (supplier, at) => !(supplier === failed.eui && at >= failAt),
  })

  // The SoLR plan for this setting, applied action by action on the scheduler.
  const revocationDelay = find('revocationDelayed')
  const transferDelay = find('mpidTransferDelayed')
  const solrSetting = solrSettingOf(timeline)
  const controller = failSupplier(
    { registration: fleet.registration, users, revocation, solrContingency, grantRole: users.grantRole },
    {
      setting: solrSetting,
      supplier: failed.eui,
      solr: solr.eui,
      at: new Date(revokedAt),
      ...(revocationDelay && { revokeAt: new Date(revokedAt + durationMs(revocationDelay.by)!) }),
      ...(transferDelay && { transferAt: new Date(revokedAt + durationMs(transferDelay.by)!) }),
      ...(solrSetting === 'MP134B' && { srp }),
    },
  )
  for (const t of new Set(controller.actions.map((a) => Date.parse(a.at))))
    scheduler.at(Math.max(t, start), (now) => advanceSolr(controller, new Date(now)))
  const transferAt = Date.parse(controller.actions.find((a) => a.kind === 'transferMpids')?.at ?? '')

  // The meters: each prepayment household's, and the failed Supplier's in the order the SoLR takes them.
  /** A household's prepayment meters, read from its hub at each sample. */
  type Household = { hub: Hub; meters: Eui64[] }
  const prepayment: Household[] = []
  const others: Household[] = []
  const failedPrepayment: { eui: Eui64; type: 'ESME' | 'GSME' }[] = []
  const failedOther: { eui: Eui64; type: 'ESME' | 'GSME' }[] = []
  for (let i = 0; i < fleet.size; i++) {
    const p = fleet.premise(i)!
    if (p.install !== 'commissioned') continue
    const meters = [
      { eui: p.esme, type: 'ESME' as const },
      ...(p.gsme ? [{ eui: p.gsme, type: 'GSME' as const }] : []),
    ]
    if (p.paymentMode === 'prepayment')
      (p.supplierEui === failed.eui ? prepayment : others).push({
        hub: run.hub(i)!,
        meters: meters.map((m) => m.eui),
      })
    if (p.supplierEui === failed.eui)
      (p.paymentMode === 'prepayment' ? failedPrepayment : failedOther).push(...meters)
  }

  const commands: Record<string, Record<string, number>> = {}
  const pending = new Set<Promise<void>>()
  let counter = BigInt(failAt) * 1000n
  const send = (srv: string, request: Parameters<typeof run.submit>[0]) => {
    const p = run.submit(request).then((r: DuisResult) => {
      commands[srv] ??= {}
      commands[srv][r.code] = (commands[srv][r.code] ?? 0) + 1
      pending.delete(p)
    })
    pending.add(p)
  }
  const daily = <T>(from: number, perDay: number, items: readonly T[], each: (item: T) => void) => {
    for (let d = 0, k = 0; k < items.length; d++, k += perDay) {
      const batch = items.slice(k, k + perDay)
      if (from + d * DAY_MS >= end) break
      scheduler.at(Math.max(from + d * DAY_MS, start), () => {
        for (const item of batch) each(item)
      })
    }
  }
  for (const e of all('srpSends'))
    daily(start + durationMs(e.at)!, e.perDay, failedPrepayment, (m) => {
      // As the SoLR Contingency role once granted (MP134B), else on the failed Supplier's behalf.
      const contingency = users.get(srp)?.roles.includes('SoLRC') === true
      const role = contingency ? 'SoLRC' : m.type === 'ESME' ? 'IS' : 'GS'
      send('1.6', {
        requestId: `${contingency ? srp : failed.eui}:${m.eui}:${++counter}`,
        role,
        srv: '1.6',
        commandVariant: 4,
        deviceType: m.type,
        parameters: { paymentMode: 'credit' },
        ...(!contingency && { sender: srp }),
      })
    })
  for (const e of all('solrSends'))
    if (Number.isFinite(transferAt))
      daily(transferAt + durationMs(e.from)!, e.perDay, [...failedPrepayment, ...failedOther], (m) =>
        send('6.23', {
          requestId: `${solr.eui}:${m.eui}:${++counter}`,
          role: m.type === 'ESME' ? 'IS' : 'GS',
          srv: '6.23',
          commandVariant: 1,
          deviceType: m.type,
        }),
      )

  // Time moves a sample interval at a time; after each, the households off supply are counted.
  const offSupply: number[] = []
  const everOff = new Set<number>()
  let othersOff = 0
  const isOff = ({ hub, meters }: Household) =>
    meters.some((eui) => {
      const d = hub.device(eui)
      return d !== undefined && d.paymentMode === 'prepayment' && d.supply !== 'enabled'
    })
  const sample = (first: boolean) => {
    let off = 0
    prepayment.forEach((household, h) => {
      if (!isOff(household)) return
      off++
      everOff.add(h)
    })
    offSupply.push(off)
    if (!first) for (const household of others) if (isOff(household)) othersOff++
  }
  sample(true)
  while (scheduler.now() < end) {
    await run.advance(Math.min(sampleMs, end - scheduler.now()))
    sample(false)
    o.onProgress?.(setting, (scheduler.now() - start) / (end - start))
  }
  await Promise.all(pending)

  const alerts: Record<string, number> = {}
  for (const s of fleet.spec.suppliers) alerts[s.name] = run.dcc.alertCounters(s.eui.toUpperCase()).delivered
  const st = households.stats
  households.stop()
  await run.close()
  const sampleHours = sampleMs / 3_600_000
  const hours = (n: number) => Math.round(n * sampleHours * 100) / 100
  return {
    households: { failed: prepayment.length, all: prepayment.length + others.length, name: failed.name },
    report: {
      description:
        scenario.settings[setting]!.description ||
        `${solrSetting} (${controller.actions.length} SoLR actions planned)`,
      householdHoursOffSupply: hours(offSupply.slice(1).reduce((a, n) => a + n, 0)),
      householdsDisconnected: everOff.size,
      householdsOffAtEnd: offSupply.at(-1) ?? 0,
      series: { intervalMs: sampleMs, offSupply },
      othersHouseholdHoursOffSupply: hours(othersOff),
      commands,
      alerts,
      topUps: {
        attempts: st.attempts,
        unanswered: st.unanswered,
        accepted: st.utrnsAccepted,
        rejected: st.utrnsTyped - st.utrnsAccepted,
      },
    },
  }
}

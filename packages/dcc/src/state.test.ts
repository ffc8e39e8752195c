/**
 * A DCC's state kept and given back (state.ts): a DCC restarted from `exportDccState` goes on as
 * the one that never stopped — the same answers, alert seqs, queues, counters, Pre-Commands,
 * CoS counter, quarantines and SAT chain — and garbage is refused with the field it is wrong in.
 */
import type { Eui64 } from '@smetsim/core'
import {
  applyMac,
  buildPayload,
  decodeFrame,
  encodeFrame,
  encodeSignedFrame,
  type GeneralSigning,
  type PrivateKeyRef,
} from '@smetsim/gbcs'
import { normaliseSerial } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import type { AnomalyConfig } from './access/anomaly.ts'
import { UserDirectory } from './access/users.ts'
import { createDcc, type Dcc, type DccConfig, type DuisRequest } from './dcc.ts'
import { createInProcessSigner } from './gbcs/construct.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from './gbcs/testing.ts'
import { SmartMeteringInventory } from './registration/inventory.ts'
import { RegistrationData } from './registration/registration.ts'
import { createMemorySat, type ServiceAuditTrail } from './sat/sat.ts'
import type { ScheduleBook } from './schedules/schedules.ts'
import { type DccState, exportDccState, restoreDccState } from './state.ts'
import { dailyReadBook } from './testing.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
const MPAN = '1200000000001'
const DAY = 86_400_000
const SSD = T0 + 2 * DAY
const serialOf = (c: { certificate: { serialNumber: string } }) => normaliseSerial(c.certificate.serialNumber)
const esmeKa: PrivateKeyRef = backend.generatePrivateKey()

/** No in-process signers: Critical requests wait for their CV5. */
const ANOMALY: AnomalyConfig = {
  version: 1,
  users: [{ user: A, srv: '7.4', limit: 2, windowMs: DAY }],
  roleDefaults: [],
  dcc: [],
}

/** The same Users, registration, SMI and keys each time: only the DCC's state differs. */
function world() {
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.assignMpid('BBBB', B, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  registration.changeOfSupplier(MPAN, 'BBBB', new Date(SSD))
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: MPAN, status: 'Commissioned', at: '2024-01-02' })
  const users = new UserDirectory([
    { userId: A, name: 'A', roles: ['IS', 'GS'], certificates: [serialOf(PARTIES.supplierA.ds)] },
    { userId: B, name: 'B', roles: ['IS', 'GS'], certificates: [serialOf(PARTIES.supplierB.ds)] },
  ])
  let clock = T0
  const sent: Uint8Array[] = []
  const config = (sat: ServiceAuditTrail, extra: Partial<DccConfig> = {}): DccConfig => ({
    users,
    registration,
    inventory,
    sat,
    acb: ACB,
    cos: {
      eui: PARTIES.cos.eui,
      signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend),
      counter: 7000n,
    },
    deviceKeyAgreement: (id) => (id === ESME_EUI ? esmeKa.publicKey : undefined),
    userCertificates: (id) => {
      const party = id === A ? PARTIES.supplierA : id === B ? PARTIES.supplierB : undefined
      return (
        party && {
          digitalSigning: party.ds.certificate.raw,
          keyAgreement: party.ka.certificate.raw,
          ...(party.pp && { prepaymentTopUp: party.pp.certificate.raw }),
          certificationPath: [],
        }
      )
    },
    transport: async (_id, bytes) => {
      sent.push(bytes)
      const s = decodeFrame(bytes).signing
      return encodeFrame({
        signing: {
          cra: 'response',
          originatorCounter: s.originatorCounter,
          originator: s.recipient,
          recipient: s.originator,
          messageCode: s.messageCode,
          content: Uint8Array.of(1, 2),
          signature: { kind: 'empty' },
        },
      })
    },
    now: () => clock,
    backend,
    anomaly: { config: ANOMALY },
    ...extra,
  })
  const satOn = () => createMemorySat({ now: () => new Date(clock) })
  return {
    config,
    satOn,
    sent,
    setClock: (t: number) => {
      clock = t
    },
  }
}

const sr = (requestId: string, srv: string, critical: boolean): DuisRequest => ({
  requestId,
  role: 'IS',
  srv,
  commandVariant: critical ? 4 : 1,
  deviceType: 'ESME',
})

function alertFrame(recipient: Eui64, code: string, counter: bigint): Uint8Array {
  const messageCode = 0x1001
  const s: GeneralSigning = {
    cra: 'alert',
    originatorCounter: counter,
    originator: ESME_EUI,
    recipient,
    messageCode,
    content: buildPayload(
      {
        name: `ESME Alert ${code}`,
        invokeId: 0x20000001,
        alertCode: code,
        timestamp: '2026-01-05T12:00:00Z',
      },
      { messageCode, cra: 'alert' },
      'dlms',
    ),
    signature: { kind: 'empty' },
  }
  return encodeFrame(applyMac(s, new Uint8Array(16)))
}

/** Before the snapshot: alerts to both suppliers, a quarantine, one SR 6.23, CV4s waiting. */
async function before(dcc: Dcc, setClock: (t: number) => void) {
  dcc.deliverAlert(ESME_EUI, alertFrame(A, '8F35', 1n))
  dcc.deliverAlert(ESME_EUI, alertFrame(B, '8F0A', 2n))
  expect((await dcc.submit(sr(`${A}:${ESME_EUI}:12`, '7.4', false))).code).toBe('I0')
  expect((await dcc.submit(sr(`${A}:${ESME_EUI}:13`, '7.4', false))).code).toBe('I0')
  expect((await dcc.submit(sr(`${A}:${ESME_EUI}:14`, '7.4', false))).quarantined).toBe(true)
  setClock(SSD + 1000)
  expect((await dcc.submit(sr(`${B}:${ESME_EUI}:800`, '6.23', false))).code).toBe('I0')
  const cv4 = await dcc.submit(sr(`${B}:${ESME_EUI}:810`, '7.3', true))
  expect(cv4.awaitingSignature).toBe(true)
  expect((await dcc.submit(sr(`${B}:${ESME_EUI}:811`, '7.3', true))).awaitingSignature).toBe(true)
  // What supplier B keeps: the Pre-Command it is to sign.
  return cv4.preCommand!
}

/** After it: what each piece of state decides. */
async function after(dcc: Dcc, setClock: (t: number) => void, pre810: Uint8Array) {
  const out: unknown[] = []
  const signAs = (pre: Uint8Array) =>
    encodeSignedFrame(decodeFrame(pre).signing, privateRef(PARTIES.supplierB.ds), backend)
  const pending = dcc.pendingSignatures()
  out.push(pending)
  // The Pre-Command issued before the restart is signed after it.
  const issued = await dcc.submit(sr(`${B}:${ESME_EUI}:812`, '7.3', true))
  out.push((await dcc.submitSigned(`${B}:${ESME_EUI}:810`, signAs(pre810))).code)
  out.push((await dcc.submitSigned(`${B}:${ESME_EUI}:812`, signAs(issued.preCommand!))).code)
  out.push(dcc.pendingSignatures())
  out.push(dcc.deliverAlert(ESME_EUI, alertFrame(A, '8F36', 3n)).alert?.seq)
  out.push((await dcc.submit(sr(`${A}:${ESME_EUI}:21`, '7.4', false))).code)
  out.push(dcc.anomalyState?.quarantined)
  const cos = await dcc.submit(sr(`${B}:${ESME_EUI}:820`, '6.23', false))
  out.push(
    cos.code,
    cos.dccAlerts?.map((a) => [a.seq, a.type]),
  )
  out.push(
    dcc.alertsFor(A).map((a) => [a.seq, a.alertCode]),
    dcc.alertsFor(B).map((a) => [a.seq, a.alertCode]),
  )
  out.push(
    dcc.dccAlertsFor(A).map((a) => [a.seq, a.type]),
    dcc.dccAlertsFor(B).map((a) => [a.seq, a.type]),
  )
  out.push(dcc.alertCounters(), dcc.alertCounters(A))
  // Past the Pre-Commands' day: the one left from before expires now, in both.
  setClock(SSD + 2 * DAY)
  out.push(dcc.pendingSignatures())
  return out
}

const cs02b = (sent: Uint8Array[]) =>
  sent
    .map((b) => decodeFrame(b).signing)
    .filter((g) => g.messageCode === 0x0107)
    .map((g) => g.originatorCounter)

describe('DCC state across a restart', () => {
  it('a restored DCC goes on as the one that never stopped', async () => {
    // Straight through.
    const w1 = world()
    const sat1 = w1.satOn()
    const straight = createDcc(w1.config(sat1))
    const pre810 = await before(straight, w1.setClock)
    // Kept as plain data (structuredClone: no closures, no live references).
    const kept = structuredClone(exportDccState(straight, { sat: sat1 }))
    const expected = await after(straight, w1.setClock, pre810)

    // Started again from the state at the same instant, in a world with the same Users and keys.
    const w2 = world()
    w2.setClock(SSD + 1000)
    const back = restoreDccState(structuredClone(kept))
    if (!back.ok) throw back.error
    let clock2 = SSD + 1000
    const sat2 = back.value.createSat(() => new Date(clock2))
    const last = kept.sat!.records.at(-1)!
    expect(sat2.head).toEqual({ seq: last.seq, hash: last.hash })
    const restored = createDcc(w2.config(sat2, back.value.config))
    const got = await after(
      restored,
      (t) => {
        clock2 = t
        w2.setClock(t)
      },
      pre810,
    )
    expect(got).toEqual(expected)
    expect(expected.slice(0, 3)).toEqual([[`${B}:${ESME_EUI}:810`, `${B}:${ESME_EUI}:811`], 'I0', 'I0'])
    // Without the state, a DCC started at that instant answers otherwise (the control).
    const w3 = world()
    w3.setClock(SSD + 1000)
    const fresh = await after(createDcc(w3.config(w3.satOn())), w3.setClock, pre810)
    expect(fresh).not.toEqual(expected)
    expect(cs02b(w3.sent)).toEqual([7000n])
    // The CoS Party's counter went on (7001 after 7000), not back to the configured 7000.
    expect(cs02b(w1.sent)).toEqual([7000n, 7001n])
    expect(cs02b(w2.sent)).toEqual([7001n])
    // The SAT went on with the same chain: the same records, the same head hash.
    expect(sat2.head).toEqual(sat1.head)
    expect(sat2.verify()).toEqual({ ok: true })
    expect(sat2.query({ afterSeq: last.seq })).toEqual(sat1.query({ afterSeq: last.seq }))
  })

  it('keeps at most `satRecords` of the SAT: the newest, chained on; older ones are counted as dropped', async () => {
    const w = world()
    const sat = w.satOn()
    const dcc = createDcc(w.config(sat))
    await before(dcc, w.setClock)
    const state = exportDccState(dcc, { sat, satRecords: 5 })
    expect(state.sat!.records.map((r) => r.seq)).toEqual([...Array(5)].map((_, i) => sat.head.seq - 4 + i))
    expect(state.sat!.dropped).toBe(sat.head.seq - 5)
    const back = restoreDccState(structuredClone(state))
    if (!back.ok) throw back.error
    const again = back.value.createSat()
    expect(again.size).toBe(sat.size)
    expect(again.query().map((r) => r.seq)).toEqual(state.sat!.records.map((r) => r.seq))
    expect(again.query({ afterSeq: sat.head.seq - 2 }).map((r) => r.seq)).toEqual([
      sat.head.seq - 1,
      sat.head.seq,
    ])
    const next = again.append({ kind: 'request', user: A })
    expect(next.seq).toBe(sat.head.seq + 1)
    expect(next.prevHash).toBe(sat.head.hash)
    expect(again.verify()).toEqual({ ok: true })
    expect(exportDccState(dcc, { sat, satRecords: 0 }).sat).toEqual({ records: [], dropped: sat.head.seq })
  })

  it('refuses garbage with the field it is wrong in, never throws', async () => {
    const w = world()
    const sat = w.satOn()
    const dcc = createDcc(w.config(sat))
    await before(dcc, w.setClock)
    const good = exportDccState(dcc, { sat })
    const broken = (f: (s: DccState) => void) => {
      const s = structuredClone(good)
      f(s)
      return restoreDccState(s)
    }
    for (const junk of [null, 1, 'x', [], new Uint8Array(3), { format: 'smetsim-dcc-state' }]) {
      const r = restoreDccState(junk)
      expect(r.ok).toBe(false)
    }
    expect(restoreDccState({ ...good, version: 2 })).toMatchObject({
      ok: false,
      error: { message: /version 2, this build reads 1/ },
    })
    expect(broken((s) => (s.runtime.cosCounter = -1n))).toMatchObject({
      ok: false,
      error: { message: /runtime.cosCounter/ },
    })
    expect(
      broken((s) => ((s.runtime.preCommands[0]![1] as { sender: unknown }).sender = 'nobody')),
    ).toMatchObject({
      ok: false,
      error: { message: /runtime.preCommands\[0\]\[1\].sender/ },
    })
    expect(
      broken((s) => ((s.runtime.deviceAlerts.queues[0]![1][0] as { seq: unknown }).seq = 'one')),
    ).toMatchObject({
      ok: false,
      error: { message: /deviceAlerts.queues\[0\]\[1\]\[0\].seq/ },
    })
    expect(
      broken((s) => {
        const r = s.sat!.records
        r[1] = { ...r[1]!, code: 'E4' }
      }),
    ).toMatchObject({ ok: false, error: { message: /sat: record/ } })
    expect(broken((s) => ((s.schedules as { version: number }).version = 1))).toMatchObject({
      ok: false,
      error: { message: /schedules/ },
    })
  })

  it('checks every field of the schedule book it keeps, naming the one that is wrong', async () => {
    const w = world()
    const dcc = createDcc(w.config(w.satOn()))
    const good = { ...exportDccState(dcc), schedules: BOOK }
    const back = restoreDccState(structuredClone(good))
    expect(back.ok && back.value.config.schedules).toEqual(BOOK)
    const broken = (f: (b: ScheduleBook) => void) => {
      const s = structuredClone(good)
      f(s.schedules)
      return restoreDccState(s)
    }
    const refused = (f: (b: ScheduleBook) => void, why: string) =>
      expect(broken(f)).toMatchObject({ ok: false, error: { message: `not a DCC state: ${why}` } })
    refused(
      (b) => ((b.schedules[0] as { frequency: string }).frequency = 'Fortnightly'),
      'schedules.schedules[0].frequency: not a ScheduleFrequency',
    )
    refused(
      (b) => ((b.schedules[0] as { role: string }).role = 'XX'),
      'schedules.schedules[0].role: not a DUIS role',
    )
    refused(
      (b) => (b.schedules[0]!.request.deviceId = 'nope' as Eui64),
      'schedules.schedules[0].request.deviceId: expected an EUI-64',
    )
    refused((b) => (b.schedules[0]!.nextRun = -1), 'schedules.schedules[0].nextRun: expected a count')
    refused(
      (b) => ((b.schedules[0] as { nextDue: unknown }).nextDue = 7),
      'schedules.schedules[0].nextDue: expected text',
    )
    refused(
      (b) => (b.counters = { [`${A}:${ESME_EUI}`]: '-3' }),
      `schedules.counters.${A}:${ESME_EUI}: expected a counter`,
    )
    refused(
      (b) => ((b as { nextNumber: unknown }).nextNumber = 'two'),
      'schedules.nextNumber: expected a count',
    )
  })
})

/** A book holding one daily SR 4.16 read, on its third run. */
const BOOK = dailyReadBook(A, ESME_EUI)

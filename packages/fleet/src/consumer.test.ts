/** Consumer actions on a running fleet's meters, through their hubs; what the meter raises reaches the DCC. */
import { createScheduler, type Eui64 } from '@smetsim/core'
import type { DeviceState, PpmidState } from '@smetsim/device'
import { generateUtrn, getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { buildFleet } from './build.ts'
import { consumerAction } from './consumer.ts'
import { createFleetPki, type FleetPki } from './pki.ts'
import { premise } from './premise.ts'
import { startFleet } from './run.ts'
import { parseFleetSpec } from './spec.ts'

const spec = (() => {
  const r = parseFleetSpec({ seed: 'consumer', premises: 2, install: { installedNotCommissioned: 0 } })
  if (!r.ok) throw r.error
  return r.value
})()
const PKI = createFleetPki(spec)

async function running() {
  const fleet = buildFleet(spec, { pki: PKI })
  const scheduler = createScheduler({ start: Date.parse(spec.start) })
  return startFleet(fleet, { scheduler, backend })
}

const backend = getBackend('native')

/** A genuine £5 UTRN from `supplier` for `meter` (its first: counter 2^32), as the supplier sells it. */
const fivePounds = (pki: FleetPki, supplier: Eui64, meter: DeviceState) =>
  generateUtrn({
    counter: 1n << 32n,
    value: 5,
    valueClass: 'pounds',
    originator: supplier,
    recipient: meter.eui,
    key: {
      own: backend.importPrivateKey(pki.parties.get(supplier)!.pp!.privateKey),
      other: backend.importPrivateKey(meter.keys.ka!).publicKey,
    },
    backend,
  })

describe('consumerAction', () => {
  it("a UTRN from the meter's supplier, typed on its keypad, is taken and credits the meter", async () => {
    const run = await running()
    try {
      const p = premise(spec, 0)!
      const meter = run.device(p.esme) as DeviceState
      const utrn = fivePounds(PKI, p.supplierEui, meter)
      const r = consumerAction(run, p.esme, { kind: 'utrn', digits: utrn })
      expect(r).toMatchObject({ ok: true, report: { accepted: true, alerts: ['810E'] } })
      if (!r.ok) return
      expect(r.report.meterBalance - meter.account.meterBalance).toBe(500_000) // £5 in milli-pence
      // The same UTRN again: the meter's own refusal, 0x8F51 (duplicate).
      expect(consumerAction(run, p.esme, { kind: 'utrn', digits: utrn })).toMatchObject({
        ok: true,
        report: { accepted: false, alerts: ['8F51'] },
      })
    } finally {
      await run.close()
    }
  })

  it("a UTRN the meter refuses: the meter's GBCS alert (8F63) is the answer and reaches the DCC", async () => {
    const run = await running()
    try {
      const p = premise(spec, 0)!
      const before = run.dcc.alertsFor(p.supplierEui).length
      const r = consumerAction(run, p.esme, { kind: 'utrn', digits: '12345678901234567890' })
      expect(r).toMatchObject({
        ok: true,
        report: { deviceId: p.esme, deviceType: 'ESME', alerts: ['8F63'], accepted: false },
      })
      await run.advance(60_000)
      const after = run.dcc.alertsFor(p.supplierEui).slice(before)
      expect(after.filter((a) => a.device === p.esme).map((a) => a.alertCode)).toContain('8F63')
    } finally {
      await run.close()
    }
  })

  it('the button on an enabled meter leaves it enabled; unknown devices are refused and nothing changes', async () => {
    const run = await running()
    try {
      const p = premise(spec, 0)!
      expect(consumerAction(run, p.esme, { kind: 'button' })).toMatchObject({
        ok: true,
        report: { supply: 'enabled', alerts: [] },
      })
      expect(consumerAction(run, '00DB12FFFFFFFF00', { kind: 'button' })).toMatchObject({
        ok: false,
        reason: 'unknown-device',
      })
    } finally {
      await run.close()
    }
  })
})

describe('consumerAction on a PPMID', () => {
  // Every premise has gas and a PPMID here.
  const withPpmid = (() => {
    const r = parseFleetSpec({
      seed: 'consumer-ppmid',
      premises: 1,
      install: { installedNotCommissioned: 0 },
      devices: { gas: 1, ppmid: { prepayment: 1, credit: 1 } },
    })
    if (!r.ok) throw r.error
    return r.value
  })()
  const pki = createFleetPki(withPpmid)
  async function runningWithPpmid() {
    const fleet = buildFleet(withPpmid, { pki })
    return startFleet(fleet, { scheduler: createScheduler({ start: Date.parse(withPpmid.start) }), backend })
  }

  it('a genuine UTRN typed on the PPMID (PCS01) credits its ESME, and the PPMID shows the new balance', async () => {
    const run = await runningWithPpmid()
    try {
      const p = premise(withPpmid, 0)!
      expect(p.ppmid && p.gsme).toBeTruthy()
      const meter = run.device(p.esme) as DeviceState
      const utrn = fivePounds(pki, p.supplierEui, meter)
      const r = consumerAction(run, p.ppmid!, { kind: 'utrn', digits: utrn })
      expect(r).toMatchObject({ ok: true, report: { deviceId: p.esme, via: p.ppmid, accepted: true } })
      if (!r.ok) return
      expect(r.report.meterBalance - meter.account.meterBalance).toBe(500_000)
      const shown = (run.device(p.ppmid!) as PpmidState).display[p.esme as never]
      expect(shown?.meterBalance).toBe(r.report.meterBalance)
      run.sync() // the PPMID's display is kept in the fleet's slot too (snapshots)
      expect((run.fleet.device(p.ppmid!) as PpmidState).display[p.esme as never]?.meterBalance).toBe(
        r.report.meterBalance,
      )
    } finally {
      await run.close()
    }
  })

  it('emergency credit goes to the meter named; the gas supply cannot be enabled from it (nothing changes)', async () => {
    const run = await runningWithPpmid()
    try {
      const p = premise(withPpmid, 0)!
      expect(
        consumerAction(run, p.ppmid!, { kind: 'acceptEmergencyCredit' }, { meter: p.gsme! }),
      ).toMatchObject({
        ok: true,
        report: { deviceId: p.gsme, deviceType: 'GSME', via: p.ppmid },
      })
      const gsme = run.device(p.gsme!)
      expect(consumerAction(run, p.ppmid!, { kind: 'button' }, { meter: p.gsme! })).toEqual({
        ok: false,
        reason: 'refused',
        message: 'a gas supply is enabled on the meter only',
      })
      expect(run.device(p.gsme!)).toBe(gsme)
    } finally {
      await run.close()
    }
  })
})

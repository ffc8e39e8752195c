import { toHex } from '@smetsim/core'
import type { DeviceState } from '@smetsim/device'
import { getBackend } from '@smetsim/gbcs'
import { normaliseSerial } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import { buildFleet, type HubSeam } from './build.ts'
import { createFleetPki, FleetPkiError } from './pki.ts'
import { compileSpec } from './premise.ts'
import { type FleetSpec, parseFleetSpec } from './spec.ts'

const specOf = (input: object): FleetSpec => {
  const r = parseFleetSpec(input)
  if (!r.ok) throw r.error
  return r.value
}

const SPEC = specOf({ seed: 'build', premises: 60, install: { installedNotCommissioned: 0.2 } })
const PKI = createFleetPki(SPEC)

describe('buildFleet', () => {
  const fleet = buildFleet(SPEC, { pki: PKI })
  const c = compileSpec(SPEC)

  it('makes every premise its devices as the premise describes them', () => {
    expect(fleet.size).toBe(60)
    for (let i = 0; i < 60; i++) {
      const p = fleet.premise(i)!
      const esme = fleet.esme[i]!
      expect(esme).toMatchObject({
        type: 'ESME',
        eui: p.esme,
        paymentMode: p.paymentMode,
        supply: 'enabled',
        commissioning: p.install,
        load: { watts: p.electricity.watts, seed: p.electricity.loadSeed },
        account: { at: c.startMs, meterBalance: p.electricity.meterBalance },
      })
      expect(esme.tariff).toBe(c.tariffs[p.supplier]![p.paymentMode].electricity) // shared, not copied
      expect(esme.cells.supplierDs?.eui).toBe(p.supplierEui)
      expect(esme.cells.networkOperatorDs?.eui).toBe(SPEC.networkOperators[p.electricityNetworkOperator]!.eui)
      expect(fleet.gsme[i]?.eui).toBe(p.gsme)
      if (p.gsme) {
        expect(fleet.gsme[i]).toMatchObject({ type: 'GSME', load: { watts: p.gas!.watts } })
        expect(fleet.gsme[i]!.cells.networkOperatorDs?.eui).toBe(
          SPEC.networkOperators[p.gasNetworkOperator!]!.eui,
        )
      }
      const ppmid = fleet.ppmid[i]
      expect(ppmid?.eui).toBe(p.ppmid)
      if (ppmid) expect(ppmid.paired).toEqual({ [p.esme]: 'ESME', ...(p.gsme && { [p.gsme]: 'GSME' }) })
    }
    expect(fleet.hubs).toBeUndefined()
  })

  it('shares one cells object per supplier and network operator, as principle 5 asks', () => {
    const bySupplier = new Map<string, DeviceState['cells']>()
    for (const d of fleet.esme) {
      const key = d.cells.supplierDs!.eui
      const seen = bySupplier.get(key)
      if (seen) expect(d.cells).toBe(seen)
      else bySupplier.set(key, d.cells)
    }
    expect(bySupplier.size).toBe(2)
    const gsme = fleet.gsme.find((d) => d !== undefined)!
    expect(gsme.cells).not.toBe(bySupplier.get(gsme.cells.supplierDs!.eui)) // gas transporter's cells
    expect(gsme.cells.root).toBe(fleet.esme[0]!.cells.root)
  })

  it('draws device keys and install codes from the seed: another build, even on another PKI, has the same', () => {
    const other = buildFleet(SPEC)
    expect(other.pki.root.certificate.raw).not.toEqual(fleet.pki.root.certificate.raw)
    const backend = getBackend('native')
    for (let i = 0; i < 60; i++) {
      for (const [mine, theirs] of [
        [fleet.esme[i], other.esme[i]],
        [fleet.gsme[i], other.gsme[i]],
      ] as const) {
        if (!mine) continue
        expect(theirs!.keys).toEqual(mine.keys)
        expect(theirs!.installCode).toEqual(mine.installCode)
        expect(mine.keys.ds).not.toEqual(mine.keys.ka)
        expect(() => backend.importPrivateKey(mine.keys.ka!)).not.toThrow()
      }
    }
    expect(new Set(fleet.esme.map((d) => toHex(d.keys.ka!))).size).toBe(60)
  })

  it('adding premises leaves the devices and DCC records of the existing ones unchanged', () => {
    const bigger = buildFleet(specOf({ ...SPEC, premises: 90 }), { pki: PKI })
    for (let i = 0; i < 60; i++) {
      expect(bigger.esme[i]).toEqual(fleet.esme[i])
      expect(bigger.gsme[i]).toEqual(fleet.gsme[i])
      expect(bigger.ppmid[i]).toEqual(fleet.ppmid[i])
      const p = fleet.premise(i)!
      for (const id of [p.esme, p.gsme, p.chf, p.gpf, p.ppmid])
        if (id) expect(bigger.inventory.get(id)).toEqual(fleet.inventory.get(id))
      for (const mpxn of [p.mpan, p.mprn])
        if (mpxn)
          expect(bigger.registration.meteringPoint(mpxn)).toEqual(fleet.registration.meteringPoint(mpxn))
    }
  })

  it("registers every MPxN to the premise's supplier and network operators, from registeredFrom", () => {
    for (let i = 0; i < 60; i++) {
      const p = fleet.premise(i)!
      const elec = SPEC.networkOperators[p.electricityNetworkOperator]!
      expect(fleet.registration.registeredSupplierAt(p.mpan, SPEC.start)).toEqual({
        mpxn: p.mpan,
        mpid: SPEC.suppliers[p.supplier]!.mpid,
        from: '2024-01-01T00:00:00.000Z',
        user: p.supplierEui,
      })
      expect(fleet.registration.networkOperatorAt(p.mpan, SPEC.start)?.user).toBe(elec.eui)
      expect(fleet.registration.registeredSupplierAt(p.mpan, '2023-12-31')).toBeUndefined()
      if (p.mprn) {
        expect(fleet.registration.registeredSupplierAt(p.mprn, SPEC.start)?.user).toBe(p.supplierEui)
        expect(fleet.registration.networkOperatorAt(p.mprn, SPEC.start)?.user).toBe('90B3D51F30040000')
      }
    }
  })

  it('puts every device in the Smart Metering Inventory with its hub, status and install code', () => {
    let devices = 0
    for (let i = 0; i < 60; i++) {
      const p = fleet.premise(i)!
      const status = p.install === 'commissioned' ? 'Commissioned' : 'InstalledNotCommissioned'
      expect(fleet.inventory.get(p.chf)).toMatchObject({ type: 'CHF', status })
      expect(fleet.inventory.get(p.gpf)).toMatchObject({ type: 'GPF', status, commsHub: p.chf })
      const meter = (id: string, d: DeviceState, mpxn: string) =>
        expect(fleet.inventory.get(id)).toEqual({
          deviceId: id,
          type: d.type,
          mpxn,
          commsHub: p.chf,
          status,
          statusSince: '2024-01-01T00:00:00.000Z',
          installCode: toHex(d.installCode!),
          installingSupplier: p.supplierEui,
          installCodeSuppliedAt: '2024-01-01T00:00:00.000Z',
        })
      meter(p.esme, fleet.esme[i]!, p.mpan)
      if (p.gsme) meter(p.gsme, fleet.gsme[i]!, p.mprn!)
      if (p.ppmid)
        expect(fleet.inventory.get(p.ppmid)).toMatchObject({ type: 'PPMID', commsHub: p.chf, status })
      devices += 3 + (p.gsme ? 1 : 0) + (p.ppmid ? 1 : 0)
    }
    expect(fleet.inventory.size).toBe(devices)
    expect(fleet.inventory.devicesOnHub(fleet.premise(0)!.chf).length).toBeGreaterThanOrEqual(2)
    expect(fleet.esme.some((d) => d.commissioning === 'installedNotCommissioned')).toBe(true)
  })

  it('registers each supplier and network operator as a DCC User with its certificates', () => {
    const serial = (c: { certificate: { serialNumber: string } }) =>
      normaliseSerial(c.certificate.serialNumber)
    const a = PKI.parties.get('90B3D51F30010000' as never)!
    expect(fleet.users.get(a.eui)).toMatchObject({
      name: 'Supplier A',
      roles: ['IS', 'GS'],
      status: 'active',
      certificates: [serial(a.ds), serial(a.ka!), serial(a.pp!)],
    })
    expect(fleet.users.get('90B3D51F30020000')?.roles).toEqual(['ED'])
    expect(fleet.users.get('90B3D51F30040000')?.roles).toEqual(['GT'])
    expect(fleet.users.size).toBe(4)
    expect(fleet.registration.mpidOwnerAt('SUPB', SPEC.start)).toBe('90B3D51F30030000')
  })

  it('finds and replaces a device by EUI, and nothing else', () => {
    const f = buildFleet(specOf({ seed: 'slots', premises: 4, devices: { gas: 1 } }), { pki: PKI })
    const p = f.premise(2)!
    expect(f.locate(p.gsme!)).toEqual({ premise: 2, role: 'GSME' })
    expect(f.locate(p.esme.toLowerCase())).toEqual({ premise: 2, role: 'ESME' })
    expect(f.device(p.gsme!)).toBe(f.gsme[2])
    expect(f.device(p.chf)).toBeUndefined()
    expect(f.device('garbage')).toBeUndefined()
    const changed = { ...f.esme[2]!, supply: 'disabled' as const }
    expect(f.replaceDevice(changed)).toBe(true)
    expect(f.esme[2]).toBe(changed)
    expect(f.replaceDevice({ ...changed, eui: '00DB120000009990' as never })).toBe(false) // not in the fleet
    expect(f.replaceDevice({ ...changed, eui: p.gsme! })).toBe(false) // an ESME in the GSME's slot
    expect(f.gsme[2]?.type).toBe('GSME')
  })

  it('makes one hub per premise through the seam, given the premise and its devices', () => {
    const seen: string[] = []
    const hubs: HubSeam<{ chf: string; devices: string[] }> = {
      create: (p, d) => {
        seen.push(p.chf)
        return {
          chf: p.chf,
          devices: [d.esme.eui, ...(d.gsme ? [d.gsme.eui] : []), ...(d.ppmid ? [d.ppmid.eui] : [])],
        }
      },
    }
    const f = buildFleet(specOf({ seed: 'hubs', premises: 5 }), { pki: PKI, hubs })
    expect(f.hubs?.map((h) => h.chf)).toEqual(seen)
    expect(f.hubs?.[3]?.devices).toEqual(
      [f.esme[3]!.eui, f.gsme[3]?.eui, f.ppmid[3]?.eui].filter((x) => x !== undefined),
    )
  })

  it("refuses a PKI without the spec's parties", () => {
    const other = specOf({
      premises: 1,
      suppliers: [{ name: 'C', eui: '90B3D51F30050000', mpid: 'SUPC', share: 1 }],
    })
    expect(() => buildFleet(other, { pki: PKI })).toThrow(
      new FleetPkiError('the fleet PKI has no supplier 90B3D51F30050000'),
    )
  })

  it('reports progress', () => {
    const calls: [number, number][] = []
    buildFleet(specOf({ premises: 5 }), {
      pki: PKI,
      progressEvery: 2,
      onProgress: (n, t) => calls.push([n, t]),
    })
    expect(calls).toEqual([
      [2, 5],
      [4, 5],
      [5, 5],
    ])
  })
})

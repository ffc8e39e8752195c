/**
 * A built fleet served by a real DCC (@smetsim/dcc's createDcc) over an in-process transport
 * that steps the fleet's devices: the DCC's keys, Users, registration and inventory and the
 * devices' cells and keys must all agree for a command to execute, and the DCC's and the
 * devices' checks must refuse what is not theirs.
 */
import type { Eui64 } from '@smetsim/core'
import { createDcc, createMemorySat, type DuisRequest } from '@smetsim/dcc'
import { type DeviceState, step } from '@smetsim/device'
import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { buildFleet, type Fleet } from './build.ts'
import { DEVICE_KEY_CACHE, dccParts } from './dcc.ts'
import { createFleetPki } from './pki.ts'
import { type FleetSpec, parseFleetSpec } from './spec.ts'

const backend = getBackend('native')

const specOf = (input: object): FleetSpec => {
  const r = parseFleetSpec(input)
  if (!r.ok) throw r.error
  return r.value
}

function served(fleet: Fleet) {
  const clock = Date.parse(fleet.spec.start) + 60_000
  const sat = createMemorySat({ now: () => new Date(clock) })
  const dcc = createDcc({
    ...dccParts(fleet, backend),
    sat,
    now: () => clock,
    // No hub yet: the bytes go straight to the device, which checks everything itself.
    transport: async (id, bytes) => {
      const device = fleet.device(id) as DeviceState | undefined
      if (!device) return undefined
      const r = step(device, { kind: 'frame', bytes }, clock, { backend })
      fleet.replaceDevice(r.state)
      return r.outputs.response
    },
  })
  let counter = 100
  const submit = (user: string, role: string, srv: string, device: Eui64, deviceType: 'ESME' | 'GSME') =>
    dcc.submit({
      requestId: `${user}:${device}:${++counter}`,
      role,
      srv,
      commandVariant: srv === '7.4' ? 1 : 4,
      deviceType,
    } satisfies DuisRequest)
  return { dcc, sat, submit }
}

const SPEC = specOf({
  seed: 'dcc',
  premises: 8,
  devices: { gas: 1 },
  install: { installedNotCommissioned: 0 },
})
const PKI = createFleetPki(SPEC)

describe('a fleet served by the DCC', () => {
  it("executes each premise's supplier's commands on its ESME and GSME, and refuses the other supplier's", async () => {
    const fleet = buildFleet(SPEC, { pki: PKI })
    const { submit, sat } = served(fleet)
    for (let i = 0; i < fleet.size; i++) {
      const p = fleet.premise(i)!
      const other = SPEC.suppliers.find((s) => s.eui !== p.supplierEui)!.eui
      for (const [id, type, role] of [
        [p.esme, 'ESME', 'IS'],
        [p.gsme!, 'GSME', 'GS'],
      ] as const) {
        const refused = await submit(other, role, '7.2', id, type)
        expect(refused.code).toBe('E4')
        expect((fleet.device(id) as DeviceState).supply).toBe('enabled')
        const disabled = await submit(p.supplierEui, role, '7.2', id, type)
        expect(disabled).toMatchObject({ code: 'I0', response: { cra: 'response', originator: id } })
        expect((fleet.device(id) as DeviceState).supply).toBe('disabled')
      }
    }
    expect(sat.verify()).toEqual({ ok: true })
  })

  it("lets each network operator read its own meters' supply status, and only those", async () => {
    const fleet = buildFleet(SPEC, { pki: PKI })
    const { submit } = served(fleet)
    const p = fleet.premise(0)!
    const dno = SPEC.networkOperators[p.electricityNetworkOperator]!.eui
    const gt = SPEC.networkOperators[p.gasNetworkOperator!]!.eui
    expect((await submit(dno, 'ED', '7.4', p.esme, 'ESME')).code).toBe('I0')
    expect((await submit(gt, 'GT', '7.4', p.gsme!, 'GSME')).code).toBe('I0')
    // Not the registered network operator of that MPxN: E4, as for a supplier.
    expect((await submit(gt, 'GT', '7.4', p.esme, 'ESME')).code).toBe('E4')
    expect((await submit(dno, 'ED', '7.4', p.gsme!, 'GSME')).code).toBe('E4')
  })

  it('refuses devices not yet commissioned with E5, as the inventory says', async () => {
    const fleet = buildFleet(specOf({ ...SPEC, premises: 2, install: { installedNotCommissioned: 1 } }), {
      pki: PKI,
    })
    const { submit } = served(fleet)
    const p = fleet.premise(1)!
    expect((await submit(p.supplierEui, 'IS', '7.2', p.esme, 'ESME')).code).toBe('E5')
  })

  it('gives key-agreement keys for meters only, from the keys the devices hold, keeping a bounded number', () => {
    const fleet = buildFleet(SPEC, { pki: PKI })
    const parts = dccParts(fleet, backend, { keyCache: 2 })
    const p = fleet.premise(3)!
    const esmeKey = parts.deviceKeyAgreement(p.esme)
    expect(esmeKey?.point).toEqual(backend.importPrivateKey(fleet.esme[3]!.keys.ka!).publicKey.point)
    expect(parts.deviceKeyAgreement(p.gsme!)?.point).toEqual(
      backend.importPrivateKey(fleet.gsme[3]!.keys.ka!).publicKey.point,
    )
    expect(parts.deviceKeyAgreement(p.esme)).toBe(esmeKey) // kept
    for (const id of [p.chf, p.gpf, '90B3D51F30010000', '00DB12FFFFFFFFF0'] as Eui64[])
      expect(parts.deviceKeyAgreement(id)).toBeUndefined()
    expect(parts.keysKept()).toBe(2)
    for (let i = 0; i < 8; i++) parts.deviceKeyAgreement(fleet.premise(i)!.esme)
    expect(parts.keysKept()).toBe(2)
    expect(DEVICE_KEY_CACHE).toBe(4096)
    // A premise without gas has no GSME, so no key for the EUI its GSME would have.
    const noGas = buildFleet(specOf({ seed: 'dcc', premises: 2, devices: { gas: 0 } }), { pki: PKI })
    const vacant = noGas.premise(0)!.esme.replace(/0$/, '1') as Eui64
    expect(noGas.locate(vacant)).toEqual({ premise: 0, role: 'GSME' })
    expect(dccParts(noGas, backend).deviceKeyAgreement(vacant)).toBeUndefined()
  })
})

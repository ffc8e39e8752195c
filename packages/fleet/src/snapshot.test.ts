import type { Eui64 } from '@smetsim/core'
import { constructCommand, createMemorySat, type GbcsServiceRequest } from '@smetsim/dcc'
import { type Credential, type DeviceState, snapshotDevice, step } from '@smetsim/device'
import { decodeFrame, getBackend } from '@smetsim/gbcs'
import { isIssuedBy, parseCertificate } from '@smetsim/smki'
import { Encoder } from 'cbor-x'
import { describe, expect, it } from 'vitest'
import { buildFleet, type Fleet, type HubSeam } from './build.ts'
import { dccParts } from './dcc.ts'
import { createFleetPki } from './pki.ts'
import { restoreFleet, snapshotFleet } from './snapshot.ts'
import { type FleetSpec, parseFleetSpec } from './spec.ts'

const backend = getBackend('native')
const specOf = (input: object): FleetSpec => {
  const r = parseFleetSpec(input)
  if (!r.ok) throw r.error
  return r.value
}
const SPEC = specOf({ seed: 'snapshot', premises: 40, prepaymentShare: 0.5 })
const PKI = createFleetPki(SPEC)
const T1 = Date.parse(SPEC.start) + 3 * 86_400_000

/** A fleet that has lived a little: every meter's account settled three days on, one ESME disabled. */
function lived(): Fleet {
  const fleet = buildFleet(SPEC, { pki: PKI })
  for (const d of [...fleet.esme, ...fleet.gsme])
    if (d) fleet.replaceDevice(step(d, { kind: 'time' }, T1, { backend }).state)
  fleet.replaceDevice({ ...fleet.esme[5]!, supply: 'disabled' })
  return fleet
}

/** Every credential in any device's cells. */
const PKI_CELLS = (fleet: Fleet): Credential[] =>
  [...fleet.esme, ...fleet.gsme].flatMap((d) => (d ? Object.values(d.cells) : []))

function restored(bytes: Uint8Array): Fleet {
  const r = restoreFleet(bytes)
  if (!r.ok) throw r.error
  return r.value
}

/** A command to premise i's ESME from its supplier, built as the DCC builds it. */
function commandTo(fleet: Fleet, i: number, srv: string, counter: bigint): Uint8Array {
  const parts = dccParts(fleet, backend)
  const p = fleet.premise(i)!
  const sr: GbcsServiceRequest = { srv, target: p.esme, deviceType: 'ESME', parameters: {} }
  return constructCommand(
    sr,
    {
      originator: p.supplierEui,
      counter,
      signer: parts.signers![p.supplierEui]!,
      acb: parts.acb,
      deviceKaPublic: parts.deviceKeyAgreement(p.esme)!,
      now: T1,
    },
    backend,
  )
}

describe('snapshotFleet / restoreFleet', () => {
  it('restores an equal fleet: devices, PKI, registration, inventory and Users', () => {
    const fleet = lived()
    const bytes = snapshotFleet(fleet)
    const back = restored(bytes)
    expect(back.spec).toEqual(fleet.spec)
    expect(back.esme).toEqual(fleet.esme)
    expect(back.gsme).toEqual(fleet.gsme)
    expect(back.ppmid).toEqual(fleet.ppmid)
    expect(back.registration.snapshot()).toEqual(fleet.registration.snapshot())
    expect(back.inventory.snapshot()).toEqual(fleet.inventory.snapshot())
    expect(back.users.snapshot()).toEqual(fleet.users.snapshot())
    expect(back.pki.root.certificate.raw).toEqual(fleet.pki.root.certificate.raw)
    const a = '90B3D51F30010000' as Eui64
    expect(back.pki.parties.get(a)!.pp!.privateKey.export({ format: 'jwk' })).toEqual(
      fleet.pki.parties.get(a)!.pp!.privateKey.export({ format: 'jwk' }),
    )
    expect(back.pki.deviceCa.certificate.raw).toEqual(fleet.pki.deviceCa.certificate.raw)
    expect(back.pki.deviceCa.privateKey.export({ format: 'jwk' })).toEqual(
      fleet.pki.deviceCa.privateKey.export({ format: 'jwk' }),
    )
    // The same bytes again from the restored fleet: nothing lost or reordered.
    expect(Buffer.compare(snapshotFleet(back), bytes)).toBe(0)
    expect(back.esme[5]!.supply).toBe('disabled')
  })

  it('restores a snapshot made before the fleet had a Device CA with a new one under its root', () => {
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    const fleet = buildFleet(specOf({ premises: 2 }), { pki: PKI })
    const { deviceCa: _, ...older } = cbor.decode(snapshotFleet(fleet)).pki
    const back = restoreFleet(cbor.encode({ ...cbor.decode(snapshotFleet(fleet)), pki: older }))
    if (!back.ok) throw back.error
    const ca = parseCertificate(back.value.pki.deviceCa.certificate)
    expect(ca.kind).toBe('ca')
    expect(isIssuedBy(ca, parseCertificate(fleet.pki.root.certificate))).toBe(true)
  })

  it('shares cells, configuration and tariffs again, and writes each certificate once', () => {
    const fleet = lived()
    const bytes = snapshotFleet(fleet)
    const back = restored(bytes)
    const same = (f: Fleet, pick: (d: DeviceState) => unknown) =>
      new Set([...f.esme, ...f.gsme].filter((d) => d).map((d) => pick(d!))).size
    for (const pick of [
      (d: DeviceState) => d.cells,
      (d: DeviceState) => d.config,
      (d: DeviceState) => d.tariff,
    ])
      expect(same(back, pick)).toBe(same(fleet, pick))
    expect(back.esme[0]!.cells.supplierDs).toBe(fleet.esme[0]!.cells.supplierDs) // interned by certificate
    // Each certificate once: the devices take a fifth of what their own snapshots, each with its
    // cells' certificates, would.
    const decoded = new Encoder({ useRecords: false, mapsAsObjects: true }).decode(bytes)
    expect(decoded.certificates.length).toBe(new Set(Object.values(PKI_CELLS(fleet))).size)
    const meters = [...fleet.esme, ...fleet.gsme].filter((d) => d !== undefined)
    const alone = meters.reduce((n, d) => n + snapshotDevice(d).length, 0)
    const inFleet = [...decoded.esme, ...decoded.gsme].reduce((n, e) => n + (e ? e.state.length : 0), 0)
    expect(inFleet).toBeLessThan(alone / 5)
  })

  it('a restored device executes the next command exactly as the original would', () => {
    const fleet = lived()
    const back = restored(snapshotFleet(fleet))
    // Non-critical (SR 7.4, ECS45): the MACed response is the same, byte for byte.
    const read = commandTo(fleet, 3, '7.4', 9_000n)
    const mine = step(fleet.esme[3]!, { kind: 'frame', bytes: read }, T1 + 1000, { backend })
    const theirs = step(back.esme[3]!, { kind: 'frame', bytes: read }, T1 + 1000, { backend })
    expect(mine.outputs.outcome).toBe('executed')
    expect(theirs.outputs.response).toEqual(mine.outputs.response)
    expect(theirs.state).toEqual(mine.state)
    // Critical (SR 7.2, ECS43): the same new state and response; only the signature's random k differs.
    const disable = commandTo(fleet, 4, '7.2', 9_001n)
    const a = step(fleet.esme[4]!, { kind: 'frame', bytes: disable }, T1 + 2000, { backend })
    const b = step(back.esme[4]!, { kind: 'frame', bytes: disable }, T1 + 2000, { backend })
    expect(a.outputs.outcome).toBe('executed')
    expect(b.state).toEqual(a.state)
    expect(b.state.supply).toBe('disabled')
    const unsigned = (bytes: Uint8Array) => {
      const { signing } = decodeFrame(bytes)
      return { ...signing, signature: signing.signature.kind }
    }
    expect(unsigned(b.outputs.response!)).toEqual(unsigned(a.outputs.response!))
    // And the restored one remembers its counters: the same command again is a replay.
    expect(step(b.state, { kind: 'frame', bytes: disable }, T1 + 3000, { backend }).outputs.reason).toBe(
      'replay',
    )
  })

  it('a restored fleet is served by the DCC as the original was', async () => {
    const back = restored(snapshotFleet(lived()))
    const parts = dccParts(back, backend)
    const { createDcc } = await import('@smetsim/dcc')
    const dcc = createDcc({
      ...parts,
      sat: createMemorySat(),
      now: () => T1,
      transport: async (id, bytes) => {
        const r = step(back.device(id) as DeviceState, { kind: 'frame', bytes }, T1, { backend })
        back.replaceDevice(r.state)
        return r.outputs.response
      },
    })
    const p = back.premise(7)!
    const answer = await dcc.submit({
      requestId: `${p.supplierEui}:${p.esme}:77`,
      role: 'IS',
      srv: '7.2',
      commandVariant: 4,
      deviceType: 'ESME',
    })
    expect(answer.code).toBe('I0')
    expect(back.esme[7]!.supply).toBe('disabled')
  })

  it('snapshots and restores hubs through the seam', () => {
    const hubs: HubSeam<{ chf: string; log: number }> = {
      create: (p) => ({ chf: p.chf, log: p.index * 2 }),
      snapshot: (h) => new TextEncoder().encode(JSON.stringify(h)),
      restore: (bytes, p) => ({ ...JSON.parse(new TextDecoder().decode(bytes)), restoredFor: p.index }),
    }
    const fleet = buildFleet(specOf({ seed: 'hubs', premises: 3 }), { pki: PKI, hubs })
    const bytes = snapshotFleet(fleet)
    const r = restoreFleet(bytes, { hubs })
    expect(r.ok && r.value.hubs).toEqual([
      { chf: fleet.premise(0)!.chf, log: 0, restoredFor: 0 },
      { chf: fleet.premise(1)!.chf, log: 2, restoredFor: 1 },
      { chf: fleet.premise(2)!.chf, log: 4, restoredFor: 2 },
    ])
    expect(restoreFleet(bytes)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/hub seam/) },
    })
    const noSnapshot = buildFleet(specOf({ premises: 1 }), { pki: PKI, hubs: { create: () => ({}) } })
    expect(() => snapshotFleet(noSnapshot)).toThrow(/no snapshot\(\)/)
  })

  it('refuses anything else with an error, and never throws', () => {
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    const good = cbor.decode(snapshotFleet(buildFleet(specOf({ premises: 2 }), { pki: PKI })))
    const refused = (bytes: Uint8Array) => {
      const r = restoreFleet(bytes)
      expect(r.ok).toBe(false)
      return r.ok ? '' : r.error.message
    }
    expect(refused(Uint8Array.of(0xff, 0x00, 0x13))).toMatch(/^not a fleet snapshot/)
    expect(refused(cbor.encode({ hello: 1 }))).toMatch(/expected format 'smetsim-fleet'/)
    expect(refused(cbor.encode({ ...good, version: 2 }))).toMatch(/version 2/)
    expect(refused(cbor.encode({ ...good, spec: { ...good.spec, premises: -4 } }))).toMatch(/premises/)
    expect(refused(cbor.encode({ ...good, esme: good.esme.slice(1) }))).toMatch(/esme: expected 2 entries/)
    expect(refused(cbor.encode({ ...good, esme: [good.esme[1], good.esme[0]] }))).toMatch(
      /in the slot of ESME/,
    )
    expect(refused(cbor.encode({ ...good, esme: [{ ...good.esme[0], cells: 9 }, good.esme[1]] }))).toMatch(
      /no cell set 9/,
    )
    expect(
      refused(cbor.encode({ ...good, esme: [{ ...good.esme[0], state: Uint8Array.of(1) }, good.esme[1]] })),
    ).toMatch(/not a device snapshot/)
    expect(refused(new Uint8Array(0))).toMatch(/^not a fleet snapshot/)
  })
})

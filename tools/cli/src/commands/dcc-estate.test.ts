/**
 * The estate file of `smetsim dcc serve`: a hub and its devices back as they were, and every
 * kind of bad file refused with the field named, never a throw.
 */
import type { Eui64 } from '@smetsim/core'
import type { DccState } from '@smetsim/dcc'
import { Hub } from '@smetsim/hub'
import { Encoder } from 'cbor-x'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
// Test support from the dcc package by path (not exported from it), as cli.test.ts takes its HTTP helpers.
import { dailyReadBook } from '../../../../packages/dcc/src/testing.ts'
import {
  ARM,
  backend,
  CHF_EUI,
  CHF_KA,
  chfCells,
  command,
  DEVICE_CA,
  deviceWithCertificate,
  ESME_EUI,
  GPF_EUI,
  GPF_KEYS,
  GSME_EUI,
  READ_SUPPLY,
  testHub,
} from '../../../../packages/hub/src/testing.ts'
import {
  decodeEstate,
  encodeEstate,
  type HubIdentity,
  hubEuis,
  installCodeFor,
  premisesOf,
} from './dcc-estate.ts'

const CODE = new Uint8Array(16).fill(0x30)
const identity: HubIdentity = { chf: CHF_EUI, chfKa: CHF_KA, gpf: GPF_EUI, gpfKeys: GPF_KEYS }
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** A hub with a joined ESME that has executed one command. */
function usedHub() {
  const t = testHub()
  const esme = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
  t.hub.attach(esme.state, { certificate: esme.certificate })
  t.hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })
  expect(t.hub.receive(command(ARM.code, ARM.view, t.hub.device(ESME_EUI)!, { counter: 5n }))).toEqual({
    kind: 'executed',
  })
  return t
}

const OWNER = '90B3D51F30010000' as Eui64
/** A DCC's state as exportDccState makes it: one DCC Schedule (a daily SR 4.16 read on its third run), a DCC Alert held. */
const DCC: DccState = {
  format: 'smetsim-dcc-state',
  version: 1,
  runtime: {
    alertSeq: 4,
    cosCounter: 7001n,
    anomaly: undefined,
    deviceAlerts: {
      queues: [],
      counters: { delivered: 3, blocked: 0, toUnregisteredSupplier: 0, undeliverable: 0 },
      byUser: [],
    },
    dccAlerts: [
      [
        OWNER,
        [
          {
            item: {
              seq: 4,
              recipient: OWNER,
              type: 'UpdateHANDeviceLogResult',
              at: '2026-01-05T12:00:00.000Z',
              detail: {},
            },
            seq: 4,
            at: 1,
          },
        ],
      ],
    ],
    preCommands: [],
  },
  schedules: dailyReadBook(OWNER, ESME_EUI),
}

const saved = (t: ReturnType<typeof testHub>) =>
  encodeEstate(t.scheduler.now(), [{ identity, hub: t.hub, devices: [ESME_EUI] }])

describe('dcc serve estate file', () => {
  it('brings a hub back with its Device Log, its joined device and the device state (counters and all)', () => {
    const t = usedHub()
    const r = decodeEstate(saved(t))
    if (!r.ok) throw new Error(r.reason)
    expect(r.estate.now).toBe(t.scheduler.now())
    const back = r.estate.hubs.get(ESME_EUI)!
    expect(back).toMatchObject({ chf: CHF_EUI, gpf: GPF_EUI })
    expect(back.devices.map((d) => d.joined)).toEqual([true])
    const device = back.devices[0]!.device
    expect(back.state.chf.log).toEqual(t.hub.deviceLog)
    const { cells: _, ...state } = t.hub.device(ESME_EUI)!
    expect(state.counters).not.toEqual({})
    expect({ ...device, cells: undefined }).toEqual({ ...state, cells: undefined })
    expect(Object.keys(device.cells).sort()).toEqual(Object.keys(t.hub.device(ESME_EUI)!.cells).sort())

    const hub = new Hub({
      scheduler: t.scheduler,
      chf: { eui: back.chf, ka: back.chfKa, cells: chfCells() },
      gpf: { eui: back.gpf, keys: back.gpfKeys },
      deviceCas: [DEVICE_CA.certificate],
      uplink: () => {},
      backend,
      restore: back.state,
    })
    hub.attach(device, { joined: back.devices[0]!.joined })
    // Joined and counting on: the replayed counter is refused, the next one runs.
    const read = (counter: bigint) =>
      hub.receive(command(READ_SUPPLY.code, READ_SUPPLY.view, device, { counter, sign: false }))
    expect(read(5n).kind).toBe('rejected')
    expect(read(6n)).toEqual({ kind: 'executed' })
  })

  it('keeps what waits in the GPF for a sleeping GSME', () => {
    const t = testHub()
    const gsme = deviceWithCertificate('GSME', GSME_EUI, { installCode: CODE })
    t.hub.attach(gsme.state, { certificate: gsme.certificate })
    t.hub.addDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE })
    const frame = command(READ_SUPPLY.code, READ_SUPPLY.view, gsme.state, { counter: 1n, sign: false })
    expect(t.hub.receive(frame, 7)).toEqual({ kind: 'queued' })
    const r = decodeEstate(encodeEstate(t.scheduler.now(), [{ identity, hub: t.hub, devices: [GSME_EUI] }]))
    if (!r.ok) throw new Error(r.reason)
    expect(r.estate.hubs.get(GSME_EUI)!.state.gpf?.queue).toEqual([
      { bytes: frame, queuedAt: t.scheduler.now(), id: 7 },
    ])
  })

  it("keeps the GPF's mirror of the GSME and the wake-up it is as of (mirrorAt)", () => {
    const t = testHub()
    const gsme = deviceWithCertificate('GSME', GSME_EUI, { installCode: CODE })
    t.hub.attach(gsme.state, { certificate: gsme.certificate })
    t.hub.addDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE })
    t.scheduler.run({ until: t.scheduler.now() + 3 * 3_600_000 }) // past its radio's wake-ups
    const gpf = t.hub.state.gpf!
    expect(gpf.mirrorAt).toBeGreaterThan(0)
    const bytes = encodeEstate(t.scheduler.now(), [{ identity, hub: t.hub, devices: [GSME_EUI] }])
    const r = decodeEstate(bytes)
    if (!r.ok) throw new Error(r.reason)
    const back = r.estate.hubs.get(GSME_EUI)!.state.gpf!
    expect(back.mirrorAt).toBe(gpf.mirrorAt)
    expect(back.mirror?.eui).toBe(GSME_EUI)
    const bad = cbor.decode(bytes)
    bad.hubs[0].gpfState.mirrorAt = 'x'
    expect(decodeEstate(cbor.encode(bad))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^hubs\[0\]\.gpfState\.mirrorAt/),
    })
  })

  it('keeps an ESME and its GSME on one hub, in order, each with whether it joined', () => {
    const t = usedHub()
    const gsme = deviceWithCertificate('GSME', GSME_EUI, { installCode: CODE })
    t.hub.attach(gsme.state, { certificate: gsme.certificate })
    const r = decodeEstate(
      encodeEstate(t.scheduler.now(), [{ identity, hub: t.hub, devices: [ESME_EUI, GSME_EUI] }]),
    )
    if (!r.ok) throw new Error(r.reason)
    expect([...r.estate.hubs.keys()]).toEqual([ESME_EUI])
    expect(r.estate.hubs.get(ESME_EUI)!.devices.map((d) => [d.device.eui, d.device.type, d.joined])).toEqual([
      [ESME_EUI, 'ESME', true],
      [GSME_EUI, 'GSME', false], // not in the Device Log: it never joined
    ])
  })

  it("keeps the DCC's state: the schedule book, alert queues and counters as exportDccState gave them", () => {
    const t = usedHub()
    const r = decodeEstate(
      encodeEstate(t.scheduler.now(), [{ identity, hub: t.hub, devices: [ESME_EUI] }], DCC),
    )
    if (!r.ok) throw new Error(r.reason)
    expect(r.estate.dcc?.config).toEqual({ restore: DCC.runtime, schedules: DCC.schedules })
    // Saved before the DCC existed, or read from a version 2 file (before it was kept): none.
    expect(decodeEstate(saved(t))).toMatchObject({ ok: true, estate: { dcc: undefined } })
    const { dcc: _, ...v2 } = cbor.decode(encodeEstate(t.scheduler.now(), [], DCC))
    expect(decodeEstate(cbor.encode({ ...v2, version: 2 }))).toMatchObject({
      ok: true,
      estate: { dcc: undefined },
    })
    // A DCC state that restoreDccState refuses: the estate is refused, the field named.
    const bad = { ...DCC, runtime: { ...DCC.runtime, cosCounter: -1n } }
    expect(decodeEstate(encodeEstate(0, [], bad))).toEqual({
      ok: false,
      reason: 'dcc: not a DCC state: runtime.cosCounter: expected a counter below 2^64',
    })
  })

  it('reads a version 1 file (one device a hub, before GSMEs) as it was written', () => {
    const v2 = cbor.decode(saved(usedHub()))
    const [{ devices, ...hub }] = v2.hubs
    const v1 = { ...v2, version: 1, hubs: [{ ...hub, device: devices[0].device, joined: devices[0].joined }] }
    const r = decodeEstate(cbor.encode(v1))
    if (!r.ok) throw new Error(r.reason)
    expect(r.estate.hubs.get(ESME_EUI)!.devices.map((d) => [d.device.eui, d.joined])).toEqual([
      [ESME_EUI, true],
    ])
  })

  it('refuses what is not an estate, naming the field that is wrong', () => {
    const good = cbor.decode(saved(usedHub()))
    const variant = (change: (h: Record<string, unknown>) => void) => {
      const copy = cbor.decode(cbor.encode(good))
      change(copy.hubs[0])
      return decodeEstate(cbor.encode(copy))
    }
    expect(decodeEstate(new TextEncoder().encode('not an estate at all'))).toMatchObject({ ok: false })
    expect(decodeEstate(cbor.encode({ format: 'something else', version: 1 }))).toEqual({
      ok: false,
      reason: 'not a smetsim dcc serve estate (version 1, 2 or 3)',
    })
    expect(decodeEstate(cbor.encode({ ...good, version: 4 }))).toMatchObject({ ok: false })
    expect(decodeEstate(cbor.encode({ ...good, version: 1 }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^hubs\[0\]\.device: /),
    })
    expect(variant((h) => (h.chfKa = new Uint8Array(31)))).toEqual({
      ok: false,
      reason: 'hubs[0].chfKa: expected a 32-byte key',
    })
    expect(variant((h) => (h.chf = 'nope'))).toMatchObject({ reason: 'hubs[0].chf: expected an EUI-64' })
    expect(
      variant((h) => ((h.devices as { device: unknown }[])[0]!.device = new Uint8Array([1, 2, 3]))),
    ).toMatchObject({
      reason: expect.stringMatching(/^hubs\[0\]\.devices\[0\]\.device: /),
    })
    expect(variant((h) => (h.devices = []))).toMatchObject({
      reason: 'hubs[0].devices: a hub has at least one device',
    })
    expect(variant((h) => ((h.chfState as { alertCounter: unknown }).alertCounter = -1n))).toMatchObject({
      reason: 'hubs[0].chfState.alertCounter: expected a counter',
    })
    expect(
      variant((h) => ((h.chfState as { log: { entries: unknown[] } }).log.entries[0] = { eui: ESME_EUI })),
    ).toMatchObject({ reason: 'hubs[0].chfState.log.entries[0].joinUntil: expected a number' })
    expect(variant((h) => ((h.gpfState as { queue: unknown }).queue = 'x'))).toMatchObject({
      reason: 'hubs[0].gpfState.queue: expected a list',
    })
  })

  it('never throws on arbitrary bytes, nor on a damaged copy of a good file', () => {
    const good = saved(usedHub())
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        expect(decodeEstate(junk).ok).toBe(false)
      }),
      { numRuns: 200 },
    )
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bad = good.slice()
        bad[at]! ^= flip
        expect(typeof decodeEstate(bad).ok).toBe('boolean')
      }),
      { numRuns: 200 },
    )
    for (let n = 0; n < good.length; n += 97) expect(decodeEstate(good.subarray(0, n)).ok).toBe(false)
  })
})

describe('dcc serve hub EUIs and install codes', () => {
  it('numbers the hubs after the highest device, CHF then GPF, and refuses a clash with a party or the end of the space', () => {
    const devices = ['00DB120000000002', '00DB120000000001'] as Eui64[]
    expect([...hubEuis(devices, new Set())]).toEqual([
      ['00DB120000000002', { chf: '00DB120000000003', gpf: '00DB120000000004' }],
      ['00DB120000000001', { chf: '00DB120000000005', gpf: '00DB120000000006' }],
    ])
    expect(() => hubEuis(devices, new Set(['00DB120000000005']))).toThrow(/already a party/)
    expect(() => hubEuis(['FFFFFFFFFFFFFFFE' as Eui64], new Set())).toThrow(/run past/)
    // One hub a premises, numbered after the highest device of all (here a GSME sharing the first hub).
    expect([...hubEuis([devices[1]!], new Set(), devices)]).toEqual([
      ['00DB120000000001', { chf: '00DB120000000003', gpf: '00DB120000000004' }],
    ])
  })

  it('puts an ESME and the GSME the PKI lists right after it on one hub; any other device on its own', () => {
    const [e1, g1, g2, e2, e3, g3] = ['E1', 'G1', 'G2', 'E2', 'E3', 'G3'] as Eui64[]
    const typeOf = (eui: Eui64) => (eui.startsWith('G') ? 'GSME' : 'ESME') as 'ESME' | 'GSME'
    expect(premisesOf([e1!, g1!, g2!, e2!, e3!, g3!], typeOf)).toEqual([[e1, g1], [g2], [e2], [e3, g3]])
    expect(premisesOf([g1!, e1!], typeOf)).toEqual([[g1], [e1]])
  })

  it('gives a device the same 16-byte install code from the same key, another from another', () => {
    const ka = new Uint8Array(32).fill(7)
    expect(installCodeFor(ESME_EUI, ka)).toEqual(installCodeFor(ESME_EUI, ka))
    expect(installCodeFor(ESME_EUI, ka)).toHaveLength(16)
    expect(installCodeFor(ESME_EUI, new Uint8Array(32).fill(8))).not.toEqual(installCodeFor(ESME_EUI, ka))
  })
})

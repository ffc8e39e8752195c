import { createPpmid, nextWake, type PpmidState, stepPpmid, UTRN_ALERTS } from '@smetsim/device'
import { decodeFrame, decodePayload } from '@smetsim/gbcs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_FRAME_BYTES } from './hub.ts'
import {
  ARM,
  command,
  DISABLE,
  deviceWithCertificate,
  ESME_EUI,
  GPF_EUI,
  GPF_KEYS,
  GSME_EUI,
  READ_SUPPLY,
  testHub,
} from './testing.ts'

const CODE = new Uint8Array(16).fill(0x30)
const MIN = 60_000
const READ_GAS_SUPPLY = { code: 0x0082, view: { name: 'GCS33 Read Supply Status', sequenceNumber: 0 } }
const READ_GAS_REGISTERS = { code: 0x0074, view: { name: 'GCS13a Read Import Registers', sequenceNumber: 0 } }

function alertCode(bytes: Uint8Array): string {
  const s = decodeFrame(bytes).signing
  return String(decodePayload(s.content, { messageCode: s.messageCode, cra: 'alert' }).useCase?.alertCode)
}

/** A hub with a joined ESME and GSME. */
function premises() {
  const t = testHub()
  const esme = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
  const gsme = deviceWithCertificate('GSME', GSME_EUI, { installCode: CODE })
  t.hub.attach(esme.state, { certificate: esme.certificate })
  t.hub.attach(gsme.state, { certificate: gsme.certificate })
  t.hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })
  t.hub.addDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE })
  expect(t.hub.isJoined(ESME_EUI) && t.hub.isJoined(GSME_EUI)).toBe(true)
  t.up.length = 0
  return t
}

describe('hub: routing between the WAN and the HAN', () => {
  it('hands an ESME command to the ESME at once and sends its response up with the WAN id', () => {
    const { hub, up } = premises()
    const esme = hub.device(ESME_EUI)!
    expect(hub.receive(command(ARM.code, ARM.view, esme, { counter: 1n }), 42)).toEqual({ kind: 'executed' })
    expect(up.map((u) => [u.kind, u.from, u.re])).toEqual([['response', ESME_EUI, 42]])
    expect(decodeFrame(up[0]!.bytes).signing.cra).toBe('response')
  })

  it('does not deliver to a device that has not joined, or is not there', () => {
    const { hub, up } = testHub()
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: new Uint8Array(16) })
    hub.attach(d.state, { certificate: d.certificate })
    hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE }) // wrong code: not joined
    up.length = 0
    expect(hub.receive(command(ARM.code, ARM.view, d.state, { counter: 1n }))).toMatchObject({
      kind: 'dropped',
      reason: 'not-joined',
    })
    const other = deviceWithCertificate('ESME', '00DB1234567890B0' as never)
    expect(hub.receive(command(ARM.code, ARM.view, other.state, { counter: 1n }))).toMatchObject({
      reason: 'unknown-recipient',
    })
    expect(up).toEqual([])
    expect(hub.drops).toEqual({ 'not-joined': 1, 'unknown-recipient': 1 })
  })

  it('drops garbage, truncated and oversized frames by reason and stays up', () => {
    const { hub, up } = premises()
    const good = command(READ_SUPPLY.code, READ_SUPPLY.view, hub.device(ESME_EUI)!, {
      counter: 1n,
      sign: false,
    })
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        expect(hub.receive(junk).kind).toBe('dropped')
      }),
      { numRuns: 200 },
    )
    for (let n = 0; n < good.length; n += 7)
      expect(hub.receive(good.subarray(0, n))).toMatchObject({ reason: 'malformed' })
    expect(hub.receive(new Uint8Array(MAX_FRAME_BYTES + 1))).toMatchObject({ reason: 'oversized' })
    expect(hub.receive('not bytes' as never)).toMatchObject({ reason: 'malformed' })
    expect(up).toEqual([])
    expect(hub.drops.oversized).toBe(1)
    // and it still works
    expect(hub.receive(good)).toEqual({ kind: 'executed' })
  })

  it('answers a QoS 1 duplicate (same WAN id) with the same response, without running it again', () => {
    const { hub, up } = premises()
    const frame = command(ARM.code, ARM.view, hub.device(ESME_EUI)!, { counter: 1n })
    hub.receive(frame, 9)
    expect(hub.receive(frame, 9)).toMatchObject({ kind: 'dropped', reason: 'duplicate' })
    expect(up.map((u) => u.re)).toEqual([9, 9])
    expect(up[0]!.bytes).toEqual(up[1]!.bytes)
    // the device saw it once: no replay alert
    expect(up.every((u) => u.kind === 'response')).toBe(true)
  })
})

describe('hub: GPF', () => {
  it('holds a GSME command until the GSME wakes, then delivers it and sends the response up', () => {
    const { hub, scheduler, up } = premises()
    const gsme = hub.device(GSME_EUI)!
    expect(
      hub.receive(command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, gsme, { counter: 1n, sign: false }), 5),
    ).toEqual({ kind: 'queued' })
    expect(up).toEqual([])
    expect(hub.gsmeQueueLength).toBe(1)
    scheduler.run({ until: scheduler.now() + 30 * MIN })
    expect(hub.gsmeQueueLength).toBe(0)
    expect(up.map((u) => [u.kind, u.from, u.re])).toEqual([['response', GSME_EUI, 5]])
  })

  it('a future-dated command the GSME collects runs at its own time, not at a later wake-up', () => {
    const { hub, scheduler, up } = premises()
    scheduler.run({ until: scheduler.now() }) // first steps as attached
    const gsme = hub.device(GSME_EUI)!
    const toCredit = {
      name: 'GCS02 Set Payment Mode to Credit',
      sequenceNumber: 0,
      providerId: 0,
      issuerEventId: 473385600,
      paymentMode: 'credit',
      disablementThreshold: -1,
    }
    // Collected at the GSME's next wake-up; due 10 minutes after it, before the wake-up after.
    const wake = scheduler.next()!
    const due = wake + 10 * MIN
    hub.receive(
      command(
        0x006c,
        { ...toCredit, executionDateTime: new Date(due).toISOString().replace('.000', '') },
        gsme,
        { counter: 1n },
      ),
    )
    scheduler.run({ until: wake })
    expect(hub.device(GSME_EUI)!.pending.map((p) => p.at)).toContain(due)
    up.length = 0
    scheduler.run({ until: due - 1 })
    expect(up.filter((u) => u.kind === 'alert')).toEqual([])
    scheduler.run({ until: due })
    expect(up.filter((u) => u.kind === 'alert').map((u) => alertCode(u.bytes))).toEqual(['8F66'])
  })

  it('drops a command the GSME does not collect with 0x819D, and raises 0x8F29 after three missed wake-ups', () => {
    const { hub, scheduler, up } = premises()
    const gsme = hub.device(GSME_EUI)!
    hub.setReachable(GSME_EUI, false)
    hub.receive(command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, gsme, { counter: 1n, sign: false }))
    scheduler.run({ until: scheduler.now() + 31 * MIN })
    expect(up).toEqual([]) // one missed wake-up: it may still come
    scheduler.run({ until: scheduler.now() + 60 * MIN })
    const codes = up.map((u) => [u.from, alertCode(u.bytes)])
    expect(codes).toEqual([
      [GPF_EUI, '819D'],
      [GPF_EUI, '8F29'],
    ])
    expect(hub.gsmeQueueLength).toBe(0)
    // 0x8F29 is raised once, and not again while it stays lost
    scheduler.run({ until: scheduler.now() + 120 * MIN })
    expect(up).toHaveLength(2)
    // heard again: the next command is collected
    hub.setReachable(GSME_EUI, true)
    hub.receive(command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, gsme, { counter: 2n, sign: false }), 6)
    scheduler.run({ until: scheduler.now() + 30 * MIN })
    expect(up[2]).toMatchObject({ kind: 'response', re: 6 })
  })

  it('a GSME whose battery goes flat while nothing waits for it is missed from its first wake-up after: 0x8F29 at the third', () => {
    const t = testHub()
    const gsme = deviceWithCertificate('GSME', GSME_EUI, { installCode: CODE })
    const flat = t.scheduler.now() + 86_400_000
    const state = {
      ...gsme.state,
      wake: { ...gsme.state.wake!, batteryDays: 1, batteryAt: t.scheduler.now() },
    }
    t.hub.attach(state, { certificate: gsme.certificate })
    t.hub.addDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE })
    expect(t.hub.isJoined(GSME_EUI)).toBe(true)
    const fromGpf = () => t.up.filter((u) => u.from === GPF_EUI).map((u) => alertCode(u.bytes))
    t.scheduler.run({ until: flat - 1 })
    // Heard until then: the mirror is as of its last wake-up before the battery went flat.
    expect(t.hub.state.gpf!.mirrorAt).toBe(nextWake(state, flat - 1 - 30 * MIN))
    t.scheduler.run({ until: flat + 59 * MIN }) // two missed wake-ups at most
    expect(fromGpf()).toEqual([])
    t.scheduler.run({ until: flat + 90 * MIN })
    expect(fromGpf()).toEqual(['8F29'])
    expect(t.hub.state.gpf!.mirrorAt).toBeLessThan(flat)
  })

  it('bounds the GSME queue (queue-full)', () => {
    const { hub } = premises()
    const gsme = hub.device(GSME_EUI)!
    for (let i = 1; i <= 16; i++)
      expect(
        hub.receive(
          command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, gsme, { counter: BigInt(i), sign: false }),
        ).kind,
      ).toBe('queued')
    expect(
      hub.receive(command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, gsme, { counter: 17n, sign: false })),
    ).toMatchObject({ reason: 'queue-full' })
  })

  it('answers a GPF read at once from the mirror, as the GPF (its EUI, its MAC), while the GSME sleeps', () => {
    const { hub, up, scheduler } = premises()
    const gsme = hub.device(GSME_EUI)!
    const asGpf = { ...gsme, eui: GPF_EUI, keys: GPF_KEYS }
    expect(
      hub.receive(
        command(READ_GAS_REGISTERS.code, READ_GAS_REGISTERS.view, asGpf, { counter: 1n, sign: false }),
        3,
      ),
    ).toEqual({
      kind: 'executed',
    })
    expect(up.map((u) => [u.kind, u.from, u.re])).toEqual([['response', GPF_EUI, 3]])
    expect(hub.gsmeQueueLength).toBe(0)
    // the GPF keeps its own anti-replay counter
    up.length = 0
    expect(
      hub.receive(
        command(READ_GAS_REGISTERS.code, READ_GAS_REGISTERS.view, asGpf, { counter: 1n, sign: false }),
      ),
    ).toEqual({
      kind: 'rejected',
      reason: 'replay',
    })
    expect(up.map((u) => [u.from, alertCode(u.bytes)])).toEqual([[GPF_EUI, '8F53']])
    // a command that is not a GPF read is not executed on the mirror
    const before = hub.device(GSME_EUI)
    expect(
      hub.receive(command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, asGpf, { counter: 2n, sign: false }))
        .kind,
    ).toBe('not-emulated')
    expect(hub.device(GSME_EUI)).toBe(before)
    scheduler.run({ until: scheduler.now() + 30 * MIN })
    expect(up).toHaveLength(1)
  })
})

describe('hub: time', () => {
  it('wakes devices only at the instants they ask for, on the scheduler', () => {
    const { hub, scheduler } = premises()
    scheduler.run({ until: scheduler.now() }) // each device's first step, as it is attached
    const gsme = hub.device(GSME_EUI)
    const day = scheduler.now() + 86_400_000
    const r = scheduler.run({ until: day })
    // A credit-mode ESME has nothing due; the GSME's radio wakes every 30 minutes, but with nothing
    // waiting for it in the GPF and in reach none of them does anything but set the GPF mirror,
    // so none has an event (the mirror is brought up to the last one when read, below). Nothing
    // steps its firmware (nothing due).
    expect(r.events).toBe(0)
    expect(hub.device(GSME_EUI)).toBe(gsme)
    const wakeUp = nextWake(gsme!, day - 30 * MIN)!
    expect(hub.state.gpf!.mirrorAt).toBe(wakeUp)
    // A command for it: its next wake-up has an event again, and collects it.
    hub.receive(command(READ_GAS_SUPPLY.code, READ_GAS_SUPPLY.view, gsme!, { counter: 1n, sign: false }))
    expect(scheduler.next()).toBe(nextWake(gsme!, day))
    expect(scheduler.run({ until: day + 30 * MIN }).events).toBe(1)
    expect(hub.gsmeQueueLength).toBe(0)
  })
})

describe('hub: the GPF mirror between firmware steps', () => {
  it('is the GSME as of its last radio wake-up, though nothing stepped its firmware since', () => {
    const { hub, scheduler } = premises()
    scheduler.run({ until: scheduler.now() })
    const stepped = hub.device(GSME_EUI)!.account.at
    scheduler.run({ until: scheduler.now() + 3 * 60 * MIN })
    const gpf = hub.state.gpf!
    expect(gpf.mirror).toBe(hub.device(GSME_EUI)) // the same state object: not stepped
    expect(gpf.mirror!.account.at).toBe(stepped)
    // ...but as of the last wake-up, which gpfRead settles it to.
    expect(gpf.mirrorAt).toBeGreaterThan(scheduler.now() - 30 * MIN)
    expect(gpf.mirrorAt).toBeLessThanOrEqual(scheduler.now())
  })
})

describe('hub: devices installed before the run', () => {
  it('are in the CHF Device Log and join; no CS14 alert is raised for them, and bad entries are refused', () => {
    const { hub, up } = testHub({ logCapacity: 1 })
    const esme = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
    hub.attach(esme.state, { joined: true })
    const counter = hub.state.chf.alertCounter
    expect(hub.addInstalledDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })).toEqual({
      accepted: true,
    })
    expect(hub.deviceLog.entries.map((e) => e.eui)).toEqual([ESME_EUI])
    expect(hub.state.chf.alertCounter).toBe(counter)
    expect(up).toEqual([])
    expect(
      hub.receive(command(READ_SUPPLY.code, READ_SUPPLY.view, hub.device(ESME_EUI)!, { counter: 1n })),
    ).toEqual({
      kind: 'executed',
    })
    const full = hub.addInstalledDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE })
    expect(full).toEqual({ accepted: false, reason: 'the CHF Device Log is full' })
    expect(
      hub.addInstalledDevice({ deviceId: 'nonsense' as never, deviceType: 'GSME', installCode: CODE }),
    ).toMatchObject({
      accepted: false,
    })
    expect(hub.deviceLog.entries).toHaveLength(1)
  })
})

describe('hub: local consumer input (HAN side, not the WAN)', () => {
  it('the supply button enables an armed ESME; nothing goes up for it', () => {
    const { hub, up } = premises()
    const esme = hub.device(ESME_EUI)!
    expect(hub.receive(command(DISABLE.code, DISABLE.view, esme, { counter: 1n }))).toEqual({
      kind: 'executed',
    })
    expect(hub.consumerInput(ESME_EUI, { kind: 'button' })).toMatchObject({ ok: true })
    expect(hub.device(ESME_EUI)!.supply).toBe('disabled') // the button enables only an armed supply
    expect(hub.receive(command(ARM.code, ARM.view, esme, { counter: 2n }))).toEqual({ kind: 'executed' })
    expect(hub.device(ESME_EUI)!.supply).toBe('armed')
    up.length = 0
    const r = hub.consumerInput(ESME_EUI, { kind: 'button' })
    expect(r).toMatchObject({ ok: true, alerts: [] })
    expect(hub.device(ESME_EUI)!.supply).toBe('enabled')
    expect(up).toEqual([])
  })

  it('a UTRN the meter refuses raises its GBCS alert (0x8F63 not authentic), sent up from the device', () => {
    const { hub, up } = premises()
    const r = hub.consumerInput(ESME_EUI, { kind: 'utrn', digits: '12345678901234567890' })
    expect(r).toMatchObject({ ok: true, alerts: [UTRN_ALERTS.notAuthentic] })
    expect(up.map((u) => [u.kind, u.from])).toEqual([['alert', ESME_EUI]])
    expect(alertCode(up[0]!.bytes)).toBe('8F63')
  })

  it('an unreachable meter still runs the input but nothing comes up from it', () => {
    const { hub, up } = premises()
    hub.setReachable(ESME_EUI, false)
    expect(hub.consumerInput(ESME_EUI, { kind: 'utrn', digits: '12345678901234567890' })).toMatchObject({
      ok: true,
      alerts: [UTRN_ALERTS.notAuthentic],
    })
    expect(up).toEqual([])
  })

  it('refuses, changing nothing, for a device not on the premises or not joined', () => {
    const { hub, up } = testHub()
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: new Uint8Array(16) })
    hub.attach(d.state, { certificate: d.certificate })
    hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE }) // wrong code: not joined
    up.length = 0
    const before = hub.device(ESME_EUI)
    expect(hub.consumerInput(ESME_EUI, { kind: 'button' })).toEqual({ ok: false, reason: 'not-joined' })
    expect(hub.consumerInput('00DB1234567890B0' as never, { kind: 'acceptEmergencyCredit' })).toEqual({
      ok: false,
      reason: 'unknown-device',
    })
    expect(hub.device(ESME_EUI)).toBe(before)
    expect(up).toEqual([])
  })
})

const PPMID_EUI = '00DB1234567890A4' as never

function pairedPpmid(...meters: [string, 'ESME' | 'GSME'][]): PpmidState {
  let p = createPpmid(PPMID_EUI)
  for (const [meter, meterType] of meters)
    p = stepPpmid(p, { kind: 'pair', meter: meter as never, meterType }).state
  return p
}

/** The premises with a joined PPMID paired with the ESME and the GSME. */
function premisesWithPpmid() {
  const t = premises()
  t.hub.attachPpmid(pairedPpmid([ESME_EUI, 'ESME'], [GSME_EUI, 'GSME']), { joined: true })
  return t
}

describe('hub: a PPMID passes the consumer’s requests to its paired meter', () => {
  it('its enable-supply button (PECS03) enables an armed ESME, and its display shows the result', () => {
    const { hub, up } = premisesWithPpmid()
    const esme = hub.device(ESME_EUI)!
    hub.receive(command(DISABLE.code, DISABLE.view, esme, { counter: 1n }))
    hub.receive(command(ARM.code, ARM.view, esme, { counter: 2n }))
    expect(hub.device(ESME_EUI)!.supply).toBe('armed')
    up.length = 0
    const r = hub.consumerInput(PPMID_EUI, { kind: 'button' })
    expect(r).toMatchObject({ ok: true, meter: ESME_EUI, alerts: [] })
    expect(hub.device(ESME_EUI)!.supply).toBe('enabled')
    expect(hub.ppmid(PPMID_EUI)!.display[ESME_EUI]).toMatchObject({ supply: 'enabled' })
    expect(up).toEqual([])
  })

  it('a UTRN typed on it goes to the ESME, whose refusal (0x8F63) goes up the WAN from the ESME', () => {
    const { hub, up } = premisesWithPpmid()
    const r = hub.consumerInput(PPMID_EUI, { kind: 'utrn', digits: '12345678901234567890' })
    expect(r).toMatchObject({ ok: true, meter: ESME_EUI, alerts: [UTRN_ALERTS.notAuthentic] })
    expect(up.map((u) => [u.kind, u.from])).toEqual([['alert', ESME_EUI]])
    expect(alertCode(up[0]!.bytes)).toBe('8F63')
  })

  it('to the GSME: emergency credit (PCS02) is passed on; enabling the gas supply is refused by the PPMID', () => {
    const { hub } = premisesWithPpmid()
    expect(
      hub.consumerInput(PPMID_EUI, { kind: 'acceptEmergencyCredit' }, { meter: GSME_EUI }),
    ).toMatchObject({
      ok: true,
      meter: GSME_EUI,
    })
    const gsme = hub.device(GSME_EUI)
    const ppmid = hub.ppmid(PPMID_EUI)
    expect(hub.consumerInput(PPMID_EUI, { kind: 'button' }, { meter: GSME_EUI })).toEqual({
      ok: false,
      reason: 'refused',
      detail: 'a gas supply is enabled on the meter only',
    })
    expect(hub.device(GSME_EUI)).toBe(gsme)
    expect(hub.ppmid(PPMID_EUI)).toBe(ppmid)
  })

  it('refuses, changing nothing: unjoined PPMID, no paired meter, meter out of reach or not on this HAN', () => {
    const { hub, up } = premises()
    hub.attachPpmid(pairedPpmid([ESME_EUI, 'ESME']), { joined: false })
    expect(hub.consumerInput(PPMID_EUI, { kind: 'button' })).toEqual({ ok: false, reason: 'not-joined' })

    const lonely = premises()
    lonely.hub.attachPpmid(pairedPpmid(), { joined: true })
    expect(lonely.hub.consumerInput(PPMID_EUI, { kind: 'button' })).toMatchObject({
      ok: false,
      reason: 'refused',
    })

    const far = premisesWithPpmid()
    far.hub.setReachable(ESME_EUI, false)
    const esme = far.hub.device(ESME_EUI)
    const ppmid = far.hub.ppmid(PPMID_EUI)
    expect(far.hub.consumerInput(PPMID_EUI, { kind: 'utrn', digits: '12345678901234567890' })).toMatchObject({
      ok: false,
      reason: 'unreachable',
    })
    expect(
      far.hub.consumerInput(PPMID_EUI, { kind: 'button' }, { meter: '00DB1234567890B0' as never }),
    ).toMatchObject({
      ok: false,
      reason: 'refused', // not paired with it: the PPMID sends nothing
    })
    expect(far.hub.device(ESME_EUI)).toBe(esme)
    expect(far.hub.ppmid(PPMID_EUI)).toBe(ppmid)

    const away = premises()
    away.hub.attachPpmid(pairedPpmid(['00DB1234567890B0', 'ESME']), { joined: true })
    expect(away.hub.consumerInput(PPMID_EUI, { kind: 'button' })).toMatchObject({
      ok: false,
      reason: 'unreachable',
    })
    expect([up, far.up, away.up, lonely.up].every((u) => u.length === 0)).toBe(true)
  })

  it('is no meter: not a device() state, a WAN frame for it is not emulated, and it cannot be attached twice', () => {
    const { hub, up } = premisesWithPpmid()
    expect(hub.device(PPMID_EUI)).toBeUndefined()
    expect(hub.isJoined(PPMID_EUI)).toBe(true)
    const toPpmid = { ...hub.device(ESME_EUI)!, eui: PPMID_EUI } // addressed to the PPMID
    expect(hub.receive(command(READ_SUPPLY.code, READ_SUPPLY.view, toPpmid, { counter: 1n }))).toMatchObject({
      kind: 'not-emulated',
    })
    expect(up).toEqual([])
    expect(() => hub.attachPpmid(createPpmid(PPMID_EUI))).toThrow(/already on hub/)
    hub.detach(PPMID_EUI)
    expect(hub.ppmid(PPMID_EUI)).toBeUndefined()
  })
})

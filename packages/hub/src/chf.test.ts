import { type Eui64, toHex } from '@smetsim/core'
import { decodeFrame, decodePayload, messageKey, verifyMac } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { CS14, createChf, DEVICE_LOG_CHANGED, handleChfFrame, JOIN_FAILED, JOIN_SUCCEEDED } from './chf.ts'
import {
  backend,
  CCS01,
  CCS02,
  CHF_EUI,
  CHF_KA,
  ccs01Payload,
  ccs02Payload,
  chfCells,
  chfCommand,
  deviceWithCertificate,
  ESME_EUI,
  GSME_EUI,
  OTHER_CA,
  PARTIES,
  T0,
  testHub,
} from './testing.ts'

const CODE = new Uint8Array(16).fill(0x30)
const alertCodes = (up: { kind: string; bytes: Uint8Array }[]) =>
  up
    .filter((u) => u.kind === 'alert')
    .map((u) => {
      const s = decodeFrame(u.bytes).signing
      const p = decodePayload(s.content, { messageCode: s.messageCode, cra: 'alert' })
      return String(p.useCase?.alertCode)
    })

/** The ACB can check what the CHF sends it: MACed with the static ECDH of the two keys. */
function macVerifiesAtAcb(bytes: Uint8Array): boolean {
  const f = decodeFrame(bytes)
  const key = messageKey(
    f.signing,
    backend.importPrivateKey(PARTIES.acb.ka.privateKey),
    backend.importPrivateKey(CHF_KA).publicKey,
    backend,
  )
  return verifyMac(f, key)
}

describe('CHF: CCS01 / CCS02 as GBCS frames from the ACB', () => {
  it('CCS01 adds the device, answers success for each part, and raises CS14 with the log', () => {
    const { hub, up } = testHub()
    const d = hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 1n), 7)
    expect(d).toEqual({ kind: 'executed' })
    expect(hub.deviceLog.entries.map((e) => e.eui)).toEqual([ESME_EUI])
    const [response, alert] = up
    expect(response!.kind).toBe('response')
    expect(response!.re).toBe(7)
    const r = decodeFrame(response!.bytes).signing
    expect(r.originator).toBe(CHF_EUI)
    expect(r.recipient).toBe(PARTIES.acb.eui)
    expect(r.supplementary?.remotePartyId).toBe(PARTIES.supplierA.eui)
    expect(macVerifiesAtAcb(response!.bytes)).toBe(true)
    const results = (
      decodePayload(r.content, { messageCode: CCS01, cra: 'response' }).structure as { results: unknown }
    ).results
    expect(results).toEqual([
      { kind: 'action', result: 0 },
      { kind: 'set', result: 0 },
      { kind: 'set', result: 0 },
    ])
    const a = decodeFrame(alert!.bytes).signing
    expect(a.messageCode).toBe(CS14)
    expect(macVerifiesAtAcb(alert!.bytes)).toBe(true)
    expect(alertCodes(up)).toEqual(['8F12'])
    // The backup names the device with an empty hashed link key: it has not joined.
    const body = JSON.stringify(decodePayload(a.content, { messageCode: CS14, cra: 'alert' }).structure)
    expect(body).toContain(ESME_EUI)
    expect(body).toContain('"value":""')
  })

  it('CCS01 for a device already in the log changes nothing, discards the code and still succeeds', () => {
    const { hub, up } = testHub()
    hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 1n))
    const before = hub.deviceLog
    up.length = 0
    expect(
      hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, new Uint8Array(16).fill(0x41)), 2n)).kind,
    ).toBe('executed')
    expect(hub.deviceLog.entries).toEqual(before.entries)
    expect(alertCodes(up)).toEqual([]) // no change, no CS14
  })

  it('CCS02 removes a device (success) and raises CS14; an absent device answers hardware-fault', () => {
    const { hub, up } = testHub()
    hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 1n))
    up.length = 0
    hub.receive(chfCommand(CCS02, ccs02Payload(ESME_EUI), 2n))
    expect(hub.deviceLog.entries).toEqual([])
    expect(alertCodes(up)).toEqual(['8F12'])
    up.length = 0
    hub.receive(chfCommand(CCS02, ccs02Payload(ESME_EUI), 3n))
    const r = decodeFrame(up[0]!.bytes).signing
    expect(decodePayload(r.content, { messageCode: CCS02, cra: 'response' }).structure).toMatchObject({
      results: [{ kind: 'action', result: 1 }],
    })
    expect(alertCodes(up)).toEqual([])
  })

  // Negative cases: each refusal raises the device's alert for that check and changes nothing.
  const refusals: [string, () => Uint8Array, string, string][] = [
    [
      'a MAC by another key',
      () => chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 1n, { macBy: PARTIES.supplierA.ka.privateKey }),
      'mac',
      '8F3D',
    ],
    [
      'a supplier as originator (in no CHF cell)',
      () => chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 1n, { from: PARTIES.supplierA.eui }),
      'unknown-originator',
      '8F3D',
    ],
  ]
  for (const [what, frame, reason, alert] of refusals)
    it(`refuses ${what}: ${reason}, alert ${alert}, log unchanged`, () => {
      const { hub, up } = testHub()
      expect(hub.receive(frame())).toEqual({ kind: 'rejected', reason })
      expect(hub.deviceLog.entries).toEqual([])
      expect(up.filter((u) => u.kind === 'response')).toEqual([])
      expect(alertCodes(up)).toEqual([alert])
    })

  it('checks the recipient itself (0x8F53), and the hub does not pass on frames for nobody on its HAN', () => {
    const frame = chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 1n, { to: '00DB1234567890FF' as Eui64 })
    const chf = createChf({ eui: CHF_EUI, ka: CHF_KA, cells: chfCells() })
    const r = handleChfFrame(chf, frame, T0, { backend })
    expect([r.outcome, r.reason, r.alerts.map((a) => a.code)]).toEqual(['rejected', 'recipient', [0x8f53]])
    expect(r.state.log).toBe(chf.log)
    const { hub, up } = testHub()
    expect(hub.receive(frame)).toMatchObject({ kind: 'dropped', reason: 'unknown-recipient' })
    expect(up).toEqual([])
  })

  it('refuses a replayed counter (0x8F53) and a frame with one byte flipped (0x8F3D)', () => {
    const { hub, up } = testHub()
    const first = chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE), 5n)
    hub.receive(first)
    up.length = 0
    const again = chfCommand(CCS02, ccs02Payload(ESME_EUI), 5n)
    expect(hub.receive(again)).toEqual({ kind: 'rejected', reason: 'replay' })
    const flipped = chfCommand(CCS02, ccs02Payload(ESME_EUI), 6n)
    flipped[flipped.length - 20]! ^= 1
    expect(hub.receive(flipped)).toEqual({ kind: 'rejected', reason: 'mac' })
    expect(hub.deviceLog.entries.map((e) => e.eui)).toEqual([ESME_EUI])
    expect(alertCodes(up)).toEqual(['8F53', '8F3D'])
  })

  it('answers a malformed register_device with type-unmatched and adds nothing', () => {
    const { hub, up } = testHub()
    const bad = ccs01Payload(ESME_EUI, CODE) as { data: unknown[] }
    bad.data[0] = { type: 'octetString', value: '00' }
    hub.receive(chfCommand(CCS01, bad as never, 1n))
    expect(hub.deviceLog.entries).toEqual([])
    const r = decodeFrame(up[0]!.bytes).signing
    expect(decodePayload(r.content, { messageCode: CCS01, cra: 'response' }).structure).toMatchObject({
      results: [{ kind: 'action', result: 12 }, { result: 0 }, { result: 0 }],
    })
  })

  it('refuses join_timeout 0 or above 3600 (DUIS JoinTimePeriod) in its set result', () => {
    const { hub, up } = testHub()
    hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE, 3601), 1n))
    const r = decodeFrame(up[0]!.bytes).signing
    expect(decodePayload(r.content, { messageCode: CCS01, cra: 'response' }).structure).toMatchObject({
      results: [{ result: 0 }, { kind: 'set', result: 250 }, { result: 0 }],
    })
  })
})

describe('CHF: joining the HAN', () => {
  it('a device with the right install code and certificate joins; 0x8F49 then CS14 with its hashed key', () => {
    const { hub, up } = testHub()
    const esme = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
    hub.attach(esme.state, { certificate: esme.certificate })
    expect(hub.isJoined(ESME_EUI)).toBe(false) // not in the log yet
    const outcome = hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })
    expect(outcome).toEqual({ accepted: true, joined: true })
    expect(hub.isJoined(ESME_EUI)).toBe(true)
    expect(alertCodes(up)).toEqual(['8F12', '8F49', '8F12'])
    const entry = hub.deviceLog.entries[0]!
    expect(entry.linkKeyHash).toHaveLength(16)
    expect(entry.installCode).toBeUndefined()
  })

  const failures: [string, () => ReturnType<typeof deviceWithCertificate>, string][] = [
    [
      'a wrong install code',
      () => deviceWithCertificate('ESME', ESME_EUI, { installCode: new Uint8Array(16) }),
      'install-code',
    ],
    [
      'a certificate for another EUI',
      () => deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE, certEui: GSME_EUI }),
      'certificate-eui',
    ],
    [
      'a certificate from an untrusted CA',
      () => deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE, ca: OTHER_CA }),
      'certificate-unknown-issuer',
    ],
  ]
  for (const [what, make, reason] of failures)
    it(`refuses ${what}: joined false (${reason}), 0x8F48, commands not delivered`, () => {
      const { hub, up } = testHub()
      const d = make()
      hub.attach(d.state, { certificate: d.certificate })
      expect(hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })).toEqual({
        accepted: true,
        joined: false,
        reason,
      })
      expect(alertCodes(up)).toEqual(['8F12', '8F48'])
      expect(hub.isJoined(ESME_EUI)).toBe(false)
    })

  it("refuses a certificate whose key is not the device's own (certificate-key) and one missing", () => {
    const { hub } = testHub()
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
    const other = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
    hub.attach(d.state, { certificate: other.certificate })
    expect(hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE }).reason).toBe(
      'certificate-key',
    )
    const { hub: hub2 } = testHub()
    hub2.attach(d.state)
    expect(hub2.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE }).reason).toBe(
      'certificate-missing',
    )
  })

  it('a device that comes after its join window closed is not let in (window-closed, 0x8F48)', () => {
    const { hub, scheduler, up } = testHub()
    hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE, 90), 1n)) // 90 s window
    scheduler.run({ until: scheduler.now() + 90_000 })
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE, now: scheduler.now() })
    up.length = 0
    hub.attach(d.state, { certificate: d.certificate })
    expect(hub.isJoined(ESME_EUI)).toBe(false)
    expect(alertCodes(up)).toEqual(['8F48'])
  })

  it('a device inside its window joins when it is powered on after CCS01', () => {
    const { hub, scheduler } = testHub()
    hub.receive(chfCommand(CCS01, ccs01Payload(ESME_EUI, CODE, 90), 1n))
    scheduler.run({ until: scheduler.now() + 89_000 })
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE, now: scheduler.now() })
    hub.attach(d.state, { certificate: d.certificate })
    expect(hub.isJoined(ESME_EUI)).toBe(true)
  })

  it('a removed device goes to the historic log and may resume with its old key in the first half of a new window', () => {
    const { hub, scheduler } = testHub()
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
    hub.attach(d.state, { certificate: d.certificate })
    hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })
    const hash = toHex(hub.deviceLog.entries[0]!.linkKeyHash!)
    hub.removeDevice(ESME_EUI)
    expect(hub.deviceLog.historic.map((h) => [h.eui, toHex(h.linkKeyHash)])).toEqual([[ESME_EUI, hash]])
    hub.detach(ESME_EUI)
    // Re-added with a wrong install code: within the first half it still joins, on its old key.
    hub.addDevice({
      deviceId: ESME_EUI,
      deviceType: 'ESME',
      installCode: new Uint8Array(16),
      joinTimeout: 100,
    })
    scheduler.run({ until: scheduler.now() + 40_000 })
    const again = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE, now: scheduler.now() })
    hub.attach(again.state, { certificate: again.certificate })
    expect(hub.isJoined(ESME_EUI)).toBe(true)
    expect(toHex(hub.deviceLog.entries[0]!.linkKeyHash!)).toBe(hash)
  })

  it('refuses a full log and a join timeout out of range, in-process, changing nothing', () => {
    const { hub } = testHub({ logCapacity: 1 })
    expect(hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE }).accepted).toBe(true)
    expect(hub.addDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE })).toEqual({
      accepted: false,
      reason: 'the CHF Device Log is full',
    })
    expect(
      hub.addDevice({ deviceId: GSME_EUI, deviceType: 'GSME', installCode: CODE, joinTimeout: 0 }).accepted,
    ).toBe(false)
    expect(hub.addDevice({ deviceId: 'nope' as Eui64, deviceType: 'GSME', installCode: CODE }).accepted).toBe(
      false,
    )
    expect(hub.deviceLog.entries).toHaveLength(1)
  })

  it('raises alerts the ACB can verify (0x8F48 / 0x8F49 MACed to the ACB)', () => {
    const { hub, up } = testHub()
    const d = deviceWithCertificate('ESME', ESME_EUI, { installCode: CODE })
    hub.attach(d.state, { certificate: d.certificate })
    hub.addDevice({ deviceId: ESME_EUI, deviceType: 'ESME', installCode: CODE })
    for (const u of up) expect(macVerifiesAtAcb(u.bytes)).toBe(true)
    expect(JOIN_SUCCEEDED).toBe(0x8f49)
    expect(JOIN_FAILED).toBe(0x8f48)
    expect(DEVICE_LOG_CHANGED).toBe(0x8f12)
  })
})

import { createScheduler, type Eui64 } from '@smetsim/core'
import { decodeFrame } from '@smetsim/gbcs'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Hub, type Uplink } from '../hub.ts'
import {
  ARM,
  backend,
  CHF_KA,
  chfCells,
  command,
  DEVICE_CA,
  deviceWithCertificate,
  GPF_KEYS,
  READ_SUPPLY,
  T0,
} from '../testing.ts'
import { aedesBroker, mosquittoBroker, mosquittoPath, type TestBroker } from './brokers.test-support.ts'
import { decodeEnvelope, type Envelope, encodeEnvelope, MAX_ENVELOPE_BYTES } from './envelope.ts'
import { createInProcessWan } from './in-process.ts'
import { downTopic, MqttHeadEnd, MqttHubLink, upTopic } from './mqtt.ts'

const CODE = new Uint8Array(16).fill(0x30)
const MIN = 60_000

/** Premises i: its CHF, GPF, ESME and GSME EUIs. */
const euis = (i: number) => {
  const n = (k: number) => `00DB12${(i * 16 + k).toString(16).toUpperCase().padStart(10, '0')}` as Eui64
  return { chf: n(2), gpf: n(3), esme: n(0), gsme: n(1) }
}

function makeHub(i: number, scheduler: ReturnType<typeof createScheduler>, uplink: (u: Uplink) => void) {
  const e = euis(i)
  return new Hub({
    scheduler,
    chf: { eui: e.chf, ka: CHF_KA, cells: chfCells() },
    gpf: { eui: e.gpf, keys: GPF_KEYS },
    deviceCas: [DEVICE_CA.certificate],
    uplink,
    backend,
  })
}

/** The ESME (and GSME) of premises i, attached; the head end then adds them with SR 8.11. */
function attachDevices(hub: Hub, i: number) {
  const e = euis(i)
  const esme = deviceWithCertificate('ESME', e.esme, { installCode: CODE })
  const gsme = deviceWithCertificate('GSME', e.gsme, { installCode: CODE })
  hub.attach(esme.state, { certificate: esme.certificate })
  hub.attach(gsme.state, { certificate: gsme.certificate })
}

describe('WAN in-process', () => {
  it('carries 8.11, commands, late GSME responses and alerts between head end and hubs', async () => {
    const scheduler = createScheduler({ start: T0 })
    const wan = createInProcessWan(scheduler)
    const hubs = [0, 1].map((i) => makeHub(i, scheduler, wan.uplinkFor(euis(i).chf)))
    for (const [i, h] of hubs.entries()) {
      wan.register(h)
      attachDevices(h, i)
    }
    const alerts: Eui64[] = []
    wan.headEnd.onAlert((a) => alerts.push(a.from))
    const e = euis(1)
    expect(
      await wan.headEnd.addDevice(e.chf, { deviceId: e.esme, deviceType: 'ESME', installCode: CODE }),
    ).toEqual({
      accepted: true,
      joined: true,
    })
    await wan.headEnd.addDevice(e.chf, { deviceId: e.gsme, deviceType: 'GSME', installCode: CODE })
    expect(alerts).toEqual([e.chf, e.chf, e.chf, e.chf, e.chf, e.chf]) // 8F12, 8F49, 8F12 for each
    const esme = hubs[1]!.device(e.esme)!
    const r = await wan.headEnd.send(e.chf, command(ARM.code, ARM.view, esme, { counter: 1n }))
    expect(decodeFrame(r!).signing.originator).toBe(e.esme)
    // To the GSME: answered when it wakes, in virtual time.
    const gsme = hubs[1]!.device(e.gsme)!
    const pending = wan.headEnd.send(
      e.chf,
      command(0x0082, { name: 'GCS33 Read Supply Status', sequenceNumber: 0 }, gsme, {
        counter: 1n,
        sign: false,
      }),
    )
    scheduler.run({ until: scheduler.now() + 30 * MIN })
    expect(decodeFrame((await pending)!).signing.originator).toBe(e.gsme)
    // Nothing comes back for a frame the hub drops, or for an unknown hub.
    expect(await wan.headEnd.send(e.chf, new Uint8Array([1, 2, 3]))).toBeUndefined()
    expect(await wan.headEnd.send(euis(9).chf, new Uint8Array([1]))).toBeUndefined()
    // A lost GSME: its command times out on the scheduler.
    hubs[1]!.setReachable(e.gsme, false)
    const lost = wan.headEnd.send(
      e.chf,
      command(0x0082, { name: 'GCS33 Read Supply Status', sequenceNumber: 0 }, gsme, {
        counter: 2n,
        sign: false,
      }),
    )
    scheduler.run({ until: scheduler.now() + 80 * MIN })
    expect(await lost).toBeUndefined()
  })
})

const mosquitto = mosquittoPath()
const inCi = process.env.CI === 'true'

describe('mosquitto is there in CI', () => {
  it.runIf(inCi)('is installed (.ci/run installs it)', () => {
    expect(mosquitto, 'mosquitto is missing: .ci/run must apt-get install it').toBeDefined()
  })
})

const brokers: [string, () => Promise<TestBroker>][] = [['aedes', aedesBroker]]
if (mosquitto || inCi) brokers.push(['mosquitto', () => mosquittoBroker(mosquitto ?? 'mosquitto-missing')])

for (const [name, start] of brokers)
  describe(`WAN over MQTT (${name})`, () => {
    let broker: TestBroker
    const scheduler = createScheduler({ start: T0 })
    let head: MqttHeadEnd
    const links: MqttHubLink[] = []
    const hubs: Hub[] = []
    const alerts: Eui64[] = []
    const prefix = `test-${name}-${process.pid}`

    beforeAll(async () => {
      broker = await start()
      head = new MqttHeadEnd(scheduler, {
        url: broker.url,
        prefix,
        clientId: `dcc-${prefix}`,
        responseTimeoutMs: 5 * MIN,
      })
      head.onAlert((a) => alerts.push(a.from))
      await head.connect()
      for (let i = 0; i < 3; i++) {
        const link = new MqttHubLink(euis(i).chf, { url: broker.url, prefix })
        const hub = makeHub(i, scheduler, link.uplink)
        attachDevices(hub, i)
        await link.serve(hub)
        links.push(link)
        hubs.push(hub)
      }
    })

    afterAll(async () => {
      await Promise.all(links.map((l) => l.close()))
      await head?.close()
      await broker?.close()
    })

    it('adds devices with SR 8.11 and runs commands end to end, QoS 1, with alerts', async () => {
      for (let i = 0; i < 3; i++) {
        const e = euis(i)
        expect(
          await head.addDevice(e.chf, { deviceId: e.esme, deviceType: 'ESME', installCode: CODE }),
        ).toEqual({
          accepted: true,
          joined: true,
        })
      }
      const answers = await Promise.all(
        hubs.map((h, i) =>
          head.send(euis(i).chf, command(ARM.code, ARM.view, h.device(euis(i).esme)!, { counter: 1n })),
        ),
      )
      for (const [i, a] of answers.entries()) expect(decodeFrame(a!).signing.originator).toBe(euis(i).esme)
      // An invalid frame gets a quick 'nothing' (the hub's ack says no response follows).
      expect(await head.send(euis(0).chf, new Uint8Array([0xdd, 0]))).toBeUndefined()
      await until(() => alerts.length >= 9)
      expect(alerts.filter((a) => a === euis(2).chf)).toHaveLength(3)
      await until(() => links.every((l) => l.unacknowledged === 0))
    })

    it('drops garbage, oversized and truncated envelopes and GBCS on the topics, counted, and stays up', async () => {
      const raw = await mqtt.connectAsync(broker.url, { clientId: `raw-${prefix}` })
      const topic = downTopic(prefix, euis(0).chf)
      const valid = encodeEnvelope({ t: 'cmd', id: 1, g: new Uint8Array([1, 2, 3]) })
      const junk = [
        Buffer.from('not cbor at all \xff\xfe'),
        Buffer.alloc(MAX_ENVELOPE_BYTES + 1, 0x41),
        Buffer.from(valid.subarray(0, valid.length - 2)),
        Buffer.from(encodeEnvelope({ t: 'rsp' } as never)),
        Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // an array 'of 2^64 items'
      ]
      for (const j of junk) await raw.publishAsync(topic, j, { qos: 1 })
      await raw.publishAsync(
        topic,
        Buffer.from(encodeEnvelope({ t: 'cmd', id: 77, g: new Uint8Array(40).fill(7) })),
        { qos: 1 },
      )
      await until(() => (hubs[0]!.drops.malformed ?? 0) >= 1)
      await raw.endAsync()
      const d = links[0]!.drops
      expect(d.oversized).toBe(1)
      expect((d['not-cbor'] ?? 0) + (d['bad-envelope'] ?? 0)).toBe(4)
      // still answers
      const h = hubs[0]!
      const r = await head.send(
        euis(0).chf,
        command(READ_SUPPLY.code, READ_SUPPLY.view, h.device(euis(0).esme)!, { counter: 2n, sign: false }),
      )
      expect(r).toBeDefined()
    })

    it('keeps one unacknowledged command per hub on the wire, so none overtakes another (GBCS anti-replay)', async () => {
      // A hub of its own, played by a raw client: the commands the head end puts on its down topic.
      const chf = euis(7).chf
      const raw = await mqtt.connectAsync(broker.url, { clientId: `lane-${prefix}` })
      const cmds: Extract<Envelope, { t: 'cmd' }>[] = []
      raw.on('message', (_t, payload) => {
        const d = decodeEnvelope(payload)
        if (d.ok && d.envelope.t === 'cmd') cmds.push(d.envelope)
      })
      await raw.subscribeAsync(downTopic(prefix, chf), { qos: 1 })
      const up = (e: Envelope) =>
        raw.publishAsync(upTopic(prefix, chf), Buffer.from(encodeEnvelope(e)), { qos: 1 })
      const answers = [1, 2, 3].map((n) => head.send(chf, new Uint8Array([n])))
      await until(() => cmds.length >= 1)
      await new Promise((r) => setTimeout(r, 50)) // mqtt.js clears its own timers as its close completes
      expect(cmds.map((e) => e.g[0])).toEqual([1]) // the others wait behind it
      // 'ack' with w (a response follows): the next command goes.
      await up({ t: 'ack', re: cmds[0]!.id, w: true })
      await until(() => cmds.length >= 2)
      await new Promise((r) => setTimeout(r, 50)) // mqtt.js clears its own timers as its close completes
      expect(cmds.map((e) => e.g[0])).toEqual([1, 2])
      // The response answers the first; a plain ack (nothing follows) answers the second 'none'.
      await up({ t: 'rsp', id: 1, re: cmds[0]!.id, f: chf, g: new Uint8Array([9]) })
      expect(await answers[0]).toEqual(new Uint8Array([9]))
      await up({ t: 'ack', re: cmds[1]!.id })
      expect(await answers[1]).toBeUndefined()
      await until(() => cmds.length >= 3)
      expect(cmds.map((e) => e.g[0])).toEqual([1, 2, 3])
      // A response without an ack before it acknowledges the command too.
      await up({ t: 'rsp', id: 2, re: cmds[2]!.id, f: chf, g: new Uint8Array([8]) })
      expect(await answers[2]).toEqual(new Uint8Array([8]))
      expect(head.outstanding).toBe(0)
      await raw.endAsync()
    })

    it('keeps a later response until acknowledged; one that answers at once is not kept, and a repeat gets it again', async () => {
      const e = euis(2)
      const link = links[2]!
      // A raw client on hub 2's topics: it plays a head end sending a command, and watches the
      // up traffic and the head end's acks.
      const raw = await mqtt.connectAsync(broker.url, { clientId: `keep-${prefix}` })
      const ups: Envelope[] = []
      const downs: Envelope[] = []
      raw.on('message', (topic, payload) => {
        const d = decodeEnvelope(payload)
        if (d.ok) (topic.endsWith('/up') ? ups : downs).push(d.envelope)
      })
      await raw.subscribeAsync([upTopic(prefix, e.chf), downTopic(prefix, e.chf)], { qos: 1 })
      const cmd = encodeEnvelope({
        t: 'cmd',
        id: 900_001,
        g: command(READ_SUPPLY.code, READ_SUPPLY.view, hubs[2]!.device(e.esme)!, {
          counter: 500n,
          sign: false,
        }),
      })
      await raw.publishAsync(downTopic(prefix, e.chf), Buffer.from(cmd), { qos: 1 })
      const answers = () => ups.filter((u) => u.t === 'rsp' && u.re === 900_001)
      await until(() => answers().length === 1)
      const first = answers()[0] as Extract<Envelope, { t: 'rsp' }>
      expect(first.k).toBeUndefined() // answered at once: not kept
      expect(link.unacknowledged).toBe(0)
      // The same command again (a head end's resend): the same response, and the meter ran it once.
      await raw.publishAsync(downTopic(prefix, e.chf), Buffer.from(cmd), { qos: 1 })
      await until(() => answers().length === 2)
      expect((answers()[1] as Extract<Envelope, { t: 'rsp' }>).g).toEqual(first.g)
      expect(hubs[2]!.drops.duplicate).toBeGreaterThanOrEqual(1)
      // A response that comes later (as the GPF's do) is kept, sent with k, until the head end acks it.
      link.uplink({ kind: 'response', from: e.gsme, bytes: new Uint8Array([1, 2, 3]), re: 900_002 })
      expect(link.unacknowledged).toBe(1)
      await until(() => link.unacknowledged === 0)
      const later = ups.find((u) => u.t === 'rsp' && u.re === 900_002) as Extract<Envelope, { t: 'rsp' }>
      expect(later.k).toBe(true)
      expect(downs.some((d) => d.t === 'ack' && d.re === later.id)).toBe(true)
      // The head end acknowledged neither immediate response.
      const immediate = answers().map((a) => (a as Extract<Envelope, { t: 'rsp' }>).id)
      expect(downs.some((d) => d.t === 'ack' && immediate.includes(d.re))).toBe(false)
      await raw.endAsync()
    })

    it('loses no acknowledged command when the broker restarts mid-run, and runs none twice', async () => {
      const e = euis(1)
      const h = hubs[1]!
      let counter = 10n
      const next = () => command(ARM.code, ARM.view, h.device(e.esme)!, { counter: counter++ })
      const before = alerts.length
      const sent: Promise<Uint8Array | undefined>[] = []
      for (let i = 0; i < 10; i++) sent.push(head.send(e.chf, next()))
      await new Promise((r) => setTimeout(r, 20))
      const restart = broker.restart(300)
      for (let i = 0; i < 10; i++) sent.push(head.send(e.chf, next())) // while it is down
      await restart
      const answers = await Promise.all(sent)
      expect(answers.every((a) => a !== undefined)).toBe(true)
      const counters = answers.map((a) => decodeFrame(a!).signing.originatorCounter)
      expect(new Set(counters).size).toBe(20)
      // No replay refusals: no command reached the meter twice.
      await new Promise((r) => setTimeout(r, 100))
      expect(alerts.slice(before)).toEqual([])
      expect(head.outstanding).toBe(0)
    })
  })

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('MQTT ends closed before they reach a broker', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

  it('fail at once with a clear error and leave no timer behind (head end and hub link)', async () => {
    const before = timers()
    const url = 'mqtt://127.0.0.1:1' // nobody listens on port 1
    const head = new MqttHeadEnd(createScheduler({ start: T0 }), { url })
    const link = new MqttHubLink(euis(0).chf, { url })
    const connecting = head.connect()
    const serving = link.serve(makeHub(0, createScheduler({ start: T0 }), link.uplink))
    const started = Date.now()
    await Promise.all([head.close(), link.close()])
    await expect(connecting).rejects.toThrow('the MQTT client was closed before it was connected')
    await expect(serving).rejects.toThrow('the MQTT client was closed before it was connected')
    expect(Date.now() - started).toBeLessThan(5_000)
    await new Promise((r) => setTimeout(r, 50)) // mqtt.js clears its own timers as its close completes
    expect(timers()).toBeLessThanOrEqual(before)
  })
})

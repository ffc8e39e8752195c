/** The DCC HTTP API through fastify's inject (no network), over a DCC with a fake transport. */
import type { Eui64 } from '@smetsim/core'
import { decodeFrame, encodeFrame, encodeSignedFrame, type PrivateKeyRef } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { UserDirectory } from '../access/users.ts'
import { createDcc } from '../dcc.ts'
import { createInProcessSigner } from '../gbcs/construct.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../gbcs/testing.ts'
import { SmartMeteringInventory } from '../registration/inventory.ts'
import { RegistrationData } from '../registration/registration.ts'
import { createMemorySat } from '../sat/sat.ts'
import { createDccHttpServer } from './server.ts'

const A = PARTIES.supplierA.eui
const MPAN = '1200000000001'
const deviceKa: Record<string, PrivateKeyRef> = { [ESME_EUI]: backend.generatePrivateKey() }

/** A canned device response to a command. */
function responseTo(bytes: Uint8Array): Uint8Array {
  const s = decodeFrame(bytes).signing
  return encodeFrame({
    signing: {
      cra: 'response',
      originatorCounter: s.originatorCounter,
      originator: s.recipient,
      recipient: s.originator,
      messageCode: s.messageCode,
      content: Uint8Array.of(0x01, 0x02),
      signature: { kind: 'empty' },
    },
  })
}

/** Supplier A registered for one commissioned ESME; no in-process signers (Critical requests go CV4/CV5). */
function fixture(options: { bodyLimit?: number } = {}) {
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', A, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  const inventory = new SmartMeteringInventory()
  inventory.add({ deviceId: ESME_EUI, type: 'ESME', mpxn: MPAN, status: 'Commissioned', at: '2024-01-02' })
  const sat = createMemorySat({ now: () => new Date(T0) })
  const sent: Uint8Array[] = []
  const dcc = createDcc({
    users: new UserDirectory([{ userId: A, name: 'Supplier A', roles: ['IS', 'GS'] }]),
    registration,
    inventory,
    sat,
    acb: ACB,
    cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
    deviceKeyAgreement: (id: Eui64) => deviceKa[id]?.publicKey,
    userCertificates: (id) =>
      id === A ? { digitalSigning: PARTIES.supplierA.ds.certificate.raw } : undefined,
    transport: async (_deviceId, bytes) => {
      sent.push(bytes)
      return responseTo(bytes)
    },
    now: () => T0,
    backend,
  })
  const app = createDccHttpServer(dcc, sat, options)
  return { app, dcc, sat, sent }
}

const rid = (counter: number) => `${A}:${ESME_EUI}:${counter}`
const request = (counter: number, srv: string, extra: object = {}) => ({
  requestId: rid(counter),
  role: 'IS',
  srv,
  commandVariant: ['7.1', '7.2', '7.3', '1.6'].includes(srv) ? 4 : 1,
  deviceType: 'ESME',
  ...extra,
})

describe('POST /service-requests', () => {
  it('a non-critical request completes: I0 with the decoded response', async () => {
    const { app, sent } = fixture()
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: request(30, '7.4') })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/application\/json/)
    const body = res.json()
    expect(body).toMatchObject({
      code: 'I0',
      requestId: rid(30),
      response: { cra: 'response', originator: ESME_EUI, recipient: A, messageCode: '0052' },
    })
    expect(body.responseBytes).toMatch(/^[0-9A-F]+$/)
    expect(sent).toHaveLength(1)
  })

  it('a refused request (unknown SRV) answers its DUIS code and appears in GET /sat', async () => {
    const { app } = fixture()
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: request(31, '99.9') })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ code: 'E2', requestId: rid(31), reason: expect.any(String) })
    const sat = await app.inject({ method: 'GET', url: `/sat?requestId=${encodeURIComponent(rid(31))}` })
    expect(sat.statusCode).toBe(200)
    const { count, records } = sat.json()
    expect(count).toBe(2)
    expect(records.map((r: { kind: string; code?: string }) => `${r.kind}:${r.code ?? ''}`)).toEqual([
      'request:',
      'decision:E2',
    ])
    const decisions = await app.inject({
      method: 'GET',
      url: `/sat?user=${A}&kind=decision&srv=99.9&limit=5`,
    })
    expect(decisions.json().records).toHaveLength(1)
    expect((await app.inject({ method: 'GET', url: '/sat?limit=1' })).json().count).toBe(1)
  })

  it('CV4 → CV5 over HTTP: I99 with the Pre-Command and signUrl, then the signed one completes', async () => {
    const { app, dcc, sent } = fixture()
    const cv4 = await app.inject({ method: 'POST', url: '/service-requests', payload: request(50, '7.3') })
    expect(cv4.statusCode).toBe(200)
    const body = cv4.json()
    expect(body).toMatchObject({ code: 'I99', awaitingSignature: true, requestId: rid(50) })
    expect(body.signUrl).toBe(`/service-requests/${encodeURIComponent(rid(50))}/signature`)
    expect(sent).toHaveLength(0)
    const pre = Buffer.from(body.preCommand, 'hex')
    const signed = encodeSignedFrame(decodeFrame(pre).signing, privateRef(PARTIES.supplierA.ds), backend)
    const cv5 = await app.inject({
      method: 'POST',
      url: body.signUrl,
      payload: { signedPreCommand: Buffer.from(signed).toString('hex') },
    })
    expect(cv5.statusCode).toBe(200)
    expect(cv5.json()).toMatchObject({ code: 'I0', response: { cra: 'response', recipient: A } })
    expect(dcc.pendingSignatures()).toEqual([])
    expect(sent).toHaveLength(1)
    // Again: nothing awaits a signature now. Unencoded colons in the path work too.
    const again = await app.inject({
      method: 'POST',
      url: `/service-requests/${rid(50)}/signature`,
      payload: { signedPreCommand: Buffer.from(signed).toString('hex') },
    })
    expect(again.json().code).toBe('ENOPRECOMMAND')
  })

  it('a CV5 that is not hex is a 400; a bad signature is a DUIS answer', async () => {
    const { app } = fixture()
    await app.inject({ method: 'POST', url: '/service-requests', payload: request(51, '7.3') })
    const url = `/service-requests/${encodeURIComponent(rid(51))}/signature`
    const notHex = await app.inject({ method: 'POST', url, payload: { signedPreCommand: 'xyz' } })
    expect(notHex.statusCode).toBe(400)
    expect(notHex.json().message).toMatch(/signedPreCommand/)
    const junk = await app.inject({ method: 'POST', url, payload: { signedPreCommand: 'DF09' } })
    expect(junk.json().code).toBe('ESIGNATURE')
  })

  it('bad JSON → 400 with a clear message, no stack trace', async () => {
    const { app, sat } = fixture()
    const res = await app.inject({
      method: 'POST',
      url: '/service-requests',
      headers: { 'content-type': 'application/json' },
      payload: '{"requestId": ',
    })
    expect(res.statusCode).toBe(400)
    const body = res.json()
    expect(body).toEqual({ error: 'Bad Request', message: expect.stringMatching(/not valid JSON/) })
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/)
    expect(sat.size).toBe(0)
  })

  it('a missing or ill-typed field → 400 naming it; unknown fields are refused', async () => {
    const { app } = fixture()
    const { srv: _srv, ...missing } = request(60, '7.4')
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: missing })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ error: 'Bad Request', message: "body must have required property 'srv'" })
    const typed = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(61, '7.4', { commandVariant: '1' }),
    })
    expect(typed.statusCode).toBe(400)
    expect(typed.json().message).toMatch(/commandVariant must be integer/)
    const extra = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(62, '7.4', { target: 'x' }),
    })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().message).toMatch(/unknown property 'target'/)
  })

  it('a malformed RequestID is a DUIS answer (EMALFORMED), not an HTTP error', async () => {
    const { app } = fixture()
    const res = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(1, '7.4', { requestId: 'nonsense' }),
    })
    expect(res.statusCode).toBe(200)
    expect(res.json().code).toBe('EMALFORMED')
  })

  it('an oversized body → 413', async () => {
    const { app, sat } = fixture({ bodyLimit: 1024 })
    const res = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(70, '7.4', { parameters: { padding: 'x'.repeat(2000) } }),
    })
    expect(res.statusCode).toBe(413)
    expect(res.json()).toEqual({ error: 'Payload Too Large', message: expect.stringMatching(/1024 bytes/) })
    expect(sat.size).toBe(0)
    const big = fixture()
    const over = await big.app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(71, '7.4', { parameters: { padding: 'x'.repeat(70 * 1024) } }),
    })
    expect(over.statusCode).toBe(413)
  })
})

describe('GET routes', () => {
  it('GET /sat: a bad filter → 400', async () => {
    const { app } = fixture()
    expect((await app.inject({ method: 'GET', url: '/sat?kind=nope' })).statusCode).toBe(400)
    expect((await app.inject({ method: 'GET', url: '/sat?limit=0' })).statusCode).toBe(400)
    expect((await app.inject({ method: 'GET', url: '/sat?limit=20000' })).statusCode).toBe(400)
    const time = await app.inject({ method: 'GET', url: '/sat?from=yesterday' })
    expect(time.statusCode).toBe(400)
    expect(time.json().message).toMatch(/not a time/)
    expect((await app.inject({ method: 'GET', url: '/sat?requestId=junk' })).statusCode).toBe(400)
  })

  it('GET /alerts/:userId: alerts, DCC alerts and counters', async () => {
    const { app } = fixture()
    const res = await app.inject({ method: 'GET', url: `/alerts/${A}` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      user: A,
      alerts: [],
      dccAlerts: [],
      counters: { delivered: 0, blocked: 0, toUnregisteredSupplier: 0, undeliverable: 0 },
    })
    expect((await app.inject({ method: 'GET', url: '/alerts/not-a-user' })).statusCode).toBe(400)
  })

  it('DCC Schedules: SR 5.1 over POST /service-requests, runs and results in GET /schedules/{userId}', async () => {
    const { app, dcc, sent } = fixture()
    const created = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: {
        ...request(60, '5.1'),
        commandVariant: 8,
        parameters: {
          serviceRequest: { srv: '4.1.1' },
          start: new Date(T0).toISOString(),
          repeatIntervalMs: 3_600_000,
        },
      },
    })
    expect(created.json()).toMatchObject({ code: 'I0', schedule: { scheduleId: 'DS000001', owner: A } })
    const runs = await dcc.runDueSchedules(T0)
    expect(runs.map((r) => r.result.code)).toEqual(['I0'])
    expect(sent).toHaveLength(1)
    const res = await app.inject({ method: 'GET', url: `/schedules/${A}` })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.schedules).toMatchObject([{ scheduleId: 'DS000001', nextRun: 2 }])
    expect(body.results).toMatchObject([{ scheduleId: 'DS000001', run: 1, result: { code: 'I0' } }])
    expect(body.results[0].result.responseBytes).toMatch(/^[0-9A-F]+$/)
    expect((await app.inject({ method: 'GET', url: '/schedules/nobody' })).statusCode).toBe(400)
  })

  it('the install code register over HTTP: lodge, obtain one, obtain many', async () => {
    const { app, dcc } = fixture()
    const code = '00112233445566778899AABBCCDDEEFF'
    const lodged = await app.inject({
      method: 'PUT',
      url: `/install-codes/${ESME_EUI}`,
      payload: { user: A, installCode: code.toLowerCase() },
    })
    expect(lodged.json()).toMatchObject({ ok: true, deviceId: ESME_EUI, installCode: code, suppliedBy: A })
    const one = await app.inject({ method: 'GET', url: `/install-codes/${ESME_EUI}?user=${A}` })
    expect(one.json()).toMatchObject({ ok: true, installCode: code, grantedAs: 'installing-supplier' })
    const many = await app.inject({
      method: 'POST',
      url: '/install-codes',
      payload: { user: A, devices: [ESME_EUI, '00DB1200000000FF'] },
    })
    expect(many.json()).toMatchObject({
      user: A,
      results: [
        { ok: true, installCode: code },
        { ok: false, deviceId: '00DB1200000000FF', code: 'E19' },
      ],
    })
    expect(dcc.obtainInstallCode(A, ESME_EUI).ok).toBe(true)
    expect((await app.inject({ method: 'GET', url: `/install-codes/${ESME_EUI}` })).statusCode).toBe(400)
    expect(
      (await app.inject({ method: 'POST', url: '/install-codes', payload: { user: A, devices: [] } }))
        .statusCode,
    ).toBe(400)
    const bad = await app.inject({
      method: 'PUT',
      url: `/install-codes/${ESME_EUI}`,
      payload: { user: A, installCode: 'ABCD' },
    })
    expect(bad.json()).toMatchObject({ ok: false, code: 'EPARAMETERS' })
  })

  it('/openapi.json parses and lists every path', async () => {
    const { app } = fixture()
    const res = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    const doc = JSON.parse(res.body)
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/alerts/{userId}',
      '/install-codes',
      '/install-codes/{deviceId}',
      '/openapi.json',
      '/sat',
      '/schedules/{userId}',
      '/service-requests',
      '/service-requests/{requestId}/signature',
    ])
    // Each path and method described is a route fastify serves.
    for (const [path, methods] of Object.entries(doc.paths as Record<string, object>))
      for (const method of Object.keys(methods))
        expect(
          app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }),
        ).toBe(true)
    for (const ref of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/(\w+)"/g))
      expect(doc.components.schemas[ref[1]!]).toBeDefined()
  })

  it('an unknown route → 404 JSON; a wrong method → 404 JSON', async () => {
    const { app } = fixture()
    const res = await app.inject({ method: 'GET', url: '/nowhere?x=1' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ error: 'Not Found', message: 'no route GET /nowhere' })
    expect((await app.inject({ method: 'DELETE', url: '/sat' })).json().error).toBe('Not Found')
  })

  it('a pipeline that throws → 500 JSON without the error text or a stack', async () => {
    const { dcc, sat } = fixture()
    const broken = {
      ...dcc,
      submit: async () => {
        throw new Error('secret internals at /work/x.ts:1')
      },
    }
    const app = createDccHttpServer(broken, sat)
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: request(80, '7.4') })
    expect(res.statusCode).toBe(500)
    expect(res.json()).toEqual({ error: 'Internal Server Error', message: 'internal error' })
  })

  it('a body that is not JSON → 415 JSON', async () => {
    const { app } = fixture()
    const res = await app.inject({
      method: 'POST',
      url: '/service-requests',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    })
    expect(res.statusCode).toBe(415)
    expect(res.json()).toMatchObject({ error: 'Unsupported Media Type' })
  })
})

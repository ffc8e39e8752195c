/**
 * The DCC HTTP API through fastify's inject (no network), over a DCC with a fake transport. The
 * caller is set by a test authenticator (`as`); tls.test.ts authenticates over real mutual TLS.
 */
import type { Eui64 } from '@smetsim/core'
import { decodeFrame, encodeFrame, encodeSignedFrame, type PrivateKeyRef } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { UserDirectory } from '../access/users.ts'
import { createDcc } from '../dcc.ts'
import {
  MALFORMED_REQUEST_CODE,
  NO_INSTALL_CODE_CODE,
  NO_PRE_COMMAND_CODE,
  SIGNATURE_INVALID_CODE,
} from '../duis-codes.ts'
import { createInProcessSigner } from '../gbcs/construct.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../gbcs/testing.ts'
import { SmartMeteringInventory } from '../registration/inventory.ts'
import { RegistrationData } from '../registration/registration.ts'
import { canonicalJson } from '../sat/record.ts'
import { createMemorySat } from '../sat/sat.ts'
import type { Caller, Refusal } from './auth.ts'
import { createDccHttpServer, type DccHttpOptions } from './server.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
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

/**
 * Supplier A registered for one commissioned ESME; no in-process signers (Critical requests go
 * CV4/CV5). Requests come from Supplier A unless `as` says otherwise.
 */
function fixture(options: DccHttpOptions = {}, o: { beforeAnswer?: () => Promise<void> } = {}) {
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
      await o.beforeAnswer?.()
      return responseTo(bytes)
    },
    now: () => T0,
    backend,
  })
  let caller: Caller | Refusal = { kind: 'user', user: A }
  const authenticate = () => caller
  const app = createDccHttpServer(dcc, sat, { authenticate, ...options })
  const as = (who: Caller | Refusal) => {
    caller = who
  }
  return { app, dcc, sat, sent, as, authenticate }
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
    expect(again.json().code).toBe(NO_PRE_COMMAND_CODE)
  })

  it('a CV5 that is not hex is a 400; a bad signature is a DUIS answer', async () => {
    const { app } = fixture()
    await app.inject({ method: 'POST', url: '/service-requests', payload: request(51, '7.3') })
    const url = `/service-requests/${encodeURIComponent(rid(51))}/signature`
    const notHex = await app.inject({ method: 'POST', url, payload: { signedPreCommand: 'xyz' } })
    expect(notHex.statusCode).toBe(400)
    expect(notHex.json().message).toMatch(/signedPreCommand/)
    const junk = await app.inject({ method: 'POST', url, payload: { signedPreCommand: 'DF09' } })
    expect(junk.json().code).toBe(SIGNATURE_INVALID_CODE)
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
    // Not passed on, but in the SAT: attributed to the caller, without a RequestID it never read.
    const [record, ...more] = sat.query()
    expect(more).toEqual([])
    expect(record).toMatchObject({
      kind: 'request',
      user: A,
      detail: {
        refusedBy: 'HTTP API',
        httpStatus: 400,
        method: 'POST',
        path: '/service-requests',
        bytes: 14,
      },
    })
    expect(record!.requestId).toBeUndefined()
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

  it('a malformed RequestID is a DUIS answer (E1), not an HTTP error', async () => {
    const { app } = fixture()
    const res = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(1, '7.4', { requestId: 'nonsense' }),
    })
    expect(res.statusCode).toBe(200)
    expect(res.json().code).toBe(MALFORMED_REQUEST_CODE)
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
    expect(sat.query()).toMatchObject([{ kind: 'request', user: A, detail: { httpStatus: 413 } }])
    expect(sat.query()[0]!.detail).toHaveProperty('bytes')
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
          scheduleFrequency: 'Daily',
          scheduleStartDate: new Date(T0).toISOString().slice(0, 10),
          scheduleExecutionStartTime: new Date(T0).toISOString().slice(11, 19),
          dspScheduledServiceReferenceVariant: '4.16',
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

  it('DCC Schedules: the runs due in one call are in flight together, each with its own counter', async () => {
    let inFlight = 0
    let most = 0
    const { app, dcc } = fixture(
      {},
      {
        beforeAnswer: async () => {
          most = Math.max(most, ++inFlight)
          await new Promise((r) => setTimeout(r, 5))
          inFlight--
        },
      },
    )
    const at = (hms: string) => ({
      scheduleFrequency: 'Daily',
      scheduleStartDate: new Date(T0).toISOString().slice(0, 10),
      scheduleExecutionStartTime: hms,
      dspScheduledServiceReferenceVariant: '4.16',
    })
    const t = new Date(T0).toISOString().slice(11, 19)
    for (const [counter, hms] of [
      [60, t],
      [61, t],
    ] as const) {
      const created = await app.inject({
        method: 'POST',
        url: '/service-requests',
        payload: { ...request(counter, '5.1'), commandVariant: 8, parameters: at(hms) },
      })
      expect(created.json()).toMatchObject({ code: 'I0' })
    }
    const runs = await dcc.runDueSchedules(T0)
    expect(runs.map((r) => [r.scheduleId, r.result.code])).toEqual([
      ['DS000001', 'I0'],
      ['DS000002', 'I0'],
    ])
    expect(most).toBe(2)
    const counters = runs.map((r) => BigInt(r.requestId.split(':')[2]!))
    expect(counters[1]! > counters[0]!).toBe(true)
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
    expect(bad.json()).toMatchObject({ ok: false, code: NO_INSTALL_CODE_CODE })
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
    expect(doc.security).toEqual([{ mutualTLS: [] }])
    expect(doc.components.securitySchemes.mutualTLS.type).toBe('mutualTLS')
    expect(doc.paths['/sat'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['afterSeq', 'limit', 'maxBytes']),
    )
    expect(doc.paths['/alerts/{userId}'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'userId',
      'afterSeq',
      'dccAfterSeq',
      'limit',
    ])
    for (const methods of Object.values(doc.paths as Record<string, Record<string, { responses: object }>>))
      for (const operation of Object.values(methods))
        expect(Object.keys(operation.responses)).toContain('403')
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

  it('a pipeline that throws → 422 JSON without the error text or a stack, never a 500, and a SAT record', async () => {
    const { dcc, sat, authenticate } = fixture()
    const broken = {
      ...dcc,
      submit: async () => {
        throw new Error('secret internals at /work/x.ts:1')
      },
    }
    const app = createDccHttpServer(broken, sat, { authenticate })
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: request(80, '7.4') })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toEqual({
      error: 'Unprocessable Content',
      message: 'the request could not be processed',
    })
    expect(sat.query()).toMatchObject([
      { kind: 'request', user: A, requestId: rid(80), detail: { httpStatus: 422, refusedBy: 'HTTP API' } },
    ])
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

describe('callers: who acts is the authenticated caller, and each reads only its own', () => {
  const auditor: Caller = { kind: 'auditor', name: 'auditor' }

  /** The fixture's DCC, with every request's `caller` (C1) written down. */
  function spied() {
    const f = fixture()
    const seen: { requestId: string; caller?: string }[] = []
    const signed: (string | undefined)[] = []
    const dcc = {
      ...f.dcc,
      submit: (r: Parameters<typeof f.dcc.submit>[0] & { caller?: string }) => {
        seen.push({ requestId: r.requestId, ...(r.caller && { caller: r.caller }) })
        return f.dcc.submit(r)
      },
      submitSigned: (id: string, bytes: Uint8Array, caller?: string) => {
        signed.push(caller)
        return f.dcc.submitSigned(id, bytes)
      },
    }
    const app = createDccHttpServer(dcc, f.sat, { authenticate: f.authenticate })
    return { ...f, app, seen, signed }
  }

  it('passes the authenticated User as caller, whatever the body names; a body cannot set it', async () => {
    const { app, seen, signed } = spied()
    await app.inject({ method: 'POST', url: '/service-requests', payload: request(1, '7.4') })
    // A naming B as the Business Originator: the pipeline gets caller A and refuses it (C1).
    await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: { ...request(2, '7.4'), requestId: `${B}:${ESME_EUI}:2` },
    })
    expect(seen).toEqual([
      { requestId: rid(1), caller: A },
      { requestId: `${B}:${ESME_EUI}:2`, caller: A },
    ])
    const forged = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: { ...request(3, '7.4'), caller: B },
    })
    expect(forged.statusCode).toBe(400)
    expect(forged.json().message).toMatch(/unknown property 'caller'/)
    expect(seen).toHaveLength(2)
    await app.inject({ method: 'POST', url: signUrlOf(rid(9)), payload: { signedPreCommand: 'DF09' } })
    expect(signed).toEqual([A])
  })

  it('a User reads only its own SAT records, alerts and schedules (403 otherwise); an auditor reads any', async () => {
    const { app, as, dcc } = fixture()
    await dcc.submit(request(5, '7.4'))
    await dcc.submit({ ...request(6, '7.4'), requestId: `${B}:${ESME_EUI}:6` })
    const get = async (url: string) => app.inject({ method: 'GET', url })
    // A: its own records by default, never B's.
    const mine = (await get('/sat')).json()
    expect(mine.records.length).toBeGreaterThan(0)
    expect(mine.records.every((r: { user: string }) => r.user === A)).toBe(true)
    expect((await get(`/sat?user=${A}`)).statusCode).toBe(200)
    expect((await get(`/sat?businessOriginator=${A}`)).statusCode).toBe(200)
    for (const url of [`/sat?user=${B}`, `/sat?businessOriginator=${B}`, `/alerts/${B}`, `/schedules/${B}`]) {
      const res = await get(url)
      expect(res.statusCode, url).toBe(403)
      expect(res.json()).toEqual({ error: 'Forbidden', message: expect.stringContaining(B) })
    }
    expect((await get(`/alerts/${A}`)).statusCode).toBe(200)
    expect((await get(`/schedules/${A}`)).statusCode).toBe(200)
    // The auditor: everyone's.
    as(auditor)
    const all = (await get('/sat')).json()
    expect(new Set(all.records.map((r: { user: string }) => r.user))).toEqual(new Set([A, B]))
    expect((await get(`/sat?user=${B}`)).json().records.length).toBeGreaterThan(0)
    expect((await get(`/alerts/${B}`)).statusCode).toBe(200)
    expect((await get(`/schedules/${B}`)).statusCode).toBe(200)
  })

  it('an auditor may not submit; nobody acts as another User at the install code register', async () => {
    const { app, as, sat } = fixture()
    as(auditor)
    const submitted = await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: request(7, '7.4'),
    })
    expect(submitted.statusCode).toBe(403)
    expect(submitted.json().message).toMatch(/auditor/)
    expect(sat.size).toBe(0) // an auditor is no DCC User: there is nobody to attribute it to
    expect(
      (await app.inject({ method: 'GET', url: `/install-codes/${ESME_EUI}?user=${A}` })).statusCode,
    ).toBe(403)
    as({ kind: 'user', user: B })
    const asA = await app.inject({ method: 'GET', url: `/install-codes/${ESME_EUI}?user=${A}` })
    expect(asA.statusCode).toBe(403)
    const lodge = await app.inject({
      method: 'PUT',
      url: `/install-codes/${ESME_EUI}`,
      payload: { user: A, installCode: '00112233445566778899AABBCCDDEEFF' },
    })
    expect(lodge.statusCode).toBe(403)
    const bulk = await app.inject({
      method: 'POST',
      url: '/install-codes',
      payload: { user: A, devices: [ESME_EUI] },
    })
    expect(bulk.statusCode).toBe(403)
    // The refused writes are in the SAT under B, without the install code.
    const records = sat.query({ user: B })
    expect(records.map((r) => (r.detail as { httpStatus: number }).httpStatus)).toEqual([403, 403])
    expect(JSON.stringify(records)).not.toMatch(/00112233445566778899/i)
  })

  it('a refused caller (a revoked certificate, say) gets 403, and its write is recorded under the User it names', async () => {
    const { app, as, sat } = fixture()
    as({ problem: 'the TLS client certificate 0A is revoked', user: A })
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: request(8, '7.4') })
    expect(res.statusCode).toBe(403)
    expect(res.json().message).toMatch(/revoked/)
    expect(sat.query()).toMatchObject([
      { kind: 'request', user: A, detail: { httpStatus: 403, reason: expect.stringMatching(/revoked/) } },
    ])
    expect((await app.inject({ method: 'GET', url: '/sat' })).statusCode).toBe(403)
    as({ problem: 'no verified TLS client certificate' })
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(403) // routes stay hidden
  })

  it('insecure-local: no caller, any User may be named, and every answer says so', async () => {
    const f = fixture()
    const seen: (string | undefined)[] = []
    const dcc = {
      ...f.dcc,
      submit: (r: Parameters<typeof f.dcc.submit>[0] & { caller?: string }) => {
        seen.push(r.caller)
        return f.dcc.submit(r)
      },
    }
    const app = createDccHttpServer(dcc, f.sat, { insecureLocal: true })
    const res = await app.inject({ method: 'POST', url: '/service-requests', payload: request(10, '7.4') })
    expect(res.json().code).toBe('I0')
    expect(seen).toEqual([undefined])
    expect(res.headers.warning).toMatch(/^299 smetsim "insecure-local/)
    expect((await app.inject({ method: 'GET', url: `/sat?user=${B}` })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).headers.warning).toMatch(/insecure-local/)
    // A refused body is attributed to the RequestID's originator.
    await app.inject({
      method: 'POST',
      url: '/service-requests',
      payload: { ...request(11, '7.4'), role: 7 },
    })
    expect(f.sat.query({ kind: 'request', requestId: rid(11) })).toMatchObject([
      { user: A, detail: { httpStatus: 400 } },
    ])
  })

  it('refuses to build a server that authenticates nobody, unless told insecure-local', () => {
    const { dcc, sat } = fixture()
    expect(() => createDccHttpServer(dcc, sat)).toThrow(/authenticates its callers/)
  })
})

const signUrlOf = (id: string) => `/service-requests/${encodeURIComponent(id)}/signature`

describe('bounded: no body, however nested or long, is a 500 or missing from the SAT', () => {
  const post = (app: ReturnType<typeof fixture>['app'], payload: string | object) =>
    app.inject({
      method: 'POST',
      url: '/service-requests',
      headers: { 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })

  it.each([
    [
      'nested deeper than 10 levels',
      { parameters: JSON.parse(`${'{"a":'.repeat(12)}1${'}'.repeat(12)}`) },
      /nested deeper/,
    ],
    [
      'a string in parameters over 16384 characters',
      { parameters: { x: 'y'.repeat(20_000) } },
      /string longer/,
    ],
    ['more than 5000 values', { parameters: { list: Array(6000).fill(1) } }, /more than 5000/],
    ['a __proto__ key', JSON.parse(`{"parameters":{"__proto__":{"polluted":1}}}`), /forbidden key/],
    ['a RequestID over 200 characters', { requestId: `${A}:${ESME_EUI}:${'9'.repeat(300)}` }, /requestId/],
    ['a role over 16 characters', { role: 'R'.repeat(17) }, /role/],
    ['an srv over 32 characters', { srv: '7'.repeat(33) }, /srv/],
  ])('%s → 400, recorded, bounded', async (_what, change, message) => {
    const { app, sat } = fixture()
    const res = await post(app, { ...request(40, '7.4'), ...change })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(message)
    const [record, ...more] = sat.query()
    expect(more).toEqual([])
    expect(record).toMatchObject({
      kind: 'request',
      user: A,
      detail: { refusedBy: 'HTTP API', httpStatus: 400 },
    })
    expect(Buffer.byteLength(canonicalJson(record))).toBeLessThan(2048)
    expect(({} as { polluted?: number }).polluted).toBeUndefined()
  })

  it('a body nested 30,000 levels deep (within the body limit) → 400, recorded', async () => {
    const { app, sat } = fixture()
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`
    const body = JSON.stringify(request(42, '7.4')).replace(/}$/, `,"parameters":{"a":${deep}}}`)
    const res = await post(app, body)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/nested deeper than 10/)
    expect(sat.query()).toMatchObject([{ kind: 'request', requestId: rid(42), detail: { httpStatus: 400 } }])
  })

  it('a body that is not an object, and an empty one, are 400s in the SAT too', async () => {
    const { app, sat } = fixture()
    for (const body of ['[]', '"text"', '12', 'null', ''])
      expect((await post(app, body)).statusCode, JSON.stringify(body)).toBe(400)
    expect(sat.size).toBe(5)
  })

  it('a RequestID the SAT cannot normalise is kept clipped in the detail', async () => {
    const { app, sat } = fixture()
    await post(app, { ...request(41, '7.4'), requestId: 'x'.repeat(190), role: 5 })
    expect(sat.query()[0]!.detail).toMatchObject({ requestIdText: `${'x'.repeat(100)}…`, truncated: true })
  })
})

describe('pages: GET /sat and GET /alerts by a cursor and by bytes', () => {
  it('GET /sat pages by afterSeq, limit and maxBytes, and its next page carries on where it stopped', async () => {
    const { app, sat, as } = fixture()
    as({ kind: 'auditor', name: 'auditor' })
    for (let i = 1; i <= 25; i++)
      sat.append({ kind: 'dccAlert', user: A, code: 'N24', detail: { i, pad: 'p'.repeat(100) } })
    const first = (await app.inject({ method: 'GET', url: '/sat?limit=10&kind=dccAlert' })).json()
    expect(first.records.map((r: { seq: number }) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(first.nextAfterSeq).toBe(10)
    const second = (await app.inject({ method: 'GET', url: first.next })).json()
    expect(second.records[0].seq).toBe(11)
    expect(second.next).toMatch(/kind=dccAlert/)
    const small = (await app.inject({ method: 'GET', url: '/sat?maxBytes=1000' })).json()
    expect(small.count).toBeGreaterThan(1)
    expect(small.count).toBeLessThan(10)
    const all: number[] = []
    for (let url: string | undefined = '/sat?maxBytes=2000'; url; ) {
      const page: { records: { seq: number }[]; next?: string } = (
        await app.inject({ method: 'GET', url })
      ).json()
      all.push(...page.records.map((r) => r.seq))
      url = page.next
    }
    expect(all).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    expect((await app.inject({ method: 'GET', url: '/sat?afterSeq=25' })).json()).toEqual({
      count: 0,
      records: [],
    })
    for (const bad of ['afterSeq=-1', 'afterSeq=x', 'maxBytes=0', `srv=${'7'.repeat(40)}`])
      expect((await app.inject({ method: 'GET', url: `/sat?${bad}` })).statusCode, bad).toBe(400)
  })

  it('GET /sat never fails on a stored record, however large: its detail is left out and said so', async () => {
    const { app, sat } = fixture({ pageBytes: 100_000 })
    sat.append({ kind: 'dccAlert', user: A, code: 'N24', detail: { pad: 'q'.repeat(300_000) } })
    sat.append({ kind: 'dccAlert', user: A, code: 'N24', detail: { small: true } })
    const res = await app.inject({ method: 'GET', url: '/sat' })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.records[0]).toMatchObject({ seq: 1, detailOmitted: { bytes: expect.any(Number) } })
    expect(body.records[0].detail).toBeUndefined()
    expect(res.body.length).toBeLessThan(10_000)
    // Its stored size filled the page's budget: the next record is on the next page.
    expect(body.nextAfterSeq).toBe(1)
    const next = (await app.inject({ method: 'GET', url: body.next })).json()
    expect(next.records).toMatchObject([{ seq: 2, detail: { small: true } }])
  })

  it('GET /alerts pages each list by its own cursor and by bytes (C3: alertsFor(user, { afterSeq, limit }))', async () => {
    const f = fixture({ pageBytes: 3000 })
    const alert = (seq: number) => ({
      seq,
      device: ESME_EUI,
      recipient: A,
      alertCode: '8F0A',
      messageCode: 0x0082,
      critical: true,
      receivedAt: new Date(T0).toISOString(),
      frame: { pad: 'z'.repeat(400) },
      bytes: Uint8Array.of(seq),
    })
    const asked: unknown[] = []
    const dcc = {
      ...f.dcc,
      alertsFor: (_user: string, page?: { afterSeq?: number; limit?: number }) => {
        asked.push(page)
        return [2, 4, 6, 8, 10, 12].map(alert).filter((a) => a.seq > (page?.afterSeq ?? 0))
      },
    }
    const app = createDccHttpServer(dcc as never, f.sat, { authenticate: f.authenticate, pageBytes: 3000 })
    const first = (await app.inject({ method: 'GET', url: `/alerts/${A}?limit=4` })).json()
    expect(asked).toEqual([{ afterSeq: 0, limit: 5 }])
    const seqs = first.alerts.map((a: { seq: number }) => a.seq)
    expect(seqs.length).toBeLessThan(6) // 3000 bytes hold fewer than six
    expect(first.alerts[0].bytes).toBe('02')
    const second = (
      await app.inject({ method: 'GET', url: `/alerts/${A}?afterSeq=${first.nextAfterSeq}` })
    ).json()
    expect(second.alerts[0].seq).toBe(seqs[seqs.length - 1] + 2)
    expect(first.dccAlerts).toEqual([])
    expect((await app.inject({ method: 'GET', url: `/alerts/${A}?limit=1001` })).statusCode).toBe(400)
  })

  it('GET /alerts pages a pipeline whose alerts carry no seq yet by their position', async () => {
    const f = fixture()
    const dcc = {
      ...f.dcc,
      dccAlertsFor: () =>
        [1, 2, 3].map((n) => ({ type: 'CommandFailure', code: 'N1', recipient: A, at: 'x', detail: { n } })),
    }
    const app = createDccHttpServer(dcc as never, f.sat, { authenticate: f.authenticate })
    const page = (await app.inject({ method: 'GET', url: `/alerts/${A}?limit=2&dccAfterSeq=1` })).json()
    expect(page.dccAlerts.map((a: { detail: { n: number } }) => a.detail.n)).toEqual([2, 3])
    expect(page.nextDccAfterSeq).toBeUndefined()
    const firstTwo = (await app.inject({ method: 'GET', url: `/alerts/${A}?limit=2` })).json()
    expect(firstTwo.nextDccAfterSeq).toBe(2)
  })
})

/**
 * The DUIS routes over HTTP (fastify inject): what reaches `handle`, and what fastify refuses
 * before it (too large a body, not an XML media type) gets its SAT record all the same.
 */
import { createDccHttpServer } from '@smetsim/dcc'
import type { TlsIdentity as Caller } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import { createDuisHttpServer, registerDuisRoutes } from './http.ts'
import { SR_NAMESPACE } from './request.ts'
import { A, B, readSupplyStatus, signedRequest, testEstate } from './testing.ts'
import { DEFAULT_MAX_XML_BYTES } from './xml.ts'

const post = (
  app: ReturnType<typeof createDuisHttpServer>,
  payload: string | Uint8Array,
  type = 'application/xml',
) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/serviceS',
    headers: { 'content-type': type },
    payload: typeof payload === 'string' ? payload : Buffer.from(payload),
  })

/** The estate after a refusal: nothing sent, no request record, one decision, the SAT chain intact. */
function unchanged(e: ReturnType<typeof testEstate>) {
  expect(e.sent).toHaveLength(0)
  expect(e.dcc.pendingSignatures()).toEqual([])
  expect(e.sat.query({ kind: 'request' })).toHaveLength(0)
  expect(e.sat.verify().ok).toBe(true)
  const decisions = e.sat.query({ kind: 'decision' })
  expect(decisions).toHaveLength(1)
  return decisions[0]!
}

describe('the DUIS routes', () => {
  it('answer a signed request with the signed DUIS Response as application/xml', async () => {
    const e = testEstate()
    const app = createDuisHttpServer(e.duis)
    const res = await post(app, await signedRequest(readSupplyStatus(1)))
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/xml/)
    expect(res.body).toContain('<sr:ResponseCode>I99</sr:ResponseCode>')
    expect(e.sent).toHaveLength(1)
  })

  it('a body over the HTTP limit: 413 from fastify, unread, and still a SAT record', async () => {
    const e = testEstate()
    const app = createDuisHttpServer(e.duis)
    const size = 4 * DEFAULT_MAX_XML_BYTES + 1
    const res = await post(app, new Uint8Array(size).fill(0x20))
    expect(res.statusCode).toBe(413)
    expect(unchanged(e)).toMatchObject({
      code: 'E1',
      detail: { step: 'duis-too-large', bytes: size, unread: true, unattributable: true },
    })
  })

  it('a body between the XML limit and the HTTP limit: read no further than its length, 400, recorded with its digest', async () => {
    const e = testEstate()
    const app = createDuisHttpServer(e.duis)
    const res = await post(app, `<a>${' '.repeat(DEFAULT_MAX_XML_BYTES)}</a>`)
    expect(res.statusCode).toBe(400)
    const record = unchanged(e)
    expect(record.detail).toMatchObject({ step: 'duis-too-large', bytes: DEFAULT_MAX_XML_BYTES + 7 })
    expect((record.detail as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each([
    ['application/json', 'another parser of the server reads'],
    ['text/plain', 'no parser reads'],
  ])('not an XML media type (%s, which %s): 415, and a SAT record', async (type) => {
    const e = testEstate()
    const app = createDuisHttpServer(e.duis)
    const res = await post(app, '{"requestId":"x"}', type)
    expect(res.statusCode).toBe(415)
    expect(unchanged(e).detail).toMatchObject({ step: 'duis-not-xml', bytes: 17, unread: true })
  })

  it('billion laughs over HTTP: 400 before any parser sees the DOCTYPE, and a SAT record', async () => {
    const e = testEstate()
    const app = createDuisHttpServer(e.duis)
    const lol = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">${Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY ${'b'.repeat(i + 1)} "${`&${i ? 'b'.repeat(i) : 'a'};`.repeat(10)}">`,
    ).join('')}]><sr:Request xmlns:sr="${SR_NAMESPACE}">&bbbbbbbbb;</sr:Request>`
    const res = await post(app, lol)
    expect(res.statusCode).toBe(400)
    expect(res.body.length).toBeLessThan(400)
    expect(unchanged(e).detail).toMatchObject({ step: 'duis-doctype' })
  })
})

describe('the DUIS routes on the mutual-TLS DCC server', () => {
  /** The DCC's HTTP server with its caller taken as `caller` (what mutual TLS would have verified). */
  const behindTls = (e: ReturnType<typeof testEstate>, caller: Caller) => {
    const app = createDccHttpServer(e.dcc, e.sat, { authenticate: () => caller })
    registerDuisRoutes(app, e.duis)
    return app
  }

  it('take a request whose XML signer is the TLS caller', async () => {
    const e = testEstate()
    const res = await post(behindTls(e, { kind: 'user', user: A }), await signedRequest(readSupplyStatus(1)))
    expect(res.body).toContain('<sr:ResponseCode>I99</sr:ResponseCode>')
    expect(e.sent).toHaveLength(1)
  })

  it.each([
    ['another User', { kind: 'user', user: B } as Caller, B],
    ['the auditor', { kind: 'auditor', name: 'auditor' } as Caller, 'the auditor'],
  ])('refuse one signed by A on a connection of %s: E1, recorded, nothing sent', async (_, caller, named) => {
    const e = testEstate()
    const res = await post(behindTls(e, caller), await signedRequest(readSupplyStatus(1)))
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('<sr:ResponseCode>E1</sr:ResponseCode>')
    const record = unchanged(e)
    expect(record).toMatchObject({ code: 'E1', detail: { step: 'duis-caller-not-signer' } })
    expect(JSON.stringify(record.detail)).toContain(named)
  })
})

/**
 * The HTTP API over real mutual TLS (node:https, port 0 on 127.0.0.1): credentials from
 * @smetsim/smki's TLS issuer, the caller from the verified client certificate.
 */
import type { Eui64 } from '@smetsim/core'
import {
  type Credential,
  createTlsCa,
  issueTlsClientCertificate,
  issueTlsServerCertificate,
  normaliseSerial,
} from '@smetsim/smki'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UserDirectory } from '../access/users.ts'
import { createDcc, type DuisRequest } from '../dcc.ts'
import { createInProcessSigner } from '../gbcs/construct.ts'
import { ACB, backend, ESME_EUI, PARTIES, privateRef, T0 } from '../gbcs/testing.ts'
import { SmartMeteringInventory } from '../registration/inventory.ts'
import { RegistrationData } from '../registration/registration.ts'
import { createMemorySat } from '../sat/sat.ts'
import { createDccHttpServer } from './server.ts'
import { httpsJson } from './testing.ts'

const A = PARTIES.supplierA.eui
const B = PARTIES.supplierB.eui
const pem = (c: Credential) => ({
  cert: c.certificate.toString(),
  key: c.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
})

const ca = createTlsCa()
const server = issueTlsServerCertificate(ca)
const clients = {
  A: issueTlsClientCertificate(ca, { kind: 'user', user: A }),
  B: issueTlsClientCertificate(ca, { kind: 'user', user: B }),
  auditor: issueTlsClientCertificate(ca, { kind: 'auditor', name: 'auditor' }),
  stranger: issueTlsClientCertificate(createTlsCa(), { kind: 'user', user: A }),
}
const revoked = new Set<string>()
const sat = createMemorySat({ now: () => new Date(T0) })
const callers: (string | undefined)[] = []

const registration = new RegistrationData()
registration.assignMpid('AAAA', A, '2020-01-01')
registration.registerSupplier('1200000000001', 'AAAA', '2024-01-01')
const inventory = new SmartMeteringInventory()
inventory.add({
  deviceId: ESME_EUI,
  type: 'ESME',
  mpxn: '1200000000001',
  status: 'Commissioned',
  at: '2024-01-02',
})
const dcc = createDcc({
  users: new UserDirectory([
    { userId: A, name: 'Supplier A', roles: ['IS', 'GS'] },
    { userId: B, name: 'Supplier B', roles: ['IS', 'GS'] },
  ]),
  registration,
  inventory,
  sat,
  acb: ACB,
  cos: { eui: PARTIES.cos.eui, signer: createInProcessSigner(privateRef(PARTIES.cos.ds), backend) },
  deviceKeyAgreement: () => undefined,
  userCertificates: () => undefined,
  transport: async () => undefined,
  now: () => T0,
  backend,
})
const app = createDccHttpServer(
  {
    ...dcc,
    submit: (r: DuisRequest) => {
      callers.push(r.caller)
      return dcc.submit(r)
    },
  },
  sat,
  {
    tls: { ...pem(server), ca: ca.certificate.toString() },
    revocation: { isRevoked: (serial) => revoked.has(serial) },
  },
)
let port = 0

beforeAll(async () => {
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(() => app.close())

/** One HTTPS request with the client credential given (or none). */
const call = (client: Credential | undefined, method: string, path: string, body?: object) =>
  httpsJson({
    url: `https://127.0.0.1:${port}${path}`,
    method,
    body,
    ca: ca.certificate.toString(),
    ...(client && pem(client)),
  })

const sr = (originator: Eui64, counter: number) => ({
  requestId: `${originator}:${ESME_EUI}:${counter}`,
  role: 'IS',
  srv: '7.4',
  commandVariant: 1,
  deviceType: 'ESME',
})

describe('the HTTP API over mutual TLS', () => {
  it("takes a User's request with the User's certificate, and passes that User as the caller", async () => {
    const r = await call(clients.A, 'POST', '/service-requests', sr(A, 1))
    expect(r).toMatchObject({ status: 200, json: { requestId: `${A}:${ESME_EUI}:1` } })
    expect(callers.at(-1)).toBe(A)
    // B's certificate naming A as the Business Originator: the pipeline is told the caller is B.
    await call(clients.B, 'POST', '/service-requests', sr(A, 2))
    expect(callers.at(-1)).toBe(B)
  })

  it('refuses a connection without a client certificate, or with one from another CA', async () => {
    for (const client of [undefined, clients.stranger]) {
      const r = await call(client, 'GET', '/openapi.json')
      expect(r).toHaveProperty('error')
    }
  })

  it('lets a User read only its own records, and the auditor everyone’s', async () => {
    expect(await call(clients.A, 'GET', `/sat?user=${B}`)).toMatchObject({ status: 403 })
    expect(await call(clients.A, 'GET', `/alerts/${B}`)).toMatchObject({ status: 403 })
    expect(await call(clients.A, 'GET', `/schedules/${B}`)).toMatchObject({ status: 403 })
    const own = await call(clients.A, 'GET', '/sat')
    expect(own).toMatchObject({ status: 200 })
    const records = own.json?.records as { user: string }[]
    expect(records.length).toBeGreaterThan(0)
    expect(records.every((r) => r.user === A)).toBe(true)
    const audited = await call(clients.auditor, 'GET', `/sat?user=${A}`)
    expect(audited.json?.count).toBeGreaterThan(0)
    expect(await call(clients.auditor, 'POST', '/service-requests', sr(A, 3))).toMatchObject({ status: 403 })
  })

  it('refuses a revoked TLS identity at its next request, and records its write under the User it names', async () => {
    revoked.add(normaliseSerial(clients.A.certificate.serialNumber))
    const before = sat.size
    const r = await call(clients.A, 'POST', '/service-requests', sr(A, 4))
    expect(r).toMatchObject({ status: 403, json: { message: expect.stringMatching(/revoked/) } })
    expect(sat.size).toBe(before + 1)
    expect(sat.query({ afterSeq: before })).toMatchObject([
      { kind: 'request', user: A, detail: { httpStatus: 403, reason: expect.stringMatching(/revoked/) } },
    ])
    expect(await call(clients.A, 'GET', '/sat')).toMatchObject({ status: 403 })
    expect(await call(clients.B, 'GET', '/sat')).toMatchObject({ status: 200 })
  })
})

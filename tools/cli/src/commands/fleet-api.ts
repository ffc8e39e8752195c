/**
 * The DCC HTTP API (packages/dcc) in front of a running fleet, with mutual TLS as `dcc serve` has
 * it: a fresh TLS CA each run, its server certificate, and a client certificate per fleet User
 * (suppliers, network operators) and for an auditor, written to a folder (ca.pem, <eui>.pem/.key,
 * auditor.pem/.key; keys 0600). Each caller is the User its certificate names.
 *
 * Beside the DCC's routes, the tester's controls (smetsim controls, not DUIS services):
 *  - POST /fleet/advance {"ms": n} — virtual runs only: moves virtual time on by n ms (1 ms to a
 *    year a call), running everything due (`run.advance`); the auditor only, as it moves time for
 *    every User (a modelling choice); one at a time (409 while one runs); answers the new time.
 *  - GET /fleet/devices/{eui} — a meter's state as the emulation holds it (supply, payment mode,
 * balances, commissioning), or a PPMID's (its paired meters and what its display shows). The same caller authentication as the rest of the API (the DCC's
 * onRequest hook); who may read: the auditor, or a User eligible for the device now by
 * Registration Data — its Registered Supplier or Network Operator, the DCC's own eligibility
 * rule (packages/dcc registration/eligibility.ts, from DUIS's eligible User roles), so a change
 * of supplier moves the right with the registration. Anyone else: 403.
 *  - POST /fleet/devices/{eui}/button, /fleet/devices/{eui}/emergency-credit (no body, {}, or
 *    {"meter": EUI}), /fleet/devices/{eui}/utrn {"utrn": "<20 digits>", "meter"?: EUI} — a
 *    consumer at the meter or PPMID (packages/fleet consumer.ts): the meter runs its own use case,
 *    or the PPMID passes the request to its paired meter (`meter`, default its ESME), and the
 *    meter's alerts go up to the DCC; the answer is the meter's outcome (supply, balances, the
 *    alert codes it raised, for a UTRN whether it took it; `via` the PPMID). The auditor only: a
 *    tester's control, not a DUIS service (a consumer is not a DCC User). 404 for no such meter
 *    or PPMID, 409 for one not joined to its HAN, out of reach, or a request the PPMID does not
 *    send (gas supply, not paired), 400 for a bad body (nothing changes).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isEui, parseEui } from '@smetsim/core'
import { createDccHttpServer, type DuisRole, isEligibleUser } from '@smetsim/dcc'
import type { DeviceState, PpmidState } from '@smetsim/device'
import { type ConsumerAction, consumerAction, type FleetRun } from '@smetsim/fleet'
import {
  type Credential,
  createTlsCa,
  issueTlsClientCertificate,
  issueTlsServerCertificate,
} from '@smetsim/smki'

export type FleetApi = ReturnType<typeof createDccHttpServer>

/** Writes the TLS credentials to `dir`; returns the server's (PEM). */
function writeTls(run: FleetRun, dir: string): { key: string; cert: string; ca: string } {
  mkdirSync(dir, { recursive: true })
  const ca = createTlsCa()
  const pemOf = (c: Credential) => ({
    cert: c.certificate.toString(),
    key: c.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  })
  const write = (name: string, c: Credential) => {
    const pem = pemOf(c)
    writeFileSync(join(dir, `${name}.pem`), pem.cert)
    writeFileSync(join(dir, `${name}.key`), pem.key, { mode: 0o600 })
  }
  writeFileSync(join(dir, 'ca.pem'), ca.certificate.toString())
  const s = run.fleet.spec
  for (const user of [...s.suppliers, ...s.networkOperators].map((x) => x.eui))
    write(user.toLowerCase(), issueTlsClientCertificate(ca, { kind: 'user', user: parseEui(user) }))
  write('auditor', issueTlsClientCertificate(ca, { kind: 'auditor', name: 'auditor' }))
  return { ...pemOf(issueTlsServerCertificate(ca)), ca: ca.certificate.toString() }
}

/** Whether `user` may read the device now: eligible in one of its roles (auditor: always). */
function mayRead(run: FleetRun, user: string, deviceId: string): boolean {
  const roles = run.fleet.users.get(user)?.roles ?? []
  const at = new Date(Math.ceil(run.scheduler.now())).toISOString()
  const sources = { registration: run.fleet.registration, inventory: run.fleet.inventory }
  return roles.some((role: DuisRole) => isEligibleUser(sources, user, role, deviceId, at).eligible)
}

/** The most one POST /fleet/advance moves virtual time. */
export const MAX_ADVANCE_MS = 366 * 86_400_000

export async function serveApi(
  run: FleetRun,
  o: { port: number; tls: string; advance: boolean },
): Promise<FleetApi> {
  const tls = writeTls(run, o.tls)
  const app = createDccHttpServer(run.dcc, run.sat, { servers: [`https://127.0.0.1:${o.port}`], tls })

  app.get<{ Params: { eui: string } }>('/fleet/devices/:eui', async (request, reply) => {
    const id = request.params.eui.toUpperCase()
    if (!isEui(id))
      return reply.code(400).send({ error: `not an EUI-64: ${request.params.eui.slice(0, 32)}` })
    const caller = request.caller
    const allowed = caller?.kind === 'auditor' || (caller?.kind === 'user' && mayRead(run, caller.user, id))
    if (!allowed) return reply.code(403).send({ error: `not eligible to read device ${id}` })
    const at = run.fleet.locate(id)
    const device = run.device(id)
    if (!at || !device) return reply.code(404).send({ error: `no meter or PPMID ${id} in this fleet` })
    if (at.role === 'PPMID') {
      const p = device as PpmidState
      return {
        deviceId: p.eui,
        deviceType: 'PPMID',
        premise: at.premise,
        virtualTime: new Date(run.scheduler.now()).toISOString(),
        joined: run.hub(at.premise)?.isJoined(p.eui) ?? false,
        paired: p.paired,
        // What each meter last reported to it (balances in integer milli-pence).
        display: Object.fromEntries(
          Object.entries(p.display).map(([m, r]) => [m, { ...r, at: new Date(r!.at).toISOString() }]),
        ),
      }
    }
    const d = device as DeviceState
    return {
      deviceId: d.eui,
      deviceType: d.type,
      premise: at.premise,
      virtualTime: new Date(run.scheduler.now()).toISOString(),
      supply: d.supply,
      paymentMode: d.paymentMode,
      commissioning: d.commissioning,
      // Integer milli-pence, as the device holds them; settled up to `accountAt`.
      meterBalance: d.account.meterBalance,
      emergencyCredit: d.account.emergencyCredit,
      accountAt: new Date(d.account.at).toISOString(),
    }
  })

  let advancing = false
  app.post<{ Body: { ms: number } }>(
    '/fleet/advance',
    {
      schema: {
        body: {
          type: 'object',
          required: ['ms'],
          additionalProperties: false,
          properties: { ms: { type: 'integer', minimum: 1, maximum: MAX_ADVANCE_MS } },
        },
      },
    },
    async (request, reply) => {
      if (request.caller?.kind !== 'auditor')
        return reply.code(403).send({ error: 'only the auditor moves virtual time' })
      if (!o.advance)
        return reply.code(409).send({ error: 'virtual time runs on the wall clock here (--speed)' })
      if (advancing) return reply.code(409).send({ error: 'virtual time is being advanced already' })
      advancing = true
      try {
        await run.advance(request.body.ms)
      } finally {
        advancing = false
      }
      return { virtualTime: new Date(run.scheduler.now()).toISOString() }
    },
  )

  // Consumer actions: a tester's control, not a DUIS service (a consumer is not a DCC User, and
  // acts on the meter in the premises, never through the DCC), so the auditor only; the same
  // mutual-TLS caller authentication (the DCC's onRequest hook) as every other route.
  const consumerRoute = (
    path: string,
    toAction: (body: { utrn?: string }) => ConsumerAction,
    body: object | undefined,
  ) =>
    app.post<{ Params: { eui: string }; Body: { utrn?: string; meter?: string } | undefined }>(
      `/fleet/devices/:eui/${path}`,
      {
        ...(body && { schema: { body } }),
        // Who may act is decided before the body is looked at: anyone else gets 403, never a 400.
        preValidation: async (request, reply) => {
          if (request.caller?.kind !== 'auditor')
            return reply.code(403).send({ error: 'only the auditor acts as the consumer' })
        },
      },
      async (request, reply) => {
        const b = request.body
        if (
          !body &&
          b !== undefined &&
          (typeof b !== 'object' || b === null || Object.keys(b).some((k) => k !== 'meter'))
        )
          return reply.code(400).send({ error: `${path} takes no body, {} or {"meter": EUI}` })
        const meter = b?.meter
        if (meter !== undefined && (typeof meter !== 'string' || !isEui(meter.toUpperCase())))
          return reply.code(400).send({ error: `meter: not an EUI-64: ${String(meter).slice(0, 32)}` })
        const id = request.params.eui.toUpperCase()
        if (!isEui(id))
          return reply.code(400).send({ error: `not an EUI-64: ${request.params.eui.slice(0, 32)}` })
        const r = consumerAction(run, id, toAction(b ?? {}), { ...(meter && { meter: meter.toUpperCase() }) })
        if (!r.ok) return reply.code(r.reason === 'unknown-device' ? 404 : 409).send({ error: r.message })
        return { ...r.report, virtualTime: new Date(run.scheduler.now()).toISOString() }
      },
    )
  consumerRoute('button', () => ({ kind: 'button' }), undefined)
  consumerRoute('emergency-credit', () => ({ kind: 'acceptEmergencyCredit' }), undefined)
  // A UTRN is 20 decimal digits (GBCS §14; packages/gbcs utrn.ts): anything else is not one.
  consumerRoute('utrn', (b) => ({ kind: 'utrn', digits: b.utrn! }), {
    type: 'object',
    required: ['utrn'],
    additionalProperties: false,
    properties: {
      utrn: { type: 'string', pattern: '^[0-9]{20}$' },
      meter: { type: 'string', maxLength: 32 },
    },
  })

  const address = await app.listen({ host: '127.0.0.1', port: o.port })
  process.stderr.write(`DCC HTTP API: ${address} (mutual TLS; client certificates in ${o.tls})\n`)
  return app
}

/**
 * The DCC's HTTP API over the in-process pipeline (`createDcc`): DUIS Service Requests in as JSON,
 * the DUIS answer out; the CV4/CV5 signing round trip; SAT queries; alerts for a User; the OpenAPI
 * description at /openapi.json; DCC Schedules and their run results for a User; the MP121 install
 * code register (a device's code for a User, singly or in bulk, and the installing Supplier
 * lodging it — answers with `ok: false` and a code per device are HTTP 200 too).
 *
 * Callers are authenticated (auth.ts): mutual TLS by default, the User named by its TLS client
 * certificate, never by the body; `insecureLocal` serves plain HTTP with nobody authenticated and
 * says so on every answer. A User reads only its own records; an auditor reads everyone's.
 *
 * Every pipeline answer is HTTP 200 with its DUIS code (a refusal is a DUIS answer, with its SAT
 * records). HTTP errors are for requests the API does not pass on: 400 bad JSON, a body over
 * the limits of limits.ts or one the schema refuses; 403 a caller refused or not allowed; 404 an
 * unknown route; 413 a body over `bodyLimit`; 415 not JSON; 422 anything else that went wrong
 * (never a 500). Each is JSON `{ error, message }`, never a stack trace, and each refused
 * POST/PUT leaves a SAT record attributed to its caller (refusals.ts). GET /sat and GET /alerts
 * answer in pages (paging.ts).
 */
import { type Eui64, parseEui, toHex } from '@smetsim/core'
import {
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  fastify,
} from 'fastify'
import type { Dcc, DccAlert, DeliveredAlert, DuisRequest, DuisResult, ScheduleRunResult } from '../dcc.ts'
import type { SatQuery } from '../sat/query.ts'
import type { SatKind } from '../sat/record.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import {
  type Authenticate,
  type Caller,
  INSECURE_WARNING,
  isRefusal,
  mayActAs,
  mayRead,
  tlsAuthenticator,
} from './auth.ts'
import { BodyLimitError, useLimitedJsonParser } from './limits.ts'
import { openApiDocument } from './openapi.ts'
import { DEFAULT_PAGE_BYTES, pageOf, sentRecord } from './paging.ts'
import { refusedRequestEntry } from './refusals.ts'
import {
  alertsQuerySchema,
  DEFAULT_ALERTS_LIMIT,
  DEFAULT_BODY_LIMIT,
  DEFAULT_SAT_LIMIT,
  deviceParamsSchema,
  installCodeQuerySchema,
  installCodesRequestSchema,
  lodgeInstallCodeSchema,
  MAX_SAT_LIMIT,
  requestIdParamsSchema,
  satQuerySchema,
  serviceRequestSchema,
  signedPreCommandSchema,
  userParamsSchema,
} from './schemas.ts'

export interface DccHttpOptions {
  /** Largest request body, bytes (default 64 KiB); larger: 413. */
  bodyLimit?: number
  /** fastify's logger option (default off). */
  logger?: FastifyServerOptions['logger']
  /** Server URL(s) for the OpenAPI description, e.g. 'https://127.0.0.1:8480'. */
  servers?: string[]
  /**
   * Mutual TLS (PEM): the server's key and certificate, and the CA every client certificate must
   * be issued by (`smetsim pki init` writes them under tls/). A client without a certificate, or
   * with one from another CA, is refused by the TLS layer.
   */
  tls?: { key: string; cert: string; ca: string }
  /** Who calls; with `tls` the default is tlsAuthenticator(revocation). */
  authenticate?: Authenticate
  /** TLS client certificates on this list are refused, asked at every request. */
  revocation?: { isRevoked(serial: string): boolean }
  /** No authentication at all (plain HTTP, for loopback use): every answer carries a Warning header. */
  insecureLocal?: boolean
  /** Byte budget of one page of GET /sat and GET /alerts (default 1 MiB). */
  pageBytes?: number
}

/**
 * The pipeline as the HTTP layer calls it: the contracts with the pipeline (C1: `caller`, the
 * authenticated User; C3: alerts by a seq cursor). `Dcc` satisfies this type also before it takes
 * the extra arguments, which it then ignores; see GET /alerts for how that is handled.
 */
interface CallerAwareDcc extends Omit<Dcc, 'submit' | 'submitSigned' | 'alertsFor' | 'dccAlertsFor'> {
  submit(request: DuisRequest): Promise<DuisResult>
  submitSigned(requestId: string, signed: Uint8Array, caller?: string): Promise<DuisResult>
  alertsFor(
    userId: string,
    page?: { afterSeq?: number; limit?: number },
  ): (DeliveredAlert & { seq?: number })[]
  dccAlertsFor(userId: string, page?: { afterSeq?: number; limit?: number }): (DccAlert & { seq?: number })[]
}

/** JSON of a DUIS answer: bytes as upper-case hex; a Pre-Command comes with the URL to sign it at. */
export function duisResultToJson(result: DuisResult): Record<string, unknown> {
  const { preCommand, responseBytes, ...rest } = result
  return {
    ...rest,
    ...(preCommand && { preCommand: toHex(preCommand) }),
    ...(preCommand && result.requestId && { signUrl: signUrl(result.requestId) }),
    ...(responseBytes && { responseBytes: toHex(responseBytes) }),
  }
}

/** Where the signed Pre-Command of a request goes (DUIS CV5). */
export const signUrl = (requestId: string) => `/service-requests/${encodeURIComponent(requestId)}/signature`

const alertToJson = (alert: DeliveredAlert) => ({ ...alert, bytes: toHex(alert.bytes) })

const scheduleResultToJson = (r: ScheduleRunResult) => ({ ...r, result: duisResultToJson(r.result) })

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** Whom a refused caller's certificate names, for the SAT record. */
    readonly user?: Eui64,
  ) {
    super(message)
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (undefined under insecureLocal). */
    caller?: Caller
  }
}

/** Digits of a query value, as a number (the schemas check the digits). */
const count = (text: string | undefined, otherwise: number) => (text === undefined ? otherwise : Number(text))

/** The DCC's HTTP API as a fastify instance, not listening (the caller listens, on 127.0.0.1). */
export function createDccHttpServer(
  dcc: Dcc,
  sat: ServiceAuditTrail,
  options: DccHttpOptions = {},
): FastifyInstance {
  const insecure = options.insecureLocal === true
  const authenticate =
    options.authenticate ?? (options.tls ? tlsAuthenticator(options.revocation) : undefined)
  if (!insecure && !authenticate)
    throw new Error('the DCC HTTP API authenticates its callers: give tls or authenticate (or insecureLocal)')
  if (insecure && options.tls) throw new Error('insecureLocal serves plain HTTP: do not give tls with it')
  const pipeline: CallerAwareDcc = dcc
  const pageBytes = options.pageBytes ?? DEFAULT_PAGE_BYTES

  const app = fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: options.logger ?? false,
    // Types are checked as sent (no coercion) and unknown fields are refused, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    ...(options.tls && {
      https: { ...options.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' as const },
    }),
    // An https fastify has a different server type parameter; the routes are the same.
  }) as unknown as FastifyInstance

  // JSON only: other media types are a 415 rather than a string body failing the schema.
  app.removeContentTypeParser('text/plain')
  useLimitedJsonParser(app)

  /** A refused POST/PUT goes into the SAT, attributed to its caller (when there is one to name). */
  function recordRefusal(
    request: FastifyRequest,
    httpStatus: number,
    reason: string,
    { named, parsed = request.body }: { named?: Eui64 | undefined; parsed?: unknown } = {},
  ): void {
    if (request.method === 'GET' || request.method === 'HEAD') return
    const caller = request.caller
    const user =
      named ?? (caller?.kind === 'user' ? caller.user : insecure ? originatorOf(parsed) : undefined)
    if (!user) return
    const length = Number(request.headers['content-length'])
    try {
      sat.append(
        refusedRequestEntry({
          user,
          httpStatus,
          reason,
          method: request.method,
          path: request.url.split('?')[0]!,
          ...(Number.isSafeInteger(length) && { bytes: length }),
          ...(parsed !== undefined && { body: parsed }),
        }),
      )
    } catch (e) {
      request.log.error(e, 'SAT record of a refused request failed')
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    if (insecure) {
      reply.header('warning', INSECURE_WARNING)
      return
    }
    const who = authenticate!(request.raw.socket)
    if (isRefusal(who)) throw new HttpError(403, who.problem, who.user)
    request.caller = who
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = error.statusCode ?? 0
    let message = error.message
    if (error.validation) {
      status = 400
      const context = error.validationContext ?? 'request'
      const first = error.validation[0]
      message = `${context}${first?.instancePath ?? ''} ${first?.message ?? 'is not valid'}`
        .replace(/\s+/g, ' ')
        .trim()
      const missing = first?.params?.missingProperty
      const extra = first?.params?.additionalProperty
      if (missing) message = `${context} must have required property '${missing}'`
      if (extra) message = `${context} has unknown property '${extra}'`
    } else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
      status = 400
      message = `body is not valid JSON: ${error.message}`
    } else if (error instanceof BodyLimitError) {
      status = 400
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = `body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`
    }
    if (!(status >= 400 && status < 500)) {
      // Not the caller's doing: logged, and answered without the error's text.
      request.log.error(error)
      status = 422
      message = 'the request could not be processed'
    }
    recordRefusal(request, status, message, {
      named: error instanceof HttpError ? error.user : undefined,
      parsed: error instanceof BodyLimitError ? error.body : request.body,
    })
    reply.status(status).send({ error: REASONS[status] ?? 'Error', message })
  })

  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}`
    recordRefusal(request, 404, message)
    reply.status(404).send({ error: 'Not Found', message })
  })

  /** The User the caller acts as; an auditor may not act. Undefined under insecureLocal. */
  function actingUser(request: FastifyRequest): Eui64 | undefined {
    const caller = request.caller
    if (caller && caller.kind !== 'user')
      throw new HttpError(403, 'an auditor is not a DCC User and may not act as one')
    return caller?.user
  }

  function assertMayRead(request: FastifyRequest, user: Eui64): void {
    if (!mayRead(request.caller, user))
      throw new HttpError(403, `${describe(request.caller)} may not read ${user}'s records`)
  }

  function assertMayActAs(request: FastifyRequest, user: Eui64): void {
    if (!mayActAs(request.caller, user))
      throw new HttpError(403, `${describe(request.caller)} may not act as ${user}`)
  }

  app.post<{ Body: DuisRequest }>(
    '/service-requests',
    { schema: { body: serviceRequestSchema } },
    async (request) => {
      const caller = actingUser(request)
      return duisResultToJson(await pipeline.submit({ ...request.body, ...(caller && { caller }) }))
    },
  )

  app.post<{ Params: { requestId: string }; Body: { signedPreCommand: string } }>(
    '/service-requests/:requestId/signature',
    { schema: { params: requestIdParamsSchema, body: signedPreCommandSchema } },
    async (request) => {
      const caller = actingUser(request)
      const bytes = new Uint8Array(Buffer.from(request.body.signedPreCommand, 'hex'))
      return duisResultToJson(await pipeline.submitSigned(request.params.requestId, bytes, caller))
    },
  )

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/sat',
    { schema: { querystring: satQuerySchema } },
    async (request) => {
      const q = request.query
      const limit = count(q.limit, DEFAULT_SAT_LIMIT)
      if (limit > MAX_SAT_LIMIT)
        throw new HttpError(400, `querystring limit must be at most ${MAX_SAT_LIMIT}`)
      const filter: SatQuery = {
        limit,
        afterSeq: count(q.afterSeq, 0),
        maxBytes: Math.min(count(q.maxBytes, pageBytes), pageBytes),
      }
      for (const key of ['user', 'businessOriginator', 'device', 'srv', 'requestId', 'from', 'to'] as const) {
        const value = q[key]
        if (value !== undefined) filter[key] = value
      }
      if (q.kind !== undefined) filter.kind = q.kind as SatKind
      const caller = request.caller
      if (caller?.kind === 'user') {
        // A User reads the records it sent or received, or that were sent for it.
        for (const key of ['user', 'businessOriginator'] as const)
          if (q[key] !== undefined && parseEui(q[key]) !== caller.user)
            throw new HttpError(403, `${caller.user} may not read the SAT records of ${parseEui(q[key])}`)
        if (q.user === undefined && q.businessOriginator === undefined) filter.user = caller.user
      }
      let page: ReturnType<ServiceAuditTrail['page']>
      try {
        page = sat.page(filter)
      } catch (e) {
        if (e instanceof RangeError) throw new HttpError(400, e.message)
        throw e
      }
      const next =
        page.next === undefined
          ? {}
          : {
              nextAfterSeq: page.next,
              next: `/sat?${new URLSearchParams({ ...definedOnly(q), afterSeq: String(page.next) })}`,
            }
      return { count: page.records.length, records: page.records.map(sentRecord), ...next }
    },
  )

  app.get<{ Params: { userId: string }; Querystring: Record<string, string | undefined> }>(
    '/alerts/:userId',
    { schema: { params: userParamsSchema, querystring: alertsQuerySchema } },
    async (request) => {
      const user = parseEui(request.params.userId)
      assertMayRead(request, user)
      const q = request.query
      const limit = count(q.limit, DEFAULT_ALERTS_LIMIT)
      const afterSeq = count(q.afterSeq, 0)
      const dccAfterSeq = count(q.dccAfterSeq, 0)
      // C3: the pipeline pages by seq. One that does not yet (no seq, the whole list) is paged
      // here by position, which is then the same order.
      const alerts = pageOf(
        pipeline.alertsFor(user, { afterSeq, limit: limit + 1 }),
        (a, i) => a.seq ?? i + 1,
        { afterSeq, limit, maxBytes: pageBytes },
        alertToJson,
      )
      const dccAlerts = pageOf(
        pipeline.dccAlertsFor(user, { afterSeq: dccAfterSeq, limit: limit + 1 }),
        (a, i) => a.seq ?? i + 1,
        { afterSeq: dccAfterSeq, limit, maxBytes: Math.max(pageBytes - alerts.bytes, 1) },
      )
      return {
        user,
        alerts: alerts.items,
        dccAlerts: dccAlerts.items,
        counters: pipeline.alertCounters(user),
        ...(alerts.next !== undefined && { nextAfterSeq: alerts.next }),
        ...(dccAlerts.next !== undefined && { nextDccAfterSeq: dccAlerts.next }),
      }
    },
  )

  app.get<{ Params: { userId: string } }>(
    '/schedules/:userId',
    { schema: { params: userParamsSchema } },
    async (request) => {
      const user = parseEui(request.params.userId)
      assertMayRead(request, user)
      return {
        user,
        schedules: pipeline.schedulesOf(user),
        results: pipeline.scheduleResultsFor(user).map(scheduleResultToJson),
      }
    },
  )

  app.get<{ Params: { deviceId: string }; Querystring: { user: string } }>(
    '/install-codes/:deviceId',
    { schema: { params: deviceParamsSchema, querystring: installCodeQuerySchema } },
    async (request) => {
      assertMayActAs(request, parseEui(request.query.user))
      return pipeline.obtainInstallCode(request.query.user, request.params.deviceId)
    },
  )

  app.post<{ Body: { user: string; devices: string[] } }>(
    '/install-codes',
    { schema: { body: installCodesRequestSchema } },
    async (request) => {
      const user = parseEui(request.body.user)
      assertMayActAs(request, user)
      return { user, results: pipeline.obtainInstallCodes(user, request.body.devices) }
    },
  )

  app.put<{ Params: { deviceId: string }; Body: { user: string; installCode: string } }>(
    '/install-codes/:deviceId',
    { schema: { params: deviceParamsSchema, body: lodgeInstallCodeSchema } },
    async (request) => {
      assertMayActAs(request, parseEui(request.body.user))
      return pipeline.lodgeInstallCode(request.body.user, request.params.deviceId, request.body.installCode)
    },
  )

  const document = openApiDocument(options.servers)
  app.get('/openapi.json', async () => document)

  return app
}

const describe = (caller: Caller | undefined) =>
  caller === undefined
    ? 'an unauthenticated caller'
    : caller.kind === 'user'
      ? caller.user
      : `auditor ${caller.name}`

const definedOnly = (q: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined))

/** Under insecureLocal, a refused request is attributed to its RequestID's originator, when readable. */
function originatorOf(body: unknown): Eui64 | undefined {
  const text = (body as { requestId?: unknown } | undefined)?.requestId
  if (typeof text !== 'string') return undefined
  try {
    return parseEui(text.split(':')[0]!)
  } catch {
    return undefined
  }
}

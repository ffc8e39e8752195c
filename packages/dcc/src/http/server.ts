/**
 * The DCC's HTTP API over the in-process pipeline (`createDcc`): DUIS Service Requests in as JSON,
 * the DUIS answer out; the CV4/CV5 signing round trip; SAT queries; alerts for a User; the OpenAPI
 * description at /openapi.json; DCC Schedules and their run results for a User; the MP121 install
 * code register (a device's code for a User, singly or in bulk, and the installing Supplier
 * lodging it — answers with `ok: false` and a code per device are HTTP 200 too).
 *
 * Every pipeline answer is HTTP 200 with its DUIS code (a refusal is a DUIS answer, with its SAT
 * records). HTTP errors are for requests the API cannot read: 400 bad JSON or a body that does not
 * fit the schema, 413 a body over `bodyLimit`, 404 an unknown route, 415 not JSON; each is JSON
 * `{ error, message }`, never a stack trace (a 500 says only "internal error").
 */
import { parseEui, toHex } from '@smetsim/core'
import { type FastifyError, type FastifyInstance, type FastifyServerOptions, fastify } from 'fastify'
import type { Dcc, DccAlert, DeliveredAlert, DuisRequest, DuisResult, ScheduleRunResult } from '../dcc.ts'
import type { SatQuery } from '../sat/log.ts'
import type { SatKind } from '../sat/record.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import { openApiDocument } from './openapi.ts'
import {
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
  /** Server URL(s) for the OpenAPI description, e.g. 'http://127.0.0.1:8080'. */
  servers?: string[]
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
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message)
  }
}

/** The DCC's HTTP API as a fastify instance, not listening (the caller listens, on 127.0.0.1). */
export function createDccHttpServer(
  dcc: Dcc,
  sat: ServiceAuditTrail,
  options: DccHttpOptions = {},
): FastifyInstance {
  const app = fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: options.logger ?? false,
    // Types are checked as sent (no coercion) and unknown fields are refused, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  })

  // JSON only: other media types are a 415 rather than a string body failing the schema.
  app.removeContentTypeParser('text/plain')

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = error.statusCode ?? 500
    let message = error.message
    if (error.validation) {
      status = 400
      message =
        `${error.validationContext ?? 'request'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'is not valid'}`
          .replace(/\s+/g, ' ')
          .trim()
      const missing = error.validation[0]?.params?.missingProperty
      const extra = error.validation[0]?.params?.additionalProperty
      if (missing)
        message = `${error.validationContext ?? 'request'} must have required property '${missing}'`
      if (extra) message = `${error.validationContext ?? 'request'} has unknown property '${extra}'`
    } else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
      status = 400
      message = `body is not valid JSON: ${error.message}`
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = `body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`
    }
    if (status < 400 || status >= 500) {
      request.log.error(error)
      status = 500
      message = 'internal error'
    }
    reply.status(status).send({ error: REASONS[status] ?? 'Error', message })
  })

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send({ error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })

  app.post<{ Body: DuisRequest }>(
    '/service-requests',
    { schema: { body: serviceRequestSchema } },
    async (request) => duisResultToJson(await dcc.submit(request.body)),
  )

  app.post<{ Params: { requestId: string }; Body: { signedPreCommand: string } }>(
    '/service-requests/:requestId/signature',
    { schema: { params: requestIdParamsSchema, body: signedPreCommandSchema } },
    async (request) => {
      const bytes = Buffer.from(request.body.signedPreCommand, 'hex')
      return duisResultToJson(await dcc.submitSigned(request.params.requestId, new Uint8Array(bytes)))
    },
  )

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/sat',
    { schema: { querystring: satQuerySchema } },
    async (request) => {
      const q = request.query
      const limit = q.limit === undefined ? DEFAULT_SAT_LIMIT : Number(q.limit)
      if (limit > MAX_SAT_LIMIT)
        throw new HttpError(400, `querystring limit must be at most ${MAX_SAT_LIMIT}`)
      const filter: SatQuery = { limit }
      for (const key of ['user', 'businessOriginator', 'device', 'srv', 'requestId', 'from', 'to'] as const) {
        const value = q[key]
        if (value !== undefined) filter[key] = value
      }
      if (q.kind !== undefined) filter.kind = q.kind as SatKind
      let records: ReturnType<ServiceAuditTrail['query']>
      try {
        records = sat.query(filter)
      } catch (e) {
        if (e instanceof RangeError) throw new HttpError(400, e.message)
        throw e
      }
      return { count: records.length, records }
    },
  )

  app.get<{ Params: { userId: string } }>(
    '/alerts/:userId',
    { schema: { params: userParamsSchema } },
    async (request) => {
      const user = parseEui(request.params.userId)
      return {
        user,
        alerts: dcc.alertsFor(user).map(alertToJson),
        dccAlerts: dcc.dccAlertsFor(user) satisfies DccAlert[],
        counters: dcc.alertCounters(user),
      }
    },
  )

  app.get<{ Params: { userId: string } }>(
    '/schedules/:userId',
    { schema: { params: userParamsSchema } },
    async (request) => {
      const user = parseEui(request.params.userId)
      return {
        user,
        schedules: dcc.schedulesOf(user),
        results: dcc.scheduleResultsFor(user).map(scheduleResultToJson),
      }
    },
  )

  app.get<{ Params: { deviceId: string }; Querystring: { user: string } }>(
    '/install-codes/:deviceId',
    { schema: { params: deviceParamsSchema, querystring: installCodeQuerySchema } },
    async (request) => dcc.obtainInstallCode(request.query.user, request.params.deviceId),
  )

  app.post<{ Body: { user: string; devices: string[] } }>(
    '/install-codes',
    { schema: { body: installCodesRequestSchema } },
    async (request) => ({
      user: parseEui(request.body.user),
      results: dcc.obtainInstallCodes(request.body.user, request.body.devices),
    }),
  )

  app.put<{ Params: { deviceId: string }; Body: { user: string; installCode: string } }>(
    '/install-codes/:deviceId',
    { schema: { params: deviceParamsSchema, body: lodgeInstallCodeSchema } },
    async (request) =>
      dcc.lodgeInstallCode(request.body.user, request.params.deviceId, request.body.installCode),
  )

  const document = openApiDocument(options.servers)
  app.get('/openapi.json', async () => document)

  return app
}

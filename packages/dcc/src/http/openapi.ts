/** The OpenAPI 3.1 description of the DCC HTTP API, built from the route schemas in `schemas.ts`. */
import { BODY_LIMITS } from './limits.ts'
import { DEFAULT_PAGE_BYTES, MAX_RECORD_DETAIL_BYTES } from './paging.ts'
import {
  alertsQuerySchema,
  alertsResponseSchema,
  DEFAULT_BODY_LIMIT,
  duisResultSchema,
  errorSchema,
  installCodeAnswerSchema,
  installCodesRequestSchema,
  lodgeInstallCodeSchema,
  satQuerySchema,
  satRecordSchema,
  schedulesResponseSchema,
  serviceRequestSchema,
  signedPreCommandSchema,
} from './schemas.ts'

const REQUEST_ID = '90-B3-D5-1F-30-01-00-00:00-DB-12-00-00-00-00-01:30'
const USER = '90B3D51F30010000'
const DEVICE = '00DB120000000001'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: object, examples?: Record<string, { summary: string; value: unknown }>) => ({
  'application/json': { schema, ...(examples && { examples }) },
})
const error = (description: string, message: string) => ({
  description,
  content: json(ref('Error'), { error: { summary: description, value: { error: description, message } } }),
})
const badRequest = (message: string) => error('Bad Request', message)

const queryParameters = (properties: Record<string, { description?: string }>) =>
  Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema,
    ...(schema.description && { description: schema.description }),
  }))

/** Every operation may also be refused for its caller (403) or fail without a 500 (422). */
type Operation = { responses: Record<string, unknown>; [field: string]: unknown }
function withCommonResponses<T extends Record<string, Record<string, Operation>>>(paths: T): T {
  for (const methods of Object.values(paths))
    for (const operation of Object.values(methods)) {
      operation.responses['403'] ??= error(
        'Forbidden',
        'the TLS client certificate 4A07… is revoked / 90B3D51F30010000 may not read 90B3D51F30030000’s records',
      )
      operation.responses['422'] ??= error('Unprocessable Content', 'the request could not be processed')
    }
  return paths
}

const AUTHENTICATION =
  'Callers are authenticated with mutual TLS: a client certificate issued by the TLS CA of the PKI (`smetsim pki init` ' +
  'writes tls/ca.pem, tls/server.pem and a tls/<eui>.pem + .key per DCC User, and tls/auditor.pem). The User is the ' +
  "certificate's CN (OU 'DCC User'); the body never says who acts. A connection without a certificate, or with one " +
  'from another CA, is refused by TLS; a revoked certificate (revoked.json) gets 403 at its next request. A User reads ' +
  "only its own SAT records, alerts, schedules and install codes; an auditor (OU 'DCC auditor') reads every User’s " +
  'and submits nothing. The real DCC uses DCCKI certificates here, whose profile is not modelled. With ' +
  '`--insecure-local` nobody is authenticated and every answer carries a Warning header. ' +
  `Bodies: at most ${DEFAULT_BODY_LIMIT} bytes, nested at most ${BODY_LIMITS.depth} levels, ${BODY_LIMITS.nodes} values, ` +
  `strings of ${BODY_LIMITS.string} characters; every field has a maximum length. A refused POST or PUT is recorded in the ` +
  'Service Audit Trail under its caller. GET /sat and GET /alerts/{userId} are paged by a cursor (afterSeq) and by bytes ' +
  `(about ${DEFAULT_PAGE_BYTES} a page): follow nextAfterSeq (or next) until it is absent.`

/** The OpenAPI document served at /openapi.json. */
export function openApiDocument(servers: string[] = []): Record<string, unknown> {
  const satParameters = Object.entries(satQuerySchema.properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema: name === 'limit' ? { type: 'integer', minimum: 1, maximum: 10_000 } : schema,
    ...('description' in schema && { description: schema.description }),
  }))
  return {
    openapi: '3.1.0',
    info: {
      title: 'smetsim DCC',
      version: '0.1.0',
      description:
        'The emulated DCC: DUIS Service Requests as JSON, answered with the DUIS response code (HTTP 200 for every ' +
        'DUIS answer, refusals included); the CV4/CV5 Pre-Command signing round trip; the Service Audit Trail; ' +
        'alerts. HTTP errors are JSON { error, message }, never a 500. ' +
        AUTHENTICATION,
    },
    security: [{ mutualTLS: [] }],
    ...(servers.length > 0 && { servers: servers.map((url) => ({ url })) }),
    paths: withCommonResponses({
      '/service-requests': {
        post: {
          operationId: 'submitServiceRequest',
          summary: 'Submit a DUIS Service Request',
          description:
            'Access control, GBCS construction, (in-process) signing, the ACB MAC, delivery to the device. A Critical ' +
            'request (CV4) of a User without an in-process signer is answered with I99, the Pre-Command (hex) and ' +
            'the signUrl to POST it to once signed.',
          requestBody: {
            required: true,
            content: json(ref('ServiceRequest'), {
              read: {
                summary: 'SR 7.4 read instantaneous import registers (non-critical)',
                value: {
                  requestId: REQUEST_ID,
                  role: 'IS',
                  srv: '7.4',
                  commandVariant: 1,
                  deviceType: 'ESME',
                },
              },
              critical: {
                summary: 'SR 7.3 (Critical, CV4)',
                value: {
                  requestId: REQUEST_ID,
                  role: 'IS',
                  srv: '7.3',
                  commandVariant: 4,
                  deviceType: 'ESME',
                },
              },
            }),
          },
          responses: {
            '200': {
              description: 'The DUIS answer',
              content: json(ref('DuisResult'), {
                completed: {
                  summary: 'I0 with the decoded device response',
                  value: {
                    code: 'I0',
                    requestId: REQUEST_ID,
                    response: { cra: 'response', messageCode: '0052', originatorCounter: '30' },
                    responseBytes: 'DF09…',
                  },
                },
                preCommand: {
                  summary: 'I99: a Pre-Command awaiting the User signature',
                  value: {
                    code: 'I99',
                    requestId: REQUEST_ID,
                    awaitingSignature: true,
                    preCommand: 'DF09…',
                    signUrl: `/service-requests/${encodeURIComponent(REQUEST_ID)}/signature`,
                  },
                },
                refused: {
                  summary: 'E2: the SRV is not permitted',
                  value: { code: 'E2', requestId: REQUEST_ID, reason: 'IS may not use SRV 99.9' },
                },
              }),
            },
            '400': badRequest("body must have required property 'srv'"),
            '413': error('Payload Too Large', `body is larger than the limit of ${DEFAULT_BODY_LIMIT} bytes`),
            '415': error('Unsupported Media Type', 'Unsupported Media Type: text/plain'),
          },
        },
      },
      '/service-requests/{requestId}/signature': {
        post: {
          operationId: 'submitSignedPreCommand',
          summary: 'DUIS CV5: the signed Pre-Command of a request answered with I99',
          parameters: [
            {
              name: 'requestId',
              in: 'path',
              required: true,
              schema: { type: 'string' },
              description: 'The DUIS RequestID (URL-encoded).',
              example: REQUEST_ID,
            },
          ],
          requestBody: {
            required: true,
            content: json(ref('SignedPreCommand'), {
              signed: { summary: 'A signed Pre-Command', value: { signedPreCommand: 'DF09…' } },
            }),
          },
          responses: {
            '200': {
              description:
                'The DUIS answer: I0 once delivered, or E1 (the signature does not verify), E12 (nothing pending, or it expired), E4, …',
              content: json(ref('DuisResult'), {
                completed: {
                  summary: 'Delivered',
                  value: { code: 'I0', requestId: REQUEST_ID, response: {} },
                },
                nothingPending: {
                  summary: 'No Pre-Command awaits a signature',
                  value: {
                    code: 'E12',
                    requestId: REQUEST_ID,
                    reason: 'no Pre-Command … awaits a signature',
                  },
                },
              }),
            },
            '400': badRequest('body/signedPreCommand must match pattern "^([0-9A-Fa-f]{2})+$"'),
            '413': error('Payload Too Large', `body is larger than the limit of ${DEFAULT_BODY_LIMIT} bytes`),
          },
        },
      },
      '/sat': {
        get: {
          operationId: 'querySat',
          summary: 'Query the Service Audit Trail (records in seq order), a page at a time',
          description:
            "A User's query reads only records whose user (or business originator) is that User; without a user or " +
            'businessOriginator filter it is given its own. An auditor reads any.',
          parameters: satParameters,
          responses: {
            '200': {
              description: 'The matching records',
              content: json(
                {
                  type: 'object',
                  required: ['count', 'records'],
                  properties: {
                    count: { type: 'integer' },
                    records: {
                      type: 'array',
                      items: ref('SatRecord'),
                      description: `A record whose detail is over ${MAX_RECORD_DETAIL_BYTES} bytes comes without it, with detailOmitted: { bytes, reason }.`,
                    },
                    nextAfterSeq: {
                      type: 'integer',
                      description: 'More records follow: the afterSeq of the next page.',
                    },
                    next: { type: 'string', description: 'The URL of the next page (the same filter).' },
                  },
                },
                {
                  records: {
                    summary: 'A request and its decision',
                    value: {
                      count: 1,
                      records: [
                        {
                          seq: 2,
                          at: '2026-01-05T12:00:00.000Z',
                          kind: 'decision',
                          requestId: REQUEST_ID,
                          user: '90B3D51F30010000',
                          role: 'IS',
                          srv: '99.9',
                          device: '00DB120000000001',
                          code: 'E2',
                          detail: { step: 'permission' },
                          prevHash: '…',
                          hash: '…',
                        },
                      ],
                    },
                  },
                },
              ),
            },
            '400': badRequest("not an EUI-64: 'x'"),
          },
        },
      },
      '/alerts/{userId}': {
        get: {
          operationId: 'alertsForUser',
          summary: "A User's delivered device alerts, DCC Alerts and alert counters, a page at a time",
          description:
            'Each list has its own cursor: afterSeq for device alerts, dccAfterSeq for DCC Alerts; the answer gives ' +
            'nextAfterSeq / nextDccAfterSeq while more follow.',
          parameters: [
            {
              name: 'userId',
              in: 'path',
              required: true,
              schema: { type: 'string' },
              example: '90B3D51F30010000',
            },
            ...queryParameters(alertsQuerySchema.properties),
          ],
          responses: {
            '200': {
              description: 'Alerts for the User',
              content: json(ref('AlertsForUser'), {
                none: {
                  summary: 'Nothing yet',
                  value: {
                    user: '90B3D51F30010000',
                    alerts: [],
                    dccAlerts: [],
                    counters: { delivered: 0, blocked: 0, toUnregisteredSupplier: 0, undeliverable: 0 },
                  },
                },
              }),
            },
            '400': badRequest('params/userId must match pattern …'),
          },
        },
      },
      '/schedules/{userId}': {
        get: {
          operationId: 'schedulesForUser',
          summary: "A User's DCC Schedules and the results of their runs",
          description:
            'Schedules are created, read and deleted with SR 5.1, 5.2 and 5.3 (POST /service-requests, Command Variant 8; ' +
            '5.1 parameters { serviceRequest: { srv, commandVariant?, parameters? }, start, repeatIntervalMs, end? }). ' +
            'Each run is a Service Request of its own, judged by access control at its due time (E4 once the User is ' +
            'no longer the registered supplier); its DUIS answer is listed here.',
          parameters: [
            { name: 'userId', in: 'path', required: true, schema: { type: 'string' }, example: USER },
          ],
          responses: {
            '200': {
              description: 'Schedules and run results',
              content: json(ref('SchedulesForUser'), {
                one: {
                  summary: 'One schedule, run once',
                  value: {
                    user: USER,
                    schedules: [
                      {
                        scheduleId: 'DS000001',
                        owner: USER,
                        role: 'IS',
                        request: { srv: '4.1.1', deviceId: DEVICE, deviceType: 'ESME', commandVariant: 1 },
                        start: '2026-01-05T13:00:00.000Z',
                        intervalMs: 86_400_000,
                        nextRun: 2,
                        nextDue: '2026-01-06T13:00:00.000Z',
                      },
                    ],
                    results: [
                      {
                        scheduleId: 'DS000001',
                        run: 1,
                        dueAt: '2026-01-05T13:00:00.000Z',
                        ranAt: '2026-01-05T13:00:00.000Z',
                        requestId: `${USER}:${DEVICE}:1810040832000001`,
                        result: { code: 'I0', response: {} },
                      },
                    ],
                  },
                },
              }),
            },
            '400': badRequest('params/userId must match pattern …'),
          },
        },
      },
      '/install-codes/{deviceId}': {
        get: {
          operationId: 'obtainInstallCode',
          summary: "A device's install code from the MP121 register",
          description:
            'The installing Supplier always gets the code it lodged; with MP121 on, the supplier registered for the ' +
            'device now does too; anyone else gets ok: false with a code (E1, E4, E19, E081101). Every answer is ' +
            'in the Service Audit Trail (kind installCode, without the code).',
          parameters: [
            { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' }, example: DEVICE },
            { name: 'user', in: 'query', required: true, schema: { type: 'string' }, example: USER },
          ],
          responses: {
            '200': {
              description: 'The code, or why not',
              content: json(ref('InstallCodeAnswer'), {
                granted: {
                  summary: 'The gaining supplier, MP121 on',
                  value: {
                    ok: true,
                    deviceId: DEVICE,
                    installCode: '00112233445566778899AABBCCDDEEFF',
                    grantedAs: 'registered-supplier',
                    suppliedBy: '90B3D51F30010000',
                    suppliedAt: '2025-12-01T00:00:00.000Z',
                  },
                },
                refused: {
                  summary: 'MP121 off',
                  value: {
                    ok: false,
                    deviceId: DEVICE,
                    code: 'E4',
                    reason: 'only the installing supplier has the install code (MP121 is off)',
                  },
                },
              }),
            },
            '400': badRequest("querystring must have required property 'user'"),
          },
        },
        put: {
          operationId: 'lodgeInstallCode',
          summary: "The installing Supplier lodges a device's install code",
          parameters: [
            { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' }, example: DEVICE },
          ],
          requestBody: {
            required: true,
            content: json(ref('LodgeInstallCode'), {
              lodge: {
                summary: 'Lodge a code',
                value: { user: USER, installCode: '00112233445566778899AABBCCDDEEFF' },
              },
            }),
          },
          responses: {
            '200': { description: 'The entry, or why not', content: json(ref('InstallCodeAnswer')) },
            '400': badRequest("body must have required property 'installCode'"),
          },
        },
      },
      '/install-codes': {
        post: {
          operationId: 'obtainInstallCodes',
          summary: 'Install codes of many devices (bulk)',
          requestBody: {
            required: true,
            content: json(ref('InstallCodesRequest'), {
              bulk: { summary: 'Two devices', value: { user: USER, devices: [DEVICE, '00DB120000000002'] } },
            }),
          },
          responses: {
            '200': {
              description: 'One answer per device, in the order asked',
              content: json({
                type: 'object',
                required: ['user', 'results'],
                properties: {
                  user: { type: 'string' },
                  results: { type: 'array', items: ref('InstallCodeAnswer') },
                },
              }),
            },
            '400': badRequest('body/devices must NOT have fewer than 1 items'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
    }),
    components: {
      securitySchemes: {
        mutualTLS: {
          type: 'mutualTLS',
          description: 'A TLS client certificate from the PKI’s TLS CA (see info).',
        },
      },
      schemas: {
        ServiceRequest: serviceRequestSchema,
        SignedPreCommand: signedPreCommandSchema,
        DuisResult: duisResultSchema,
        SatRecord: satRecordSchema,
        AlertsForUser: alertsResponseSchema,
        SchedulesForUser: schedulesResponseSchema,
        InstallCodeAnswer: installCodeAnswerSchema,
        InstallCodesRequest: installCodesRequestSchema,
        LodgeInstallCode: lodgeInstallCodeSchema,
        Error: errorSchema,
      },
    },
  }
}

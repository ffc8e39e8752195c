/**
 * JSON Schemas of the DCC HTTP API: the route schemas fastify validates requests with (Ajv) and,
 * with the response shapes, the components of the OpenAPI description (`openapi.ts`).
 */
import { SAT_KINDS } from '../sat/record.ts'

/** Default request body limit, bytes. */
export const DEFAULT_BODY_LIMIT = 64 * 1024
/** Default and largest `limit` of GET /sat. */
export const DEFAULT_SAT_LIMIT = 1000
export const MAX_SAT_LIMIT = 10_000
/** Default and largest `limit` of GET /alerts/{userId} (per list). */
export const DEFAULT_ALERTS_LIMIT = 100
export const MAX_ALERTS_LIMIT = 1000

/**
 * Longest texts, characters. Every string a caller sends has a maximum: these for the fields
 * below, BODY_LIMITS.string (limits.ts) for any string inside `parameters`.
 */
export const MAX_LENGTH = {
  requestId: 200,
  /** An EUI-64 in any spelling parseEui takes: 16 hex digits with separators. */
  eui: 32,
  role: 16,
  srv: 32,
  deviceType: 16,
  serial: 64,
  time: 64,
} as const

const EUI_PATTERN = '^[0-9A-Fa-f]{2}([-:]?[0-9A-Fa-f]{2}){7}$'

/** POST /service-requests: a DUIS Service Request (`DuisRequest`). */
export const serviceRequestSchema = {
  type: 'object',
  required: ['requestId', 'role', 'srv', 'commandVariant', 'deviceType'],
  additionalProperties: false,
  properties: {
    requestId: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'DUIS RequestID `originator:target:counter` (EUI-64s, counter a decimal integer).',
    },
    sender: {
      type: 'string',
      maxLength: MAX_LENGTH.eui,
      description: 'The sending User (EUI-64) when not the Business Originator.',
    },
    role: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_LENGTH.role,
      description: 'DUIS User Role: IS, ES, GS, ED, GT, RSA, OU, SoLRC.',
    },
    srv: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_LENGTH.srv,
      description: "Service Reference Variant, e.g. '7.4'.",
    },
    commandVariant: {
      type: 'integer',
      minimum: 1,
      maximum: 8,
      description:
        'DUIS Command Variant: 4 for a Critical request (signed in-process or answered with a Pre-Command).',
    },
    deviceType: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_LENGTH.deviceType,
      description: "The target's device type, e.g. 'ESME'.",
    },
    parameters: {
      type: 'object',
      description:
        "The SRV's parameters (DUIS element names, lower camel case). The whole body may nest at most 10 levels, " +
        'hold at most 5000 values and strings of at most 16384 characters.',
    },
    signerCertificate: {
      type: 'string',
      maxLength: MAX_LENGTH.serial,
      description: 'Serial of the SMKI certificate the request was signed with.',
    },
    executionDateTime: {
      type: 'string',
      maxLength: MAX_LENGTH.time,
      description: 'Execution date-time of a future-dated request.',
    },
  },
} as const

/** POST /service-requests/{requestId}/signature: DUIS CV5. */
export const signedPreCommandSchema = {
  type: 'object',
  required: ['signedPreCommand'],
  additionalProperties: false,
  properties: {
    signedPreCommand: {
      type: 'string',
      pattern: '^([0-9A-Fa-f]{2})+$',
      maxLength: 60_000,
      description: 'The Pre-Command of the I99 answer, signed by the User (GBCS, hex).',
    },
  },
} as const

export const requestIdParamsSchema = {
  type: 'object',
  required: ['requestId'],
  properties: { requestId: { type: 'string', minLength: 1, maxLength: MAX_LENGTH.requestId } },
} as const

export const userParamsSchema = {
  type: 'object',
  required: ['userId'],
  properties: { userId: { type: 'string', pattern: EUI_PATTERN, description: 'The User (EUI-64).' } },
} as const

/** GET /sat query. Query values arrive as text: `limit` is checked as decimal digits. */
export const satQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: { type: 'string', pattern: EUI_PATTERN, description: 'Sender or recipient (EUI-64).' },
    businessOriginator: { type: 'string', pattern: EUI_PATTERN },
    device: { type: 'string', pattern: EUI_PATTERN },
    srv: { type: 'string', maxLength: MAX_LENGTH.srv },
    kind: { type: 'string', enum: [...SAT_KINDS] },
    requestId: { type: 'string', maxLength: MAX_LENGTH.requestId },
    from: {
      type: 'string',
      maxLength: MAX_LENGTH.time,
      description: 'Records at or after this time (ISO 8601).',
    },
    to: {
      type: 'string',
      maxLength: MAX_LENGTH.time,
      description: 'Records strictly before this time (ISO 8601).',
    },
    afterSeq: {
      type: 'string',
      pattern: '^(0|[1-9][0-9]{0,14})$',
      description: 'The cursor: records after this seq (the nextAfterSeq of the page before).',
    },
    limit: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,5}$',
      description: `At most this many records, the earliest (default ${DEFAULT_SAT_LIMIT}, at most ${MAX_SAT_LIMIT}).`,
    },
    maxBytes: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,9}$',
      description:
        'At most about this many bytes of records (default and at most the server’s page budget, 1 MiB).',
    },
  },
} as const

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'HTTP reason phrase, e.g. Bad Request.' },
    message: { type: 'string', description: 'What was wrong.' },
  },
} as const

/** The DUIS answer as JSON (`DuisResult` with bytes as hex). */
export const duisResultSchema = {
  type: 'object',
  required: ['code'],
  properties: {
    code: {
      type: 'string',
      description: 'DUIS response code: I0, I99, E1 … E30, or an SRV-specific one such as E050101.',
    },
    requestId: { type: 'string', description: 'The RequestID, normalised (absent when unreadable).' },
    reason: { type: 'string', description: 'Why, for every code but I0 and I99.' },
    awaitingSignature: { type: 'boolean', const: true },
    preCommand: { type: 'string', description: 'CV4: the Pre-Command to sign (GBCS, upper-case hex).' },
    signUrl: { type: 'string', description: 'CV4: where to POST the signed Pre-Command.' },
    response: { type: 'object', description: "I0: the device's response, decoded (GBCS frame JSON)." },
    responseBytes: { type: 'string', description: "I0: the device's response as it came (hex)." },
    dccAlerts: { type: 'array', items: { type: 'object' }, description: 'DCC Alerts this request caused.' },
    schedule: { type: 'object', description: 'SR 5.1: the DCC Schedule created; SR 5.3: the one deleted.' },
    schedules: {
      type: 'array',
      items: { type: 'object' },
      description: "SR 5.2: the User's schedules on the device.",
    },
    hanDeviceLog: {
      type: 'object',
      description: 'SR 8.11: { commsHub, deviceId, accepted, joined?, reason? } from the CHF.',
    },
  },
} as const

export const satRecordSchema = {
  type: 'object',
  required: ['seq', 'at', 'kind', 'user', 'prevHash', 'hash'],
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string' },
    kind: { type: 'string', enum: [...SAT_KINDS] },
    requestId: { type: 'string' },
    user: { type: 'string' },
    businessOriginator: { type: 'string' },
    role: { type: 'string' },
    srv: { type: 'string' },
    device: { type: 'string' },
    code: { type: 'string' },
    detail: { type: 'object' },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
} as const

export const alertCountersSchema = {
  type: 'object',
  properties: {
    delivered: { type: 'integer' },
    blocked: { type: 'integer' },
    toUnregisteredSupplier: { type: 'integer' },
    undeliverable: { type: 'integer' },
  },
} as const

export const alertsResponseSchema = {
  type: 'object',
  required: ['user', 'alerts', 'dccAlerts', 'counters'],
  properties: {
    user: { type: 'string' },
    alerts: {
      type: 'array',
      description: 'Device alerts delivered to the User, in order (bytes as hex).',
      items: {
        type: 'object',
        properties: {
          device: { type: 'string' },
          recipient: { type: 'string' },
          alertCode: { type: 'string' },
          messageCode: { type: 'integer' },
          critical: { type: 'boolean' },
          seq: { type: 'integer', description: 'DCC-wide alert number, the cursor.' },
          receivedAt: { type: 'string' },
          frame: { type: 'object' },
          bytes: { type: 'string' },
        },
      },
    },
    dccAlerts: {
      type: 'array',
      items: { type: 'object' },
      description: 'DCC Alerts raised to the User, in order.',
    },
    counters: alertCountersSchema,
    nextAfterSeq: {
      type: 'integer',
      description: 'More device alerts follow: the afterSeq of the next page.',
    },
    nextDccAfterSeq: {
      type: 'integer',
      description: 'More DCC Alerts follow: the dccAfterSeq of the next page.',
    },
  },
} as const

/** GET /install-codes/{deviceId}?user=: who asks. */
export const installCodeQuerySchema = {
  type: 'object',
  required: ['user'],
  additionalProperties: false,
  properties: { user: { type: 'string', pattern: EUI_PATTERN, description: 'The User asking (EUI-64).' } },
} as const

/** GET /alerts/{userId}: two cursors, one per list, and a count per list. */
export const alertsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    afterSeq: {
      type: 'string',
      pattern: '^(0|[1-9][0-9]{0,14})$',
      description: 'Device alerts after this seq (the nextAfterSeq of the page before).',
    },
    dccAfterSeq: {
      type: 'string',
      pattern: '^(0|[1-9][0-9]{0,14})$',
      description: 'DCC Alerts after this seq (the nextDccAfterSeq of the page before).',
    },
    limit: {
      type: 'string',
      pattern: '^([1-9][0-9]{0,2}|1000)$',
      description: `At most this many of each (default ${DEFAULT_ALERTS_LIMIT}, at most ${MAX_ALERTS_LIMIT}).`,
    },
  },
} as const

export const deviceParamsSchema = {
  type: 'object',
  required: ['deviceId'],
  properties: {
    deviceId: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_LENGTH.eui,
      description: 'The device (EUI-64).',
    },
  },
} as const

/** Most devices in one bulk install-code request (2000 EUIs fit the default 64 KiB body limit). */
export const MAX_INSTALL_CODE_DEVICES = 2000

/** POST /install-codes: install codes of many devices. */
export const installCodesRequestSchema = {
  type: 'object',
  required: ['user', 'devices'],
  additionalProperties: false,
  properties: {
    user: { type: 'string', pattern: EUI_PATTERN, description: 'The User asking (EUI-64).' },
    devices: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_INSTALL_CODE_DEVICES,
      items: { type: 'string', maxLength: MAX_LENGTH.eui },
      description: 'Device IDs (EUI-64); each gets its code or its own error.',
    },
  },
} as const

/** PUT /install-codes/{deviceId}: the installing Supplier lodges the code. */
export const lodgeInstallCodeSchema = {
  type: 'object',
  required: ['user', 'installCode'],
  additionalProperties: false,
  properties: {
    user: { type: 'string', pattern: EUI_PATTERN, description: 'The installing Supplier (EUI-64).' },
    installCode: { type: 'string', maxLength: 64, description: 'The 16-byte install code, hex.' },
  },
} as const

/** One device's answer from the install code register. */
export const installCodeAnswerSchema = {
  type: 'object',
  required: ['ok', 'deviceId'],
  properties: {
    ok: { type: 'boolean' },
    deviceId: { type: 'string' },
    installCode: { type: 'string', description: 'ok: 32 upper-case hex digits.' },
    grantedAs: { type: 'string', enum: ['installing-supplier', 'registered-supplier'] },
    suppliedBy: { type: 'string', description: 'The installing Supplier that lodged it.' },
    suppliedAt: { type: 'string', description: 'When it was lodged (ISO 8601).' },
    code: { type: 'string', description: 'Not ok: E1, E4, E19 or E081101.' },
    reason: { type: 'string' },
  },
} as const

/** GET /schedules/{userId}: a User's DCC Schedules and the results of their runs. */
export const schedulesResponseSchema = {
  type: 'object',
  required: ['user', 'schedules', 'results'],
  properties: {
    user: { type: 'string' },
    schedules: {
      type: 'array',
      items: { type: 'object' },
      description:
        'DCC Schedules (SR 5.1) the User owns: scheduleId, request, start, intervalMs, end, nextRun, nextDue.',
    },
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          scheduleId: { type: 'string' },
          run: { type: 'integer' },
          dueAt: { type: 'string' },
          ranAt: { type: 'string' },
          requestId: { type: 'string' },
          result: {
            type: 'object',
            description: 'The run’s DUIS answer (as POST /service-requests answers).',
          },
        },
      },
      description: 'Results of the runs, in order.',
    },
  },
} as const

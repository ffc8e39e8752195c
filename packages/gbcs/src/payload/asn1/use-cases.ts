/**
 * Use-case views over the ASN.1 structure (der.ts): CS02b Update Security Credentials
 * (command, response, future-dated alert 0x00CB) and GCS28 Set Clock on the GSME.
 *
 * A view is { name, ...the GBCS fields (names.ts, schema.ts value forms) }, plus
 * `lengthOctets: { [view path]: n }` when some length was sent in a non-minimal form.
 * interpret() returns undefined unless build() of its result gives back the very structure it
 * was given, so a payload that differs from the GBCS shape anywhere keeps its structure only.
 */
import { type JsonObject, jsonEqual, obj } from '../dlms/json.ts'
import type { Cra, Json, PayloadContext, UseCaseCodec } from '../types.ts'
import type { DerNode } from './der.ts'
import {
  CELL_USAGES,
  CREDENTIALS_REPLACEMENT_MODES,
  DEVICE_TIME_STATUS,
  KEY_USAGE_BITS,
  REMOTE_PARTY_ROLES,
  SEQ_NUMBER_USAGES,
  STATUS_CODES,
  TIME_BASED_CPV_CHECKS,
} from './names.ts'
import {
  alertCode,
  bits,
  der,
  enumerated,
  field,
  fromView,
  generalizedTime,
  implicit,
  integer,
  type Lengths,
  nul,
  octets,
  optional,
  type Schema,
  seq,
  seqOf,
  toView,
} from './schema.ts'

export type View = { name: string; [field: string]: Json }

// ---------------------------------------------------------------------------------------------
// GBCS ASN.1 types

const seqNumber = integer()
const remotePartyRole = integer(REMOTE_PARTY_ROLES)
const credentialsReplacementMode = integer(CREDENTIALS_REPLACEMENT_MODES)

/** TrustAnchorCellIdentifier: which cell of the device's trust anchor store. */
export const TRUST_ANCHOR_CELL_IDENTIFIER: Schema = seq([
  field('remotePartyRole', remotePartyRole),
  field('keyUsage', bits(KEY_USAGE_BITS)),
  optional('cellUsage', integer(CELL_USAGES)),
])

const specialistSeqNumber = seq([
  field('seqNumberUsage', integer(SEQ_NUMBER_USAGES)),
  field('seqNumber', seqNumber),
])

const remotePartySeqNumberChange = seq([
  field('remotePartyRole', remotePartyRole),
  field('floorSeqNumber', seqNumber),
  optional('specialistFloorSeqNumbers', seqOf(specialistSeqNumber)),
])

const authorisingRemotePartyControl = seq([
  field('credentialsReplacementMode', credentialsReplacementMode),
  optional('plaintextSymmetricKey', octets('80')),
  optional('applyTimeBasedCPVChecks', integer(TIME_BASED_CPV_CHECKS, '81')),
  optional('authorisingRemotePartyTACellIdentifier', implicit('A2', TRUST_ANCHOR_CELL_IDENTIFIER)),
  field('authorisingRemotePartySeqNumber', implicit('83', seqNumber)),
  optional('newRemotePartyFloorSeqNumber', implicit('84', seqNumber)),
  optional('newRemotePartySpecialistFloorSeqNumbers', seqOf(specialistSeqNumber, 'A5')),
  optional('otherRemotePartySeqNumberChanges', seqOf(remotePartySeqNumberChange, 'A6')),
])

const trustAnchorReplacement = seq([
  field('replacementCertificate', der),
  field('targetTrustAnchorCell', TRUST_ANCHOR_CELL_IDENTIFIER),
])

/** CS02b command: UpdateSecurityCredentials. */
export const UPDATE_SECURITY_CREDENTIALS: Schema = seq([
  field('authorisingRemotePartyControl', authorisingRemotePartyControl),
  field('replacements', seqOf(trustAnchorReplacement)),
  field('certificationPathCertificates', seqOf(der)),
  optional('executionDateTime', generalizedTime),
])

const replacementOutcome = seq([
  field('affectedTrustAnchorCell', TRUST_ANCHOR_CELL_IDENTIFIER),
  field('statusCode', enumerated(STATUS_CODES)),
  field('existingSubjectUniqueID', octets()),
  field('existingSubjectKeyIdentifier', octets()),
  field('replacingSubjectUniqueID', octets()),
  field('replacingSubjectKeyIdentifier', octets()),
])

const executionOutcome = seq([
  field('authorisingRemotePartySeqNumber', seqNumber),
  field('credentialsReplacementMode', credentialsReplacementMode),
  field('remotePartySeqNumberChanges', seqOf(remotePartySeqNumberChange)),
  field('replacementOutcomes', seqOf(replacementOutcome)),
])

/**
 * CS02b response: UpdateSecurityCredentialsResponse, commandAccepted (NULL, no view key)
 * then the execution outcome when the command was executed at once.
 */
export const UPDATE_SECURITY_CREDENTIALS_RESPONSE: Schema = seq([
  field('commandAccepted', nul),
  optional('executionOutcome', executionOutcome),
])

/** 0x00CB: the alert of a future-dated CS02b when it is executed (8F66) or not (8F67). */
export const UPDATE_SECURITY_CREDENTIALS_ALERT: Schema = seq([
  field('alertCode', alertCode),
  field('executionDateTime', generalizedTime),
  field('executionOutcome', executionOutcome),
])

/** GCS28 command: the validity interval in which the GSME takes its time from the CHF. */
export const SET_TIME_COMMAND: Schema = seq([
  field('validityIntervalStart', generalizedTime),
  field('validityIntervalEnd', generalizedTime),
])

/** GCS28 response. */
export const SET_TIME_RESPONSE: Schema = seq([
  field('deviceTime', generalizedTime),
  field('deviceTimeStatus', integer(DEVICE_TIME_STATUS)),
])

// ---------------------------------------------------------------------------------------------
// Codecs

interface UseCase {
  messageCodes: readonly number[]
  /** Per CRA flag: the view name and the payload's schema. */
  shapes: Partial<Record<Cra, { name: string; schema: Schema }>>
}

const CS02B_CODES = [0x0100, 0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0106, 0x0107, 0x0108, 0x0109]
const CS02B = 'CS02b Update Security Credentials'
const GCS28 = 'GCS28 Set Clock on the GSME'

export const ASN1_USE_CASES: readonly UseCase[] = [
  {
    messageCodes: CS02B_CODES,
    shapes: {
      command: { name: CS02B, schema: UPDATE_SECURITY_CREDENTIALS },
      response: { name: CS02B, schema: UPDATE_SECURITY_CREDENTIALS_RESPONSE },
    },
  },
  {
    messageCodes: [0x00cb],
    shapes: { alert: { name: `${CS02B} Alert`, schema: UPDATE_SECURITY_CREDENTIALS_ALERT } },
  },
  {
    messageCodes: [0x007f],
    shapes: {
      command: { name: GCS28, schema: SET_TIME_COMMAND },
      response: { name: GCS28, schema: SET_TIME_RESPONSE },
    },
  },
]

function shapeOf(u: UseCase, ctx: PayloadContext): { name: string; schema: Schema } {
  const s = u.shapes[ctx.cra]
  if (!s) throw new TypeError(`no ${ctx.cra} view for message code 0x${ctx.messageCode.toString(16)}`)
  return s
}

function build(u: UseCase, view: View, ctx: PayloadContext): Json {
  const { schema } = shapeOf(u, ctx)
  const { name: _name, lengthOctets, ...fields } = obj(view, 'useCase')
  const lengths: Lengths = {}
  if (lengthOctets !== undefined) {
    for (const [k, v] of Object.entries(obj(lengthOctets, 'useCase.lengthOctets'))) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4)
        throw new TypeError(`useCase.lengthOctets.${k}: expected an integer 1..4`)
      lengths[k] = v
    }
  }
  return fromView(schema, fields, '$', lengths) as unknown as JsonObject
}

function interpret(u: UseCase, structure: Json, ctx: PayloadContext): View | undefined {
  const shape = u.shapes[ctx.cra]
  if (!shape) return undefined
  try {
    const lengths: Lengths = {}
    const v = toView(shape.schema, structure as unknown as DerNode, '$', lengths)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
    const view: View = {
      name: shape.name,
      ...v,
      ...(Object.keys(lengths).length > 0 && { lengthOctets: lengths }),
    }
    return jsonEqual(build(u, view, ctx), structure) ? view : undefined
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) return undefined
    throw e
  }
}

function codec(u: UseCase): UseCaseCodec {
  return {
    format: 'asn1',
    messageCodes: u.messageCodes,
    cra: Object.keys(u.shapes) as Cra[],
    interpret: (structure, ctx) => interpret(u, structure, ctx),
    build: (view, ctx) => build(u, view, ctx),
  }
}

/** The ASN.1 use-case views, for the payload dispatcher. */
export const asn1UseCases: readonly UseCaseCodec[] = ASN1_USE_CASES.map(codec)

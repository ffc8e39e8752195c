/**
 * Service Request → GBCS command: for each Service Reference Variant the emulated devices
 * execute, the GBCS use case, its message code and the use-case view the payload is built from
 * (the views of @smetsim/gbcs, in the shape of the DCC's Reference Test Data Set commands).
 *
 * A DUIS Service Request names an SRV, a target device (its EUI-64 and device type) and the
 * SRV's parameters. Which use case carries it depends on the device type (ECSnn for an ESME,
 * GCSnn for a GSME) and for SR 1.6 on the payment mode asked for. An SRV this module does not
 * know, or a device type the SRV does not apply to, is a ServiceRequestError; the access-control
 * layer answers it with the DUIS response codes (E11/E12).
 */
import { type Eui64, parseEui } from '@smetsim/core'
import { type Json, messageCodeOf } from '@smetsim/gbcs'

/** The device types the emulated firmware runs commands on. */
export type MeterType = 'ESME' | 'GSME'

/** A use-case view: the GBCS use-case name and its fields (see @smetsim/gbcs payload views). */
export type UseCaseView = { name: string; [field: string]: Json }

/** A DUIS Service Request, as far as building its GBCS command needs it. */
export interface GbcsServiceRequest {
  /** Service Reference Variant, e.g. '7.3'. */
  srv: string
  /** The target device's EUI-64. */
  target: Eui64 | string
  deviceType: MeterType
  /** The SRV's parameters (DUIS element names in lower camel case), as JSON. */
  parameters?: { [name: string]: Json }
}

/**
 * What the originator's command is: the GBCS use case, message code and payload — its use-case
 * view (the @smetsim/gbcs views), or for a use case gbcs has no view of, the DLMS structure itself.
 */
export interface GbcsCommandSpec {
  srv: string
  /** GBCS use case, e.g. 'ECS44'. */
  useCase: string
  messageCode: number
  view?: UseCaseView
  /** The DLMS APDU structure (format 'dlms'), when there is no view. */
  structure?: Json
}

/**
 * The context a view depends on: the originator (a User, or the CoS Party for SR 6.23) and its
 * Originator Counter (the DUIS RequestID counter), which some views repeat (the protected
 * reads' transaction id, CS02b's authorisingRemotePartySeqNumber), and the DCC's clock for the
 * fields GBCS fills with the time of issue.
 */
export interface ViewContext {
  originator: Eui64
  counter: bigint
  /** Epoch ms; default Date.now(). */
  now?: number
}

export type ServiceRequestErrorKind = 'unknown-srv' | 'wrong-device-type' | 'not-emulated' | 'bad-parameters'

/** A Service Request that cannot become a GBCS command; `kind` says why. */
export class ServiceRequestError extends Error {
  override readonly name = 'ServiceRequestError'
  constructor(
    readonly kind: ServiceRequestErrorKind,
    message: string,
  ) {
    super(message)
  }
}

type Params = { [name: string]: Json }
type BuildContext = ViewContext & { target: Eui64 }
type Built = { useCase: string; view: UseCaseView } | { useCase: string; structure: Json }
type Builder = (p: Params, ctx: BuildContext) => Built

interface SrvEntry {
  name: string
  /** DUIS: the User signs the command (CV4/CV5 round trip or an in-process signer). */
  critical: boolean
  builders: Partial<Record<MeterType, Builder>>
  /** Device types the SRV applies to in DUIS but whose use case is not emulated. */
  notEmulated?: Partial<Record<MeterType, string>>
}

// ---------------------------------------------------------------------------------------------
// Parameter readers

const bad = (message: string): never => {
  throw new ServiceRequestError('bad-parameters', message)
}

/** GBCS date-time of a view: 'now', 'unspecified', or an instant to the second. */
function dateTime(p: Params, key: string, fallback = 'now'): string {
  const v = p[key]
  if (v === undefined || v === null) return fallback
  if (v === 'now' || v === 'unspecified') return v
  if (typeof v !== 'string' || !Number.isFinite(Date.parse(v)))
    return bad(`parameter ${key}: expected 'now', 'unspecified' or an ISO 8601 date-time`)
  return isoSeconds(Date.parse(v))
}

/** An instant to the second, as the views write it: YYYY-MM-DDTHH:MM:SSZ. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`
}

function integer(p: Params, key: string, fallback: number | undefined, min: number, max: number): number {
  const v = p[key]
  if (v === undefined || v === null) {
    if (fallback === undefined) return bad(`parameter ${key} is required`)
    return fallback
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    return bad(`parameter ${key}: expected a whole number from ${min} to ${max}`)
  return v
}

function flag(p: Params, key: string, fallback: boolean): boolean {
  const v = p[key]
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'boolean') return bad(`parameter ${key}: expected true or false`)
  return v
}

function hexString(v: Json | undefined, key: string): string {
  if (typeof v !== 'string' || !/^(?:[0-9A-Fa-f]{2})+$/.test(v))
    return bad(`parameter ${key}: expected DER as hex digits`)
  return v.toUpperCase()
}

/** The DLMS invoke-id of an ESME command: given, or the low 24 bits of the originator counter. */
const invokeId = (p: Params, ctx: ViewContext) =>
  integer(p, 'invokeId', Number(ctx.counter & 0xffffffn), 0, 0xffffffff)
/** The ZCL sequence number of a GSME command: given, or the low byte of the originator counter. */
const sequenceNumber = (p: Params, ctx: ViewContext) =>
  integer(p, 'sequenceNumber', Number(ctx.counter & 0xffn), 0, 255)

const esme = (useCase: string, name: string): Builder => {
  return (p, ctx) => ({ useCase, view: { name: `${useCase} ${name}`, invokeId: invokeId(p, ctx) } })
}

const gsmeRead = (useCase: string, name: string): Builder => {
  return (p, ctx) => ({
    useCase,
    view: { name: `${useCase} ${name}`, sequenceNumber: sequenceNumber(p, ctx) },
  })
}

/** GCS32 / GCS39: the ZSE Change Supply command; the proposed status is fixed by the use case. */
const changeSupply = (useCase: string, name: string): Builder => {
  return (p, ctx) => ({
    useCase,
    view: {
      name: `${useCase} ${name}`,
      sequenceNumber: sequenceNumber(p, ctx),
      providerId: integer(p, 'providerId', 0, 0, 0xffffffff),
      issuerEventId: integer(p, 'issuerEventId', Number(ctx.counter & 0xffffffffn), 0, 0xffffffff),
      requestDateTime: 'now',
      executionDateTime: dateTime(p, 'executionDateTime'),
      acknowledgeRequired: flag(p, 'acknowledgeRequired', true),
    },
  })
}

/** ECS17b / ECS19: get_protected_attributes of one collection, encrypted for the originator. */
const protectedRead = (useCase: string, name: string, collection: string): Builder => {
  return (p, ctx) => ({
    useCase,
    view: {
      name: `${useCase} ${name}`,
      invokeId: invokeId(p, ctx),
      objects: [{ classId: 1, instance: collection, attribute: 2, dataIndex: 0 }],
      protection: [
        {
          protectionType: 2,
          // GBCS: CRA flag 04 (payload encryption) then the command's originator counter.
          transactionId: `04${ctx.counter.toString(16).toUpperCase().padStart(16, '0')}`,
          originatorSystemTitle: ctx.originator,
          recipientSystemTitle: ctx.target,
          otherInformation: '',
          keyInfoType: 2,
          keyParameters: '02',
          keyCipheredData: '',
        },
      ],
    },
  })
}

const paymentModeOf = (p: Params): 'credit' | 'prepayment' => {
  const mode = p.paymentMode
  if (mode !== 'credit' && mode !== 'prepayment')
    return bad("parameter paymentMode: expected 'credit' or 'prepayment'")
  return mode
}

/**
 * SR 1.6 on an ESME: ECS02 (credit) or ECS03 (prepayment, with the disablement threshold).
 * The suspend-debt choices become the credit-charge configuration: time debts are collected
 * from the meter balance, while the supply is disabled unless SuspendDebtDisabled, and from
 * emergency credit unless SuspendDebtEmergency.
 */
const paymentModeEsme: Builder = (p, ctx): { useCase: string; view: UseCaseView } => {
  const mode = paymentModeOf(p)
  const activationDateTime = dateTime(p, 'executionDateTime')
  const collect = (credit: string, charge: string, whenDisconnected: boolean): Json => ({
    credit,
    charge,
    collectWhenSupplyDisconnected: whenDisconnected,
    collectInLoadLimitingPeriods: true,
    collectInFriendlyCreditPeriods: true,
  })
  if (mode === 'credit')
    return {
      useCase: 'ECS02',
      view: {
        name: 'ECS02 Set Payment Mode to Credit',
        invokeId: invokeId(p, ctx),
        paymentMode: 'credit',
        accountStatus: 'active',
        creditChargeConfiguration: [
          collect('meterBalance', 'priceMatrix', true),
          collect('meterBalance', 'standingCharge', true),
        ],
        activationDateTime,
      },
    }
  const suspendDisabled = flag(p, 'suspendDebtDisabled', true)
  const suspendEmergency = flag(p, 'suspendDebtEmergency', false)
  const debts = ['debtRecoveryRate1', 'debtRecoveryRate2'].flatMap((charge) => [
    collect('meterBalance', charge, !suspendDisabled),
    ...(suspendEmergency ? [] : [collect('emergencyCredit', charge, !suspendDisabled)]),
  ])
  return {
    useCase: 'ECS03',
    view: {
      name: 'ECS03 Set Payment Mode to Prepayment',
      invokeId: invokeId(p, ctx),
      paymentMode: 'prepayment',
      accountStatus: 'active',
      disablementThreshold: integer(p, 'disablementThreshold', 0, -0x80000000, 0x7fffffff),
      creditChargeConfiguration: [
        collect('meterBalance', 'priceMatrix', true),
        collect('meterBalance', 'standingCharge', true),
        ...debts,
      ],
      disablementThresholdActivationDateTime: activationDateTime,
      activationDateTime,
    },
  }
}

/** SR 1.6 on a GSME: GCS02 / GCS03, the ZSE Change Payment Mode command. */
const paymentModeGsme: Builder = (p, ctx) => {
  const mode = paymentModeOf(p)
  const prepayment = mode === 'prepayment'
  const useCase = prepayment ? 'GCS03' : 'GCS02'
  return {
    useCase,
    view: {
      name: prepayment ? 'GCS03 Set Payment Mode to Prepayment' : 'GCS02 Set Payment Mode to Credit',
      sequenceNumber: sequenceNumber(p, ctx),
      providerId: integer(p, 'providerId', 0, 0, 0xffffffff),
      issuerEventId: integer(p, 'issuerEventId', Number(ctx.counter & 0xffffffffn), 0, 0xffffffff),
      executionDateTime: dateTime(p, 'executionDateTime'),
      paymentMode: mode,
      ...(prepayment && {
        suspendDebtDisabled: flag(p, 'suspendDebtDisabled', true),
        suspendDebtEmergency: flag(p, 'suspendDebtEmergency', false),
      }),
      disablementThreshold: integer(p, 'disablementThreshold', 0, -0x80000000, 0x7fffffff),
    },
  }
}

/** SR 2.2 on an ESME: CS01a carries the User's UTRN (20 digits). */
const topUp: Builder = (p, ctx) => {
  const utrn = p.utrn
  if (typeof utrn !== 'string' || !/^\d{20}$/.test(utrn)) return bad('parameter utrn: expected 20 digits')
  return {
    useCase: 'CS01a',
    view: { name: 'CS01a Apply Prepayment Top Up', invokeId: invokeId(p, ctx), utrn },
  }
}

/** The validity interval of a clock command: given, or five minutes from the DCC's clock. */
function validity(
  p: Params,
  ctx: ViewContext,
): { validityIntervalStart: string; validityIntervalEnd: string } {
  const now = ctx.now ?? Date.now()
  const start = dateTime(p, 'validityIntervalStart', isoSeconds(now))
  const end = dateTime(p, 'validityIntervalEnd', isoSeconds(Date.parse(start) + 5 * 60_000))
  if (!(Date.parse(start) <= Date.parse(end)))
    return bad('parameters validityIntervalStart and validityIntervalEnd: the interval is empty or not dated')
  return { validityIntervalStart: start, validityIntervalEnd: end }
}

const clockEsme: Builder = (p, ctx) => ({
  useCase: 'ECS70',
  view: {
    name: 'ECS70 Set Clock',
    invokeId: invokeId(p, ctx),
    clockBase: 5,
    presetTime: 'unspecified',
    ...validity(p, ctx),
  },
})

const clockGsme: Builder = (p, ctx) => ({
  useCase: 'GCS28',
  view: { name: 'GCS28 Set Clock on the GSME', ...validity(p, ctx) },
})

/** SR 2.5 on a GSME: GCS06, ZSE Select Available Emergency Credit. */
const emergencyCreditGsme: Builder = (p, ctx) => ({
  useCase: 'GCS06',
  view: {
    name: 'GCS06 Activate Emergency Credit',
    sequenceNumber: sequenceNumber(p, ctx),
    commandIssueDateTime: 'now',
    originatingDevice: 0,
  },
})

/**
 * SR 6.23 as the CoS Party builds it: CS02b supplierByTransCoS, authorised by the
 * transitionalCoS cell with the CoS Party's counter, replacing the supplier's digital signing,
 * key agreement and (when given) prepayment top-up key agreement cells, and setting the
 * supplier floor counters. Parameters: `supplierDigitalSigningCertificate`,
 * `supplierKeyAgreementCertificate`, optional `supplierPrepaymentTopUpCertificate` (DER hex),
 * `certificationPath` (up to 3 DER hex certificates), `supplierFloorSeqNumber`, optional
 * `supplierPrepaymentTopUpFloorSeqNumber`, `applyTimeBasedCPVChecks`, `executionDateTime`.
 */
const changeOfSupplier: Builder = (p, ctx) => {
  const cell = (keyUsage: string, cellUsage?: string): Json => ({
    remotePartyRole: 'supplier',
    keyUsage: [keyUsage],
    ...(cellUsage && { cellUsage }),
  })
  const replacements: Json[] = [
    {
      replacementCertificate: hexString(
        p.supplierDigitalSigningCertificate,
        'supplierDigitalSigningCertificate',
      ),
      targetTrustAnchorCell: cell('digitalSignature'),
    },
    {
      replacementCertificate: hexString(p.supplierKeyAgreementCertificate, 'supplierKeyAgreementCertificate'),
      targetTrustAnchorCell: cell('keyAgreement'),
    },
  ]
  if (p.supplierPrepaymentTopUpCertificate !== undefined && p.supplierPrepaymentTopUpCertificate !== null)
    replacements.push({
      replacementCertificate: hexString(
        p.supplierPrepaymentTopUpCertificate,
        'supplierPrepaymentTopUpCertificate',
      ),
      targetTrustAnchorCell: cell('keyAgreement', 'prePaymentTopUp'),
    })
  const path = p.certificationPath ?? []
  if (!Array.isArray(path) || path.length > 3)
    return bad('parameter certificationPath: expected up to 3 DER certificates as hex')
  const floor = integer(p, 'supplierFloorSeqNumber', undefined, 0, Number.MAX_SAFE_INTEGER)
  const topUpFloor = p.supplierPrepaymentTopUpFloorSeqNumber
  const applyChecks = p.applyTimeBasedCPVChecks
  if (applyChecks !== undefined && typeof applyChecks !== 'boolean')
    return bad('parameter applyTimeBasedCPVChecks: expected true or false')
  if (ctx.counter > BigInt(Number.MAX_SAFE_INTEGER))
    return bad('the CoS Party counter is above what the CS02b view carries')
  return {
    useCase: 'CS02b',
    view: {
      name: 'CS02b Update Security Credentials',
      authorisingRemotePartyControl: {
        credentialsReplacementMode: 'supplierByTransCoS',
        ...(applyChecks !== undefined && { applyTimeBasedCPVChecks: applyChecks ? 'apply' : 'disapply' }),
        authorisingRemotePartyTACellIdentifier: {
          remotePartyRole: 'transitionalCoS',
          keyUsage: ['digitalSignature'],
        },
        authorisingRemotePartySeqNumber: Number(ctx.counter),
        otherRemotePartySeqNumberChanges: [
          {
            remotePartyRole: 'supplier',
            floorSeqNumber: floor,
            ...(topUpFloor !== undefined &&
              topUpFloor !== null && {
                specialistFloorSeqNumbers: [
                  {
                    seqNumberUsage: 'prePaymentTopUp',
                    seqNumber: integer(
                      p,
                      'supplierPrepaymentTopUpFloorSeqNumber',
                      0,
                      0,
                      Number.MAX_SAFE_INTEGER,
                    ),
                  },
                ],
              }),
          },
        ],
      },
      replacements,
      certificationPathCertificates: path.map((c, i) => hexString(c, `certificationPath[${i}]`)),
      ...(p.executionDateTime !== undefined &&
        p.executionDateTime !== null && { executionDateTime: dateTime(p, 'executionDateTime') }),
    },
  }
}

/**
 * SR 4.16 Read Active Power Import on an ESME: ECS17c, a DLMS get of the Power Import
 * Collection (class 1, 0.0.94.44.34.20, attribute 2), as the RTDS 4.5.0 ECS17c_4.16_SUCCESS_COMMAND
 * builds it (@smetsim/gbcs's 'ECS17c Read Active Power Import' view). One of the SRVs DUIS lets
 * the DCC schedule.
 */
const activePowerImport: Builder = esme('ECS17c', 'Read Active Power Import')

/**
 * SR 6.8 on an ESME: ECS30, the billing calendar as the execution_time of the billing Single
 * Action Schedule. `executionTimes` is that attribute's entries as the view writes them, each
 * `{ time, date }`: a COSEM time (4 bytes: hour minute second hundredths) and date (5 bytes:
 * year(2) month day weekday) in hex, 0xFF bytes (0xFFFF year) wildcards — e.g. 00:30 every day
 * is `{ time: '001E0000', date: 'FFFFFFFFFF' }`. Which dates the meter can use is the meter's to
 * judge (it answers `hardware-fault`); here only the shape is checked. The DUIS element names
 * for the calendar are not taken from the XSD here (unconfirmed): the parameter is the view's.
 */
const billingCalendarEsme: Builder = (p, ctx) => {
  const entries = p.executionTimes
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > 64)
    return bad('parameter executionTimes: expected 1 to 64 { time, date } entries')
  const executionTimes = entries.map((e, i) => {
    const o = (e ?? {}) as { time?: Json; date?: Json }
    if (typeof o.time !== 'string' || !/^[0-9A-Fa-f]{8}$/.test(o.time))
      return bad(`parameter executionTimes[${i}].time: expected a COSEM time, 8 hex digits`)
    if (typeof o.date !== 'string' || !/^[0-9A-Fa-f]{10}$/.test(o.date))
      return bad(`parameter executionTimes[${i}].date: expected a COSEM date, 10 hex digits`)
    return { time: o.time.toUpperCase(), date: o.date.toUpperCase() }
  })
  return {
    useCase: 'ECS30',
    view: { name: 'ECS30 Update Billing Calendar', invokeId: invokeId(p, ctx), executionTimes },
  }
}

const clock: SrvEntry = {
  name: 'Synchronise Clock',
  critical: true,
  builders: { ESME: clockEsme, GSME: clockGsme },
}

/** The SRVs whose GBCS commands the DCC builds for the emulated devices. */
const SRVS: Readonly<Record<string, SrvEntry>> = {
  '1.6': {
    name: 'Update Payment Mode',
    critical: true,
    builders: { ESME: paymentModeEsme, GSME: paymentModeGsme },
  },
  '2.2': {
    name: 'Top Up Device',
    critical: false,
    builders: { ESME: topUp },
    notEmulated: { GSME: 'CS01b (top-up on a GSME) is not emulated' },
  },
  '2.5': {
    name: 'Activate Emergency Credit',
    critical: true,
    builders: { ESME: esme('ECS09', 'Activate Emergency Credit'), GSME: emergencyCreditGsme },
  },
  '4.1.1': {
    name: 'Read Instantaneous Import Registers',
    critical: false,
    builders: {
      ESME: protectedRead('ECS17b', 'Read Import Energy Registers', '0.0.94.44.34.10'),
      GSME: gsmeRead('GCS13a', 'Read Import Registers'),
    },
  },
  '4.3': {
    name: 'Read Instantaneous Prepay Values',
    critical: false,
    builders: {
      ESME: protectedRead('ECS19', 'Read Prepayment Registers', '0.0.94.44.34.30'),
      GSME: gsmeRead('GCS14', 'Read Prepayment Values'),
    },
  },
  '4.16': {
    name: 'Read Active Power Import',
    critical: false,
    builders: { ESME: activePowerImport },
  },
  '6.11': clock,
  '6.8': {
    name: 'Update Billing Calendar',
    critical: true,
    builders: { ESME: billingCalendarEsme },
    notEmulated: { GSME: 'GCS25 (the GSME billing period) is not built by the DCC here' },
  },
  '6.23': {
    name: 'Update Security Credentials (CoS)',
    // Non-critical for the User (CV1): the CoS Party signs the command, not the User.
    critical: false,
    builders: { ESME: changeOfSupplier, GSME: changeOfSupplier },
  },
  '7.1': { name: 'Enable Supply', critical: true, builders: { ESME: esme('ECS42', 'Enable Supply') } },
  '7.2': {
    name: 'Disable Supply',
    critical: true,
    builders: { ESME: esme('ECS43', 'Disable Supply'), GSME: changeSupply('GCS32', 'Restrict Supply') },
  },
  '7.3': {
    name: 'Arm Supply',
    critical: true,
    builders: { ESME: esme('ECS44', 'Arm Supply'), GSME: changeSupply('GCS39', 'Arm Supply') },
  },
  '7.4': {
    name: 'Read Supply Status',
    critical: false,
    builders: { ESME: esme('ECS45', 'Read Supply Status'), GSME: gsmeRead('GCS33', 'Read Supply Status') },
  },
  '8.1.1': { ...clock, name: 'Commission Device' },
}

/** The SRVs this module builds GBCS commands for. */
export const GBCS_SRVS: readonly string[] = Object.keys(SRVS)

/** The SRV's DUIS name, or undefined for an SRV this module does not build. */
export function srvName(srv: string): string | undefined {
  return SRVS[srv]?.name
}

/**
 * Whether the SRV is Critical in DUIS: the User signs the GBCS command (an in-process signer, or
 * the CV4 Pre-Command / CV5 signed-command round trip) before the ACB MACs it. SR 6.23 is not:
 * the User sends it as CV1 and the CoS Party signs. Throws for an SRV this module does not build.
 */
export function isCritical(srv: string): boolean {
  const entry = SRVS[srv]
  if (!entry) throw unknownSrv(srv)
  return entry.critical
}

const unknownSrv = (srv: string) =>
  new ServiceRequestError(
    'unknown-srv',
    `SRV ${JSON.stringify(srv)} has no GBCS command here (known: ${GBCS_SRVS.join(', ')})`,
  )

/**
 * The GBCS command for a Service Request: use case, message code and use-case view. Throws a
 * ServiceRequestError: 'unknown-srv', 'wrong-device-type' (the SRV does not apply to that
 * device type), 'not-emulated' or 'bad-parameters'.
 */
export function commandFor(sr: GbcsServiceRequest, ctx: ViewContext): GbcsCommandSpec {
  const entry = SRVS[sr.srv]
  if (!entry) throw unknownSrv(sr.srv)
  const build = entry.builders[sr.deviceType]
  if (!build) {
    const why = entry.notEmulated?.[sr.deviceType]
    if (why) throw new ServiceRequestError('not-emulated', `SR ${sr.srv} ${entry.name}: ${why}`)
    const types = Object.keys(entry.builders).join(' or ')
    throw new ServiceRequestError(
      'wrong-device-type',
      `SR ${sr.srv} ${entry.name} is for ${types}, not for a ${String(sr.deviceType)}`,
    )
  }
  let target: Eui64
  try {
    target = parseEui(String(sr.target))
  } catch {
    return bad(`target ${JSON.stringify(sr.target)} is not an EUI-64`)
  }
  const parameters = sr.parameters ?? {}
  if (typeof parameters !== 'object' || Array.isArray(parameters))
    return bad('parameters: expected a JSON object')
  const built = build(parameters, { ...ctx, target })
  const useCase = built.useCase
  const messageCode = messageCodeOf(useCase)
  if (messageCode === undefined) throw new Error(`no message code for ${useCase}`)
  // CS02b shares its use case across modes: the mode gives the code (0x0100 + mode 7).
  return { srv: sr.srv, ...built, messageCode: useCase === 'CS02b' ? 0x0107 : messageCode }
}

/**
 * SR 6.23 Update Security Credentials (CoS): the step of the pipeline that replaces the device's
 * supplier certificates with the gaining Supplier's. The DCC's CoS Party, not the User, builds and
 * signs CS02b supplierByTransCoS (`changeOfSupplierCommand`) with the gaining Supplier's
 * certificates from the SMKI repository; the CoS Party's Originator Counter is kept here and
 * advances with every command built.
 *
 * After the device's answer, DCC Alerts: SecurityCredentialsUpdated to the gaining Supplier with
 * the replacement outcomes, and, when a certificate was replaced, ChangeOfSupplier to the losing
 * Supplier (the one registered just before the gaining Supplier's registration took effect).
 * Recipients and codes of both are unconfirmed.
 */
import { type Eui64, toHex } from '@smetsim/core'
import type { Json, PublicKeyRef } from '@smetsim/gbcs'
import type { AccessGranted } from '../access/check.ts'
import { changeOfSupplierCommand } from '../gbcs/construct.ts'
import type { GbcsServiceRequest } from '../gbcs/service-requests.ts'
import { NOT_BUILT_CODE, SUCCESS_CODE } from './codes.ts'
import type { PipelineContext, PipelineState } from './context.ts'
import type { DccAlert, DuisResult } from './types.ts'

/** SR 6.23 from access-granted request to DUIS answer. */
export type ChangeOfSupplierStep = (
  p: PipelineState,
  granted: AccessGranted,
  sr: GbcsServiceRequest,
  requestCounter: bigint,
  deviceKa: PublicKeyRef,
  now: number,
) => Promise<DuisResult>

export function createChangeOfSupplier(
  ctx: Pick<PipelineContext, 'config' | 'backend' | 'finish' | 'deliver' | 'buildRefusal' | 'raiseDccAlert'>,
): ChangeOfSupplierStep {
  const { config, backend, finish, raiseDccAlert } = ctx
  let cosCounter = config.cos.counter ?? 1n

  /** The supplier registered just before the gaining Supplier's registration took effect. */
  function losingSupplier(granted: AccessGranted): Eui64 | undefined {
    const reg = granted.registration
    if (!reg) return undefined
    const before = new Date(Date.parse(reg.from) - 1)
    return config.registration.registeredSupplierAt(reg.mpxn, before)?.user
  }

  return async function changeOfSupplier(p, granted, sr, requestCounter, deviceKa, now) {
    const certs = config.userCertificates(p.originator)
    if (!certs?.keyAgreement)
      return finish(
        'decision',
        p,
        NOT_BUILT_CODE,
        `the SMKI repository has no certificates of ${p.originator}`,
        {
          step: 'build',
        },
      )
    const hex = (der: Uint8Array) => toHex(der).toUpperCase()
    const given = sr.parameters ?? {}
    const parameters: { [name: string]: Json } = {
      supplierDigitalSigningCertificate: hex(certs.digitalSigning),
      supplierKeyAgreementCertificate: hex(certs.keyAgreement),
      ...(certs.prepaymentTopUp && { supplierPrepaymentTopUpCertificate: hex(certs.prepaymentTopUp) }),
      certificationPath: (certs.certificationPath ?? []).map(hex),
      // The gaining Supplier's next commands must count above the floor: its RequestID counter (unconfirmed).
      supplierFloorSeqNumber: given.supplierFloorSeqNumber ?? Number(requestCounter),
      supplierPrepaymentTopUpFloorSeqNumber: given.supplierPrepaymentTopUpFloorSeqNumber ?? 0,
      ...(given.executionDateTime !== undefined && { executionDateTime: given.executionDateTime }),
      ...(given.applyTimeBasedCPVChecks !== undefined && {
        applyTimeBasedCPVChecks: given.applyTimeBasedCPVChecks,
      }),
    }
    const counter = cosCounter
    let bytes: Uint8Array
    try {
      bytes = changeOfSupplierCommand(
        { ...sr, parameters },
        { cos: config.cos, counter, acb: config.acb, deviceKaPublic: deviceKa, now },
        backend,
      )
    } catch (e) {
      return ctx.buildRefusal(p, e)
    }
    cosCounter = counter + 1n
    const result = await ctx.deliver(p, bytes, { cosCounter: counter.toString(), messageCode: '0107' })
    if (result.code !== SUCCESS_CODE) return result

    // DCC Alerts: the gaining Supplier learns the outcome; the losing Supplier that its credentials are gone.
    const outcome = result.response?.payload.useCase?.executionOutcome as
      | { replacementOutcomes?: { statusCode?: string }[] }
      | undefined
    const statuses = (outcome?.replacementOutcomes ?? []).map((o) => String(o.statusCode))
    const replaced = statuses.some((s) => s === 'success')
    const alerts: DccAlert[] = [
      raiseDccAlert({
        type: 'SecurityCredentialsUpdated',
        recipient: p.originator,
        device: p.deviceId,
        requestId: p.requestId,
        detail: { replacementStatuses: statuses },
        unconfirmed: ['recipient', 'code'],
      }),
    ]
    const losing = losingSupplier(granted)
    if (replaced && losing && losing !== p.originator)
      alerts.push(
        raiseDccAlert({
          type: 'ChangeOfSupplier',
          recipient: losing,
          device: p.deviceId,
          requestId: p.requestId,
          detail: { gainingSupplier: p.originator, replacementStatuses: statuses },
          unconfirmed: ['recipient', 'code'],
        }),
      )
    return { ...result, dccAlerts: alerts }
  }
}

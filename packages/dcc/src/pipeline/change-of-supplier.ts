/**
 * SR 6.23 Update Security Credentials (CoS): the step of the pipeline that replaces the device's
 * supplier certificates with the gaining Supplier's. The DCC's CoS Party, not the User, builds and
 * signs CS02b supplierByTransCoS (`changeOfSupplierCommand`) with the gaining Supplier's
 * certificates from the SMKI repository; the CoS Party's Originator Counter is kept here and
 * advances with every command built.
 *
 * Immediate: the device's response carries the replacement outcomes; then DCC Alerts:
 * SecurityCredentialsUpdated to the gaining Supplier with the outcomes and, when a certificate was
 * replaced, ChangeOfSupplier to the losing Supplier (the one registered just before the gaining
 * Supplier's registration took effect). Recipients are unconfirmed; their DCCAlertCodes are not
 * known to us (duis-codes.ts).
 *
 * Future-dated (`executionDateTime` after now): the device acknowledges at once, so the answer is
 * I99, and the request completes when the device actions the command and says so — 0x8F66, after
 * 0x8F70 when it replaced a cell (device README, "Future-dated commands"; RTDS 4.5.0
 * CS02bSupplierByTransCoS_6.23_8F66_FUTURE_DATED_SUCCESS_ALERT) — with its SAT `response` record
 * (code: the device's outcome alert) and the same DCC Alerts; 0x8F67 (not actioned) or no outcome
 * in time (E30) raises CommandFailure to the gaining Supplier instead (`future-dated.ts`).
 */
import { type Eui64, toHex } from '@smetsim/core'
import type { Json, PublicKeyRef } from '@smetsim/gbcs'
import type { AccessGranted } from '../access/check.ts'
import { CHANGE_OF_SUPPLIER_CODE, FUTURE_DATED_TIMEOUT_CODE, SUCCESS_CODE } from '../duis-codes.ts'
import { changeOfSupplierCommand } from '../gbcs/construct.ts'
import type { GbcsServiceRequest } from '../gbcs/service-requests.ts'
import type { PipelineContext, PipelineState } from './context.ts'
import { type FutureDatedEntry, type FutureDatedOutcome, futureDatedAt } from './future-dated.ts'
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
  ctx: Pick<
    PipelineContext,
    'config' | 'backend' | 'finish' | 'deliver' | 'buildRefusal' | 'raiseDccAlert' | 'futureDated'
  >,
  /** The CoS Party's next Originator Counter kept from an earlier DCC (state.ts); default `config.cos.counter`. */
  restoredCounter?: bigint,
): ChangeOfSupplierStep & { readonly cosCounter: bigint } {
  const { config, backend, finish, raiseDccAlert } = ctx
  let cosCounter = restoredCounter ?? config.cos.counter ?? 1n

  /** The supplier registered just before the gaining Supplier's registration took effect. */
  function losingSupplier(granted: AccessGranted): Eui64 | undefined {
    const reg = granted.registration
    if (!reg) return undefined
    const before = new Date(Date.parse(reg.from) - 1)
    return config.registration.registeredSupplierAt(reg.mpxn, before)?.user
  }

  /** The gaining Supplier learns the outcome; the losing Supplier, when a cell was replaced, that its credentials are gone. */
  function credentialAlerts(
    p: PipelineState,
    losing: Eui64 | undefined,
    replaced: boolean,
    detail: { [key: string]: Json },
  ): DccAlert[] {
    const alerts = [
      raiseDccAlert({
        type: 'SecurityCredentialsUpdated',
        recipient: p.respondTo,
        device: p.deviceId,
        requestId: p.requestId,
        detail,
        unconfirmed: ['recipient', 'code'],
      }),
    ]
    if (replaced && losing && losing !== p.originator)
      alerts.push(
        raiseDccAlert({
          type: 'ChangeOfSupplier',
          recipient: losing,
          device: p.deviceId,
          requestId: p.requestId,
          detail: { gainingSupplier: p.originator, ...detail },
          unconfirmed: ['recipient', 'code'],
        }),
      )
    return alerts
  }

  /** The end of a future-dated 6.23: its SAT response record and DCC Alerts. */
  function completed(p: PipelineState, losing: Eui64 | undefined, replaced: () => boolean) {
    return (outcome: FutureDatedOutcome, alertCode?: string) => {
      const step = { step: 'futureDated', outcome }
      if (outcome === 'actioned') {
        finish('response', p, alertCode ?? '8F66', undefined, { ...step, credentialsUpdated: replaced() })
        credentialAlerts(p, losing, replaced(), { futureDated: true, credentialsUpdated: replaced() })
        return
      }
      if (outcome === 'notActioned')
        finish('response', p, alertCode ?? '8F67', 'the device did not action the future-dated command', step)
      else
        finish(
          'response',
          p,
          FUTURE_DATED_TIMEOUT_CODE,
          outcome === 'timedOut'
            ? 'no outcome of the future-dated command came from the device in time'
            : 'dropped: the DCC holds too many future-dated commands',
          step,
        )
      raiseDccAlert({
        type: 'CommandFailure',
        recipient: p.respondTo,
        device: p.deviceId,
        requestId: p.requestId,
        detail: { outcome },
        unconfirmed: ['code'],
      })
    }
  }

  const step: ChangeOfSupplierStep = async function changeOfSupplier(
    p,
    granted,
    sr,
    requestCounter,
    deviceKa,
    now,
  ) {
    const certs = config.userCertificates(p.originator)
    if (!certs?.keyAgreement)
      return finish(
        'decision',
        p,
        CHANGE_OF_SUPPLIER_CODE,
        `the SMKI repository has no certificates of ${p.originator}`,
        { step: 'build', unconfirmed: 'which E0623nn code' },
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
    const extra = { cosCounter: counter.toString(), messageCode: '0107' }
    const losing = losingSupplier(granted)

    const executeAt = futureDatedAt(given.executionDateTime, now)
    if (executeAt !== undefined) {
      const executionDateTime = new Date(executeAt).toISOString()
      const result = await ctx.deliver(p, bytes, extra, { executionDateTime })
      if (result.futureDated) {
        const entry: FutureDatedEntry = {
          kind: 'complete',
          requestId: p.requestId,
          deviceId: p.deviceId,
          respondTo: p.respondTo,
          messageCode: 0x0107,
          counter,
          executeAt,
          onOutcome: (outcome: FutureDatedOutcome, code?: string) =>
            completed(p, losing, () => entry.credentialsUpdated === true)(outcome, code),
        }
        ctx.futureDated.add(entry)
      }
      return result
    }

    const result = await ctx.deliver(p, bytes, extra)
    if (result.code !== SUCCESS_CODE) return result
    const outcome = result.response?.payload.useCase?.executionOutcome as
      | { replacementOutcomes?: { statusCode?: string }[] }
      | undefined
    const statuses = (outcome?.replacementOutcomes ?? []).map((o) => String(o.statusCode))
    const replaced = statuses.some((s) => s === 'success')
    return { ...result, dccAlerts: credentialAlerts(p, losing, replaced, { replacementStatuses: statuses }) }
  }
  // The CoS Party's next Originator Counter, for a DCC state snapshot (state.ts): devices refuse a lower one.
  return Object.defineProperty(step, 'cosCounter', { get: () => cosCounter }) as typeof step & {
    readonly cosCounter: bigint
  }
}

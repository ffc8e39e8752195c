import type { X509Certificate } from 'node:crypto'
import { decodeFrame, decodePayload } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { step } from '../firmware.ts'
import type { DeviceState } from '../state.ts'
import {
  ARM,
  backend,
  command,
  DISABLE,
  ENABLE,
  ORG_CA_CERTIFICATE,
  PARTIES,
  type Party,
  T0,
  testDevice,
} from '../testing.ts'

const hex = (c: X509Certificate) => c.raw.toString('hex').toUpperCase()

/** SR 6.23: the CoS party hands the supplier cells to `gaining`, setting the supplier floors. */
function changeOfSupplier(device: DeviceState, gaining: Party, counter: bigint, path = [ORG_CA_CERTIFICATE]) {
  const cell = (keyUsage: string, cellUsage?: string) => ({
    remotePartyRole: 'supplier',
    keyUsage: [keyUsage],
    ...(cellUsage && { cellUsage }),
  })
  const view = {
    name: 'CS02b Update Security Credentials',
    authorisingRemotePartyControl: {
      credentialsReplacementMode: 'supplierByTransCoS',
      authorisingRemotePartyTACellIdentifier: {
        remotePartyRole: 'transitionalCoS',
        keyUsage: ['digitalSignature'],
      },
      authorisingRemotePartySeqNumber: Number(counter),
      otherRemotePartySeqNumberChanges: [
        {
          remotePartyRole: 'supplier',
          floorSeqNumber: 500,
          specialistFloorSeqNumbers: [{ seqNumberUsage: 'prePaymentTopUp', seqNumber: 0 }],
        },
      ],
    },
    replacements: [
      {
        replacementCertificate: hex(gaining.ds.certificate),
        targetTrustAnchorCell: cell('digitalSignature'),
      },
      { replacementCertificate: hex(gaining.ka.certificate), targetTrustAnchorCell: cell('keyAgreement') },
      {
        replacementCertificate: hex(gaining.pp!.certificate),
        targetTrustAnchorCell: cell('keyAgreement', 'prePaymentTopUp'),
      },
    ],
    certificationPathCertificates: path.map(hex),
  }
  return command(0x0107, view, device, { counter, from: PARTIES.cos })
}

const at = (s: number) => T0 + s * 1000

describe('CS02b supplierByTransCoS (SR 6.23, Change of Supplier)', () => {
  const device = testDevice('ESME', { supply: 'disabled' })
  const r = step(
    device,
    { kind: 'frame', bytes: changeOfSupplier(device, PARTIES.supplierB, 7000n) },
    at(1),
    {
      backend,
    },
  )

  it('replaces the three supplier cells, answers per cell and raises 0x8F70', () => {
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.cells.supplierDs?.eui).toBe(PARTIES.supplierB.eui)
    expect(r.state.cells.supplierKa?.eui).toBe(PARTIES.supplierB.eui)
    expect(r.state.cells.supplierPrepaymentKa?.eui).toBe(PARTIES.supplierB.eui)
    expect(r.state.counters).toMatchObject({ transitionalCoS: 7000n, supplier: 500n, supplierPrepayment: 0n })
    const response = decodeFrame(r.outputs.response!)
    expect(response.signing.recipient).toBe(PARTIES.cos.eui)
    const view = decodePayload(response.signing.content, { messageCode: 0x0107, cra: 'response' })
      .useCase as unknown as {
      executionOutcome: { replacementOutcomes: { statusCode: string; replacingSubjectUniqueID: string }[] }
    }
    expect(view.executionOutcome.replacementOutcomes.map((o) => o.statusCode)).toEqual([
      'success',
      'success',
      'success',
    ])
    expect(view.executionOutcome.replacementOutcomes[0]!.replacingSubjectUniqueID).toBe(PARTIES.supplierB.eui)
    expect(r.outputs.alerts.map((a) => a.code)).toEqual([0x8f70])
    // The alert goes to the gaining supplier, whose certificate is now in the cells.
    expect(decodeFrame(r.outputs.alerts[0]!.frame!).signing.recipient).toBe(PARTIES.supplierB.eui)
  })

  it("after it the losing supplier's commands fail and the gaining supplier's work from the floor", () => {
    const old = step(
      r.state,
      { kind: 'frame', bytes: command(ARM.code, ARM.view, device, { counter: 9000n }) },
      at(2),
      {
        backend,
      },
    )
    expect(old.outputs).toMatchObject({ outcome: 'rejected', reason: 'unknown-originator' })
    expect(old.state.supply).toBe('disabled')

    const atFloor = command(ARM.code, ARM.view, device, { counter: 500n, from: PARTIES.supplierB })
    expect(step(r.state, { kind: 'frame', bytes: atFloor }, at(2), { backend }).outputs.reason).toBe('replay')
    const fresh = command(ARM.code, ARM.view, device, { counter: 501n, from: PARTIES.supplierB })
    const gained = step(r.state, { kind: 'frame', bytes: fresh }, at(2), { backend })
    expect(gained.outputs.outcome).toBe('executed')
    expect(gained.state.supply).toBe('armed')
  })

  it('is refused when signed by a supplier rather than the CoS party', () => {
    const bySupplier = changeOfSupplier(device, PARTIES.supplierB, 7000n)
    // Re-sign the same content as supplier A: the role check refuses supplierByTransCoS from a supplier.
    const frame = decodeFrame(bySupplier)
    const resent = command(
      0x0107,
      decodePayload(frame.signing.content, { messageCode: 0x0107, cra: 'command' }).useCase!,
      device,
      {
        counter: 7000n,
      },
    )
    const out = step(device, { kind: 'frame', bytes: resent }, at(1), { backend })
    expect(out.outputs).toMatchObject({ outcome: 'rejected', reason: 'unauthorised' })
    expect(out.state.cells.supplierDs?.eui).toBe(PARTIES.supplierA.eui)
  })

  it('replaces nothing when the new certificates do not chain to the root cell', () => {
    const noPath = step(
      device,
      { kind: 'frame', bytes: changeOfSupplier(device, PARTIES.supplierB, 7000n, []) },
      at(1),
      {
        backend,
      },
    )
    expect(noPath.outputs.outcome).toBe('executed')
    expect(noPath.state.cells.supplierDs?.eui).toBe(PARTIES.supplierA.eui)
    expect(noPath.outputs.alerts).toEqual([])
    const { root: _, ...withoutRoot } = device.cells
    const rootless = { ...device, cells: withoutRoot }
    const out = step(
      rootless,
      { kind: 'frame', bytes: changeOfSupplier(rootless, PARTIES.supplierB, 7000n) },
      at(1),
      {
        backend,
      },
    )
    const view = decodePayload(decodeFrame(out.outputs.response!).signing.content, {
      messageCode: 0x0107,
      cra: 'response',
    }).useCase as unknown as { executionOutcome: { replacementOutcomes: { statusCode: string }[] } }
    expect(view.executionOutcome.replacementOutcomes.map((o) => o.statusCode)).toEqual([
      'noTrustAnchor',
      'noTrustAnchor',
      'noTrustAnchor',
    ])
    expect(out.state.cells.supplierDs?.eui).toBe(PARTIES.supplierA.eui)
  })

  it("moves the device's billing data log alerts from the losing to the gaining supplier (DP072)", () => {
    const day = 86_400_000
    const billing = { ...device, billingCalendar: { next: at(0) + day, everyDays: 1 } }
    const before = step(billing, { kind: 'time' }, at(0) + day, { backend })
    const to = (o: typeof before) =>
      o.outputs.alerts.filter((a) => a.code === 0x8f0a).map((a) => decodeFrame(a.frame!).signing.recipient)
    expect(to(before)).toEqual([PARTIES.supplierA.eui])
    const cos = step(
      before.state,
      { kind: 'frame', bytes: changeOfSupplier(device, PARTIES.supplierB, 7000n) },
      at(0) + day + 1,
      { backend },
    )
    const after = step(cos.state, { kind: 'time' }, at(0) + 2 * day, { backend })
    expect(to(after)).toEqual([PARTIES.supplierB.eui])
  })

  it('leaves commands of the other use cases unaffected', () => {
    const enable = command(ENABLE.code, ENABLE.view, device, { counter: 501n, from: PARTIES.supplierB })
    const disable = command(DISABLE.code, DISABLE.view, device, { counter: 502n, from: PARTIES.supplierB })
    const a = step(r.state, { kind: 'frame', bytes: enable }, at(3), { backend })
    const b = step(a.state, { kind: 'frame', bytes: disable }, at(4), { backend })
    expect([a.state.supply, b.state.supply]).toEqual(['enabled', 'disabled'])
  })
})

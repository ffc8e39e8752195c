/**
 * CS02b authority (issue 11): a credentials replacement replaces only the cells its message
 * code's mode authorises, its payload must name that very mode and authoriser, and its
 * signature must be by the cell that mode names. Every refusal: nothing replaced, no counter
 * moved, no response, the alert GBCS names (0x8F30 authority, 0x8F1E integrity, 0x8F3D
 * authentication).
 */
import type { X509Certificate } from 'node:crypto'
import { decodeFrame, decodePayload, generateUtrn, type Json } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { type StepResult, step } from '../firmware.ts'
import type { DeviceState } from '../state.ts'
import {
  ARM,
  backend,
  command,
  issueCertificate,
  ORG_CA_CERTIFICATE,
  PARTIES,
  type Party,
  READ_SUPPLY,
  ROOT_CERTIFICATE,
  T0,
  testDevice,
} from '../testing.ts'

const hex = (c: X509Certificate) => c.raw.toString('hex').toUpperCase()
const at = (s: number) => T0 + s * 1000

type Cell = { remotePartyRole: string; keyUsage: string[]; cellUsage?: string }
const cell = (remotePartyRole: string, keyUsage: string, cellUsage?: string): Cell => ({
  remotePartyRole,
  keyUsage: [keyUsage],
  ...(cellUsage && { cellUsage }),
})
const SUPPLIER_DS = cell('supplier', 'digitalSignature')
const SUPPLIER_KA = cell('supplier', 'keyAgreement')
const SUPPLIER_PP = cell('supplier', 'keyAgreement', 'prePaymentTopUp')
const TCOS_DS = cell('transitionalCoS', 'digitalSignature')

/** The supplier cells handed to `p` (its DS, KA and prepayment KA certificates). */
const supplierCells = (p: Party): [X509Certificate, Cell][] => [
  [p.ds.certificate, SUPPLIER_DS],
  [p.ka.certificate, SUPPLIER_KA],
  [p.pp!.certificate, SUPPLIER_PP],
]

interface Cs02b {
  code: number
  mode: string
  authoriser?: Cell
  replacements: [X509Certificate, Cell][]
  control?: { [k: string]: Json }
  from?: Party
  counter: bigint
  sign?: boolean
  path?: X509Certificate[]
}

function cs02b(device: DeviceState, c: Cs02b): Uint8Array {
  const view = {
    name: 'CS02b Update Security Credentials',
    authorisingRemotePartyControl: {
      credentialsReplacementMode: c.mode,
      ...(c.authoriser && { authorisingRemotePartyTACellIdentifier: c.authoriser }),
      authorisingRemotePartySeqNumber: Number(c.counter),
      ...c.control,
    },
    replacements: c.replacements.map(([cert, target]) => ({
      replacementCertificate: hex(cert),
      targetTrustAnchorCell: target,
    })),
    certificationPathCertificates: (c.path ?? [ORG_CA_CERTIFICATE]).map(hex),
  } as unknown as { name: string; [k: string]: Json }
  return command(c.code, view, device, {
    counter: c.counter,
    from: c.from ?? PARTIES.supplierA,
    sign: c.sign ?? true,
  })
}

const run = (d: DeviceState, bytes: Uint8Array, t = at(1)): StepResult =>
  step(d, { kind: 'frame', bytes }, t, { backend })
const codes = (r: StepResult) => r.outputs.alerts.map((a) => a.code)

/** The response's execution outcome, as the CS02b response view shows it. */
function outcome(r: StepResult, code: number) {
  const view = decodePayload(decodeFrame(r.outputs.response!).signing.content, {
    messageCode: code,
    cra: 'response',
  }).useCase as unknown as {
    executionOutcome: {
      remotePartySeqNumberChanges: Json[]
      replacementOutcomes: { statusCode: string; replacingSubjectUniqueID: string }[]
    }
  }
  return view.executionOutcome
}

/** What a CS02b may change. */
const credentials = (s: DeviceState) => ({
  counters: s.counters,
  utrns: s.utrns,
  pending: s.pending,
  supply: s.supply,
  paymentMode: s.paymentMode,
})

/** A refusal: the alert, no response, the same cells and counters as before (time apart, nothing moved). */
function expectRefused(r: StepResult, before: DeviceState, alert: number) {
  expect(r.outputs.outcome).toBe('rejected')
  expect(r.outputs.response).toBeUndefined()
  expect(codes(r)).toEqual([alert])
  expect(r.state.cells).toBe(before.cells)
  expect(credentials(r.state)).toEqual(credentials(before))
}

describe('CS02b supplierBySupplier (0x0102, SR 6.15.1 and 6.21)', () => {
  const device = testDevice('ESME')

  it('replaces the supplier cells: a hand-over to another party starts it from the floor', () => {
    const r = run(
      device,
      cs02b(device, {
        code: 0x0102,
        mode: 'supplierBySupplier',
        authoriser: SUPPLIER_DS,
        replacements: supplierCells(PARTIES.supplierB),
        control: {
          newRemotePartyFloorSeqNumber: 0,
          newRemotePartySpecialistFloorSeqNumbers: [{ seqNumberUsage: 'prePaymentTopUp', seqNumber: 0 }],
        },
        counter: 1000n,
      }),
    )
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.cells.supplierDs?.eui).toBe(PARTIES.supplierB.eui)
    expect(r.state.cells.supplierPrepaymentKa?.eui).toBe(PARTIES.supplierB.eui)
    // Change of control: the new party's counter is the floor the command sets.
    expect(r.state.counters).toMatchObject({ supplier: 0n, supplierPrepayment: 0n })
    const o = outcome(r, 0x0102)
    expect(o.replacementOutcomes.map((x) => x.statusCode)).toEqual(['success', 'success', 'success'])
    // The floors it set, the mode's own role first, as the RTDS response lists them.
    expect(o.remotePartySeqNumberChanges).toEqual([
      {
        remotePartyRole: 'supplier',
        floorSeqNumber: 0,
        specialistFloorSeqNumbers: [{ seqNumberUsage: 'prePaymentTopUp', seqNumber: 0 }],
      },
    ])
    expect(codes(r)).toEqual([0x8f70])
    // The response to a Critical CS02b is signed by the device (as the RTDS shows).
    expect(decodeFrame(r.outputs.response!).signing.signature.kind).toBe('ecdsa')
    const fresh = run(
      r.state,
      command(ARM.code, ARM.view, device, { counter: 1n, from: PARTIES.supplierB }),
      at(2),
    )
    expect(fresh.outputs.outcome).toBe('executed')
  })

  it('renewing its own certificates, the supplier keeps its counter: its old commands stay refused', () => {
    const renewed = issueCertificate(PARTIES.supplierA.eui, 'supplier', 'digitalSignature')
    const r = run(
      device,
      cs02b(device, {
        code: 0x0102,
        mode: 'supplierBySupplier',
        authoriser: SUPPLIER_DS,
        replacements: [[renewed.certificate, SUPPLIER_DS]],
        control: { newRemotePartyFloorSeqNumber: 0 },
        counter: 1000n,
      }),
    )
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.cells.supplierDs?.certificate).toEqual(new Uint8Array(renewed.certificate.raw))
    expect(r.state.counters.supplier).toBe(1000n)
    // A MAC-only command the supplier sent before (counter 999) is not accepted again.
    const read = command(READ_SUPPLY.code, READ_SUPPLY.view, device, { counter: 999n, sign: false })
    expect(run(r.state, read, at(2)).outputs.reason).toBe('replay')
  })

  const foreign: [string, () => [X509Certificate, Cell]][] = [
    [
      'the network operator cell',
      () => [PARTIES.networkOperator.ds.certificate, cell('networkOperator', 'digitalSignature')],
    ],
    [
      'the ACB key agreement cell',
      () => [PARTIES.acb.ka.certificate, cell('accessControlBroker', 'keyAgreement')],
    ],
    ['the root cell', () => [ROOT_CERTIFICATE, cell('root', 'keyCertSign')]],
    ['the transitional CoS cell', () => [PARTIES.cos.ds.certificate, TCOS_DS]],
  ]
  it.each(foreign)('that also targets %s is refused whole (0x8F30), nothing replaced', (_, target) => {
    const bytes = cs02b(device, {
      code: 0x0102,
      mode: 'supplierBySupplier',
      authoriser: SUPPLIER_DS,
      replacements: [...supplierCells(PARTIES.supplierB), target()],
      counter: 1000n,
    })
    const r = run(device, bytes)
    expectRefused(r, device, 0x8f30)
    expect(r.outputs.reason).toMatch(/supplierBySupplier may not replace/)
  })

  it('whose payload names another mode is refused (0x8F1E): supplierByTransCoS under 0x0102', () => {
    const r = run(
      device,
      cs02b(device, {
        code: 0x0102,
        mode: 'supplierByTransCoS',
        authoriser: SUPPLIER_DS,
        replacements: supplierCells(PARTIES.supplierB),
        counter: 1000n,
      }),
    )
    expectRefused(r, device, 0x8f1e)
    expect(r.outputs.reason).toMatch(/credentialsReplacementMode supplierByTransCoS/)
  })

  it('whose authorising cell is not the supplier signing cell is refused (0x8F1E)', () => {
    for (const authoriser of [TCOS_DS, SUPPLIER_KA, undefined]) {
      const r = run(
        device,
        cs02b(device, {
          code: 0x0102,
          mode: 'supplierBySupplier',
          ...(authoriser && { authoriser }),
          replacements: supplierCells(PARTIES.supplierB),
          counter: 1000n,
        }),
      )
      expectRefused(r, device, 0x8f1e)
    }
  })

  it('naming a cell twice is refused (0x8F1E)', () => {
    const r = run(
      device,
      cs02b(device, {
        code: 0x0102,
        mode: 'supplierBySupplier',
        authoriser: SUPPLIER_DS,
        replacements: [
          [PARTIES.supplierB.ds.certificate, SUPPLIER_DS],
          [PARTIES.supplierA.ds.certificate, SUPPLIER_DS],
        ],
        counter: 1000n,
      }),
    )
    expectRefused(r, device, 0x8f1e)
  })

  it('signed by anyone but the supplier in the cells is refused before any of it is read', () => {
    // Signed by the CoS party: it holds no supplier cell, and 0x0102 is the supplier's.
    const byCos = cs02b(device, {
      code: 0x0102,
      mode: 'supplierBySupplier',
      authoriser: SUPPLIER_DS,
      replacements: supplierCells(PARTIES.supplierB),
      counter: 1000n,
      from: PARTIES.cos,
    })
    const r = run(device, byCos)
    expect(r.outputs).toMatchObject({ outcome: 'rejected', reason: 'unauthorised' })
    expect(codes(r)).toEqual([0x8f30])
    expect(r.state.cells).toBe(device.cells)
    // Claiming supplier A's EUI but signed with supplier B's key: the signature fails.
    const forged = command(
      0x0102,
      decodePayload(decodeFrame(byCos).signing.content, { messageCode: 0x0102, cra: 'command' }).useCase!,
      device,
      { counter: 1000n, from: { ...PARTIES.supplierB, eui: PARTIES.supplierA.eui } },
    )
    const f = run(device, forged)
    expect(f.outputs).toMatchObject({ outcome: 'rejected', reason: 'signature' })
    expect(codes(f)).toEqual([0x8f3d])
    expect(f.state.cells).toBe(device.cells)
  })

  it('future-dated but outside its mode is refused at once, not kept for later', () => {
    const bytes = cs02b(device, {
      code: 0x0102,
      mode: 'supplierBySupplier',
      authoriser: SUPPLIER_DS,
      replacements: [[PARTIES.networkOperator.ds.certificate, cell('networkOperator', 'digitalSignature')]],
      control: {},
      counter: 1000n,
    })
    const frame = decodeFrame(bytes)
    const view = decodePayload(frame.signing.content, { messageCode: 0x0102, cra: 'command' }).useCase!
    const later = command(0x0102, { ...view, executionDateTime: '2026-06-01T00:00:00Z' }, device, {
      counter: 1000n,
    })
    const r = run(device, later)
    expectRefused(r, device, 0x8f30)
    expect(r.state.pending).toEqual([])
  })
})

describe('CS02b supplierByTransCoS (0x0107, SR 6.23)', () => {
  const device = testDevice('ESME')
  const base = {
    code: 0x0107,
    mode: 'supplierByTransCoS',
    authoriser: TCOS_DS,
    from: PARTIES.cos,
    counter: 7000n,
    control: {
      otherRemotePartySeqNumberChanges: [
        {
          remotePartyRole: 'supplier',
          floorSeqNumber: 500,
          specialistFloorSeqNumbers: [{ seqNumberUsage: 'prePaymentTopUp', seqNumber: 0 }],
        },
      ],
    },
  }

  it('from the CoS party replacing the root cell too is refused whole (0x8F30)', () => {
    const r = run(
      device,
      cs02b(device, {
        ...base,
        replacements: [...supplierCells(PARTIES.supplierB), [ROOT_CERTIFICATE, cell('root', 'keyCertSign')]],
      }),
    )
    expectRefused(r, device, 0x8f30)
  })

  it('from the CoS party replacing its own cell is refused (that is transCoSByTransCoS, 0x0106)', () => {
    const renewed = issueCertificate(PARTIES.cos.eui, 'transitionalCoS', 'digitalSignature')
    const r = run(device, cs02b(device, { ...base, replacements: [[renewed.certificate, TCOS_DS]] }))
    expectRefused(r, device, 0x8f30)
  })

  it('whose payload says supplierBySupplier is refused (0x8F1E)', () => {
    const r = run(
      device,
      cs02b(device, { ...base, mode: 'supplierBySupplier', replacements: supplierCells(PARTIES.supplierB) }),
    )
    expectRefused(r, device, 0x8f1e)
  })

  it('empties the UTRN counter cache: the gaining supplier counts its top-ups from its own floor', () => {
    const prepay = testDevice('ESME', { paymentMode: 'prepayment', meterBalance: 1_000_000, watts: 0 })
    const utrn = (p: Party, d: DeviceState, n: bigint) =>
      generateUtrn({
        counter: n << 32n,
        value: 5,
        valueClass: 'pounds',
        originator: p.eui,
        recipient: d.eui,
        key: {
          own: backend.importPrivateKey(p.pp!.privateKey),
          other: backend.importPrivateKey(d.keys.ka!).publicKey,
        },
        backend,
      })
    let s = prepay
    for (const n of [1n, 2n, 3n])
      s = step(s, { kind: 'utrn', digits: utrn(PARTIES.supplierA, s, n), via: 'keypad' }, at(1), {
        backend,
      }).state
    expect(s.utrns).toEqual([1n << 32n, 2n << 32n, 3n << 32n])
    const cos = run(s, cs02b(s, { ...base, replacements: supplierCells(PARTIES.supplierB) }), at(2))
    expect(cos.outputs.outcome).toBe('executed')
    expect(cos.state.utrns).toEqual([])
    expect(cos.state.counters.supplierPrepayment).toBe(0n)
    // Supplier B's first UTRN (counter 1·2^32, the same as A's first) is accepted, not a duplicate.
    const b1 = step(
      cos.state,
      { kind: 'utrn', digits: utrn(PARTIES.supplierB, s, 1n), via: 'keypad' },
      at(3),
      { backend },
    )
    expect(b1.outputs.alerts.map((a) => a.code)).toEqual([0x810e])
    expect(b1.state.account.meterBalance).toBe(cos.state.account.meterBalance + 500_000)
  })
})

describe('CS02b by the other roles, each for its own cells only', () => {
  const device = testDevice('ESME')

  it('networkOperatorByNetworkOperator (0x0103) replaces the network operator cells, not the supplier ones', () => {
    const no = PARTIES.networkOperator
    const ds = issueCertificate(no.eui, 'networkOperator', 'digitalSignature')
    const ok = run(
      device,
      cs02b(device, {
        code: 0x0103,
        mode: 'networkOperatorByNetworkOperator',
        authoriser: cell('networkOperator', 'digitalSignature'),
        replacements: [[ds.certificate, cell('networkOperator', 'digitalSignature')]],
        from: no,
        counter: 1200n,
      }),
    )
    expect(ok.outputs.outcome).toBe('executed')
    expect(ok.state.cells.networkOperatorDs?.certificate).toEqual(new Uint8Array(ds.certificate.raw))
    const bad = run(
      device,
      cs02b(device, {
        code: 0x0103,
        mode: 'networkOperatorByNetworkOperator',
        authoriser: cell('networkOperator', 'digitalSignature'),
        replacements: [[PARTIES.supplierB.ds.certificate, SUPPLIER_DS]],
        from: no,
        counter: 1200n,
      }),
    )
    expectRefused(bad, device, 0x8f30)
    // The network operator may not send a supplierBySupplier at all.
    const asSupplier = run(
      device,
      cs02b(device, {
        code: 0x0102,
        mode: 'supplierBySupplier',
        authoriser: SUPPLIER_DS,
        replacements: supplierCells(PARTIES.supplierB),
        from: no,
        counter: 1200n,
      }),
    )
    expect(asSupplier.outputs).toMatchObject({ outcome: 'rejected', reason: 'unauthorised' })
  })

  it('accessControlBrokerByACB (0x0104, MAC only) replaces the ACB key: only the new one MACs from then on', () => {
    const acb = PARTIES.acb
    const ka = issueCertificate(acb.eui, 'accessControlBroker', 'keyAgreement')
    const r = run(
      device,
      cs02b(device, {
        code: 0x0104,
        mode: 'accessControlBrokerByACB',
        replacements: [[ka.certificate, cell('accessControlBroker', 'keyAgreement')]],
        control: { newRemotePartyFloorSeqNumber: 0 },
        from: acb,
        counter: 1300n,
        sign: false,
      }),
    )
    expect(r.outputs.outcome).toBe('executed')
    expect(outcome(r, 0x0104).replacementOutcomes.map((x) => x.statusCode)).toEqual(['success'])
    // Signed by the device, as the RTDS 8.5 response is.
    expect(decodeFrame(r.outputs.response!).signing.signature.kind).toBe('ecdsa')
    // The ACB's own EUI is unchanged: no change of control, its counter stays.
    expect(r.state.counters.accessControlBroker).toBe(1300n)
    const oldMac = command(ARM.code, ARM.view, device, { counter: 1n })
    expect(run(r.state, oldMac, at(2)).outputs.reason).toBe('mac')
    const newMac = command(ARM.code, ARM.view, device, { counter: 1n, acbKa: ka })
    expect(run(r.state, newMac, at(2)).outputs.outcome).toBe('executed')
    // …and the ACB may replace nothing but its own cells.
    const grab = run(
      device,
      cs02b(device, {
        code: 0x0104,
        mode: 'accessControlBrokerByACB',
        replacements: [[PARTIES.supplierB.ds.certificate, SUPPLIER_DS]],
        from: acb,
        counter: 1300n,
        sign: false,
      }),
    )
    expectRefused(grab, device, 0x8f30)
  })

  it('transCoSByTransCoS (0x0106) replaces the transitional CoS cell', () => {
    const renewed = issueCertificate(PARTIES.cos.eui, 'transitionalCoS', 'digitalSignature')
    const r = run(
      device,
      cs02b(device, {
        code: 0x0106,
        mode: 'transCoSByTransCoS',
        authoriser: TCOS_DS,
        replacements: [[renewed.certificate, TCOS_DS]],
        from: PARTIES.cos,
        counter: 6000n,
      }),
    )
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.cells.transitionalCoSDs?.certificate).toEqual(new Uint8Array(renewed.certificate.raw))
    expect(outcome(r, 0x0106).remotePartySeqNumberChanges).toEqual([])
  })

  it("a supplier cannot send the CoS party's or the ACB's modes", () => {
    for (const [code, mode] of [
      [0x0104, 'accessControlBrokerByACB'],
      [0x0106, 'transCoSByTransCoS'],
      [0x0107, 'supplierByTransCoS'],
    ] as const) {
      const r = run(
        device,
        cs02b(device, {
          code,
          mode,
          authoriser: SUPPLIER_DS,
          replacements: supplierCells(PARTIES.supplierB),
          counter: 1000n,
        }),
      )
      expect(r.outputs, mode).toMatchObject({ outcome: 'rejected' })
      expect(r.state.cells).toBe(device.cells)
    }
  })

  it('an unemulated mode (rootBySupplier, 0x0100) from the supplier replaces nothing', () => {
    const r = run(
      device,
      cs02b(device, {
        code: 0x0100,
        mode: 'rootBySupplier',
        authoriser: SUPPLIER_DS,
        replacements: [[ROOT_CERTIFICATE, cell('root', 'keyCertSign')]],
        counter: 1000n,
      }),
    )
    expect(r.outputs.outcome).toBe('not-emulated')
    expect(r.state.cells).toBe(device.cells)
  })
})

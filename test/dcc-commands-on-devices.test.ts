/**
 * End to end with the emulated firmware: every Service Request built here, signed by the User
 * when Critical, MACed by the ACB and executed by an ESME or GSME of @smetsim/device; a forged
 * User signature never reaches the device; SR 6.23 from the CoS Party replaces the supplier
 * cells, after which the losing supplier's commands are refused by the device.
 *
 * It lives in test/ because the DCC never imports the device package: they meet only as bytes.
 */
import type { X509Certificate } from 'node:crypto'
import type { Eui64 } from '@smetsim/core'
import * as deviceModule from '@smetsim/device'
import { decodeFrame, decodePayload, generateUtrn, type Json, type PublicKeyRef } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import {
  CommandProtectionError,
  changeOfSupplierCommand,
  constructCommand,
  createInProcessSigner,
  isCriticalMessageCode,
} from '../packages/dcc/src/gbcs/construct.ts'
import type { GbcsServiceRequest } from '../packages/dcc/src/gbcs/service-requests.ts'
import {
  ACB,
  backend,
  CASES,
  cosParameters,
  ESME_EUI,
  GSME_EUI,
  PARTIES,
  type Party,
  privateRef,
  T0,
} from '../packages/dcc/src/gbcs/testing.ts'
import { installedCells } from './support.ts'

// --- The parts of @smetsim/device used here, typed structurally (its own types are stricter) --------------------------------

interface Device {
  eui: Eui64
  type: 'ESME' | 'GSME'
  keys: { ka?: Uint8Array }
  cells: Record<string, { eui: string } | undefined>
  counters: Record<string, bigint | undefined>
  supply: string
  paymentMode: string
  commissioning: string
  account: { meterBalance: number }
  config: { disablementThreshold: number }
}

interface StepResult {
  state: Device
  outputs: {
    outcome?: string
    reason?: string
    response?: Uint8Array
    alerts: { code: number }[]
  }
}

interface DeviceModule {
  createDevice(o: {
    type: 'ESME' | 'GSME'
    eui: string
    cells: Record<string, unknown>
    now: number
    paymentMode?: 'credit' | 'prepayment'
    supply?: 'enabled' | 'disabled' | 'armed'
    meterBalance?: number
  }): Device
  credentialFromCertificate(c: X509Certificate): unknown
  step(
    state: Device,
    input: { kind: 'frame'; bytes: Uint8Array },
    now: number,
    o: { backend: unknown },
  ): StepResult
}

const device = deviceModule as unknown as DeviceModule

// -------------------------------------------------------------------------------------------------

/** The device's key agreement public key (the DCC reads it from the device's KA certificate). */
const kaPublic = (d: Device): PublicKeyRef => backend.importPrivateKey(d.keys.ka!).publicKey

const signers = new Map<Party, ReturnType<typeof createInProcessSigner>>()
const signerOf = (p: Party) => {
  const known = signers.get(p)
  if (known) return known
  const s = createInProcessSigner(privateRef(p.ds), backend)
  signers.set(p, s)
  return s
}

/** A User's Service Request as the DCC sends it: built, signed in-process when Critical, MACed. */
function fromUser(
  sr: GbcsServiceRequest,
  d: Device,
  counter: bigint,
  user: Party = PARTIES.supplierA,
): Uint8Array {
  return constructCommand(
    sr,
    { originator: user.eui, counter, signer: signerOf(user), acb: ACB, deviceKaPublic: kaPublic(d), now: T0 },
    backend,
  )
}

function run(m: DeviceModule, d: Device, bytes: Uint8Array, at: number): StepResult {
  return m.step(d, { kind: 'frame', bytes }, at, { backend })
}

function responseView(r: StepResult, messageCode: number): { name: string; [k: string]: Json } | undefined {
  if (!r.outputs.response) return undefined
  return decodePayload(decodeFrame(r.outputs.response).signing.content, { messageCode, cra: 'response' })
    .useCase
}

const request = (srv: string, d: Device, parameters: { [k: string]: Json } = {}): GbcsServiceRequest => ({
  srv,
  target: d.eui,
  deviceType: d.type,
  parameters,
})

describe('commands executed by emulated devices', () => {
  const m = device

  for (const type of ['ESME', 'GSME'] as const) {
    it(`every SR for a ${type} is executed`, () => {
      let d = m.createDevice({
        type,
        eui: type === 'ESME' ? ESME_EUI : GSME_EUI,
        cells: installedCells(),
        now: T0,
        paymentMode: 'prepayment',
        meterBalance: 1_000_000,
      })
      let counter = 1000n
      let at = T0 + 1000
      for (const c of CASES.filter((x) => x.deviceType === type)) {
        counter += 1n
        at += 1000
        const bytes = fromUser(request(c.srv, d, c.parameters), d, counter)
        expect(decodeFrame(bytes).signing.signature.kind).toBe(
          isCriticalMessageCode(c.messageCode) ? 'ecdsa' : 'empty',
        )
        const r = run(m, d, bytes, at)
        expect(r.outputs, `${c.srv} ${c.useCase}`).toMatchObject({ outcome: 'executed' })
        expect(responseView(r, c.messageCode)?.name, `${c.srv} ${c.useCase} response`).toMatch(
          new RegExp(`^${c.useCase} `),
        )
        // The protected reads are answered for the User that asked (its originator and counter).
        if (c.useCase === 'ECS17b' || c.useCase === 'ECS19')
          expect(responseView(r, c.messageCode)).toMatchObject({ result: 'success' })
        if (c.useCase === 'GCS13a' || c.useCase === 'GCS14')
          expect(responseView(r, c.messageCode)?.protected).toBeDefined()
        d = r.state
        // What each use case changed on the device.
        if (c.srv === '7.2') expect(d.supply).toBe('disabled')
        if (c.srv === '7.3') expect(d.supply).toBe('armed')
        if (c.srv === '7.1') expect(d.supply).toBe('enabled')
        if (c.useCase === 'ECS03' || c.useCase === 'GCS03') expect(d.paymentMode).toBe('prepayment')
        if (c.useCase === 'ECS02' || c.useCase === 'GCS02') expect(d.paymentMode).toBe('credit')
        if (c.useCase === 'GCS03') expect(d.config.disablementThreshold).toBe(-500)
        if (c.srv === '6.11' || c.srv === '8.1.1') expect(d.commissioning).toBe('commissioned')
      }
      expect(d.counters.supplier).toBe(counter)
    })
  }

  it('SR 2.2: the User’s UTRN reaches the ESME in CS01a and is credited', () => {
    const d = m.createDevice({
      type: 'ESME',
      eui: ESME_EUI,
      cells: installedCells(),
      now: T0,
      paymentMode: 'prepayment',
      meterBalance: 1_000_000,
    })
    const topUpCounter = 1n << 32n
    const utrn = generateUtrn({
      counter: topUpCounter,
      value: 5,
      valueClass: 'pounds',
      originator: PARTIES.supplierA.eui,
      recipient: d.eui,
      key: { own: privateRef(PARTIES.supplierA.pp!), other: kaPublic(d) },
      backend,
    })
    const bytes = fromUser(request('2.2', d, { utrn }), d, topUpCounter)
    const r = run(m, d, bytes, T0 + 1000)
    expect(r.outputs.outcome).toBe('executed')
    expect(responseView(r, 0x0007)).toMatchObject({
      name: 'CS01a Apply Prepayment Top Up',
      result: 'success',
    })
    expect(r.state.account.meterBalance).toBeGreaterThan(1_400_000)
  })

  it('a forged User signature is refused before MACing: the device never sees a command', () => {
    const d = m.createDevice({ type: 'ESME', eui: ESME_EUI, cells: installedCells(), now: T0 })
    const forger = signerOf(PARTIES.supplierB)
    const sr = request('7.2', d)
    expect(() =>
      constructCommand(
        sr,
        {
          originator: PARTIES.supplierA.eui,
          counter: 1001n,
          // Signs with supplier B's key while claiming to be supplier A.
          signer: {
            publicKey: signerOf(PARTIES.supplierA).publicKey,
            sign: (p) => ({ ...forger.sign(p), signerPublic: signerOf(PARTIES.supplierA).publicKey }),
          },
          acb: ACB,
          deviceKaPublic: kaPublic(d),
        },
        backend,
      ),
    ).toThrow(CommandProtectionError)
    // The genuine command at the same counter is still fresh for the device.
    const r = run(m, d, fromUser(sr, d, 1001n), T0 + 1000)
    expect(r.outputs.outcome).toBe('executed')
    expect(r.state.supply).toBe('disabled')
  })

  for (const type of ['ESME', 'GSME'] as const) {
    it(`SR 6.23 on a ${type}: the CoS Party replaces the supplier cells; the old supplier is refused`, () => {
      const d = m.createDevice({
        type,
        eui: type === 'ESME' ? ESME_EUI : GSME_EUI,
        cells: installedCells(),
        now: T0,
        supply: 'disabled',
      })
      const cos = { eui: PARTIES.cos.eui, signer: signerOf(PARTIES.cos) }
      const bytes = changeOfSupplierCommand(
        request('6.23', d, cosParameters(PARTIES.supplierB, 500)),
        { cos, counter: 7000n, acb: ACB, deviceKaPublic: kaPublic(d), now: T0 },
        backend,
      )
      const r = run(m, d, bytes, T0 + 1000)
      expect(r.outputs.outcome).toBe('executed')
      expect(r.state.cells.supplierDs?.eui).toBe(PARTIES.supplierB.eui)
      expect(r.state.cells.supplierKa?.eui).toBe(PARTIES.supplierB.eui)
      expect(r.state.cells.supplierPrepaymentKa?.eui).toBe(PARTIES.supplierB.eui)
      expect(r.state.counters).toMatchObject({ transitionalCoS: 7000n, supplier: 500n })
      const outcome = responseView(r, 0x0107) as unknown as {
        executionOutcome: { replacementOutcomes: { statusCode: string }[] }
      }
      expect(outcome.executionOutcome.replacementOutcomes.map((o) => o.statusCode)).toEqual([
        'success',
        'success',
        'success',
      ])
      expect(r.outputs.alerts.map((a) => a.code)).toContain(0x8f70)

      // The losing supplier's next Critical command is refused by the device.
      const old = run(m, r.state, fromUser(request('7.3', d), d, 9000n, PARTIES.supplierA), T0 + 2000)
      expect(old.outputs).toMatchObject({ outcome: 'rejected', reason: 'unknown-originator' })
      expect(old.state.supply).toBe('disabled')
      // The gaining supplier's works, from the floor the CoS Party set.
      const gained = run(m, r.state, fromUser(request('7.3', d), d, 501n, PARTIES.supplierB), T0 + 2000)
      expect(gained.outputs.outcome).toBe('executed')
      expect(gained.state.supply).toBe('armed')
    })
  }

  it('SR 6.23 without the certification path replaces nothing', () => {
    const d = m.createDevice({ type: 'ESME', eui: ESME_EUI, cells: installedCells(), now: T0 })
    const cos = { eui: PARTIES.cos.eui, signer: signerOf(PARTIES.cos) }
    const parameters = { ...cosParameters(PARTIES.supplierB), certificationPath: [] }
    const bytes = changeOfSupplierCommand(
      request('6.23', d, parameters),
      { cos, counter: 7000n, acb: ACB, deviceKaPublic: kaPublic(d) },
      backend,
    )
    const r = run(m, d, bytes, T0 + 1000)
    expect(r.state.cells.supplierDs?.eui).toBe(PARTIES.supplierA.eui)
    expect(r.state.counters.supplier).toBeUndefined()
  })
})

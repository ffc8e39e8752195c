/**
 * ECS17b and ECS19: the ESME encrypts its registers for the party that asked, and only that
 * party's key agreement key opens them.
 *
 * The RTDS block runs only with the DCC's Reference Test Data Set and its keystore, which are
 * not in this repository:
 *   SMETSIM_RTDS=/path/to/RTDS-4.5.0 SMETSIM_RTDS_KEYSTORE=/path/to/rtds/keystore \
 *     npx vitest run packages/device/src/use-cases/reads.test.ts
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, fromHex, toHex } from '@smetsim/core'
import { buildPayload, decodeFrame, decodePayload, type Json, type PrivateKeyRef } from '@smetsim/gbcs'
import { openKeystore } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import { type Authenticated, authenticateCommand } from '../authenticate.ts'
import { credentialFromCertificate } from '../cells.ts'
import { step } from '../firmware.ts'
import { FLAT_SHAPE } from '../prepayment/index.ts'
import { createDevice } from '../provision.ts'
import type { DeviceState } from '../state.ts'
import { backend, command, ESME_EUI, PARTIES, type Party, T0, testDevice } from '../testing.ts'
import type { View } from './index.ts'
import {
  type AttributeProtection,
  encodeImportEnergyRegisters,
  encodePrepaymentRegisters,
  openProtectedAttributes,
  type ProtectedAttributes,
  protectAttributes,
  readImportEnergy,
  readPrepaymentRegisters,
} from './reads.ts'

const ECS17B = 0x0027
const ECS19 = 0x002d

/** The command view of a protected read, as the DCC builds it (the RTDS commands' shape). */
function readView(code: number, from: Party, counter: bigint, to: string = ESME_EUI): View {
  const ecs17b = code === ECS17B
  return {
    name: ecs17b ? 'ECS17b Read Import Energy Registers' : 'ECS19 Read Prepayment Registers',
    invokeId: 7,
    objects: [
      { classId: 1, instance: ecs17b ? '0.0.94.44.34.10' : '0.0.94.44.34.30', attribute: 2, dataIndex: 0 },
    ],
    protection: [
      {
        protectionType: 2,
        transactionId: `04${counter.toString(16).toUpperCase().padStart(16, '0')}`,
        originatorSystemTitle: from.eui,
        recipientSystemTitle: to,
        otherInformation: '',
        keyInfoType: 2,
        keyParameters: '02',
        keyCipheredData: '',
      },
    ],
  }
}

/** The command as the firmware sees it once authenticated: its frame, role and decoded view. */
function received(device: DeviceState, code: number, from: Party, counter: bigint) {
  const bytes = command(code, readView(code, from, counter), device, { from, counter, sign: false })
  const auth = authenticateCommand(device, bytes, backend)
  if (!auth.ok) throw new Error(`refused: ${auth.detail}`)
  const view = decodePayload(auth.frame.signing.content, { messageCode: code, cra: 'command' }).useCase
  if (!view) throw new Error('the command has no use-case view')
  return { bytes, auth, view }
}

/** Z between a remote party's key agreement key and the device's. */
function partyZ(party: Party, device: DeviceState): Uint8Array {
  const own = backend.importPrivateKey(party.ka.privateKey) as PrivateKeyRef
  return backend.ecdh(own, backend.importPrivateKey(device.keys.ka!).publicKey)
}

/** Opens a response view's protected attributes with Z, as its recipient would. */
function open(z: Uint8Array, response: View): Uint8Array | null {
  const [p] = response.protection as { [k: string]: Json }[]
  const protection: AttributeProtection = {
    transactionId: fromHex(String(p!.transactionId)),
    originator: String(p!.originatorSystemTitle),
    recipient: String(p!.recipientSystemTitle),
  }
  return openProtectedAttributes(z, protection, response.protectedAttributes as ProtectedAttributes)
}

const u32 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0')
const i32 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, '0')

/** ECS17b plaintext, written out: active import (Wh) then reactive import (varh, not modelled: 0). */
const importHex = (wh: number) => `0201020406${u32(wh)}02020F00161E06${u32(0)}02020F001620`
/** ECS19 plaintext, written out: six int32 registers in currency units. */
const prepaymentHex = (values: number[]) => `02010206${values.map((v) => `05${i32(v)}`).join('')}`

/** The response view survives the payload codec unchanged (the firmware sends it that way). */
function roundTrips(code: number, response: View): void {
  const ctx = { messageCode: code, cra: 'response' as const }
  const bytes = buildPayload(response, ctx, 'dlms')
  expect(decodePayload(bytes, ctx).useCase).toEqual(response)
}

function withAccount(device: DeviceState, account: Partial<DeviceState['account']>): DeviceState {
  return { ...device, account: { ...device.account, ...account } }
}

describe('ECS17b Read Import Energy Registers', () => {
  it('encrypts the Active Import Register for the supplier that asked', () => {
    const device = withAccount(testDevice(), { importEnergy: 1_234_567 })
    const { auth, view } = received(device, ECS17B, PARTIES.supplierA, 1000n)
    const r = readImportEnergy(device, view, auth, T0, backend)
    const response = r.response!
    expect(r.state).toBe(device)
    expect(r.events).toEqual([])
    expect(response).toMatchObject({
      name: 'ECS17b Read Import Energy Registers',
      invokeId: 7,
      result: 'success',
      protection: [
        {
          protectionType: 2,
          transactionId: '0400000000000003E8',
          originatorSystemTitle: ESME_EUI,
          recipientSystemTitle: PARTIES.supplierA.eui,
          otherInformation: '',
          keyInfoType: 2,
          keyParameters: '02',
          keyCipheredData: '',
        },
      ],
      protectedAttributes: { securityControl: 49, invocationCounter: 0 },
    })
    const plaintext = open(partyZ(PARTIES.supplierA, device), response)
    expect(toHex(plaintext!)).toBe(importHex(1_234_567))
    roundTrips(ECS17B, response)
  })

  it('encrypts for the network operator when it asks', () => {
    const device = withAccount(testDevice(), { importEnergy: 42 })
    const { auth, view } = received(device, ECS17B, PARTIES.networkOperator, 5n)
    const response = readImportEnergy(device, view, auth, T0, backend).response!
    expect(toHex(open(partyZ(PARTIES.networkOperator, device), response)!)).toBe(importHex(42))
    // Nobody else can read it, not even the supplier.
    expect(open(partyZ(PARTIES.supplierA, device), response)).toBeNull()
  })

  it('uses a fresh key for every transaction', () => {
    const device = testDevice()
    const a = received(device, ECS17B, PARTIES.supplierA, 1000n)
    const b = received(device, ECS17B, PARTIES.supplierA, 1001n)
    const ra = readImportEnergy(device, a.view, a.auth, T0, backend).response!
    const rb = readImportEnergy(device, b.view, b.auth, T0, backend).response!
    expect((ra.protectedAttributes as ProtectedAttributes).ciphertext).not.toBe(
      (rb.protectedAttributes as ProtectedAttributes).ciphertext,
    )
  })

  it('discloses nothing to a party whose key agreement cell it lacks', () => {
    const installed = testDevice()
    const { auth, view } = received(installed, ECS17B, PARTIES.supplierA, 1000n)
    const { supplierKa: _dropped, ...cells } = installed.cells
    const device = { ...installed, cells }
    const r = readImportEnergy(device, view, auth, T0, backend)
    expect(r.response).toEqual({
      name: 'ECS17b Read Import Energy Registers',
      invokeId: 7,
      result: 'read-write-denied',
    })
    expect(r.reason).toMatch(/no key agreement cell/)
    roundTrips(ECS17B, r.response!)
  })
})

describe('ECS19 Read Prepayment Registers', () => {
  it('encrypts the credit and debt registers for the supplier', () => {
    const device = withAccount(testDevice(), {
      meterBalance: -12_345,
      emergencyCredit: 50_000,
      emergencyCreditActive: true,
      accumulatedDebt: 20_000,
      timeDebt: [3_000, 4_000],
    })
    const { auth, view } = received(device, ECS19, PARTIES.supplierA, 2000n)
    const response = readPrepaymentRegisters(device, view, auth, T0, backend).response!
    expect(response).toMatchObject({ name: 'ECS19 Read Prepayment Registers', result: 'success' })
    const plaintext = open(partyZ(PARTIES.supplierA, device), response)
    // meter balance, emergency credit balance, accumulated debt (all debt owed), payment debt,
    // time debt 1, time debt 2
    expect(toHex(plaintext!)).toBe(prepaymentHex([-12_345, 50_000, 27_000, 20_000, 3_000, 4_000]))
    roundTrips(ECS19, response)
  })

  it('reports no emergency credit balance while emergency credit is not active', () => {
    const device = withAccount(testDevice(), {
      meterBalance: 500_000,
      emergencyCredit: 9,
      emergencyCreditActive: false,
    })
    const { auth, view } = received(device, ECS19, PARTIES.supplierA, 2000n)
    const response = readPrepaymentRegisters(device, view, auth, T0, backend).response!
    expect(toHex(open(partyZ(PARTIES.supplierA, device), response)!)).toBe(
      prepaymentHex([500_000, 0, 0, 0, 0, 0]),
    )
  })
})

describe('through the firmware', () => {
  it('answers ECS17b and ECS19 with registers only the supplier can read', () => {
    let device = withAccount(testDevice(), { importEnergy: 777, meterBalance: 123_000 })
    for (const [code, counter] of [
      [ECS17B, 1000n],
      [ECS19, 1001n],
    ] as const) {
      const bytes = command(code, readView(code, PARTIES.supplierA, counter), device, {
        counter,
        sign: false,
      })
      const r = step(device, { kind: 'frame', bytes }, T0)
      expect(r.outputs.outcome).toBe('executed')
      const s = decodeFrame(r.outputs.response!).signing
      expect(s.cra).toBe('response')
      expect(s.originatorCounter).toBe(counter)
      const response = decodePayload(s.content, { messageCode: code, cra: 'response' }).useCase!
      const plaintext = toHex(open(partyZ(PARTIES.supplierA, r.state), response)!)
      expect(plaintext).toBe(
        code === ECS17B
          ? toHex(
              encodeImportEnergyRegisters({ activeImport: r.state.account.importEnergy, reactiveImport: 0 }),
            )
          : prepaymentHex([r.state.account.meterBalance, 0, 0, 0, 0, 0]),
      )
      device = r.state
    }
  })
})

describe('ECS17c Read Active Power Import', () => {
  const ECS17C = 0x0028
  const name = 'ECS17c Read Active Power Import'
  /** A meter drawing a flat `watts` all day. */
  const drawing = (watts: number, supply: DeviceState['supply'] = 'enabled'): DeviceState => ({
    ...testDevice(),
    supply,
    load: { watts, seed: 1, shape: FLAT_SHAPE },
  })
  const ask = (device: DeviceState, from: Party, counter: bigint) => {
    const bytes = command(ECS17C, { name, invokeId: 9 }, device, { from, counter, sign: false })
    const r = step(device, { kind: 'frame', bytes }, T0)
    expect(r.outputs.outcome, r.outputs.reason).toBe('executed')
    const s = decodeFrame(r.outputs.response!).signing
    return { r, s, view: decodePayload(s.content, { messageCode: ECS17C, cra: 'response' }).useCase }
  }

  it('answers the import power the meter draws, in W and in the clear, to the supplier and the network operator', () => {
    for (const [from, counter] of [
      [PARTIES.supplierA, 2000n],
      [PARTIES.networkOperator, 2001n],
    ] as const) {
      const { s, view } = ask(drawing(1500), from, counter)
      expect(s.cra).toBe('response')
      expect(s.originatorCounter).toBe(counter)
      // Non-critical: MACed, not signed (GBCS; the RTDS 4.5.0 ECS17c response carries no signature).
      expect(s.signature).toEqual({ kind: 'empty' })
      expect(view).toEqual({
        name,
        invokeId: 9,
        activePowerImport: 1500,
        primaryActivePowerImport: 1500,
        result: 'success',
      })
    }
  })

  it('reads 0 W while the supply is not enabled, and follows the load profile otherwise', () => {
    expect(ask(drawing(1500, 'disabled'), PARTIES.supplierA, 2002n).view).toMatchObject({
      activePowerImport: 0,
      primaryActivePowerImport: 0,
    })
    expect(ask(drawing(2750), PARTIES.supplierA, 2003n).view).toMatchObject({ activePowerImport: 2750 })
  })
})

// --- Against the DCC's Reference Test Data Set ------------------------------------------------

const rtds = process.env.SMETSIM_RTDS
const keystoreDir = process.env.SMETSIM_RTDS_KEYSTORE

const RTDS_CASES = [
  // to the supplier
  { dir: '4.1.1_ECS17b', stem: 'ECS17b_4.1.1_SINGLE_SUCCESS', role: 'supplier' },
  // to the network operator, from a twin-element ESME (a fifth value: the secondary element's
  // active import register)
  { dir: '4.1.1_ECS17b', stem: 'ECS17b_4.1.1_TWIN_SUCCESS', role: 'networkOperator' },
  { dir: '4.3_ECS19', stem: 'ECS19_4.3_SUCCESS', role: 'supplier' },
] as const

describe.runIf(rtds && keystoreDir)('RTDS protected reads', () => {
  // Opened on first use: vitest collects this block even when it skips it.
  let opened: ReturnType<typeof openKeystore> | undefined
  const keystore = () => {
    opened ??= openKeystore(keystoreDir!)
    return opened
  }
  const frame = (dir: string, file: string) =>
    decodeFrame(fromHex(readFileSync(join(rtds!, dir, file), 'utf8').replace(/\s+/g, '')))
  const kaKey = (eui: Eui64) => {
    const d = keystore().privateKey(eui, 'keyAgreement')!.export({ format: 'jwk' }).d!
    return new Uint8Array(Buffer.from(d, 'base64url'))
  }
  const devicePoint = (eui: Eui64) =>
    credentialFromCertificate(keystore().certificate(eui, 'keyAgreement')!).publicKey

  for (const c of RTDS_CASES) {
    it(`${c.stem}: decrypts, re-encrypts to identical bytes, and the handler answers alike`, () => {
      const cmd = frame(c.dir, `${c.stem}_COMMAND_GBCS.HEX`).signing
      const rsp = frame(c.dir, `${c.stem}_RESPONSE_GBCS.HEX`).signing
      const view = decodePayload(rsp.content, { messageCode: rsp.messageCode, cra: 'response' }).useCase!
      const party = rsp.recipient
      const z = backend.ecdh(
        backend.importPrivateKey(kaKey(party)),
        backend.importPublicKey(devicePoint(rsp.originator)),
      )

      // The construction: decrypt, then encrypt the plaintext again to the same bytes.
      const plaintext = open(z, view)
      expect(plaintext).not.toBeNull()
      const [p] = view.protection as { [k: string]: Json }[]
      expect(p!.transactionId).toBe(`04${rsp.originatorCounter.toString(16).toUpperCase().padStart(16, '0')}`)
      const protection: AttributeProtection = {
        transactionId: fromHex(String(p!.transactionId)),
        originator: rsp.originator,
        recipient: rsp.recipient,
      }
      expect(protectAttributes(z, protection, plaintext!)).toEqual(view.protectedAttributes)

      // The register layout our encoders write.
      const hex = toHex(plaintext!)
      if (c.stem === 'ECS17b_4.1.1_SINGLE_SUCCESS')
        expect(hex).toBe(toHex(encodeImportEnergyRegisters({ activeImport: 10, reactiveImport: 10 })))
      if (c.stem === 'ECS19_4.3_SUCCESS')
        expect(hex).toBe(
          toHex(
            encodePrepaymentRegisters({
              meterBalance: 250_000,
              emergencyCreditBalance: 95_000,
              accumulatedDebt: 187_000,
              paymentDebt: 203_000,
              timeDebt1: 243_000,
              timeDebt2: 46_000,
            }),
          ),
        )

      // The handler, on the RTDS device (which agrees keys from the stand-in private keys): the
      // same protection parameters, and a ciphertext the requester opens with the same Z.
      const device = createDevice({
        type: 'ESME',
        eui: rsp.originator,
        cells: { [`${c.role}Ka`]: credentialFromCertificate(keystore().certificate(party, 'keyAgreement')!) },
        keys: { standIn: { publicKey: devicePoint(rsp.originator), peers: { [party]: kaKey(party) } } },
        now: T0,
      })
      const commandView = decodePayload(cmd.content, { messageCode: cmd.messageCode, cra: 'command' })
        .useCase!
      const auth: Authenticated = {
        ok: true,
        frame: { signing: cmd },
        role: c.role,
        rule: undefined,
        critical: false,
      }
      const handler = cmd.messageCode === ECS17B ? readImportEnergy : readPrepaymentRegisters
      const ours = handler(device, commandView, auth, T0, backend).response!
      expect(ours.protection).toEqual(view.protection)
      expect(ours.result).toBe('success')
      expect(open(z, ours)).not.toBeNull()
    })
  }
})

/**
 * GCS13a and GCS14: the GSME encrypts its registers for the party that asked, and only that
 * party's key agreement key opens them.
 *
 * The RTDS block runs only with the DCC's Reference Test Data Set and its keystore, which are
 * not in this repository:
 *   SMETSIM_RTDS=/path/to/RTDS-4.5.0 SMETSIM_RTDS_KEYSTORE=/path/to/rtds/keystore \
 *     npx vitest run packages/device/src/use-cases/gsme-reads.test.ts
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, fromHex, toHex } from '@smetsim/core'
import { buildPayload, decodeFrame, decodePayload, type PrivateKeyRef } from '@smetsim/gbcs'
import { openKeystore } from '@smetsim/smki'
import { describe, expect, it } from 'vitest'
import { type Authenticated, authenticateCommand } from '../authenticate.ts'
import { credentialFromCertificate } from '../cells.ts'
import { step } from '../firmware.ts'
import { createDevice } from '../provision.ts'
import type { DeviceState } from '../state.ts'
import { backend, command, ESME_EUI, PARTIES, type Party, T0, testDevice } from '../testing.ts'
import {
  type AttributeRecord,
  decodeAttributeRecords,
  encodeGasConsumptionRegisters,
  encodeGsmePrepaymentValues,
  GSME_NO_KEY_STATUS,
  gasVolume,
  openProtectedComponent,
  type ProtectedComponent,
  protectComponent,
  readGsmeImportRegisters,
  readGsmePrepaymentValues,
  responseProtection,
} from './gsme-reads.ts'
import type { View } from './index.ts'

const GCS13A = 0x0074
const GCS14 = 0x0075
const NAMES: Record<number, string> = {
  [GCS13A]: 'GCS13a Read Import Registers',
  [GCS14]: 'GCS14 Read Prepayment Values',
}

/** The command view of a GSME read, as the DCC builds it (the RTDS commands: fixed reads). */
const readView = (code: number, sequenceNumber = 0): View => ({ name: NAMES[code]!, sequenceNumber })

/** The command as the firmware sees it once authenticated: its frame, role and decoded view. */
function received(device: DeviceState, code: number, from: Party, counter: bigint, sequenceNumber = 0) {
  const bytes = command(code, readView(code, sequenceNumber), device, { from, counter, sign: false })
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

/** Opens a response view's encrypted component with Z, as the requester would. */
function open(z: Uint8Array, response: View, device: string, requester: string, counter: bigint) {
  return openProtectedComponent(
    z,
    responseProtection(device, requester, counter),
    response.protected as ProtectedComponent,
  )
}

/** The register values of a plaintext, by attribute id. */
function values(plaintext: Uint8Array): Record<string, bigint | undefined> {
  const records = decodeAttributeRecords(plaintext) as AttributeRecord[]
  expect(records).not.toBeNull()
  expect(records.every((r) => r.status === 0)).toBe(true)
  return Object.fromEntries(records.map((r) => [r.id.toString(16).padStart(4, '0'), r.value]))
}

/** The response view survives the GBZ payload codec unchanged (the firmware sends it that way). */
function roundTrips(code: number, response: View): Uint8Array {
  const ctx = { messageCode: code, cra: 'response' as const }
  const bytes = buildPayload(response, ctx, 'gbz')
  expect(decodePayload(bytes, ctx).useCase).toEqual(response)
  return bytes
}

function withAccount(device: DeviceState, account: Partial<DeviceState['account']>): DeviceState {
  return { ...device, account: { ...device.account, ...account } }
}

/** GCS13a plaintext of the RTDS GSME: 12.345 m³ (divisor 1000, multiplier 1, unit m³). */
const RTDS_GCS13A_PLAINTEXT = '02030022E8030001030022010000000300300100000025393000000000'
/** The energy whose volume at the default calorific value is 12 345 dm³. */
const WH_FOR_12345_DM3 = 138_519

describe('the gas Consumption Register', () => {
  it('reads the volume (dm³) whose energy the meter charged for, never going back', () => {
    expect(gasVolume(0)).toBe(0)
    // 1 m³ at CV 39.5 MJ/m³ and CF 1.02264 is 11.2206… kWh.
    expect(gasVolume(11_221)).toBe(1000)
    expect(gasVolume(11_220)).toBe(999)
    expect(gasVolume(WH_FOR_12345_DM3)).toBe(12_345)
    expect(gasVolume(WH_FOR_12345_DM3 - 1)).toBe(12_344)
    let last = 0
    for (let wh = 0; wh < 50_000; wh += 7) {
      const v = gasVolume(wh)
      expect(v).toBeGreaterThanOrEqual(last)
      last = v
    }
  })

  it('writes the Metering attributes in the order GCS13a reads them', () => {
    const hex = toHex(
      encodeGasConsumptionRegisters({
        currentSummationDelivered: 12_345,
        multiplier: 1,
        divisor: 1000,
        unitOfMeasure: 1,
      }),
    )
    expect(hex).toBe(RTDS_GCS13A_PLAINTEXT)
  })
})

describe('GCS13a Read GSME Consumption Register', () => {
  it('encrypts the Consumption Register for the supplier that asked', () => {
    const device = withAccount(testDevice('GSME'), { importEnergy: WH_FOR_12345_DM3 })
    const { auth, view } = received(device, GCS13A, PARTIES.supplierA, 1000n, 9)
    const r = readGsmeImportRegisters(device, view, auth, T0, backend)
    const response = r.response!
    expect(r.state).toBe(device)
    expect(r.events).toEqual([])
    expect(r.reason).toBeUndefined()
    expect(response).toMatchObject({
      name: 'GCS13a Read Import Registers',
      sequenceNumber: 9,
      protected: {
        additionalHeaderControl: 0,
        additionalHeaderFrameCounter: 0,
        securityHeader: '3100000000',
      },
    })
    expect((response.protected as ProtectedComponent).mac).toHaveLength(24)
    const plaintext = open(
      partyZ(PARTIES.supplierA, device),
      response,
      ESME_EUI,
      PARTIES.supplierA.eui,
      1000n,
    )
    expect(toHex(plaintext!)).toBe(RTDS_GCS13A_PLAINTEXT)
    expect(values(plaintext!)).toEqual({ '0302': 1000n, '0301': 1n, '0300': 1n, '0000': 12_345n })
    roundTrips(GCS13A, response)
  })

  it('encrypts for the network operator when it asks, and for nobody else', () => {
    const device = withAccount(testDevice('GSME'), { importEnergy: 1_000_000 })
    const { auth, view } = received(device, GCS13A, PARTIES.networkOperator, 5n)
    const response = readGsmeImportRegisters(device, view, auth, T0, backend).response!
    const nop = PARTIES.networkOperator
    const plaintext = open(partyZ(nop, device), response, ESME_EUI, nop.eui, 5n)
    expect(values(plaintext!)['0000']).toBe(BigInt(gasVolume(1_000_000)))
    // Not the supplier, nor the network operator in another transaction.
    expect(open(partyZ(PARTIES.supplierA, device), response, ESME_EUI, PARTIES.supplierA.eui, 5n)).toBeNull()
    expect(open(partyZ(nop, device), response, ESME_EUI, nop.eui, 6n)).toBeNull()
  })

  it('uses a fresh key for every transaction', () => {
    const device = testDevice('GSME')
    const a = received(device, GCS13A, PARTIES.supplierA, 1000n)
    const b = received(device, GCS13A, PARTIES.supplierA, 1001n)
    const ra = readGsmeImportRegisters(device, a.view, a.auth, T0, backend).response!
    const rb = readGsmeImportRegisters(device, b.view, b.auth, T0, backend).response!
    expect((ra.protected as ProtectedComponent).ciphertext).not.toBe(
      (rb.protected as ProtectedComponent).ciphertext,
    )
  })

  it('discloses nothing to a party whose key agreement cell it lacks', () => {
    const installed = testDevice('GSME')
    const { auth, view } = received(installed, GCS13A, PARTIES.supplierA, 1000n, 3)
    const { supplierKa: _dropped, ...cells } = installed.cells
    const r = readGsmeImportRegisters({ ...installed, cells }, view, auth, T0, backend)
    expect(r.response).toEqual({
      name: 'GCS13a Read Import Registers',
      sequenceNumber: 3,
      result: GSME_NO_KEY_STATUS,
    })
    expect(r.reason).toMatch(/no key agreement cell/)
    // A ZCL Default Response to Read Attributes (00) with status NOT_AUTHORIZED (7E).
    expect(toHex(roundTrips(GCS13A, r.response!))).toBe('010901010702000508030B007E')
  })
})

describe('GCS14 Read GSME Prepayment Values', () => {
  it('sends the price values in the clear and the credit and debt registers encrypted', () => {
    const device = withAccount(testDevice('GSME'), {
      meterBalance: -12_345,
      emergencyCredit: 50_000,
      emergencyCreditActive: true,
      accumulatedDebt: 20_000,
      timeDebt: [3_000, 4_000],
    })
    const { auth, view } = received(device, GCS14, PARTIES.supplierA, 2000n, 4)
    const r = readGsmePrepaymentValues(device, view, auth, T0, backend)
    const response = r.response!
    expect(r.state).toBe(device)
    expect(response).toMatchObject({
      name: 'GCS14 Read Prepayment Values',
      sequenceNumber: 4,
      priceTrailingDigit: '50',
      currency: 826,
      protected: { securityHeader: '3100000000' },
      results: { priceTrailingDigit: 'success', currency: 'success' },
    })
    const plaintext = open(
      partyZ(PARTIES.supplierA, device),
      response,
      ESME_EUI,
      PARTIES.supplierA.eui,
      2000n,
    )
    expect(values(plaintext!)).toEqual({
      '0005': 27_000n, // Accumulated Debt: all debt still owed
      '0002': 50_000n, // Emergency Credit Remaining
      '0001': -12_345n, // Credit Remaining: the Meter Balance
      '0231': 20_000n, // Debt Amount #3: the Payment Debt Register
      '0211': 3_000n, // Debt Amount #1: Time Debt Register 1
      '0221': 4_000n, // Debt Amount #2: Time Debt Register 2
    })
    expect(toHex(plaintext!)).toBe(
      toHex(
        encodeGsmePrepaymentValues({
          meterBalance: -12_345,
          emergencyCreditBalance: 50_000,
          accumulatedDebt: 27_000,
          paymentDebt: 20_000,
          timeDebt1: 3_000,
          timeDebt2: 4_000,
        }),
      ),
    )
    roundTrips(GCS14, response)
  })

  it('reports no Emergency Credit Remaining while emergency credit is not active', () => {
    const device = withAccount(testDevice('GSME'), { meterBalance: 500_000, emergencyCredit: 9 })
    const { auth, view } = received(device, GCS14, PARTIES.supplierA, 2000n)
    const response = readGsmePrepaymentValues(device, view, auth, T0, backend).response!
    const plaintext = open(
      partyZ(PARTIES.supplierA, device),
      response,
      ESME_EUI,
      PARTIES.supplierA.eui,
      2000n,
    )
    expect(values(plaintext!)).toMatchObject({ '0001': 500_000n, '0002': 0n, '0005': 0n })
  })

  it('answers the price values but not the prepayment values without a key for the requester', () => {
    const installed = testDevice('GSME')
    const { auth, view } = received(installed, GCS14, PARTIES.supplierA, 2000n)
    const { supplierKa: _dropped, ...cells } = installed.cells
    const r = readGsmePrepaymentValues({ ...installed, cells }, view, auth, T0, backend)
    expect(r.response).toEqual({
      name: 'GCS14 Read Prepayment Values',
      sequenceNumber: 0,
      priceTrailingDigit: '50',
      currency: 826,
      results: { priceTrailingDigit: 'success', currency: 'success', prepayment: GSME_NO_KEY_STATUS },
    })
    expect(r.reason).toMatch(/no key agreement cell/)
    roundTrips(GCS14, r.response!)
  })
})

describe('through the firmware', () => {
  it('answers GCS13a and GCS14 with registers only the supplier can read', () => {
    let device = withAccount(testDevice('GSME'), { importEnergy: WH_FOR_12345_DM3, meterBalance: 123_000 })
    for (const [code, counter] of [
      [GCS13A, 1000n],
      [GCS14, 1001n],
    ] as const) {
      const bytes = command(code, readView(code), device, { counter, sign: false })
      const r = step(device, { kind: 'frame', bytes }, T0)
      expect(r.outputs.outcome).toBe('executed')
      const s = decodeFrame(r.outputs.response!).signing
      expect(s.cra).toBe('response')
      expect(s.originatorCounter).toBe(counter)
      const response = decodePayload(s.content, { messageCode: code, cra: 'response' }).useCase!
      const plaintext = open(
        partyZ(PARTIES.supplierA, r.state),
        response,
        ESME_EUI,
        PARTIES.supplierA.eui,
        counter,
      )
      const v = values(plaintext!)
      if (code === GCS13A) expect(v['0000']).toBe(BigInt(gasVolume(r.state.account.importEnergy)))
      else expect(v['0001']).toBe(BigInt(r.state.account.meterBalance))
      device = r.state
    }
  })
})

// --- Against the DCC's Reference Test Data Set ------------------------------------------------

const rtds = process.env.SMETSIM_RTDS
const keystoreDir = process.env.SMETSIM_RTDS_KEYSTORE

/**
 * The encrypted RTDS responses: from the GSME itself (…A1) and from the GPF answering for it
 * from its mirror (…A3). The ERROR response of GCS13a is encrypted too: its Divisor record
 * carries status C0 (hardware failure).
 */
const RTDS_CASES = [
  { dir: '4.1.1_GCS13a', stem: 'GCS13a_4.1.1_SUCCESS_UNRELIABLE' },
  { dir: '4.1.1_GCS13a', stem: 'GCS13a_4.1.1_SUCCESS_RELIABLE_GSME' },
  { dir: '4.1.1_GCS13a', stem: 'GCS13a_4.1.1_SUCCESS_RELIABLE_GPF' },
  { dir: '4.1.1_GCS13a', stem: 'GCS13a_4.1.1_ERROR' },
  { dir: '4.3_GCS14', stem: 'GCS14_4.3_SUCCESS_UNRELIABLE' },
  { dir: '4.3_GCS14', stem: 'GCS14_4.3_SUCCESS_RELIABLE_GSME' },
  { dir: '4.3_GCS14', stem: 'GCS14_4.3_SUCCESS_RELIABLE_GPF' },
] as const

describe.runIf(rtds && keystoreDir)('RTDS encrypted GSME reads', () => {
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
      expect(rsp.originatorCounter).toBe(cmd.originatorCounter)
      const code = rsp.messageCode
      const view = decodePayload(rsp.content, { messageCode: code, cra: 'response' }).useCase!
      const party = rsp.recipient
      const z = backend.ecdh(
        backend.importPrivateKey(kaKey(party)),
        backend.importPublicKey(devicePoint(rsp.originator)),
      )

      // The construction: decrypt, then encrypt the plaintext again to the same bytes.
      const protection = responseProtection(rsp.originator, party, rsp.originatorCounter)
      const sealed = view.protected as ProtectedComponent
      const plaintext = openProtectedComponent(z, protection, sealed)
      expect(plaintext).not.toBeNull()
      expect(protectComponent(z, protection, plaintext!)).toEqual(sealed)

      // The register layout our encoders write.
      const hex = toHex(plaintext!)
      if (code === GCS13A && !c.stem.includes('ERROR')) expect(hex).toBe(RTDS_GCS13A_PLAINTEXT)
      if (c.stem.includes('ERROR'))
        expect(decodeAttributeRecords(plaintext!)!.map((r) => r.status)).toEqual([0xc0, 0, 0, 0])
      if (code === GCS14)
        expect(hex).toBe(
          toHex(
            encodeGsmePrepaymentValues({
              accumulatedDebt: 2_500_000,
              emergencyCreditBalance: 500_000,
              meterBalance: 2_500_000,
              paymentDebt: 5_000,
              timeDebt1: 5_000,
              timeDebt2: 5_000,
            }),
          ),
        )

      // The handler, on the RTDS device (which agrees keys from the stand-in private key).
      const device = withAccount(
        createDevice({
          type: 'GSME',
          eui: rsp.originator,
          cells: { supplierKa: credentialFromCertificate(keystore().certificate(party, 'keyAgreement')!) },
          keys: { standIn: { publicKey: devicePoint(rsp.originator), peers: { [party]: kaKey(party) } } },
          now: T0,
        }),
        { importEnergy: WH_FOR_12345_DM3, meterBalance: 2_500_000 },
      )
      const commandView = decodePayload(cmd.content, { messageCode: cmd.messageCode, cra: 'command' })
        .useCase!
      const auth: Authenticated = {
        ok: true,
        frame: { signing: cmd },
        role: 'supplier',
        rule: undefined,
        critical: false,
      }
      const handler = code === GCS13A ? readGsmeImportRegisters : readGsmePrepaymentValues
      const ours = handler(device, commandView, auth, T0, backend).response!
      const opened = openProtectedComponent(z, protection, ours.protected as ProtectedComponent)
      expect(opened).not.toBeNull()
      if (code === GCS13A && !c.stem.includes('ERROR')) {
        // Same registers, same transaction: the very bytes the DCC expects.
        expect(ours).toEqual(view)
        expect(toHex(buildPayload(ours, { messageCode: code, cra: 'response' }, 'gbz'))).toBe(
          toHex(rsp.content),
        )
      }
      if (code === GCS14) {
        const { protected: _theirs, ...clear } = view
        const { protected: _ours, ...ourClear } = ours
        expect(ourClear).toEqual(clear)
        expect(values(opened!)['0001']).toBe(2_500_000n)
      }
    })
  }
})

/**
 * GCS13a Read GSME Consumption Register and GCS14 Read GSME Prepayment Values: the GSME
 * answers with its registers encrypted for the remote party that asked, as the ESME does for
 * ECS17b and ECS19 (reads.ts). Only that party can read them; the DCC carries the response
 * without seeing the values.
 *
 * The GBZ response carries the registers as an encrypted ZCL Read Attributes Response
 * component. The protection, as the DCC's reference responses (RTDS 4.5.0, 4.1.1 GCS13a and
 * 4.3 GCS14, from the GSME and from the GPF answering for it) confirm byte for byte, is the
 * ESME's:
 *  - the key is the GBCS KDF over the static ECDH secret of the device's key agreement key and
 *    the requester's key agreement cell, with OtherInfo = algorithm id ‖ device system title ‖
 *    09 ‖ CRA flag 04 (payload encryption) ‖ the command's originator counter ‖ requester
 *    system title;
 *  - AES-128-GCM with IV = device system title ‖ invocation counter (4 bytes, 0), AAD = the
 *    security control byte 0x31 alone (none of the GBZ or ZCL headers), and a 12-byte tag;
 *  - the component's security header is that security control byte then the invocation
 *    counter (`3100000000`), its additional header control and frame counter are 0;
 *  - the plaintext is the ZCL Read Attributes Response payload that the component would carry
 *    unencrypted: per attribute, in the order the command reads them, its id (2 bytes,
 *    little-endian), status 00, ZCL data type and value (little-endian).
 *
 * GCS13a plaintext (Metering cluster): Divisor (uint24), Multiplier (uint24), Unit of Measure
 * (enum8) and Current Summation Delivered (uint48). GCS14 plaintext (Prepayment cluster):
 * Accumulated Debt, Emergency Credit Remaining, Credit Remaining (int32 each), then the Debt
 * Amounts #3 (payment debt), #1 and #2 (time debts 1 and 2), uint32 each. The Price cluster's
 * Price Trailing Digit and Currency travel in the clear in GCS14's first component.
 */
import { fromHex, toHex, writeUintBE } from '@smetsim/core'
import { keyAgreementWith } from '../cells.ts'
import type { DeviceState } from '../state.ts'
import type { Handler, View } from './index.ts'
import {
  type AttributeProtection,
  encryptionTransactionId,
  openProtectedAttributes,
  type PrepaymentRegisters,
  prepaymentRegisters,
  protectAttributes,
} from './reads.ts'

/**
 * The ZCL status of the register component when the device holds no key agreement cell for
 * the requester: NOT_AUTHORIZED (0x7E), the ZCL counterpart of the ESME's read-write-denied.
 * The registers are not disclosed; GCS13a answers with a Default Response carrying it, GCS14
 * with its Price values and a Default Response carrying it in place of the prepayment values.
 */
export const GSME_NO_KEY_STATUS = 'not-authorized'

// --- The gas consumption register ----------------------------------------------------------------

/**
 * How the GSME turns the gas volume it measures into the energy it charges for: the
 * Calorific Value (MJ/m³) and the Conversion Factor (the volume correction to standard
 * conditions, 1.02264 as UK billing uses), energy (kWh) = volume (m³) × CF × CV / 3.6.
 * The emulated device holds no configurable calorific value, so a typical one is used.
 */
export const GAS_CONVERSION = { calorificValue: 39.5, conversionFactor: 1.02264 } as const

/** Wh per dm³ (= kWh per m³) as the exact fraction GAS_NUMERATOR / GAS_DENOMINATOR. */
const GAS_NUMERATOR = 102_264n * 395n // conversion factor × 10^5, calorific value × 10
const GAS_DENOMINATOR = 3_600_000n // 3.6 × 10^5 × 10

/** ZSE Unit of Measure 0x01: m³ (cubic metres), pure binary. */
export const UNIT_CUBIC_METRES = 0x01

/** GCS13a's registers as the Metering cluster names them. */
export interface GasConsumptionRegisters {
  /** Current Summation Delivered: the Consumption Register, in units of multiplier / divisor. */
  currentSummationDelivered: number
  multiplier: number
  divisor: number
  /** ZSE Unit of Measure code (0x01: m³). */
  unitOfMeasure: number
}

/**
 * The gas volume (dm³, rounded down) whose energy is `energyWh` at GAS_CONVERSION: the inverse
 * of the device's own volume to energy conversion, so the register grows with the energy the
 * engine charges for and never goes back.
 */
export function gasVolume(energyWh: number): number {
  const wh = BigInt(Math.max(0, Math.trunc(energyWh)))
  return Number((wh * GAS_DENOMINATOR) / GAS_NUMERATOR)
}

/**
 * The GSME's Consumption Register. The engine meters energy (Wh) for gas as for electricity;
 * a GSME measures volume, so the register reads the volume at GAS_CONVERSION, in m³ with
 * divisor 1000 and multiplier 1 (a resolution of 1 dm³), as the RTDS GSME reports it.
 */
export function gasConsumptionRegisters(state: DeviceState): GasConsumptionRegisters {
  return {
    currentSummationDelivered: gasVolume(state.account.importEnergy),
    multiplier: 1,
    divisor: 1000,
    unitOfMeasure: UNIT_CUBIC_METRES,
  }
}

/**
 * GCS14's Price cluster values: Price Trailing Digit 0x50 (5 digits after the decimal point,
 * so money is in 1/100000 GBP, the milli-pence of the state) and Currency 826 (GBP, ISO 4217).
 */
export const GSME_PRICE_TRAILING_DIGIT = '50'
export const GSME_CURRENCY = 826

// --- ZCL attribute records -----------------------------------------------------------------------

/** The ZCL data types of the registers. */
export const ZCL_TYPE = { uint24: 0x22, uint32: 0x23, uint48: 0x25, int32: 0x2b, enum8: 0x30 } as const

const WIDTH: Readonly<Record<number, number>> = { 34: 3, 35: 4, 37: 6, 43: 4, 48: 1 }
const SIGNED: ReadonlySet<number> = new Set([0x2b])

/** One read attribute status record: the attribute's id, status and, on success, type and value. */
export interface AttributeRecord {
  id: number
  status: number
  type?: number
  value?: bigint
}

const le = (value: bigint, width: number): number[] => [...writeUintBE(value, width)].reverse()

/** Read attribute status records (the Read Attributes Response payload), little-endian. */
export function encodeAttributeRecords(records: readonly AttributeRecord[]): Uint8Array {
  const out: number[] = []
  for (const r of records) {
    out.push(...le(BigInt(r.id), 2), r.status)
    if (r.status !== 0) continue
    const width = r.type === undefined ? undefined : WIDTH[r.type]
    if (width === undefined || r.value === undefined)
      throw new RangeError(`attribute ${r.id}: no typed value`)
    out.push(r.type!, ...le(BigInt.asUintN(width * 8, r.value), width))
  }
  return Uint8Array.from(out)
}

/** The records of a Read Attributes Response payload; null when it is not one of these types. */
export function decodeAttributeRecords(bytes: Uint8Array): AttributeRecord[] | null {
  const records: AttributeRecord[] = []
  let i = 0
  while (i < bytes.length) {
    if (i + 3 > bytes.length) return null
    const id = bytes[i]! | (bytes[i + 1]! << 8)
    const status = bytes[i + 2]!
    i += 3
    if (status !== 0) {
      records.push({ id, status })
      continue
    }
    const type = bytes[i]
    const width = type === undefined ? undefined : WIDTH[type]
    if (width === undefined || i + 1 + width > bytes.length) return null
    let value = 0n
    for (let k = width; k >= 1; k--) value = (value << 8n) | BigInt(bytes[i + k]!)
    if (SIGNED.has(type!)) value = BigInt.asIntN(width * 8, value)
    records.push({ id, status, type: type!, value })
    i += 1 + width
  }
  return records
}

/** A register past its unsigned range rolls over, as a meter's register does. */
const rolling = (n: number, bits: number): bigint => BigInt.asUintN(bits, BigInt(Math.trunc(n)))
/** Money beyond the int32 range is held at its limit. */
const int32 = (n: number): bigint => BigInt(Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(n))))
/** A debt beyond the uint32 range is held at its limit (a debt is never negative). */
const uint32 = (n: number): bigint => BigInt(Math.max(0, Math.min(0xffffffff, Math.trunc(n))))

/**
 * GCS13a plaintext: Divisor 0x0302 (uint24), Multiplier 0x0301 (uint24), Unit of Measure
 * 0x0300 (enum8), Current Summation Delivered 0x0000 (uint48), the order the command reads them.
 */
export function encodeGasConsumptionRegisters(r: GasConsumptionRegisters): Uint8Array {
  return encodeAttributeRecords([
    { id: 0x0302, status: 0, type: ZCL_TYPE.uint24, value: rolling(r.divisor, 24) },
    { id: 0x0301, status: 0, type: ZCL_TYPE.uint24, value: rolling(r.multiplier, 24) },
    { id: 0x0300, status: 0, type: ZCL_TYPE.enum8, value: rolling(r.unitOfMeasure, 8) },
    { id: 0x0000, status: 0, type: ZCL_TYPE.uint48, value: rolling(r.currentSummationDelivered, 48) },
  ])
}

/**
 * GCS14 plaintext, in currency units: Accumulated Debt 0x0005, Emergency Credit Remaining
 * 0x0002 and Credit Remaining 0x0001 (the Meter Balance), int32 each; then Debt Amount #3
 * 0x0231 (the Payment Debt Register), #1 0x0211 and #2 0x0221 (Time Debt Registers 1 and 2),
 * uint32 each. The values are the ESME's prepayment registers (reads.ts prepaymentRegisters).
 */
export function encodeGsmePrepaymentValues(r: PrepaymentRegisters): Uint8Array {
  return encodeAttributeRecords([
    { id: 0x0005, status: 0, type: ZCL_TYPE.int32, value: int32(r.accumulatedDebt) },
    { id: 0x0002, status: 0, type: ZCL_TYPE.int32, value: int32(r.emergencyCreditBalance) },
    { id: 0x0001, status: 0, type: ZCL_TYPE.int32, value: int32(r.meterBalance) },
    { id: 0x0231, status: 0, type: ZCL_TYPE.uint32, value: uint32(r.paymentDebt) },
    { id: 0x0211, status: 0, type: ZCL_TYPE.uint32, value: uint32(r.timeDebt1) },
    { id: 0x0221, status: 0, type: ZCL_TYPE.uint32, value: uint32(r.timeDebt2) },
  ])
}

// --- Protection ----------------------------------------------------------------------------------

/** An encrypted GBZ component as the response view carries it (`protected`, hex upper case). */
export interface ProtectedComponent {
  additionalHeaderControl: number
  additionalHeaderFrameCounter: number
  /** Security control (0x31) then the invocation counter (4 bytes big-endian). */
  securityHeader: string
  ciphertext: string
  /** The 12-byte GCM tag. */
  mac: string
  [field: string]: number | string
}

/** Encrypts a ZCL payload for the recipient: the `protected` view of its GBZ component. */
export function protectComponent(
  z: Uint8Array,
  p: AttributeProtection,
  plaintext: Uint8Array,
  invocationCounter = 0,
): ProtectedComponent {
  const a = protectAttributes(z, p, plaintext, invocationCounter)
  return {
    additionalHeaderControl: 0,
    additionalHeaderFrameCounter: 0,
    securityHeader: toHex(Uint8Array.of(a.securityControl, ...writeUintBE(BigInt(a.invocationCounter), 4))),
    ciphertext: a.ciphertext,
    mac: a.tag,
  }
}

/** The ZCL payload inside an encrypted component; null when it does not open. */
export function openProtectedComponent(
  z: Uint8Array,
  p: AttributeProtection,
  c: ProtectedComponent,
): Uint8Array | null {
  const header = fromHex(c.securityHeader)
  if (header.length !== 5) return null
  const invocationCounter = ((header[1]! << 24) | (header[2]! << 16) | (header[3]! << 8) | header[4]!) >>> 0
  return openProtectedAttributes(z, p, {
    securityControl: header[0]!,
    invocationCounter,
    ciphertext: c.ciphertext,
    tag: c.mac,
  })
}

/** The protection of a response: the device encrypts for the command's originator, in its transaction. */
export function responseProtection(
  device: string,
  requester: string,
  originatorCounter: bigint,
): AttributeProtection {
  return {
    transactionId: encryptionTransactionId(originatorCounter),
    originator: device,
    recipient: requester,
  }
}

// --- The use cases -------------------------------------------------------------------------------

type GsmeRead = Handler

/**
 * A GSME read whose registers go encrypted to the requester: `answer` shapes the response view
 * from the encrypted component, or from null when there is no key to encrypt with.
 */
function protectedGsmeRead(
  plaintext: (state: DeviceState) => Uint8Array,
  answer: (head: View, sealed: ProtectedComponent | null) => View,
): GsmeRead {
  return (state, command, auth, _now, backend) => {
    const head: View = { name: command.name, sequenceNumber: command.sequenceNumber as number }
    const s = auth.frame.signing
    const pair = keyAgreementWith(state.keys, state.cells, s.originator, backend)
    if (!pair)
      return {
        state,
        response: answer(head, null),
        events: [],
        reason: `no key agreement cell for ${s.originator}: registers not disclosed`,
      }
    // The response answers the command's transaction: the requester derives the key from the
    // command's originator counter.
    const z = backend.ecdh(pair.own, pair.other)
    const sealed = protectComponent(
      z,
      responseProtection(state.eui, s.originator, s.originatorCounter),
      plaintext(state),
    )
    return { state, response: answer(head, sealed), events: [] }
  }
}

/** GCS13a (0x0074): the gas Consumption Register, encrypted for the requester. */
export const readGsmeImportRegisters: GsmeRead = protectedGsmeRead(
  (s) => encodeGasConsumptionRegisters(gasConsumptionRegisters(s)),
  (head, sealed) => (sealed ? { ...head, protected: sealed } : { ...head, result: GSME_NO_KEY_STATUS }),
)

/**
 * GCS14 (0x0075): the Price values in the clear, and the prepayment values encrypted for the
 * requester.
 */
export const readGsmePrepaymentValues: GsmeRead = protectedGsmeRead(
  (s) => encodeGsmePrepaymentValues(prepaymentRegisters(s)),
  (head, sealed) => {
    const price = { priceTrailingDigit: GSME_PRICE_TRAILING_DIGIT, currency: GSME_CURRENCY }
    const priceResults = { priceTrailingDigit: 'success', currency: 'success' }
    return sealed
      ? { ...head, ...price, protected: sealed, results: priceResults }
      : { ...head, ...price, results: { ...priceResults, prepayment: GSME_NO_KEY_STATUS } }
  },
)

/**
 * ECS17c Read Active Power Import: the ESME answers with its instantaneous import power in the
 * clear (no protection), the total and the primary element's (one element here: the same).
 *
 * ECS17b Read Import Energy Registers and ECS19 Read Prepayment Registers: the ESME answers
 * with its register values encrypted for the remote party that asked (GBCS protected
 * attributes, the Data Protection object's get_protected_attributes). Only that party can read
 * them; the DCC carries the response without seeing the values.
 *
 * The protection, as the DCC's reference responses (RTDS 4.5.0) confirm byte for byte:
 *  - the protection parameters name the transaction (CRA flag 04, payload encryption, then the
 *    command's originator counter), the device as originator system title and the requester as
 *    recipient, and an agreed key (key-info-type 2, key parameters 02: static ECDH);
 *  - the key is the GBCS KDF over the static ECDH secret of the device's key agreement key and
 *    the requester's key agreement cell, with OtherInfo = algorithm id ‖ device system title ‖
 *    09 ‖ transaction id ‖ requester system title;
 *  - AES-128-GCM with IV = device system title ‖ invocation counter (4 bytes, 0), AAD = the
 *    security control byte 0x31 alone, and a 12-byte tag;
 *  - the plaintext is the DLMS data of the collection's value, one structure per requested
 *    object.
 */
import { fromHex, toHex, writeUintBE } from '@smetsim/core'
import { aesGcmDecrypt, aesGcmEncrypt, GBCS_TAG_LENGTH, gbcsKdf, type Json } from '@smetsim/gbcs'
import { keyAgreementWith } from '../cells.ts'
import { demandMilliwatts } from '../prepayment/index.ts'
import type { DeviceState } from '../state.ts'
import type { Handler } from './index.ts'

/** Security control of the protected attributes: authenticated and encrypted (0x30), suite 1. */
export const SECURITY_CONTROL = 0x31

/** The DLMS action result when the device holds no key agreement cell for the requester. */
export const NO_KEY_RESULT = 'read-write-denied'

/** Import energy registers (ECS17b), in Wh and varh. */
export interface ImportEnergyRegisters {
  /** Total Active Import Register (Wh). */
  activeImport: number
  /** Total Reactive Import Register (varh). */
  reactiveImport: number
}

/** Prepayment registers (ECS19), in GBCS currency units (1/100000 GBP, milli-pence). */
export interface PrepaymentRegisters {
  meterBalance: number
  emergencyCreditBalance: number
  /** Accumulated Debt Register: all debt still to recover (payment debt and both time debts). */
  accumulatedDebt: number
  /** Payment Debt Register: debt recovered from a share of each top-up. */
  paymentDebt: number
  timeDebt1: number
  timeDebt2: number
}

/**
 * The import energy registers of a meter. Only active energy is modelled: the reactive import
 * register reads 0 varh.
 */
export function importEnergyRegisters(state: DeviceState): ImportEnergyRegisters {
  return { activeImport: state.account.importEnergy, reactiveImport: 0 }
}

/**
 * The prepayment registers of a meter. The engine's `accumulatedDebt` is the debt it recovers
 * from top-ups, which GBCS calls the Payment Debt Register (its cleared alert is 0x81A9,
 * Payment Debt Cleared); the Accumulated Debt Register is all the debt still owed. The
 * Emergency Credit Balance is 0 unless Emergency Credit is active.
 */
export function prepaymentRegisters(state: DeviceState): PrepaymentRegisters {
  const a = state.account
  return {
    meterBalance: a.meterBalance,
    emergencyCreditBalance: a.emergencyCreditActive ? a.emergencyCredit : 0,
    accumulatedDebt: a.accumulatedDebt + a.timeDebt[0] + a.timeDebt[1],
    paymentDebt: a.accumulatedDebt,
    timeDebt1: a.timeDebt[0],
    timeDebt2: a.timeDebt[1],
  }
}

// --- The DLMS data of the register collections ---------------------------------------------------

const STRUCTURE = 0x02
const INT32 = 0x05
const UINT32 = 0x06
const INT8 = 0x0f
const ENUM = 0x16
/** DLMS units: active energy Wh, reactive energy varh. */
const UNIT_WH = 30
const UNIT_VARH = 32

/** A register value past the 32-bit range rolls over, as a meter's register does. */
const uint32 = (n: number): number[] => [UINT32, ...writeUintBE(BigInt(Math.trunc(n)) & 0xffffffffn, 4)]
/** Money beyond the int32 range is held at its limit. */
const int32 = (n: number): number[] => {
  const v = Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(n)))
  return [INT32, ...writeUintBE(BigInt(v >>> 0), 4)]
}
/** scaler_unit: { scaler int8 0, unit enum }. */
const scalerUnit = (unit: number): number[] => [STRUCTURE, 2, INT8, 0, ENUM, unit]

/**
 * ECS17b plaintext: { { active import uint32, scaler_unit {0, Wh}, reactive import uint32,
 * scaler_unit {0, varh} } }.
 */
export function encodeImportEnergyRegisters(r: ImportEnergyRegisters): Uint8Array {
  return Uint8Array.from([
    STRUCTURE,
    1,
    STRUCTURE,
    4,
    ...uint32(r.activeImport),
    ...scalerUnit(UNIT_WH),
    ...uint32(r.reactiveImport),
    ...scalerUnit(UNIT_VARH),
  ])
}

/**
 * ECS19 plaintext: { { meter balance, emergency credit balance, accumulated debt, payment debt,
 * time debt 1, time debt 2 } }, each an int32 in currency units.
 */
export function encodePrepaymentRegisters(r: PrepaymentRegisters): Uint8Array {
  const registers = [
    r.meterBalance,
    r.emergencyCreditBalance,
    r.accumulatedDebt,
    r.paymentDebt,
    r.timeDebt1,
    r.timeDebt2,
  ]
  return Uint8Array.from([STRUCTURE, 1, STRUCTURE, registers.length, ...registers.flatMap(int32)])
}

// --- Protection ----------------------------------------------------------------------------------

/** Who protects for whom, in which transaction. */
export interface AttributeProtection {
  /** 9 bytes: CRA flag 04 then the command's originator counter (8 bytes). */
  transactionId: Uint8Array
  /** The device's system title (16 hex digits). */
  originator: string
  /** The requester's system title (16 hex digits). */
  recipient: string
}

/** The protected attributes as the response view carries them (hex upper case). */
export interface ProtectedAttributes {
  securityControl: number
  invocationCounter: number
  ciphertext: string
  tag: string
  [field: string]: number | string
}

/** The transaction id of a payload encryption: CRA flag 04 then the originator counter. */
export function encryptionTransactionId(originatorCounter: bigint): Uint8Array {
  const id = new Uint8Array(9)
  id[0] = 4
  id.set(writeUintBE(originatorCounter, 8), 1)
  return id
}

/** The AES key for one transaction, from the static ECDH secret Z. */
function attributeKey(z: Uint8Array, p: AttributeProtection): Uint8Array {
  if (p.transactionId.length !== 9) throw new RangeError('a transaction id is 9 bytes')
  return gbcsKdf(z, {
    originator: p.originator,
    cra: p.transactionId[0]!,
    counter: p.transactionId.subarray(1),
    recipient: p.recipient,
  })
}

/** IV: originator system title ‖ invocation counter (4 bytes big-endian). */
function attributeIv(p: AttributeProtection, invocationCounter: number): Uint8Array {
  const iv = new Uint8Array(12)
  iv.set(fromHex(p.originator), 0)
  iv.set(writeUintBE(BigInt(invocationCounter), 4), 8)
  return iv
}

/** Encrypts register data for the recipient: security header, ciphertext and 12-byte tag. */
export function protectAttributes(
  z: Uint8Array,
  p: AttributeProtection,
  plaintext: Uint8Array,
  invocationCounter = 0,
): ProtectedAttributes {
  const { ciphertext, tag } = aesGcmEncrypt(
    attributeKey(z, p),
    attributeIv(p, invocationCounter),
    Uint8Array.of(SECURITY_CONTROL),
    plaintext,
    GBCS_TAG_LENGTH,
  )
  return {
    securityControl: SECURITY_CONTROL,
    invocationCounter,
    ciphertext: toHex(ciphertext),
    tag: toHex(tag),
  }
}

/** The register data inside protected attributes; null when the tag does not match. */
export function openProtectedAttributes(
  z: Uint8Array,
  p: AttributeProtection,
  a: ProtectedAttributes,
): Uint8Array | null {
  if (a.securityControl !== SECURITY_CONTROL) return null
  return aesGcmDecrypt(
    attributeKey(z, p),
    attributeIv(p, a.invocationCounter),
    Uint8Array.of(a.securityControl),
    fromHex(a.ciphertext),
    fromHex(a.tag),
  )
}

/** The protection parameters of a response, as its view names them. */
export function protectionView(p: AttributeProtection): { [field: string]: Json } {
  return {
    protectionType: 2,
    transactionId: toHex(p.transactionId),
    originatorSystemTitle: p.originator,
    recipientSystemTitle: p.recipient,
    otherInformation: '',
    keyInfoType: 2,
    keyParameters: '02',
    keyCipheredData: '',
  }
}

// --- The use cases -------------------------------------------------------------------------------

type RegisterRead = Handler

function protectedRead(plaintext: (state: DeviceState) => Uint8Array): RegisterRead {
  return (state, command, auth, _now, backend) => {
    const head = { name: command.name, invokeId: command.invokeId as number }
    const s = auth.frame.signing
    const pair = keyAgreementWith(state.keys, state.cells, s.originator, backend)
    // No key to encrypt for the requester: the registers are not disclosed. The action fails
    // with read-write-denied (3) and, as for every failed action, no data.
    if (!pair)
      return {
        state,
        response: { ...head, result: NO_KEY_RESULT },
        events: [],
        reason: `no key agreement cell for ${s.originator}: registers not disclosed`,
      }
    // The response answers the command's transaction: GBCS sets the command's transaction id
    // to 04 ‖ its originator counter, and the requester derives the key from that counter.
    const protection: AttributeProtection = {
      transactionId: encryptionTransactionId(s.originatorCounter),
      originator: state.eui,
      recipient: s.originator,
    }
    const z = backend.ecdh(pair.own, pair.other)
    return {
      state,
      response: {
        ...head,
        protection: [protectionView(protection)],
        protectedAttributes: protectAttributes(z, protection, plaintext(state)),
        result: 'success',
      },
      events: [],
    }
  }
}

/** ECS17b (0x0027): the import energy registers, encrypted for the requester. */
export const readImportEnergy: RegisterRead = protectedRead((s) =>
  encodeImportEnergyRegisters(importEnergyRegisters(s)),
)

/** ECS19 (0x002D): the prepayment registers, encrypted for the requester. */
export const readPrepaymentRegisters: RegisterRead = protectedRead((s) =>
  encodePrepaymentRegisters(prepaymentRegisters(s)),
)

/** Active power import (ECS17c), in W. */
export interface ActivePowerImport {
  /** The meter's Active Power Import (W). */
  activePowerImport: number
  /** The primary element's (a single-element ESME has one: the same value). */
  primaryActivePowerImport: number
}

/**
 * The import power at `now`: the demand the consumption model draws (the load profile's hour;
 * nothing while the supply is not enabled), in whole watts.
 */
export function activePowerImport(state: DeviceState, now: number): ActivePowerImport {
  const watts = Math.round(demandMilliwatts(state.load, state.supply, now) / 1000)
  return { activePowerImport: watts, primaryActivePowerImport: watts }
}

/** ECS17c (0x0028): the Power Import Collection, in the clear. */
export const readActivePowerImport: Handler = (state, command, _auth, now) => ({
  state,
  response: {
    name: command.name,
    invokeId: command.invokeId as number,
    ...activePowerImport(state, now),
    result: 'success',
  },
  events: [],
})

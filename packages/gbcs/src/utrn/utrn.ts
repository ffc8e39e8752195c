/**
 * The UTRN (Unique Transaction Reference Number, GBCS §14): the 20-digit prepayment top-up
 * code a customer types into a meter's keypad, or a Supplier sends in CS01a/CS01b.
 *
 * A UTRN is a 64-bit token, the PTUT (Prepayment Top-Up Token), written in decimal:
 *
 *   PTUT = header word (32 bits) ‖ MAC word (32 bits)       big-endian, header first
 *   header, from bit 31 down: 7 zero bits · 10 counter bits · 2 value-class bits · 13 value bits
 *   PPTD (Prepayment Token Decimal) = PTUT + 0x669D529B714A0000, 19 decimal digits
 *   UTRN = PPTD ‖ check digit
 *
 * The offset makes every token exactly 19 digits, starting 739…–753…; because the top 7 bits
 * are zero the PTUT is below 2^57. The value class says whether the value (0…8191) counts
 * pennies or pounds. This module is the format only; the MAC is in mac.ts.
 */
import { err, ok, type Result } from '@smetsim/core'
import { hasValidCheckDigit, UTRN_PAYLOAD_DIGITS, utrnCheckDigit } from './check-digit.ts'
import { topUpCounterBits, UTRN_COUNTER_BITS } from './counter.ts'

/** Digits in a UTRN: the 19-digit PPTD and the check digit. */
export const UTRN_LENGTH = 20
/** Added to the PTUT to give the PPTD (0x669D529B_714A0000). */
export const PPTD_OFFSET = 7394156990786306048n
/** The largest value a UTRN carries (13 bits). */
export const UTRN_MAX_VALUE = 8191
/** The PTUT is below this: its top 7 bits are zero. */
const PTUT_LIMIT = 1n << 57n

/** Whether the value counts pennies (value class 00) or pounds (01). Classes 10 and 11 are not used. */
export type ValueClass = 'pennies' | 'pounds'
const VALUE_CLASS_CODE: Record<ValueClass, number> = { pennies: 0, pounds: 1 }
const VALUE_CLASS_BY_CODE: readonly ValueClass[] = ['pennies', 'pounds']

/** What a UTRN carries, as a Supplier sets it. */
export interface UtrnFields {
  /** The full top-up counter: a multiple of 2^32 below 2^64. Only 10 bits of it go into the token. */
  counter: bigint
  /** 0…8191, in the unit of the value class. */
  value: number
  valueClass: ValueClass
  /** The 4-byte MAC word. */
  mac: Uint8Array
}

/** The fields of a well-formed UTRN, as a device reads them before checking the MAC. */
export interface DecodedUtrn {
  /** The 20 digits. */
  digits: string
  /** counter / 2^32 mod 1024. */
  counterBits: number
  valueClass: ValueClass
  /** 0…8191, in the unit of the value class. */
  value: number
  /** The value in pennies. */
  pennies: number
  /** The 32-bit header word. */
  header: number
  /** The 4-byte MAC word. */
  mac: Uint8Array
  /** The 64-bit token. */
  ptut: bigint
}

/**
 * Why a string is not a well-formed UTRN:
 * - 'length': not 20 characters;
 * - 'not-digits': a character other than 0–9;
 * - 'check-digit': the last digit is not the check digit of the first 19;
 * - 'out-of-range': the 19 digits are below the offset, or the token's 7 top bits are not zero;
 * - 'value-class': value class 10 or 11.
 */
export type UtrnFormatErrorKind = 'length' | 'not-digits' | 'check-digit' | 'out-of-range' | 'value-class'

export class UtrnFormatError extends Error {
  override readonly name = 'UtrnFormatError'
  constructor(
    readonly kind: UtrnFormatErrorKind,
    message: string,
  ) {
    super(message)
  }
}

/** The value in pennies. */
export function utrnPennies(value: number, valueClass: ValueClass): number {
  return valueClass === 'pounds' ? value * 100 : value
}

/** The 32-bit header word. Throws a RangeError on a field out of range. */
export function utrnHeader(counterBits: number, valueClass: ValueClass, value: number): number {
  if (!Number.isInteger(counterBits) || counterBits < 0 || counterBits >= 1 << UTRN_COUNTER_BITS) {
    throw new RangeError(`UTRN counter bits are 0..${(1 << UTRN_COUNTER_BITS) - 1}: ${counterBits}`)
  }
  if (!Number.isInteger(value) || value < 0 || value > UTRN_MAX_VALUE) {
    throw new RangeError(`a UTRN value is 0..${UTRN_MAX_VALUE}: ${value}`)
  }
  const classCode = VALUE_CLASS_CODE[valueClass]
  if (classCode === undefined)
    throw new RangeError(`a UTRN value class is 'pennies' or 'pounds': ${valueClass}`)
  return ((counterBits << 15) | (classCode << 13) | value) >>> 0
}

/** The 20 digits of a token. Throws a RangeError on a field out of range. */
export function encodeUtrn(fields: UtrnFields): string {
  const header = utrnHeader(topUpCounterBits(fields.counter), fields.valueClass, fields.value)
  if (!(fields.mac instanceof Uint8Array) || fields.mac.length !== 4) {
    throw new RangeError(`a UTRN MAC word is 4 bytes, got ${fields.mac?.length}`)
  }
  const mac = new DataView(fields.mac.buffer, fields.mac.byteOffset, 4).getUint32(0)
  const pptd = ((BigInt(header) << 32n) | BigInt(mac)) + PPTD_OFFSET
  const digits = pptd.toString()
  return digits + utrnCheckDigit(digits)
}

/** Reads the fields of a UTRN, checking its syntax and check digit (not its MAC). Never throws. */
export function decodeUtrn(digits: string): Result<DecodedUtrn, UtrnFormatError> {
  if (typeof digits !== 'string' || digits.length !== UTRN_LENGTH) {
    const got = typeof digits === 'string' ? `${digits.length} characters` : typeof digits
    return err(new UtrnFormatError('length', `a UTRN is ${UTRN_LENGTH} digits, got ${got}`))
  }
  const bad = digits.search(/[^0-9]/)
  if (bad >= 0) {
    return err(
      new UtrnFormatError(
        'not-digits',
        `a UTRN is decimal digits only: '${digits[bad]}' at position ${bad + 1}`,
      ),
    )
  }
  if (!hasValidCheckDigit(digits)) {
    const expected = utrnCheckDigit(digits.slice(0, UTRN_PAYLOAD_DIGITS))
    return err(
      new UtrnFormatError(
        'check-digit',
        `check digit wrong: the last digit is ${digits[UTRN_PAYLOAD_DIGITS]}, the first 19 give ${expected}`,
      ),
    )
  }
  const ptut = BigInt(digits.slice(0, UTRN_PAYLOAD_DIGITS)) - PPTD_OFFSET
  if (ptut < 0n) {
    return err(
      new UtrnFormatError('out-of-range', `the first 19 digits are below the UTRN offset ${PPTD_OFFSET}`),
    )
  }
  if (ptut >= PTUT_LIMIT) {
    return err(
      new UtrnFormatError(
        'out-of-range',
        'the token is out of range: the 7 top bits of its header are not zero',
      ),
    )
  }
  const header = Number(ptut >> 32n)
  const classCode = (header >>> 13) & 3
  const valueClass = VALUE_CLASS_BY_CODE[classCode]
  if (valueClass === undefined) {
    return err(
      new UtrnFormatError('value-class', `value class ${classCode.toString(2).padStart(2, '0')} is not used`),
    )
  }
  const value = header & UTRN_MAX_VALUE
  const mac = new Uint8Array(4)
  new DataView(mac.buffer).setUint32(0, Number(ptut & 0xffffffffn))
  return ok({
    digits,
    counterBits: (header >>> 15) & ((1 << UTRN_COUNTER_BITS) - 1),
    valueClass,
    value,
    pennies: utrnPennies(value, valueClass),
    header,
    mac,
    ptut,
  })
}

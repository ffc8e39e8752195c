/**
 * The UTRN check digit: the twentieth digit, computed over the nineteen digits before it with
 * the GBCS variant of the Verhoeff scheme (GBCS §14, tables 14.8a–c).
 *
 * Verhoeff works in the dihedral group D5 (the symmetries of a pentagon, ten elements written
 * 0…9): each digit is first moved by a position-dependent permutation, then the results are
 * multiplied together in D5. A single wrong digit, and most swaps of neighbours, change the
 * product, so they change the check digit. GBCS keeps the textbook multiplication and
 * permutation tables but differs in two places:
 * - the digits are taken left to right, the first of them with permutation row 4 (the rows
 *   repeat every 8 digits);
 * - the product is mapped to the check digit by its own table (below), not the group inverse.
 */

/** Multiplication in D5: the first five elements are the rotations, the last five the reflections. */
const D5: readonly (readonly number[])[] = Array.from({ length: 10 }, (_, j) =>
  Array.from({ length: 10 }, (_, k) => d5Multiply(j, k)),
)

function d5Multiply(j: number, k: number): number {
  if (j < 5) return k < 5 ? (j + k) % 5 : 5 + ((j + k) % 5)
  return k < 5 ? 5 + ((j - k + 5) % 5) : (j - k + 5) % 5
}

/** Verhoeff's permutation for the first row; row i is this permutation applied i times. */
const ROW_1: readonly number[] = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]
const PERMUTATIONS: readonly (readonly number[])[] = Array.from({ length: 8 }, (_, i) =>
  Array.from({ length: 10 }, (_, digit) => {
    let d = digit
    for (let n = 0; n < i; n++) d = ROW_1[d]!
    return d
  }),
)

/** GBCS's table from the final product to the check digit (the textbook scheme uses the inverse). */
const CHECK_DIGIT_OF: readonly number[] = [1, 2, 6, 7, 5, 8, 3, 0, 9, 4]

/** The permutation row used for the first digit. */
const FIRST_ROW = 4

/** The number of digits the check digit covers: the PPTD, the token in decimal. */
export const UTRN_PAYLOAD_DIGITS = 19

/**
 * The check digit of a string of decimal digits (for a UTRN: its first 19). Throws a
 * RangeError on anything but ASCII digits.
 */
export function utrnCheckDigit(digits: string): number {
  if (!/^[0-9]*$/.test(digits))
    throw new RangeError(`a check digit is computed over decimal digits: '${digits}'`)
  let product = 0
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(i) - 0x30
    product = D5[product]![PERMUTATIONS[(FIRST_ROW + i) % 8]![digit]!]!
  }
  return CHECK_DIGIT_OF[product]!
}

/** True when the last digit of `digits` is the check digit of the ones before it. Never throws. */
export function hasValidCheckDigit(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false
  return utrnCheckDigit(digits.slice(0, -1)) === digits.charCodeAt(digits.length - 1) - 0x30
}

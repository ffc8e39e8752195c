/**
 * The UTRN counter: the Supplier's prepayment top-up counter for one device, a 64-bit number
 * kept apart from its command counter (the device's floor for it is the "Supplier Prepayment
 * Top-Up Floor Seq Number" that CS02b sets). A UTRN has room for only 10 of its bits:
 *
 * - the Supplier steps the counter in whole multiples of 2^32: its low 32 bits are always zero
 *   (so the n-th top-up has counter n·2^32);
 * - the token carries n mod 1024, the "counter bits";
 * - the device puts back the rest from the counters it already knows, then the MAC (which
 *   covers all 64 bits) tells it whether it guessed right.
 */

/** One step of the top-up counter: the low 32 bits are always zero. */
export const TOP_UP_COUNTER_STEP: bigint = 1n << 32n
/** How many bits of n (counter / 2^32) a UTRN carries. */
export const UTRN_COUNTER_BITS = 10
const COUNTER_MODULUS = 1 << UTRN_COUNTER_BITS
const MAX_STEP = (1n << 32n) - 1n

/** True for a counter a UTRN can carry: 0 ≤ C < 2^64 and its low 32 bits zero. */
export function isTopUpCounter(counter: bigint): boolean {
  return (
    typeof counter === 'bigint' &&
    counter >= 0n &&
    counter < 1n << 64n &&
    counter % TOP_UP_COUNTER_STEP === 0n
  )
}

/** The 10 bits of the counter that a UTRN carries. Throws a RangeError for a counter it cannot carry. */
export function topUpCounterBits(counter: bigint): number {
  if (!isTopUpCounter(counter)) {
    throw new RangeError(`a UTRN counter is a multiple of 2^32 below 2^64: ${counter}`)
  }
  return Number((counter / TOP_UP_COUNTER_STEP) % BigInt(COUNTER_MODULUS))
}

/** How far the reconstruction reaches below the reference by default (see reconstructTopUpCounter). */
export const DEFAULT_COUNTER_BEHIND = 511

/**
 * The full counter of a UTRN entered at the device (keypad, PPMID), from its 10 counter bits
 * and a reference: the highest top-up counter the device has accepted, or its floor when it
 * has accepted none.
 *
 * Rule (UNCONFIRMED: GBCS §14.3 is not public; chosen here): with r = reference / 2^32, the
 * counter is n·2^32 for the one n ≡ counterBits (mod 1024) in the window
 * [r − behind, r − behind + 1023] (the window starts at 0 while r < behind). With the default
 * `behind` of 511 the window reaches 511 top-ups back and 512 forward: far enough back that a
 * UTRN entered twice comes back with its own counter (so the firmware can say "duplicate"
 * rather than "not authentic"), far enough forward for vouchers issued but not yet entered.
 * `behind = 0` gives the other reading, "the first matching counter from the last one seen on"
 * (the last one itself included, so that re-entering it still reads as a duplicate).
 * Returns null when the result would not fit in 64 bits.
 */
export function reconstructTopUpCounter(
  counterBits: number,
  reference: bigint,
  behind: number = DEFAULT_COUNTER_BEHIND,
): bigint | null {
  if (!Number.isInteger(counterBits) || counterBits < 0 || counterBits >= COUNTER_MODULUS) {
    throw new RangeError(`UTRN counter bits are 0..${COUNTER_MODULUS - 1}: ${counterBits}`)
  }
  if (!Number.isInteger(behind) || behind < 0 || behind >= COUNTER_MODULUS) {
    throw new RangeError(`the reconstruction window reaches back 0..${COUNTER_MODULUS - 1}: ${behind}`)
  }
  const r = reference < 0n ? 0n : reference / TOP_UP_COUNTER_STEP
  const lowest = r > BigInt(behind) ? r - BigInt(behind) : 0n
  const modulus = BigInt(COUNTER_MODULUS)
  const n = lowest + ((BigInt(counterBits) - (lowest % modulus) + modulus) % modulus)
  return n > MAX_STEP ? null : n * TOP_UP_COUNTER_STEP
}

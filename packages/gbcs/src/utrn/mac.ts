/**
 * The UTRN MAC word: the 32 bits of a UTRN that make it authentic. GBCS builds it with the
 * same machinery as a command MAC, between other keys and over other bytes:
 *
 * - Z: static ECDH P-256 between the Supplier's Prepayment Top-Up key-agreement key and the
 *   device's key-agreement key. The Supplier uses its private key and the device's
 *   certificate; the device uses its private key and the public key in its Supplier
 *   trust-anchor cell for prepayment top-up. Either way the secret is the same.
 * - the AES key: the GBCS KDF with the Supplier as originator, CRA flag 01 (command), the
 *   64-bit top-up counter, and the device as recipient.
 * - the MAC: AES-128-GCM with no plaintext, IV = Supplier EUI ‖ 00000000, a full 16-byte tag,
 *   over 35 bytes of additional data
 *     11 00000000 00 ‖ Supplier EUI (8) ‖ device EUI (8) ‖ 01 ‖ counter (8) ‖ header word (4)
 *   (the first six bytes are the security header and zero byte that start a frame's MAC data);
 * - the MAC word: the LAST 4 bytes of the tag (a frame MAC keeps the first 12).
 */
import {
  aesGcmEncrypt,
  gbcsIv,
  gbcsKdf,
  type PrivateKeyRef,
  type PublicKeyRef,
  type SystemTitle,
  systemTitleBytes,
} from '../crypto/index.ts'
import { SECURITY_CONTROL } from '../frame.ts'

/**
 * The ECDH key pair behind a UTRN, from either side: the Supplier's Prepayment Top-Up KA
 * private key with the device's KA public key, or the device's KA private key with the
 * Supplier's Prepayment Top-Up KA public key.
 */
export interface UtrnKeyAgreement {
  own: PrivateKeyRef
  other: PublicKeyRef
}

/** What the MAC covers besides the header word. */
export interface UtrnMacInput {
  /** The Supplier (the originator of the top-up). */
  supplier: SystemTitle
  /** The device the UTRN is for. */
  device: SystemTitle
  /** The full 64-bit top-up counter. */
  counter: bigint
  /** The 32-bit header word. */
  header: number
}

export const UTRN_AAD_LENGTH = 35

/** The 35 bytes of additional authenticated data. */
export function utrnAad(p: UtrnMacInput): Uint8Array {
  if (!Number.isInteger(p.header) || p.header < 0 || p.header > 0xffffffff) {
    throw new RangeError(`a UTRN header word is 32 bits: ${p.header}`)
  }
  if (p.counter < 0n || p.counter >= 1n << 64n) throw new RangeError(`counter out of range: ${p.counter}`)
  const aad = new Uint8Array(UTRN_AAD_LENGTH)
  const view = new DataView(aad.buffer)
  aad[0] = SECURITY_CONTROL // then the invocation counter 00000000 and a zero byte, 1..5
  aad.set(systemTitleBytes(p.supplier), 6)
  aad.set(systemTitleBytes(p.device), 14)
  aad[22] = 1 // CRA flag: command
  view.setBigUint64(23, p.counter)
  view.setUint32(31, p.header)
  return aad
}

/** The 16-byte AES key of one UTRN from the ECDH secret Z. */
export function utrnKey(z: Uint8Array, p: Omit<UtrnMacInput, 'header'>): Uint8Array {
  return gbcsKdf(z, { originator: p.supplier, cra: 'command', counter: p.counter, recipient: p.device })
}

/** The 4-byte MAC word for a header word, given the AES key from utrnKey. */
export function utrnMac(key: Uint8Array, p: UtrnMacInput): Uint8Array {
  const { tag } = aesGcmEncrypt(key, gbcsIv(p.supplier), utrnAad(p), new Uint8Array(0), 16)
  return tag.slice(12, 16)
}

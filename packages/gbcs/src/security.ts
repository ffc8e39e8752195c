/**
 * GBCS message protection on whole frames: the originator's ECDSA signature over the
 * General-Signing block, and the GMAC that the ACB (for commands) or the device (for
 * responses and alerts) puts over it with a key derived by static ECDH between the two.
 *
 * The keys come in as backend references (crypto/), so a caller that holds thousands of
 * devices pays for parsing each trust-anchor key once and for each ECDH pair once.
 */

import { Writer } from './codec/writer.ts'
import {
  type CryptoBackend,
  gbcsKdf,
  gbcsKdfWritten,
  gbcsMac,
  type PrivateKeyRef,
  type PublicKeyRef,
  verifyGbcsMac,
  writeGbcsMac,
} from './crypto/index.ts'
import {
  type GbcsFrame,
  type GeneralSigning,
  generalSigningLength,
  MAC_LENGTH,
  macAad,
  macHeaderLength,
  SECURITY_CONTROL,
  SIGNATURE_LENGTH,
  type SignatureField,
  signedBytes,
  writeGeneralSigning,
  writeMacHeader,
  writeReceivedOtherInfo,
} from './frame.ts'

/** Signs a General-Signing block as its originator: returns it with the ECDSA signature field. */
export function signGeneralSigning(
  s: GeneralSigning,
  key: PrivateKeyRef,
  backend: CryptoBackend,
): GeneralSigning {
  return { ...s, signature: { kind: 'ecdsa', bytes: backend.sign(key, signedBytes(s)) } }
}

/**
 * Signs a General-Signing block and returns the frame's bytes (General-Signing only, no MAC, as
 * a device's response to a Critical command goes) in one pass: the block is written once with
 * room for the signature field, the bytes it signs (after the 0xDF tag, up to the end of the
 * content) are signed where they lie, and the signature is written in place.
 */
export function encodeSignedFrame(s: GeneralSigning, key: PrivateKeyRef, backend: CryptoBackend): Uint8Array {
  const placeholder: GeneralSigning = { ...s, signature: UNSIGNED }
  const frame = writeGeneralSigning(new Writer(generalSigningLength(placeholder)), placeholder).finish()
  const signedEnd = frame.length - SIGNATURE_LENGTH - 1
  const signature = backend.sign(key, frame.subarray(1, signedEnd))
  if (signature.length !== SIGNATURE_LENGTH) throw new RangeError('signature must be 64 bytes')
  frame.set(signature, signedEnd + 1)
  return frame
}

/** The signature field written before the signature is known: 0x40 and 64 zero bytes. */
const UNSIGNED: SignatureField = Object.freeze({ kind: 'ecdsa', bytes: new Uint8Array(SIGNATURE_LENGTH) })

/** True only for an ECDSA signature field that verifies with the originator's public key. */
export function verifyGeneralSigning(s: GeneralSigning, key: PublicKeyRef, backend: CryptoBackend): boolean {
  if (s.signature.kind !== 'ecdsa') return false
  return backend.verify(key, signedBytes(s), s.signature.bytes)
}

/**
 * The per-message AES key: static ECDH between one party's key-agreement private key and
 * the other's public key (either way round gives the same secret), then the GBCS KDF over the
 * originator, the transaction id (CRA flag and counter) and the recipient.
 */
export function messageKey(
  s: GeneralSigning,
  ownPrivate: PrivateKeyRef,
  otherPublic: PublicKeyRef,
  backend: CryptoBackend,
): Uint8Array {
  // A received block's titles and counter are taken as they arrived, written straight into the
  // KDF's input: no hex or BigInt round trip, no OtherInfo array.
  const z = backend.ecdh(ownPrivate, otherPublic)
  return (
    gbcsKdfWritten(z, writeReceivedOtherInfo, s) ??
    gbcsKdf(z, {
      originator: s.originator,
      cra: s.cra,
      counter: s.originatorCounter,
      recipient: s.recipient,
    })
  )
}

/** Wraps a (signed or unsigned) General-Signing block in its MAC header and MAC. */
export function applyMac(s: GeneralSigning, key: Uint8Array): GbcsFrame {
  if (s.signature.kind === 'absent') {
    throw new TypeError(
      'a Pre-Command has no signature field: sign it, or set an empty signature, before MACing',
    )
  }
  return { signing: s, mac: gbcsMac(key, s.originator, macAad(s)) }
}

/** The MAC's additional data before the General-Signing block: the security header, a zero byte. */
const MAC_AAD_HEAD = Uint8Array.of(SECURITY_CONTROL, 0, 0, 0, 0, 0)

/**
 * `encodeFrame(applyMac(s, key))` written once, in place: the MAC header, the General-Signing
 * block, then the MAC over the security header, a zero byte and that very block, taken from the
 * frame (no second copy of the block laid out as the additional data).
 */
export function encodeMacedFrame(s: GeneralSigning, key: Uint8Array): Uint8Array {
  if (s.signature.kind === 'absent') {
    throw new TypeError(
      'a Pre-Command has no signature field: sign it, or set an empty signature, before MACing',
    )
  }
  const length = generalSigningLength(s)
  let start = macHeaderLength(length)
  const w = new Writer(start + length + MAC_LENGTH)
  writeGeneralSigning(writeMacHeader(w, length), s)
  let frame = w.bytes(MAC_PLACEHOLDER).finish()
  if (frame.length !== start + length + MAC_LENGTH) {
    // generalSigningLength is exact for every block that encodes; should it ever not be, the
    // header is written again around the block as it was actually encoded.
    const block = frame.slice(start, frame.length - MAC_LENGTH)
    start = macHeaderLength(block.length)
    frame = writeMacHeader(new Writer(), block.length).bytes(block).bytes(MAC_PLACEHOLDER).finish()
  }
  const end = frame.length - MAC_LENGTH
  writeGbcsMac(key, s.originator, MAC_AAD_HEAD, frame.subarray(start, end), frame, end)
  return frame
}

const MAC_PLACEHOLDER = new Uint8Array(MAC_LENGTH)

/** True only when the frame carries a MAC and it matches. */
export function verifyMac(frame: GbcsFrame, key: Uint8Array): boolean {
  if (!frame.mac) return false
  return verifyGbcsMac(key, frame.signing.originator, macAad(frame.signing), frame.mac)
}

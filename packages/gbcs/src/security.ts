/**
 * GBCS message protection on whole frames: the originator's ECDSA signature over the
 * General-Signing block, and the GMAC that the ACB (for commands) or the device (for
 * responses and alerts) puts over it with a key derived by static ECDH between the two.
 *
 * The keys come in as backend references (crypto/), so a caller that holds thousands of
 * devices pays for parsing each trust-anchor key once and for each ECDH pair once.
 */

import { allocBytes } from '@smetsim/core'
import { Writer } from './codec/writer.ts'
import {
  type CryptoBackend,
  gbcsKdf,
  gbcsMac,
  type PrivateKeyRef,
  type PublicKeyRef,
  verifyGbcsMac,
} from './crypto/index.ts'
import {
  type GbcsFrame,
  GENERAL_SIGNING_TAG,
  type GeneralSigning,
  generalSigningLength,
  MAC_LENGTH,
  macAad,
  macHeaderLength,
  receivedOtherInfo,
  SECURITY_CONTROL,
  SIGNATURE_LENGTH,
  signedBytes,
  writeGeneralSigning,
  writeMacHeader,
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
 * a device's response to a Critical command goes) in one pass: the signed bytes are written
 * once and the signature field appended, instead of signing and then encoding it all again.
 */
export function encodeSignedFrame(s: GeneralSigning, key: PrivateKeyRef, backend: CryptoBackend): Uint8Array {
  const tbs = signedBytes(s)
  const signature = backend.sign(key, tbs)
  const frame = allocBytes(1 + tbs.length + 1 + SIGNATURE_LENGTH)
  frame[0] = GENERAL_SIGNING_TAG
  frame.set(tbs, 1)
  frame[1 + tbs.length] = SIGNATURE_LENGTH // a one-byte length: 0x40
  frame.set(signature, 2 + tbs.length)
  return frame
}

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
  // A received block's titles and counter are taken as they arrived: no hex or BigInt round trip.
  const otherInfo = receivedOtherInfo(s)
  const z = backend.ecdh(ownPrivate, otherPublic)
  return otherInfo
    ? gbcsKdf(z, { otherInfo })
    : gbcsKdf(z, {
        originator: s.originator,
        cra: s.cra,
        counter: s.originatorCounter,
        recipient: s.recipient,
      })
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

/**
 * `encodeFrame(applyMac(s, key))` with the General-Signing block encoded once: the MAC's
 * additional data and the frame are both made from the same encoding.
 */
export function encodeMacedFrame(s: GeneralSigning, key: Uint8Array): Uint8Array {
  if (s.signature.kind === 'absent') {
    throw new TypeError(
      'a Pre-Command has no signature field: sign it, or set an empty signature, before MACing',
    )
  }
  // The MAC's additional data is the security header, a zero byte and the block: the block is
  // written there once, in place, then copied into the frame after its MAC header.
  const aad = writeGeneralSigning(
    new Writer(6 + generalSigningLength(s)).u8(SECURITY_CONTROL).u32(0).u8(0),
    s,
  ).finish()
  const block = aad.subarray(6)
  const w = new Writer(macHeaderLength(block.length) + block.length + MAC_LENGTH)
  return writeMacHeader(w, block.length)
    .bytes(block)
    .bytes(gbcsMac(key, s.originator, aad))
    .finish()
}

/** True only when the frame carries a MAC and it matches. */
export function verifyMac(frame: GbcsFrame, key: Uint8Array): boolean {
  if (!frame.mac) return false
  return verifyGbcsMac(key, frame.signing.originator, macAad(frame.signing), frame.mac)
}

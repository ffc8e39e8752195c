/**
 * The symmetric half of GBCS message protection, the same for every backend (node:crypto):
 *
 * - the KDF: NIST SP 800-56A single-step KDF with SHA-256, one block,
 *     key = SHA-256(00 00 00 01 ‖ Z ‖ OtherInfo)[0..16]
 *   OtherInfo = algorithm-id (60 85 74 06 08 03 00)
 *             ‖ originator system title (8)
 *             ‖ transaction id as it appears in the grouping header: its length 09, the CRA
 *               flag (01 command, 02 response, 03 alert, 04 payload encryption), the 8-byte
 *               originator counter
 *             ‖ recipient system title (8)
 *   33 bytes in all (pinned by the GBCS §18.4 test vector in gbcs-crypto.test.ts);
 * - the MAC: AES-128-GCM with no plaintext (GMAC) over additional authenticated data, the
 *   96-bit IV being the originator system title followed by 00 00 00 00, the tag cut to
 *   12 bytes;
 * - AES-128-GCM encryption and decryption with the same IV rule and a 12-byte tag.
 */
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto'

/** A system title (EUI-64): 16 hex digits, or 8 bytes. */
export type SystemTitle = string | Uint8Array

/** The CRA flag of the transaction id, by name or by value (1..4). */
export type CraFlag = 'command' | 'response' | 'alert' | 'encryption' | number

export interface KdfParams {
  /** Originator system title. */
  originator: SystemTitle
  /** 'command' 01, 'response' 02, 'alert' 03; 'encryption' 04 for GBCS payload encryption. */
  cra: CraFlag
  /**
   * Originator counter, 8 bytes big-endian (a bigint, or the bytes). For payload encryption,
   * pass the supplementary originator counter when the frame carries one.
   */
  counter: bigint | Uint8Array
  /**
   * Recipient system title. For payload encryption, pass the supplementary remote party id
   * when the frame carries one.
   */
  recipient: SystemTitle
}

export const GBCS_KDF_ALGORITHM_ID: Uint8Array = Uint8Array.of(0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00)
export const GBCS_TAG_LENGTH = 12

const CRA_VALUES: Record<string, number> = { command: 1, response: 2, alert: 3, encryption: 4 }

export function systemTitleBytes(title: SystemTitle): Uint8Array {
  if (typeof title === 'string') {
    // On every KDF: decoded by hand, as a regex and Buffer.from cost more than the rest.
    const out = new Uint8Array(8)
    for (let i = 0; title.length === 16 && i < 8; i++) {
      const hi = nibble(title.charCodeAt(2 * i))
      const lo = nibble(title.charCodeAt(2 * i + 1))
      if (hi < 0 || lo < 0) break
      out[i] = (hi << 4) | lo
      if (i === 7) return out
    }
    throw new RangeError(`a system title is 16 hex digits: '${title}'`)
  }
  if (title.length !== 8) throw new RangeError(`a system title is 8 bytes, got ${title.length}`)
  return title
}

/** The value of a hex digit's character code, or -1. */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

function craValue(cra: CraFlag): number {
  const v = typeof cra === 'number' ? cra : CRA_VALUES[cra]
  if (v === undefined || !Number.isInteger(v) || v < 1 || v > 4) throw new RangeError(`bad CRA flag: ${cra}`)
  return v
}

const MAX_COUNTER = (1n << 64n) - 1n

function counterBytes(counter: bigint | Uint8Array): Uint8Array {
  if (counter instanceof Uint8Array) {
    if (counter.length !== 8) throw new RangeError(`a counter is 8 bytes, got ${counter.length}`)
    return counter
  }
  if (counter < 0n || counter > MAX_COUNTER) throw new RangeError(`counter out of range: ${counter}`)
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, counter)
  return out
}

/** The 33-byte OtherInfo of the GBCS KDF. */
export function gbcsOtherInfo(p: KdfParams): Uint8Array {
  const out = new Uint8Array(33)
  out.set(GBCS_KDF_ALGORITHM_ID, 0) // 0..6
  out.set(systemTitleBytes(p.originator), 7) // 7..14
  out[15] = 9 // length of the transaction id
  out[16] = craValue(p.cra)
  out.set(counterBytes(p.counter), 17) // 17..24
  out.set(systemTitleBytes(p.recipient), 25) // 25..32
  return out
}

/**
 * The 16-byte AES key for one message from the ECDH shared secret Z (32 bytes): either the
 * GBCS parameters, or an OtherInfo built elsewhere.
 */
export function gbcsKdf(z: Uint8Array, params: KdfParams | { otherInfo: Uint8Array }): Uint8Array {
  if (z.length !== 32) throw new RangeError(`a P-256 shared secret is 32 bytes, got ${z.length}`)
  const otherInfo = 'otherInfo' in params ? params.otherInfo : gbcsOtherInfo(params)
  const digest = createHash('sha256')
    .update(Uint8Array.of(0, 0, 0, 1))
    .update(z)
    .update(otherInfo)
    .digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, 16).slice()
}

/** The GBCS IV: the originator system title then four zero bytes (12 bytes). */
export function gbcsIv(originator: SystemTitle): Uint8Array {
  const iv = new Uint8Array(12)
  iv.set(systemTitleBytes(originator), 0)
  return iv
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 16) throw new RangeError(`an AES-128 key is 16 bytes, got ${key.length}`)
}

/** AES-128-GCM with any 12-byte IV: ciphertext and tag (tagLength bytes, 4..16). */
export function aesGcmEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  tagLength = 16,
): { ciphertext: Uint8Array; tag: Uint8Array } {
  checkKey(key)
  const cipher = createCipheriv('aes-128-gcm', key, iv)
  cipher.setAAD(aad)
  const head = cipher.update(plaintext)
  const tail = cipher.final()
  const ciphertext = new Uint8Array(head.length + tail.length)
  ciphertext.set(head, 0)
  ciphertext.set(tail, head.length)
  return { ciphertext, tag: new Uint8Array(cipher.getAuthTag().subarray(0, tagLength)) }
}

/** AES-128-GCM decryption; null when the tag does not match (or any input is malformed). */
export function aesGcmDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Uint8Array | null {
  try {
    checkKey(key)
    // node refuses tags shorter than 4 bytes; GBCS uses 12.
    const decipher = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: tag.length })
    decipher.setAAD(aad)
    decipher.setAuthTag(tag)
    const head = decipher.update(ciphertext)
    const tail = decipher.final()
    const out = new Uint8Array(head.length + tail.length)
    out.set(head, 0)
    out.set(tail, head.length)
    return out
  } catch {
    return null
  }
}

/** The GBCS MAC: GMAC over `aad` with IV = originator ‖ 00000000, 12 bytes. */
export function gbcsMac(key: Uint8Array, originator: SystemTitle, aad: Uint8Array): Uint8Array {
  checkKey(key)
  // GMAC is GCM with no plaintext: no update call, and the tag length given up front (this runs
  // twice for every non-critical command a device handles).
  const gmac = createCipheriv('aes-128-gcm', key, gbcsIv(originator), { authTagLength: GBCS_TAG_LENGTH })
  gmac.setAAD(aad)
  gmac.final()
  return new Uint8Array(gmac.getAuthTag())
}

/** Constant-time comparison of two tags (false when the lengths differ). */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** True only when `mac` is the 12-byte GBCS MAC of `aad`. Never throws. */
export function verifyGbcsMac(
  key: Uint8Array,
  originator: SystemTitle,
  aad: Uint8Array,
  mac: Uint8Array,
): boolean {
  try {
    return tagsEqual(gbcsMac(key, originator, aad), mac)
  } catch {
    return false
  }
}

/** GBCS payload encryption: AES-128-GCM with the GBCS IV; ciphertext ‖ 12-byte tag. */
export function gbcsEncrypt(
  key: Uint8Array,
  originator: SystemTitle,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const { ciphertext, tag } = aesGcmEncrypt(key, gbcsIv(originator), aad, plaintext, GBCS_TAG_LENGTH)
  const out = new Uint8Array(ciphertext.length + tag.length)
  out.set(ciphertext, 0)
  out.set(tag, ciphertext.length)
  return out
}

/** Inverse of gbcsEncrypt: the plaintext, or null when the tag fails. Never throws. */
export function gbcsDecrypt(
  key: Uint8Array,
  originator: SystemTitle,
  aad: Uint8Array,
  ciphertextAndTag: Uint8Array,
): Uint8Array | null {
  if (ciphertextAndTag.length < GBCS_TAG_LENGTH) return null
  let iv: Uint8Array
  try {
    iv = gbcsIv(originator)
  } catch {
    return null
  }
  const cut = ciphertextAndTag.length - GBCS_TAG_LENGTH
  return aesGcmDecrypt(key, iv, aad, ciphertextAndTag.subarray(0, cut), ciphertextAndTag.subarray(cut))
}

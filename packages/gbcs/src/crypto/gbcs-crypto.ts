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
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hash as oneShotHash,
  timingSafeEqual,
} from 'node:crypto'

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
    const out = new Uint8Array(8)
    writeSystemTitle(out, 0, title)
    return out
  }
  if (title.length !== 8) throw new RangeError(`a system title is 8 bytes, got ${title.length}`)
  return title
}

/**
 * Writes a system title's 8 bytes into `out` at `at`. Text is decoded by hand, straight into
 * place: a regex, Buffer.from or an intermediate array cost more than the rest of a KDF.
 */
function writeSystemTitle(out: Uint8Array, at: number, title: SystemTitle): void {
  if (typeof title !== 'string') {
    if (title.length !== 8) throw new RangeError(`a system title is 8 bytes, got ${title.length}`)
    out.set(title, at)
    return
  }
  for (let i = 0; title.length === 16 && i < 8; i++) {
    const hi = nibble(title.charCodeAt(2 * i))
    const lo = nibble(title.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) break
    out[at + i] = (hi << 4) | lo
    if (i === 7) return
  }
  throw new RangeError(`a system title is 16 hex digits: '${title}'`)
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

function writeCounter(out: Uint8Array, at: number, counter: bigint | Uint8Array): void {
  if (counter instanceof Uint8Array) {
    if (counter.length !== 8) throw new RangeError(`a counter is 8 bytes, got ${counter.length}`)
    out.set(counter, at)
    return
  }
  if (counter < 0n || counter > MAX_COUNTER) throw new RangeError(`counter out of range: ${counter}`)
  const view = out === KDF_INPUT ? KDF_VIEW : new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setBigUint64(at, counter)
}

/** Length of the GBCS KDF's OtherInfo. */
export const GBCS_OTHER_INFO_LENGTH = 33

/** Writes the 33-byte OtherInfo of `p` into `out` at `at`. */
function writeOtherInfo(out: Uint8Array, at: number, p: KdfParams): void {
  out.set(GBCS_KDF_ALGORITHM_ID, at) // 0..6
  writeSystemTitle(out, at + 7, p.originator) // 7..14
  out[at + 15] = 9 // length of the transaction id
  out[at + 16] = craValue(p.cra)
  writeCounter(out, at + 17, p.counter) // 17..24
  writeSystemTitle(out, at + 25, p.recipient) // 25..32
}

/** The 33-byte OtherInfo of the GBCS KDF. */
export function gbcsOtherInfo(p: KdfParams): Uint8Array {
  const out = new Uint8Array(GBCS_OTHER_INFO_LENGTH)
  writeOtherInfo(out, 0, p)
  return out
}

/**
 * The KDF's whole input, 00 00 00 01 ‖ Z ‖ OtherInfo (69 bytes), written in place for each key
 * and hashed in one call: one input and node's one-shot hash instead of a Hash object fed three
 * times (a device derives two keys for every non-critical command). Z is wiped after each use.
 */
const KDF_INPUT = new Uint8Array(4 + 32 + GBCS_OTHER_INFO_LENGTH)
KDF_INPUT[3] = 1
const KDF_VIEW = new DataView(KDF_INPUT.buffer)
const KDF_OTHER_INFO_AT = 36

/** SHA-256 of `data`: node's one-shot hash where it has one (Node 20.12+), else a Hash object. */
const sha256: (data: Uint8Array) => Uint8Array =
  typeof oneShotHash === 'function'
    ? (data) => oneShotHash('sha256', data, 'buffer')
    : (data) => createHash('sha256').update(data).digest()

/**
 * The 16-byte AES key for one message from the ECDH shared secret Z (32 bytes): either the
 * GBCS parameters, or an OtherInfo built elsewhere.
 */
export function gbcsKdf(z: Uint8Array, params: KdfParams | { otherInfo: Uint8Array }): Uint8Array {
  if (z.length !== 32) throw new RangeError(`a P-256 shared secret is 32 bytes, got ${z.length}`)
  if ('otherInfo' in params && params.otherInfo.length !== GBCS_OTHER_INFO_LENGTH) {
    // Not GBCS's OtherInfo, but hashed as given all the same.
    const digest = createHash('sha256')
      .update(KDF_INPUT.subarray(0, 4))
      .update(z)
      .update(params.otherInfo)
      .digest()
    return new Uint8Array(digest.buffer, digest.byteOffset, 16).slice()
  }
  if ('otherInfo' in params) KDF_INPUT.set(params.otherInfo, KDF_OTHER_INFO_AT)
  else writeOtherInfo(KDF_INPUT, KDF_OTHER_INFO_AT, params)
  return kdfOfInput(z)
}

/**
 * The GBCS KDF with its OtherInfo written straight into the KDF's input by `write(out, at, arg)`
 * (33 bytes at `at`; a plain function and its argument, so no closure is made per call), or
 * undefined, with nothing derived, when `write` returns false. For an OtherInfo taken from bytes
 * already at hand (a received frame's grouping header), without an array of its own.
 */
export function gbcsKdfWritten<T>(
  z: Uint8Array,
  write: (out: Uint8Array, at: number, arg: T) => boolean,
  arg: T,
): Uint8Array | undefined {
  if (z.length !== 32) throw new RangeError(`a P-256 shared secret is 32 bytes, got ${z.length}`)
  if (!write(KDF_INPUT, KDF_OTHER_INFO_AT, arg)) return undefined
  return kdfOfInput(z)
}

/** SHA-256 of the KDF input with Z in place (wiped after), cut to the 16-byte key. */
function kdfOfInput(z: Uint8Array): Uint8Array {
  KDF_INPUT.set(z, 4)
  const digest = sha256(KDF_INPUT)
  KDF_INPUT.fill(0, 4, KDF_OTHER_INFO_AT)
  const key = new Uint8Array(16)
  for (let i = 0; i < 16; i++) key[i] = digest[i]!
  return key
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

/** The GMAC's IV, rewritten for each tag: node copies the IV when the cipher is made. */
const GMAC_IV = new Uint8Array(12)
const GMAC_OPTIONS = { authTagLength: GBCS_TAG_LENGTH }

/** The 12-byte GMAC tag as node gives it. */
function gmacTag(key: Uint8Array, originator: SystemTitle, aad: Uint8Array): Buffer {
  checkKey(key)
  writeSystemTitle(GMAC_IV, 0, originator)
  // GMAC is GCM with no plaintext: no update call, and the tag length given up front (this runs
  // twice for every non-critical command a device handles).
  const gmac = createCipheriv('aes-128-gcm', key, GMAC_IV, GMAC_OPTIONS)
  gmac.setAAD(aad)
  gmac.final()
  return gmac.getAuthTag()
}

/**
 * The GBCS MAC of the additional data `head` ‖ `body`, given in two parts, written into `out` at
 * `at` (GCM takes its additional data in as many pieces as it comes: the tag is the one over
 * their concatenation). An encoder that has the General-Signing block in its frame already need
 * not copy it out behind the security header to MAC it.
 */
export function writeGbcsMac(
  key: Uint8Array,
  originator: SystemTitle,
  head: Uint8Array,
  body: Uint8Array,
  out: Uint8Array,
  at: number,
): void {
  checkKey(key)
  writeSystemTitle(GMAC_IV, 0, originator)
  const gmac = createCipheriv('aes-128-gcm', key, GMAC_IV, GMAC_OPTIONS)
  gmac.setAAD(head)
  gmac.setAAD(body)
  gmac.final()
  out.set(gmac.getAuthTag(), at)
}

/** The GBCS MAC: GMAC over `aad` with IV = originator ‖ 00000000, 12 bytes. */
export function gbcsMac(key: Uint8Array, originator: SystemTitle, aad: Uint8Array): Uint8Array {
  return new Uint8Array(gmacTag(key, originator, aad))
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
    return tagsEqual(gmacTag(key, originator, aad), mac)
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

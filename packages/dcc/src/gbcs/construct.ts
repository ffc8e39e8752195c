/**
 * GBCS command construction at the DCC: the Pre-Command built from a Service Request, the
 * originator's signature for a Critical command, and the ACB's MAC.
 *
 *  - Critical (DUIS): the DCC builds the Pre-Command (a General-Signing block without its
 *    signature field), the User signs it — an in-process signer holding the User's digital
 *    signing key, or, over DUIS, the Pre-Command returned by CV4 and the signed command
 *    submitted back by CV5 — the DCC checks the signature against the User's digital signing
 *    certificate and only then MACs the command as the Access Control Broker.
 *  - Non-critical: the DCC builds the command with an empty signature field (0x00) and MACs it.
 *  - SR 6.23: the CoS Party builds CS02b supplierByTransCoS (message code 0x0107), signs it with
 *    its digital signing key, and the ACB MACs it.
 *
 * The MAC key is the GBCS KDF over static ECDH between the ACB's key agreement key and the
 * device's key agreement certificate (the device derives the same key from its ACB cell).
 */
import { bytesEqual, type Eui64, parseEui } from '@smetsim/core'
import {
  buildPayload,
  type CryptoBackend,
  decodeFrame,
  encodeFrame,
  encodeMacedFrame,
  encodePayload,
  type GeneralSigning,
  messageKey,
  type PrivateKeyRef,
  type PublicKeyRef,
  signedBytes,
  verifyGeneralSigning,
} from '@smetsim/gbcs'
import { commandFor, type GbcsServiceRequest, isCritical } from './service-requests.ts'

/** The Originator Counter is an unsigned 64-bit number above 0. */
const MAX_COUNTER = (1n << 64n) - 1n

/**
 * Message codes of the GBCS Critical commands built here: the device accepts them only with the
 * originator's signature, checked against the digital signing cell of the originator's role.
 * 0x0107 (CS02b supplierByTransCoS) is Critical in GBCS although SR 6.23 is not for the User.
 */
export const CRITICAL_MESSAGE_CODES: ReadonlySet<number> = new Set([
  0x001a, // ECS02
  0x001b, // ECS03
  0x0020, // ECS09
  0x0046, // ECS30
  0x004f, // ECS42
  0x0050, // ECS43
  0x0051, // ECS44
  0x0062, // ECS70
  0x006c, // GCS02
  0x006d, // GCS03
  0x0070, // GCS06
  0x007f, // GCS28
  0x0081, // GCS32
  0x0085, // GCS39
  0x00d7, // ECS30a
  0x0107, // CS02b supplierByTransCoS
])

/** Whether the device needs the originator's signature on a command with this message code. */
export function isCriticalMessageCode(messageCode: number): boolean {
  return CRITICAL_MESSAGE_CODES.has(messageCode)
}

export { isCritical }

export type CommandProtectionErrorKind =
  | 'not-a-pre-command'
  | 'signature-missing'
  | 'signature-invalid'
  | 'signature-unexpected'
  | 'pre-command-mismatch'
  | 'bad-request'

/** A command the DCC will not protect; nothing has been MACed when this is thrown. */
export class CommandProtectionError extends Error {
  override readonly name = 'CommandProtectionError'
  constructor(
    readonly kind: CommandProtectionErrorKind,
    message: string,
  ) {
    super(message)
  }
}

export interface PreCommandOptions {
  /** The originator: the User's EUI-64 (the CoS Party's for SR 6.23). */
  originator: Eui64 | string
  /** The Originator Counter: the DUIS RequestID counter (the CoS Party's counter for SR 6.23). */
  counter: bigint
  /** The recipient device; default the Service Request's target. */
  recipient?: Eui64 | string
  /** The DCC's clock (epoch ms) for the fields GBCS fills with the time of issue. */
  now?: number
}

/**
 * The Pre-Command of a Service Request: the General-Signing block (CRA flag command, the
 * originator counter, originator and recipient, message code, payload) without its signature
 * field. Throws a ServiceRequestError when the request has no GBCS command here.
 */
export function buildPreCommand(sr: GbcsServiceRequest, o: PreCommandOptions): GeneralSigning {
  if (o.counter <= 0n || o.counter > MAX_COUNTER)
    throw new CommandProtectionError('bad-request', `originator counter ${o.counter} is not in 1..2^64-1`)
  const originator = parseEui(String(o.originator))
  const recipient = parseEui(String(o.recipient ?? sr.target))
  const spec = commandFor(sr, {
    originator,
    counter: o.counter,
    ...(o.now !== undefined && { now: o.now }),
  })
  return {
    cra: 'command',
    originatorCounter: o.counter,
    originator,
    recipient,
    messageCode: spec.messageCode,
    content: spec.view
      ? buildPayload(spec.view, { messageCode: spec.messageCode, cra: 'command' })
      : encodePayload(
          { format: 'dlms', structure: spec.structure ?? null },
          { messageCode: spec.messageCode, cra: 'command' },
        ),
    signature: { kind: 'absent' },
  }
}

/**
 * The originator's signature over a Pre-Command, with the public key it must verify with: for
 * a User, the key of the User's digital signing certificate as the DCC holds it (never a key the
 * submitter sends along).
 */
export interface OriginatorSignature {
  /** ECDSA P-256/SHA-256 r‖s, 64 bytes. */
  signature: Uint8Array
  signerPublic: PublicKeyRef
}

/** The Access Control Broker: its EUI-64 and its key agreement private key. */
export interface AccessControlBroker {
  eui: Eui64
  kaPrivateKeyRef: PrivateKeyRef
}

function requirePreCommand(pre: GeneralSigning): void {
  if (pre.cra !== 'command')
    throw new CommandProtectionError('not-a-pre-command', `a ${pre.cra} is not a Pre-Command`)
  if (pre.signature.kind !== 'absent')
    throw new CommandProtectionError('not-a-pre-command', 'a Pre-Command has no signature field')
}

/**
 * The command as it goes to the device. For a Critical command (by message code) the
 * originator's signature is checked first against `signature.signerPublic`; a missing or bad one
 * is a CommandProtectionError and nothing is MACed. A non-critical command gets an empty
 * signature field and must come without a signature. Then the ACB MACs the frame with the key
 * agreed with the device's key agreement public key.
 */
export function completeCommand(
  preCommand: GeneralSigning,
  signature: OriginatorSignature | undefined,
  acb: AccessControlBroker,
  deviceKaPublic: PublicKeyRef,
  backend: CryptoBackend,
): Uint8Array {
  requirePreCommand(preCommand)
  const code = `0x${preCommand.messageCode.toString(16).toUpperCase().padStart(4, '0')}`
  let signed: GeneralSigning
  if (isCriticalMessageCode(preCommand.messageCode)) {
    if (!signature)
      throw new CommandProtectionError(
        'signature-missing',
        `message code ${code} is a Critical command: it needs its originator's signature`,
      )
    signed = { ...preCommand, signature: { kind: 'ecdsa', bytes: signature.signature.slice() } }
    if (signature.signature.length !== 64 || !verifyGeneralSigning(signed, signature.signerPublic, backend))
      throw new CommandProtectionError(
        'signature-invalid',
        `the signature of ${preCommand.originator} on message code ${code} does not verify: not MACed by ACB ${acb.eui}`,
      )
  } else {
    if (signature)
      throw new CommandProtectionError(
        'signature-unexpected',
        `message code ${code} is not a Critical command: it carries an empty signature field`,
      )
    signed = { ...preCommand, signature: { kind: 'empty' } }
  }
  const key = messageKey(signed, acb.kaPrivateKeyRef, deviceKaPublic, backend)
  return encodeMacedFrame(signed, key)
}

/** An originator that signs Pre-Commands in-process with its digital signing private key. */
export interface Signer {
  /** The public key of the signing key. */
  publicKey: PublicKeyRef
  /** Signs a Pre-Command: ECDSA over its General-Signing block, as GBCS signs a command. */
  sign(preCommand: GeneralSigning): OriginatorSignature
}

/** An in-process signer for a User (or the CoS Party) holding its digital signing private key. */
export function createInProcessSigner(privateKeyRef: PrivateKeyRef, backend: CryptoBackend): Signer {
  return {
    publicKey: privateKeyRef.publicKey,
    sign(preCommand) {
      requirePreCommand(preCommand)
      return {
        signature: backend.sign(privateKeyRef, signedBytes(preCommand)),
        signerPublic: privateKeyRef.publicKey,
      }
    },
  }
}

/** DUIS CV4: the Pre-Command's bytes, a General-Signing block without its signature field. */
export function preCommandBytes(preCommand: GeneralSigning): Uint8Array {
  requirePreCommand(preCommand)
  return encodeFrame({ signing: preCommand })
}

/**
 * DUIS CV5: decodes the User-signed command (a General-Signing block with its signature, no MAC
 * header) and checks that it is the very Pre-Command the DCC issued — same counter, originator,
 * recipient, message code and payload. Returns the signature with the User's digital signing
 * public key (from the User's certificate) for completeCommand, which verifies it.
 */
export function signedFromUser(
  bytes: Uint8Array,
  preCommand: GeneralSigning,
  userDsPublic: PublicKeyRef,
): OriginatorSignature {
  requirePreCommand(preCommand)
  let frame: ReturnType<typeof decodeFrame>
  try {
    frame = decodeFrame(bytes)
  } catch (e) {
    throw new CommandProtectionError('pre-command-mismatch', `not a GBCS command: ${(e as Error).message}`)
  }
  if (frame.mac)
    throw new CommandProtectionError('pre-command-mismatch', 'a signed Pre-Command has no MAC header')
  const s = frame.signing
  if (s.signature.kind !== 'ecdsa')
    throw new CommandProtectionError('signature-missing', 'the signed Pre-Command carries no ECDSA signature')
  if (!bytesEqual(signedBytes(s), signedBytes(preCommand)))
    throw new CommandProtectionError(
      'pre-command-mismatch',
      'the signed command is not the Pre-Command issued (header or payload differs)',
    )
  return { signature: s.signature.bytes.slice(), signerPublic: userDsPublic }
}

export interface ConstructOptions extends PreCommandOptions {
  /** The originator's signer; needed for Critical commands (and for SR 6.23, the CoS Party's). */
  signer?: Signer
  acb: AccessControlBroker
  deviceKaPublic: PublicKeyRef
}

/**
 * Builds, signs (when Critical, with `signer`, whose key must be the originator's) and MACs the
 * command of a Service Request in one go: the in-process path for a User that signs in-process,
 * and for SR 6.23 with the CoS Party as originator and signer.
 */
export function constructCommand(
  sr: GbcsServiceRequest,
  o: ConstructOptions,
  backend: CryptoBackend,
): Uint8Array {
  const pre = buildPreCommand(sr, o)
  const signature = isCriticalMessageCode(pre.messageCode) ? o.signer?.sign(pre) : undefined
  return completeCommand(pre, signature, o.acb, o.deviceKaPublic, backend)
}

/** The CoS Party: its EUI-64 (its certificate is in the devices' transitionalCoS cell) and signer. */
export interface CosParty {
  eui: Eui64
  signer: Signer
}

/**
 * SR 6.23 as the CoS Party sends it: CS02b supplierByTransCoS from the CoS Party with its
 * counter, signed by it, MACed by the ACB. The gaining Supplier's request is non-critical for
 * it; eligibility is the access-control layer's business, not checked here.
 */
export function changeOfSupplierCommand(
  sr: GbcsServiceRequest,
  o: {
    cos: CosParty
    counter: bigint
    acb: AccessControlBroker
    deviceKaPublic: PublicKeyRef
    now?: number
  },
  backend: CryptoBackend,
): Uint8Array {
  if (sr.srv !== '6.23')
    throw new CommandProtectionError('bad-request', `the CoS Party builds SR 6.23 only, not SR ${sr.srv}`)
  return constructCommand(
    sr,
    {
      originator: o.cos.eui,
      counter: o.counter,
      signer: o.cos.signer,
      acb: o.acb,
      deviceKaPublic: o.deviceKaPublic,
      ...(o.now !== undefined && { now: o.now }),
    },
    backend,
  )
}

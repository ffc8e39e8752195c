import { readFileSync } from 'node:fs'
import { bytesEqual, type Eui64, parseEui, toHex } from '@smetsim/core'
import {
  type BackendName,
  decodeFrame,
  encodeFrame,
  frameFromJson,
  frameToJson,
  getBackend,
  messageKey,
  tryDecodeFrame,
  verifyGeneralSigning,
  verifyMac,
} from '@smetsim/gbcs'
import { type KeyUsage, openKeystore } from '@smetsim/smki'
import { expandFiles, frameBytes, readInput } from '../input.ts'

export function decode(input: string): void {
  const { bytes } = readInput(input)
  const frame = tryDecodeFrame(bytes)
  if (!frame.ok) throw frame.error
  process.stdout.write(`${JSON.stringify(frameToJson(frame.value), null, 2)}\n`)
}

export function encode(): void {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(0, 'utf8'))
  } catch (e) {
    throw new Error(`standard input is not JSON: ${(e as Error).message}`)
  }
  process.stdout.write(`${toHex(encodeFrame(frameFromJson(json)))}\n`)
}

/**
 * Conformance check of the codecs on real frames: each must decode, re-encode to identical
 * bytes through its JSON form, and (where a use-case view exists) rebuild from that view.
 */
export function check(args: string[], opts: { quiet: boolean }): void {
  const totals = { frames: 0, roundTrip: 0, structured: 0, useCase: 0, failed: 0 }
  for (const file of expandFiles(args)) {
    totals.frames++
    const line: Record<string, unknown> = { file }
    try {
      const bytes = frameBytes(readFileSync(file))
      const json = frameToJson(decodeFrame(bytes))
      const again = encodeFrame(frameFromJson(JSON.parse(JSON.stringify(json))))
      line.messageCode = json.messageCode
      line.cra = json.cra
      line.format = json.payload.format
      line.useCase = json.payload.useCase?.name ?? null
      line.roundTrip = bytesEqual(again, bytes)
      if (json.payload.error) line.payloadError = json.payload.error
      if (line.roundTrip) totals.roundTrip++
      else totals.failed++
      if (json.payload.format !== 'raw') totals.structured++
      if (json.payload.useCase) totals.useCase++
    } catch (e) {
      totals.failed++
      line.error = (e as Error).message
    }
    if (!opts.quiet || line.error || line.roundTrip === false)
      process.stdout.write(`${JSON.stringify(line)}\n`)
  }
  process.stdout.write(`${JSON.stringify({ summary: totals })}\n`)
  if (totals.failed > 0) process.exitCode = 1
}

type SignatureStatus = 'valid' | 'invalid' | 'absent' | 'none' | 'no-key'
type MacStatus = 'valid' | 'invalid' | 'none' | 'no-key'

/**
 * Checks each frame's signature against its originator's digital-signing certificate and its
 * MAC with the key agreed between the two parties that protect it: the ACB and the device for
 * a command, originator and recipient for a response or alert. Either party's private key
 * will do, since static ECDH gives both sides the same secret.
 */
export function verify(args: string[], opts: { keystore: string; acb: string; backend: BackendName }): void {
  const store = openKeystore(opts.keystore)
  const backend = getBackend(opts.backend)
  const acb = parseEui(opts.acb)
  const publicKey = (eui: Eui64, usage: KeyUsage) => {
    const cert = store.certificate(eui, usage)
    return cert && backend.importPublicKey(cert.publicKey, { trustAnchor: true })
  }
  const privateKey = (eui: Eui64) => {
    const key = store.privateKey(eui, 'keyAgreement')
    return key && backend.importPrivateKey(key)
  }
  let invalid = 0
  for (const file of expandFiles(args)) {
    const line: Record<string, unknown> = { file }
    const decoded = (() => {
      try {
        return tryDecodeFrame(frameBytes(readFileSync(file)))
      } catch (e) {
        return { ok: false as const, error: e as Error }
      }
    })()
    if (!decoded.ok) {
      invalid++
      process.stdout.write(`${JSON.stringify({ file, error: decoded.error.message })}\n`)
      continue
    }
    const frame = decoded.value
    const s = frame.signing
    Object.assign(line, {
      cra: s.cra,
      messageCode: s.messageCode.toString(16).toUpperCase().padStart(4, '0'),
      originator: s.originator,
      recipient: s.recipient,
      counter: s.originatorCounter.toString(),
    })

    let signature: SignatureStatus
    if (s.signature.kind === 'absent') signature = 'absent'
    else if (s.signature.kind === 'empty') signature = 'none'
    else {
      const key = publicKey(s.originator, 'digitalSignature')
      signature = !key ? 'no-key' : verifyGeneralSigning(s, key, backend) ? 'valid' : 'invalid'
    }

    let mac: MacStatus = 'none'
    if (frame.mac) {
      const protector = s.cra === 'command' ? acb : s.originator
      const pairs: [Eui64, Eui64][] = [
        [s.recipient, protector],
        [protector, s.recipient],
      ]
      mac = 'no-key'
      for (const [own, other] of pairs) {
        const priv = privateKey(own)
        const pub = publicKey(other, 'keyAgreement')
        if (priv && pub) {
          mac = verifyMac(frame, messageKey(s, priv, pub, backend)) ? 'valid' : 'invalid'
          break
        }
      }
    }
    if (signature === 'invalid' || mac === 'invalid') invalid++
    process.stdout.write(`${JSON.stringify({ ...line, signature, mac })}\n`)
  }
  if (invalid > 0) process.exitCode = 1
}

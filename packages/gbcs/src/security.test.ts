import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { getBackend } from './crypto/index.ts'
import { decodeFrame, encodeFrame, type GeneralSigning } from './frame.ts'
import {
  applyMac,
  encodeMacedFrame,
  encodeSignedFrame,
  messageKey,
  signGeneralSigning,
  verifyGeneralSigning,
  verifyMac,
} from './security.ts'

// GBCS section 18.4 cryptographic test vectors (public domain, as transcribed in
// HenryGiraldo/gbcs python/gbcs-tests.py): a Critical ECS04b command from Supplier A to
// Device A, signed by Supplier A and MACed by the ACB.
const V = {
  frame:
    'DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE000200B335D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF02030500000000050000000005000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9FE2E12E2DA3632478A8DF678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3',
  supplierDsPrivate: '3A6B2EAA0D9F25A9E455983FEB5BB947528121911BF3B76BE5661C89DBF24B26',
  supplierDsPublic:
    '0476628E1C84EF7935548AE5D62C7BB3AD28964CF794F0387A697EEC19CDD98F460A4D5E19087EF7216ED89C29831A6EE838C8DE88EF34F11D3F41F36D80B2A5D5',
  acbKaPrivate: 'E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFB',
  deviceKaPublic:
    '042DB45A3F21889438B42C8F464C75292BACF5FDDB5DA0B492501B299CBFE92D8FDB90FC8FF4026129838B1BCAD1402CAE47FE7D8084E409A41AFCE16D63579C5F',
}

for (const name of ['native', 'noble'] as const) {
  describe(`frame protection with the ${name} backend`, () => {
    const backend = getBackend(name)
    const frame = decodeFrame(fromHex(V.frame))
    const supplier = backend.importPublicKey(fromHex(V.supplierDsPublic))
    const acb = backend.importPrivateKey(fromHex(V.acbKaPrivate))
    const device = backend.importPublicKey(fromHex(V.deviceKaPublic))

    it('verifies the GBCS 18.4 signature and MAC through the frame codec', () => {
      expect(frame.signing.messageCode).toBe(0x00b3)
      expect(verifyGeneralSigning(frame.signing, supplier, backend)).toBe(true)
      expect(verifyMac(frame, messageKey(frame.signing, acb, device, backend))).toBe(true)
    })

    it('rebuilds the vector: same signature check, same MAC', () => {
      const key = messageKey(frame.signing, acb, device, backend)
      expect(toHex(encodeFrame(applyMac(frame.signing, key)))).toBe(V.frame)
      // In one pass, from the received block and from a copy that must be encoded afresh (whose
      // KDF inputs come from the fields, not from the received bytes).
      expect(toHex(encodeMacedFrame(frame.signing, key))).toBe(V.frame)
      const copy = { ...frame.signing }
      expect(toHex(encodeMacedFrame(copy, messageKey(copy, acb, device, backend)))).toBe(V.frame)
    })

    it('refuses a frame whose content, counter or signature changed', () => {
      const key = messageKey(frame.signing, acb, device, backend)
      const tampered: GeneralSigning[] = [
        { ...frame.signing, content: frame.signing.content.map((b, i) => (i === 10 ? b ^ 1 : b)) },
        { ...frame.signing, originatorCounter: frame.signing.originatorCounter + 1n },
      ]
      for (const s of tampered) {
        expect(verifyGeneralSigning(s, supplier, backend)).toBe(false)
        expect(verifyMac({ signing: s, mac: frame.mac! }, key)).toBe(false)
      }
      // the MAC key depends on the counter and CRA flag too, so a replayed MAC cannot be reused
      const otherKey = messageKey({ ...frame.signing, originatorCounter: 2n }, acb, device, backend)
      expect(verifyMac(frame, otherKey)).toBe(false)
      expect(
        verifyGeneralSigning({ ...frame.signing, signature: { kind: 'empty' } }, supplier, backend),
      ).toBe(false)
    })

    it('checks the bytes as received, and still refuses a decoded frame changed in place', () => {
      const key = messageKey(frame.signing, acb, device, backend)
      const copy = decodeFrame(fromHex(V.frame))
      expect(Object.isFrozen(copy.signing)).toBe(true)
      copy.signing.content[3] = (copy.signing.content[3] ?? 0) ^ 0x40
      expect(verifyMac(copy, key)).toBe(false)
      expect(verifyGeneralSigning(copy.signing, supplier, backend)).toBe(false)
      copy.signing.content[3] = (copy.signing.content[3] ?? 0) ^ 0x40
      expect(verifyMac(copy, key)).toBe(true)
    })

    it('encodeSignedFrame gives the frame of the signed block, in one pass', () => {
      const signer = backend.importPrivateKey(fromHex(V.supplierDsPrivate))
      const bytes = encodeSignedFrame(frame.signing, signer, backend)
      const again = decodeFrame(bytes)
      expect(again.mac).toBeUndefined()
      expect({ ...again.signing, signature: null }).toEqual({ ...frame.signing, signature: null })
      expect(verifyGeneralSigning(again.signing, supplier, backend)).toBe(true)
      expect(encodeFrame(again)).toEqual(bytes)
    })

    it('signs a fresh block that verifies, and refuses to MAC a Pre-Command', () => {
      const signer = backend.importPrivateKey(fromHex(V.supplierDsPrivate))
      const unsigned: GeneralSigning = {
        ...frame.signing,
        signature: { kind: 'absent' },
        originatorCounter: 99n,
      }
      const signed = signGeneralSigning(unsigned, signer, backend)
      expect(verifyGeneralSigning(signed, supplier, backend)).toBe(true)
      expect(() => applyMac(unsigned, new Uint8Array(16))).toThrow(/Pre-Command/)
      expect(() => encodeMacedFrame(unsigned, new Uint8Array(16))).toThrow(/Pre-Command/)
    })
  })
}

/**
 * XML Signatures on DUIS messages, as the DCC's DUIS signing tool (dccboxed-signing-tool) makes
 * and checks them: one enveloped `ds:Signature`, the last child of the root element, over the
 * whole document (Reference URI="", the enveloped-signature transform, SHA-256 digest), SignedInfo
 * canonicalised with exclusive C14N and signed with ECDSA P-256 / SHA-256; KeyInfo names the
 * signer's certificate by X509IssuerSerial (issuer DN and decimal serial number). The XMLDSig
 * work is xmldsigjs's (with Node's WebCrypto); this module adds the profile checks that make the
 * signature cover exactly the document the DCC then reads (no signature wrapping): one
 * signature, in place, one whole-document reference, only the algorithms above.
 */
import { createHash, KeyObject, sign, verify, webcrypto, type X509Certificate } from 'node:crypto'
import { err, ok, type Result } from '@smetsim/core'
import * as xmldom from '@xmldom/xmldom'
import { setNodeDependencies } from 'xml-core'
import { Application, KeyInfoX509Data, SignedXml } from 'xmldsigjs'
import xpath from 'xpath'

type XmlDomDocument = xmldom.Document
type XmlDomElement = xmldom.Element

export const DS_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#'
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
const ECDSA = { name: 'ECDSA', hash: 'SHA-256', namedCurve: 'P-256' } as const

/** The CryptoKey's node:crypto KeyObject, made once per key (the keys are cached, see webKey). */
const keyObjects = new WeakMap<CryptoKey, KeyObject>()
function keyObjectOf(key: CryptoKey): KeyObject {
  let o = keyObjects.get(key)
  if (!o) {
    o = KeyObject.from(key)
    keyObjects.set(key, o)
  }
  return o
}
const nameOf = (alg: unknown): string | undefined =>
  typeof alg === 'string' ? alg : (alg as { name?: unknown } | undefined)?.name?.toString()
const bytesOf = (data: BufferSource): Uint8Array =>
  ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data as ArrayBuffer)
const arrayBufferOf = (b: Buffer): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
/** ECDSA with SHA-256 on a P-256 key: the one signature algorithm of the DUIS profile. */
const isEcdsaP256Sha256 = (alg: unknown, key: CryptoKey): boolean =>
  nameOf(alg) === 'ECDSA' &&
  nameOf((alg as { hash?: unknown }).hash) === 'SHA-256' &&
  (key.algorithm as EcKeyAlgorithm).namedCurve === 'P-256'
const subtle = webcrypto.subtle
/**
 * The WebCrypto engine xmldsigjs computes with: Node's, except that the DUIS profile's SHA-256
 * digests and ECDSA P-256 signatures are one-shot node:crypto calls that settle at once, not
 * WebCrypto jobs on the libuv thread pool (a thread hop each, six per DUIS request: a fifth of
 * a request's time was the event loop waiting on them, bench/duis.ts). Same algorithms and encodings (an ECDSA
 * signature is IEEE P1363 r‖s, as WebCrypto gives it); anything else goes to WebCrypto itself.
 */
const fast: Partial<SubtleCrypto> = {
  digest: (alg, data) =>
    nameOf(alg) === 'SHA-256'
      ? Promise.resolve(arrayBufferOf(createHash('sha256').update(bytesOf(data)).digest()))
      : subtle.digest(alg, data),
  sign: (alg, key, data) => {
    if (!isEcdsaP256Sha256(alg, key) || key.type !== 'private') return subtle.sign(alg, key, data)
    try {
      const sig = sign('sha256', bytesOf(data), { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' })
      return Promise.resolve(arrayBufferOf(sig))
    } catch (e) {
      return Promise.reject(e)
    }
  },
  verify: (alg, key, signature, data) => {
    if (!isEcdsaP256Sha256(alg, key) || key.type !== 'public') return subtle.verify(alg, key, signature, data)
    try {
      return Promise.resolve(
        verify(
          'sha256',
          bytesOf(data),
          { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' },
          bytesOf(signature),
        ),
      )
    } catch {
      // As WebCrypto answers a signature it cannot read (e.g. the wrong length): not valid.
      return Promise.resolve(false)
    }
  },
}
const engine = {
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  subtle: new Proxy(subtle, {
    get(target, name) {
      const own = fast[name as keyof SubtleCrypto]
      if (own) return own
      const value = Reflect.get(target, name)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }),
}
Application.setEngine('NodeJS', engine as unknown as Crypto)
setNodeDependencies({
  DOMParser: xmldom.DOMParser,
  XMLSerializer: xmldom.XMLSerializer,
  DOMImplementation: xmldom.DOMImplementation,
  xpath,
})

/** What signs: the signer's certificate (named in KeyInfo) and its P-256 private key. */
export interface XmlSigningKey {
  certificate: X509Certificate
  privateKey: KeyObject
}

/** The signer's certificate for an X509IssuerSerial, or undefined when it is not known. */
export type CertificateLookup = (serial: bigint, issuerName: string) => X509Certificate | undefined

/** The issuer's DN as Java's X500Principal.getName() writes it (RFC 2253: most specific first). */
export function issuerDn(certificate: X509Certificate): string {
  return certificate.issuer.split('\n').reverse().join(',')
}

/** The certificate's serial number as a bigint. */
export function serialOf(certificate: X509Certificate): bigint {
  return BigInt(`0x${certificate.serialNumber}`)
}

const keyCache = new WeakMap<object, Promise<CryptoKey>>()
function webKey(key: KeyObject | X509Certificate, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  let cached = keyCache.get(key)
  if (!cached) {
    cached =
      usage === 'sign'
        ? webcrypto.subtle.importKey(
            'pkcs8',
            (key as KeyObject).export({ type: 'pkcs8', format: 'der' }),
            ECDSA,
            false,
            ['sign'],
          )
        : webcrypto.subtle.importKey(
            'spki',
            (key as X509Certificate).publicKey.export({ type: 'spki', format: 'der' }),
            ECDSA,
            true,
            ['verify'],
          )
    keyCache.set(key, cached)
  }
  return cached
}

/**
 * Signs the document in place: appends the enveloped ds:Signature to its root element and
 * returns the signed document as text (no XML declaration: the DCC's tool writes one; any
 * reader accepts either). A signature already there is removed first, as the tool does.
 */
export async function signDuisDocument(doc: XmlDomDocument, key: XmlSigningKey): Promise<string> {
  const root = doc.documentElement
  if (!root) throw new TypeError('the document has no root element')
  for (const old of Array.from(doc.getElementsByTagNameNS(DS_NAMESPACE, 'Signature')))
    old.parentNode?.removeChild(old)
  const signed = new SignedXml()
  signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N
  const keyInfo = new KeyInfoX509Data()
  keyInfo.AddIssuerSerial(issuerDn(key.certificate), serialOf(key.certificate).toString())
  signed.XmlSignature.KeyInfo.Add(keyInfo)
  await signed.Sign(ECDSA, await webKey(key.privateKey, 'sign'), doc as unknown as Document, {
    references: [{ uri: '', hash: 'SHA-256', transforms: ['enveloped'] }],
  })
  const element = signed.GetXml()
  if (!element) throw new Error('xmldsigjs made no Signature element')
  root.appendChild(doc.importNode(element as unknown as xmldom.Node, true))
  return new xmldom.XMLSerializer().serializeToString(doc)
}

/** A verified signature: who signed (the certificate the lookup gave) and the signature element, now removed. */
export interface VerifiedSignature {
  certificate: X509Certificate
  serial: bigint
}

const children = (el: XmlDomElement, name: string): XmlDomElement[] =>
  Array.from(el.childNodes).filter(
    (n): n is XmlDomElement => n.nodeType === 1 && (n as XmlDomElement).localName === name,
  ) as XmlDomElement[]
const one = (el: XmlDomElement | undefined, name: string): XmlDomElement | undefined => {
  if (!el) return undefined
  const found = children(el, name)
  return found.length === 1 ? found[0] : undefined
}
const algorithm = (el: XmlDomElement | undefined) => el?.getAttribute('Algorithm') ?? undefined

/**
 * Checks the document's signature against the DUIS profile and the certificate that KeyInfo
 * names. Never throws on bad input: the error says what is wrong. The document is not changed.
 */
export async function verifyDuisSignature(
  doc: XmlDomDocument,
  lookup: CertificateLookup,
): Promise<Result<VerifiedSignature, string>> {
  const root = doc.documentElement
  if (!root) return err('no root element')
  const all = doc.getElementsByTagNameNS(DS_NAMESPACE, 'Signature')
  if (all.length === 0) return err('the message is not signed')
  if (all.length > 1) return err(`${all.length} ds:Signature elements; DUIS has exactly one`)
  const signature = all[0]!
  const lastElement = Array.from(root.childNodes)
    .filter((n) => n.nodeType === 1)
    .at(-1)
  if (signature.parentNode !== root || lastElement !== signature)
    return err('the ds:Signature is not the last child of the root element')
  const signedInfo = one(signature, 'SignedInfo')
  if (!signedInfo) return err('no single ds:SignedInfo')
  const c14n = algorithm(one(signedInfo, 'CanonicalizationMethod'))
  if (c14n !== EXC_C14N && c14n !== C14N) return err(`canonicalisation ${c14n} is not allowed`)
  const method = algorithm(one(signedInfo, 'SignatureMethod'))
  if (method !== ECDSA_SHA256) return err(`signature method ${method} is not ECDSA-SHA256`)
  const references = children(signedInfo, 'Reference')
  if (references.length !== 1) return err(`${references.length} ds:Reference elements; DUIS has one`)
  const reference = references[0]!
  if (reference.getAttribute('URI') !== '') return err('the reference is not to the whole document (URI="")')
  const transforms = children(one(reference, 'Transforms') ?? reference, 'Transform').map(algorithm)
  const transformsOk =
    transforms[0] === ENVELOPED &&
    (transforms.length === 1 ||
      (transforms.length === 2 && (transforms[1] === EXC_C14N || transforms[1] === C14N)))
  if (!transformsOk) return err(`transforms ${transforms.join(', ')} are not the enveloped-signature profile`)
  if (algorithm(one(reference, 'DigestMethod')) !== SHA256) return err('the digest is not SHA-256')
  const issuerSerial = one(one(one(signature, 'KeyInfo'), 'X509Data'), 'X509IssuerSerial')
  const serialText = one(issuerSerial, 'X509SerialNumber')?.textContent?.trim() ?? ''
  const issuerName = one(issuerSerial, 'X509IssuerName')?.textContent?.trim() ?? ''
  if (!/^\d{1,50}$/.test(serialText)) return err('KeyInfo names no X509IssuerSerial serial number')
  const serial = BigInt(serialText)
  const certificate = lookup(serial, issuerName)
  if (!certificate) return err(`no XML signing certificate with serial ${serial.toString(16)} is known`)

  try {
    const signed = new SignedXml(doc as unknown as Document)
    signed.LoadXml(signature as unknown as Element)
    // The key is already an ECDSA P-256 verification key (webKey). With an Algorithm set,
    // xmldsigjs re-imports it (an export and an import per message, and with the algorithm it
    // read, which lacks the curve Node needs); the signature method is checked above.
    delete signed.Algorithm
    const valid = await signed.Verify(await webKey(certificate, 'verify'))
    return valid ? ok({ certificate, serial }) : err('the signature does not verify')
  } catch (e) {
    return err(`the signature does not verify: ${String((e as Error).message).slice(0, 200)}`)
  }
}

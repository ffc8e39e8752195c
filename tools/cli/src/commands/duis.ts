/**
 * The DUIS XML interface on the command line:
 *  - `smetsim duis send FILE.xml [--sign-as EUI]` signs a DUIS request (with the test PKI's key,
 *    or DCC Boxed's ZAZ1 XML signing key with `--boxed-keystore`), POSTs it to the web service
 *    its Command Variant names and prints the decoded, signature-checked response;
 *  - `attachDuis`, which `smetsim dcc serve` calls to serve DUIS at DCC Boxed's paths on the same
 *    port as the JSON API, with asynchronous delivery to Users' endpoints.
 *
 * Which certificates sign DUIS (see packages/duis/README.md): with a `pki init` PKI, a User's
 * digital signing certificate and, for the DCC, the ACB's; with DCC Boxed's keystore, the ZAZ1
 * XML signing certificates (OU=87) and the DSP's (OU=89), as the DCC's signing tool uses them.
 */
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { type Eui64, parseEui } from '@smetsim/core'
import type { Dcc, ServiceAuditTrail, SmartMeteringInventory, UserDirectory } from '@smetsim/dcc'
import {
  createDeliveryQueue,
  createDuisHttpServer,
  createDuisInterface,
  DCC_XML_SIGNING_ROLE,
  readBoxedKeystore,
  readDuisXml,
  readRequest,
  registerDuisRoutes,
  SERVICE_OF_COMMAND_VARIANT,
  SERVICE_PATHS,
  SR_NAMESPACE,
  signDuisDocument,
  verifyDuisSignature,
  XML_SIGNING_ROLE,
  type XmlSigningKey,
  XmlSigningRegister,
} from '@smetsim/duis'
import { decodeFrame, frameToJson } from '@smetsim/gbcs'
import { type Keystore, readTlsFiles } from '@smetsim/smki'

/** How often `serve` collects alerts and attempts deliveries. */
const DELIVERY_TICK_MS = 1000

/** The XML signing keys a PKI folder (and DCC Boxed's keystore, when given) offers. */
export function xmlSigningKeys(
  store: Keystore | undefined,
  parties: readonly Eui64[],
  dccEui: Eui64,
  boxedKeystore?: string,
): { register: XmlSigningRegister; users: Map<Eui64, XmlSigningKey>; dcc: XmlSigningKey | undefined } {
  const register = new XmlSigningRegister()
  const users = new Map<Eui64, XmlSigningKey>()
  for (const eui of store ? parties : []) {
    const certificate = store!.certificate(eui, 'digitalSignature')
    const privateKey = store!.privateKey(eui, 'digitalSignature')
    if (!certificate || !privateKey) continue
    register.add(certificate)
    users.set(eui, { certificate, privateKey })
  }
  const acbCert = store?.certificate(dccEui, 'digitalSignature')
  const acbKey = store?.privateKey(dccEui, 'digitalSignature')
  let dcc: XmlSigningKey | undefined =
    acbCert && acbKey ? { certificate: acbCert, privateKey: acbKey } : undefined
  if (boxedKeystore) {
    for (const c of readBoxedKeystore(JSON.parse(readFileSync(boxedKeystore, 'utf8')))) {
      if (c.roleCode === XML_SIGNING_ROLE && c.privateKey) {
        register.add(c.certificate)
        users.set(c.eui, { certificate: c.certificate, privateKey: c.privateKey })
      }
      if (c.roleCode === DCC_XML_SIGNING_ROLE && c.privateKey)
        dcc = { certificate: c.certificate, privateKey: c.privateKey }
    }
  }
  return { register, users, dcc }
}

export interface AttachDuisOptions {
  dcc: Dcc
  sat: ServiceAuditTrail
  users: UserDirectory
  inventory: SmartMeteringInventory
  /** The PKI whose Users' digital signing keys sign DUIS too; none in DCC Boxed's estate. */
  store?: Keystore
  /** The DCC's EUI (the ACB's). */
  dccEui: Eui64
  /** DCC Boxed's keystore.json (ZAZ1), whose XML signing certificates are accepted too. */
  boxedKeystore?: string
  /** `EUI=URL`: a User's endpoint for asynchronous DUIS messages. */
  endpoints?: readonly string[]
  /**
   * Also serve DUIS alone over plain HTTP on 127.0.0.1 at this port, as DCC Boxed does: each
   * message authenticated by its XML signature only (no TLS), for DCC Boxed's own clients.
   */
  plainHttpPort?: number
}

/** What `attachDuis` started: a summary for the banner, and what to close on the way out. */
export interface AttachedDuis {
  summary: string
  close(): Promise<void>
}

/** Serves DUIS at DCC Boxed's paths on `server` (and on plain HTTP when asked) and starts asynchronous delivery. */
export async function attachDuis(
  server: Parameters<typeof registerDuisRoutes>[0],
  o: AttachDuisOptions,
): Promise<AttachedDuis> {
  const userIds = o.users.all().map((u) => u.userId)
  const keys = xmlSigningKeys(o.store, userIds, o.dccEui, o.boxedKeystore)
  if (!keys.dcc) throw new Error(`no XML signing key for the DCC (${o.dccEui}) in the PKI`)
  const dccSigningKey = keys.dcc
  // Access control checks the signer's certificate is the User's: register the XML signing ones.
  for (const [eui, key] of keys.users)
    if (o.users.get(eui) && !o.users.get(eui)!.certificates.includes(key.certificate.serialNumber))
      o.users.addCertificate(eui, key.certificate.serialNumber)
  const endpoints = new Map<Eui64, string>()
  for (const spec of o.endpoints ?? []) {
    const [eui, url] = spec.split(/=(.*)/s) as [string, string | undefined]
    if (!url || !/^https?:\/\//.test(url))
      throw new RangeError(`--duis-endpoint wants EUI=URL, not '${spec}'`)
    endpoints.set(parseEui(eui), url)
  }
  const delivery = createDeliveryQueue({ endpointOf: (u) => endpoints.get(u), sat: o.sat })
  const duis = createDuisInterface({
    dcc: o.dcc,
    sat: o.sat,
    users: o.users,
    deviceTypeOf: (id) => o.inventory.get(id)?.type,
    signingCertificates: keys.register,
    dccSigningKey,
    dccEui: o.dccEui,
    delivery,
    now: () => Date.now(),
  })
  registerDuisRoutes(server, duis)
  const timer = setInterval(() => {
    duis
      .collectAlerts()
      .then(() => delivery.run(Date.now()))
      .catch((e: Error) => process.stderr.write(`smetsim dcc: DUIS delivery: ${e.message}\n`))
  }, DELIVERY_TICK_MS)
  timer.unref()
  const plain = o.plainHttpPort === undefined ? undefined : createDuisHttpServer(duis)
  const plainAddress = plain && (await plain.listen({ host: '127.0.0.1', port: o.plainHttpPort }))
  return {
    summary:
      `  DUIS: ${Object.values(SERVICE_PATHS).join(', ')}; ${keys.register.size} XML signing certificates` +
      `${o.boxedKeystore ? ' (with DCC Boxed ZAZ1)' : ''}; ${endpoints.size} User endpoints\n` +
      (plainAddress
        ? `  DUIS alone over plain HTTP at ${plainAddress} (XML signatures authenticate; no TLS, as DCC Boxed)\n`
        : ''),
    close: async () => {
      clearInterval(timer)
      await plain?.close()
    },
  }
}

/**
 * The mutual-TLS client credentials `pki init` wrote for a User (DIR/tls/), as `dcc serve` asks
 * every caller for them by default.
 */
function tlsClientOf(pki: string, user: Eui64): { ca: string; cert: string; key: string } {
  const files = readTlsFiles(pki)
  const client = files.clients.find((c) => c.identity.kind === 'user' && c.identity.user === user)
  if (!client)
    throw new Error(
      `${pki}: no TLS client certificate for ${user}; an https DCC asks for one (or serve it with --insecure-local and give an http --url)`,
    )
  return { ca: files.ca, cert: client.cert, key: client.key }
}

/** POSTs DUIS XML over HTTPS with a client certificate (fetch cannot present one). */
function postOverMutualTls(
  url: URL,
  body: string,
  tls: { ca: string; cert: string; key: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/xml' }, ...tls },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

export interface SendOptions {
  url: string
  pki?: string
  boxedKeystore?: string
  signAs?: string
  preserveCounter?: boolean
}

/** `smetsim duis send`: sign, POST, check and print the answer. Exit code 1 when it is not I0/I99. */
export async function send(file: string, opts: SendOptions): Promise<void> {
  const { openKeystore } = await import('@smetsim/smki')
  const read = readDuisXml(new Uint8Array(readFileSync(file)))
  if (!read.ok) throw new Error(`${file}: ${read.error.reason}`)
  const doc = read.value.document
  const request = readRequest(doc)
  if (!request) throw new Error(`${file}: not a DUIS Request`)
  const signer = parseEui(opts.signAs ?? request.originator)
  const store = openKeystore(opts.pki ?? '.')
  // The DCC's EUI in DCC Boxed and in a `pki init` PKI alike: the ACB's.
  const keys = xmlSigningKeys(store, [signer], parseEui('90B3D51F30000002'), opts.boxedKeystore)
  const key = keys.users.get(signer)
  if (!key) throw new Error(`no XML signing key for ${signer} (give --pki or --boxed-keystore)`)
  if (!opts.preserveCounter) {
    // As the DCC's signing tool does: the RequestID counter becomes the time in ms.
    const id = doc.getElementsByTagNameNS(SR_NAMESPACE, 'RequestID')[0]!
    id.textContent = `${request.originator}:${request.target}:${Date.now()}`
  }
  const signed = await signDuisDocument(doc, key)
  const service = SERVICE_OF_COMMAND_VARIANT[request.commandVariant]
  if (!service) throw new Error(`Command Variant ${request.commandVariant} has no DUIS web service`)
  const url = new URL(SERVICE_PATHS[service], opts.url)
  const { status, text } =
    url.protocol === 'https:'
      ? await postOverMutualTls(url, signed, tlsClientOf(opts.pki ?? '.', signer))
      : await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/xml' },
          body: signed,
        }).then(async (r) => ({ status: r.status, text: await r.text() }))
  if (status !== 200) throw new Error(`HTTP ${status}: ${text}`)
  const answer = readDuisXml(new TextEncoder().encode(text))
  if (!answer.ok) throw new Error(`the answer is not valid DUIS: ${answer.error.reason}`)
  const dccCertificates = new XmlSigningRegister()
  if (keys.dcc) dccCertificates.add(keys.dcc.certificate)
  const verified = await verifyDuisSignature(answer.value.document, dccCertificates.lookup)
  const field = (name: string) =>
    answer.value.document.getElementsByTagNameNS(SR_NAMESPACE, name)[0]?.textContent ?? undefined
  const payload = field('GBCSPayload')
  let gbcs: unknown
  if (payload) {
    try {
      gbcs = frameToJson(decodeFrame(Buffer.from(payload, 'base64')))
    } catch (e) {
      gbcs = { error: (e as Error).message }
    }
  }
  const code = field('ResponseCode')
  process.stdout.write(
    `${JSON.stringify(
      {
        service,
        requestId: field('RequestID'),
        responseCode: code,
        signature: verified.ok ? 'valid' : `not checked: ${verified.error}`,
        ...(answer.value.document.getElementsByTagNameNS(SR_NAMESPACE, 'PreCommand').length && {
          preCommand: true,
        }),
        ...(gbcs !== undefined && { gbcs }),
      },
      null,
      2,
    )}\n`,
  )
  if (code !== 'I0' && code !== 'I99') process.exitCode = 1
}

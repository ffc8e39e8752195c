/**
 * `smetsim dcc serve`: the DCC's HTTP API on 127.0.0.1 over a PKI made by `smetsim pki init`.
 *
 * The estate is built from the PKI: its suppliers (DUIS roles IS and GS, MPIDs SUP1, SUP2 …), its
 * network operator (ED, GT, MPID NET1) and other user (OU) are the Users; every device in the PKI
 * is a commissioned ESME on its own MPAN, registered to the first supplier and the network
 * operator, and runs in this process as an emulated ESME (packages/device) that the DCC reaches
 * through an in-process transport — until the hub exists. Users sign their Critical requests
 * in-process with the PKI's keys, unless `--cv5` asks HTTP callers to sign (DUIS CV4/CV5).
 *
 * DCC Schedules (SR 5.1–5.3) run on a one-second wall-clock tick (`runDueSchedules`); their
 * results are at GET /schedules/{userId}. The schedules themselves live in memory. There is no
 * Communications Hub here, so SR 8.11 is answered E11 (not built here); the install code register (GET/PUT
 * /install-codes…) works with MP121 off.
 *
 * Under `--data`: the Service Audit Trail (sat.jsonl, fsync per record) and the registration data
 * (registration.json, made on first start and read again after). Device state lives in memory.
 *
 * Callers authenticate with mutual TLS: the server's certificate and the clients' (one per DCC
 * User, one for an auditor) are the PKI's tls/ credentials. The PKI's revocation list (revoked.json)
 * is watched: what `smetsim pki revoke` adds reaches this process at once, for the pipeline's
 * checks of SMKI certificates and for TLS client certificates alike. `--insecure-local` serves
 * plain HTTP on 127.0.0.1 with nobody authenticated, and says so loudly.
 */
import { X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Eui64, parseEui } from '@smetsim/core'
import {
  createDcc,
  createDccHttpServer,
  createInProcessSigner,
  loadRegistrationFile,
  openSat,
  RegistrationData,
  SmartMeteringInventory,
  saveRegistrationFile,
  UserDirectory,
} from '@smetsim/dcc'
import { cellsFromKeystore, createDevice, type DeviceState, step } from '@smetsim/device'
import { type BackendName, getBackend } from '@smetsim/gbcs'
import {
  openKeystore,
  openRevocationList,
  type PartyEntry,
  REVOCATION_LIST,
  readPkiManifest,
  readTlsFiles,
  watchRevocationList,
} from '@smetsim/smki'

export interface ServeOptions {
  pki: string
  port: string
  data?: string
  cv5: boolean
  /** MP121 on: the registered supplier may obtain install codes (default off, as today). */
  mp121?: boolean
  /** Plain HTTP, no caller authenticated (loopback only). */
  insecureLocal?: boolean
  backend: BackendName
  /** DCC Boxed's keystore.json: its ZAZ1 XML signing certificates are accepted on DUIS too. */
  boxedKeystore?: string
  /** `EUI=URL`: where a User's asynchronous DUIS messages go. */
  duisEndpoint?: string[]
}

const INSECURE_BANNER = `
  !!! smetsim dcc serve --insecure-local: plain HTTP, callers are NOT authenticated.
  !!! Any local process can act as any User (name it in the RequestID), e.g. send a counter of
  !!! 2^64-1 that locks a supplier out of its meter. For quick loopback use only.
`

/** How often `serve` runs the DCC Schedule runs that have fallen due. */
const SCHEDULE_TICK_MS = 1000

const keyBytes = (key: { export(o: { format: 'jwk' }): { d?: string } } | undefined) => {
  const d = key?.export({ format: 'jwk' }).d
  return d ? new Uint8Array(Buffer.from(d, 'base64url')) : undefined
}

export async function serve(opts: ServeOptions): Promise<void> {
  const port = Number(opts.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`--port must be 0–65535, not '${opts.port}'`)
  const backend = getBackend(opts.backend)
  const manifest = readPkiManifest(opts.pki)
  const tls = opts.insecureLocal ? undefined : readTlsFiles(opts.pki, manifest)
  const store = openKeystore(opts.pki)
  const dataDir = opts.data ?? join(opts.pki, 'dcc-data')
  mkdirSync(dataDir, { recursive: true })

  const partiesOf = (role: PartyEntry['role']) => manifest.parties.filter((p) => p.role === role)
  const [acbParty] = partiesOf('accessControlBroker')
  const [cosParty] = partiesOf('transitionalCoS')
  if (!acbParty || !cosParty) throw new Error(`${opts.pki}: the PKI has no ACB or transitional CoS party`)
  const suppliers = partiesOf('supplier')
  const [networkOperator] = partiesOf('networkOperator')
  const privateRef = (eui: Eui64, usage: 'digitalSignature' | 'keyAgreement') => {
    const key = store.privateKey(eui, usage)
    if (!key) throw new Error(`${opts.pki} has no ${usage} private key for ${eui}`)
    return backend.importPrivateKey(key)
  }

  // Users, from the PKI's parties.
  const rolesOf = { supplier: ['IS', 'GS'], networkOperator: ['ED', 'GT'], otherUser: ['OU'] } as const
  const users = new UserDirectory(
    manifest.parties.flatMap((p) =>
      p.role in rolesOf
        ? [
            {
              userId: p.eui,
              name: p.name,
              roles: rolesOf[p.role as keyof typeof rolesOf],
              certificates: Object.values(p.files).map((f) => f.serial),
            },
          ]
        : [],
    ),
  )

  // Registration data and the inventory: made on first start, then read back.
  const registrationFile = join(dataDir, 'registration.json')
  let { registration, inventory } = loadRegistrationFile(registrationFile)
  if (!existsSync(registrationFile)) {
    registration = new RegistrationData()
    inventory = new SmartMeteringInventory()
    for (const [i, s] of suppliers.entries()) registration.assignMpid(`SUP${i + 1}`, s.eui, '2020-01-01')
    if (networkOperator) registration.assignMpid('NET1', networkOperator.eui, '2020-01-01')
    manifest.devices.forEach((d, i) => {
      const mpan = String(1_900_000_000_000 + i)
      if (suppliers.length > 0) registration.registerSupplier(mpan, 'SUP1', '2020-01-01')
      if (networkOperator) registration.registerNetworkOperator(mpan, 'NET1', '2020-01-01')
      inventory.add({ deviceId: d.eui, type: 'ESME', mpxn: mpan, status: 'Commissioned', at: '2020-01-02' })
    })
    saveRegistrationFile(registrationFile, { registration, inventory })
  }

  // The emulated ESMEs, provisioned from the PKI like the meters of the first supplier.
  const root = readFileSync(join(opts.pki, 'root.pem'), 'utf8')
  const cells = cellsFromKeystore(
    store,
    {
      ...(suppliers[0] && { supplier: suppliers[0].eui }),
      ...(networkOperator && { networkOperator: networkOperator.eui }),
      accessControlBroker: acbParty.eui,
      transitionalCoS: cosParty.eui,
    },
    root,
  )
  const devices = new Map<Eui64, DeviceState>()
  for (const d of manifest.devices) {
    const ds = keyBytes(store.privateKey(d.eui, 'digitalSignature'))
    const ka = keyBytes(store.privateKey(d.eui, 'keyAgreement'))
    devices.set(
      d.eui,
      createDevice({
        type: 'ESME',
        eui: d.eui,
        cells,
        keys: { ...(ds && { ds }), ...(ka && { ka }) },
        now: Date.now(),
      }),
    )
  }

  const sat = openSat(join(dataDir, 'sat.jsonl'), {
    onWarning: (m: string) => process.stderr.write(`smetsim dcc: ${m}\n`),
  })
  const certificatesOf = (eui: Eui64) => {
    const der = (usage: 'digitalSignature' | 'keyAgreement', prepayment = false) =>
      store.certificate(eui, usage, { prepayment })?.raw
    const ds = der('digitalSignature')
    const ka = der('keyAgreement')
    const pp = der('keyAgreement', true)
    if (!ds || !ka) return undefined
    return {
      digitalSigning: ds,
      keyAgreement: ka,
      ...(pp && { prepaymentTopUp: pp }),
      certificationPath: [
        new Uint8Array(new X509Certificate(readFileSync(join(opts.pki, 'org-ca.pem'))).raw),
      ],
    }
  }
  const signers = opts.cv5
    ? {}
    : Object.fromEntries(
        manifest.parties
          .filter((p) => p.role in rolesOf && p.files.digitalSignature)
          .map((p) => [p.eui, createInProcessSigner(privateRef(p.eui, 'digitalSignature'), backend)]),
      )
  // One revocation list for the pipeline (SMKI certificates) and the TLS layer, reloaded whenever
  // revoked.json is replaced.
  const revocation = openRevocationList(join(opts.pki, REVOCATION_LIST))
  const revocationWatch = watchRevocationList(revocation, {
    onReload: (entries) =>
      process.stderr.write(`smetsim dcc: revocation list reloaded (${entries.length} revoked)\n`),
    onError: (e) => process.stderr.write(`smetsim dcc: revocation list not reloaded: ${e.message}\n`),
  })
  let dcc: ReturnType<typeof createDcc>
  const stepDevice = (id: Eui64, bytes: Uint8Array) => {
    const device = devices.get(id)
    if (!device) return undefined
    const { state, outputs } = step(device, { kind: 'frame', bytes }, Date.now(), { backend })
    devices.set(id, state)
    for (const a of outputs.alerts) if (a.frame) queueMicrotask(() => dcc.deliverAlert(id, a.frame!))
    return outputs.response
  }
  dcc = createDcc({
    users,
    registration,
    inventory,
    sat,
    revocation,
    acb: { eui: acbParty.eui, kaPrivateKeyRef: privateRef(acbParty.eui, 'keyAgreement') },
    cos: {
      eui: cosParty.eui,
      signer: createInProcessSigner(privateRef(cosParty.eui, 'digitalSignature'), backend),
    },
    deviceKeyAgreement: (id) => {
      const cert = store.certificate(parseEui(id), 'keyAgreement')
      return cert && backend.importPublicKey(cert.publicKey)
    },
    userCertificates: certificatesOf,
    transport: async (id, bytes) => stepDevice(id, bytes),
    now: () => Date.now(),
    signers,
    backend,
    installCodes: { mp121: opts.mp121 === true },
  })

  // DCC Schedules (SR 5.1): the DCC has no timers of its own; here wall-clock time drives it.
  const scheduleTimer = setInterval(() => {
    dcc
      .runDueSchedules(Date.now())
      .catch((e: Error) => process.stderr.write(`smetsim dcc: schedules: ${e.message}\n`))
  }, SCHEDULE_TICK_MS)
  scheduleTimer.unref()

  const scheme = tls ? 'https' : 'http'
  const server = createDccHttpServer(dcc, sat, {
    servers: [`${scheme}://127.0.0.1:${port}`],
    ...(tls
      ? { tls: { key: tls.server.key, cert: tls.server.cert, ca: tls.ca }, revocation }
      : { insecureLocal: true }),
  })
  if (!tls) process.stderr.write(INSECURE_BANNER)
  // The DUIS XML interface on the same port (tools/cli/src/commands/duis.ts).
  const duisSummary = (await import('./duis.ts')).attachDuis(server, {
    dcc,
    sat,
    users,
    inventory,
    store,
    dccEui: acbParty.eui,
    ...(opts.boxedKeystore && { boxedKeystore: opts.boxedKeystore }),
    ...(opts.duisEndpoint && { endpoints: opts.duisEndpoint }),
  })
  const address = await server.listen({ host: '127.0.0.1', port })
  const first = manifest.tls?.clients.find((c) => c.identity.kind === 'user')
  process.stdout.write(
    `DCC listening on ${address} (OpenAPI: ${address}/openapi.json)\n` +
      `  Users: ${users.size}; emulated ESMEs: ${devices.size}; data: ${dataDir}; ` +
      `${opts.cv5 ? 'Critical requests wait for the CV5 signature' : 'Users sign in-process'}; ` +
      `MP121 install code hand-over ${opts.mp121 ? 'on' : 'off'}\n` +
      (tls && first
        ? `  callers authenticate with mutual TLS, e.g. curl --cert ${join(opts.pki, first.certificate)} ` +
          `--key ${join(opts.pki, first.privateKey)} --cacert ${join(opts.pki, manifest.tls!.ca.certificate)} ${address}/sat\n`
        : '  callers are NOT authenticated (--insecure-local)\n') +
      duisSummary,
  )
  const stop = async () => {
    clearInterval(scheduleTimer)
    revocationWatch.close()
    await server.close()
    sat.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/**
 * `smetsim dcc serve`: the DCC's HTTP API on 127.0.0.1 over a PKI made by `smetsim pki init`.
 *
 * The estate is built from the PKI: its suppliers (DUIS roles IS and GS, MPIDs SUP1, SUP2 …), its
 * network operator (ED, GT, MPID NET1) and other user (OU) are the Users; every device in the PKI
 * is an ESME on its own MPAN, or a GSME on its own MPRN where `--gsme` says, registered to the
 * first supplier (which installed it and lodged its install code) and the network operator. Each
 * runs in this process as an emulated meter (packages/device) behind a Communications Hub (CHF
 * and GPF, packages/hub; an ESME and the GSME listed right after it share one, `premisesOf`), in
 * the Smart Metering Inventory too; a GSME wakes every `--gsme-wake` minutes and collects what
 * waits for it in the GPF; the DCC reaches the hubs through the in-process WAN's head end:
 * its `transport`, also for SR 8.11 (CCS01 to the CHF as GBCS, MACed by the ACB with the CHF's key
 * kept in the estate: I0 with the CHF's response, the N24 DCC Alert, and the CHF's own 0x8F49 or
 * 0x8F48 alert saying whether the device joined), and device and hub alerts come back to `deliverAlert`. The
 * ESMEs are commissioned and on their hub's HAN, except those `--pending` names (SMI Pending and
 * not in the Device Log until an SR 8.11 adds them) and those `--uncommissioned` names (on the HAN,
 * SMI InstalledNotCommissioned until an SR 8.1.1 commissions them). Hubs and devices run on one scheduler that the
 * real-time driver (packages/core) moves with the wall clock, `--acceleration` times as fast (any
 * factor above 0; the driver moves it in whole milliseconds, as the firmware settles only at
 * integer instants): a prepayment meter's credit runs
 * down until it disconnects itself, and the ESMEs' billing calendar (the 1st of every month,
 * `MONTHLY_BILLING`) raises 0x8F0A. The DCC's clock is the scheduler's. Users sign their Critical requests in-process with the PKI's keys, unless `--cv5`
 * asks HTTP callers to sign (DUIS CV4/CV5).
 *
 * `--boxed-estate` (with `--boxed-keystore`) makes it DCC Boxed's estate instead: the Users, the
 * ACB and the transitional CoS party are DCC Boxed's ZAZ1 organisations from its keystore.json
 * (packages/duis `boxedOrganisations`), the ESMEs' trust anchor cells hold ZAZ1's certificates
 * and DUIS is signed with the ZAZ1 XML signing keys only; the PKI gives just the devices (make
 * them at the DUIS templates' EUIs, e.g. `pki init DIR --device 00DB1234567890A0`). A request the
 * DCC's signing tool signs with no key arguments then verifies, and a Critical one (CV4, the
 * Pre-Command signed with the ZAZ1 supplier's key, CV5) executes on the meter.
 *
 * DCC Schedules (SR 5.1–5.3) run on a one-second wall-clock tick (`runDueSchedules`); their
 * results are at GET /schedules/{userId}. The DCC's in-memory state (schedules among it) is kept in
 * the estate. The install
 * code register (GET/PUT /install-codes…) works with MP121 off.
 *
 * Under `--data`: the Service Audit Trail (sat.jsonl, fsync per record), the registration data
 * (registration.json, made on first start, read again after, saved with the estate) and the
 * estate (estate.cbor, dcc-estate.ts: every hub and device, and the DCC's in-memory state), saved every minute and on SIGINT or
 * SIGTERM and restored on start. An estate file that cannot be read is moved aside
 * (estate.cbor.unreadable-<time>) with a message saying why, and the estate starts fresh.
 *
 * Callers authenticate with mutual TLS: the server's certificate and the clients' (one per DCC
 * User, one for an auditor) are the PKI's tls/ credentials. The PKI's revocation list (revoked.json)
 * is watched: what `smetsim pki revoke` adds reaches this process at once, for the pipeline's
 * checks of SMKI certificates and for TLS client certificates alike. `--insecure-local` serves
 * plain HTTP on 127.0.0.1 with nobody authenticated, and says so loudly.
 */
import { type KeyObject, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { createRealTimeDriver, createScheduler, type Eui64, parseEui, toHex } from '@smetsim/core'
import {
  createDcc,
  createDccHttpServer,
  createInProcessSigner,
  exportDccState,
  loadRegistrationFile,
  type NewUser,
  openSat,
  RegistrationData,
  SmartMeteringInventory,
  saveRegistrationFile,
  type UserCertificates,
  UserDirectory,
} from '@smetsim/dcc'
import {
  cellsFromKeystore,
  createDevice,
  credentialFromCertificate,
  type TrustAnchorCells,
} from '@smetsim/device'
import { boxedOrganisations, readBoxedKeystore } from '@smetsim/duis'
import { type BackendName, getBackend } from '@smetsim/gbcs'
import { createInProcessWan, Hub } from '@smetsim/hub'
import {
  AUTHORITY_FILES,
  type Keystore,
  openKeystore,
  openRevocationList,
  type PartyEntry,
  REVOCATION_LIST,
  readPkiManifest,
  readTlsFiles,
  watchRevocationList,
} from '@smetsim/smki'
import {
  encodeEstate,
  type HubIdentity,
  hubEuis,
  installCodeFor,
  newScalar,
  premisesOf,
  type RestoredEstate,
  readEstateFile,
  writeEstateFile,
} from './dcc-estate.ts'

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
  /**
   * DCC Boxed's estate (needs `boxedKeystore`): its ZAZ1 Users, ACB and CoS party are the DCC's,
   * and the ESMEs trust ZAZ1's certificates; the PKI gives only the devices.
   */
  boxedEstate?: boolean
  /** `EUI=URL`: where a User's asynchronous DUIS messages go. */
  duisEndpoint?: string[]
  /** Also serve DUIS alone over plain HTTP on this port (DCC Boxed's way: XML signatures only). */
  duisHttpPort?: number
  /** PKI devices installed but not yet on their hub's HAN (SMI Pending): SR 8.11 adds them. */
  pending?: string[]
  /** PKI devices on their hub's HAN but not commissioned (SMI InstalledNotCommissioned): SR 8.1.1 commissions them. */
  uncommissioned?: string[]
  /** Virtual ms per wall ms for the devices' and the DCC's clock (default 1). */
  acceleration?: string
  /** PKI devices that are GSMEs (the rest are ESMEs). */
  gsme?: string[]
  /** Minutes between a GSME's radio wake-ups (default 30). */
  gsmeWake?: string
}

const INSECURE_BANNER = `
  !!! smetsim dcc serve --insecure-local: plain HTTP, callers are NOT authenticated.
  !!! Any local process can act as any User (name it in the RequestID), e.g. send a counter of
  !!! 2^64-1 that locks a supplier out of its meter. For quick loopback use only.
`

/** How often `serve` runs the DCC Schedule runs that have fallen due. */
const SCHEDULE_TICK_MS = 1000
/** The ESMEs' billing date: the 1st of every month at 00:00:00 (day only; the rest wildcards). */
const MONTHLY_BILLING = { hour: 0, minute: 0, second: 0, hundredths: 0, day: 1 }
/** How often `serve` saves the estate and the registration data (wall clock). */
const SAVE_EVERY_MS = 60_000

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
  // DCC Boxed's estate keeps its own registration data and estate (other Users, other anchors).
  const dataDir = opts.data ?? join(opts.pki, opts.boxedEstate ? 'dcc-data-boxed' : 'dcc-data')
  mkdirSync(dataDir, { recursive: true })

  if (opts.boxedEstate && !opts.boxedKeystore)
    throw new Error("--boxed-estate builds DCC Boxed's estate from its keystore: give --boxed-keystore too")
  const orgs = opts.boxedEstate
    ? boxedOrganisationsOf(opts.boxedKeystore!)
    : pkiOrganisations(opts.pki, manifest, store)
  const { suppliers, networkOperator } = orgs
  const users = new UserDirectory(orgs.users)

  const acceleration = Number(opts.acceleration ?? 1)
  // Any factor above 0 (0.5: half as fast): the driver maps the wall clock onto whole virtual ms.
  if (!(acceleration > 0) || !Number.isFinite(acceleration))
    throw new RangeError(`--acceleration must be a number above 0, not '${opts.acceleration}'`)
  const known = new Set(manifest.devices.map((d) => d.eui))
  const pending = new Set((opts.pending ?? []).map((e) => parseEui(e)))
  for (const e of pending) if (!known.has(e)) throw new Error(`--pending ${e}: not a device of the PKI`)
  const uncommissioned = new Set((opts.uncommissioned ?? []).map((e) => parseEui(e)))
  for (const e of uncommissioned) {
    if (!known.has(e)) throw new Error(`--uncommissioned ${e}: not a device of the PKI`)
    if (pending.has(e)) throw new Error(`${e}: --pending or --uncommissioned, not both`)
  }
  const gsmes = new Set((opts.gsme ?? []).map((e) => parseEui(e)))
  for (const e of gsmes) if (!known.has(e)) throw new Error(`--gsme ${e}: not a device of the PKI`)
  const gsmeWake = Number(opts.gsmeWake ?? 30)
  if (!Number.isSafeInteger(gsmeWake) || gsmeWake < 1)
    throw new RangeError(`--gsme-wake must be a whole number of minutes from 1, not '${opts.gsmeWake}'`)
  const typeOf = (eui: Eui64): 'ESME' | 'GSME' => (gsmes.has(eui) ? 'GSME' : 'ESME')
  const premises = premisesOf(
    manifest.devices.map((d) => d.eui),
    typeOf,
  )
  const hubOfPremises = hubEuis(
    premises.map((p) => p[0]!),
    new Set([...manifest.parties.map((p) => p.eui), ...orgs.users.map((u) => u.userId)]),
    manifest.devices.map((d) => d.eui),
  )
  const hubOf = new Map(premises.flatMap((p) => p.map((d) => [d, hubOfPremises.get(p[0]!)!] as const)))
  const installCode = (eui: Eui64) => installCodeFor(eui, keyBytes(store.privateKey(eui, 'keyAgreement')))

  // Registration data and the inventory: made on first start, then read back.
  const registrationFile = join(dataDir, 'registration.json')
  let { registration, inventory } = loadRegistrationFile(registrationFile)
  if (!existsSync(registrationFile)) {
    registration = new RegistrationData()
    inventory = new SmartMeteringInventory()
    for (const [i, s] of suppliers.entries()) registration.assignMpid(`SUP${i + 1}`, s, '2020-01-01')
    if (networkOperator) registration.assignMpid('NET1', networkOperator, '2020-01-01')
    manifest.devices.forEach((d, i) => {
      // An MPAN core (13 digits) for an ESME, an MPRN (10) for a GSME.
      const mpxn = String(typeOf(d.eui) === 'GSME' ? 7_000_000_000 + i : 1_900_000_000_000 + i)
      if (suppliers.length > 0) registration.registerSupplier(mpxn, 'SUP1', '2020-01-01')
      if (networkOperator) registration.registerNetworkOperator(mpxn, 'NET1', '2020-01-01')
      inventory.add({
        deviceId: d.eui,
        type: typeOf(d.eui),
        mpxn,
        status: pending.has(d.eui)
          ? 'Pending'
          : uncommissioned.has(d.eui)
            ? 'InstalledNotCommissioned'
            : 'Commissioned',
        at: '2020-01-02',
      })
    })
  }
  // Each meter's hub in the inventory, and its install code as its installer lodged it (also for
  // registration data an earlier `dcc serve`, without hubs, made).
  for (const d of manifest.devices) {
    const hub = hubOf.get(d.eui)!
    const esme = inventory.get(d.eui)
    if (!esme) continue
    if (esme.type !== typeOf(d.eui))
      throw new Error(
        `${registrationFile} has ${d.eui} as a ${esme.type}, but --gsme makes it a ${typeOf(d.eui)}: ` +
          'give the --gsme list it was made with, or a fresh --data',
      )
    if (esme.commsHub && esme.commsHub !== hub.chf)
      throw new Error(
        `${registrationFile} has ${d.eui} behind hub ${esme.commsHub}, but this --gsme list puts it behind ${hub.chf}: ` +
          'give the --gsme list it was made with, or a fresh --data',
      )
    const at = '2020-01-02'
    if (!inventory.get(hub.chf)) inventory.add({ deviceId: hub.chf, type: 'CHF', status: 'Commissioned', at })
    if (!inventory.get(hub.gpf))
      inventory.add({ deviceId: hub.gpf, type: 'GPF', commsHub: hub.chf, status: 'Commissioned', at })
    inventory.update(d.eui, {
      commsHub: hub.chf,
      ...(!esme.installCode && {
        installCode: toHex(installCode(d.eui)),
        installCodeSuppliedAt: at,
        ...(suppliers[0] && { installingSupplier: suppliers[0] }),
      }),
    })
  }
  saveRegistrationFile(registrationFile, { registration, inventory })

  // The estate: each ESME behind a Communications Hub of its own, all on one scheduler.
  const estateFile = join(dataDir, 'estate.cbor')
  const saved = readEstateFile(estateFile)
  if (!saved.ok && existsSync(estateFile)) {
    const aside = `${estateFile}.unreadable-${Date.now()}`
    renameSync(estateFile, aside)
    process.stderr.write(
      `smetsim dcc: ${estateFile} is not a saved estate (${saved.reason}); moved to ${aside}, starting a fresh estate\n`,
    )
  } else if (!saved.ok) process.stderr.write(`smetsim dcc: no saved estate in ${dataDir}: a fresh estate\n`)
  const restored: RestoredEstate | undefined = saved.ok ? saved.estate : undefined
  const scheduler = createScheduler({ start: Math.max(Date.now(), restored?.now ?? 0) })
  const wan = createInProcessWan(scheduler)
  const cells = orgs.cells
  // The CHF trusts the ACB for its Device Log commands (which other cells a CHF holds: unconfirmed).
  const chfCells = {
    ...(cells.root && { root: cells.root }),
    ...(cells.accessControlBrokerDs && { accessControlBrokerDs: cells.accessControlBrokerDs }),
    ...(cells.accessControlBrokerKa && { accessControlBrokerKa: cells.accessControlBrokerKa }),
  }
  const deviceCa = new X509Certificate(readFileSync(join(opts.pki, `${AUTHORITY_FILES.deviceCa}.pem`)))
  const hubs: { identity: HubIdentity; hub: Hub; devices: Eui64[] }[] = []
  for (const devices of premises) {
    const euis = hubOf.get(devices[0]!)!
    const back = restored?.hubs.get(devices[0]!)
    // The saved hub is this premises' when its EUIs and its devices are the same.
    const again =
      back &&
      back.chf === euis.chf &&
      back.gpf === euis.gpf &&
      back.devices.map((d) => d.device.eui).join() === devices.join()
        ? back
        : undefined
    const identity: HubIdentity = again ?? {
      ...euis,
      chfKa: newScalar(),
      gpfKeys: { ds: newScalar(), ka: newScalar() },
    }
    const hub = new Hub({
      scheduler,
      chf: { eui: identity.chf, ka: identity.chfKa, cells: chfCells },
      gpf: { eui: identity.gpf, keys: identity.gpfKeys },
      deviceCas: [deviceCa],
      uplink: wan.uplinkFor(identity.chf),
      backend,
      ...(again && { restore: again.state }),
    })
    wan.register(hub)
    for (const [i, eui] of devices.entries()) {
      const certificate = store.certificate(eui, 'keyAgreement')?.raw
      const attachAs = { ...(certificate && { certificate: new Uint8Array(certificate) }) }
      if (again) {
        hub.attach(again.devices[i]!.device, { ...attachAs, joined: again.devices[i]!.joined })
        continue
      }
      const ds = keyBytes(store.privateKey(eui, 'digitalSignature'))
      const ka = keyBytes(store.privateKey(eui, 'keyAgreement'))
      const code = installCode(eui)
      const type = typeOf(eui)
      hub.attach(
        createDevice({
          type,
          eui,
          cells,
          keys: { ...(ds && { ds }), ...(ka && { ka }) },
          installCode: code,
          // Billing Data Log alerts at midnight (UTC) on the 1st of every month: a modelling
          // choice; SR 6.8 (not built in the DCC) is how a supplier would set it.
          billingCalendar: { dates: [MONTHLY_BILLING] },
          ...(type === 'GSME' && { wakeIntervalMinutes: gsmeWake }),
          now: scheduler.now(),
        }),
        attachAs,
      )
      // Installed and commissioned: in its CHF's Device Log and on the HAN (as SR 8.11 put it there).
      const status = inventory.get(eui)?.status
      if (status === 'Commissioned' || status === 'InstalledNotCommissioned') {
        const joined = hub.addDevice({ deviceId: eui, deviceType: type, installCode: code })
        if (!joined.joined)
          process.stderr.write(`smetsim dcc: ${eui} did not join its hub's HAN: ${joined.reason}\n`)
      }
    }
    hubs.push({ identity, hub, devices })
  }
  const chfKeys = new Map(hubs.map(({ identity }) => [identity.chf, identity.chfKa]))
  const saveEstate = () => {
    try {
      writeEstateFile(estateFile, encodeEstate(scheduler.now(), hubs, exportDccState(dcc)))
      saveRegistrationFile(registrationFile, { registration, inventory })
    } catch (e) {
      process.stderr.write(`smetsim dcc: estate not saved: ${(e as Error).message}\n`)
    }
  }

  const sat = openSat(join(dataDir, 'sat.jsonl'), {
    onWarning: (m: string) => process.stderr.write(`smetsim dcc: ${m}\n`),
  })
  const signers = opts.cv5
    ? {}
    : Object.fromEntries(
        [...orgs.signingKeys].map(([eui, key]) => [
          eui,
          createInProcessSigner(backend.importPrivateKey(key), backend),
        ]),
      )
  // One revocation list for the pipeline (SMKI certificates) and the TLS layer, reloaded whenever
  // revoked.json is replaced.
  const revocation = openRevocationList(join(opts.pki, REVOCATION_LIST))
  const revocationWatch = watchRevocationList(revocation, {
    onReload: (entries) =>
      process.stderr.write(`smetsim dcc: revocation list reloaded (${entries.length} revoked)\n`),
    onError: (e) => process.stderr.write(`smetsim dcc: revocation list not reloaded: ${e.message}\n`),
  })
  const dcc = createDcc({
    users,
    registration,
    inventory,
    sat,
    revocation,
    acb: { eui: orgs.acb.eui, kaPrivateKeyRef: backend.importPrivateKey(orgs.acb.ka) },
    cos: {
      eui: orgs.cos.eui,
      signer: createInProcessSigner(backend.importPrivateKey(orgs.cos.ds), backend),
    },
    // A meter's from its PKI certificate; a CHF's (SR 8.11 as GBCS CCS01) from the key it was made with.
    deviceKeyAgreement: (id) => {
      const cert = store.certificate(parseEui(id), 'keyAgreement')
      if (cert) return backend.importPublicKey(cert.publicKey)
      const chfKa = chfKeys.get(id)
      return chfKa && backend.importPrivateKey(chfKa).publicKey
    },
    userCertificates: orgs.userCertificates,
    // The hub serving the device, as the Smart Metering Inventory has it (a CHF is its own).
    transport: async (id, bytes) => {
      const record = inventory.get(id)
      const hub = record?.type === 'CHF' ? id : record?.commsHub
      return hub ? wan.headEnd.send(hub, bytes) : undefined
    },
    now: () => scheduler.now(),
    signers,
    backend,
    installCodes: { mp121: opts.mp121 === true },
    // Schedules, alert queues, Pre-Commands awaiting CV5, the CoS counter, anomaly state.
    ...restored?.dcc?.config,
  })
  saveEstate()

  // Device, CHF and GPF alerts, as the head end hears them (each once).
  wan.headEnd.onAlert(({ from, bytes }) => {
    try {
      dcc.deliverAlert(from, bytes)
    } catch (e) {
      process.stderr.write(`smetsim dcc: alert from ${from} not delivered: ${(e as Error).message}\n`)
    }
  })
  // Time passes for the devices and hubs: the scheduler follows the wall clock from here, in
  // whole milliseconds (the driver rounds; the device firmware refuses a fractional instant).
  const driver = createRealTimeDriver(scheduler, {
    acceleration,
    onError: (e) =>
      process.stderr.write(`smetsim dcc: the estate's clock stopped: ${(e as Error).message}\n`),
  })
  driver.start()

  // DCC Schedules (SR 5.1): the DCC has no timers of its own; here a wall-clock tick drives it.
  const scheduleTimer = setInterval(() => {
    dcc
      .runDueSchedules(scheduler.now())
      .catch((e: Error) => process.stderr.write(`smetsim dcc: schedules: ${e.message}\n`))
  }, SCHEDULE_TICK_MS)
  scheduleTimer.unref()
  const saveTimer = setInterval(saveEstate, SAVE_EVERY_MS)
  saveTimer.unref()

  const scheme = tls ? 'https' : 'http'
  const server = createDccHttpServer(dcc, sat, {
    servers: [`${scheme}://127.0.0.1:${port}`],
    ...(tls
      ? { tls: { key: tls.server.key, cert: tls.server.cert, ca: tls.ca }, revocation }
      : { insecureLocal: true }),
  })
  if (!tls) process.stderr.write(INSECURE_BANNER)
  // The DUIS XML interface on the same port (tools/cli/src/commands/duis.ts).
  const duis = await (await import('./duis.ts')).attachDuis(server, {
    dcc,
    sat,
    users,
    inventory,
    // DCC Boxed's Users sign DUIS with their ZAZ1 XML signing keys only.
    ...(!opts.boxedEstate && { store }),
    dccEui: orgs.acb.eui,
    ...(opts.boxedKeystore && { boxedKeystore: opts.boxedKeystore }),
    ...(opts.duisEndpoint && { endpoints: opts.duisEndpoint }),
    ...(opts.duisHttpPort !== undefined && { plainHttpPort: opts.duisHttpPort }),
  })
  const address = await server.listen({ host: '127.0.0.1', port })
  const first = manifest.tls?.clients.find((c) => c.identity.kind === 'user')
  process.stdout.write(
    `DCC listening on ${address} (OpenAPI: ${address}/openapi.json)\n` +
      `  Users: ${users.size} (${orgs.source}); emulated ESMEs: ${manifest.devices.length - gsmes.size}, GSMEs: ${gsmes.size} ` +
      `(radio wake-ups every ${gsmeWake} min), behind ${hubs.length} Communications Hubs; data: ${dataDir}; ` +
      `${opts.cv5 ? 'Critical requests wait for the CV5 signature' : 'Users sign in-process'}; ` +
      `MP121 install code hand-over ${opts.mp121 ? 'on' : 'off'}; clock ×${acceleration}\n` +
      (tls && first
        ? `  callers authenticate with mutual TLS, e.g. curl --cert ${join(opts.pki, first.certificate)} ` +
          `--key ${join(opts.pki, first.privateKey)} --cacert ${join(opts.pki, manifest.tls!.ca.certificate)} ${address}/sat\n`
        : '  callers are NOT authenticated (--insecure-local)\n') +
      duis.summary,
  )
  const stop = async () => {
    clearInterval(scheduleTimer)
    clearInterval(saveTimer)
    driver.stop()
    saveEstate()
    revocationWatch.close()
    await duis.close()
    await server.close()
    sat.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/**
 * Whose DCC this is: its Users, the ACB and transitional CoS party it acts as, the certificates
 * its devices' trust anchor cells hold, and the keys that sign in-process — from a `pki init`
 * PKI, or from DCC Boxed's ZAZ1 keystore (`--boxed-estate`).
 */
interface Organisations {
  /** For the banner. */
  source: string
  users: NewUser[]
  /** Suppliers (MPIDs SUP1, SUP2 …; SUP1 is every device's registered and installing supplier). */
  suppliers: Eui64[]
  networkOperator: Eui64 | undefined
  acb: { eui: Eui64; ka: KeyObject }
  cos: { eui: Eui64; ds: KeyObject }
  cells: TrustAnchorCells
  /** The Users' digital signing keys (in-process signing of Critical requests, unless --cv5). */
  signingKeys: Map<Eui64, KeyObject>
  userCertificates(eui: Eui64): UserCertificates | undefined
}

/** The Users' roles by PKI party role. */
const PKI_ROLES = { supplier: ['IS', 'GS'], networkOperator: ['ED', 'GT'], otherUser: ['OU'] } as const

/** The PKI's organisations: its suppliers, network operator and other user as Users, its ACB and CoS. */
function pkiOrganisations(
  pki: string,
  manifest: ReturnType<typeof readPkiManifest>,
  store: Keystore,
): Organisations {
  const partiesOf = (role: PartyEntry['role']) => manifest.parties.filter((p) => p.role === role)
  const [acb] = partiesOf('accessControlBroker')
  const [cos] = partiesOf('transitionalCoS')
  if (!acb || !cos) throw new Error(`${pki}: the PKI has no ACB or transitional CoS party`)
  const key = (eui: Eui64, usage: 'digitalSignature' | 'keyAgreement') => {
    const k = store.privateKey(eui, usage)
    if (!k) throw new Error(`${pki} has no ${usage} private key for ${eui}`)
    return k
  }
  const suppliers = partiesOf('supplier').map((p) => p.eui)
  const networkOperator = partiesOf('networkOperator')[0]?.eui
  const userParties = manifest.parties.filter((p) => p.role in PKI_ROLES)
  const orgCa = new Uint8Array(new X509Certificate(readFileSync(join(pki, 'org-ca.pem'))).raw)
  return {
    source: `the PKI's parties`,
    users: userParties.map((p) => ({
      userId: p.eui,
      name: p.name,
      roles: PKI_ROLES[p.role as keyof typeof PKI_ROLES],
      certificates: Object.values(p.files).map((f) => f.serial),
    })),
    suppliers,
    networkOperator,
    acb: { eui: acb.eui, ka: key(acb.eui, 'keyAgreement') },
    cos: { eui: cos.eui, ds: key(cos.eui, 'digitalSignature') },
    cells: cellsFromKeystore(
      store,
      {
        ...(suppliers[0] && { supplier: suppliers[0] }),
        ...(networkOperator && { networkOperator }),
        accessControlBroker: acb.eui,
        transitionalCoS: cos.eui,
      },
      readFileSync(join(pki, 'root.pem'), 'utf8'),
    ),
    signingKeys: new Map(
      userParties.filter((p) => p.files.digitalSignature).map((p) => [p.eui, key(p.eui, 'digitalSignature')]),
    ),
    userCertificates: (eui) => {
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
        certificationPath: [orgCa],
      }
    },
  }
}

/**
 * DCC Boxed's ZAZ1 organisations (packages/duis `boxedOrganisations`): its Users, ACB and CoS
 * party, and the ZAZ1 certificates in every ESME's cells (no root cell: the keystore has no ZAZ1
 * root), so that what the DCC's signing tool signs with no key arguments verifies end to end.
 */
function boxedOrganisationsOf(keystore: string): Organisations {
  const o = boxedOrganisations(readBoxedKeystore(JSON.parse(readFileSync(keystore, 'utf8'))))
  const cells = Object.fromEntries(
    Object.entries(o.anchors).map(([cell, cert]) => [cell, credentialFromCertificate(cert)]),
  ) as TrustAnchorCells
  return {
    source: `DCC Boxed's ZAZ1, ${keystore}`,
    users: o.users,
    suppliers: o.users.filter((u) => u.roles.includes('IS')).map((u) => parseEui(u.userId)),
    networkOperator: o.networkOperator,
    acb: { eui: o.acb.eui, ka: o.acb.ka.privateKey },
    cos: { eui: o.cos.eui, ds: o.cos.privateKey },
    cells,
    signingKeys: o.signingKeys,
    userCertificates: o.userCertificates,
  }
}

/**
 * The `smetsim` command. Subcommands load their implementation only when run, so that
 * `smetsim --help` answers without loading the crypto and codec packages.
 */
import { Command, InvalidArgumentError, Option } from 'commander'

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0)
  throw e
})

const program = new Command('smetsim')
  .description(
    'Emulator of the GB smart-metering estate: SMETS2 devices, Communications Hubs, the DCC and SMKI.',
  )
  .showHelpAfterError()

program
  .command('demo')
  .description(
    "the main job: a quick real-time run over MQTT on the embedded broker (built-in fleet-smoke), then a Supplier's disorderly exit (built-in solr-disorderly-exit) on 10 000 premises under the four SoLR control settings; prints the comparisons and writes the reports",
  )
  .option('--premises <n>', 'premises to build', '10000')
  .option(
    '--out <dir>',
    "where report.json and report.html go (fleet-smoke's in <dir>/fleet-smoke)",
    'smetsim-report',
  )
  .action(async (opts) => (await import('./commands/scenario.ts')).demo(opts))

const scenario = program
  .command('scenario')
  .description('scenario runs: a fleet, a timeline of events, control settings, expectations')
scenario
  .command('list')
  .description('the built-in scenarios, a line each')
  .action(async () => (await import('./commands/scenario.ts')).list())
scenario
  .command('run')
  .description('run a scenario under each of its settings; exit 1 when an expectation fails')
  .argument('<scenario>', 'a scenario file (YAML or JSON) or a built-in scenario name')
  .option('--premises <n>', "premises to build (default: the scenario's)")
  .option('--seed <text>', "the fleet seed (default: the scenario's)")
  .option('--out <dir>', 'write report.json and report.html there')
  .option('--json', "stdout's last line: the runs keyed by setting, as one JSON object")
  .option(
    '--speed <x>',
    "real time: virtual time X times the wall clock; 'max': virtual time (default: the scenario's realTime, else virtual)",
  )
  .option(
    '--broker <url>',
    "the hubs over MQTT: 'embedded' (aedes, in-process) or a broker URL (default: in-process)",
  )
  .option(
    '--threads <n>',
    'virtual time: run the settings side by side on n worker threads, 1…64 (default: one per core)',
  )
  .action(async (file, opts) => (await import('./commands/scenario.ts')).run(file, opts))

const gbcs = program.command('gbcs').description('GBCS frames: decode, encode, verify')
gbcs
  .command('demo')
  .description(
    'make a test PKI, build a signed and MACed GBCS command (ECS44 Arm Supply) with its keys, then check it as the meter would',
  )
  .option('--pki <dir>', 'use (or make and keep) the PKI in this folder instead of a temporary one')
  .addOption(new Option('--backend <name>', 'crypto backend').choices(['native', 'noble']).default('native'))
  .action(async (opts) => (await import('./commands/demo.ts')).demo(opts))
gbcs
  .command('decode')
  .description('print a GBCS frame as JSON')
  .argument('<input>', "a file (hex, base64 or binary), a hex string, or '-' for standard input")
  .action(async (input) => (await import('./commands/gbcs.ts')).decode(input))
gbcs
  .command('encode')
  .description('read the JSON that decode prints on standard input and print the frame as hex')
  .action(async () => (await import('./commands/gbcs.ts')).encode())
gbcs
  .command('verify')
  .description('check signatures and MACs: one JSON line per message; exit 1 if anything is invalid')
  .requiredOption('--keystore <dir>', 'keystore in the RTDS layout (<eui>-ds.pem, <eui>-ka.key, ...)')
  .option('--acb <eui>', 'EUI of the Access Control Broker that MACs commands', '90B3D51F30000002')
  .addOption(new Option('--backend <name>', 'crypto backend').choices(['native', 'noble']).default('native'))
  .argument('<files...>', 'frame files (directories are walked for *.HEX)')
  .action(async (files, opts) => (await import('./commands/gbcs.ts')).verify(files, opts))
gbcs
  .command('check')
  .description('decode and re-encode frames, and report byte-exact round trips and use-case coverage')
  .argument('<files...>', 'frame files (directories are walked for *.HEX)')
  .option('--quiet', 'print only the summary', false)
  .action(async (files, opts) => (await import('./commands/gbcs.ts')).check(files, opts))

const pki = program
  .command('pki')
  .description('SMKI test PKI: certificates and keys in the RTDS keystore layout')
pki
  .command('init')
  .description(
    'create a test PKI: root, Organisation and Device CAs, two suppliers, a network operator, the ' +
      "DCC's ACB and CoS party, recovery, WAN provider, other user, and device certificates on request",
  )
  .argument('<dir>', 'folder to write (created if missing)')
  .option('--device <eui...>', 'issue device DS and KA certificates for these EUIs')
  .option('--device-count <n>', 'issue certificates for n devices numbered on from --first-device')
  .option('--first-device <eui>', 'EUI of the first of --device-count devices', '00DB120000000001')
  .option('--force', 'replace a PKI already in the folder', false)
  .action(async (dir, opts) => (await import('./commands/pki.ts')).init(dir, opts))
pki
  .command('show')
  .description('one JSON line per certificate in a PKI, with its revocation status')
  .argument('<dir>', 'a folder made by pki init')
  .action(async (dir) => (await import('./commands/pki.ts')).show(dir))
pki
  .command('revoke')
  .description(
    "add certificates to the PKI's revocation list (revoked.json), which the DCC consults (a running dcc serve at once)",
  )
  .argument('<dir>', 'a folder made by pki init')
  .option('--serial <hex...>', 'certificate serial numbers')
  .option('--eui <eui...>', "every certificate of these parties or devices (e.g. a failed supplier's)")
  .option(
    '--tls <who...>',
    "TLS client certificates (for the DCC's HTTP API) of these Users (EUI) or 'auditor'",
  )
  .option('--reason <text>', 'reason recorded with each entry')
  .action(async (dir, opts) => (await import('./commands/pki.ts')).revoke(dir, opts))

const device = program.command('device').description('emulated SMETS2 devices')
device
  .command('replay')
  .description(
    'feed GBCS frames to one emulated ESME or GSME and print, per frame, what it did: outcome, response, alerts, state',
  )
  .requiredOption('--keystore <dir>', "keystore in the RTDS layout, with the device's <eui>-ka.key")
  .requiredOption('--device <eui>', 'the device EUI')
  .addOption(new Option('--type <type>', 'device type').choices(['esme', 'gsme']).default('esme'))
  .option(
    '--supplier <eui>',
    "whose certificates fill the supplier cells (default the test PKI's supplier A)",
  )
  .option('--network-operator <eui>', 'whose certificates fill the network operator cells')
  .option('--acb <eui>', "the Access Control Broker's EUI")
  .option('--cos <eui>', "the transitional CoS party's EUI")
  .option('--root <file>', 'root certificate for the root cell (default <keystore>/root.pem when present)')
  .option(
    '--each',
    'replay each frame on a fresh device, so frames do not count as replays of each other',
    false,
  )
  .option(
    '--at <date-time>',
    'virtual time of the first frame (default now); each next frame one second later',
  )
  .addOption(new Option('--backend <name>', 'crypto backend').choices(['native', 'noble']).default('native'))
  .argument('<files...>', 'frame files (directories are walked for *.HEX)')
  .action(async (files, opts) => (await import('./commands/device.ts')).replay(files, opts))

const dcc = program
  .command('dcc')
  .description('the DCC: Service Requests, access control, the Service Audit Trail')
dcc
  .command('serve')
  .description(
    'serve the DCC HTTP API on 127.0.0.1 (mutual TLS) over a PKI made by pki init, with its devices emulated in-process behind a Communications Hub a premises',
  )
  .requiredOption(
    '--pki <dir>',
    'a folder made by smetsim pki init (its devices become emulated ESMEs, or GSMEs where --gsme says)',
  )
  .option('--port <n>', 'TCP port (0: any free one)', '8480')
  .option(
    '--data <dir>',
    'where the SAT, registration data and the estate (devices and hubs) are kept (default <pki>/dcc-data)',
  )
  .option(
    '--pending <eui...>',
    "PKI devices installed but not yet on their hub's HAN (SMI Pending): SR 8.11 adds them (first start only)",
  )
  .option(
    '--uncommissioned <eui...>',
    "PKI devices on their hub's HAN but not commissioned (SMI InstalledNotCommissioned): SR 8.1.1 commissions them (first start only)",
  )
  .option(
    '--gsme <eui...>',
    'PKI devices that are GSMEs; a GSME listed in the PKI right after an ESME shares its hub (first start only)',
  )
  .option('--gsme-wake <minutes>', "minutes between a GSME's radio wake-ups (whole)", '30')
  .option(
    '--acceleration <n>',
    "how many times as fast as the wall clock the estate's time runs (any number above 0, e.g. 0.5 or 3600)",
    '1',
  )
  .option(
    '--cv5',
    'make HTTP callers sign Critical requests (DUIS CV4/CV5) instead of signing in-process',
    false,
  )
  .option(
    '--mp121',
    "MP121: let the supplier registered for a device obtain the installing supplier's install code",
    false,
  )
  .option(
    '--insecure-local',
    'plain HTTP with NO caller authentication (any local process may act as any User); default: mutual TLS with the PKI tls/ certificates',
    false,
  )
  .option(
    '--boxed-keystore <file>',
    "DCC Boxed's keystore.json: accept its ZAZ1 XML signatures on DUIS, sign DUIS as its DSP",
  )
  .option(
    '--boxed-estate',
    "with --boxed-keystore: DCC Boxed's ZAZ1 estate. Its Users (supplier, supplier 2, network operator, other user), ACB and CoS party become the DCC's and every ESME trusts ZAZ1's certificates, so a request the DCC's signing tool signs with no key arguments verifies and its Critical command (CV4, then CV5) executes on the meter. The PKI gives only the devices; data default <pki>/dcc-data-boxed",
    false,
  )
  .option('--duis-endpoint <eui=url...>', "a User's endpoint for asynchronous DUIS responses and alerts")
  .option(
    '--duis-http-port <n>',
    "also serve DUIS alone over plain HTTP on 127.0.0.1:<n>, as DCC Boxed does (XML signatures authenticate; for DCC Boxed's clients)",
    (v: string) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port, 0–65535')
      return n
    },
  )
  .addOption(new Option('--backend <name>', 'crypto backend').choices(['native', 'noble']).default('native'))
  .action(async (opts) => (await import('./commands/dcc.ts')).serve(opts))

const duis = program
  .command('duis')
  .description('the DUIS XML interface: signed DUIS requests at DCC Boxed’s paths')
duis
  .command('send')
  .description(
    'sign a DUIS request (the RequestID counter becomes the time in ms, as the DCC signing tool does), POST it to the service its Command Variant names, print the checked, decoded response',
  )
  .argument('<file>', 'a DUIS request (XML; an existing signature is replaced)')
  .option(
    '--url <url>',
    'the DCC (https: mutual TLS with the PKI tls/ certificate of the signer)',
    'https://127.0.0.1:8480',
  )
  .option('--pki <dir>', "the test PKI whose keys sign (a User's digital signing key)", '.')
  .option('--boxed-keystore <file>', "DCC Boxed's keystore.json: sign with its ZAZ1 XML signing keys")
  .option('--sign-as <eui>', "whose key signs (default the RequestID's originator)")
  .option('--preserve-counter', 'keep the RequestID counter as written', false)
  .action(async (file, opts) => (await import('./commands/duis.ts')).send(file, opts))

program
  .command('bench')
  .description(
    'run the benchmark suites (default all: crypto, device, dcc, fleet), each as ratios to a baseline measured in the same run',
  )
  .argument('[suites...]', 'crypto, device, dcc, fleet')
  .option('--workers <n>', 'worker threads for the crypto suite: 1…n (default: the available parallelism)')
  .option(
    '--json',
    'one JSON object per figure on stdout (suite, name, unit, median, ratio, baseline); tables to stderr',
    false,
  )
  .option('--quick', 'shorter runs and smaller sizes: a smoke test', false)
  .action(async (suites, opts) => (await import('./commands/bench.ts')).bench(suites, opts))

const fleet = program
  .command('fleet')
  .description('a fleet of premises behind their Communications Hubs, served by a DCC')
fleet
  .command('up')
  .description(
    'build a fleet from a seed (or restore a snapshot), put every premise behind a Communications Hub, connect the hubs to a DCC, and run it',
  )
  .option('--premises <n>', 'premises to build', '20')
  .option('--seed <text>', 'the fleet seed (the same seed, the same fleet)', 'smetsim')
  .option(
    '--broker <url>',
    "MQTT between the hubs and the DCC: a broker URL, or 'embedded' for the built-in one (default: in-process)",
  )
  .option(
    '--speed <x>',
    "virtual time runs x times as fast as the wall clock (default, or 'max': virtual time, as fast as it goes)",
  )
  .option(
    '--for <duration>',
    'virtual time to run (30s, 2h, 1d, …); default 1d in virtual time, until stopped in real time',
  )
  .option(
    '--snapshot <file>',
    'restore the fleet from this file when it exists, and save it there (atomically) every --snapshot-every and when the run stops',
  )
  .option(
    '--snapshot-every <duration>',
    "with --snapshot: wall time between periodic snapshots (1s to 1d; default 60s; 'off': only when the run stops)",
  )
  .option('--metrics <file>', 'append the metrics as a JSON line at every status')
  .option(
    '--metrics-port <n>',
    'with --speed: serve the Prometheus text exposition at http://127.0.0.1:<n>/metrics (0: any free port)',
  )
  .option(
    '--port <n>',
    'with --speed and --tls: serve the DCC HTTP API for the fleet on 127.0.0.1 (mutual TLS; 0: any free port)',
  )
  .option(
    '--tls <dir>',
    "with --port: write the API's TLS CA and a client certificate per User and for an auditor here",
  )
  .option(
    '--shard <i/n>',
    'with --broker <url>: serve only the hubs of premises with index mod n = i-1 (shard 1 also runs the DCC and the API; start it first); without --speed the shards keep virtual time in lock-step windows on the broker',
  )
  .option(
    '--shard-timeout <duration>',
    'virtual-time shards: how long (wall clock) shard 1 waits for a shard to finish a window, and a shard to hear from shard 1, before failing',
    '30s',
  )
  .option(
    '--workers <n>',
    'virtual time only: split the hubs across n worker threads (shards k/n), the DCC in the main thread',
  )
  .option(
    '--no-households',
    "do not run the prepayment households' top-ups (UTRNs on the PPMID or keypad, the button when Armed)",
  )
  .option('--json', "print the summary as one JSON object on stdout's last line", false)
  .addOption(new Option('--backend <name>', 'crypto backend').choices(['native', 'noble']).default('native'))
  .action(async (opts) => (await import('./commands/fleet.ts')).up(opts))

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`smetsim: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 2
})

/**
 * The `smetsim` command. Subcommands load their implementation only when run, so that
 * `smetsim --help` answers without loading the crypto and codec packages.
 */
import { Command, Option } from 'commander'

const program = new Command('smetsim')
  .description(
    'Emulator of the GB smart-metering estate: SMETS2 devices, Communications Hubs, the DCC and SMKI.',
  )
  .showHelpAfterError()

program
  .command('demo')
  .description(
    'build a signed and MACed GBCS command (ECS44 Arm Supply) with fresh keys, then check it as the meter would',
  )
  .addOption(new Option('--backend <name>', 'crypto backend').choices(['native', 'noble']).default('native'))
  .action(async (opts) => (await import('./commands/demo.ts')).demo(opts))

const gbcs = program.command('gbcs').description('GBCS frames: decode, encode, verify')
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

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`smetsim: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 2
})

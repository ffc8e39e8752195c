/**
 * The fleet builder: premises from a seed (premise), materialised into devices and the DCC's
 * registration data (buildFleet), what a DCC needs to serve them (dccParts), snapshots (snapshotFleet / restoreFleet). See
 * README.md.
 */
export * from './build.ts'
export * from './consumer.ts'
export * from './dcc.ts'
export * from './households.ts'
export * from './identifiers.ts'
export * from './metrics.ts'
export * from './pki.ts'
export * from './premise.ts'
export * from './prometheus.ts'
export * from './run.ts'
export * from './run-snapshot.ts'
export * from './scenario/index.ts'
export * from './shard.ts'
export * from './shard-pki.ts'
export * from './shard-time.ts'
export * from './snapshot.ts'
export * from './spec.ts'
export * from './thread-cpu.ts'
export * from './workers.ts'

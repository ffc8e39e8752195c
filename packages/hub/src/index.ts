/** The Communications Hub: CHF, GPF, the HAN and the WAN adapters. See README.md. */
export * from './chf.ts'
export * from './device-log.ts'
export * from './gpf.ts'
export * from './hub.ts'
export * from './join-certificate.ts'
export * from './wan/in-process.ts'
export type * from './wan/types.ts'

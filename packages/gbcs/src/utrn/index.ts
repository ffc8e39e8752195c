/** GBCS UTRNs: prepayment top-up codes. See README.md in this folder. */
export * from './authenticate.ts'
export * from './check-digit.ts'
export * from './counter.ts'
export * from './mac.ts'
export * from './utrn.ts'

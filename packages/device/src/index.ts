/**
 * SMETS2 device firmware as pure state machines: ESME, GSME (and the PPMID's actions on them).
 * See README.md.
 */
export * from './authenticate.ts'
export * from './authority.ts'
export * from './cells.ts'
export * from './firmware.ts'
export * from './ppmid.ts'
export * from './prepayment/index.ts'
export * from './protect.ts'
export * from './provision.ts'
export * from './snapshot.ts'
export * from './state.ts'
export * from './top-up.ts'
export { EMULATED_MESSAGE_CODES } from './use-cases/index.ts'

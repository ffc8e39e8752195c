/**
 * The fleet builder: premises from a seed (premise). See README.md.
 */
export * from './identifiers.ts'
export * from './premise.ts'
export * from './spec.ts'

export * from './registration/index.ts'
export * from './roles.ts'
export * from './sat/index.ts'

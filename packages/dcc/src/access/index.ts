export * from './anomaly.ts'
export * from './check.ts'
export * from './permissions.ts'
export * from './users.ts'

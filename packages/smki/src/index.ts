export * from './keystore.ts'

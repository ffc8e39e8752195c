export * from './schema.ts'
export * from './xml.ts'
export * from './xmldsig.ts'

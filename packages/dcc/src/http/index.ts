export * from './openapi.ts'
export * from './schemas.ts'
export * from './server.ts'

export * from './bytes.ts'
export * from './eui.ts'
export * from './result.ts'

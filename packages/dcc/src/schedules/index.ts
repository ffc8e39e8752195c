export * from './schedule-index.ts'
export * from './schedules.ts'

/** Scenarios (issue 13): files, the runner, expectations and the report. See README "Scenarios". */
export * from './builtin.ts'
export * from './expect.ts'
export { renderHtmlReport } from './html.ts'
export * from './report.ts'
export * from './run.ts'
export * from './scenario.ts'

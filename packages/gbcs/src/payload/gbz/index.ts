/**
 * The GBZ payload family of GSME use cases: the GBZ header and components (ZigBee SE / ZCL
 * frames), the ZCL commands GBCS uses, and the use-case views.
 * See README.md for the structure shape and the use cases covered.
 */
export { CLUSTERS, GENERAL } from './commands.ts'
export { typeName as zclTypeName } from './data.ts'
export * from './gbz.ts'
export { GBZ_ALERT_NAMES, INTEGRITY_ISSUES, SUPPLY_STATUS, ZCL_STATUS } from './names.ts'
export {
  GBZ_ALERT_MESSAGE_CODES,
  GBZ_USE_CASES,
  gbzAlertCodec,
  gbzUseCases,
  type View as GbzView,
} from './use-cases.ts'

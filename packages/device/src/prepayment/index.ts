export { Alert } from './alerts.ts'
export {
  DAY_MS,
  HOUR_MS,
  inNonDisablement,
  MINUTE_MS,
  type NonDisablementPeriod,
  nextNonDisablementEdge,
  weekday,
} from './calendar.ts'
export {
  type Account,
  type AlertEvent,
  type AlertEvent as Event,
  activateEmergencyCredit,
  applyTopUp,
  combinedCredit,
  demandMilliwatts,
  Flag,
  type LoadProfile,
  NEXT_CHANGE_HORIZON_MS,
  newAccount,
  nextChange,
  type PaymentMode,
  type PrepaymentConfig,
  type PrepaymentContext,
  type Settlement,
  type Supply,
  settle,
  type Tariff,
} from './engine.ts'
export {
  dailyShape,
  FLAT_SHAPE,
  HOURS_PER_DAY,
  mulberry32,
  normalisePerMille,
  shapePerMille,
} from './shape.ts'

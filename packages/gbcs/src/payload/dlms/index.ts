/**
 * The DLMS COSEM payload family of ESME use cases: Access-Request (0xD9), Access-Response
 * (0xDA) and Data-Notification (0x0F) APDUs, their A-XDR Data, and the use-case views.
 * See README.md for the structure shape and the use cases covered.
 */
export * from './apdu.ts'
export * from './data.ts'
export {
  ACTION_RESULTS,
  ALERT_NAMES,
  CHARGE_NAMES,
  CREDIT_NAMES,
  DATA_ACCESS_RESULTS,
  dateTimeFromView,
  dateTimeToView,
  resultName,
} from './names.ts'
export {
  type CreditCharge,
  prepaymentCreditCharges,
  type SuspendDebtFlags,
  suspendDebtFlags,
} from './suspend-debt.ts'
export {
  DLMS_ALERT_MESSAGE_CODES,
  DLMS_USE_CASES,
  dlmsAlertCodec,
  dlmsUseCases,
  type View,
} from './use-cases.ts'

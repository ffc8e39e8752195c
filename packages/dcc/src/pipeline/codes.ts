/**
 * The DUIS response codes the Service Request pipeline answers with beyond access control's (E1 …
 * E19, EREVOKED, AD1: `access/check.ts`), and the SAT codes of the DCC Alerts it raises.
 *
 * Where the DUIS code is not known to us the code is a placeholder of ours, marked unconfirmed:
 * E11 for a request whose device type is not the one the Smart Metering Inventory holds; E20
 * transport failed; E21 no (usable) response; EMALFORMED, ESIGNATURE, ENOPRECOMMAND, ENOTBUILT,
 * EEXPIRED, EPARAMETERS, ENOSCHEDULE, ENOTOWNER, EHANLOG, ENOINSTALLCODE.
 */
import { NO_INSTALL_CODE_CODE } from '../registration/install-codes.ts'

/** DUIS: the request completed and the device's response is returned. */
export const SUCCESS_CODE = 'I0'
/** DUIS E20: DCC Systems cannot establish communications with the Device — here: the transport failed (threw). */
export const COMMS_FAILURE_CODE = 'E20'
/** DUIS E21: no response received from the Device — here: the transport returned none, or bytes that are not a GBCS response (unconfirmed). */
export const NO_RESPONSE_CODE = 'E21'
/** Placeholder (unconfirmed): a request the DCC cannot read — a malformed RequestID or sender ID. */
export const MALFORMED_REQUEST_CODE = 'EMALFORMED'
/** Placeholder (unconfirmed): a signed Pre-Command (CV5) that is not the one issued, or whose signature does not verify. */
export const SIGNATURE_INVALID_CODE = 'ESIGNATURE'
/** Placeholder (unconfirmed): a signed Pre-Command (CV5) for a RequestID with no Pre-Command awaiting signature. */
export const NO_PRE_COMMAND_CODE = 'ENOPRECOMMAND'
/** Placeholder (unconfirmed): access control accepted the SRV but the DCC has no GBCS command for it (or lacks a certificate it needs). */
export const NOT_BUILT_CODE = 'ENOTBUILT'
/** Placeholder (unconfirmed): a Pre-Command whose signature (CV5) did not come back in time. */
export const PRE_COMMAND_EXPIRED_CODE = 'EEXPIRED'
/** How long a Pre-Command waits for its signature by default (unconfirmed: a day). */
export const DEFAULT_PRE_COMMAND_TTL_MS = 86_400_000
/** Placeholder (unconfirmed): the SRV's parameters are not valid for its GBCS command. */
export const BAD_PARAMETERS_CODE = 'EPARAMETERS'
/** Placeholder (unconfirmed): SR 5.2 / 5.3 name a DCC Schedule the DCC does not hold (for that device). */
export const UNKNOWN_SCHEDULE_CODE = 'ENOSCHEDULE'
/** Placeholder (unconfirmed): SR 5.2 / 5.3 name another User's DCC Schedule. */
export const NOT_SCHEDULE_OWNER_CODE = 'ENOTOWNER'
/** Placeholder (unconfirmed): the CHF refused the SR 8.11 device log entry. */
export const HAN_LOG_REFUSED_CODE = 'EHANLOG'
export { NO_INSTALL_CODE_CODE }

/** DCC Alert types raised by the pipeline. */
export type DccAlertType =
  | 'ChangeOfSupplier'
  | 'SecurityCredentialsUpdated'
  | 'QuarantinedRequest'
  | 'UpdateHANDeviceLogResult'

/**
 * SAT `code` of each DCC Alert type: the DUIS DCC Alert codes are not known to us (except AD1,
 * itself unconfirmed), so these are placeholders short enough for a SAT code.
 */
export const DCC_ALERT_CODES: Readonly<Record<DccAlertType, string>> = {
  ChangeOfSupplier: 'ChangeOfSupplier',
  SecurityCredentialsUpdated: 'SecCredsUpdated',
  QuarantinedRequest: 'AD1',
  // DUIS DCC Alert N24 (DOMAIN.md 6, from the DUIS request matrix).
  UpdateHANDeviceLogResult: 'N24',
}

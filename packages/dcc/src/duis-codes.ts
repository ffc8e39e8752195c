/**
 * Every DUIS response code and DCC Alert code the DCC answers with, in one place. Each is a value
 * of the DUIS 5.4 XSD enumerations (`ResponseCode`, `DCCAlertCode`; `duis-codes.test.ts` checks
 * each constant against a copy of those values), so a DUIS client validating against the schema
 * accepts every answer.
 *
 * What each code means comes from one public source, "DCC Systems Response Codes"
 * (iananthony3000.wixsite.com/smets2reference-1/copy-of-esme-sr-list, DOMAIN.md [S8]), which covers
 * I0, I99, E1–E5, E11–E13, E17, E19–E21 and E30. The XSD also lists E31–E71, E100, E1000+ and the
 * SRV-specific codes (Eaabbnn for SR aa.bb, e.g. E062301 for SR 6.23), but their meanings are not
 * public to us. Where the DCC has a case none of the known meanings covers, it answers the
 * documented fallback below, marked "fallback"; where it uses an SRV's own family (E0501nn,
 * E0623nn, E0811nn) it is unconfirmed which member DUIS gives to that case. The table of cases,
 * codes and reasons is in packages/dcc/README.md ("DUIS codes").
 */

// --- outcomes ---

/** I0 Success: the request had a successful outcome (the device's response is returned). [S8] */
export const SUCCESS_CODE = 'I0'
/**
 * I99 Acknowledgement: received for sending to the device, accepted, passed access control [S8].
 * Also: a CV4 Pre-Command issued, a future-dated SR 6.23 the device acknowledged, and a request
 * quarantined by Threshold Anomaly Detection after access control (its QuarantinedRequest DCC
 * Alert, AD1, says so; unconfirmed whether DUIS acknowledges a quarantined request).
 */
export const ACKNOWLEDGED_CODE = 'I99'

// --- authorisation and validation ---

/**
 * E1 Failed Authorisation – Invalid User / User Role: "User / User Role combination is not a valid
 * SEC party / User Role" [S8]. Used for: a role the User does not hold; a Business Originator or
 * sender that is not a DCC User; and, as the fallback for "the request cannot be attributed to the
 * authenticated, valid SEC Party it names":
 *  - a RequestID or sender ID the DCC cannot read (MALFORMED_REQUEST_CODE);
 *  - a transport-authenticated caller that is not the request's sender (CALLER_MISMATCH_CODE, C1);
 *  - a signature or SMKI certificate that does not stand: revoked, not the sender's, not verifying
 *    (CERTIFICATE_REVOKED_CODE, SIGNATURE_INVALID_CODE). SEC Section L: a revoked Organisation
 *    Certificate no longer gives its holder the authority to send commands (seed 000: "SMKI
 *    Certificates provide the authority to communicate with, and send commands, to a meter").
 */
export const INVALID_USER_CODE = 'E1'
/** E2 Failed Authorisation – the User Role may not send this Service Reference. [S8] */
export const ROLE_NOT_PERMITTED_CODE = 'E2'
/** E3 Failed Authorisation – the User's status does not permit sending it. [S8] */
export const USER_STATUS_CODE = 'E3'
/** E4 Failed Authorisation – not an Eligible User for the device at the required date and time. [S8] */
export const NOT_ELIGIBLE_CODE = 'E4'
/** E5 Failed Authorisation – the device's SMI status is incompatible with the SRV. [S8] */
export const DEVICE_STATUS_CODE = 'E5'
/**
 * E11 Failed Validation – Invalid Service Request / device type combination [S8]; also the fallback
 * for a request the DCC cannot turn into a GBCS command for that device: an SRV it does not build
 * (NOT_BUILT_CODE) or parameters that make no valid command (BAD_PARAMETERS_CODE).
 */
export const WRONG_DEVICE_TYPE_CODE = 'E11'
/**
 * E12 Failed Validation – the Command Variant is not applicable to the request [S8]; also the
 * fallback for a signed Pre-Command (CV5) for which no Pre-Command awaits a signature (never
 * issued, used, superseded or expired: NO_PRE_COMMAND_CODE).
 */
export const COMMAND_VARIANT_CODE = 'E12'
/** E19 Failed Authorisation – the device does not exist: "Device ID invalid". [S8] */
export const UNKNOWN_DEVICE_CODE = 'E19'

// --- communications ---

/**
 * E20 Communications Failure – DCC Systems cannot establish communications with the device [S8]:
 * the transport failed, or the DCC lacks what it needs to reach the device (its key agreement
 * certificate, the hub's device log interface). Also the fallback for an internal fault of the DCC
 * (INTERNAL_FAULT_CODE): nothing was sent.
 */
export const COMMS_FAILURE_CODE = 'E20'
/** E21 Communications Failure – no response from the device (or none that is a GBCS response from it). [S8] */
export const NO_RESPONSE_CODE = 'E21'
/** E30 Time-out – a future-dated command whose outcome never came back. [S8] */
export const FUTURE_DATED_TIMEOUT_CODE = 'E30'

// --- fallbacks, named for the case (values from above) ---

/** Fallback E1: a RequestID (originator or counter) or sender ID the DCC cannot read. */
export const MALFORMED_REQUEST_CODE = INVALID_USER_CODE
/** E19 "Device ID invalid": a RequestID whose target part is not an EUI-64. */
export const MALFORMED_TARGET_CODE = UNKNOWN_DEVICE_CODE
/** Fallback E1: the transport-authenticated caller is not the request's sender (contract C1). */
export const CALLER_MISMATCH_CODE = INVALID_USER_CODE
/** Fallback E1: a revoked SMKI certificate (named, verifying the signature, or all of a party's). */
export const CERTIFICATE_REVOKED_CODE = INVALID_USER_CODE
/** Fallback E1: a User signature that does not verify with its certificate, or a CV5 that is not the Pre-Command issued. */
export const SIGNATURE_INVALID_CODE = INVALID_USER_CODE
/** Fallback E12: a CV5 for which no Pre-Command awaits a signature (also the SAT code of one expiring or superseded). */
export const NO_PRE_COMMAND_CODE = COMMAND_VARIANT_CODE
/** Fallback E12: the SAT code of a Pre-Command dropped unsigned (expired, superseded, or over the User's cap). */
export const PRE_COMMAND_EXPIRED_CODE = COMMAND_VARIANT_CODE
/** Fallback E11: an SRV the DCC accepts but builds no GBCS command for here. */
export const NOT_BUILT_CODE = WRONG_DEVICE_TYPE_CODE
/** Fallback E11: parameters that make no valid GBCS command for the device. */
export const BAD_PARAMETERS_CODE = WRONG_DEVICE_TYPE_CODE
/** Fallback E20: an internal fault of the DCC; nothing was sent to the device. */
export const INTERNAL_FAULT_CODE = COMMS_FAILURE_CODE
/** E2: a SoLR Contingency SR 1.6 setting any mode but Credit (MP134B, seed 001: "otherwise getting an error"). */
export const SOLR_CONTINGENCY_MODE_CODE = ROLE_NOT_PERMITTED_CODE

// --- SRV-specific families (unconfirmed which member DUIS uses for each case) ---

/** SR 5.1 Create Schedule: the schedule asked for is not valid or not allowed (E0501nn; first member). */
export const CREATE_SCHEDULE_CODE = 'E050101'
/**
 * SR 5.2 Read / 5.3 Delete Schedule: no such DCC Schedule of this User on this device (E0502nn /
 * E0503nn, first member). Another User's schedule gets the same answer as an unknown one, so the
 * answer tells nobody which schedule ids exist.
 */
export const SCHEDULE_NOT_FOUND_CODES: Readonly<Record<'5.2' | '5.3', string>> = {
  '5.2': 'E050201',
  '5.3': 'E050301',
}
/** SR 6.23: the DCC cannot build the CoS command for the gaining supplier (no certificates in the SMKI repository) (E0623nn). */
export const CHANGE_OF_SUPPLIER_CODE = 'E062301'
/** SR 8.11 (and the MP121 install code register that feeds it): an install code missing or invalid, or a device not on that CHF (E0811nn). */
export const HAN_DEVICE_LOG_REQUEST_CODE = 'E081101'
/** SR 8.11: the CHF refused the device log entry (E0811nn). */
export const HAN_LOG_REFUSED_CODE = 'E081102'
/** SR 8.11 and the install code register: no install code is held or given. */
export const NO_INSTALL_CODE_CODE = HAN_DEVICE_LOG_REQUEST_CODE

// --- DCC Alerts ---

/**
 * DCC Alert types the DCC raises: the names of the DUIS 5.4 XSD's `DCCAlert` choice elements.
 * CommandFailure: a SoLR Contingency command that failed (MP134B: DCC Alerts of failed commands go
 * to the sender).
 */
export type DccAlertType =
  | 'ChangeOfSupplier'
  | 'SecurityCredentialsUpdated'
  | 'QuarantinedRequest'
  | 'UpdateHANDeviceLogResult'
  | 'CommandFailure'

/**
 * The DCCAlertCode of each type, where it is known to us: N24 UpdateHANDeviceLogResult (the DUIS
 * request matrix's test data in SmartDCCInnovation/duis-parser pairs the two) and AD1
 * QuarantinedRequest (AD1 is in the enumeration; "anomaly detection" is our reading, unconfirmed).
 * Which N code DUIS gives ChangeOfSupplier, SecurityCredentialsUpdated and CommandFailure is not
 * public to us: those alerts carry no code (their type names them), never an invented one.
 */
export const DCC_ALERT_CODES: Readonly<Partial<Record<DccAlertType, string>>> = {
  QuarantinedRequest: 'AD1',
  UpdateHANDeviceLogResult: 'N24',
}

/** Every response code above, for the check against the XSD enumeration. */
export const RESPONSE_CODES_ANSWERED: readonly string[] = [
  ...new Set([
    SUCCESS_CODE,
    ACKNOWLEDGED_CODE,
    INVALID_USER_CODE,
    ROLE_NOT_PERMITTED_CODE,
    USER_STATUS_CODE,
    NOT_ELIGIBLE_CODE,
    DEVICE_STATUS_CODE,
    WRONG_DEVICE_TYPE_CODE,
    COMMAND_VARIANT_CODE,
    UNKNOWN_DEVICE_CODE,
    COMMS_FAILURE_CODE,
    NO_RESPONSE_CODE,
    FUTURE_DATED_TIMEOUT_CODE,
    CREATE_SCHEDULE_CODE,
    ...Object.values(SCHEDULE_NOT_FOUND_CODES),
    CHANGE_OF_SUPPLIER_CODE,
    HAN_DEVICE_LOG_REQUEST_CODE,
    HAN_LOG_REFUSED_CODE,
  ]),
]

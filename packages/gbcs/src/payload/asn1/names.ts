/**
 * Named values of the GBCS ASN.1 types the use-case views show (GBCS ASN.1 module; numbers
 * without a name here show as numbers).
 */
import { KEY_USAGE_BITS as SMKI_KEY_USAGE_BITS } from '@smetsim/smki'
import type { Names } from './schema.ts'

/** RemotePartyRole. */
export const REMOTE_PARTY_ROLES: Names = {
  0: 'root',
  1: 'recovery',
  2: 'supplier',
  3: 'networkOperator',
  4: 'accessControlBroker',
  5: 'transitionalCoS',
  6: 'wanProvider',
  7: 'issuingAuthority',
  127: 'other',
}

/** CredentialsReplacementMode; message code 0x0100 + mode is the CS02b variant. */
export const CREDENTIALS_REPLACEMENT_MODES: Names = {
  0: 'rootBySupplier',
  1: 'rootByWanProvider',
  2: 'supplierBySupplier',
  3: 'networkOperatorByNetworkOperator',
  4: 'accessControlBrokerByACB',
  5: 'wanProviderByWanProvider',
  6: 'transCoSByTransCoS',
  7: 'supplierByTransCoS',
  8: 'anyExceptAbnormalRootByRecovery',
  9: 'anyByContingency',
}

/** CellUsage (DEFAULT management: absent from the encoding when management). */
export const CELL_USAGES: Names = { 0: 'management', 1: 'prePaymentTopUp' }

/** SeqNumberUsage of a specialist sequence number. */
export const SEQ_NUMBER_USAGES: Names = { 0: 'prePaymentTopUp' }

/** The applyTimeBasedCPVChecks flag of AuthorisingRemotePartyControl. */
export const TIME_BASED_CPV_CHECKS: Names = { 0: 'apply', 1: 'disapply' }

/** KeyUsage (X.509) bit names, bit 0 first: the same list SMKI certificates are read with. */
export const KEY_USAGE_BITS: readonly string[] = SMKI_KEY_USAGE_BITS

/** StatusCode (the values GBCS uses of the RFC 5934 enumeration) of a trust anchor replacement. */
export const STATUS_CODES: Names = {
  0: 'success',
  5: 'badCertificate',
  10: 'noTrustAnchor',
  17: 'insufficientMemory',
  25: 'trustAnchorNotFound',
  30: 'resourcesBusy',
  127: 'other',
}

/** DeviceTimeStatus of the GCS28 response. */
export const DEVICE_TIME_STATUS: Names = { 0: 'reliable', 1: 'invalid', 2: 'unreliable' }

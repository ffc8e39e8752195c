/**
 * The ASN.1 DER payload family of the GBCS security use cases (CS02x, CS03x, CS04x, CS06, CS07,
 * GCS28, GCS59, GCS62 and their alerts): a byte-exact DER TLV tree, and the use-case views of
 * CS02b Update Security Credentials and GCS28 Set Clock. See README.md.
 */
export { ASN1_MESSAGE_CODES, asn1Family, type DerNode, decodeDer, encodeDer, looksLikeTag } from './der.ts'
export {
  CELL_USAGES,
  CREDENTIALS_REPLACEMENT_MODES,
  DEVICE_TIME_STATUS,
  KEY_USAGE_BITS,
  REMOTE_PARTY_ROLES,
  SEQ_NUMBER_USAGES,
  STATUS_CODES,
  TIME_BASED_CPV_CHECKS,
} from './names.ts'
export {
  ASN1_USE_CASES,
  asn1UseCases,
  SET_TIME_COMMAND,
  SET_TIME_RESPONSE,
  TRUST_ANCHOR_CELL_IDENTIFIER,
  UPDATE_SECURITY_CREDENTIALS,
  UPDATE_SECURITY_CREDENTIALS_ALERT,
  UPDATE_SECURITY_CREDENTIALS_RESPONSE,
  type View as Asn1View,
} from './use-cases.ts'

/**
 * SMKI organisation roles. An Organisation certificate names its holder's role as a two-digit
 * hex code in the subject OU; the CAs use 00 (root) and 07 (issuing CA). The trust anchor cell
 * numbers of GBCS (root 0 … wanProvider 6) are the same values.
 */

export const ROLE_CODES = {
  root: '00',
  recovery: '01',
  supplier: '02',
  networkOperator: '03',
  accessControlBroker: '04',
  transitionalCoS: '05',
  wanProvider: '06',
  issuingCa: '07',
  loadController: '08',
  otherUser: '7F',
  /** A user's DUIS XML signing certificate. */
  xmlSigning: '87',
  /** The DCC's own DUIS XML signing certificate (seen in DCC Boxed, EUI of the ACB). */
  dccXmlSigning: '89',
} as const

export type SmkiRole = keyof typeof ROLE_CODES
export type RoleCode = (typeof ROLE_CODES)[SmkiRole]

const byCode = new Map<string, SmkiRole>(
  Object.entries(ROLE_CODES).map(([role, code]) => [code, role as SmkiRole]),
)

/** The role for an OU value (any case), or undefined for a code this table does not know. */
export function roleFromCode(code: string): SmkiRole | undefined {
  return byCode.get(code.toUpperCase())
}

export function roleCode(role: SmkiRole): RoleCode {
  const code = ROLE_CODES[role]
  if (code === undefined) throw new RangeError(`not an SMKI role: '${role}'`)
  return code
}

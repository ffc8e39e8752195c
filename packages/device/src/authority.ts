/**
 * Which remote party may send which command, and which commands are Critical (must carry the
 * originator's signature). GBCS gives each use case its Critical flag and the roles that may
 * send it; the device checks both after the MAC, counter and signature.
 *
 * The table covers the use cases the emulated firmware executes. A command with any other
 * message code is still authenticated (its signature, when it carries one, is checked) but is
 * reported as not emulated and changes nothing but the anti-replay counter.
 */
import type { CellName, RemotePartyRole } from './cells.ts'

export type DeviceType = 'ESME' | 'GSME' | 'PPMID'

export interface CommandRule {
  /** GBCS use case, e.g. 'ECS44'. */
  useCase: string
  critical: boolean
  roles: readonly RemotePartyRole[]
  devices: readonly DeviceType[]
  /**
   * Whether the response is signed by the device (Critical commands, and every CS02b: RTDS
   * 4.5.0 signs the response to the MAC-only accessControlBrokerByACB too); otherwise it is MACed.
   */
  signedResponse: boolean
}

const S: readonly RemotePartyRole[] = ['supplier']
const SN: readonly RemotePartyRole[] = ['supplier', 'networkOperator']
const ESME: readonly DeviceType[] = ['ESME']
const GSME: readonly DeviceType[] = ['GSME']
const METERS: readonly DeviceType[] = ['ESME', 'GSME']

const rule = (useCase: string, critical: boolean, roles = S, devices = ESME): CommandRule => ({
  useCase,
  critical,
  roles,
  devices,
  signedResponse: critical || useCase === 'CS02b',
})

export const COMMAND_RULES: ReadonlyMap<number, CommandRule> = new Map([
  [0x0007, rule('CS01a', false)],
  [0x001a, rule('ECS02', true)],
  [0x001b, rule('ECS03', true)],
  [0x0020, rule('ECS09', true)],
  [0x0027, rule('ECS17b', false, SN)],
  [0x0028, rule('ECS17c', false, SN)],
  [0x0046, rule('ECS30', true)],
  [0x002d, rule('ECS19', false)],
  [0x004f, rule('ECS42', true)],
  [0x0050, rule('ECS43', true)],
  [0x0051, rule('ECS44', true)],
  [0x0052, rule('ECS45', false, SN)],
  [0x0062, rule('ECS70', true)],
  [0x006c, rule('GCS02', true, S, GSME)],
  [0x006d, rule('GCS03', true, S, GSME)],
  [0x0070, rule('GCS06', true, S, GSME)],
  [0x0074, rule('GCS13a', false, SN, GSME)],
  [0x007e, rule('GCS25', true, S, GSME)],
  [0x0075, rule('GCS14', false, S, GSME)],
  [0x007f, rule('GCS28', true, S, GSME)],
  [0x0081, rule('GCS32', true, S, GSME)],
  [0x0082, rule('GCS33', false, SN, GSME)],
  [0x0085, rule('GCS39', true, S, GSME)],
  [0x00d7, rule('ECS30a', true)],
  [0x00d8, rule('GCS25a', true, S, GSME)],
  [0x0102, rule('CS02b', true, S, METERS)],
  [0x0103, rule('CS02b', true, ['networkOperator'], METERS)],
  // accessControlBrokerByACB: MAC only, no signature (GBCS 13.3.3.1; RTDS 8.5 carries 0x00).
  [0x0104, rule('CS02b', false, ['accessControlBroker'], METERS)],
  [0x0106, rule('CS02b', true, ['transitionalCoS'], METERS)],
  [0x0107, rule('CS02b', true, ['transitionalCoS'], METERS)],
])

/**
 * The prepayment top-ups sent as commands: CS01a (ESME) and CS01b (GSME). Their Originator
 * Counter is the UTRN's prepayment top-up counter, not the supplier's command counter (every
 * RTDS 4.5.0 CS01a/CS01b counter is a multiple of 2^32; GBCS gives them "additional
 * cryptographic processing specified in GBCS Sections 14.3.4 and 14.3.5",
 * SmartDCCInnovation/duis-templates src/gbcs-mapping-table.json). The device checks them
 * against the top-up counter (top-up.ts) and neither checks nor moves the command counter.
 */
export const TOP_UP_MESSAGE_CODES: ReadonlySet<number> = new Set([0x0007, 0x0097])

/**
 * A CS02b credentials replacement mode: the message code is 0x0100 + the mode's number (the
 * message-code table of SmartDCCInnovation/gbcs-parser src/util.ts; RTDS 4.5.0 uses 0x0102,
 * 0x0103, 0x0104, 0x0105, 0x0106, 0x0107, 0x0108, 0x0109 with those modes).
 */
export interface ReplacementMode {
  /** GBCS CredentialsReplacementMode, as the command's payload must name it. */
  name: string
  /**
   * The cell of the party that authorises it, which authorisingRemotePartyTACellIdentifier must
   * name: the signature was checked against it. Undefined for accessControlBrokerByACB, which is
   * authorised by the ACB's MAC and omits the identifier (GBCS v0.8.1 13.3, Requirements for
   * AuthorisingRemotePartyControl elements: "always present unless the Access Control Broker is
   * replacing its own credentials").
   */
  authorisedBy: CellName | undefined
  /** The cells a command of this mode may replace; any other target refuses the command. */
  cells: readonly CellName[]
}

const SUPPLIER_CELLS: readonly CellName[] = ['supplierDs', 'supplierKa', 'supplierPrepaymentKa']

/**
 * The modes the firmware executes, by message code. Which cells each may replace follows the
 * mode's GBCS name (X by Y: the X cells, authorised by Y) and the replacements the RTDS 4.5.0
 * command of each mode carries: supplierBySupplier and supplierByTransCoS the three supplier
 * cells (6.15.1, 6.21, 6.23), networkOperatorByNetworkOperator the two network operator cells
 * (6.15.1, 6.21), accessControlBrokerByACB the ACB key agreement cell (8.5), transCoSByTransCoS
 * the transitional CoS cell. The full GBCS table (13.3) is not public here: that a mode may
 * replace nothing but its own role's cells is our reading of its name (unconfirmed). rootBySupplier,
 * rootByWanProvider and wanProviderByWanProvider are authenticated but not emulated (nothing is
 * replaced); anyExceptAbnormalRootByRecovery and anyByContingency come without an ACB MAC and
 * are refused at the MAC check (not emulated).
 */
export const REPLACEMENT_MODES: ReadonlyMap<number, ReplacementMode> = new Map([
  [0x0102, { name: 'supplierBySupplier', authorisedBy: 'supplierDs', cells: SUPPLIER_CELLS }],
  [
    0x0103,
    {
      name: 'networkOperatorByNetworkOperator',
      authorisedBy: 'networkOperatorDs',
      cells: ['networkOperatorDs', 'networkOperatorKa'],
    },
  ],
  [
    0x0104,
    {
      name: 'accessControlBrokerByACB',
      authorisedBy: undefined,
      cells: ['accessControlBrokerDs', 'accessControlBrokerKa'],
    },
  ],
  [0x0106, { name: 'transCoSByTransCoS', authorisedBy: 'transitionalCoSDs', cells: ['transitionalCoSDs'] }],
  [0x0107, { name: 'supplierByTransCoS', authorisedBy: 'transitionalCoSDs', cells: SUPPLIER_CELLS }],
] satisfies [number, ReplacementMode][])

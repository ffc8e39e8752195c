/**
 * Which remote party may send which command, and which commands are Critical (must carry the
 * originator's signature). GBCS gives each use case its Critical flag and the roles that may
 * send it; the device checks both after the MAC, counter and signature.
 *
 * The table covers the use cases the emulated firmware executes. A command with any other
 * message code is still authenticated (its signature, when it carries one, is checked) but is
 * reported as not emulated and changes nothing but the anti-replay counter.
 */
import type { RemotePartyRole } from './cells.ts'

export type DeviceType = 'ESME' | 'GSME' | 'PPMID'

export interface CommandRule {
  /** GBCS use case, e.g. 'ECS44'. */
  useCase: string
  critical: boolean
  roles: readonly RemotePartyRole[]
  devices: readonly DeviceType[]
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
})

export const COMMAND_RULES: ReadonlyMap<number, CommandRule> = new Map([
  [0x0007, rule('CS01a', false)],
  [0x001a, rule('ECS02', true)],
  [0x001b, rule('ECS03', true)],
  [0x0020, rule('ECS09', true)],
  [0x0027, rule('ECS17b', false, SN)],
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
  [0x0107, rule('CS02b', true, ['transitionalCoS'], METERS)],
])

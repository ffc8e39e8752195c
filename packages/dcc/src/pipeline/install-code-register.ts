/**
 * The DCC object's side of the MP121 install code register (the pure register is
 * `registration/install-codes.ts`): lodge and obtain at DCC time, against the DCC's Registration
 * Data, Smart Metering Inventory and User register, with `config.installCodes` (the `mp121`
 * switch, default off) read at every call so a scenario can flip it. Every answer, per device, is
 * a SAT `installCode` record — never with the code itself; a User ID that is not an EUI-64 leaves
 * no record (nobody to name).
 */

import { NO_INSTALL_CODE_CODE, SUCCESS_CODE } from '../duis-codes.ts'
import {
  DEFAULT_INSTALL_CODE_SETTINGS,
  type InstallCodeAnswer,
  lodgeInstallCode,
  obtainInstallCodes,
} from '../registration/install-codes.ts'
import type { ServiceAuditTrail } from '../sat/sat.ts'
import { userKey } from './context.ts'
import type { Dcc, DccConfig } from './types.ts'

export type InstallCodeRegister = Pick<Dcc, 'lodgeInstallCode' | 'obtainInstallCode' | 'obtainInstallCodes'>

export function createInstallCodeRegister({
  config,
  sat,
}: {
  config: DccConfig
  sat: ServiceAuditTrail
}): InstallCodeRegister {
  const installSources = () => ({
    registration: config.registration,
    inventory: config.inventory,
    users: config.users,
  })
  const installSettings = () => config.installCodes ?? DEFAULT_INSTALL_CODE_SETTINGS

  function auditInstallCode(user: string, action: 'lodge' | 'obtain', answers: InstallCodeAnswer[]) {
    const who = userKey(user)
    if (!who) return // unattributable: no SAT record can name a User
    if (answers.length === 0)
      sat.append({
        kind: 'installCode',
        user: who,
        code: NO_INSTALL_CODE_CODE,
        detail: { action, mp121: installSettings().mp121, reason: 'no devices asked for' },
      })
    for (const a of answers) {
      const device = userKey(a.deviceId)
      sat.append({
        kind: 'installCode',
        user: who,
        ...(device && { device }),
        code: a.ok ? SUCCESS_CODE : a.code,
        // Never the code itself.
        detail: {
          action,
          mp121: installSettings().mp121,
          ...(a.ok
            ? { grantedAs: a.grantedAs, ...(a.suppliedBy && { suppliedBy: a.suppliedBy }) }
            : { reason: a.reason }),
          ...(!device && { claimedDevice: String(a.deviceId) }),
        },
      })
    }
  }

  return {
    lodgeInstallCode: (userId, deviceId, installCode) => {
      const answer = lodgeInstallCode(installSources(), userId, deviceId, installCode, new Date(config.now()))
      auditInstallCode(userId, 'lodge', [answer])
      return answer
    },
    obtainInstallCode: (userId, deviceId) => {
      const [answer] = obtainInstallCodes(
        installSources(),
        installSettings(),
        userId,
        [deviceId],
        new Date(config.now()),
      )
      auditInstallCode(userId, 'obtain', [answer!])
      return answer!
    },
    obtainInstallCodes: (userId, deviceIds) => {
      const answers = obtainInstallCodes(
        installSources(),
        installSettings(),
        userId,
        Array.isArray(deviceIds) ? deviceIds : [],
        new Date(config.now()),
      )
      auditInstallCode(userId, 'obtain', answers)
      return answers
    },
  }
}

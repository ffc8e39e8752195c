/**
 * The Supplier of Last Resort controls as scenario switches (DOMAIN.md 4): what the DCC does
 * when a Supplier fails, under each of four settings.
 *
 * - `baseline`: at licence revocation the failed Supplier's SMKI certificates are revoked and its
 *   MPIDs transferred to the SoLR, both at once;
 * - `MP134A`: the SMKI PMA delays revocation (`revokeAt`, later than `at`); MPIDs move at once;
 * - `MP185`: Panel/PMA delay the MPID transfer (`transferAt`); the DCC does nothing about the
 *   failed Supplier meanwhile, so requests its Shared Resource Provider sends for it keep working;
 * - `MP134B`: the SRP gets the SoLR Contingency role (`SoLRC`) and the failed Supplier goes on the
 *   failed-supplier list; access control (src/access/check.ts) then allows only the SoLR
 *   Contingency SRVs (default SR 1.6), only for devices whose supplier is on that list, with an
 *   anomaly threshold of zero unless the DCC's anomaly configuration sets one for the SRP, the SAT
 *   recording the sender and responses going to it.
 *
 * `failSupplier(estate, options)` plans the timed actions (plain data: print them as they are) and
 * `advanceSolr(controller, now)` applies every action whose time has come to the estate — the
 * Registration Data (MPID transfer), the SMKI revocation list, the SoLR Contingency settings the
 * DCC was created with (the failed-supplier list, mutated in place) and the User register (role
 * grants). Nothing else happens: the plan is data, and applying it is idempotent per action.
 *
 * Modelling choices not confirmed by the seed documents are listed in each action's
 * `unconfirmed` and in SOLR_UNCONFIRMED.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import type { SolrContingencySettings } from './access/check.ts'
import type { DccUser } from './access/users.ts'
import type { RegistrationData } from './registration/registration.ts'
import { isoTime, type When } from './registration/time.ts'
import type { DuisRole } from './roles.ts'

export const SOLR_SETTINGS = ['baseline', 'MP134A', 'MP185', 'MP134B'] as const
export type SolrSetting = (typeof SOLR_SETTINGS)[number]

/** Modelling choices of this module that the seed documents do not settle. */
export const SOLR_UNCONFIRMED: readonly string[] = Object.freeze([
  'MP185 and MP134B: the failed Supplier\'s certificates are revoked together with the delayed MPID transfer (the seeds say only "not revoked meanwhile")',
  'MP134B is modelled on top of MP185 (delayed MPID transfer): once the MPIDs move, the failed-supplier list no longer matches the device and SoLRC requests get E4',
  'MP134B: the failed Supplier goes on the list and the SRP gets the SoLRC role at licence revocation (`at`)',
  'the MPIDs transferred are those the failed Supplier owns at `at`; all go to the one SoLR',
  'the certificates revoked are those listed for the failed Supplier in the User register at `at`',
  'the SoLR Contingency role is granted by adding SoLRC to the SRP’s roles; the SoLRC request is sent with the SRP as Business Originator',
  'a SoLRC request’s command goes to the meter as the failed Supplier’s (GBCS originator), signed with the failed Supplier’s key, which the SRP holds: the meter trusts no other certificate; the DCC verifies that signature with the failed Supplier’s certificate even once it is revoked',
  'a SoLRC command’s Originator Counter is the SRP’s RequestID counter: the meter refuses it (E21 at the DCC, replay on the device) unless it is above the failed Supplier’s last one, which the SRP must know (it ran the failed Supplier’s systems)',
])

export type SolrAction =
  | {
      kind: 'revokeCertificates'
      at: string
      supplier: Eui64
      serials: string[]
      unconfirmed?: string[]
    }
  | { kind: 'transferMpids'; at: string; from: Eui64; to: Eui64; mpids: string[]; unconfirmed?: string[] }
  | { kind: 'addFailedSupplier'; at: string; supplier: Eui64; unconfirmed?: string[] }
  | { kind: 'grantRole'; at: string; user: Eui64; role: DuisRole; unconfirmed?: string[] }

/** What the controller acts on: the DCC's own objects, shared with `createDcc`'s config. */
export interface SolrEstate {
  registration: Pick<RegistrationData, 'transferMpid' | 'mpidsOfUserAt'>
  users: { get(userId: string): DccUser | undefined }
  /** The SMKI revocation list (`openRevocationList` fits). */
  revocation?: { revoke(serial: string, details?: { reason?: string; at?: Date }): unknown }
  /** The very object given to `createDcc` as `solrContingency`: its failed-supplier list is extended in place. */
  solrContingency?: SolrContingencySettings
  /** Grants a User a role (see `grantableUsers`). */
  grantRole?(userId: Eui64, role: DuisRole): void
}

export interface FailSupplierOptions {
  setting: SolrSetting
  /** The failed Supplier (EUI-64). */
  supplier: string
  /** The Supplier of Last Resort (EUI-64). */
  solr: string
  /** Licence revocation. */
  at: When
  /** MP134A (required, after `at`); MP185 / MP134B: default `transferAt`. */
  revokeAt?: When
  /** MP185 and MP134B (required, after `at`): when Panel/PMA let the MPIDs move. */
  transferAt?: When
  /** MP134B (required): the Shared Resource Provider that gets the SoLR Contingency role. */
  srp?: string
}

export interface SolrController {
  readonly setting: SolrSetting
  readonly supplier: Eui64
  readonly solr: Eui64
  readonly at: string
  /** The plan, in time order. */
  readonly actions: readonly SolrAction[]
  /** Actions applied so far, in order. */
  readonly applied: readonly SolrAction[]
  readonly estate: SolrEstate
}

export class SolrError extends Error {
  override name = 'SolrError'
}

/** Plans the SoLR actions for a Supplier failing at `at` under `setting`; nothing is applied yet. */
export function failSupplier(estate: SolrEstate, options: FailSupplierOptions): SolrController {
  const { setting } = options
  if (!(SOLR_SETTINGS as readonly string[]).includes(setting))
    throw new SolrError(`unknown SoLR setting '${String(setting)}' (${SOLR_SETTINGS.join(', ')})`)
  const supplier = parseEui(options.supplier)
  const solr = parseEui(options.solr)
  if (supplier === solr) throw new SolrError('the SoLR cannot be the failed Supplier')
  const at = isoTime(options.at, 'at')
  const later = (value: When | undefined, name: string): string => {
    if (value === undefined) throw new SolrError(`${setting} needs ${name}`)
    const t = isoTime(value, name)
    if (Date.parse(t) <= Date.parse(at)) throw new SolrError(`${name} (${t}) must be after at (${at})`)
    return t
  }
  const user = estate.users.get(supplier)
  if (!user) throw new SolrError(`failed Supplier ${supplier} is not a DCC User`)
  const mpids = estate.registration.mpidsOfUserAt(supplier, at)
  const serials = [...user.certificates]

  const revoke = (when: string, unconfirmed?: string[]): SolrAction => ({
    kind: 'revokeCertificates',
    at: when,
    supplier,
    serials,
    ...(unconfirmed && { unconfirmed }),
  })
  const transfer = (when: string): SolrAction => ({
    kind: 'transferMpids',
    at: when,
    from: supplier,
    to: solr,
    mpids,
  })

  const actions: SolrAction[] = []
  switch (setting) {
    case 'baseline':
      actions.push(revoke(at), transfer(at))
      break
    case 'MP134A':
      actions.push(transfer(at), revoke(later(options.revokeAt, 'revokeAt')))
      break
    case 'MP185':
    case 'MP134B': {
      const transferAt = later(options.transferAt, 'transferAt')
      const revokeAt = options.revokeAt === undefined ? transferAt : later(options.revokeAt, 'revokeAt')
      if (setting === 'MP134B') {
        if (options.srp === undefined) throw new SolrError('MP134B needs srp')
        const srp = parseEui(options.srp)
        if (!estate.users.get(srp)) throw new SolrError(`SRP ${srp} is not a DCC User`)
        actions.push(
          { kind: 'addFailedSupplier', at, supplier, unconfirmed: ['added at licence revocation'] },
          { kind: 'grantRole', at, user: srp, role: 'SoLRC', unconfirmed: ['granted at licence revocation'] },
        )
      }
      actions.push(transfer(transferAt))
      actions.push(
        revoke(
          revokeAt,
          options.revokeAt === undefined ? ['revoked with the delayed MPID transfer'] : undefined,
        ),
      )
      break
    }
  }
  // Stable sort: same-time actions keep the order above.
  actions.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
  const applied: SolrAction[] = []
  return { setting, supplier, solr, at, actions, applied, estate }
}

/** Applies, in order, every planned action due at `now` not applied yet; returns those applied now. */
export function advanceSolr(controller: SolrController, now: When): SolrAction[] {
  const t = Date.parse(isoTime(now, 'now'))
  const applied = controller.applied as SolrAction[]
  const due = controller.actions.filter((a) => Date.parse(a.at) <= t && !applied.includes(a))
  for (const action of due) {
    applyAction(controller.estate, action)
    applied.push(action)
  }
  return due
}

/** Actions planned but not applied yet. */
export function pendingSolrActions(controller: SolrController): SolrAction[] {
  return controller.actions.filter((a) => !controller.applied.includes(a))
}

function applyAction(estate: SolrEstate, action: SolrAction): void {
  switch (action.kind) {
    case 'revokeCertificates': {
      if (!estate.revocation)
        throw new SolrError('the estate has no revocation list to revoke certificates on')
      for (const serial of action.serials)
        estate.revocation.revoke(serial, {
          reason: 'SoLR: supplier licence revoked',
          at: new Date(action.at),
        })
      return
    }
    case 'transferMpids':
      for (const mpid of action.mpids) estate.registration.transferMpid(mpid, action.to, action.at)
      return
    case 'addFailedSupplier': {
      const list = estate.solrContingency?.failedSuppliers
      if (!list || Object.isFrozen(list))
        throw new SolrError(
          'the estate needs its own (unfrozen) solrContingency settings for the failed-supplier list',
        )
      if (!list.some((s) => parseEui(s) === action.supplier)) list.push(action.supplier)
      return
    }
    case 'grantRole':
      if (!estate.grantRole) throw new SolrError('the estate cannot grant roles (see grantableUsers)')
      estate.grantRole(action.user, action.role)
  }
}

/** One line per action, for logs and test output. */
export function describeSolrAction(action: SolrAction): string {
  const note = action.unconfirmed?.length ? ` (unconfirmed: ${action.unconfirmed.join('; ')})` : ''
  switch (action.kind) {
    case 'revokeCertificates':
      return `${action.at} revoke ${action.serials.length} certificate(s) of ${action.supplier}${note}`
    case 'transferMpids':
      return `${action.at} transfer MPIDs ${action.mpids.join(', ') || '(none)'} from ${action.from} to ${action.to}${note}`
    case 'addFailedSupplier':
      return `${action.at} add ${action.supplier} to the failed-supplier list${note}`
    case 'grantRole':
      return `${action.at} grant ${action.role} to ${action.user}${note}`
  }
}

/**
 * A User register with role grants on top: `get` answers with the granted roles added, so it can
 * be given to `createDcc` as `users` and its `grantRole` to the SoLR estate.
 */
export function grantableUsers(users: { get(userId: string): DccUser | undefined }): {
  get(userId: string): DccUser | undefined
  grantRole(userId: Eui64, role: DuisRole): void
} {
  const grants = new Map<Eui64, Set<DuisRole>>()
  return {
    get(userId) {
      const user = users.get(userId)
      if (!user) return undefined
      const extra = grants.get(user.userId)
      return extra ? { ...user, roles: [...new Set([...user.roles, ...extra])] } : user
    },
    grantRole(userId, role) {
      const id = parseEui(userId)
      if (!users.get(id)) throw new SolrError(`User ${id} is not registered`)
      const set = grants.get(id) ?? new Set<DuisRole>()
      set.add(role)
      grants.set(id, set)
    },
  }
}

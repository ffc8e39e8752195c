/**
 * DCC Users as access control sees them: the User ID (EUI-64, the Business Originator ID of
 * DUIS RequestIDs), a name, the DUIS User Roles the User holds (IS, ES, GS, ED, GT, RSA, OU, and
 * MP134B's SoLR Contingency role `SoLRC` for a Shared Resource Provider), the User's status, the
 * serials of its SMKI Organisation Certificates (checked against the SMKI revocation list), and
 * the Business Originators a Shared Resource Provider may send Service Requests for.
 *
 * User statuses (modelling assumption, unconfirmed): `active` may send; `suspended` (SEC Section
 * M suspension of a User's rights) and `withdrawn` (ceased to be a User) may not — DUIS E3.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import { normaliseSerial } from '@smetsim/smki'
import { DUIS_ROLES, type DuisRole, isDuisRole } from '../roles.ts'

export const USER_STATUSES = ['active', 'suspended', 'withdrawn'] as const
export type UserStatus = (typeof USER_STATUSES)[number]

export interface DccUser {
  userId: Eui64
  name: string
  roles: DuisRole[]
  status: UserStatus
  /** Serials (normalised upper-case hex) of the User's SMKI Organisation Certificates. */
  certificates: string[]
  /**
   * Users (Business Originators) this User may send Service Requests for, as a Shared Resource
   * Provider does for small Suppliers. Empty for a User that only sends its own.
   */
  sendsFor: Eui64[]
}

export interface NewUser {
  userId: string
  name: string
  roles: readonly DuisRole[]
  status?: UserStatus
  certificates?: readonly (string | bigint)[]
  sendsFor?: readonly string[]
}

export interface UsersSnapshot {
  version: 1
  users: DccUser[]
}

export class UserError extends Error {
  override name = 'UserError'
}

/** The DCC's register of Users. Records handed out are copies. */
export class UserDirectory {
  private readonly users = new Map<Eui64, DccUser>()

  constructor(snapshot?: UsersSnapshot | NewUser[]) {
    if (!snapshot) return
    const list = Array.isArray(snapshot) ? snapshot : snapshot.users
    if (!Array.isArray(snapshot) && (snapshot.version !== 1 || !Array.isArray(snapshot.users)))
      throw new UserError('users snapshot: expected { version: 1, users: [...] }')
    list.forEach((user, i) => {
      try {
        this.add(user)
      } catch (e) {
        throw new UserError(`users snapshot: users[${i}]: ${(e as Error).message}`)
      }
    })
  }

  add(user: NewUser): DccUser {
    if (typeof user !== 'object' || user === null) throw new UserError('a User must be an object')
    const userId = parseEui(String(user.userId))
    if (this.users.has(userId)) throw new UserError(`User ${userId} is already registered`)
    if (typeof user.name !== 'string' || !user.name)
      throw new UserError(`User ${userId}: name must be a non-empty string`)
    if (!Array.isArray(user.roles)) throw new UserError(`User ${userId}: roles must be an array`)
    for (const role of user.roles)
      if (!isDuisRole(role))
        throw new UserError(`User ${userId}: '${String(role)}' is not a DUIS role (${DUIS_ROLES.join(', ')})`)
    const status = user.status ?? 'active'
    if (!(USER_STATUSES as readonly string[]).includes(status))
      throw new UserError(`User ${userId}: unknown status '${status}' (${USER_STATUSES.join(', ')})`)
    const record: DccUser = {
      userId,
      name: user.name,
      roles: [...new Set(user.roles)],
      status,
      certificates: [...new Set((user.certificates ?? []).map((s) => normaliseSerial(s)))],
      sendsFor: [...new Set((user.sendsFor ?? []).map((u) => parseEui(u)))],
    }
    this.users.set(userId, record)
    return copy(record)
  }

  get(userId: string): DccUser | undefined {
    let eui: Eui64
    try {
      eui = parseEui(userId)
    } catch {
      return undefined
    }
    const record = this.users.get(eui)
    return record && copy(record)
  }

  setStatus(userId: string, status: UserStatus): DccUser {
    const record = this.record(userId)
    if (!(USER_STATUSES as readonly string[]).includes(status))
      throw new UserError(`User ${record.userId}: unknown status '${status}'`)
    record.status = status
    return copy(record)
  }

  /** Records a newly issued SMKI certificate of the User (a replacement keeps the old serial listed). */
  addCertificate(userId: string, serial: string | bigint): DccUser {
    const record = this.record(userId)
    const key = normaliseSerial(serial)
    if (!record.certificates.includes(key)) record.certificates.push(key)
    return copy(record)
  }

  /** Who holds this certificate serial, if anyone. */
  holderOf(serial: string | bigint): DccUser | undefined {
    const key = normaliseSerial(serial)
    for (const user of this.users.values()) if (user.certificates.includes(key)) return copy(user)
    return undefined
  }

  all(): DccUser[] {
    return [...this.users.values()].map(copy)
  }

  get size(): number {
    return this.users.size
  }

  snapshot(): UsersSnapshot {
    return { version: 1, users: this.all() }
  }

  private record(userId: string): DccUser {
    const record = this.users.get(parseEui(userId))
    if (!record) throw new UserError(`User ${parseEui(userId)} is not registered`)
    return record
  }
}

function copy(user: DccUser): DccUser {
  return {
    ...user,
    roles: [...user.roles],
    certificates: [...user.certificates],
    sendsFor: [...user.sendsFor],
  }
}

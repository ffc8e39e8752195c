/**
 * Registration Data as the DCC receives it from the Registration Data Providers: for each
 * MPxN (an MPAN for electricity, an MPRN for gas) the registered supplier and the network
 * operator, each by market participant ID (MPID) with the date it takes effect, and which DCC
 * User owns each MPID from when. The registered supplier User of an MPxN at a time is the owner
 * of the registered supplier MPID at that time, so an MPID transfer (as to a Supplier of Last
 * Resort) moves every MPxN registered to that MPID at once.
 *
 * A Change of Supplier is a new supplier registration from the Supply Start Date. ISO times
 * compare as text, which is why they are normalised with Date.toISOString.
 */
import { type Eui64, parseEui } from '@smetsim/core'
import { effectiveAt, insertByFrom, isoTime, type When } from './time.ts'

export type Fuel = 'electricity' | 'gas'

export interface MpidRegistration {
  /** ISO time it takes effect (the Supply Start Date for a supplier). */
  from: string
  mpid: string
}

export interface MeteringPoint {
  mpxn: string
  fuel: Fuel
  suppliers: MpidRegistration[]
  networkOperators: MpidRegistration[]
}

export interface MpidOwnership {
  from: string
  user: Eui64
}

/** The plain-JSON form, as saved to a file. */
export interface RegistrationSnapshot {
  version: 1
  meteringPoints: MeteringPoint[]
  mpids: { mpid: string; owners: MpidOwnership[] }[]
}

/** A registration resolved to its User at a time. `user` is absent when nobody owns the MPID then. */
export interface RegisteredParty {
  mpxn: string
  mpid: string
  /** When this registration took effect. */
  from: string
  user?: Eui64
}

export class RegistrationError extends Error {
  override name = 'RegistrationError'
}

/** MPAN core: 13 digits. MPRN: 6 to 10 digits. Check digits are not verified. */
export function fuelOf(mpxn: string): Fuel {
  if (/^\d{13}$/.test(mpxn)) return 'electricity'
  if (/^\d{6,10}$/.test(mpxn)) return 'gas'
  throw new RegistrationError(`not an MPAN (13 digits) or MPRN (6-10 digits): '${mpxn}'`)
}

function checkMpid(mpid: string): string {
  if (!/^[A-Z0-9]{2,8}$/.test(mpid)) throw new RegistrationError(`not a market participant ID: '${mpid}'`)
  return mpid
}

export class RegistrationData {
  private readonly points = new Map<string, MeteringPoint>()
  private readonly owners = new Map<string, MpidOwnership[]>()

  constructor(snapshot?: RegistrationSnapshot) {
    if (!snapshot) return
    if (snapshot.version !== 1 || !Array.isArray(snapshot.meteringPoints) || !Array.isArray(snapshot.mpids))
      throw new RegistrationError(
        'registration snapshot: expected { version: 1, meteringPoints: [...], mpids: [...] }',
      )
    for (const { mpid, owners } of snapshot.mpids)
      for (const owner of owners) this.assignMpid(mpid, owner.user, owner.from)
    for (const point of snapshot.meteringPoints) {
      if (fuelOf(point.mpxn) !== point.fuel)
        throw new RegistrationError(`registration snapshot: ${point.mpxn} is not ${point.fuel}`)
      for (const r of point.suppliers) this.registerSupplier(point.mpxn, r.mpid, r.from)
      for (const r of point.networkOperators) this.registerNetworkOperator(point.mpxn, r.mpid, r.from)
    }
  }

  /** Registers the supplier MPID of an MPxN from `from`; a later `from` is a Change of Supplier. */
  registerSupplier(mpxn: string, mpid: string, from: When): void {
    insertByFrom(this.point(mpxn).suppliers, { from: isoTime(from, 'supply start'), mpid: checkMpid(mpid) })
  }

  /**
   * A Change of Supplier: the gaining supplier's MPID is registered from the Supply Start Date.
   * Refused when the MPxN has no supplier yet or the gaining MPID is already the registered one then.
   */
  changeOfSupplier(mpxn: string, gainingMpid: string, supplyStartDate: When): void {
    const start = isoTime(supplyStartDate, 'Supply Start Date')
    const losing = effectiveAt(this.points.get(mpxn)?.suppliers, start)
    if (!losing)
      throw new RegistrationError(`change of supplier for ${mpxn}: no registered supplier to change from`)
    if (losing.mpid === gainingMpid)
      throw new RegistrationError(`change of supplier for ${mpxn}: ${gainingMpid} is already its supplier`)
    this.registerSupplier(mpxn, gainingMpid, start)
  }

  registerNetworkOperator(mpxn: string, mpid: string, from: When): void {
    insertByFrom(this.point(mpxn).networkOperators, {
      from: isoTime(from, 'effective from'),
      mpid: checkMpid(mpid),
    })
  }

  /** Gives an MPID to a User from `from`. */
  assignMpid(mpid: string, user: string, from: When): void {
    let history = this.owners.get(checkMpid(mpid))
    if (!history) {
      history = []
      this.owners.set(mpid, history)
    }
    insertByFrom(history, { from: isoTime(from, 'MPID owned from'), user: parseEui(user) })
  }

  /** Moves an MPID to another User at `at` (MPID transfer, as to a SoLR). The MPID must have an owner then. */
  transferMpid(mpid: string, to: string, at: When): void {
    const when = isoTime(at, 'MPID transfer')
    const current = this.mpidOwnerAt(mpid, when)
    if (!current) throw new RegistrationError(`MPID ${mpid} has no owner at ${when} to transfer from`)
    if (current === parseEui(to)) throw new RegistrationError(`MPID ${mpid} already belongs to ${current}`)
    this.assignMpid(mpid, to, when)
  }

  mpidOwnerAt(mpid: string, at: When): Eui64 | undefined {
    return effectiveAt(this.owners.get(mpid), isoTime(at, 'at'))?.user
  }

  /** The MPIDs a User owns at `at`. */
  mpidsOfUserAt(user: string, at: When): string[] {
    const eui = parseEui(user)
    return [...this.owners.keys()].filter((mpid) => this.mpidOwnerAt(mpid, at) === eui).sort()
  }

  registeredSupplierAt(mpxn: string, at: When): RegisteredParty | undefined {
    return this.resolve(mpxn, this.points.get(mpxn)?.suppliers, at)
  }

  networkOperatorAt(mpxn: string, at: When): RegisteredParty | undefined {
    return this.resolve(mpxn, this.points.get(mpxn)?.networkOperators, at)
  }

  meteringPoint(mpxn: string): MeteringPoint | undefined {
    const point = this.points.get(mpxn)
    return point && structuredClone(point)
  }

  snapshot(): RegistrationSnapshot {
    return structuredClone({
      version: 1 as const,
      meteringPoints: [...this.points.values()],
      mpids: [...this.owners].map(([mpid, owners]) => ({ mpid, owners })),
    })
  }

  private resolve(
    mpxn: string,
    history: MpidRegistration[] | undefined,
    at: When,
  ): RegisteredParty | undefined {
    const when = isoTime(at, 'at')
    const entry = effectiveAt(history, when)
    if (!entry) return undefined
    const user = this.mpidOwnerAt(entry.mpid, when)
    return { mpxn, mpid: entry.mpid, from: entry.from, ...(user ? { user } : {}) }
  }

  private point(mpxn: string): MeteringPoint {
    let point = this.points.get(mpxn)
    if (!point) {
      point = { mpxn, fuel: fuelOf(mpxn), suppliers: [], networkOperators: [] }
      this.points.set(mpxn, point)
    }
    return point
  }
}

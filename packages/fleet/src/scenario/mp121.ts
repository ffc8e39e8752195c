/**
 * Commissioning after a Change of Supplier (seed 002, MP121; DOMAIN.md 4): devices installed but
 * not commissioned while the DCC has 90 days to bring the WAN to their hub; a Change of Supplier
 * in that window leaves the gaining Supplier without the install code (the installing Supplier
 * holds it), so its SR 8.11 Update HAN Device Log fails and only a site visit is left. MP121: the
 * installing Supplier supplies the code "in writing or other agreed means" within an SLA (5
 * working days proposed, 10 suggested).
 *
 * What "commissioned" is here: SR 8.11 puts a meter in its CHF's Device Log with an install code
 * and the meter joins the HAN if the code is its own (packages/hub: the CHF checks the code and
 * the meter's KA Device Certificate); the meter stays InstalledNotCommissioned in the Smart
 * Metering Inventory until SR 8.1.1 Commission Device (ECS70 / GCS28, packages/dcc
 * pipeline/commission.ts) sets its clock and the DCC moves it to Commissioned. A gaining
 * Supplier's Critical 8.1.1 is signed with its own key, which the meter does not trust while its
 * cells hold the installing Supplier's: it sends SR 6.23 (CoS) first. No SR here commissions a
 * CHF or GPF (they stay InstalledNotCommissioned) and a PPMID's HAN join is not modelled, so the
 * figures count ESMEs and GSMEs.
 *
 * Events (times from the fleet's start; `after` from a premise's WAN fix):
 * - `wanFixed { from, over }`: the DCC brings the WAN to each InstalledNotCommissioned premise's
 *   hub at `from` plus a share of `over` drawn from the fleet seed for the premise ('wan-fixed').
 *   The fleet's hubs are on the (in-process) WAN from bring-up whatever their install state, so
 *   the fix is when the Suppliers can first reach the hub: nothing is sent to it before.
 * - `supplierCommissions { after }`: `after` a premise's WAN fix, the Supplier then registered for
 *   each of its meters (`registration.registeredSupplierAt`) gets the meter's install code and
 *   sends SR 8.11 (ESME as IS, GSME as GS) with it, or without one when it has none; a meter
 *   that joined gets SR 6.23 from a Supplier that is not the installing one, then SR 8.1.1. Each
 *   step waits for the answer to the one before and stops on anything but I0 (a refused 8.11 is
 *   not tried again: the fix the seed names is a site visit).
 * - `mp121 { slaWorkingDays }`: MP121 on (the DCC's install code register, `installCodes.mp121`):
 *   a gaining Supplier that asks has the installing Supplier's code `slaWorkingDays` working days
 *   later (Monday to Friday, UTC; bank holidays not counted). Absent: MP121 off (the SEC today),
 *   and the register refuses a gaining Supplier at once (E4).
 * - `commissioningWindowCloses { at }`: the end of the DCC's 90 days (the premises were installed
 *   at the fleet's start). Nothing more is sent after it; a meter not Commissioned by then leaves
 *   its premise needing a site visit.
 *
 * The installing Supplier's own code is the one it lodged at installation (the fleet's inventory,
 * MP121's register): it reads it back from the register as the installing Supplier, which is
 * never refused. A premise is "gained" when, at the window's close, the Supplier registered for
 * its MPAN is not the installing one (cos.ts `changeOfSupplier` with
 * `install: installedNotCommissioned`), "kept" otherwise.
 */
import type { Eui64 } from '@smetsim/core'
import { DAY_MS, SUCCESS_CODE } from '@smetsim/dcc'
import { drawWords, fleetKey, unit } from '../draws.ts'
import type { FleetRun } from '../run.ts'
import { durationMs } from './duration.ts'
import { eventsOf, FIELD, metersOf, type PremiseMeter, type ScenarioPart, supplierRole } from './part.ts'

export type Mp121Event =
  | { event: 'wanFixed'; from: string; over: string }
  | { event: 'supplierCommissions'; after: string }
  | { event: 'mp121'; slaWorkingDays: number }
  | { event: 'commissioningWindowCloses'; at: string }

const { duration } = FIELD

/** `n` working days (Monday to Friday, UTC) after `t`, at the same time of day. */
export function addWorkingDays(t: number, n: number): number {
  let d = t
  for (let k = 0; k < n; ) {
    d += DAY_MS
    const weekday = new Date(d).getUTCDay()
    if (weekday !== 0 && weekday !== 6) k++
  }
  return d
}

type Group = 'gained' | 'kept'
const GROUPS: readonly Group[] = ['gained', 'kept']
const GROUP_TEXT: Record<Group, string> = {
  gained: "gaining Supplier's (moved while InstalledNotCommissioned)",
  kept: "installing Supplier's own (not moved)",
}
const PER_GROUP = {
  Premises: 'InstalledNotCommissioned premises',
  Devices: 'their meters (ESME, GSME)',
  DevicesJoined: "of those meters, on their hub's HAN when the window closed (SR 8.11 with the right code)",
  DevicesCommissioned: 'of those meters, Commissioned in the SMI when the window closed (SR 8.1.1)',
  PremisesSiteVisit: 'of those premises, with a meter not Commissioned when the window closed (a site visit)',
  InstallCodesRefused:
    "install code requests the register refused (E4: MP121 off, or not the meter's Supplier)",
  HanLogRefused: 'SR 8.11s answered other than I0 (commands.8.11.<code> says why)',
  MedianDaysToCommission:
    "median days from a premise's WAN fix to its last meter Commissioned, over those fully Commissioned (0: none)",
} as const

const METRICS: Record<string, string> = {
  premisesWanLate: 'InstalledNotCommissioned premises whose WAN was fixed only after the window closed',
}
for (const g of GROUPS)
  for (const [k, text] of Object.entries(PER_GROUP)) METRICS[`${g}${k}`] = `${GROUP_TEXT[g]}: ${text}`

const EVENTS = ['wanFixed', 'supplierCommissions', 'mp121', 'commissioningWindowCloses'] as const

export const mp121Part: ScenarioPart = {
  name: 'Commissioning after CoS (MP121)',
  events: {
    wanFixed: { fields: { from: duration, over: duration } },
    supplierCommissions: { fields: { after: duration } },
    mp121: { fields: { slaWorkingDays: { type: 'integer', minimum: 0, maximum: 250 } } },
    commissioningWindowCloses: { fields: { at: duration } },
  },
  once: EVENTS,
  metrics: METRICS,
  check(timeline) {
    const missing = EVENTS.filter((e) => e !== 'mp121' && !timeline.some((x) => x.event === e))
    return missing.length
      ? [`commissioning after CoS needs ${missing.map((e) => `'${e}'`).join(', ')} as well`]
      : []
  },

  setUp({ fleet, timeline, start, end }) {
    const one = <E extends Mp121Event['event']>(e: E) =>
      eventsOf<Extract<Mp121Event, { event: E }>>(timeline, e)[0]
    const wan = one('wanFixed')!
    const commissions = one('supplierCommissions')!
    const mp121 = one('mp121')
    const closeAt = start + durationMs(one('commissioningWindowCloses')!.at)!
    if (closeAt > end)
      throw new Error(
        `the commissioning window closes on day ${(closeAt - start) / DAY_MS}, after the run ends`,
      )
    const wanFrom = start + durationMs(wan.from)!
    const wanOver = durationMs(wan.over)!
    const after = durationMs(commissions.after)!
    // Read by the DCC at every register call.
    const installCodes = { mp121: mp121 !== undefined }

    type Site = { index: number; chf: Eui64; installer: Eui64; wanAt: number; meters: PremiseMeter[] }
    const key = fleetKey(fleet.spec.seed)
    const sites: Site[] = []
    for (let i = 0; i < fleet.size; i++) {
      const p = fleet.premise(i)!
      if (p.install !== 'installedNotCommissioned') continue
      const meters = metersOf(p)
      sites.push({
        index: i,
        chf: p.chf,
        installer: (fleet.inventory.get(p.esme)?.installingSupplier ?? p.supplierEui) as Eui64,
        wanAt: wanFrom + Math.floor(wanOver * unit(drawWords(key, i, 'wan-fixed')[0]!)),
        meters,
      })
    }

    const counts: Record<string, number> = {}
    const add = (name: string) => {
      counts[name] = (counts[name] ?? 0) + 1
    }
    const groupOf = (s: Site): Group =>
      fleet.registration.registeredSupplierAt(s.meters[0]!.mpxn, new Date(closeAt))?.user === s.installer
        ? 'kept'
        : 'gained'
    /** When each meter's SR 8.1.1 came back I0 with the meter Commissioned. */
    const commissionedAt = new Map<Eui64, number>()
    let atClose: Record<string, number> | undefined
    /** The figures as they stand (taken when the window closes). */
    const figures = (run: FleetRun) => {
      const c: Record<string, number> = { premisesWanLate: 0 }
      const days: Record<Group, number[]> = { gained: [], kept: [] }
      for (const g of GROUPS) for (const k of Object.keys(PER_GROUP)) c[`${g}${k}`] = 0
      for (const s of sites) {
        const g = groupOf(s)
        const hub = run.hub(s.index)
        c[`${g}Premises`]!++
        if (s.wanAt >= closeAt) c.premisesWanLate!++
        let all = true
        let last = 0
        for (const m of s.meters) {
          c[`${g}Devices`]!++
          if (hub?.isJoined(m.eui)) c[`${g}DevicesJoined`]!++
          if (fleet.inventory.get(m.eui)?.status === 'Commissioned') {
            c[`${g}DevicesCommissioned`]!++
            last = Math.max(last, commissionedAt.get(m.eui) ?? closeAt)
          } else all = false
        }
        if (!all) c[`${g}PremisesSiteVisit`]!++
        else days[g].push((last - s.wanAt) / DAY_MS)
      }
      for (const g of GROUPS) c[`${g}MedianDaysToCommission`] = median(days[g])
      return c
    }

    return {
      dcc: { installCodes },
      description: `${sites.length} InstalledNotCommissioned premises, WAN fixed from day ${(wanFrom - start) / DAY_MS} over ${wanOver / DAY_MS} days; MP121 ${mp121 ? `on, codes ${mp121.slaWorkingDays} working days after asking` : 'off'}; window closes on day ${(closeAt - start) / DAY_MS}`,

      play({ at, send, run, scheduler }) {
        const open = () => scheduler.now() < closeAt

        const commission = (m: PremiseMeter, user: Eui64) => {
          if (!open()) return
          void send('8.1.1', user, m.eui, {
            role: supplierRole(m.type),
            srv: '8.1.1',
            commandVariant: 4,
            deviceType: m.type,
          }).then((r) => {
            if (r.code === SUCCESS_CODE && fleet.inventory.get(m.eui)?.status === 'Commissioned')
              commissionedAt.set(m.eui, scheduler.now())
          })
        }
        const addToLog = (s: Site, m: PremiseMeter, user: Eui64, installCode: string | undefined) => {
          if (!open()) return
          void send('8.11', user, s.chf, {
            role: supplierRole(m.type),
            srv: '8.11',
            commandVariant: 1,
            deviceType: 'CHF',
            parameters: { deviceId: m.eui, ...(installCode && { installCode }) },
          }).then((r) => {
            if (r.code !== SUCCESS_CODE) return add(`${groupOf(s)}HanLogRefused`)
            if (!r.hanDeviceLog?.joined) return
            if (user === s.installer) return commission(m, user)
            // A gaining Supplier: the meter trusts it once SR 6.23 has replaced the Supplier cells.
            if (!open()) return
            void send('6.23', user, m.eui, {
              role: supplierRole(m.type),
              srv: '6.23',
              commandVariant: 1,
              deviceType: m.type,
            }).then((c) => {
              if (c.code === SUCCESS_CODE) commission(m, user)
            })
          })
        }
        /** The register's answer to `user` for meter `m` now: the code, or undefined (counted). */
        const codeFrom = (s: Site, m: PremiseMeter, user: Eui64) => {
          const answer = run.dcc.obtainInstallCode(user, m.eui)
          if (answer.ok) return answer.installCode
          add(`${groupOf(s)}InstallCodesRefused`)
          return undefined
        }

        for (const s of sites)
          at(s.wanAt + after, (now) => {
            if (!open()) return
            for (const m of s.meters) {
              const user = fleet.registration.registeredSupplierAt(m.mpxn, new Date(now))?.user
              if (!user) continue
              if (user === s.installer || !mp121) addToLog(s, m, user, codeFrom(s, m, user))
              else
                at(addWorkingDays(now, mp121.slaWorkingDays), () => {
                  if (open()) addToLog(s, m, user, codeFrom(s, m, user))
                })
            }
          })

        at(closeAt, () => {
          atClose = figures(run)
        })
      },
      finish({ run }) {
        // The window may close at the run's very end, before its event ran.
        const c = atClose ?? figures(run)
        for (const g of GROUPS) {
          c[`${g}InstallCodesRefused`] = counts[`${g}InstallCodesRefused`] ?? 0
          c[`${g}HanLogRefused`] = counts[`${g}HanLogRefused`] ?? 0
        }
        return c
      },
    }
  },
}

/** The median of `xs`, rounded to 0.01 (0 for none). */
function median(xs: number[]): number {
  if (!xs.length) return 0
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  const m = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return Math.round(m * 100) / 100
}

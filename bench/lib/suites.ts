/**
 * The suites `smetsim bench` offers, in the order it runs them by default. Each is loaded only
 * when it runs (the fleet and DCC suites pull in packages the crypto suite does not need).
 */
import type { Report } from './report.ts'

type Suite = () => Promise<{ run(report: Report): Promise<void> }>

export const SUITES = {
  crypto: () => import('../crypto.ts'),
  device: () => import('../device.ts'),
  dcc: () => import('../dcc.ts'),
  fleet: () => import('../fleet.ts'),
} satisfies Record<string, Suite>

export type SuiteName = keyof typeof SUITES
export const SUITE_NAMES = Object.keys(SUITES) as SuiteName[]

export const isSuiteName = (name: string): name is SuiteName => Object.hasOwn(SUITES, name)

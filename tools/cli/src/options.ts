/**
 * Option values that more than one command takes (`fleet up`, `scenario run`), checked the same
 * way everywhere: each returns the value or throws an Error whose message names the option and
 * what it got, which the command prints before it builds anything.
 */
import { type FleetWan, wanOf } from '@smetsim/fleet'

/** `--speed X|max`: X times the wall clock (a number above 0), or 'max' (virtual time). */
export function speedOption(text: string): number | 'max' {
  if (text === 'max') return 'max'
  const speed = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text) || !(speed > 0) || speed > 1e9)
    throw new Error(`--speed must be a number above 0 (or 'max'), got '${text}'`)
  return speed
}

/** `--broker embedded|URL`: aedes in this process, or an MQTT broker's URL. */
export function brokerOption(text: string): FleetWan {
  if (text !== 'embedded' && !/^(mqtts?|wss?|tcp):\/\/\S+$/.test(text))
    throw new Error(`--broker must be 'embedded' or a broker URL such as mqtt://host:1883, got '${text}'`)
  return wanOf(text)
}

/** Most worker threads a command starts (`fleet up --workers`, `scenario run --threads`). */
export const MAX_THREADS = 64

/** A count of threads given as `flag`: a whole number from 1 to MAX_THREADS. */
export function threadsOption(flag: string, text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_THREADS)
    throw new Error(`${flag} must be 1 to ${MAX_THREADS}, got '${text}'`)
  return n
}

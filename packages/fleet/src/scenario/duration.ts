import ms from 'ms'

/** A duration in ms (`2d`, `36h`, `90m`: the `ms` package's form), or undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const v = ms(text as ms.StringValue)
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined
}

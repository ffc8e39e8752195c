/**
 * Optional check against the DCC's Reference Test Data Set, which is not in this repository:
 * SMETSIM_RTDS=/path/to/RTDS-4.5.0 npx vitest run packages/gbcs/src/payload/gbz
 * Every frame whose payload is GBZ must decode and encode back to the same bytes, and, when a
 * use-case view applies, build(interpret(s)) must give the same bytes too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../../frame.ts'
import { gbzFamily } from './gbz.ts'
import { gbzUseCases } from './use-cases.ts'

const dir = process.env.SMETSIM_RTDS

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f)
    return statSync(p).isDirectory() ? files(p) : /\.hex$/i.test(f) ? [p] : []
  })
}

describe.runIf(dir)('RTDS GBZ payloads', () => {
  it('round-trip through the structure and, where one applies, the use-case view', () => {
    let payloads = 0
    let views = 0
    const byCra: Record<string, number> = {}
    const failures: string[] = []
    for (const f of files(dir!)) {
      const signing = decodeFrame(fromHex(readFileSync(f, 'utf8').replace(/\s+/g, ''))).signing
      const ctx = { messageCode: signing.messageCode, cra: signing.cra }
      if (!gbzFamily.matches(signing.content, ctx)) continue
      payloads++
      byCra[ctx.cra] = (byCra[ctx.cra] ?? 0) + 1
      const want = toHex(signing.content)
      try {
        const s = gbzFamily.decode(signing.content, ctx, 0)
        if (toHex(gbzFamily.encode(JSON.parse(JSON.stringify(s)), ctx)) !== want)
          failures.push(`${f}: structure`)
        const uc = gbzUseCases.find(
          (u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra),
        )
        const view = uc?.interpret(s, ctx)
        if (uc && view) {
          views++
          const back = toHex(gbzFamily.encode(uc.build(JSON.parse(JSON.stringify(view)), ctx), ctx))
          if (back !== want) failures.push(`${f}: view`)
        }
      } catch (e) {
        failures.push(`${f}: ${(e as Error).message}`)
      }
    }
    console.log(
      `RTDS GBZ: ${payloads - failures.length}/${payloads} payloads round-trip ` +
        `(${Object.entries(byCra)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}); ${views} through a use-case view`,
    )
    expect(failures).toEqual([])
    expect(payloads).toBeGreaterThan(0)
  })
})

/**
 * Optional check against the DCC's Reference Test Data Set, which is not in this repository:
 * SMETSIM_RTDS=/path/to/RTDS-4.5.0 npx vitest run packages/gbcs/src/payload/dlms
 * Every frame whose payload is a DLMS APDU must decode and encode back to the same bytes,
 * and, when a use-case view applies, build(interpret(s)) must give the same bytes too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../../frame.ts'
import { dlmsFamily } from './apdu.ts'
import { dlmsUseCases } from './use-cases.ts'

const dir = process.env.SMETSIM_RTDS

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f)
    return statSync(p).isDirectory() ? files(p) : /\.hex$/i.test(f) ? [p] : []
  })
}

describe.runIf(dir)('RTDS DLMS payloads', () => {
  it('round-trip through the structure and, where one applies, the use-case view', () => {
    let payloads = 0
    let views = 0
    const failures: string[] = []
    for (const f of files(dir!)) {
      const signing = decodeFrame(fromHex(readFileSync(f, 'utf8').replace(/\s+/g, ''))).signing
      const ctx = { messageCode: signing.messageCode, cra: signing.cra }
      if (!dlmsFamily.matches(signing.content, ctx)) continue
      payloads++
      const want = toHex(signing.content)
      try {
        const s = dlmsFamily.decode(signing.content, ctx, 0)
        if (toHex(dlmsFamily.encode(JSON.parse(JSON.stringify(s)), ctx)) !== want)
          failures.push(`${f}: structure`)
        const uc = dlmsUseCases.find(
          (u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra),
        )
        const view = uc?.interpret(s, ctx)
        if (uc && view) {
          views++
          const back = toHex(dlmsFamily.encode(uc.build(JSON.parse(JSON.stringify(view)), ctx), ctx))
          if (back !== want) failures.push(`${f}: view`)
        }
      } catch (e) {
        failures.push(`${f}: ${(e as Error).message}`)
      }
    }
    console.log(
      `RTDS DLMS: ${payloads - failures.length}/${payloads} payloads round-trip; ${views} through a use-case view`,
    )
    expect(failures).toEqual([])
    expect(payloads).toBeGreaterThan(0)
  })
})

/**
 * Optional check against the DCC's Reference Test Data Set, which is not in this repository:
 * SMETSIM_RTDS=/path/to/RTDS-4.5.0 npx vitest run packages/gbcs/src/payload/asn1
 * Every frame whose message code is an ASN.1 one must be taken by the family, decode, and encode
 * back to the same bytes; when a use-case view applies, build(interpret(s)) must too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fromHex, toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../../frame.ts'
import { ASN1_MESSAGE_CODES, asn1Family } from './der.ts'
import { asn1UseCases } from './use-cases.ts'

const dir = process.env.SMETSIM_RTDS

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f)
    return statSync(p).isDirectory() ? files(p) : /\.hex$/i.test(f) ? [p] : []
  })
}

describe.runIf(dir)('RTDS ASN.1 payloads', () => {
  it('round-trip through the structure and, where one applies, the use-case view', () => {
    let payloads = 0
    let views = 0
    const byCra = { command: 0, response: 0, alert: 0 }
    const failures: string[] = []
    for (const f of files(dir!)) {
      const signing = decodeFrame(fromHex(readFileSync(f, 'utf8').replace(/\s+/g, ''))).signing
      const ctx = { messageCode: signing.messageCode, cra: signing.cra }
      if (!ASN1_MESSAGE_CODES.has(ctx.messageCode)) continue
      payloads++
      byCra[ctx.cra]++
      const want = toHex(signing.content)
      try {
        if (!asn1Family.matches(signing.content, ctx)) {
          failures.push(`${f}: not matched`)
          continue
        }
        const s = asn1Family.decode(signing.content, ctx, 0)
        if (toHex(asn1Family.encode(JSON.parse(JSON.stringify(s)), ctx)) !== want)
          failures.push(`${f}: structure`)
        const uc = asn1UseCases.find(
          (u) => u.messageCodes.includes(ctx.messageCode) && u.cra.includes(ctx.cra),
        )
        const view = uc?.interpret(s, ctx)
        if (uc && !view) failures.push(`${f}: no view`)
        if (uc && view) {
          views++
          const back = toHex(asn1Family.encode(uc.build(JSON.parse(JSON.stringify(view)), ctx), ctx))
          if (back !== want) failures.push(`${f}: view`)
        }
      } catch (e) {
        failures.push(`${f}: ${(e as Error).message}`)
      }
    }
    console.log(
      `RTDS ASN.1: ${payloads - failures.length}/${payloads} payloads round-trip ` +
        `(${byCra.command} command, ${byCra.response} response, ${byCra.alert} alert); ` +
        `${views} through a use-case view`,
    )
    expect(failures).toEqual([])
    expect(payloads).toBeGreaterThan(0)
  })
})

/**
 * Optional check against the DCC's Reference Test Data Set and its keystore, which are not in
 * this repository:
 *   SMETSIM_RTDS=/path/to/RTDS-4.5.0 SMETSIM_RTDS_KEYSTORE=/path/to/rtds/keystore \
 *     npx vitest run packages/gbcs/src/utrn/rtds.test.ts
 * Every UTRN in a CS01a (0x0007, ESME) or CS01b (0x0097, GSME) command must, when well formed,
 * pass checkUtrn with the Supplier's Prepayment Top-Up KA key and the device's KA certificate,
 * and generateUtrn must give it back digit for digit from the fields it carries.
 */
import { X509Certificate } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { type Eui64, fromHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { getBackend, type PublicKeyRef } from '../crypto/index.ts'
import { decodeFrame, type GeneralSigning } from '../frame.ts'
import { decodePayload } from '../payload/index.ts'
import { checkUtrn, generateUtrn } from './authenticate.ts'
import { TOP_UP_COUNTER_STEP } from './counter.ts'
import { decodeUtrn } from './utrn.ts'

const rtds = process.env.SMETSIM_RTDS
const keystore = process.env.SMETSIM_RTDS_KEYSTORE

const TOP_UP_CODES: Record<number, string> = { 7: 'CS01a', 151: 'CS01b' }

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f)
    return statSync(p).isDirectory() ? files(p) : /\.hex$/i.test(f) ? [p] : []
  })
}

/** The UTRN a top-up command carries: from the DLMS use-case view, else the 20-digit octet string. */
function utrnOf(s: GeneralSigning): string | undefined {
  const view = decodePayload(s.content, { messageCode: s.messageCode, cra: s.cra }).useCase
  if (typeof view?.utrn === 'string') return view.utrn
  // a GBZ Consumer Top Up: octet-string length 20 (0x14), then the ASCII digits
  const text = Buffer.from(s.content).toString('latin1')
  for (let at = text.indexOf('\u0014'); at >= 0; at = text.indexOf('\u0014', at + 1)) {
    const digits = text.slice(at + 1, at + 21)
    if (/^[0-9]{20}$/.test(digits)) return digits
  }
  return undefined
}

describe.runIf(rtds && keystore)('RTDS UTRNs', () => {
  const backend = getBackend('native')
  const deviceKey = (eui: Eui64): PublicKeyRef =>
    backend.importPublicKey(
      new X509Certificate(readFileSync(join(keystore!, `${eui.toLowerCase()}-ka.pem`))).publicKey,
    )
  const supplierKey = (eui: Eui64) =>
    backend.importPrivateKey(readFileSync(join(keystore!, `${eui.toLowerCase()}-pp-ka.key`), 'utf8'))

  it('are authentic under the Supplier prepayment key and regenerate digit for digit', () => {
    const frames = files(rtds!)
      .map((f) => ({ f, s: decodeFrame(fromHex(readFileSync(f, 'utf8').replace(/\s+/g, ''))).signing }))
      .filter(({ s }) => s.cra === 'command' && TOP_UP_CODES[s.messageCode] !== undefined)
    let wellFormed = 0
    let authentic = 0
    let regenerated = 0
    const byUseCase: Record<string, number> = {}
    const malformed: string[] = []
    const failures: string[] = []
    for (const { f, s } of frames) {
      const name = basename(f)
      const digits = utrnOf(s)
      if (!digits) {
        failures.push(`${name}: no UTRN found`)
        continue
      }
      const decoded = decodeUtrn(digits)
      if (!decoded.ok) {
        malformed.push(`${name} (${decoded.error.kind})`)
        continue
      }
      wellFormed++
      // The Supplier whose prepayment key protects the UTRN: a supplementary remote party when the
      // frame names one, else the originator (all RTDS frames).
      const supplier = s.supplementary?.remotePartyId ?? s.originator
      const pp = supplierKey(supplier)
      const key = { own: pp, other: deviceKey(s.recipient) }
      const counter = s.originatorCounter
      const params = { device: s.recipient, supplier, key, backend }
      const r = checkUtrn(digits, { ...params, counter: { exact: counter } })
      if (!r.ok) {
        failures.push(`${name}: ${r.reason}`)
        continue
      }
      authentic++
      byUseCase[TOP_UP_CODES[s.messageCode]!] = (byUseCase[TOP_UP_CODES[s.messageCode]!] ?? 0) + 1
      // typed in at a keypad instead: rebuilt from its 10 counter bits and the previous counter
      const keypad = checkUtrn(digits, { ...params, counter: { reference: counter - TOP_UP_COUNTER_STEP } })
      if (!keypad.ok || keypad.counter !== counter) failures.push(`${name}: keypad reconstruction`)
      // under another device's key it is not authentic
      const other = s.recipient.endsWith('A0') ? '00DB1234567890A1' : '00DB1234567890A0'
      if (existsSync(join(keystore!, `${other.toLowerCase()}-ka.pem`))) {
        const wrong = checkUtrn(digits, {
          ...params,
          key: { own: pp, other: deviceKey(other as Eui64) },
          counter: { exact: counter },
        })
        if (wrong.ok || wrong.reason !== 'not-authentic') failures.push(`${name}: accepted under ${other}`)
      }
      const again = generateUtrn({
        counter,
        value: r.utrn.value,
        valueClass: r.utrn.valueClass,
        originator: supplier,
        recipient: s.recipient,
        key,
        backend,
      })
      if (again === digits) regenerated++
      else failures.push(`${name}: regenerated ${again}`)
    }
    const parts = Object.entries(byUseCase).map(([k, v]) => `${k} ${v}`)
    console.log(
      `RTDS UTRN: ${authentic}/${wellFormed} authentic, ${regenerated} regenerated (${parts.join(', ')}); ` +
        `${malformed.length} malformed${malformed.length ? `: ${malformed.join(', ')}` : ''}`,
    )
    expect(failures).toEqual([])
    expect(byUseCase['CS01a']).toBeGreaterThan(0)
  })
})

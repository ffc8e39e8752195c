/**
 * Every code the DCC answers is a value of the DUIS 5.4 XSD enumerations (a copy of them:
 * duis-5.4-enumerations.ts): each constant of duis-codes.ts, each DCC Alert code, and the codes
 * that other modules answer with. The SAT codes a whole run of the pipeline produces are checked
 * against the same lists in dcc.test.ts ('every code answered and recorded is DUIS’s').
 */
import { describe, expect, it } from 'vitest'
import { XSD_DCC_ALERT_CODES, XSD_RESPONSE_CODES } from './duis-5.4-enumerations.ts'
import * as codes from './duis-codes.ts'

/** Every string (or record of strings) duis-codes.ts exports that looks like a DUIS code. */
function exportedCodes(): [string, string][] {
  const out: [string, string][] = []
  for (const [name, value] of Object.entries(codes)) {
    if (typeof value === 'string') out.push([name, value])
    else if (Array.isArray(value)) for (const v of value) out.push([name, String(v)])
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) out.push([`${name}.${k}`, String(v)])
  }
  return out
}

describe('DUIS codes', () => {
  it('the enumeration copy is the schema’s (spot checks of both ends and the families used)', () => {
    expect(XSD_RESPONSE_CODES.slice(0, 3)).toEqual(['I0', 'I99', 'E1'])
    expect(XSD_RESPONSE_CODES).toHaveLength(194)
    expect(XSD_DCC_ALERT_CODES[0]).toBe('AD1')
    expect(XSD_DCC_ALERT_CODES).toHaveLength(66)
    for (const family of ['E0501', 'E0502', 'E0503', 'E0623', 'E0811'])
      expect(XSD_RESPONSE_CODES.some((c) => c.startsWith(family))).toBe(true)
  })

  it('every response code constant is in the XSD ResponseCode enumeration', () => {
    const responseCodes = exportedCodes().filter(([name]) => !name.startsWith('DCC_ALERT_CODES'))
    expect(responseCodes.length).toBeGreaterThan(20)
    for (const [name, code] of responseCodes)
      expect([name, XSD_RESPONSE_CODES.includes(code)]).toEqual([name, true])
    for (const code of codes.RESPONSE_CODES_ANSWERED) expect(XSD_RESPONSE_CODES).toContain(code)
  })

  it('every DCC Alert code is in the XSD DCCAlertCode enumeration; unknown ones are absent, not invented', () => {
    for (const code of Object.values(codes.DCC_ALERT_CODES)) expect(XSD_DCC_ALERT_CODES).toContain(code)
    expect(codes.DCC_ALERT_CODES.ChangeOfSupplier).toBeUndefined()
    expect(codes.DCC_ALERT_CODES.SecurityCredentialsUpdated).toBeUndefined()
  })

  it('no placeholder of old survives', () => {
    const placeholders = /^(E[A-Z]{4,}|ChangeOfSupplier|SecCredsUpdated)$/
    for (const [name, code] of exportedCodes()) expect([name, placeholders.test(code)]).toEqual([name, false])
  })
})

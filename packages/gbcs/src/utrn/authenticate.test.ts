import { createCipheriv, createECDH, createHash } from 'node:crypto'
import { fromHex, toHex } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { getBackend } from '../crypto/index.ts'
import { type CheckUtrnParams, checkUtrn, type GenerateUtrnParams, generateUtrn } from './authenticate.ts'
import { TOP_UP_COUNTER_STEP } from './counter.ts'
import { utrnAad } from './mac.ts'
import { decodeUtrn, encodeUtrn, UTRN_MAX_VALUE } from './utrn.ts'

// Key-agreement scalars made for these tests (random, P-256).
const SUPPLIER_PP_KA = '430646e5ffdad6059c37da9c0163efcc56417c43791db1374d3d01e8f1ee29bc'
const DEVICE_KA = 'd481fd1ebaef006bd3411822653f18367319aa1885286a8cfba1efc22877df19'
const OTHER_KA = '18703f05a8e5b6c91be8720b13540e8f54f02a2307e711cb3699b04dbd2b415b'
const SUPPLIER = '90B3D51F30010000'
const DEVICE = '00DB1234567890A0'
const step = TOP_UP_COUNTER_STEP
/** What generateUtrn made from these keys, counter 7·2^32 and 2500 pennies (pinned against change). */
const REGRESSION_UTRN = '73951528931641570788'

function keysFor(name: 'native' | 'noble') {
  const backend = getBackend(name)
  const supplier = backend.importPrivateKey(fromHex(SUPPLIER_PP_KA))
  const device = backend.importPrivateKey(fromHex(DEVICE_KA))
  const other = backend.importPrivateKey(fromHex(OTHER_KA))
  return {
    backend,
    /** What the Supplier holds: its Prepayment Top-Up KA private key, the device's KA public key. */
    supplierSide: { own: supplier, other: device.publicKey },
    /** What the device holds: its KA private key, the Supplier's Prepayment Top-Up KA public key. */
    deviceSide: { own: device, other: supplier.publicKey },
    other,
  }
}

const native = keysFor('native')
const issue = (over: Partial<GenerateUtrnParams> = {}): string =>
  generateUtrn({
    counter: 7n * step,
    value: 2500,
    valueClass: 'pennies',
    originator: SUPPLIER,
    recipient: DEVICE,
    key: native.supplierSide,
    ...over,
  })
const check = (digits: string, over: Partial<CheckUtrnParams> = {}) =>
  checkUtrn(digits, {
    device: DEVICE,
    supplier: SUPPLIER,
    key: native.deviceSide,
    counter: { exact: 7n * step },
    ...over,
  })

/** The MAC word rebuilt with node:crypto alone, step by step, as a cross-check of the wiring. */
function macWordByHand(counter: bigint, header: number): string {
  const ecdh = createECDH('prime256v1')
  ecdh.setPrivateKey(Buffer.from(SUPPLIER_PP_KA, 'hex'))
  const deviceEcdh = createECDH('prime256v1')
  deviceEcdh.setPrivateKey(Buffer.from(DEVICE_KA, 'hex'))
  const z = ecdh.computeSecret(deviceEcdh.getPublicKey())
  const c = counter.toString(16).padStart(16, '0')
  const otherInfo = Buffer.from(`60857406080300${SUPPLIER}0901${c}${DEVICE}`, 'hex')
  const key = createHash('sha256').update(Buffer.from('00000001', 'hex')).update(z).update(otherInfo).digest()
  const gcm = createCipheriv('aes-128-gcm', key.subarray(0, 16), Buffer.from(`${SUPPLIER}00000000`, 'hex'))
  gcm.setAAD(
    Buffer.from(`110000000000${SUPPLIER}${DEVICE}01${c}${header.toString(16).padStart(8, '0')}`, 'hex'),
  )
  gcm.final()
  return gcm.getAuthTag().subarray(12).toString('hex').toUpperCase()
}

describe('the UTRN MAC', () => {
  it('covers security header, Supplier, device, CRA flag, counter and header word (35 bytes)', () => {
    expect(
      toHex(utrnAad({ supplier: SUPPLIER, device: DEVICE, counter: 3n * step, header: 0x0001a00a })),
    ).toBe(`110000000000${SUPPLIER}${DEVICE}01${'0000000300000000'}0001A00A`)
  })

  it('is the last 4 bytes of the GCM tag under the GBCS KDF key', () => {
    const utrn = issue()
    const d = decodeUtrn(utrn)
    if (!d.ok) throw d.error
    expect(toHex(d.value.mac)).toBe(macWordByHand(7n * step, d.value.header))
    expect(d.value).toMatchObject({ counterBits: 7, valueClass: 'pennies', value: 2500 })
  })

  it('keeps its value (regression: a UTRN made with the keys above)', () => {
    expect(issue()).toBe(REGRESSION_UTRN)
  })
})

describe('generateUtrn → checkUtrn', () => {
  it('accepts what the Supplier issued, from either side of the key agreement', () => {
    const utrn = issue()
    expect(check(utrn)).toMatchObject({ ok: true, counter: 7n * step, value: 2500, valueClass: 'pennies' })
    expect(check(utrn, { key: native.supplierSide })).toMatchObject({ ok: true })
    expect(check(issue({ key: native.deviceSide }))).toMatchObject({ ok: true })
  })

  it('gives the credit in pennies', () => {
    const utrn = issue({ value: 8191, valueClass: 'pounds' })
    expect(check(utrn)).toMatchObject({ ok: true, value: 819100, valueClass: 'pounds' })
  })

  it('round-trips any counter, value and class', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
        fc.integer({ min: 0, max: UTRN_MAX_VALUE }),
        fc.constantFrom('pennies' as const, 'pounds' as const),
        (n, value, valueClass) => {
          const counter = n * step
          const utrn = issue({ counter, value, valueClass })
          const r = check(utrn, { counter: { exact: counter } })
          expect(
            r.ok && r.counter === counter && r.value === (valueClass === 'pounds' ? value * 100 : value),
          ).toBe(true)
          // typed in at the keypad: the counter comes back from its 10 bits and the last one accepted
          const reference = n > 3n ? (n - 3n) * step : 0n
          expect(check(utrn, { counter: { reference } })).toMatchObject({ ok: true, counter })
        },
      ),
      { numRuns: 50 },
    )
  })

  it('refuses a UTRN for another device, from another Supplier, or under another key', () => {
    const utrn = issue()
    const wrongDeviceKey = { own: native.other, other: native.deviceSide.other }
    const wrongSupplierKey = { own: native.deviceSide.own, other: native.other.publicKey }
    expect(check(utrn, { key: wrongDeviceKey })).toMatchObject({ ok: false, reason: 'not-authentic' })
    expect(check(utrn, { key: wrongSupplierKey })).toMatchObject({ ok: false, reason: 'not-authentic' })
    expect(check(utrn, { device: '00DB1234567890A1' })).toMatchObject({ ok: false, reason: 'not-authentic' })
    expect(check(utrn, { supplier: '90B3D51F30010001' })).toMatchObject({
      ok: false,
      reason: 'not-authentic',
    })
  })

  it('refuses a UTRN whose counter is not the one it was made with', () => {
    const utrn = issue()
    // same 10 bits, another counter: the MAC covers all 64 bits
    expect(check(utrn, { counter: { exact: (7n + 1024n) * step } })).toMatchObject({
      ok: false,
      reason: 'not-authentic',
      counter: 1031n * step,
    })
    expect(check(utrn, { counter: { reference: 1100n * step } })).toMatchObject({
      ok: false,
      reason: 'not-authentic',
    })
    expect(check(utrn, { counter: { exact: 8n * step } })).toMatchObject({ ok: false, reason: 'counter' })
    expect(check(utrn, { counter: { exact: 7n * step + 1n } })).toMatchObject({
      ok: false,
      reason: 'counter',
    })
  })

  it('refuses a forged token with a valid check digit', () => {
    const d = decodeUtrn(issue())
    if (!d.ok) throw d.error
    const forged = encodeUtrn({ counter: 7n * step, value: 8191, valueClass: 'pounds', mac: d.value.mac })
    expect(check(forged)).toMatchObject({ ok: false, reason: 'not-authentic' })
  })

  it('reports a malformed UTRN as format, with the reason', () => {
    const utrn = issue()
    const r = check(`${utrn.slice(0, 19)}${(Number(utrn[19]) + 1) % 10}`)
    expect(r).toMatchObject({ ok: false, reason: 'format', error: { kind: 'check-digit' } })
    expect(check('1234')).toMatchObject({ ok: false, reason: 'format', error: { kind: 'length' } })
  })

  it('never throws on the digits', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 20, maxLength: 20 }),
        (s) => {
          expect(check(s, { counter: { reference: 0n } }).ok).toBe(false)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('the two backends', () => {
  it('make the same UTRN and accept each other’s', () => {
    const noble = keysFor('noble')
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 5000n }),
        fc.integer({ min: 0, max: UTRN_MAX_VALUE }),
        (n, value) => {
          const p = {
            counter: n * step,
            value,
            valueClass: 'pennies' as const,
            originator: SUPPLIER,
            recipient: DEVICE,
          }
          const a = generateUtrn({ ...p, key: native.supplierSide })
          const b = generateUtrn({ ...p, key: noble.supplierSide, backend: noble.backend })
          expect(b).toBe(a)
          const params = { device: DEVICE, supplier: SUPPLIER, counter: { exact: n * step } }
          expect(checkUtrn(a, { ...params, key: noble.deviceSide }).ok).toBe(true)
          expect(checkUtrn(b, { ...params, key: native.deviceSide }).ok).toBe(true)
        },
      ),
      { numRuns: 20 },
    )
  })
})

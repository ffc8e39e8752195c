/**
 * Payload dispatch over every registered family: whatever bytes arrive under whatever message
 * code, decodePayload answers with data (never an exception), and whatever it decodes it
 * encodes back to the same bytes.
 */
import { toHex } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MESSAGE_CODES } from '../message-codes.ts'
import { buildPayload, decodePayload, encodePayload, supportedUseCases } from './index.ts'
import type { Cra, PayloadContext } from './types.ts'

const CRAS: Cra[] = ['command', 'response', 'alert']
const codes = [...MESSAGE_CODES.keys()]
const context = fc.record({
  messageCode: fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 0xffff })),
  cra: fc.constantFrom(...CRAS),
}) as fc.Arbitrary<PayloadContext>

/** Bytes that start like each family's payloads, so the fuzz reaches past the first sniff. */
const familyPrefix = fc.constantFrom(
  new Uint8Array([]),
  new Uint8Array([0xd9]), // DLMS access-request
  new Uint8Array([0xda]), // DLMS access-response
  new Uint8Array([0x01, 0x09]), // GBZ profile id
  new Uint8Array([0x30]), // DER SEQUENCE
)

function roundTrips(bytes: Uint8Array, ctx: PayloadContext): void {
  const decoded = decodePayload(bytes, ctx)
  const back = encodePayload(JSON.parse(JSON.stringify(decoded)), ctx)
  expect(toHex(back)).toBe(toHex(bytes))
}

describe('decodePayload on arbitrary input', () => {
  it('never throws, and encodes back what it decoded', () => {
    fc.assert(
      fc.property(familyPrefix, fc.uint8Array({ maxLength: 80 }), context, (prefix, rest, ctx) => {
        const bytes = new Uint8Array([...prefix, ...rest])
        roundTrips(bytes, ctx)
      }),
      { numRuns: 3000 },
    )
  })

  it('names the family and keeps the error when a payload only looks like one', () => {
    const decoded = decodePayload(new Uint8Array([0xd9, 0x01]), { messageCode: 0x0051, cra: 'command' })
    expect(decoded.format).toBe('raw')
    expect(decoded.error).toMatch(/^dlms: /)
  })

  it('has a use-case view registered for every message code it claims', () => {
    for (const { messageCode } of supportedUseCases()) expect(MESSAGE_CODES.has(messageCode)).toBe(true)
  })
})

describe('buildPayload', () => {
  const alert: PayloadContext = { messageCode: 0x1000, cra: 'alert' }
  const gsmeLowBattery = {
    name: 'GSME Alert 8F1F Low Battery',
    alertCode: '8F1F',
    timestamp: '2023-01-01T00:00:00Z',
  }

  it('asks which family when a message code has views in two (ESME and GSME alerts)', () => {
    expect(() => buildPayload(gsmeLowBattery, alert)).toThrow(/formats 'dlms', 'gbz': say which/)
  })

  it('builds in the family it is told, and the bytes decode to the same view', () => {
    const bytes = buildPayload(gsmeLowBattery, alert, 'gbz')
    expect(toHex(bytes)).toBe('0109008F1F2B438980')
    expect(decodePayload(bytes, alert)).toMatchObject({ format: 'gbz', useCase: gsmeLowBattery })
  })

  it('names the message code it has no view for', () => {
    expect(() => buildPayload({ name: 'x' }, { messageCode: 0x1000, cra: 'command' })).toThrow(
      /no use-case codec for message code 0x1000 \(command\)/,
    )
  })
})

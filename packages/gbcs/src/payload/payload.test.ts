/**
 * Payload dispatch over every registered family: whatever bytes arrive under whatever message
 * code, decodePayload answers with data (never an exception), and whatever it decodes it
 * encodes back to the same bytes.
 */
import { toHex } from '@smetsim/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MESSAGE_CODES } from '../message-codes.ts'
import { decodePayload, encodePayload, supportedUseCases } from './index.ts'
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

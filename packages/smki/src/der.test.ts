import { toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import {
  decodeObjectIdentifier,
  decodeTime,
  objectIdentifier,
  readTlv,
  time,
  unsignedInteger,
} from './der.ts'
import { roleCode, roleFromCode } from './roles.ts'

describe('DER', () => {
  it('writes and reads object identifiers with large arcs', () => {
    const oid = objectIdentifier('1.2.826.0.1.8641679.1.2.1.4')
    expect(toHex(oid)).toBe('060D2A863A0001848FB90F01020104')
    expect(decodeObjectIdentifier(readTlv(oid).content)).toBe('1.2.826.0.1.8641679.1.2.1.4')
  })

  it('writes UTCTime up to 2049 and GeneralizedTime from 2050, and reads both back', () => {
    const y2049 = new Date('2049-12-31T23:59:59Z')
    const y9999 = new Date('9999-12-31T23:59:59Z')
    expect(new TextDecoder().decode(readTlv(time(y2049)).content)).toBe('491231235959Z')
    expect(readTlv(time(y2049)).tag).toBe(0x17)
    expect(new TextDecoder().decode(readTlv(time(y9999)).content)).toBe('99991231235959Z')
    expect(decodeTime(readTlv(time(y2049)))).toEqual(y2049)
    expect(decodeTime(readTlv(time(y9999)))).toEqual(y9999)
  })

  it('keeps integers positive and minimal', () => {
    expect(toHex(unsignedInteger(Uint8Array.of(0x80, 0x01)))).toBe('0203008001')
    expect(toHex(unsignedInteger(Uint8Array.of(0x00, 0x00, 0x7f)))).toBe('02017F')
  })

  it('reads long lengths and refuses values that run past the end', () => {
    const long = readTlv(Uint8Array.from([0x04, 0x81, 0x80, ...new Uint8Array(0x80)]))
    expect(long.content.length).toBe(0x80)
    expect(() => readTlv(Uint8Array.of(0x04, 0x05, 0x00))).toThrow(/runs past the end/)
  })
})

describe('SMKI roles', () => {
  it('map OU codes to role names both ways', () => {
    expect(roleFromCode('7f')).toBe('otherUser')
    expect(roleFromCode('04')).toBe('accessControlBroker')
    expect(roleFromCode('99')).toBeUndefined()
    expect(roleCode('transitionalCoS')).toBe('05')
  })
})

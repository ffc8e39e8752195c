import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startBroker } from '../../hub/src/wan/broker.ts'
import { publishRetained } from '../../hub/src/wan/retained.ts'
import { createFleetPki } from './pki.ts'
import {
  decodeSharedPki,
  encodeSharedPki,
  fetchSharedPki,
  pkiTopic,
  sharePki,
  withdrawPki,
} from './shard-pki.ts'
import { parseFleetSpec } from './spec.ts'

const specOf = (o: object) => {
  const r = parseFleetSpec(o)
  if (!r.ok) throw r.error
  return r.value
}
const spec = specOf({ seed: 'shards', premises: 4 })
const pki = createFleetPki(spec)
const ders = (p: typeof pki) => [...p.parties.values()].map((x) => x.ds.certificate.raw.toString('hex'))

describe('the fleet PKI shared between shards', () => {
  it('comes back with the same certificates and keys for the same fleet', () => {
    const back = decodeSharedPki(spec, encodeSharedPki(spec, pki))
    if (!back.ok) throw new Error(back.error)
    expect(ders(back.value)).toEqual(ders(pki))
    expect(back.value.root.certificate.raw.equals(pki.root.certificate.raw)).toBe(true)
    const key = (p: typeof pki) => p.organisationCa.privateKey.export({ type: 'pkcs8', format: 'der' })
    expect(key(back.value).equals(key(pki))).toBe(true)
    expect(back.value.deviceCa.certificate.raw.equals(pki.deviceCa.certificate.raw)).toBe(true)
    const caKey = (p: typeof pki) => p.deviceCa.privateKey.export({ type: 'pkcs8', format: 'der' })
    expect(caKey(back.value).equals(caKey(pki))).toBe(true)
  })

  it('is refused, with the reason, for another fleet or when it is not one', () => {
    const other = decodeSharedPki(specOf({ seed: 'shards', premises: 5 }), encodeSharedPki(spec, pki))
    expect(other).toEqual({ ok: false, error: expect.stringMatching(/for another fleet/) })
    for (const bytes of [
      new Uint8Array([0xff, 0x00]),
      new Uint8Array(0),
      encodeSharedPki(spec, pki).subarray(0, 40),
    ])
      expect(decodeSharedPki(spec, bytes)).toEqual({
        ok: false,
        error: expect.stringMatching(/not a fleet PKI/),
      })
  })

  describe('over a broker', () => {
    let broker: EmbeddedBroker
    beforeAll(async () => {
      broker = await startBroker()
    })
    afterAll(() => broker.close())

    it('reaches a shard that asks before shard 1 shares it, and one that asks after; withdrawn, nobody gets it', async () => {
      const early = fetchSharedPki(broker.url, spec, 5_000)
      await new Promise((r) => setTimeout(r, 200))
      await sharePki(broker.url, spec, pki)
      const got = await early
      expect(got.ok && ders(got.value)).toEqual(ders(pki))
      const late = await fetchSharedPki(broker.url, spec, 5_000)
      expect(late.ok && ders(late.value)).toEqual(ders(pki))

      await withdrawPki(broker.url)
      expect(await fetchSharedPki(broker.url, spec, 300)).toEqual({
        ok: false,
        error: expect.stringMatching(/^no fleet PKI from shard 1: .*not within 300 ms/),
      })
    })

    it('refuses garbage kept at the topic with a clear error', async () => {
      await publishRetained(broker.url, pkiTopic(), new TextEncoder().encode('not cbor at all \u00ff'))
      const r = await fetchSharedPki(broker.url, spec, 2_000)
      expect(r).toEqual({ ok: false, error: expect.stringMatching(/not a fleet PKI/) })
      await withdrawPki(broker.url)
    })
  })
})

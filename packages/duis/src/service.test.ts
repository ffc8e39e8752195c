import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeFrame, encodeSignedFrame } from '@smetsim/gbcs'
import type { Element as XmlDomElement } from '@xmldom/xmldom'
import { describe, expect, it } from 'vitest'
import { isDuisResponseCode } from './codes.ts'
import { SR_NAMESPACE } from './request.ts'
import {
  A,
  armSupply,
  B,
  backend,
  dccCertificate,
  PARTIES,
  privateRef,
  readSupplyStatus,
  requestDocument,
  signedRequest,
  testEstate,
  XML_KEYS,
  xmlSigning,
} from './testing.ts'
import { readDuisXml } from './xml.ts'
import { serialOf, signDuisDocument, verifyDuisSignature } from './xmldsig.ts'

const enc = (s: string) => new TextEncoder().encode(s)

/** Reads a DCC Response: XSD-valid, signed by the DCC; its header fields and body. */
async function response(xml: string) {
  const read = readDuisXml(enc(xml))
  if (!read.ok) throw new Error(`the DCC's response is not valid DUIS: ${read.error.reason}`)
  const doc = read.value.document
  const verified = await verifyDuisSignature(doc, (s) =>
    s === serialOf(dccCertificate) ? dccCertificate : undefined,
  )
  expect(verified.ok).toBe(true)
  const field = (name: string) => doc.getElementsByTagNameNS(SR_NAMESPACE, name)[0]?.textContent ?? undefined
  return {
    code: field('ResponseCode'),
    requestId: field('RequestID'),
    responseId: field('ResponseID'),
    gbcsPayload: field('GBCSPayload'),
    preCommand: doc.getElementsByTagNameNS(SR_NAMESPACE, 'PreCommand').length === 1,
  }
}

describe('the DUIS interface', () => {
  it('acknowledges a signed CV1 request with I99 and sends the device outcome to the User asynchronously', async () => {
    const posts: { url: string; xml: string }[] = []
    const e = testEstate({
      endpoints: { [A]: 'http://127.0.0.1:9/duis' },
      post: async (url, xml) => {
        posts.push({ url, xml })
        return true
      },
    })
    const answer = await e.duis.handle('S', await signedRequest(readSupplyStatus(1001)))
    expect(answer.status).toBe(200)
    const sync = await response(answer.xml)
    expect(sync).toMatchObject({
      code: 'I99',
      requestId: '90-B3-D5-1F-30-01-00-00:00-DB-12-00-00-00-00-01:1001',
    })
    expect(e.sent).toHaveLength(1)
    expect(await e.delivery.run(e.now())).toEqual({ delivered: 1, failed: 0, dropped: 0 })
    expect(posts).toHaveLength(1)
    const later = await response(posts[0]!.xml)
    // The fake device does not answer: E21 arrives asynchronously, after the I99.
    expect(later).toMatchObject({
      code: 'E21',
      responseId: '00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:1001',
    })
    // The pipeline recorded the request as sent by the User whose XML signature verified.
    expect(e.sat.query({ kind: 'request' })).toHaveLength(1)
    expect(e.sat.query({ kind: 'request' })[0]!.user).toBe(A)
  })

  it('answers a Critical CV4 request at the Transform Service with I0 and its Pre-Command', async () => {
    const e = testEstate()
    const sync = await response((await e.duis.handle('T', await signedRequest(armSupply(2001)))).xml)
    expect(sync).toMatchObject({ code: 'I0', preCommand: true })
    expect(e.dcc.pendingSignatures()).toEqual(['90B3D51F30010000:00DB120000000001:2001'])
    expect(e.sent).toHaveLength(0)
  })

  it('refuses a request sent to the wrong web service with E13, before the pipeline', async () => {
    const e = testEstate()
    const sync = await response((await e.duis.handle('S', await signedRequest(armSupply(2002)))).xml)
    expect(sync.code).toBe('E13')
    expect(e.sat.query({ kind: 'request' })).toHaveLength(0)
    expect(e.sat.query({ kind: 'decision' })[0]!.detail).toMatchObject({
      step: 'duis-wrong-service',
      authenticated: true,
    })
  })

  it('carries SR 5.1, 5.2 and 5.3 bodies to the pipeline: a schedule created, read and deleted by its DSPScheduleID', async () => {
    const e = testEstate()
    const nonDevice = (counter: number, srv: string, body: string, children: [string, string][]) =>
      signedRequest({ counter, commandVariant: 8, serviceReference: srv, srv, body, children })
    const doc = async (answer: Promise<{ xml: string; reason?: string }>) => {
      const { xml, reason } = await answer
      const read = readDuisXml(enc(xml))
      if (!read.ok) throw new Error(`${reason ?? ''} ${read.error.reason}`)
      const field = (name: string) =>
        read.value.document.getElementsByTagNameNS(SR_NAMESPACE, name)[0]?.textContent ?? undefined
      return { code: field('ResponseCode'), scheduleId: field('DSPScheduleID') }
    }
    const created = await doc(
      e.duis.handle(
        'D',
        await nonDevice(4001, '5.1', 'CreateSchedule', [
          ['ScheduleFrequency', 'Daily'],
          ['ScheduleStartDate', '2026-01-06'],
          ['DSPScheduledServiceReference', '4.16'],
          ['DSPScheduledServiceReferenceVariant', '4.16'],
          ['DeviceID', '00-DB-12-00-00-00-00-01'],
          ['DSPReadActivePowerImport', ''],
        ]),
      ),
    )
    // DSPScheduleID is the schema's integer, not the pipeline's 'DS000001'.
    expect(created).toEqual({ code: 'I0', scheduleId: '1' })
    const readBack = await doc(
      e.duis.handle('D', await nonDevice(4002, '5.2', 'ReadSchedule', [['DSPScheduleID', '1']])),
    )
    expect(readBack.code).toBe('I0')
    const deleted = await doc(
      e.duis.handle('D', await nonDevice(4003, '5.3', 'DeleteSchedule', [['DSPScheduleID', '1']])),
    )
    expect(deleted.code).toBe('I0')
    const again = await doc(
      e.duis.handle('D', await nonDevice(4004, '5.3', 'DeleteSchedule', [['DSPScheduleID', '1']])),
    )
    expect(again.code).toBe('E050301')
  })

  it('SR 5.2 answers with the schedules (DSPSchedulesRead); a 5.2 or 5.3 to the DCC naming only a DSPScheduleID finds the device from the schedule', async () => {
    const e = testEstate()
    const DCC = PARTIES.acb.eui
    const toDcc = (
      counter: number,
      srv: string,
      body: string,
      children: [string, string][],
      key = XML_KEYS.A,
      originator = A,
    ) =>
      signedRequest(
        { originator, target: DCC, counter, commandVariant: 8, serviceReference: srv, srv, body, children },
        key,
      )
    const answer = async (request: Promise<Uint8Array>) => {
      const { xml, reason } = await e.duis.handle('D', await request)
      const read = readDuisXml(enc(xml))
      if (!read.ok) throw new Error(`${reason ?? ''} ${read.error.reason}`)
      const doc = read.value.document
      const all = (name: string) =>
        Array.from(doc.getElementsByTagNameNS(SR_NAMESPACE, name)).map((el) => el.textContent)
      return {
        code: all('ResponseCode')[0],
        read: doc.getElementsByTagNameNS(SR_NAMESPACE, 'DSPSchedulesRead').length,
        ids: all('DSPScheduleID'),
        details: Array.from(doc.getElementsByTagNameNS(SR_NAMESPACE, 'DSPScheduleDetails')).map((d) =>
          Array.from(d.childNodes)
            .filter((n) => n.nodeType === 1)
            .map((n) => `${(n as XmlDomElement).localName}=${n.textContent}`),
        ),
      }
    }
    const create = await answer(
      toDcc(5001, '5.1', 'CreateSchedule', [
        ['ScheduleFrequency', 'Weekly'],
        ['ScheduleStartDate', '2026-01-06'],
        ['ScheduleExecutionStartTime', '13:30:00'],
        ['DSPScheduledServiceReference', '4.16'],
        ['DSPScheduledServiceReferenceVariant', '4.16'],
        ['DeviceID', '00-DB-12-00-00-00-00-01'],
        ['DSPReadActivePowerImport', ''],
      ]),
    )
    expect(create).toMatchObject({ code: 'I0', ids: ['1'] })
    const expected = {
      code: 'I0',
      read: 1,
      ids: ['1'],
      details: [
        [
          'ScheduleFrequency=Weekly',
          'ScheduleStartDate=2026-01-06',
          'ScheduleExecutionStartTime=13:30:00',
          'DSPScheduledServiceReference=4.16',
          'DSPScheduledServiceReferenceVariant=4.16',
          'DeviceID=00-DB-12-00-00-00-00-01',
          'DSPReadActivePowerImport=',
        ],
      ],
    }
    // By DeviceID and by DSPScheduleID alone (the DCC finds the device): the same schedule, XSD-valid.
    expect(
      await answer(toDcc(5002, '5.2', 'ReadSchedule', [['DeviceID', '00-DB-12-00-00-00-00-01']])),
    ).toEqual(expected)
    expect(await answer(toDcc(5003, '5.2', 'ReadSchedule', [['DSPScheduleID', '1']]))).toEqual(expected)
    // No such schedule, or another User's: the same not-found answer, nothing read.
    expect(await answer(toDcc(5004, '5.2', 'ReadSchedule', [['DSPScheduleID', '7']]))).toMatchObject({
      code: 'E050201',
      read: 0,
    })
    expect(
      await answer(toDcc(5005, '5.2', 'ReadSchedule', [['DSPScheduleID', '1']], XML_KEYS.B, B)),
    ).toMatchObject({ code: 'E050201', read: 0 })
    expect(
      await answer(toDcc(5006, '5.3', 'DeleteSchedule', [['DSPScheduleID', '1']], XML_KEYS.B, B)),
    ).toMatchObject({ code: 'E050301' })
    expect(e.dcc.schedulesOf(A)).toHaveLength(1)
    // Deleted by its owner by DSPScheduleID alone; then a read finds none.
    expect(await answer(toDcc(5007, '5.3', 'DeleteSchedule', [['DSPScheduleID', '1']]))).toMatchObject({
      code: 'I0',
    })
    expect(e.dcc.schedulesOf(A)).toEqual([])
    expect(
      await answer(toDcc(5008, '5.2', 'ReadSchedule', [['DeviceID', '00-DB-12-00-00-00-00-01']])),
    ).toMatchObject({ code: 'I0', read: 0 })
  })

  it('refuses Command Variants for local delivery with E17', async () => {
    const e = testEstate()
    const sync = await response(
      (await e.duis.handle('S', await signedRequest({ ...readSupplyStatus(1), commandVariant: 3 }))).xml,
    )
    expect(sync.code).toBe('E17')
    expect(e.sent).toHaveLength(0)
  })

  describe('refuses, records in the SAT and changes nothing', () => {
    const refused = async (body: Uint8Array, e = testEstate()) => {
      const answer = await e.duis.handle('S', body)
      expect(e.sent).toHaveLength(0)
      expect(e.dcc.pendingSignatures()).toEqual([])
      expect(e.sat.query({ kind: 'request' })).toHaveLength(0)
      const decisions = e.sat.query({ kind: 'decision' })
      expect(decisions).toHaveLength(1)
      expect(e.sat.verify().ok).toBe(true)
      return { answer, record: decisions[0]!, e }
    }

    it('an unsigned request', async () => {
      const xml = new TextEncoder().encode(
        new (await import('@xmldom/xmldom')).XMLSerializer().serializeToString(
          requestDocument(readSupplyStatus(5)),
        ),
      )
      const { answer, record } = await refused(xml)
      expect((await response(answer.xml)).code).toBe('E1')
      expect(record).toMatchObject({
        code: 'E1',
        user: A,
        detail: { step: 'duis-unsigned', authenticated: false },
      })
    })

    it('a request signed with a key that is not the certificate named', async () => {
      // B's key, with KeyInfo naming A's certificate: A's public key does not verify it.
      const forged = { certificate: XML_KEYS.A.certificate, privateKey: XML_KEYS.B.privateKey }
      const { answer, record } = await refused(await signedRequest(readSupplyStatus(6), forged))
      expect((await response(answer.xml)).code).toBe('E1')
      expect(record.detail).toMatchObject({ step: 'duis-bad-signature' })
    })

    it('a request changed after signing', async () => {
      const signed = new TextDecoder().decode(await signedRequest(readSupplyStatus(7)))
      const { record } = await refused(enc(signed.replace(':7</sr:RequestID>', ':8</sr:RequestID>')))
      expect(record.detail).toMatchObject({ step: 'duis-bad-signature' })
    })

    it('a request signed with a certificate the DCC does not know', async () => {
      const { record } = await refused(await signedRequest(readSupplyStatus(8), xmlSigning(A)))
      expect(record.detail).toMatchObject({ step: 'duis-unknown-signer' })
    })

    it('a second signature wrapped around other content', async () => {
      // A valid signed request with an extra signature block moved into the body is not DUIS.
      const signed = new TextDecoder().decode(await signedRequest(readSupplyStatus(9)))
      const sig = signed.slice(signed.indexOf('<ds:Signature'))
      const wrapped = signed.replace(
        '<sr:ReadSupplyStatus/>',
        `<sr:ReadSupplyStatus/>${sig.replace('</sr:Request>', '')}`,
      )
      const { answer } = await refused(enc(wrapped))
      expect(answer.code).toBe('E1')
    })

    it('a replayed RequestID (the same signed request twice)', async () => {
      const e = testEstate()
      const body = await signedRequest(readSupplyStatus(10))
      expect((await e.duis.handle('S', body)).code).toBe('I99')
      const second = await response((await e.duis.handle('S', body)).xml)
      expect(second.code).toBe('E1')
      expect(e.sent).toHaveLength(1)
      expect(e.sat.query({ kind: 'request' })).toHaveLength(1)
      expect(e.sat.query({ kind: 'decision' }).at(-1)!.detail).toMatchObject({
        step: 'duis-replayed',
        authenticated: true,
      })
      // A lower counter for the same device is refused too; a higher one goes through.
      expect((await e.duis.handle('S', await signedRequest(readSupplyStatus(9)))).code).toBe('E1')
      expect((await e.duis.handle('S', await signedRequest(readSupplyStatus(11)))).code).toBe('I99')
    })

    it('XML that is not well-formed: HTTP 400, an unattributable SAT record', async () => {
      const { answer, record } = await refused(enc('<sr:Request><sr:Header>'))
      expect(answer.status).toBe(400)
      expect(record).toMatchObject({
        user: '90B3D51F30000002',
        requestId: '90B3D51F30000002:90B3D51F30000002:0',
        detail: { step: 'duis-not-well-formed', unattributable: true, bytes: 23 },
      })
    })

    it('an XSD-invalid request that names its RequestID: the DUIS refusal under that RequestID', async () => {
      const signed = new TextDecoder().decode(await signedRequest(readSupplyStatus(12)))
      const { answer, record } = await refused(
        enc(signed.replace('<sr:ReadSupplyStatus/>', '<sr:NoSuchBody/>')),
      )
      expect(answer.status).toBe(200)
      expect((await response(answer.xml)).requestId).toBe(
        '90-B3-D5-1F-30-01-00-00:00-DB-12-00-00-00-00-01:12',
      )
      expect(record.detail).toMatchObject({ step: 'duis-xsd-invalid', authenticated: false })
    })

    it('a body over the size limit', async () => {
      const { answer, record } = await refused(new Uint8Array(300 * 1024).fill(0x20))
      expect(answer.status).toBe(400)
      expect(record.detail).toMatchObject({ step: 'duis-too-large', bytes: 300 * 1024 })
    })

    it('deeply nested elements', async () => {
      const deep = `<sr:Request xmlns:sr="${SR_NAMESPACE}">${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</sr:Request>`
      const { answer, record } = await refused(enc(deep))
      expect(answer.status).toBe(400)
      expect(String((record.detail as { step: string }).step)).toMatch(/duis-(too-deep|not-well-formed)/)
    })

    it('100 000-deep nesting (under a body limit raised to let it in): refused by the parser, no stack overflow', async () => {
      const depth = 100_000
      const deep = `<sr:Request xmlns:sr="${SR_NAMESPACE}">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</sr:Request>`
      const { answer, record } = await refused(enc(deep), testEstate({ maxBytes: 1024 * 1024 }))
      expect(answer.status).toBe(400)
      expect(String((record.detail as { step: string }).step)).toMatch(/duis-(too-deep|not-well-formed)/)
    })

    it('100 000-deep nesting at the default body limit: refused for its size before any parser', async () => {
      const deep = `<sr:Request xmlns:sr="${SR_NAMESPACE}">${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</sr:Request>`
      const { record } = await refused(enc(deep))
      expect(record.detail).toMatchObject({ step: 'duis-too-large' })
    })

    it('an entity reference without a DOCTYPE is not well-formed: nothing is expanded', async () => {
      const signed = new TextDecoder().decode(await signedRequest(readSupplyStatus(15)))
      const { answer, record } = await refused(
        enc(signed.replace(':15</sr:RequestID>', ':15&xxe;</sr:RequestID>')),
      )
      expect(answer.status).toBe(400)
      expect(record.detail).toMatchObject({ step: 'duis-not-well-formed' })
    })

    it('an XInclude of a local file is not followed: the request is XSD-invalid and the file is never read', async () => {
      const secret = join(tmpdir(), 'smetsim-duis-xinclude-secret.txt')
      writeFileSync(secret, 'SECRET-XINCLUDE')
      try {
        const signed = new TextDecoder().decode(await signedRequest(readSupplyStatus(16)))
        const xi = signed.replace(
          '<sr:ReadSupplyStatus/>',
          `<sr:ReadSupplyStatus><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://${secret}" parse="text"/></sr:ReadSupplyStatus>`,
        )
        const { answer, record } = await refused(enc(xi))
        expect((await response(answer.xml)).code).toBe('E1')
        expect(record.detail).toMatchObject({ step: 'duis-xsd-invalid' })
        expect(JSON.stringify(record)).not.toContain('SECRET-XINCLUDE')
        expect(answer.xml).not.toContain('SECRET-XINCLUDE')
      } finally {
        rmSync(secret, { force: true })
      }
    })

    it('billion laughs: a DOCTYPE with nested entities is refused before any parser expands them', async () => {
      const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`,
      ).join('')}]><sr:Request xmlns:sr="${SR_NAMESPACE}">&lol9;</sr:Request>`
      const { answer, record } = await refused(enc(lol))
      expect(answer.status).toBe(400)
      expect(record.detail).toMatchObject({ step: 'duis-doctype' })
    })

    it('an external entity naming a local file is refused; the file is never read into anything', async () => {
      const secret = join(tmpdir(), 'smetsim-duis-xxe-secret.txt')
      const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://${secret}">]><sr:Request xmlns:sr="${SR_NAMESPACE}"><sr:Header><sr:RequestID>&x;</sr:RequestID></sr:Header></sr:Request>`
      const { answer, record } = await refused(enc(xxe))
      expect(answer.status).toBe(400)
      expect(JSON.stringify(record)).not.toContain('SECRET')
      expect(record.detail).toMatchObject({ step: 'duis-doctype' })
    })
  })

  it('a replayed Signed Pre-Command (the same CV5 twice): executed once, the second refused and recorded', async () => {
    const e = testEstate()
    const transform = await e.duis.handle('T', await signedRequest(armSupply(3001)))
    const read = readDuisXml(enc(transform.xml))
    if (!read.ok) throw new Error(read.error.reason)
    const pre = read.value.document.getElementsByTagNameNS(SR_NAMESPACE, 'PreCommand')[0]
    const payload = pre?.getElementsByTagNameNS(SR_NAMESPACE, 'GBCSPayload')[0]?.textContent
    expect(payload).toBeTruthy()
    // Supplier A signs the Pre-Command with its digital signing key, as its own system would.
    const gbcs = encodeSignedFrame(
      decodeFrame(Buffer.from(payload!, 'base64')).signing,
      privateRef(PARTIES.supplierA.ds),
      backend,
    )
    const cv5 = await signedRequest({
      ...armSupply(3001, 5),
      body: 'SignedPreCommand',
      children: [['GBCSPayload', Buffer.from(gbcs).toString('base64')]],
    })
    expect((await response((await e.duis.handle('S', cv5)).xml)).code).toBe('I99')
    expect(e.sent).toHaveLength(1)
    const before = e.sat.query({}).length
    const again = await response((await e.duis.handle('S', cv5)).xml)
    // The pipeline's answer: E12, no Pre-Command awaits a signature for that RequestID any more.
    expect(again.code).toBe('E12')
    expect(e.sent).toHaveLength(1)
    // The pipeline's own records of it: the request, then its refusal.
    expect(
      e.sat
        .query({})
        .slice(before)
        .map((r) => r.kind),
    ).toEqual(['request', 'decision'])
    expect(e.sat.query({}).at(-1)).toMatchObject({
      kind: 'decision',
      code: 'E12',
      requestId: '90B3D51F30010000:00DB120000000001:3001',
      detail: { commandVariant: 5, step: 'preCommand' },
    })
    expect(e.sat.verify().ok).toBe(true)
  })

  it('refuses a signature that verifies with a known certificate of someone who is not a DCC User', async () => {
    const e = testEstate()
    const stranger = xmlSigning('90B3D51F30090000' as typeof A)
    e.signingCertificates.add(stranger.certificate)
    const body = await signedRequest({ ...readSupplyStatus(14), originator: '90B3D51F30090000' }, stranger)
    const answer = await e.duis.handle('S', body)
    expect((await response(answer.xml)).code).toBe('E1')
    expect(e.sent).toHaveLength(0)
    expect(e.sat.query({ kind: 'decision' })[0]!.detail).toMatchObject({ step: 'duis-signer-not-a-user' })
  })

  it('passes a request signed by another User to access control as that sender (here refused: B is not an SRP for A)', async () => {
    const e = testEstate()
    const forA = await e.duis.handle('S', await signedRequest(readSupplyStatus(13), XML_KEYS.B))
    expect((await response(forA.xml)).code).toBe('E1')
    const request = e.sat.query({ kind: 'request' })[0]!
    expect(request).toMatchObject({ user: B, businessOriginator: A })
    expect(e.sent).toHaveLength(0)
  })
})

describe('DUIS response codes', () => {
  it('are the schema enumeration', () => {
    expect(isDuisResponseCode('I99')).toBe(true)
    expect(isDuisResponseCode('E120207')).toBe(true)
    expect(isDuisResponseCode('EMALFORMED')).toBe(false)
  })
})

describe('readDuisXml', () => {
  it('accepts a signed DUIS request and refuses the same text with a DOCTYPE', async () => {
    const xml = new TextDecoder().decode(await signedRequest(readSupplyStatus(1)))
    expect(readDuisXml(enc(xml)).ok).toBe(true)
    const withDoctype = xml.replace('<sr:Request', '<!DOCTYPE sr:Request><sr:Request')
    expect(readDuisXml(enc(withDoctype))).toMatchObject({ ok: false, error: { kind: 'doctype' } })
    expect(readDuisXml(new Uint8Array([0x3c, 0xff, 0xfe]))).toMatchObject({
      ok: false,
      error: { kind: 'not-utf8' },
    })
  })

  it('the vendored schema is the DCC’s DUIS 5.4', () => {
    const xsd = readFileSync(new URL('../schema/DUIS Schema V5.4.xsd', import.meta.url), 'utf8')
    expect(xsd).toContain('DUIS XML Schema Version - Request           - 5.4')
  })
})

describe('XML signatures', () => {
  it('round-trips and names the signer by issuer and serial', async () => {
    const doc = requestDocument(readSupplyStatus(3))
    const xml = await signDuisDocument(doc, XML_KEYS.A)
    expect(xml).toContain('<ds:X509IssuerName>CN=Z1,OU=07</ds:X509IssuerName>')
    const read = readDuisXml(enc(xml))
    if (!read.ok) throw new Error(read.error.reason)
    const v = await verifyDuisSignature(read.value.document, (s) =>
      s === serialOf(XML_KEYS.A.certificate) ? XML_KEYS.A.certificate : undefined,
    )
    expect(v.ok).toBe(true)
    const root = read.value.document.documentElement as unknown as XmlDomElement
    expect(root.lastChild && (root.lastChild as XmlDomElement).localName).toBe('Signature')
  })

  it('an ECDSA signature of the wrong length, or flipped, does not verify (and nothing throws)', async () => {
    const xml = await signDuisDocument(requestDocument(readSupplyStatus(4)), XML_KEYS.A)
    const lookup = (s: bigint) =>
      s === serialOf(XML_KEYS.A.certificate) ? XML_KEYS.A.certificate : undefined
    const value = /<ds:SignatureValue>([^<]*)</.exec(xml)![1]!
    const raw = Buffer.from(value, 'base64')
    expect(raw).toHaveLength(64) // IEEE P1363 r‖s, as the DCC's tool writes it
    const flipped = Buffer.from(raw)
    flipped[10]! ^= 1
    for (const bad of [raw.subarray(0, 63), Buffer.concat([raw, Buffer.of(0)]), flipped]) {
      const read = readDuisXml(enc(xml.replace(value, bad.toString('base64'))))
      if (!read.ok) throw new Error(read.error.reason)
      expect(await verifyDuisSignature(read.value.document, lookup)).toEqual({
        ok: false,
        error: 'the signature does not verify',
      })
    }
  })
})

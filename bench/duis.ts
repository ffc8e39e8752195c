/**
 * The DUIS XML interface (packages/duis): signed DUIS requests per second through
 * `POST /api/v1/serviceS` — size and DOCTYPE checks, libxml2 well-formedness and DUIS 5.4 XSD
 * validation, XMLDSig verification against the User's certificate, the replay check, the Service
 * Request pipeline, and the DUIS Responses signed by the DCC (the synchronous I99 and the
 * asynchronous device outcome queued for the User) — as a ratio to the JSON API's
 * `POST /service-requests` for the same non-critical SR 7.4 (ECS45 Read Supply Status) on the
 * same DCC and the same fastify server, in the same run.
 *
 * Both sides on equal terms: one server built with `insecureLocal` (plain HTTP, no caller
 * authenticated: the JSON API then names its User in the body, DUIS by the XML signature), each
 * request through fastify's `app.inject` (no sockets, no TLS on either side). The transport
 * answers nothing, so every request ends E21 at the device: the device's side is bench/device.ts.
 * DUIS requests are signed before timing (a User's system signs them, not the DCC); each has a
 * fresh RequestID counter, as the replay check wants. The suite runs in rounds, DUIS and JSON
 * in turn (every other round JSON first); the ratio printed is the median of the per-round
 * ratios, and each round's is shown. Rows for the XML parts alone (XSD, signature check, the
 * DCC's signing of a Response) show where the time goes.
 *
 *   node --import tsx bench/duis.ts [--quick]
 */
import { Bench } from 'tinybench'
import { createDccHttpServer } from '../packages/dcc/src/index.ts'
import {
  buildResponse,
  readDuisXml,
  registerDuisRoutes,
  serialOf,
  signDuisDocument,
  verifyDuisSignature,
} from '../packages/duis/src/index.ts'
import {
  A,
  ESME_EUI,
  readSupplyStatus,
  signedRequest,
  testEstate,
  XML_KEYS,
} from '../packages/duis/src/testing.ts'
import { medianOps, ratioRows } from './lib/table.ts'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 5
const TIME_MS = quick ? 300 : 1000
/** At most this many timed requests per task and round (DUIS ones are signed beforehand). */
const POOL = quick ? 200 : 600
const WARMUP = 20

const e = testEstate({ endpoints: { [A]: 'http://127.0.0.1:9/bench' }, post: async () => true })
const app = createDccHttpServer(e.dcc, e.sat, { insecureLocal: true })
registerDuisRoutes(app, e.duis)
await app.ready()

let counter = 0
const failures: string[] = []
const fail = (what: string) => {
  if (failures.length < 5) failures.push(what)
}

const DUIS = 'DUIS XML: POST /api/v1/serviceS, SR 7.4 (XSD + XMLDSig + pipeline + signed Responses)'
const JSON_API = 'JSON API: POST /service-requests, SR 7.4'

async function duisTask(): Promise<{ fn: () => Promise<void> }> {
  const bodies: Buffer[] = []
  for (let i = 0; i < POOL + WARMUP; i++)
    bodies.push(Buffer.from(await signedRequest(readSupplyStatus(++counter))))
  let next = 0
  return {
    fn: async () => {
      const body = bodies[next++]
      if (!body) throw new Error('the pool of signed DUIS requests ran out: raise POOL')
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/serviceS',
        headers: { 'content-type': 'application/xml' },
        payload: body,
      })
      if (res.statusCode !== 200 || !res.body.includes('<sr:ResponseCode>I99</sr:ResponseCode>'))
        fail(`DUIS: ${res.statusCode} ${res.body.slice(0, 200)}`)
    },
  }
}

function jsonTask(): { fn: () => Promise<void> } {
  return {
    fn: async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/service-requests',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({
          requestId: `${A}:${ESME_EUI}:${++counter}`,
          role: 'IS',
          srv: '7.4',
          commandVariant: 1,
          deviceType: 'ESME',
        }),
      })
      if (res.statusCode !== 200 || !res.body.includes('"code":"E21"'))
        fail(`JSON: ${res.statusCode} ${res.body.slice(0, 200)}`)
    },
  }
}

const ratios: number[] = []
const rates: Record<string, number[]> = { [DUIS]: [], [JSON_API]: [] }
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: TIME_MS, iterations: POOL, warmupIterations: WARMUP, warmupTime: 50 })
  const duis = await duisTask()
  const json = jsonTask()
  if (round % 2 === 0) bench.add(DUIS, duis.fn).add(JSON_API, json.fn)
  else bench.add(JSON_API, json.fn).add(DUIS, duis.fn)
  await bench.run()
  const d = medianOps(bench, DUIS)
  const j = medianOps(bench, JSON_API)
  rates[DUIS]!.push(d)
  rates[JSON_API]!.push(j)
  ratios.push(d / j)
  // The asynchronous E21 Responses the DUIS side queued, delivered (untimed) so the queue stays small.
  const run = await e.delivery.run(e.now())
  if (run.failed || run.dropped) fail(`delivery: ${JSON.stringify(run)}`)
}
// Every DUIS request must have reached the device (I99, then E21 queued), every JSON one too.
if (failures.length)
  throw new Error(`requests did not all reach the transport: the measurement is void\n${failures.join('\n')}`)
const queued = e.delivery.pending()

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// Where the DUIS time goes: the XML parts alone, on one signed request and one Response.
const parts = new Bench({ time: quick ? 300 : 1000, warmupTime: 100 })
const one = await signedRequest(readSupplyStatus(++counter))
const read = readDuisXml(one)
if (!read.ok) throw new Error(read.error.reason)
const lookup = (s: bigint) => (s === serialOf(XML_KEYS.A.certificate) ? XML_KEYS.A.certificate : undefined)
const XSD = 'readDuisXml: size, DOCTYPE, libxml2 parse + DUIS 5.4 XSD, xmldom'
parts
  .add(JSON_API, jsonTask().fn)
  .add(XSD, () => {
    if (!readDuisXml(one).ok) throw new Error('not valid')
  })
  .add('verifyDuisSignature (XMLDSig, ECDSA P-256, exc-c14n)', async () => {
    if (!(await verifyDuisSignature(read.value.document, lookup)).ok) throw new Error('not verified')
  })
  .add('signDuisDocument: one DCC Response', async () => {
    await signDuisDocument(
      buildResponse(
        {
          requestId: '90-B3-D5-1F-30-01-00-00:00-DB-12-00-00-00-00-01:1',
          code: 'I99',
          at: new Date(0).toISOString(),
        },
        { kind: 'message', serviceReference: '7.4', srv: '7.4' },
      ),
      XML_KEYS.dcc,
    )
  })
  .add('dcc.submit alone: SR 7.4 (the pipeline, no HTTP)', async () => {
    await e.dcc.submit({
      requestId: `${A}:${ESME_EUI}:${++counter}`,
      role: 'IS',
      srv: '7.4',
      commandVariant: 1,
      deviceType: 'ESME',
    })
  })
await parts.run()

console.log(
  `\nDUIS XML interface vs the JSON API (node ${process.version}, native backend, app.inject, insecureLocal)`,
)
console.table(
  rates[DUIS]!.map((d, i) => ({
    round: i + 1,
    'DUIS req/s': Math.round(d),
    'JSON req/s': Math.round(rates[JSON_API]![i]!),
    'DUIS / JSON': `${ratios[i]!.toFixed(3)}×`,
  })),
)
console.log(
  `DUIS requests/s as a ratio to the JSON API's (median of ${ROUNDS} rounds): ${median(ratios).toFixed(3)}× ` +
    `(medians: DUIS ${Math.round(median(rates[DUIS]!))} req/s, JSON ${Math.round(median(rates[JSON_API]!))} req/s)`,
)
if (queued) console.log(`(${queued} asynchronous Responses still queued)`)
console.log('\nThe XML parts alone (ratios to the JSON API request)')
console.table(ratioRows(parts, JSON_API))
await app.close()

/**
 * What the DUIS interoperability tests share (test/duis-interop*.test.ts): the DCC's signing tool
 * in one JVM, DCC Boxed's EUIs, the cases (one duis-templates template per SRV and device type the
 * DCC builds), and one case run end to end with the DCC's tools — build from the template with
 * @smartdcc/duis-parser, sign with the tool (no key arguments: it picks the ZAZ1 key from the
 * RequestID and sets the counter to the time in ms), POST to the DUIS web service, validate and
 * parse every answer with the same tools, CV4 → the User signs the Pre-Command → CV5 for a
 * Critical SRV. Where the DCC runs (in this process, or a spawned `smetsim dcc serve`) is the
 * caller's.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import {
  constructDuis,
  isSimplifiedDuisOutputResponse,
  parseDuis,
  type SimplifiedDuisInput,
} from '@smartdcc/duis-parser'
import type { loadTemplates } from '@smartdcc/duis-templates'
import type { Eui64 } from '@smetsim/core'
import { SERVICE_OF_COMMAND_VARIANT, SERVICE_PATHS } from '@smetsim/duis'
import { decodeFrame, encodeSignedFrame, getBackend, type PrivateKeyRef } from '@smetsim/gbcs'
import { expect } from 'vitest'

const require = createRequire(import.meta.url)
export const backend = getBackend('native')
export const TOOL_JAR = require.resolve('@smartdcc/duis-sign-wrap/dist/tool.jar')
export const KEYSTORE = require.resolve('@smartdcc/dccboxed-keystore/keystore.json')
export const TEMPLATE_DIR = new URL(
  'templates/',
  `file://${require.resolve('@smartdcc/duis-templates/package.json')}`,
)

export const javaMissing = (() => {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' })
    return false
  } catch {
    return true
  }
})()
if (javaMissing && process.env.CI === 'true')
  throw new Error('java is needed for the DUIS interoperability test')

export const SUPPLIER = '90B3D51F30010000' as Eui64
/** DCC Boxed's ESME and GSME, as duis-templates address them. */
export const ESME = '00DB1234567890A0' as Eui64
export const GSME = '00DB1234567890A1' as Eui64
/** Installed, not yet commissioned: SR 8.1.1's targets (a Commissioned device answers E5). */
export const NEW_ESME = '00DB1234567890B0' as Eui64
export const NEW_GSME = '00DB1234567890B1' as Eui64
/** The DCC's EUI: the target of a Non-Device request (CV8), as in duis-templates. */
export const DCC_EUI = '90B3D51F30000002' as Eui64

export const duisEui = (e: string) => e.match(/../g)!.join('-').toLowerCase()

export type Tool = ReturnType<typeof startTool>

/** The signing tool, one JVM for every message (test/duis-interop/JarBatch.java). */
export function startTool() {
  const jvm = spawn('java', ['-cp', TOOL_JAR, new URL('./JarBatch.java', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: jvm.stdout! })
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (line) => waiting.shift()?.(line))
  let queue = Promise.resolve()
  const run = (mode: 'sign' | 'sign-preserve' | 'validate', xml: string) => {
    const result = queue.then(
      () =>
        new Promise<{ code: number; out: string; err: string }>((resolve) => {
          waiting.push((line) => {
            const [code, out, err] = line.split(' ')
            resolve({
              code: Number(code),
              out: Buffer.from(out ?? '', 'base64').toString('utf8'),
              err: Buffer.from(err ?? '', 'base64').toString('utf8'),
            })
          })
          jvm.stdin!.write(`${mode} ${Buffer.from(xml).toString('base64')}\n`)
        }),
    )
    queue = result.then(() => undefined)
    return result
  }
  return { run, stop: () => jvm.kill() }
}

export interface Case {
  template: string
  /** The RequestID's target: the device, or the DCC for a Non-Device SRV. */
  device: Eui64
  /** What the case is, when it is not the template as it stands. */
  label?: string
  /** Changes the template's body (the request is the template's otherwise). */
  adapt?: (body: Record<string, unknown>) => void
  /** What the RequestID targets, for the table, when it is not a meter or the DCC. */
  kind?: string
  /** Why the device's answer carries no GBCS response, when it does not. */
  withoutGbcs?: string
}

/** One template per SRV and device type the DCC builds (duis-templates' key: use case and SRV). */
export const CASES: Case[] = [
  // duis-templates keys this use case's CV 7 template (local delivery too), not its CV 4 one.
  ['ECS42_7.1', ESME],
  ['ECS42_7.1_SUCCESS_REQUEST_DUIS.XML', ESME],
  ['ECS43_7.2', ESME],
  ['GCS32_7.2', GSME],
  ['ECS44_7.3', ESME],
  ['GCS39_7.3', GSME],
  ['ECS45_7.4', ESME],
  ['GCS33_7.4', GSME],
  ['ECS02_1.6_IMMEDIATE_SINGLE', ESME],
  ['ECS03_1.6_IMMEDIATE_SINGLE', ESME],
  ['GCS02_1.6_IMMEDIATE', GSME],
  ['GCS03_1.6_IMMEDIATE', GSME],
  ['CS01a_2.2', ESME],
  ['ECS09_2.5', ESME],
  ['GCS06_2.5', GSME],
  ['ECS17b_4.1.1_SINGLE', ESME],
  ['GCS13a_4.1.1_RELIABLE_GSME', GSME],
  ['ECS19_4.3', ESME],
  ['GCS14_4.3_RELIABLE_GSME', GSME],
  ['ECS17c_4.16', ESME],
  ['ECS70_6.11', ESME],
  ['GCS28_6.11', GSME],
  ['ECS70Commission_8.1.1', NEW_ESME],
  ['GCS28Commission_8.1.1', NEW_GSME],
  ['CS02bSupplierByTransCoS_6.23_IMMEDIATE', ESME],
  ['CS02bSupplierByTransCoS_6.23_IMMEDIATE', GSME],
  ['CS02bSupplierByTransCoS_6.23_FUTURE_DATED', ESME],
  // Non-Device (CV8, the Non-Device Service). The only 5.1 template schedules SR 4.6.1.
  ['ECS21a_5.1._DCC_SCHEDULED', DCC_EUI],
  ['CCS01_8.11', ESME],
].map(([template, device]) => ({ template: template!, device: device as Eui64 }))

// SR 5.1 for the one schedulable SRV the DCC builds (4.16, DUIS DSPReadActivePowerImport): the
// 5.1 template with its scheduled SRV and body swapped, starting tomorrow (no duis-templates
// template has it). As DUIS writes SR 5.1, its RequestID targets the DCC and CreateSchedule's
// DeviceID (XSD DSPSchedule, minOccurs 1) names the device: the template's 00-DB-12-34-56-78-90-A0,
// this estate's ESME.
CASES.push({
  template: 'ECS21a_5.1._DCC_SCHEDULED',
  label: 'ECS21a_5.1 → 4.16, DeviceID the ESME',
  device: DCC_EUI,
  adapt: (body) => {
    const create = body.CreateSchedule as Record<string, unknown>
    expect(String(create.DeviceID).toLowerCase()).toBe(duisEui(ESME))
    delete create.DSPRetrieveImportDailyReadLog
    create.ScheduleStartDate = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    create.DSPScheduledServiceReference = '4.16'
    create.DSPScheduledServiceReferenceVariant = '4.16'
    create.DSPReadActivePowerImport = {}
  },
})

export interface Outcome {
  template: string
  srv: string
  device: string
  kind?: string
  /** The synchronous answers, in order (CV4 then CV5 for a Critical SRV). */
  sync: string[]
  /** The asynchronous device outcome. */
  async?: string
  /** Anything the DCC's tool refused (XSD or signature), with its message. */
  toolRefused: string[]
  /** The outcome expected (I0 unless the caller's table says otherwise, with why). */
  expected?: string
  pass?: boolean
}

/** An I99 after which nothing arrives while the test runs (a future-dated command). */
export const NOTHING_YET = 'nothing yet'
const kindOf = (device: string) =>
  device === DCC_EUI ? 'DCC ' : device === ESME || device === NEW_ESME ? 'ESME' : 'GSME'

/** The table printed after the cases, by SRV. */
export function outcomeTable(title: string, outcomes: readonly Outcome[]): string {
  const rows = outcomes.map(
    (o) =>
      `${o.pass ? 'pass' : 'FAIL'}  ${o.srv.padEnd(6)} ${o.kind ?? kindOf(o.device)}  ${o.template.padEnd(42)}  sync ${o.sync.join(' → ').padEnd(9)} async ${(o.async ?? '—').padEnd(11)} expected ${o.expected ?? '?'}${o.toolRefused.length ? `  tool refused: ${o.toolRefused.join('; ')}` : ''}`,
  )
  const passed = outcomes.filter((o) => o.pass).length
  return `${title}, by SRV (${passed} of ${outcomes.length} as expected):\n${rows.join('\n')}`
}

export interface CaseContext {
  tool: Tool
  templates: Awaited<ReturnType<typeof loadTemplates>>
  /** The DCC's DUIS base URL (http://127.0.0.1:port). */
  base: string
  /** The ZAZ1 supplier's digital signing key: it signs Pre-Commands (GBCS, not XML). */
  supplierDs: PrivateKeyRef
  /** The asynchronous DUIS message for this RequestID, or undefined when none came. */
  asyncFor(requestId: string): Promise<string | undefined>
  /** The outcome expected when it is not I0, each explained where it is defined. */
  expectedOf(c: Case): string | undefined
}

/** Runs one case: template → sign → POST (→ CV5) → validate and parse every answer. */
export async function runCase(c: Case, x: CaseContext, outcomes: Outcome[]): Promise<Outcome> {
  const { template, device } = c
  // A duis-templates key, or a file of its templates folder.
  const simplified = template.endsWith('.XML')
    ? parseDuis('simplified', readFileSync(new URL(template, TEMPLATE_DIR)))
    : x.templates[template]?.simplified
  expect(simplified, `template ${template}`).toBeDefined()
  const request = structuredClone(simplified) as SimplifiedDuisInput & { header: { type: 'request' } }
  request.header.requestId = { originatorId: duisEui(SUPPLIER), targetId: duisEui(device), counter: 0 }
  c.adapt?.(request.body as Record<string, unknown>)
  const cv =
    typeof request.header.commandVariant === 'number'
      ? request.header.commandVariant
      : request.header.commandVariant.number
  const srv =
    typeof request.header.serviceReferenceVariant === 'string'
      ? request.header.serviceReferenceVariant
      : request.header.serviceReferenceVariant['Service Reference Variant']
  const outcome: Outcome = {
    template: c.label ?? template,
    srv,
    device,
    ...(c.kind && { kind: c.kind }),
    sync: [],
    toolRefused: [],
  }
  outcomes.push(outcome)

  /** POSTs signed XML to the service for its Command Variant; the tool validates the answer, the library parses it. */
  const send = async (signed: string, variant: number) => {
    const service = SERVICE_OF_COMMAND_VARIANT[variant]!
    const res = await fetch(`${x.base}${SERVICE_PATHS[service]}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml' },
      body: signed,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/)
    const xml = await res.text()
    const checked = await x.tool.run('validate', xml)
    if (checked.code !== 0) outcome.toolRefused.push(`sync: ${checked.err.trim().split('\n').at(-1)}`)
    const parsed = parseDuis('simplified', checked.code === 0 ? checked.out : xml)
    if (!isSimplifiedDuisOutputResponse(parsed)) throw new Error('not a DUIS response')
    outcome.sync.push(parsed.header.responseCode)
    return parsed
  }

  const signed = await x.tool.run('sign', constructDuis('simplified', request))
  expect(signed.code, signed.err).toBe(0)
  const first = await send(signed.out, cv)
  let final = first
  let requestId = /<sr:RequestID>([^<]*)</.exec(signed.out)?.[1]
  if (cv === 4 && first.header.responseCode === 'I0') {
    const body = first.body as { ResponseMessage?: { PreCommand?: { GBCSPayload: string } } }
    const pre = body.ResponseMessage?.PreCommand?.GBCSPayload
    expect(pre, 'the Transform Service answers with a Pre-Command').toBeDefined()
    // The User signs the Pre-Command with its ZAZ1 digital signing key (GBCS, not XML).
    const gbcs = encodeSignedFrame(decodeFrame(Buffer.from(pre!, 'base64')).signing, x.supplierDs, backend)
    const cv5: SimplifiedDuisInput = {
      header: {
        type: 'request',
        requestId: first.header.requestId!,
        commandVariant: 5,
        serviceReference: request.header.serviceReference,
        serviceReferenceVariant: srv,
      },
      body: { SignedPreCommand: { GBCSPayload: Buffer.from(gbcs).toString('base64') } },
    }
    const signedCv5 = await x.tool.run('sign-preserve', constructDuis('simplified', cv5))
    expect(signedCv5.code, signedCv5.err).toBe(0)
    requestId = /<sr:RequestID>([^<]*)</.exec(signedCv5.out)?.[1]
    final = await send(signedCv5.out, 5)
  }
  if (final.header.responseCode === 'I99') {
    expect(requestId).toBeDefined()
    const later = await x.asyncFor(requestId!)
    if (later === undefined) outcome.async = NOTHING_YET
    else {
      const checked = await x.tool.run('validate', later)
      if (checked.code !== 0) outcome.toolRefused.push(`async: ${checked.err.trim().split('\n').at(-1)}`)
      const parsed = parseDuis('simplified', checked.code === 0 ? checked.out : later)
      if (!isSimplifiedDuisOutputResponse(parsed)) throw new Error('not a DUIS response')
      outcome.async = parsed.header.responseCode
      const payload = (parsed.body as { ResponseMessage?: { GBCSPayload?: string } }).ResponseMessage
        ?.GBCSPayload
      if (outcome.async === 'I0' && c.withoutGbcs) expect(payload, c.withoutGbcs).toBeUndefined()
      else if (outcome.async === 'I0') {
        // The device's own response, as GBCS: from the device, to the supplier.
        const frame = decodeFrame(Buffer.from(payload!, 'base64'))
        expect(frame.signing.cra).toBe('response')
      }
    }
  }
  outcome.expected = x.expectedOf(c) ?? 'I0'
  expect(outcome.toolRefused).toEqual([])
  expect(outcome.async ?? outcome.sync.at(-1)).toBe(outcome.expected)
  outcome.pass = true
  return outcome
}

/**
 * SR 5.1 → 5.2 → 5.3 as DUIS writes them, to the DCC: the 5.1 template (SR 4.6.1 with its
 * ReadLogPeriodOffset) starting tomorrow, read back by DeviceID and by DSPScheduleID alone (the
 * DCC finds the device from the schedule), then deleted by DSPScheduleID; every answer validated
 * by the tool and parsed by duis-parser. Returns what the two reads carried.
 */
export async function scheduleReadAndDelete(x: Pick<CaseContext, 'tool' | 'templates' | 'base'>) {
  const post = async (input: SimplifiedDuisInput) => {
    const signed = await x.tool.run('sign', constructDuis('simplified', input))
    expect(signed.code, signed.err).toBe(0)
    const res = await fetch(`${x.base}${SERVICE_PATHS.D}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/xml' },
      body: signed.out,
    })
    const checked = await x.tool.run('validate', await res.text())
    expect(checked.code, checked.err).toBe(0)
    const parsed = parseDuis('simplified', checked.out)
    if (!isSimplifiedDuisOutputResponse(parsed)) throw new Error('not a DUIS response')
    return parsed
  }
  const header = (srv: string) => ({
    type: 'request' as const,
    requestId: { originatorId: duisEui(SUPPLIER), targetId: duisEui(DCC_EUI), counter: 0 },
    commandVariant: 8 as const,
    serviceReference: srv,
    serviceReferenceVariant: srv,
  })
  const create = structuredClone(x.templates['ECS21a_5.1._DCC_SCHEDULED']!.simplified) as SimplifiedDuisInput
  create.header = header('5.1')
  const body = create.body as { CreateSchedule: Record<string, unknown> }
  body.CreateSchedule.ScheduleStartDate = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
  const created = await post(create)
  expect(created.header.responseCode).toBe('I0')
  const id = String(
    (created.body as { ResponseMessage: { DSPScheduleID: unknown } }).ResponseMessage.DSPScheduleID,
  )
  const schedulesOf = (r: Awaited<ReturnType<typeof post>>) =>
    (r.body as { ResponseMessage: { DSPSchedulesRead?: { DSPSchedules: unknown } } }).ResponseMessage
      .DSPSchedulesRead?.DSPSchedules
  const byDevice = await post({ header: header('5.2'), body: { ReadSchedule: { DeviceID: duisEui(ESME) } } })
  const byId = await post({ header: header('5.2'), body: { ReadSchedule: { DSPScheduleID: id } } })
  const deleted = await post({ header: header('5.3'), body: { DeleteSchedule: { DSPScheduleID: id } } })
  const gone = await post({ header: header('5.2'), body: { ReadSchedule: { DSPScheduleID: id } } })
  return {
    codes: [byDevice, byId, deleted, gone].map((r) => r.header.responseCode),
    id,
    template: body.CreateSchedule,
    byDevice: schedulesOf(byDevice),
    byId: schedulesOf(byId),
  }
}

/** What both interop tests expect of SR 5.2 / 5.3 on a schedule the template created (`scheduleReadAndDelete`). */
export function expectScheduleReadAndDelete(r: Awaited<ReturnType<typeof scheduleReadAndDelete>>): void {
  // Read, read, deleted, then not found (E050201).
  expect(r.codes).toEqual(['I0', 'I0', 'I0', 'E050201'])
  const schedules = [r.byDevice].flat() as Record<string, unknown>[]
  const mine = schedules.find((s) => String(s.DSPScheduleID) === r.id)
  expect(mine).toBeDefined()
  expect([r.byId].flat()).toHaveLength(1)
  expect(String(([r.byId].flat()[0] as Record<string, unknown>).DSPScheduleID)).toBe(r.id)
  const details = mine!.DSPScheduleDetails as Record<string, unknown>
  // As created: the template's fields come back, its ReadLogPeriodOffset too.
  for (const field of ['ScheduleFrequency', 'ScheduleStartDate', 'DSPScheduledServiceReferenceVariant'])
    expect(String(details[field])).toBe(String(r.template[field]))
  expect(String(details.DeviceID).toLowerCase()).toBe(String(r.template.DeviceID).toLowerCase())
  const offsets = (o: unknown) =>
    Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
  expect(offsets(details.DSPRetrieveImportDailyReadLog)).toEqual(
    offsets(r.template.DSPRetrieveImportDailyReadLog),
  )
}

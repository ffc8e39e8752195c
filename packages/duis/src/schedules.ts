/**
 * DCC Schedules as DUIS writes them (DUIS 5.4 XSD `DSPSchedule`): the element each schedulable
 * SRV's own parameters travel in, read from an SR 5.1 CreateSchedule, and the schedules an SR 5.2
 * Read Schedule answers with (`ResponseMessage/DSPSchedulesRead`: up to 99 `DSPSchedules`, each a
 * `DSPScheduleID` and its `DSPScheduleDetails`, a `DSPSchedule` again).
 */
import type { DuisResult } from '@smetsim/dcc'
import type { Json } from '@smetsim/gbcs'
import type { Element as XmlDomElement } from '@xmldom/xmldom'
import { duisEui, serviceReferenceOf, type XmlNode } from './response.ts'

/** A DCC Schedule as the pipeline answers SR 5.2 with it. */
type DccSchedule = NonNullable<DuisResult['schedules']>[number]

/**
 * The `DSPSchedule` choice element of each `DSPScheduledServiceReferenceVariant`, and whether its
 * type is `ReadLogPeriodOffset` (the four fields below) rather than one with no content
 * (`DSPReadData`, `RecordNetworkDataGAS`).
 */
export const SCHEDULED_ELEMENTS: Readonly<Record<string, { element: string; periodOffset: boolean }>> = {
  '4.2': { element: 'DSPReadInstantaneousExportRegisters', periodOffset: false },
  '4.6.1': { element: 'DSPRetrieveImportDailyReadLog', periodOffset: true },
  '4.6.2': { element: 'DSPRetrieveExportDailyReadLog', periodOffset: true },
  '4.8.1': { element: 'DSPReadActiveImportProfileData', periodOffset: true },
  '4.8.2': { element: 'DSPReadReactiveImportProfileData', periodOffset: true },
  '4.8.3': { element: 'DSPReadExportProfileData', periodOffset: true },
  '4.10': { element: 'DSPReadNetworkData', periodOffset: true },
  '4.12.1': { element: 'DSPReadMaximumDemandImportRegisters', periodOffset: false },
  '4.12.2': { element: 'DSPReadMaximumDemandExportRegisters', periodOffset: false },
  '4.14': { element: 'DSPReadPrepaymentDailyReadLog', periodOffset: true },
  '4.15': { element: 'DSPReadLoadLimitData', periodOffset: false },
  '4.16': { element: 'DSPReadActivePowerImport', periodOffset: false },
  '4.17': { element: 'DSPRetrieveDailyConsumptionLog', periodOffset: true },
  '14.1': { element: 'DSPRecordNetworkDataGAS', periodOffset: false },
}

/** `ReadLogPeriodOffset`'s elements (XSD order) and the parameter each becomes. */
const PERIOD_OFFSET: readonly [element: string, parameter: string, numeric: boolean][] = [
  ['StartDateOffset', 'startDateOffset', true],
  ['StartTime', 'startTime', false],
  ['EndDateOffset', 'endDateOffset', true],
  ['EndTime', 'endTime', false],
]

/** DSPSchedulesRead holds at most this many DSPSchedules (XSD maxOccurs). */
export const MAX_SCHEDULES_READ = 99

const childNamed = (el: XmlDomElement | undefined, name: string): XmlDomElement | undefined => {
  if (!el) return undefined
  for (let n = el.firstChild; n; n = n.nextSibling)
    if (
      n.nodeType === 1 &&
      (n as XmlDomElement).localName === name &&
      (n as XmlDomElement).namespaceURI === el.namespaceURI
    )
      return n as XmlDomElement
  return undefined
}

/**
 * The scheduled SRV's own parameters in a CreateSchedule (`ReadLogPeriodOffset`'s four fields,
 * lower camel case), kept with the schedule so that SR 5.2 can write them back; undefined when
 * the SRV's element has none.
 */
export function scheduledParametersOf(
  create: XmlDomElement,
  srv: string | undefined,
): { [k: string]: Json } | undefined {
  const known = srv === undefined ? undefined : SCHEDULED_ELEMENTS[srv]
  if (!known?.periodOffset) return undefined
  const el = childNamed(create, known.element)
  if (!el) return undefined
  const out: { [k: string]: Json } = {}
  for (const [element, parameter, numeric] of PERIOD_OFFSET) {
    const text = childNamed(el, element)?.textContent?.trim()
    if (text !== undefined) out[parameter] = numeric ? Number(text) : text
  }
  return out
}

/** The scheduled SRV's element as DSPScheduleDetails carries it, or undefined when it cannot be written. */
function scheduledElement(schedule: DccSchedule): XmlNode | undefined {
  const known = SCHEDULED_ELEMENTS[schedule.request.srv]
  if (!known) return undefined
  if (!known.periodOffset) return [known.element, []]
  const p = schedule.request.parameters
  const fields: XmlNode[] = []
  for (const [element, parameter] of PERIOD_OFFSET) {
    const v = p[parameter]
    if (typeof v !== 'string' && typeof v !== 'number') return undefined
    fields.push([element, String(v)])
  }
  return [known.element, fields]
}

/**
 * SR 5.2's DSPSchedulesRead: one DSPSchedules per schedule, in the book's order, at most
 * MAX_SCHEDULES_READ. A schedule whose SRV needs a `ReadLogPeriodOffset` it was not created with
 * (one made through the JSON API without those parameters) cannot be written valid and is left
 * out; `omitted` says how many were.
 */
export function dspSchedulesRead(schedules: readonly DccSchedule[]): { nodes: XmlNode[]; omitted: number } {
  const nodes: XmlNode[] = []
  let omitted = 0
  for (const s of schedules) {
    const element = scheduledElement(s)
    if (!element || nodes.length >= MAX_SCHEDULES_READ) {
      omitted++
      continue
    }
    const details: XmlNode[] = [
      ['ScheduleFrequency', s.frequency],
      ['ScheduleStartDate', s.startDate],
      ...(s.endDate ? [['ScheduleEndDate', s.endDate] as XmlNode] : []),
      ['ScheduleExecutionStartTime', s.executionTime],
      ['DSPScheduledServiceReference', serviceReferenceOf(s.request.srv)],
      ['DSPScheduledServiceReferenceVariant', s.request.srv],
      ['DeviceID', duisEui(s.request.deviceId)],
      element,
    ]
    nodes.push([
      'DSPSchedules',
      [
        ['DSPScheduleID', String(s.number)],
        ['DSPScheduleDetails', details],
      ],
    ])
  }
  return { nodes, omitted }
}

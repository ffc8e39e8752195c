/** The scenario parts (part.ts), each a story's events; a timeline may use any of them. */
import { consumersPart } from './consumers.ts'
import { cosPart } from './cos.ts'
import { dp072Part } from './dp072.ts'
import { mp121Part } from './mp121.ts'
import type { ScenarioPart } from './part.ts'
import { readsPart } from './reads.ts'
import { solrPart } from './solr.ts'

export const PARTS: readonly ScenarioPart[] = [
  solrPart,
  cosPart,
  dp072Part,
  mp121Part,
  readsPart,
  consumersPart,
]

/** The part that plays `event`, if any. */
export function partOf(event: string): ScenarioPart | undefined {
  return PARTS.find((p) => event in p.events)
}

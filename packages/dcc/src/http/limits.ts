/**
 * Limits on what a caller may send, beyond the body limit and the route schemas' maxLength:
 * JSON bodies are parsed here with JSON.parse (iterative in V8, so depth costs no stack) and
 * walked once (prototype-poisoning keys refused, as fastify's own parser refuses them), without recursion, against a depth, a node count and a string length, so no
 * body, however nested, costs more than its bytes to refuse.
 */
import type { FastifyInstance } from 'fastify'

export const BODY_LIMITS = {
  /** Deepest nesting of objects and arrays (the body itself is depth 1; `parameters` sit at 2). */
  depth: 10,
  /** Most values (objects, arrays, strings, numbers …) in one body. */
  nodes: 5000,
  /** Longest string or object key, characters. */
  string: 16_384,
} as const

/** A body over a limit: HTTP 400. */
export class BodyLimitError extends Error {
  readonly statusCode = 400
  constructor(
    message: string,
    /** The body as parsed, for the SAT record of the refusal. */
    readonly body: unknown,
  ) {
    super(message)
  }
}

/** Why a parsed JSON value breaks a limit, or undefined. Iterative: depth costs no stack. */
export function bodyProblem(value: unknown, limits: typeof BODY_LIMITS = BODY_LIMITS): string | undefined {
  const stack: [unknown, number][] = [[value, 1]]
  let nodes = 0
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (++nodes > limits.nodes) return `body has more than ${limits.nodes} values`
    if (typeof item === 'string') {
      if (item.length > limits.string) return `body has a string longer than ${limits.string} characters`
      continue
    }
    if (typeof item !== 'object' || item === null) continue
    if (depth > limits.depth) return `body is nested deeper than ${limits.depth} levels`
    if (Array.isArray(item)) for (const child of item) stack.push([child, depth + 1])
    else
      for (const [key, child] of Object.entries(item)) {
        if (key.length > limits.string) return `body has a key longer than ${limits.string} characters`
        // Prototype poisoning, refused as fastify's own parser refuses it (secure-json-parse).
        if (
          key === '__proto__' ||
          (key === 'constructor' && typeof child === 'object' && child !== null && 'prototype' in child)
        )
          return `body has a forbidden key '${key}'`
        stack.push([child, depth + 1])
      }
  }
  return undefined
}

/** Replaces fastify's JSON parser by one that applies BODY_LIMITS. */
export function useLimitedJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    const body = text as string
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch (e) {
      const error = new SyntaxError((e as Error).message) as SyntaxError & { statusCode: number }
      error.statusCode = 400
      done(error, undefined)
      return
    }
    const problem = bodyProblem(value)
    if (problem) done(new BodyLimitError(problem, value), undefined)
    else done(null, value)
  })
}

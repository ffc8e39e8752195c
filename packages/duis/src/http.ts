/**
 * The DUIS web services over HTTP at DCC Boxed's paths: `POST /api/v1/serviceS` (Send Command
 * Service), `/api/v1/serviceT` (Transform Service), `/api/v1/serviceD` (Non-Device Service), each
 * taking `Content-Type: application/xml` (or text/xml) and answering with the signed DUIS
 * Response as `application/xml`. Registered on any fastify instance (the DCC's JSON API server,
 * so one port serves both) in an encapsulated plugin: the XML body parser applies to these routes
 * only.
 */
import type { Eui64 } from '@smetsim/core'
import fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { type DuisService, SERVICE_PATHS } from './request.ts'
import type { DuisInterface } from './service.ts'
import { DEFAULT_MAX_XML_BYTES } from './xml.ts'

export interface DuisHttpOptions {
  /**
   * Bodies above this are refused by fastify (413) before anything reads them; default four
   * times DEFAULT_MAX_XML_BYTES, so that a body between the two gets the DUIS answer and its SAT
   * record.
   */
  bodyLimit?: number
}

/** fastify's client errors for a body it did not read (413 over the limit; 415, 400 …), as the refusal they are. */
const unreadStep = (status: number | undefined): 'too-large' | 'not-xml' | undefined =>
  status === 413 ? 'too-large' : status !== undefined && status >= 400 && status < 500 ? 'not-xml' : undefined

/** Adds the three DUIS routes to `app`. */
export function registerDuisRoutes(
  app: FastifyInstance,
  duis: DuisInterface,
  options: DuisHttpOptions = {},
): void {
  const bodyLimit = options.bodyLimit ?? 4 * DEFAULT_MAX_XML_BYTES
  const serviceAt = new Map(Object.entries(SERVICE_PATHS).map(([s, p]) => [p, s as DuisService]))
  app.register(async (scope) => {
    // A body fastify refuses before the route sees it (over bodyLimit: 413; not an XML media
    // type: 415; any other client error fastify raises) is still a DUIS message refused: it gets
    // its SAT record, and the client fastify's status.
    scope.setErrorHandler(async (error: FastifyError, request, reply) => {
      const service = serviceAt.get(request.routeOptions.url ?? '')
      const step = unreadStep(error.statusCode)
      if (!service || !step) return reply.status(500).type('text/plain; charset=utf-8').send('internal error')
      const length = Number(request.headers['content-length'])
      try {
        duis.refuseUnread(service, step, error.message, Number.isSafeInteger(length) ? length : undefined)
      } catch {
        return reply.status(500).type('text/plain; charset=utf-8').send('the refusal could not be recorded')
      }
      return reply
        .status(error.statusCode ?? 400)
        .type('text/plain; charset=utf-8')
        .send(error.message.slice(0, 300))
    })
    scope.addContentTypeParser(
      ['application/xml', 'text/xml'],
      { parseAs: 'buffer', bodyLimit },
      (_req, body, done) => done(null, body),
    )
    for (const [service, path] of Object.entries(SERVICE_PATHS) as [DuisService, string][]) {
      scope.post<{ Body: Buffer }>(path, { bodyLimit }, async (request, reply) => {
        // A body another parser of the server took (JSON, say) is not XML: refused unread.
        if (request.body !== undefined && !Buffer.isBuffer(request.body)) {
          const length = Number(request.headers['content-length'])
          const why = `${request.headers['content-type']} is not an XML media type`
          duis.refuseUnread(service, 'not-xml', why, Number.isSafeInteger(length) ? length : undefined)
          return reply.status(415).type('text/plain; charset=utf-8').send(why.slice(0, 300))
        }
        const body = request.body ? new Uint8Array(request.body) : new Uint8Array(0)
        // Under mutual TLS the DCC's HTTP server has set the authenticated caller (packages/dcc
        // http/server.ts); on a plain-HTTP server (DCC Boxed's way) there is none.
        const tls = (request as { caller?: { kind: string; user?: Eui64 } }).caller
        const answer = await duis.handle(
          service,
          body,
          tls && (tls.kind === 'user' && tls.user ? { user: tls.user } : {}),
        )
        if (answer.status !== 200)
          return reply
            .status(answer.status)
            .type('text/plain; charset=utf-8')
            .send(answer.reason ?? '')
        return reply.status(200).type('application/xml').send(answer.xml)
      })
    }
  })
}

/** A fastify instance serving only the DUIS routes (not listening). */
export function createDuisHttpServer(duis: DuisInterface, options: DuisHttpOptions = {}): FastifyInstance {
  const app = fastify({ logger: false })
  app.removeContentTypeParser('text/plain')
  registerDuisRoutes(app, duis, options)
  return app
}

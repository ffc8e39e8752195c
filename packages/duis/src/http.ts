/**
 * The DUIS web services over HTTP at DCC Boxed's paths: `POST /api/v1/serviceS` (Send Command
 * Service), `/api/v1/serviceT` (Transform Service), `/api/v1/serviceD` (Non-Device Service), each
 * taking `Content-Type: application/xml` (or text/xml) and answering with the signed DUIS
 * Response as `application/xml`. Registered on any fastify instance (the DCC's JSON API server,
 * so one port serves both) in an encapsulated plugin: the XML body parser applies to these routes
 * only.
 */
import fastify, { type FastifyInstance } from 'fastify'
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

/** Adds the three DUIS routes to `app`. */
export function registerDuisRoutes(
  app: FastifyInstance,
  duis: DuisInterface,
  options: DuisHttpOptions = {},
): void {
  const bodyLimit = options.bodyLimit ?? 4 * DEFAULT_MAX_XML_BYTES
  app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/xml', 'text/xml'],
      { parseAs: 'buffer', bodyLimit },
      (_req, body, done) => done(null, body),
    )
    for (const [service, path] of Object.entries(SERVICE_PATHS) as [DuisService, string][]) {
      scope.post<{ Body: Buffer }>(path, { bodyLimit }, async (request, reply) => {
        const body = Buffer.isBuffer(request.body) ? new Uint8Array(request.body) : new Uint8Array(0)
        const answer = await duis.handle(service, body)
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

import { randomUUID } from 'node:crypto'

import type { RequestHandler } from 'express'

import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/

/**
 * Gives each request an id (a well-formed incoming X-Request-Id, else a new UUID), echoes it, and logs
 * one line when the response finishes. The logged path never includes the query string: launch and
 * callback queries carry one-time tokens and authorization codes.
 */
export function requestContext(logger: Logger, metrics: Metrics): RequestHandler {
  const log = logger.child({ module: 'http' })
  return (req, res, next) => {
    const incoming = req.headers['x-request-id']
    req.id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID()
    res.setHeader('X-Request-Id', req.id)
    const started = performance.now()
    res.on('finish', () => {
      const route = routeLabel(req.baseUrl + (req.route?.path ?? ''), res.statusCode)
      metrics.httpRequests.inc({ route, status: String(res.statusCode) })
      const path = req.originalUrl.split('?')[0] ?? ''
      log.info(
        {
          reqId: req.id,
          method: req.method,
          // JSON.stringify in pino escapes control characters, so hostile paths stay one line.
          path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      )
    })
    next()
  }
}

/** Route templates only (never raw paths) so metric label cardinality stays bounded. */
function routeLabel(route: string, status: number): string {
  if (route) return route
  return status === 404 ? 'unmatched' : 'other'
}

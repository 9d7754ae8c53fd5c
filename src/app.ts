import { fileURLToPath } from 'node:url'

import express, { type Express, type RequestHandler } from 'express'
import helmet from 'helmet'

import type { Config } from './config/load-config.js'
import { callbackHandler } from './connect/callback.js'
import { launchHandler } from './connect/launch.js'
import { renderErrorPage } from './connect/pages.js'
import { connectSessionRoutes } from './connect-sessions/routes.js'
import { createConnectStore } from './connect-sessions/token-store.js'
import { browserConnectionRoutes } from './connection/browser-routes.js'
import { createConnectionService } from './connection/connection-service.js'
import { v1ConnectionRoutes } from './connection/v1-routes.js'
import { createInlineDelivery, type CredentialDelivery } from './delivery/credential-delivery.js'
import { requireApiKey } from './http/api-key.js'
import { credentialedCors } from './http/cors.js'
import { browserErrorHandler, finalErrorHandler } from './http/error-handlers.js'
import { jsonBody } from './http/json-body.js'
import { problem } from './http/problem.js'
import { createRateLimit } from './http/rate-limit.js'
import { requestContext } from './http/request-context.js'
import { requestLimits } from './http/request-limits.js'
import type { LeafClient } from './leaf/leaf-client.js'
import { healthRoutes } from './ops/health-routes.js'
import type { Logger } from './ops/logger.js'
import type { Metrics } from './ops/metrics.js'
import { openApiRoutes } from './ops/openapi.js'
import type { RavenClient } from './raven/raven-client.js'
import { sdkRoutes } from './sdk/sdk-route.js'
import type { Redis } from './session/redis.js'
import { createSessionMiddleware } from './session/session-middleware.js'
import { NO_EVENTS, type ConnectionEvents } from './webhooks/connection-events.js'

export interface AppDeps {
  config: Config
  redis: Redis
  logger: Logger
  metrics: Metrics
  raven: RavenClient
  leaf: LeafClient
  /** Defaults to delivering inline, in the callback request. */
  delivery?: CredentialDelivery
  /** Webhooks to the host backend (connection.failed from the callback, connection.deleted). */
  events?: ConnectionEvents
  isShuttingDown?: () => boolean
}

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))

/** Builds the Express app; it does not listen (main.ts does, tests use port 0). */
export function buildApp(deps: AppDeps): Express {
  const { config, redis, logger, metrics } = deps
  const delivery = deps.delivery ?? createInlineDelivery({ config, leaf: deps.leaf, logger })
  const connectStore = createConnectStore(redis)
  const events = deps.events ?? NO_EVENTS
  const connections = createConnectionService({ leaf: deps.leaf, raven: deps.raven, delivery, events, logger })
  const session = guardSession(createSessionMiddleware(config, redis))

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.trustProxy)
  app.set('query parser', 'simple')
  app.use(requestContext(logger, metrics))
  app.use(securityHeaders())
  app.use(requestLimits())

  app.use(healthRoutes({ redis, raven: deps.raven, metrics, isShuttingDown: deps.isShuttingDown ?? (() => false) }))
  app.use('/assets', express.static(PUBLIC_DIR, { index: false, fallthrough: true, maxAge: '1h' }))
  app.use(sdkRoutes(config.returnToOrigins))
  app.use(openApiRoutes(config.publicBaseUrl))

  // Host backend. The limiter runs before the key check so that guessing keys is limited too.
  const v1 = express.Router()
  v1.use(identifyApiKey(config.apiKeys))
  v1.use(createRateLimit({ redis, perMinute: config.rateLimitPerMinute, prefix: 'v1', key: (req) => req.apiKeyId ?? `ip:${req.ip}` }))
  v1.use(requireApiKey(config.apiKeys))
  v1.use(jsonBody('100kb'))
  v1.use('/connect-sessions', connectSessionRoutes({ config, connectStore, leaf: deps.leaf, logger }))
  v1.use(v1ConnectionRoutes(connections))
  app.use('/v1', v1)

  // The grower's browser: the consent flow.
  const browserLimit = createRateLimit({ redis, perMinute: config.rateLimitPerMinute, prefix: 'browser' })
  const flow = express.Router()
  flow.use(flowPageHeaders(), browserLimit, session)
  // HEAD would run the launch and burn the one-time link for a link checker: only GET starts a flow.
  flow.head('/raven', (_req, _res, next) => next(problem.methodNotAllowed('GET')))
  flow.get('/raven', launchHandler({ config, connectStore, raven: deps.raven, logger, metrics }))
  const callback = callbackHandler({ config, raven: deps.raven, delivery, events, redis, logger, metrics })
  flow.get('/raven/callback', callback)
  flow.post('/raven/callback', express.text({ type: 'application/x-www-form-urlencoded', limit: '16kb' }), callback)
  flow.all('/raven', (_req, _res, next) => next(problem.methodNotAllowed('GET')))
  flow.all('/raven/callback', (_req, _res, next) => next(problem.methodNotAllowed('GET, POST')))
  flow.use((_req, res) => void res.status(404).type('html').send(renderErrorPage(404)))
  flow.use(browserErrorHandler(logger))
  app.use('/connect', flow)

  // The grower's browser: connection status for the host page (credentialed CORS).
  const api = express.Router()
  api.use(credentialedCors(config.returnToOrigins, ['GET', 'DELETE']), browserLimit, session)
  api.use(browserConnectionRoutes(connections))
  app.use('/api', api)

  app.use((req, _res, next) => next(problem.notFound('not_found', `No route for ${req.method} ${req.path.slice(0, 100)}.`)))
  app.use(finalErrorHandler(logger))
  return app
}

/** Helmet with a strict CSP: no inline script anywhere, no framing, no referrer. */
function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
  })
}

/** Flow pages: never cached, never leak their query through Referer, keep window.opener for popups. */
function flowPageHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Pragma', 'no-cache')
    res.setHeader('Referrer-Policy', 'no-referrer')
    // helmet's default COOP (same-origin) would cut window.opener, which popup mode needs.
    res.setHeader('Cross-Origin-Opener-Policy', 'unsafe-none')
    next()
  }
}

/** Sets req.apiKeyId when a valid key is presented, without rejecting: the limiter keys on it. */
function identifyApiKey(apiKeys: string[]): RequestHandler {
  const check = requireApiKey(apiKeys)
  return (req, res, next) => check(req, res, () => next())
}

/** Session store failures (Redis down) surface as errors the handlers turn into 503. */
function guardSession(session: RequestHandler): RequestHandler {
  return (req, res, next) =>
    session(req, res, (err?: unknown) => {
      // A store error leaves req.session unset, and with `unset: 'destroy'` express-session would then
      // DEL the session when the response ends: a Redis that hung for a moment (the DEL runs once it
      // answers) would cost the grower a flow in progress. Without a session id there is nothing to delete.
      if (err) req.sessionID = undefined as unknown as string
      next(err)
    })
}

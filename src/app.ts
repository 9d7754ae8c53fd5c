import { fileURLToPath } from 'node:url'

import express, { type Express } from 'express'

import { createLaunchSessions } from './browser-session/launch-session.js'
import { createSessionMiddleware } from './browser-session/session-middleware.js'
import type { Config } from './config/load-config.js'
import { createExternalIdLock } from './connect-links/external-id-lock.js'
import { connectLinkRoutes } from './connect-links/routes.js'
import { createConnectLinkStore } from './connect-links/token-store.js'
import { browserConnectionRoutes } from './connections/browser-routes.js'
import { createConnectionService } from './connections/service.js'
import { v1ConnectionRoutes } from './connections/v1-routes.js'
import { consentRoutes } from './consent/routes.js'
import type { CredentialDelivery } from './delivery/credential-delivery.js'
import { identifyApiKey, requireIdentifiedApiKey } from './http/api-key.js'
import { brandStylesheet } from './http/brand-stylesheet.js'
import { credentialedCors } from './http/cors.js'
import { finalErrorHandler } from './http/error-handlers.js'
import { jsonBody } from './http/json-body.js'
import { problem } from './http/problem.js'
import { BROWSER_LIMITER, clientIpKey, createRateLimit } from './http/rate-limit.js'
import { requestContext } from './http/request-context.js'
import { requestLimits } from './http/request-limits.js'
import { securityHeaders } from './http/security-headers.js'
import type { Logger } from './infra/logger.js'
import type { Metrics } from './infra/metrics.js'
import type { Redis } from './infra/redis.js'
import type { LeafClient } from './leaf/client.js'
import type { AlertIntake } from './leaf-alerts/intake.js'
import { leafAlertRoutes } from './leaf-alerts/routes.js'
import { healthRoutes } from './ops/health-routes.js'
import { openApiRoutes } from './ops/openapi/index.js'
import type { RavenClient } from './raven/client.js'
import type { ConnectionRegistry } from './registry/registry.js'
import { sdkRoutes } from './sdk/sdk-route.js'
import type { Webhooks } from './webhooks/events.js'

/** What the routes need; compose.ts builds all of it. Nothing here is optional or defaulted. */
export interface AppDeps {
  config: Config
  redis: Redis
  logger: Logger
  metrics: Metrics
  raven: RavenClient
  leaf: LeafClient
  delivery: CredentialDelivery
  webhooks: Webhooks
  registry: ConnectionRegistry
  alertIntake: AlertIntake
  isShuttingDown: () => boolean
}

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))

/** The route table, in the contract's order. It does not listen (main.ts does, tests use port 0). */
export function buildApp(deps: AppDeps): Express {
  const { config, redis, logger, metrics, raven, leaf, delivery, webhooks } = deps
  const connectLinks = createConnectLinkStore(redis)
  const connections = createConnectionService({ leaf, raven, delivery, webhooks, registry: deps.registry, logger })
  const session = createSessionMiddleware(config, redis)
  const browserLimit = createRateLimit({ redis, perMinute: config.rateLimitPerMinute, prefix: BROWSER_LIMITER })

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.trustProxy)
  app.set('query parser', 'simple')
  app.use(requestContext(logger, metrics))
  // The pages' CSP widens img-src to the origin of BRAND_LOGO_URL, and to nothing else.
  app.use(securityHeaders(config.pages.logoUrl ? [new URL(config.pages.logoUrl).origin] : []))
  app.use(requestLimits())

  app.use(healthRoutes({ redis, raven, metrics, isShuttingDown: deps.isShuttingDown }))
  app.get('/assets/brand.css', brandStylesheet(config.pages))
  app.use('/assets', express.static(PUBLIC_DIR, { index: false, fallthrough: true, maxAge: '1h' }))
  app.use(sdkRoutes(config.returnToOrigins))
  app.use(openApiRoutes(config.publicBaseUrl))

  // Leaf's Alerts: the raw body is read here, before any JSON parser could touch the signed bytes.
  const unsignedAlertLimit = createRateLimit({ redis, perMinute: config.rateLimitPerMinute, prefix: 'leaf-alerts' })
  app.use(leafAlertRoutes({ secret: config.leafAlertsSecret, intake: deps.alertIntake, limitUnsigned: unsignedAlertLimit, metrics }))

  // Host backend. The limiter runs before the key check so that guessing keys is limited too.
  const v1 = express.Router()
  v1.use(identifyApiKey(config.apiKeys))
  v1.use(createRateLimit({ redis, perMinute: config.rateLimitPerMinute, prefix: 'v1', key: (req) => req.apiKeyId ?? clientIpKey(req) }))
  v1.use(requireIdentifiedApiKey())
  v1.use(jsonBody('100kb'))
  v1.use('/connect-sessions', connectLinkRoutes({ config, connectLinks, leaf, logger, withExternalIdLock: createExternalIdLock(redis) }))
  v1.use(v1ConnectionRoutes(connections))
  app.use('/v1', v1)

  // The grower's browser: the consent flow.
  app.use('/connect', consentRoutes({ config, connectLinks, launchSessions: createLaunchSessions(config), raven, delivery, webhooks, redis, logger, metrics, session, browserLimit }))

  // The grower's browser: connection status for the host page (credentialed CORS).
  const api = express.Router()
  api.use(credentialedCors(config.returnToOrigins, ['GET', 'DELETE']), browserLimit, session)
  api.use(browserConnectionRoutes(connections))
  app.use('/api', api)

  app.use((req, _res, next) => next(problem.notFound('not_found', `No route for ${req.method} ${req.path.slice(0, 100)}.`)))
  app.use(finalErrorHandler(logger, config.pages))
  return app
}

import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import type { Express } from 'express'

import { compose, type Composition } from '../../src/compose.js'
import { loadConfig, type Config } from '../../src/config/load-config.js'
import { SERVER_LIMITS, createHardenedServer, tightenTimeouts } from '../../src/http/server-hardening.js'
import { LeafClient } from '../../src/leaf/client.js'
import { createMetrics, type Metrics } from '../../src/infra/metrics.js'
import { RavenClient } from '../../src/raven/client.js'
import { connectRedis, type Redis } from '../../src/infra/redis.js'
import { startLeafSandbox, type LeafSandbox } from '../../sandboxes/leaf/server.js'
import { RAVEN_ISSUER_PATH, RAVEN_ROUTES, startRavenSandbox, type RavenSandbox } from '../../sandboxes/raven/server.js'
import { TestBrowser } from './browser.js'
import { captureLogs } from './log-capture.js'

/** The secrets of one test system: unique per system so a leak scan can look for each of them. */
export interface SystemSecrets {
  apiKey: string
  sessionSecret: string
  ravenClientSecret: string
  leafPassword: string
  tokenEncryptionKey: string
  /** Set when the system runs with `leafAuth: 'token'`: the LEAF_API_TOKEN the service was given. */
  leafToken?: string
  /** LEAF_ALERTS_SECRET: set in the service's environment only with `leafAlerts`. */
  leafAlertsSecret: string
}

export interface SystemOptions {
  /** Extra or overriding environment variables for loadConfig. */
  env?: Record<string, string | undefined>
  /** Leaf client tuning for fast fault tests. */
  leafTimeoutMs?: number
  leafRetry?: { attempts?: number; baseMs?: number; capMs?: number }
  ravenTimeoutSeconds?: number
  /** Register the sandbox client with this auth method (default client_secret_basic). */
  ravenClientAuthMethod?: 'client_secret_basic' | 'client_secret_post'
  /** Skip the sandbox start (e.g. to test discovery against a Raven that is down). */
  startRaven?: boolean
  /** `explicit`: configure the sandbox's endpoints (RAVEN_AUTHORIZATION_ENDPOINT …) instead of discovery. */
  ravenEndpoints?: 'discovery' | 'explicit'
  /**
   * `path`: the Raven sandbox's issuer lives under /core (`http://127.0.0.1:PORT/core`), Raven's own
   * shape; `origin` (the default): its bare origin. RAVEN_ISSUER is the sandbox's issuer either way.
   */
  ravenIssuer?: 'origin' | 'path'
  /** `token`: sign in at the Leaf sandbox first and give the service LEAF_API_TOKEN instead of the login. */
  leafAuth?: 'password' | 'token'
  /**
   * Tuning of the delivery (outbox + BullMQ queue + webhooks), which every system runs under a key
   * prefix of its own; `worker: false` leaves the queue unworked until `service.startWorker()`.
   */
  durable?: { inlineBudgetMs?: number; lockTtlMs?: number; worker?: boolean; relayWatchMs?: number }
  /**
   * Leaf Alerts on: LEAF_ALERTS_SECRET set, and the Leaf sandbox's retry schedule of undelivered alerts
   * (default: Leaf's 1/30/60/240 minutes, i.e. never within a test).
   */
  leafAlerts?: { retryDelaysMs?: number[] }
}

export interface TestSystem {
  url: string
  app: Express
  server: Server
  config: Config
  secrets: SystemSecrets
  raven: RavenSandbox
  leaf: LeafSandbox
  leafClient: LeafClient
  ravenClient: RavenClient
  /** The service as compose() wired it (the same wiring as main.ts): queue, outbox, delivery … */
  service: Composition
  redis: Redis
  metrics: Metrics
  logs: string[]
  returnOrigin: string
  /** A Leaf user that exists at the Leaf sandbox. */
  newLeafUser(): string
  /** POST /v1/connect-sessions with the API key; returns the parsed 201 body. */
  createConnectSession(body: Record<string, unknown>): Promise<{ id: string; connectUrl: string; leafUserId: string; expiresAt: string }>
  browser(): TestBrowser
  close(): Promise<void>
}

export const RETURN_ORIGIN = 'https://app.example.test'

/**
 * Starts the whole system on loopback: Raven and Leaf sandboxes, a Redis client on the test Redis, and
 * raven-connect itself on a free port, configured through loadConfig like production.
 */
export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const redisUrl = process.env.REDIS_URL
  if (!redisUrl) throw new Error('REDIS_URL is not set: run the tests with npm test (global setup starts Redis)')
  const secrets: SystemSecrets = {
    apiKey: 'apikey_' + randomBytes(18).toString('base64url'),
    sessionSecret: 'sess_' + randomBytes(24).toString('base64url'),
    ravenClientSecret: 'ravensecret_' + randomBytes(18).toString('base64url'),
    leafPassword: 'leafpw_' + randomBytes(12).toString('base64url'),
    tokenEncryptionKey: randomBytes(32).toString('base64'),
    leafAlertsSecret: 'leafalerts_' + randomBytes(18).toString('base64url'),
  }
  // The production server settings (tightened timeouts, parser-error answers), as main.ts uses them.
  const server = createHardenedServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const publicBaseUrl = `http://127.0.0.1:${port}`
  const clientId = 'raven-connect-test'
  const raven =
    options.startRaven === false
      ? undefined
      : await startRavenSandbox({
          ...(options.ravenIssuer === 'path' ? { issuerPath: RAVEN_ISSUER_PATH } : {}),
          clients: [
            {
              clientId,
              clientSecret: secrets.ravenClientSecret,
              redirectUris: [`${publicBaseUrl}/connect/raven/callback`],
              tokenAuthMethod: options.ravenClientAuthMethod ?? 'client_secret_basic',
            },
          ],
        })
  const leaf = await startLeafSandbox({
    username: 'owner@leaf.test',
    password: secrets.leafPassword,
    ...(options.leafAlerts?.retryDelaysMs !== undefined && { alerts: { retryDelaysMs: options.leafAlerts.retryDelaysMs } }),
  })
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_BASE_URL: publicBaseUrl,
    REDIS_URL: redisUrl,
    SESSION_SECRET: secrets.sessionSecret,
    API_KEYS: secrets.apiKey,
    RETURN_TO_ORIGINS: RETURN_ORIGIN,
    RAVEN_ISSUER: raven?.issuer ?? 'http://127.0.0.1:9',
    ...(options.ravenEndpoints === 'explicit' && raven
      ? {
          RAVEN_AUTHORIZATION_ENDPOINT: `${raven.url}${RAVEN_ROUTES.authorization}`,
          RAVEN_TOKEN_ENDPOINT: `${raven.url}${RAVEN_ROUTES.token}`,
          RAVEN_REVOCATION_ENDPOINT: `${raven.url}${RAVEN_ROUTES.revocation}`,
        }
      : {}),
    RAVEN_CLIENT_ID: clientId,
    RAVEN_CLIENT_SECRET: secrets.ravenClientSecret,
    LEAF_API_URL: leaf.url,
    ...(options.leafAuth === 'token'
      ? { LEAF_API_TOKEN: (secrets.leafToken = await leafSandboxToken(leaf.url, secrets.leafPassword)) }
      : { LEAF_USERNAME: 'owner@leaf.test', LEAF_PASSWORD: secrets.leafPassword }),
    TOKEN_ENCRYPTION_KEY: secrets.tokenEncryptionKey,
    RATE_LIMIT_PER_MINUTE: '0',
    ...(options.leafAlerts !== undefined && { LEAF_ALERTS_SECRET: secrets.leafAlertsSecret }),
    ...options.env,
  })
  // The parser-error pages know the page settings, as main.ts gives them (the server had to exist first, for its port).
  tightenTimeouts(server, SERVER_LIMITS, config.pages)
  const { logger, lines } = captureLogs()
  const metrics = createMetrics({ defaultMetrics: false })
  const service = compose(config, {
    logger,
    metrics,
    ravenTimeoutSeconds: options.ravenTimeoutSeconds ?? 5,
    leafTimeoutMs: options.leafTimeoutMs ?? 2000,
    leafRetry: { attempts: 3, baseMs: 20, capMs: 100, ...options.leafRetry },
    // Every system has its own queue: workers of other systems (other sandboxes) must not take its jobs.
    jobPrefix: `rc:{test-${randomBytes(4).toString('hex')}}`,
    ...(options.durable?.inlineBudgetMs !== undefined && { inlineBudgetMs: options.durable.inlineBudgetMs }),
    ...(options.durable?.lockTtlMs !== undefined && { lockTtlMs: options.durable.lockTtlMs }),
    ...(options.durable?.relayWatchMs !== undefined && { relayWatchMs: options.durable.relayWatchMs }),
  })
  const { app, redis, raven: ravenClient, leaf: leafClient } = service
  await connectRedis(redis)
  // The queue's own connection too: a request in its first moments would otherwise meet 503 ("Redis did not
  // become ready") on a loaded machine, as production may in its first second, which tests do not exercise.
  await service.jobs.client()
  if (options.durable?.worker !== false) service.startWorker()
  server.on('request', app)

  const system: TestSystem = {
    url: publicBaseUrl,
    app,
    server,
    config,
    secrets,
    get raven(): RavenSandbox {
      if (!raven) throw new Error('this system was started without the Raven sandbox')
      return raven
    },
    leaf,
    leafClient,
    ravenClient,
    service,
    redis,
    metrics,
    logs: lines,
    returnOrigin: RETURN_ORIGIN,
    newLeafUser: () => leaf.state.addUser({ externalId: `grower-${randomBytes(4).toString('hex')}` }).id,
    async createConnectSession(body) {
      const res = await fetch(`${publicBaseUrl}/v1/connect-sessions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${secrets.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (res.status !== 201) throw new Error(`connect session: ${res.status} ${await res.text()}`)
      return (await res.json()) as { id: string; connectUrl: string; leafUserId: string; expiresAt: string }
    },
    browser: () => new TestBrowser(),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await service.stopBackground(1000)
      await Promise.all([raven?.close(), leaf.close()])
      await service.closeRedis()
    },
  }
  return system
}

/** A Leaf API token from the sandbox's own sign-in, for systems configured with LEAF_API_TOKEN. */
async function leafSandboxToken(leafUrl: string, password: string): Promise<string> {
  const res = await fetch(`${leafUrl}/api/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'owner@leaf.test', password, rememberMe: 'true' }),
  })
  const body = (await res.json()) as { id_token?: string }
  if (!body.id_token) throw new Error(`Leaf sandbox sign-in failed: ${res.status}`)
  return body.id_token
}

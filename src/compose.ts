import type { Express } from 'express'

import { buildApp } from './app.js'
import type { Config } from './config/load-config.js'
import { createDurableDelivery, type DurableDelivery } from './delivery/durable-delivery.js'
import { createOutbox, type Outbox } from './delivery/outbox.js'
import { createLogger, type Logger } from './infra/logger.js'
import { createMetrics, type Metrics } from './infra/metrics.js'
import { createRedis, type Redis } from './infra/redis.js'
import { createJobQueue, type JobQueue } from './jobs/queue.js'
import { LeafClient, type LeafClientOptions } from './leaf/client.js'
import { createAlertIntake, type AlertIntake } from './leaf-alerts/intake.js'
import { createFailedCallsRecovery, type FailedCallsRecovery } from './leaf-alerts/recovery.js'
import { redisKeys } from './infra/keys.js'
import { RavenClient } from './raven/client.js'
import { createConnectionRegistry, type ConnectionRegistry } from './registry/registry.js'
import { createWebhooks, type Webhooks } from './webhooks/events.js'
import { createWebhookProcessor } from './webhooks/processor.js'

/**
 * Knobs for tests and the bench. Production (main.ts) sets none of them: every default here is the
 * production value.
 */
export interface ComposeOptions {
  logger?: Logger
  metrics?: Metrics
  /** Seconds allowed for discovery, the token request and revocation. Default 10. */
  ravenTimeoutSeconds?: number
  /** Per Leaf HTTP attempt. Default 5000. */
  leafTimeoutMs?: number
  leafRetry?: LeafClientOptions['retry']
  /** Key prefix of the job queue and the outbox (tests give each system its own). */
  jobPrefix?: string
  /** How long the callback waits for Leaf before answering `pending`. Default 4000. */
  inlineBudgetMs?: number
  /** Lifetime of a grower's delivery lock. Default 10000. */
  lockTtlMs?: number
  /** The outbox relay's pass interval and its recheck of queued deliveries. Defaults 1000 and 60000. */
  relayIntervalMs?: number
  relayWatchMs?: number
}

/** Everything one instance of the service is made of, wired once. */
export interface Composition {
  app: Express
  config: Config
  logger: Logger
  metrics: Metrics
  /** The request-path Redis client (sessions, connect links, rate limits, readiness). */
  redis: Redis
  raven: RavenClient
  leaf: LeafClient
  jobs: JobQueue
  outbox: Outbox
  delivery: DurableDelivery
  webhooks: Webhooks
  /** What this service connected, and what Leaf's Alerts said of it. */
  registry: ConnectionRegistry
  alertIntake: AlertIntake
  /** Reads Leaf's failed alert calls at start and hourly (started with the worker, when alerts are on). */
  alertRecovery: FailedCallsRecovery
  /** Starts consuming delivery and webhook jobs, and the outbox relay, on this instance. */
  startWorker(): void
  /** From now on /readyz answers 503, so load balancers stop sending traffic. */
  beginShutdown(): void
  /** Inline deliveries and running jobs get `graceMs`; unfinished jobs go back to the queue. */
  stopBackground(graceMs: number): Promise<void>
  /** Closes the request-path Redis client: last, after in-flight requests are done with it. */
  closeRedis(): Promise<void>
}

/**
 * The one wiring of config → clients → services → app, used by main.ts, the tests' system and
 * (through main.ts) the bench, so no test runs an app that production does not.
 */
export function compose(config: Config, options: ComposeOptions = {}): Composition {
  const logger = options.logger ?? createLogger()
  const metrics = options.metrics ?? createMetrics()
  const redis = createRedis({ url: config.redisUrl, logger })
  const raven = new RavenClient({ config, logger, metrics, ...(options.ravenTimeoutSeconds !== undefined && { timeoutSeconds: options.ravenTimeoutSeconds }) })
  const leaf = new LeafClient({
    apiUrl: config.leaf.apiUrl,
    auth: config.leaf.auth,
    logger,
    metrics,
    ...(options.leafTimeoutMs !== undefined && { timeoutMs: options.leafTimeoutMs }),
    ...(options.leafRetry !== undefined && { retry: options.leafRetry }),
  })
  // Outbox delivery to Leaf and webhooks: a BullMQ queue on the same Redis, worked on every instance.
  const jobs = createJobQueue({ redisUrl: config.redisUrl, logger, ...(options.jobPrefix !== undefined && { prefix: options.jobPrefix }) })
  const outbox = createOutbox(jobs)
  const webhooks = createWebhooks({ config, jobs, logger })
  const registry = createConnectionRegistry(jobs)
  const alertIntake = createAlertIntake({ registry, webhooks, jobs, metrics, logger })
  const alertRecovery = createFailedCallsRecovery({
    leaf,
    intake: alertIntake,
    client: () => jobs.client(),
    lockKey: redisKeys.registry(jobs.prefix).recoveryLock,
    logger,
  })
  const delivery = createDurableDelivery({
    config,
    leaf,
    logger,
    jobs,
    outbox,
    webhooks,
    registry,
    metrics,
    revokeAtRaven: (refreshToken) => raven.revokeRefreshToken(refreshToken),
    ...(options.inlineBudgetMs !== undefined && { inlineBudgetMs: options.inlineBudgetMs }),
    ...(options.lockTtlMs !== undefined && { lockTtlMs: options.lockTtlMs }),
    ...(options.relayIntervalMs !== undefined && { relayIntervalMs: options.relayIntervalMs }),
    ...(options.relayWatchMs !== undefined && { relayWatchMs: options.relayWatchMs }),
  })
  let shuttingDown = false
  const app = buildApp({ config, redis, logger, metrics, raven, leaf, delivery, webhooks, registry, alertIntake, isShuttingDown: () => shuttingDown })
  const processWebhook = createWebhookProcessor({ config, logger, metrics })

  return {
    app,
    config,
    logger,
    metrics,
    redis,
    raven,
    leaf,
    jobs,
    outbox,
    delivery,
    webhooks,
    registry,
    alertIntake,
    alertRecovery,
    startWorker() {
      jobs.startWorker({ 'deliver-credential': delivery.processJob, webhook: processWebhook, 'leaf-alert': alertIntake.processEarlyAlert })
      delivery.relay.start()
      if (config.leafAlertsSecret !== undefined) alertRecovery.start()
    },
    beginShutdown() {
      shuttingDown = true
    },
    async stopBackground(graceMs) {
      await alertRecovery.stop()
      await delivery.drain(graceMs)
      await jobs.close(graceMs)
    },
    async closeRedis() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

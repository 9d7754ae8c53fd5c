import type { Config } from '../config/load-config.js'
import type { LeafClient } from '../leaf/leaf-client.js'
import type { Logger } from '../ops/logger.js'
import type { Metrics } from '../ops/metrics.js'
import { createConnectionEvents, type ConnectionEvents, type WebhookJobData } from '../webhooks/connection-events.js'
import { sendWebhook, WebhookRetryableError } from '../webhooks/webhook-sender.js'
import { createDeliveryMetrics } from './delivery-metrics.js'
import { createDurableDelivery, type DurableDelivery } from './durable-delivery.js'
import { createJobQueue, type Job, type JobQueue } from './job-queue.js'
import { createOutbox, type Outbox } from './outbox.js'

export interface BackgroundJobsOptions {
  config: Config
  leaf: LeafClient
  logger: Logger
  metrics: Metrics
  /** Key prefix of the queue and the outbox (tests give each system its own). */
  prefix?: string
  inlineBudgetMs?: number
  lockTtlMs?: number
}

export interface BackgroundJobs {
  delivery: DurableDelivery
  events: ConnectionEvents
  jobs: JobQueue
  outbox: Outbox
  /** Starts consuming delivery and webhook jobs on this instance. */
  startWorker(): void
  /** Graceful stop: inline tries and running jobs get `graceMs`, unfinished jobs go back to the queue. */
  close(graceMs?: number): Promise<void>
}

/** The durable half of the service: outbox delivery to Leaf and webhooks, on one BullMQ queue. */
export function createBackgroundJobs(options: BackgroundJobsOptions): BackgroundJobs {
  const { config, logger } = options
  const log = logger.child({ module: 'webhooks' })
  const jobs = createJobQueue({ redisUrl: config.redisUrl, logger, ...(options.prefix && { prefix: options.prefix }) })
  const outbox = createOutbox(jobs)
  const events = createConnectionEvents({ config, jobs, logger })
  const metrics = createDeliveryMetrics(options.metrics)
  const delivery = createDurableDelivery({
    config,
    leaf: options.leaf,
    logger,
    jobs,
    outbox,
    events,
    metrics,
    ...(options.inlineBudgetMs !== undefined && { inlineBudgetMs: options.inlineBudgetMs }),
    ...(options.lockTtlMs !== undefined && { lockTtlMs: options.lockTtlMs }),
  })

  async function processWebhook(job: Job<WebhookJobData>): Promise<string> {
    const target = config.webhook
    if (!target) return 'webhooks are off'
    const attempt = job.attemptsMade + 1
    try {
      await sendWebhook(target, job.data, logger, attempt)
      metrics.webhooks.inc({ outcome: 'delivered' })
      return 'delivered'
    } catch (err) {
      const retryable = err instanceof WebhookRetryableError
      metrics.webhooks.inc({ outcome: retryable ? 'retry' : 'refused' })
      if (retryable && attempt >= (job.opts.attempts ?? 1)) {
        log.error({ eventId: job.data.eventId, type: job.data.type, attempts: attempt }, 'webhook given up after its last retry')
      }
      throw err
    }
  }

  return {
    delivery,
    events,
    jobs,
    outbox,
    startWorker() {
      jobs.startWorker({ 'deliver-credential': delivery.processJob, webhook: processWebhook })
    },
    async close(graceMs = 10_000) {
      await delivery.drain(graceMs)
      await jobs.close(graceMs)
    },
  }
}

import type { Job } from '../jobs/queue.js'
import type { Config } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { WebhookJobData } from './events.js'
import { sendWebhook, WebhookRetryableError } from './sender.js'

/** The 'webhook' job processor: one signed POST per try; the queue retries on its schedule. */
export function createWebhookProcessor(deps: { config: Config; logger: Logger; metrics: Metrics }) {
  const log = deps.logger.child({ module: 'webhooks' })
  return async function processWebhook(job: Job<WebhookJobData>): Promise<string> {
    const target = deps.config.webhook
    if (!target) return 'webhooks are off'
    const attempt = job.attemptsMade + 1
    try {
      await sendWebhook(target, job.data, deps.logger, attempt)
      deps.metrics.webhooks.inc({ outcome: 'delivered' })
      return 'delivered'
    } catch (err) {
      const retryable = err instanceof WebhookRetryableError
      deps.metrics.webhooks.inc({ outcome: retryable ? 'retry' : 'refused' })
      if (retryable && attempt >= (job.opts.attempts ?? 1)) {
        log.error({ eventId: job.data.eventId, type: job.data.type, attempts: attempt }, 'webhook given up after its last retry')
      }
      throw err
    }
  }
}

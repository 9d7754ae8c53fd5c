import { randomUUID } from 'node:crypto'

import type { Config } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import type { JobQueue, RedisMulti } from '../jobs/queue.js'

export type WebhookType = 'connection.created' | 'connection.failed' | 'connection.deleted' | 'connection.broken'

/** The webhook body (contract): no secret in it, ever. */
export interface WebhookEvent {
  id: string
  type: WebhookType
  createdAt: string
  leafUserId: string
  data: Record<string, string>
}

/** What a webhook job carries: the body is serialized once, so every retry sends the same bytes and `id`. */
export interface WebhookJobData {
  eventId: string
  type: WebhookType
  body: string
}

/**
 * Tells the host backend about connections (contract, Webhooks). Events go through the durable job
 * queue, so they survive restarts and are retried; with no WEBHOOK_URL nothing is queued.
 */
export interface Webhooks {
  /** Queues an event; a failure is logged, never thrown: a webhook must not fail a grower's flow. */
  emit(type: WebhookType, leafUserId: string, data: Record<string, string>): Promise<void>
  /**
   * Queues an event inside a MULTI, so it exists exactly when the caller's writes do. `eventId`, when
   * given, is the event's `id` and job id: queuing the same id twice sends one webhook.
   */
  addToMulti(multi: RedisMulti, type: WebhookType, leafUserId: string, data: Record<string, string>, eventId?: string): Promise<void>
}

export function buildWebhookJob(type: WebhookType, leafUserId: string, data: Record<string, string>, eventId?: string): WebhookJobData {
  const event: WebhookEvent = { id: eventId ?? `evt_${randomUUID()}`, type, createdAt: new Date().toISOString(), leafUserId, data }
  return { eventId: event.id, type, body: JSON.stringify(event) }
}

export function createWebhooks(deps: { config: Config; jobs: JobQueue; logger: Logger }): Webhooks {
  const log = deps.logger.child({ module: 'webhooks' })
  const enabled = deps.config.webhook !== undefined
  const addToMulti: Webhooks['addToMulti'] = async (multi, type, leafUserId, data, eventId) => {
    if (!enabled) return
    const job = buildWebhookJob(type, leafUserId, data, eventId)
    await deps.jobs.addToMulti(multi, 'webhook', job, { jobId: job.eventId })
  }
  return {
    addToMulti,
    async emit(type, leafUserId, data) {
      if (!enabled) return
      try {
        const multi = (await deps.jobs.client()).multi()
        await addToMulti(multi, type, leafUserId, data)
        const results = await multi.exec()
        const failed = results?.find(([err]) => err !== null)
        if (failed) throw failed[0]
      } catch (err) {
        log.error({ err, type, leafUserId }, 'could not queue webhook')
      }
    },
  }
}

import { randomUUID } from 'node:crypto'

import type { Config } from '../config/load-config.js'
import type { AtomicWrite } from '../infra/atomic-write.js'
import { redisKeys } from '../infra/keys.js'
import type { Logger } from '../infra/logger.js'
import { execMulti, type JobQueue, type RedisMulti } from '../jobs/queue.js'

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
 * Tells the host backend about connections (contract, Webhooks). An event is first recorded in the
 * webhook outbox (one Redis list, one RPUSH, or one write inside another atomic step), then the relay
 * (`relay`, run by every instance's background loop) turns it into a durable, retried job, in order.
 * With no WEBHOOK_URL nothing is recorded.
 */
export interface Webhooks {
  /** Records an event; a failure is logged, never thrown: a webhook must not fail a grower's flow. */
  emit(type: WebhookType, leafUserId: string, data: Record<string, string>): Promise<void>
  /**
   * The write that records an event inside another module's atomic step (the delivery's finish), so
   * the event exists exactly when that step's own writes do; undefined when webhooks are off.
   */
  recordWrite(type: WebhookType, leafUserId: string, data: Record<string, string>): AtomicWrite | undefined
  /** Turns up to `max` recorded events into webhook jobs; returns how many it queued. */
  relay(max?: number): Promise<number>
  /**
   * Queues an event's job directly inside a MULTI (Leaf Alerts' connection.broken, beside the
   * registry's own write). `eventId`, when given, is the event's `id` and job id: queuing the same id
   * twice sends one webhook.
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
  const outboxKey = redisKeys.webhookOutbox(deps.jobs.prefix)
  const recordWrite: Webhooks['recordWrite'] = (type, leafUserId, data) =>
    enabled ? { command: 'RPUSH', key: outboxKey, args: [JSON.stringify(buildWebhookJob(type, leafUserId, data))] } : undefined

  /**
   * One event from the outbox to the queue: the job is added and the entry removed in one MULTI, so
   * an event is never lost and never queued twice under two ids. Two instances relaying the same entry
   * add the same job id (BullMQ keeps the first) and the second LREM removes nothing.
   */
  async function queueOne(entry: string): Promise<void> {
    const redis = await deps.jobs.client()
    const job = parseEntry(entry)
    if (!job) {
      // Not written by this service: dropped, or it would hold up every event behind it forever.
      log.error('unreadable entry in the webhook outbox; dropped')
      await redis.lrem(outboxKey, 1, entry)
      return
    }
    const multi = redis.multi()
    await deps.jobs.addToMulti(multi, 'webhook', job, { jobId: job.eventId })
    multi.lrem(outboxKey, 1, entry)
    await execMulti(multi, 'webhook relay')
  }

  return {
    addToMulti,
    recordWrite,
    async emit(type, leafUserId, data) {
      const write = recordWrite(type, leafUserId, data)
      if (!write) return
      try {
        await (await deps.jobs.client()).rpush(write.key, ...write.args)
      } catch (err) {
        log.error({ err, type, leafUserId }, 'could not record webhook')
      }
    },
    async relay(max = 100) {
      if (!enabled) return 0
      const entries = await (await deps.jobs.client()).lrange(outboxKey, 0, max - 1)
      for (const entry of entries) await queueOne(entry)
      return entries.length
    },
  }
}

function parseEntry(entry: string): WebhookJobData | undefined {
  try {
    const job = JSON.parse(entry) as Partial<WebhookJobData> | null
    return typeof job?.eventId === 'string' && typeof job.body === 'string' && typeof job.type === 'string' ? (job as WebhookJobData) : undefined
  } catch {
    return undefined
  }
}

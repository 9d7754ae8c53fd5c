import type { Logger } from '../infra/logger.js'
import type { JobQueue } from '../jobs/queue.js'
import type { Webhooks } from '../webhooks/events.js'
import { logContext, type DeliveryFinish } from './finish.js'
import { PARKED_TTL_MS, type Outbox } from './outbox.js'

/** Job states in which the queue still owns a delivery: it will run (again). */
const LIVE_JOB_STATES = new Set(['waiting', 'wait', 'delayed', 'active', 'prioritized', 'waiting-children'])

export interface RelayOptions {
  outbox: Outbox
  jobs: JobQueue
  webhooks: Webhooks
  finish: DeliveryFinish
  log: Logger
  /** How often each instance looks for overdue deliveries and recorded webhook events. */
  intervalMs: number
  /** How long a delivery the queue owns goes unlooked-at before the relay checks its job again. */
  watchMs: number
}

export interface Relay {
  start(): void
  /** Stops the loop after the pass under way. */
  stop(): Promise<void>
  /** One pass, now (tests, operators). */
  runOnce(): Promise<void>
}

/**
 * The transactional outbox's relay: the slow path's only producer of delivery jobs besides the inline
 * hand-over, and the guarantee that no parked token is stranded. Every parked record sits in the
 * outbox's `due` set until it ends; whenever its due-time passes, the relay looks at it:
 *
 * - its job is waiting, delayed or running: the queue owns it; look again in `watchMs`.
 * - no job (the process died between park and hand-over, or during the inline tries): queue one now.
 *   Safe against a try still running: the job takes the grower's lock, and the job id is the
 *   delivery id, so a second relay or a late hand-over adds nothing.
 * - a job that ended (failed: stalled too often, a Redis error on its last attempt …) with the record
 *   still parked, or a record older than a Raven refresh token lives: ended like a final refusal
 *   (`finish.failed`: token deleted, `pending` false, `connection.failed`).
 *
 * It also moves recorded webhook events to the queue (webhooks/events.ts `relay`).
 */
export function createRelay(options: RelayOptions): Relay {
  const { outbox, jobs, webhooks, finish, log } = options
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let stopped = true

  async function check(deliveryId: string, now: number): Promise<void> {
    const state = await jobs.queue.getJobState(deliveryId)
    if (LIVE_JOB_STATES.has(state)) return outbox.watch(deliveryId, now + options.watchMs)
    const record = await outbox.load(deliveryId)
    if (record === null) return outbox.forget(deliveryId)
    if (state === 'unknown' && now - record.createdAt < PARKED_TTL_MS) {
      await outbox.handOver(record, { delayMs: 0, watchAt: now + options.watchMs })
      log.info(logContext(record), 'parked token without a job: handed to the queue by the relay')
      return
    }
    log.error({ ...logContext(record), jobState: state }, 'parked token left behind by its delivery job: ended as failed')
    await finish.failed(record, 'server_error', true, 'relay')
  }

  async function pass(): Promise<void> {
    const now = Date.now()
    for (const deliveryId of await outbox.overdue(now, 100)) {
      await check(deliveryId, now).catch((err: unknown) => log.warn({ err, deliveryId }, 'relay could not check a parked delivery'))
    }
    await webhooks.relay().catch((err: unknown) => log.warn({ err }, 'relay could not queue recorded webhooks'))
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(() => {
      running = pass()
        .catch((err: unknown) => log.warn({ err }, 'relay pass failed'))
        .finally(() => {
          running = undefined
          schedule()
        })
    }, options.intervalMs)
    timer.unref()
  }

  return {
    start() {
      if (!stopped) return
      stopped = false
      schedule()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
    runOnce: pass,
  }
}

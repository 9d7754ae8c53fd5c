import { DelayedError, Job, Queue, UnrecoverableError, Worker, type JobsOptions, type Processor } from 'bullmq'

import { redisKeys } from '../infra/keys.js'
import type { Logger } from '../infra/logger.js'
import { createRedis, type Redis } from '../infra/redis.js'
import { nextRetryDelayMs, retryAfterOf, settleWithin, withTimeout, type RetryPolicy } from '../infra/async.js'
import { DELIVERY_SCHEDULE, EARLY_ALERT_SCHEDULE, WEBHOOK_SCHEDULE } from './schedules.js'

export { DelayedError, UnrecoverableError }
export type { Job }

export const QUEUE_NAME = 'raven-connect'

export type JobName = 'deliver-credential' | 'webhook' | 'leaf-alert'

/** Names the backoff strategy of each job kind (see schedules.ts). */
const SCHEDULES: Record<JobName, RetryPolicy> = {
  'deliver-credential': DELIVERY_SCHEDULE,
  webhook: WEBHOOK_SCHEDULE,
  'leaf-alert': EARLY_ALERT_SCHEDULE,
}

/** A MULTI of the producer connection: `addToMulti` puts a job in it beside the caller's own writes. */
export type RedisMulti = ReturnType<Redis['multi']>

/** Runs a MULTI; an aborted one (EXEC answered null) or any failed command inside it is thrown. */
export async function execMulti(multi: RedisMulti, what: string): Promise<void> {
  const results = await multi.exec()
  if (results === null) throw new Error(`${what}: the MULTI was aborted`)
  const failed = results.find(([err]) => err !== null)
  if (failed) throw failed[0]
}

export interface JobQueueOptions {
  redisUrl: string
  logger: Logger
  prefix?: string
  /** How long a request may wait for the queue connection before failing (Redis down at start-up). */
  readyTimeoutMs?: number
}

export interface JobQueue {
  readonly prefix: string
  /** The BullMQ queue itself, for operators' tooling and tests (counts, promote, inspect). */
  readonly queue: Queue
  /** The producer connection (fail-fast, BullMQ's scripts loaded), ready; rejects when Redis is not. */
  client(): Promise<Redis>
  /** Adds a job inside `multi`; it exists only if the MULTI's EXEC succeeds, together with the rest. */
  addToMulti(multi: RedisMulti, name: JobName, data: object, opts: JobsOptions & { jobId: string }): Promise<void>
  /** Options every job of this kind gets: attempts and backoff from its schedule, bounded history. */
  jobOptions(name: JobName): JobsOptions
  /** Starts consuming jobs on this instance with its own blocking connection. */
  startWorker(processors: Record<JobName, Processor>, options?: { concurrency?: number }): Worker
  /** Stops the worker (running jobs get `graceMs` to finish), then closes the connections. */
  close(graceMs?: number): Promise<void>
}

/**
 * BullMQ wiring. The producer side uses a fail-fast connection (a request must not hang on a down
 * Redis); the worker side gets its own connection with `maxRetriesPerRequest: null`, as BullMQ needs
 * for its blocking commands, and survives Redis restarts by itself.
 */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const log = options.logger.child({ module: 'jobs' })
  const prefix = options.prefix ?? redisKeys.defaultJobPrefix
  const readyTimeoutMs = options.readyTimeoutMs ?? 1500
  const producer = createRedis({ url: options.redisUrl, logger: options.logger, connectionName: 'raven-connect:queue' })
  // Not lazy: BullMQ then waits for 'ready' instead of failing for good when Redis is down at start-up.
  producer.connect().catch(() => undefined)
  const queue = new Queue(QUEUE_NAME, { connection: producer, prefix })
  queue.on('error', (err) => log.warn({ err }, 'queue connection error'))
  let worker: Worker | undefined
  let workerRedis: Redis | undefined

  const jobOptions = (name: JobName): JobsOptions => ({
    attempts: SCHEDULES[name].attempts,
    backoff: { type: name },
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
  })

  return {
    prefix,
    queue,
    async client() {
      return (await withTimeout(queue.client, readyTimeoutMs, 'Redis did not become ready')) as unknown as Redis
    },
    async addToMulti(multi, name, data, opts) {
      // Job#addJob accepts a pipeline: BullMQ's own FlowProducer adds jobs to a MULTI this way.
      const job = new Job(queue, name, data, { ...jobOptions(name), ...opts }, opts.jobId)
      await job.addJob(multi as unknown as Parameters<Job['addJob']>[0])
    },
    jobOptions,
    startWorker(processors, workerOptions = {}) {
      if (worker) return worker
      workerRedis = createRedis({ url: options.redisUrl, logger: options.logger, role: 'worker', connectionName: 'raven-connect:worker' })
      workerRedis.connect().catch(() => undefined)
      const dispatch: Processor = async (job, token, signal) => {
        const processor = processors[job.name as JobName]
        if (!processor) throw new UnrecoverableError(`no processor for job ${job.name}`)
        return processor(job, token, signal)
      }
      worker = new Worker(QUEUE_NAME, dispatch, {
        connection: workerRedis,
        prefix,
        concurrency: workerOptions.concurrency ?? 8,
        lockDuration: 30_000,
        // A job whose worker died is picked up again after stalledInterval; a process that keeps
        // dying mid-job must not turn a deliverable token into a failed job after one stall.
        stalledInterval: 15_000,
        maxStalledCount: 10,
        settings: {
          backoffStrategy: (attemptsMade, type, err) => {
            const schedule = SCHEDULES[type as JobName] ?? DELIVERY_SCHEDULE
            return nextRetryDelayMs(schedule, attemptsMade, retryAfterOf(err))
          },
        },
      })
      // BullMQ re-emits connection errors here; without a listener Node would treat them as fatal.
      worker.on('error', (err) => log.warn({ err }, 'worker error'))
      worker.on('failed', (job, err) => {
        if (job) log.info({ jobId: job.id, name: job.name, attemptsMade: job.attemptsMade, err }, 'job attempt failed')
      })
      return worker
    },
    async close(graceMs = 10_000) {
      if (worker) {
        // Stop taking jobs; let running ones finish within the grace period, then ask them to hand
        // their job back (processors see the abort signal and move it to delayed, to run elsewhere).
        const closing = worker.close().catch(() => undefined)
        if ((await settleWithin(closing, graceMs)) === 'timeout') {
          log.warn('jobs still running at shutdown; returning them to the queue')
          worker.cancelAllJobs('shutting down')
          if ((await settleWithin(closing, 3000)) === 'timeout') await worker.close(true).catch(() => undefined)
        }
      }
      await queue.close().catch(() => undefined)
      for (const client of [workerRedis, producer]) {
        if (client && client.status !== 'end') await client.quit().catch(() => client.disconnect())
      }
    },
  }
}

import { randomUUID } from 'node:crypto'

import type { Processor } from 'bullmq'

import type { Config } from '../config/load-config.js'
import { createTokenCipher, TokenCipherError, type TokenCipher } from './token-cipher.js'
import { isLeafError, type LeafClient, type RavenCredentialInput, type RavenCredentialSummary } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { Webhooks } from '../webhooks/events.js'
import type { CredentialDelivery, DeliveryRequest } from './credential-delivery.js'
import { deliverOnce, TryAborted } from './deliver-once.js'
import { DelayedError, UnrecoverableError, type JobQueue } from '../jobs/queue.js'
import { OutboxRecordGone, type Outbox, type ParkedDelivery } from './outbox.js'
import { nextRetryDelayMs, retryAfterOf, sleep } from '../infra/async.js'
import { INLINE_SCHEDULE } from '../jobs/schedules.js'

export interface DurableDeliveryOptions {
  config: Config
  leaf: LeafClient
  logger: Logger
  jobs: JobQueue
  outbox: Outbox
  webhooks: Webhooks
  metrics: Pick<Metrics, 'deliveries'>
  /** How long the callback waits for Leaf before answering `pending`. Default 4000. */
  inlineBudgetMs?: number
  /** Lifetime of a grower's delivery lock, renewed while a try runs. Default 10000. */
  lockTtlMs?: number
}

export interface DurableDelivery extends CredentialDelivery {
  /** Drops the grower's undelivered token (disconnect). */
  cancel(leafUserId: string): Promise<boolean>
  /** The 'deliver-credential' job processor for the queue worker. */
  processJob: Processor<{ deliveryId: string; leafUserId: string }>
  /** Waits (bounded) for inline tries that outlived their request; tells them to stop retrying. */
  drain(timeoutMs: number): Promise<void>
}

type Verdict = 'retry' | 'final'

/**
 * The outbox: park first, then deliver. The token response's refresh token is sealed and written to
 * Redis together with its delivery job in one MULTI before Leaf is called, so a process killed one
 * instruction later loses nothing: the job delivers it. Then the callback tries inline for
 * `inlineBudgetMs` (short retries, full jitter, Retry-After honoured); a token not delivered by then
 * is `pending`, and the job keeps trying on the durable schedule until Leaf takes it or refuses it.
 */
export function createDurableDelivery(options: DurableDeliveryOptions): DurableDelivery {
  const { leaf, outbox, webhooks, jobs } = options
  const log = options.logger.child({ module: 'delivery' })
  const cipher: TokenCipher = createTokenCipher(options.config.tokenEncryptionKey)
  const inlineBudgetMs = options.inlineBudgetMs ?? 4000
  const lockTtlMs = options.lockTtlMs ?? 10_000
  const inFlight = new Set<Promise<unknown>>()
  let stopping = false

  const credentialFor = (refreshToken: string): RavenCredentialInput => ({
    clientId: options.config.raven.clientId,
    clientSecret: options.config.raven.clientSecret,
    refreshToken,
  })
  // Bound into the GCM tag: a record copied to another delivery or grower does not open.
  const sealContext = (deliveryId: string, leafUserId: string) => `${deliveryId}|${leafUserId}`
  const context = (record: ParkedDelivery) => ({ deliveryId: record.deliveryId, leafUserId: record.leafUserId, connectSessionId: record.connectSessionId })

  async function finishDelivered(record: ParkedDelivery, summary: RavenCredentialSummary, via: 'inline' | 'job'): Promise<void> {
    await outbox.finish(record, (multi) =>
      webhooks.addToMulti(multi, 'connection.created', record.leafUserId, { connectSessionId: record.connectSessionId, credentialId: summary.id }),
    )
    options.metrics.deliveries.inc({ outcome: 'delivered', via })
    log.info({ ...context(record), via, credentialId: summary.id }, 'credential delivered to Leaf')
  }

  async function finishFailed(record: ParkedDelivery, reason: 'leaf_rejected' | 'server_error', tellHost: boolean, via: 'inline' | 'job') {
    await outbox.finish(record, (multi) =>
      tellHost ? webhooks.addToMulti(multi, 'connection.failed', record.leafUserId, { connectSessionId: record.connectSessionId, reason }) : Promise.resolve(),
    )
    options.metrics.deliveries.inc({ outcome: 'failed', via })
    log.warn({ ...context(record), via, reason }, 'credential delivery failed for good; parked token deleted')
  }

  /** Renews the lock while a try runs, so a slow Leaf does not let a second try in. */
  function holdLock(leafUserId: string, owner: string): () => Promise<void> {
    const timer = setInterval(() => {
      outbox.renewLock(leafUserId, owner, lockTtlMs).catch(() => undefined)
    }, Math.floor(lockTtlMs / 3))
    timer.unref()
    return async () => {
      clearInterval(timer)
      await outbox.unlock(leafUserId, owner).catch((err: unknown) => log.warn({ err }, 'could not release delivery lock'))
    }
  }

  async function waitForLock(leafUserId: string, owner: string, deadline: number): Promise<boolean> {
    while (Date.now() < deadline && !stopping) {
      if (await outbox.tryLock(leafUserId, owner, lockTtlMs)) return true
      await sleep(200)
    }
    return false
  }

  async function runInline(record: ParkedDelivery, refreshToken: string, owner: string, locked: boolean, answered: () => boolean) {
    const deadline = record.createdAt + inlineBudgetMs
    if (!locked && !(await waitForLock(record.leafUserId, owner, deadline))) return 'pending' as const
    const release = holdLock(record.leafUserId, owner)
    try {
      for (let round = 1; ; round += 1) {
        try {
          const summary = await deliverOnce(leaf, outbox, record, credentialFor(refreshToken))
          await finishDelivered(record, summary, 'inline')
          await jobs.remove(record.deliveryId)
          return 'connected' as const
        } catch (err) {
          if (err instanceof OutboxRecordGone) return 'pending' as const
          if (verdictOf(err) === 'final') {
            // The callback reports an error it still answers itself; after `pending`, the webhook does.
            await finishFailed(record, reasonOf(err), answered(), 'inline').catch(() => undefined)
            await jobs.remove(record.deliveryId)
            throw err
          }
          const delayMs = nextRetryDelayMs(INLINE_SCHEDULE, round, retryAfterOf(err))
          if (round >= INLINE_SCHEDULE.attempts || Date.now() + delayMs >= deadline || stopping) {
            log.info({ ...context(record), round, err }, 'not delivered inline; the queue takes over')
            return 'pending' as const
          }
          await sleep(delayMs)
        }
      }
    } finally {
      await release()
    }
  }

  /** Redis refused the parking: the token is only in memory, so deliver now or report the failure. */
  async function deliverUnparked(request: DeliveryRequest): Promise<'connected'> {
    const summary = await leaf.replaceRavenCredential(request.leafUserId, credentialFor(request.refreshToken))
    options.metrics.deliveries.inc({ outcome: 'delivered', via: 'unparked' })
    log.info({ leafUserId: request.leafUserId, connectSessionId: request.connectSessionId }, 'credential delivered to Leaf without parking')
    await webhooks.emit('connection.created', request.leafUserId, { connectSessionId: request.connectSessionId, credentialId: summary.id })
    return 'connected'
  }

  return {
    async deliver(request) {
      const deliveryId = `dlv_${randomUUID()}`
      const record: ParkedDelivery = {
        deliveryId,
        leafUserId: request.leafUserId,
        connectSessionId: request.connectSessionId,
        sealedToken: cipher.seal(request.refreshToken, sealContext(deliveryId, request.leafUserId)),
        createdAt: Date.now(),
        attempted: false,
        replacedId: null,
      }
      const owner = `inline:${deliveryId}`
      let locked: boolean
      try {
        ;({ locked } = await outbox.park(record, { delayMs: inlineBudgetMs, lockOwner: owner, lockTtlMs }))
      } catch (err) {
        log.error({ err, leafUserId: request.leafUserId }, 'could not park the refresh token; delivering without the outbox')
        return deliverUnparked(request)
      }
      log.info(context(record), 'refresh token parked')
      let late = false
      const run = runInline(record, request.refreshToken, owner, locked, () => late)
      const tracked = run.catch(() => undefined).finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
      let timer: NodeJS.Timeout | undefined
      const budget = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), inlineBudgetMs)
      })
      try {
        const outcome = await Promise.race([run, budget])
        if (outcome === 'late') {
          late = true
          return 'pending'
        }
        return outcome
      } finally {
        clearTimeout(timer)
      }
    },

    isPending: (leafUserId) => outbox.isPending(leafUserId),

    cancel: (leafUserId) => outbox.cancel(leafUserId),

    async processJob(job, token, signal) {
      const { deliveryId, leafUserId } = job.data
      const returnLater = async (delayMs: number): Promise<never> => {
        await job.moveToDelayed(Date.now() + delayMs, token)
        throw new DelayedError()
      }
      const parked = await outbox.load(deliveryId)
      if (parked === null) return 'nothing parked'
      if ((await outbox.latestFor(leafUserId)) !== deliveryId) {
        // A later consent of the same grower (or a disconnect) replaced this one: the newest wins.
        await outbox.finish(parked)
        log.info(context(parked), 'parked token superseded; dropped')
        return 'superseded'
      }
      const owner = `job:${deliveryId}:${token ?? ''}`
      if (!(await outbox.tryLock(leafUserId, owner, lockTtlMs))) return returnLater(1000 + Math.floor(Math.random() * 1000))
      const release = holdLock(leafUserId, owner)
      try {
        const record = await outbox.load(deliveryId)
        if (record === null) return 'nothing parked'
        let refreshToken: string
        try {
          refreshToken = cipher.open(record.sealedToken, sealContext(deliveryId, leafUserId))
        } catch (err) {
          if (err instanceof TokenCipherError && err.kind === 'unknown_key') {
            log.warn({ ...context(record), keyId: cipher.keyIdOf(record.sealedToken) }, 'parked token sealed under another TOKEN_ENCRYPTION_KEY; left for an instance that has it')
            return await returnLater(60_000)
          }
          log.error({ ...context(record), failure: err instanceof TokenCipherError ? err.kind : 'unknown' }, 'parked token failed authentication (tampered?): refused, never delivered')
          await finishFailed(record, 'server_error', true, 'job')
          throw new UnrecoverableError('parked token refused')
        }
        // Shutting down: hand the job back untouched rather than start on Leaf.
        if (signal?.aborted) return await returnLater(0)
        try {
          const summary = await deliverOnce(leaf, outbox, record, credentialFor(refreshToken), signal)
          await finishDelivered(record, summary, 'job')
          return 'delivered'
        } catch (err) {
          if (err instanceof OutboxRecordGone) return 'nothing parked'
          if (err instanceof TryAborted) {
            log.info(context(record), 'shutting down: delivery job returned to the queue')
            return await returnLater(0)
          }
          const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
          if (verdictOf(err) === 'final' || lastTry) {
            await finishFailed(record, reasonOf(err), true, 'job')
            throw new UnrecoverableError(`delivery failed for good: ${(err as Error).message}`)
          }
          log.info({ ...context(record), attempt: job.attemptsMade + 1, err }, 'delivery try failed; retrying later')
          throw err
        }
      } finally {
        await release()
      }
    },

    async drain(timeoutMs) {
      stopping = true
      if (inFlight.size === 0) return
      await Promise.race([Promise.allSettled([...inFlight]), sleep(timeoutMs)])
    },
  }
}

/** Only network errors, timeouts, 429 and 5xx (and our own Redis trouble) are worth another try. */
function verdictOf(err: unknown): Verdict {
  if (isLeafError(err)) {
    if (err.kind === 'rejected' || err.kind === 'not_found' || err.kind === 'ambiguous_external_id') return 'final'
    // unavailable/timeout (retryable), unauthorized (an operator can fix the login), invalid_response.
    return 'retry'
  }
  return 'retry'
}

function reasonOf(err: unknown): 'leaf_rejected' | 'server_error' {
  return isLeafError(err) && (err.kind === 'rejected' || err.kind === 'not_found') ? 'leaf_rejected' : 'server_error'
}

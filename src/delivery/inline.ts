import { randomUUID } from 'node:crypto'

import { describeLeafFailure } from '../leaf/client.js'
import { nextRetryDelayMs, retryAfterOf, settleWithin, sleep } from '../infra/async.js'
import type { Metrics } from '../infra/metrics.js'
import type { JobQueue } from '../jobs/queue.js'
import { INLINE_SCHEDULE } from '../jobs/schedules.js'
import type { Webhooks } from '../webhooks/events.js'
import type { DeliveryRequest } from './credential-delivery.js'
import { deliverOnce } from './deliver-once.js'
import { logContext } from './finish.js'
import type { DeliveryJobDeps } from './job.js'
import { OutboxRecordGone, sealContext, type ParkedDelivery } from './outbox.js'

/** What a queued job needs, and what only the callback's side needs besides. */
export interface InlinePhaseDeps extends DeliveryJobDeps {
  jobs: JobQueue
  webhooks: Webhooks
  metrics: Pick<Metrics, 'deliveries'>
  /** How long the callback waits for Leaf before answering `pending`. */
  budgetMs: number
  isStopping(): boolean
}

/** The callback's side of a delivery: park the token, then try Leaf for as long as the grower waits. */
export interface InlinePhase {
  deliver(request: DeliveryRequest): Promise<'connected' | 'pending'>
  /** Waits at most `timeoutMs` for tries that outlived their request. */
  settle(timeoutMs: number): Promise<void>
}

/**
 * Parks the sealed token with its delivery job (one MULTI, see outbox.ts), then tries Leaf within
 * `budgetMs` (short retries, full jitter, Retry-After honoured). `connected` when Leaf took it in
 * time; `pending` otherwise, and the job, delayed by the budget, keeps trying. A try that outlives the
 * budget runs on, and reports its outcome by webhook only (the grower was told `pending`).
 */
export function createInlinePhase(deps: InlinePhaseDeps): InlinePhase {
  const { leaf, outbox, jobs, finish, lock, log, budgetMs } = deps
  const inFlight = new Set<Promise<unknown>>()

  async function tryWithinBudget(record: ParkedDelivery, refreshToken: string, owner: string, locked: boolean, answered: () => boolean) {
    const deadline = record.createdAt + budgetMs
    if (!locked && !(await lock.waitFor(record.leafUserId, owner, deadline))) return 'pending' as const
    const release = lock.hold(record.leafUserId, owner)
    try {
      for (let round = 1; ; round += 1) {
        try {
          const summary = await deliverOnce(leaf, outbox, record, deps.credentialFor(refreshToken))
          await finish.delivered(record, summary, 'inline')
          await jobs.remove(record.deliveryId)
          return 'connected' as const
        } catch (err) {
          if (err instanceof OutboxRecordGone) return 'pending' as const
          const leafFailure = describeLeafFailure(err)
          if (leafFailure?.final) {
            // The callback reports an error it still answers itself; after `pending`, the webhook does.
            await finish.failed(record, leafFailure.flowReason, answered(), 'inline').catch(() => undefined)
            await jobs.remove(record.deliveryId)
            throw err
          }
          const delayMs = nextRetryDelayMs(INLINE_SCHEDULE, round, retryAfterOf(err))
          if (round >= INLINE_SCHEDULE.attempts || Date.now() + delayMs >= deadline || deps.isStopping()) {
            log.info({ ...logContext(record), round, err }, 'not delivered inline; the queue takes over')
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
    const summary = await leaf.replaceRavenCredential(request.leafUserId, deps.credentialFor(request.refreshToken))
    deps.metrics.deliveries.inc({ outcome: 'delivered', via: 'unparked' })
    log.info({ leafUserId: request.leafUserId, connectSessionId: request.connectSessionId }, 'credential delivered to Leaf without parking')
    await deps.webhooks.emit('connection.created', request.leafUserId, { connectSessionId: request.connectSessionId, credentialId: summary.id })
    return 'connected'
  }

  return {
    async deliver(request) {
      const deliveryId = `dlv_${randomUUID()}`
      const record: ParkedDelivery = {
        deliveryId,
        leafUserId: request.leafUserId,
        connectSessionId: request.connectSessionId,
        sealedToken: deps.cipher.seal(request.refreshToken, sealContext(deliveryId, request.leafUserId)),
        createdAt: Date.now(),
        attempted: false,
        replacedId: null,
      }
      const owner = `inline:${deliveryId}`
      let locked: boolean
      try {
        ;({ locked } = await outbox.park(record, { delayMs: budgetMs, lockOwner: owner, lockTtlMs: lock.ttlMs }))
      } catch (err) {
        log.error({ err, leafUserId: request.leafUserId }, 'could not park the refresh token; delivering without the outbox')
        return deliverUnparked(request)
      }
      log.info(logContext(record), 'refresh token parked')
      let late = false
      const run = tryWithinBudget(record, request.refreshToken, owner, locked, () => late)
      const tracked = run.catch(() => undefined).finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
      let timer: NodeJS.Timeout | undefined
      const budget = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), budgetMs)
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

    async settle(timeoutMs) {
      if (inFlight.size === 0) return
      await settleWithin(Promise.allSettled([...inFlight]), timeoutMs)
    },
  }
}

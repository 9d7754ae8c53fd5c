import { randomUUID } from 'node:crypto'

import { describeLeafFailure } from '../leaf/client.js'
import { nextRetryDelayMs, retryAfterOf, settleWithin, sleep } from '../infra/async.js'
import type { Metrics } from '../infra/metrics.js'
import { INLINE_SCHEDULE } from '../jobs/schedules.js'
import type { Webhooks } from '../webhooks/events.js'
import { DeliveryCancelled, type DeliveryRequest } from './credential-delivery.js'
import { deliverOnce } from './deliver-once.js'
import { undoCancelled } from './undo.js'
import { logContext } from './finish.js'
import type { DeliveryJobDeps } from './job.js'
import { OutboxRecordGone, sealContext, type ParkedDelivery } from './outbox.js'

/** What a queued job needs, and what only the callback's side needs besides. */
export interface InlinePhaseDeps extends DeliveryJobDeps {
  webhooks: Webhooks
  metrics: Pick<Metrics, 'deliveries'>
  /** How long the callback waits for Leaf before answering `pending`. */
  budgetMs: number
  /** When the relay looks again at a delivery handed to the queue (relay.ts `watchMs`). */
  relayWatchMs: number
  isStopping(): boolean
}

/** The callback's side of a delivery: park the token, then try Leaf for as long as the grower waits. */
export interface InlinePhase {
  deliver(request: DeliveryRequest): Promise<'connected' | 'pending'>
  /** Waits at most `timeoutMs` for tries that outlived their request. */
  settle(timeoutMs: number): Promise<void>
}

/**
 * Parks the sealed token (one script, see outbox.ts), then tries Leaf within `budgetMs` (short
 * retries, full jitter, Retry-After honoured). `connected` when Leaf took it in time (one more script
 * ends the record); `pending` otherwise: the tries hand the delivery to the queue (`handOver`), and
 * should this process die before that, the relay does it once the record's due-time passes. A try
 * that outlives the budget runs on, and reports its outcome by webhook only (the grower was told
 * `pending`). A delivery cancelled by a disconnect while it runs throws DeliveryCancelled.
 */
export function createInlinePhase(deps: InlinePhaseDeps): InlinePhase {
  const { leaf, outbox, finish, lock, log, budgetMs } = deps
  const inFlight = new Set<Promise<unknown>>()

  /** The queue takes over. Should this fail (Redis), the relay hands it over once the record is due. */
  async function handOver(record: ParkedDelivery, delayMs: number): Promise<'pending'> {
    await outbox
      .handOver(record, { delayMs, watchAt: Date.now() + deps.relayWatchMs })
      .catch((err: unknown) => log.warn({ ...logContext(record), err }, 'could not hand the delivery to the queue; the relay will'))
    return 'pending'
  }

  async function tryWithinBudget(record: ParkedDelivery, refreshToken: string, owner: string, locked: boolean, answered: () => boolean) {
    const deadline = record.createdAt + budgetMs
    if (!locked && !(await lock.waitFor(record.leafUserId, owner, deadline))) return handOver(record, 0)
    const held = lock.hold(record.leafUserId, owner)
    const heldLock = { owner, ttlMs: lock.ttlMs }
    let releasedByFinish = false
    try {
      for (let round = 1; ; round += 1) {
        try {
          const summary = await deliverOnce(leaf, outbox, record, deps.credentialFor(refreshToken))
          if ((await finish.delivered(record, summary, 'inline', heldLock)) === 'finished') {
            releasedByFinish = true
            return 'connected' as const
          }
          await undoCancelled(deps, record, refreshToken)
          throw new DeliveryCancelled(record.leafUserId)
        } catch (err) {
          if (err instanceof DeliveryCancelled) throw err
          // Gone before Leaf was changed: a disconnect dropped it between two tries.
          if (err instanceof OutboxRecordGone) throw new DeliveryCancelled(record.leafUserId)
          const leafFailure = describeLeafFailure(err)
          if (leafFailure?.final) {
            // The callback reports an error it still answers itself; after `pending`, the webhook does.
            const ended = await finish.failed(record, leafFailure.flowReason, answered(), 'inline', heldLock).catch(() => undefined)
            releasedByFinish = ended === 'finished'
            throw err
          }
          const delayMs = nextRetryDelayMs(INLINE_SCHEDULE, round, retryAfterOf(err))
          if (round >= INLINE_SCHEDULE.attempts || Date.now() + delayMs >= deadline || deps.isStopping()) {
            log.info({ ...logContext(record), round, err }, 'not delivered inline; the queue takes over')
            return await handOver(record, delayMs)
          }
          await sleep(delayMs)
        }
      }
    } finally {
      if (releasedByFinish) held.stop()
      else await held.release()
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
        // Due for the relay once the inline tries could have ended and their lock expired.
        const dueAt = record.createdAt + budgetMs + lock.ttlMs
        ;({ locked } = await outbox.park(record, { lockOwner: owner, lockTtlMs: lock.ttlMs, dueAt }))
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

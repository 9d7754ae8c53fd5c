import type { RavenCredentialSummary } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { ConnectionRegistry } from '../registry/registry.js'
import type { Webhooks } from '../webhooks/events.js'
import type { FinishResult, Outbox, ParkedDelivery } from './outbox.js'

/** Which part of the delivery ended the record: the callback's inline tries, the queued job, or the relay. */
export type DeliveryPhase = 'inline' | 'job' | 'relay'

/** The grower's lock, when the finishing try holds it: released in the same script. */
export interface HeldLock {
  owner: string
  ttlMs: number
}

/**
 * Ends a parked delivery: the record (and with it the sealed token) goes, and the webhook saying how
 * it ended is recorded in the same script, so the host hears of exactly the deliveries that ended.
 * `gone`: the delivery was cancelled (disconnect) while the try ran; nothing was recorded, and a held
 * lock is still held.
 */
export interface DeliveryFinish {
  delivered(record: ParkedDelivery, summary: RavenCredentialSummary, via: DeliveryPhase, lock?: HeldLock): Promise<FinishResult>
  /** `tellHost`: record `connection.failed` (false while the callback still answers the grower itself). */
  failed(record: ParkedDelivery, reason: 'leaf_rejected' | 'server_error', tellHost: boolean, via: DeliveryPhase, lock?: HeldLock): Promise<FinishResult>
}

/** What a delivery's log lines carry: never the token. */
export function logContext(record: ParkedDelivery) {
  return { deliveryId: record.deliveryId, leafUserId: record.leafUserId, connectSessionId: record.connectSessionId }
}

const present = <T>(value: T | undefined): value is T => value !== undefined

export function createDeliveryFinish(deps: {
  outbox: Outbox
  webhooks: Webhooks
  metrics: Pick<Metrics, 'deliveries'>
  /** Registers every delivered credential in the finish script's atomic step. */
  registry: Pick<ConnectionRegistry, 'registrationStep'>
  log: Logger
}): DeliveryFinish {
  const { outbox, webhooks, registry, metrics, log } = deps
  const lockOptions = (lock?: HeldLock) => (lock ? { lockOwner: lock.owner, lockTtlMs: lock.ttlMs } : {})
  return {
    async delivered(record, summary, via, lock) {
      const event = webhooks.recordWrite('connection.created', record.leafUserId, { connectSessionId: record.connectSessionId, credentialId: summary.id })
      // In the same script, only when the record was still parked: a crash cannot leave a delivered
      // credential unknown to Leaf's Alerts, and a cancelled delivery registers nothing.
      const step = registry.registrationStep({ leafUserId: record.leafUserId, credentialId: summary.id, createdTime: summary.createdTime })
      const result = await outbox.finish(record, { ...lockOptions(lock), writes: [event].filter(present), step })
      if (result === 'gone') {
        log.info({ ...logContext(record), via, credentialId: summary.id }, 'delivery was cancelled while Leaf stored it')
        return result
      }
      metrics.deliveries.inc({ outcome: 'delivered', via })
      log.info({ ...logContext(record), via, credentialId: summary.id }, 'credential delivered to Leaf')
      return result
    },
    async failed(record, reason, tellHost, via, lock) {
      const event = tellHost ? webhooks.recordWrite('connection.failed', record.leafUserId, { connectSessionId: record.connectSessionId, reason }) : undefined
      const result = await outbox.finish(record, { ...lockOptions(lock), writes: [event].filter(present) })
      if (result === 'gone') return result
      metrics.deliveries.inc({ outcome: 'failed', via })
      log.warn({ ...logContext(record), via, reason }, 'credential delivery failed for good; parked token deleted')
      return result
    },
  }
}

import type { RavenCredentialSummary } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { ConnectionRegistry } from '../registry/registry.js'
import type { Webhooks } from '../webhooks/events.js'
import type { Outbox, ParkedDelivery } from './outbox.js'

/** Which part of the delivery ended the record: the callback's inline tries or the queued job. */
export type DeliveryPhase = 'inline' | 'job'

/**
 * Ends a parked delivery: the record (and with it the sealed token) goes, and the webhook saying how
 * it ended is queued in the same MULTI, so the host hears of exactly the deliveries that ended.
 */
export interface DeliveryFinish {
  delivered(record: ParkedDelivery, summary: RavenCredentialSummary, via: DeliveryPhase): Promise<void>
  /** `tellHost`: queue `connection.failed` (false while the callback still answers the grower itself). */
  failed(record: ParkedDelivery, reason: 'leaf_rejected' | 'server_error', tellHost: boolean, via: DeliveryPhase): Promise<void>
}

/** What a delivery's log lines carry: never the token. */
export function logContext(record: ParkedDelivery) {
  return { deliveryId: record.deliveryId, leafUserId: record.leafUserId, connectSessionId: record.connectSessionId }
}

export function createDeliveryFinish(deps: { outbox: Outbox; webhooks: Webhooks; registry: ConnectionRegistry; metrics: Pick<Metrics, 'deliveries'>; log: Logger }): DeliveryFinish {
  const { outbox, webhooks, registry, metrics, log } = deps
  return {
    async delivered(record, summary, via) {
      await outbox.finish(record, (multi) => {
        // In the same MULTI: a crash cannot leave a delivered credential unknown to Leaf's Alerts.
        registry.registerInMulti(multi, { leafUserId: record.leafUserId, credentialId: summary.id, createdTime: summary.createdTime })
        return webhooks.addToMulti(multi, 'connection.created', record.leafUserId, { connectSessionId: record.connectSessionId, credentialId: summary.id })
      })
      metrics.deliveries.inc({ outcome: 'delivered', via })
      log.info({ ...logContext(record), via, credentialId: summary.id }, 'credential delivered to Leaf')
    },
    async failed(record, reason, tellHost, via) {
      await outbox.finish(record, (multi) =>
        tellHost ? webhooks.addToMulti(multi, 'connection.failed', record.leafUserId, { connectSessionId: record.connectSessionId, reason }) : Promise.resolve(),
      )
      metrics.deliveries.inc({ outcome: 'failed', via })
      log.warn({ ...logContext(record), via, reason }, 'credential delivery failed for good; parked token deleted')
    },
  }
}

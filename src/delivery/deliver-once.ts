import type { LeafClient, RavenCredentialInput, RavenCredentialSummary } from '../leaf/client.js'
import type { Outbox, ParkedDelivery } from './outbox.js'

/**
 * One try to make Leaf hold exactly this credential, safe to repeat after any failure, in any
 * process: Leaf's one reconnect routine (look up, delete, create; an unclear create checked with a
 * GET), given the outbox record as its memory:
 *
 * - If an earlier try already posted (`attempted`) and Leaf now holds a credential other than the one
 *   that try replaced, that post landed although its answer was lost: done, nothing posted twice.
 * - `attempted` and the id about to be replaced are recorded *before* Leaf is changed, so a crash at
 *   any later point leaves enough behind for the next try.
 * - On shutdown (`signal` aborted) the try stops before changing Leaf.
 *
 * Callers hold the grower's delivery lock, so no other try for this grower runs meanwhile.
 * @throws LeafError as the Leaf client throws it (`retryable` says whether a later try may succeed),
 *   TryAborted, or OutboxRecordGone when another try finished the record meanwhile.
 */
export function deliverOnce(
  leaf: LeafClient,
  outbox: Outbox,
  record: ParkedDelivery,
  credential: RavenCredentialInput,
  signal?: AbortSignal,
): Promise<RavenCredentialSummary> {
  return leaf.replaceRavenCredential(record.leafUserId, credential, {
    earlierPost: record.attempted ? { replacedId: record.replacedId } : null,
    async beforeChange(replacedId) {
      if (signal?.aborted) throw new TryAborted()
      await outbox.markAttempted(record.deliveryId, replacedId)
      record.attempted = true
      record.replacedId = replacedId
    },
  })
}

/** The try stopped before changing Leaf because the worker is shutting down. */
export class TryAborted extends Error {
  constructor() {
    super('delivery try stopped before changing Leaf: shutting down')
    this.name = 'TryAborted'
  }
}

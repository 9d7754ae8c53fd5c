import { isLeafError, type LeafClient, type RavenCredentialInput, type RavenCredentialSummary } from '../leaf/client.js'
import type { Outbox, ParkedDelivery } from './outbox.js'

/** Statuses Leaf may use to say "this user already has a credential" (not documented). */
const CONFLICT_LIKE = new Set([400, 409, 422])

/**
 * One idempotent try to make Leaf hold exactly this credential (the contract's reconnect rule:
 * look up, delete, create), safe to repeat after any failure, in any process:
 *
 * 1. Look at Leaf first. If an earlier try already posted (`attempted`) and Leaf now holds a
 *    credential other than the one that try replaced, that post landed although its answer was lost
 *    (a timeout after Leaf stored it): done, nothing is posted twice.
 * 2. Record `attempted` and the id about to be replaced *before* changing Leaf, so a crash at any later
 *    point leaves enough behind for step 1 of the next try.
 * 3. Delete the old credential, create ours. A conflict-looking or ambiguous answer is checked with
 *    a GET rather than trusted.
 *
 * Callers hold the grower's delivery lock, so no other delivery for this grower runs meanwhile.
 * @throws LeafError as the Leaf client throws it; `retryable` says whether a later try may succeed.
 */
export async function deliverOnce(
  leaf: LeafClient,
  outbox: Outbox,
  record: ParkedDelivery,
  credential: RavenCredentialInput,
  signal?: AbortSignal,
): Promise<RavenCredentialSummary> {
  const { leafUserId } = record
  const current = await leaf.getRavenCredential(leafUserId)
  if (record.attempted && current !== null && current.id !== record.replacedId) return current
  // Shutting down: stop before changing anything at Leaf; the job goes back to the queue.
  if (signal?.aborted) throw new TryAborted()

  await outbox.markAttempted(record.deliveryId, current?.id ?? null)
  record.attempted = true
  record.replacedId = current?.id ?? null
  if (current !== null) await leaf.deleteRavenCredential(leafUserId)
  try {
    return await leaf.createRavenCredential(leafUserId, credential)
  } catch (err) {
    if (!isLeafError(err)) throw err
    const conflictLike = err.status !== undefined && CONFLICT_LIKE.has(err.status)
    if (!conflictLike && !err.ambiguous) throw err
    // Did it land after all? A credential other than the one we replaced can only be ours: the lock
    // keeps other deliveries for this grower out.
    const now = await leaf.getRavenCredential(leafUserId).catch(() => undefined)
    if (now !== undefined && now !== null && now.id !== record.replacedId) return now
    throw err
  }
}

/** The try stopped before changing Leaf because the worker is shutting down. */
export class TryAborted extends Error {
  constructor() {
    super('delivery try stopped before changing Leaf: shutting down')
    this.name = 'TryAborted'
  }
}

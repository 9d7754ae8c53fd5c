import type { LeafClient } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import { logContext } from './finish.js'
import type { ParkedDelivery } from './outbox.js'

/**
 * A disconnect cancelled the delivery while Leaf stored it. The disconnect deletes at Leaf once it
 * gets the grower's lock, which this try still holds; deleting here too covers a disconnect that gave
 * up waiting. Safe while the lock is held: no newer try of this grower can have posted meanwhile.
 */
export async function undoCancelled(deps: { leaf: LeafClient; log: Logger }, record: ParkedDelivery): Promise<void> {
  await deps.leaf.deleteRavenCredential(record.leafUserId).catch((err: unknown) => deps.log.warn({ ...logContext(record), err }, 'could not undo a cancelled delivery at Leaf'))
}

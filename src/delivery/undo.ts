import type { LeafClient } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import { logContext } from './finish.js'
import type { ParkedDelivery } from './outbox.js'

export interface UndoDeps {
  leaf: LeafClient
  log: Logger
  /** Revokes a refresh token at Raven where a revocation endpoint is known; false when it could not. */
  revokeAtRaven(refreshToken: string): Promise<boolean>
}

/**
 * A disconnect cancelled the delivery while Leaf stored it: this try withdraws what it stored, the
 * way the disconnect would have (revoke at Raven, best effort; delete at Leaf). It still holds the
 * grower's lock, so the waiting disconnect then finds nothing left, and no newer try of this grower
 * can have posted meanwhile.
 */
export async function undoCancelled(deps: UndoDeps, record: ParkedDelivery, refreshToken: string): Promise<void> {
  await deps.revokeAtRaven(refreshToken).catch(() => false)
  await deps.leaf.deleteRavenCredential(record.leafUserId).then(
    () => deps.log.info(logContext(record), 'cancelled delivery withdrawn from Leaf'),
    (err: unknown) => deps.log.warn({ ...logContext(record), err }, 'could not withdraw a cancelled delivery from Leaf'),
  )
}

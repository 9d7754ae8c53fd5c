import type { CredentialDelivery } from '../delivery/credential-delivery.js'
import type { LeafClient } from '../leaf/leaf-client.js'
import type { LeafEvent } from '../leaf/leaf-schemas.js'
import type { Logger } from '../ops/logger.js'
import type { RavenClient } from '../raven/raven-client.js'
import type { ConnectionEvents as Webhooks } from '../webhooks/connection-events.js'

export type ConnectionStatus =
  | {
      leafUserId: string
      connected: true
      pending: false
      status: string
      credentialId: string
      createdTime: string
      scopes: string[]
    }
  | { leafUserId: string; connected: false; pending: boolean }

export interface ConnectionEvents {
  leafUserId: string
  events: LeafEvent[]
}

export interface ConnectionServiceDeps {
  leaf: LeafClient
  raven: RavenClient
  delivery: CredentialDelivery
  events: Webhooks
  logger: Logger
}

/** Status, disconnect and events for one Leaf user: shared by the /v1 and the browser /api routes. */
export function createConnectionService(deps: ConnectionServiceDeps) {
  const log = deps.logger.child({ module: 'connection' })

  /** @returns whether Leaf held a credential (undefined: could not tell). Never throws. */
  async function revokeAtRaven(leafUserId: string): Promise<boolean | undefined> {
    const canRevoke = await deps.raven.canRevoke().catch(() => false)
    if (!canRevoke) return undefined
    let refreshToken: string | null
    try {
      refreshToken = await deps.leaf.getRavenRefreshTokenForRevocation(leafUserId)
    } catch (err) {
      log.warn({ leafUserId, err }, 'could not read the credential to revoke it; deleting anyway')
      return undefined
    }
    if (refreshToken === null) return false
    const revoked = await deps.raven.revokeRefreshToken(refreshToken)
    if (revoked) log.info({ leafUserId }, 'refresh token revoked at Raven')
    else log.warn({ leafUserId }, 'revocation at Raven failed; deleting the credential at Leaf anyway')
    return true
  }

  return {
    async status(leafUserId: string): Promise<ConnectionStatus> {
      const credential = await deps.leaf.getRavenCredential(leafUserId)
      if (!credential) return { leafUserId, connected: false, pending: await deps.delivery.isPending(leafUserId) }
      return {
        leafUserId,
        connected: true,
        pending: false,
        status: credential.status,
        credentialId: credential.id,
        createdTime: credential.createdTime,
        scopes: credential.scopes,
      }
    },

    /**
     * Drops any undelivered token, revokes the grower's refresh token at Raven when a revocation
     * endpoint is known (RFC 7009), then deletes the credential at Leaf. Revocation is best effort:
     * a failure is logged and the deletion goes ahead, because the grower asked to disconnect.
     */
    async disconnect(leafUserId: string): Promise<void> {
      const cancelled = (await deps.delivery.cancel?.(leafUserId)) ?? false
      // Whether there was anything to delete decides the connection.deleted webhook.
      const existed =
        (await revokeAtRaven(leafUserId)) ??
        (await deps.leaf.getRavenCredential(leafUserId).then((credential) => credential !== null, () => true))
      await deps.leaf.deleteRavenCredential(leafUserId)
      log.info({ leafUserId, cancelledPending: cancelled }, 'Raven disconnected')
      if (existed || cancelled) await deps.events.emit('connection.deleted', leafUserId, {})
    },

    async events(leafUserId: string): Promise<ConnectionEvents> {
      return { leafUserId, events: await deps.leaf.getRavenCredentialEvents(leafUserId) }
    },
  }
}

export type ConnectionService = ReturnType<typeof createConnectionService>

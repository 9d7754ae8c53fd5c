import type { CredentialDelivery } from '../delivery/credential-delivery.js'
import type { LeafClient } from '../leaf/client.js'
import type { LeafEvent } from '../leaf/schemas.js'
import type { Logger } from '../infra/logger.js'
import type { RavenClient } from '../raven/client.js'
import type { ConnectionRegistry, Health, RegisteredConnection } from '../registry/registry.js'
import type { Webhooks } from '../webhooks/events.js'

export type ConnectionStatus =
  | {
      leafUserId: string
      connected: true
      pending: false
      status: string
      credentialId: string
      createdTime: string
      scopes: string[]
      health: Health
      /** ISO time of the alert that set `health`; null while nothing was said. */
      healthChangedAt: string | null
    }
  | { leafUserId: string; connected: false; pending: boolean }

/** Leaf's troubleshooting events for one credential, redacted (GET …/raven-connection/events). */
export interface TroubleshootingEvents {
  leafUserId: string
  events: LeafEvent[]
}

export interface ConnectionServiceDeps {
  leaf: LeafClient
  raven: RavenClient
  delivery: CredentialDelivery
  webhooks: Webhooks
  registry: ConnectionRegistry
  logger: Logger
}

/** One item of `GET /v1/raven-connections`. */
export interface ListedConnection {
  leafUserId: string
  credentialId: string
  health: Health
  healthChangedAt: string | null
  connectedAt: string
}

export function listedConnection(entry: RegisteredConnection): ListedConnection {
  return {
    leafUserId: entry.leafUserId,
    credentialId: entry.credentialId,
    health: entry.health,
    healthChangedAt: entry.healthChangedAt === null ? null : new Date(entry.healthChangedAt).toISOString(),
    connectedAt: new Date(entry.connectedAt).toISOString(),
  }
}

/** Status, disconnect and events for one Leaf user: shared by the /v1 and the browser /api routes. */
export function createConnectionService(deps: ConnectionServiceDeps) {
  const log = deps.logger.child({ module: 'connection' })

  /**
   * The refresh token Leaf holds for this grower, read only to revoke it at Raven (RFC 7009).
   * @returns the token; null when Leaf holds none; undefined when no revocation endpoint is known or
   *   Leaf could not be read (then the disconnect goes ahead without revoking).
   */
  async function tokenToRevoke(leafUserId: string): Promise<string | null | undefined> {
    if (!(await deps.raven.canRevoke().catch(() => false))) return undefined
    try {
      return await deps.leaf.getRavenRefreshTokenForRevocation(leafUserId)
    } catch (err) {
      log.warn({ leafUserId, err }, 'could not read the credential to revoke it; deleting anyway')
      return undefined
    }
  }

  /** Best effort: a failed revocation is logged and never blocks the disconnect the grower asked for. */
  async function revoke(leafUserId: string, refreshToken: string): Promise<void> {
    if (await deps.raven.revokeRefreshToken(refreshToken)) log.info({ leafUserId }, 'refresh token revoked at Raven')
    else log.warn({ leafUserId }, 'revocation at Raven failed; deleting the credential at Leaf anyway')
  }

  /** Whether Leaf holds a credential; when Leaf cannot say, assume it does (the webhook is harmless). */
  async function holdsCredential(leafUserId: string): Promise<boolean> {
    return deps.leaf.getRavenCredential(leafUserId).then(
      (credential) => credential !== null,
      () => true,
    )
  }

  return {
    async status(leafUserId: string): Promise<ConnectionStatus> {
      const credential = await deps.leaf.getRavenCredential(leafUserId)
      if (!credential) return { leafUserId, connected: false, pending: await deps.delivery.isPending(leafUserId) }
      let entry = await deps.registry.get(leafUserId)
      if (entry?.credentialId !== credential.id) {
        // A credential the registry did not know (made before the registry, or by a finish still on its
        // way): remember it now, so Leaf's alerts about it count. Another credential id is a reconnect.
        await deps.registry.register({ leafUserId, credentialId: credential.id, createdTime: credential.createdTime })
        entry = await deps.registry.get(leafUserId)
      }
      // The registry may keep a newer credential than the one Leaf just showed (a reconnect racing this
      // read): its health is not this credential's.
      if (entry?.credentialId !== credential.id) entry = null
      return {
        leafUserId,
        connected: true,
        pending: false,
        status: credential.status,
        credentialId: credential.id,
        createdTime: credential.createdTime,
        scopes: credential.scopes,
        health: entry?.health ?? 'ok',
        healthChangedAt: entry?.healthChangedAt ? new Date(entry.healthChangedAt).toISOString() : null,
      }
    },

    /** The registry's connections in Leaf user id order, after `after`, optionally of one health. */
    async list(options: { health?: Health; limit: number; after?: string }): Promise<{ connections: ListedConnection[]; after: string | null }> {
      const page = await deps.registry.list(options)
      return { connections: page.connections.map(listedConnection), after: page.after }
    },

    /**
     * Disconnect wins over a delivery: drops any undelivered token and waits for a try already talking
     * to Leaf (delivery.cancel), then revokes the grower's refresh token at Raven when a revocation
     * endpoint is known (RFC 7009) and deletes the credential at Leaf, holding off the grower's
     * deliveries until then. Revocation is best effort: a failure is logged and the deletion goes
     * ahead, because the grower asked to disconnect.
     */
    async disconnect(leafUserId: string): Promise<void> {
      const hold = await deps.delivery.cancel(leafUserId)
      let existed: boolean
      try {
        const refreshToken = await tokenToRevoke(leafUserId)
        if (refreshToken) await revoke(leafUserId, refreshToken)
        // Whether there was anything to delete decides the connection.deleted webhook.
        existed = refreshToken === undefined ? await holdsCredential(leafUserId) : refreshToken !== null
        await deps.leaf.deleteRavenCredential(leafUserId)
        // Before the hold is released: a delivery finishing after it registers its credential anew.
        await deps.registry.forget(leafUserId)
      } finally {
        await hold.release()
      }
      log.info({ leafUserId, cancelledPending: hold.cancelled }, 'Raven disconnected')
      if (existed || hold.cancelled) await deps.webhooks.emit('connection.deleted', leafUserId, {})
    },

    async events(leafUserId: string): Promise<TroubleshootingEvents> {
      return { leafUserId, events: await deps.leaf.getRavenCredentialEvents(leafUserId) }
    },
  }
}

export type ConnectionService = ReturnType<typeof createConnectionService>

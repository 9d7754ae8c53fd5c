import type { CredentialDelivery } from '../delivery/credential-delivery.js'
import type { LeafClient } from '../leaf/leaf-client.js'
import type { LeafEvent } from '../leaf/leaf-schemas.js'
import type { Logger } from '../ops/logger.js'

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

/** Status, disconnect and events for one Leaf user: shared by the /v1 and the browser /api routes. */
export function createConnectionService(deps: { leaf: LeafClient; delivery: CredentialDelivery; logger: Logger }) {
  const log = deps.logger.child({ module: 'connection' })
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

    async disconnect(leafUserId: string): Promise<void> {
      await deps.leaf.deleteRavenCredential(leafUserId)
      log.info({ leafUserId }, 'Raven disconnected')
    },

    async events(leafUserId: string): Promise<ConnectionEvents> {
      return { leafUserId, events: await deps.leaf.getRavenCredentialEvents(leafUserId) }
    },
  }
}

export type ConnectionService = ReturnType<typeof createConnectionService>

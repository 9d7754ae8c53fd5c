import type { Config } from '../config/load-config.js'
import type { LeafClient } from '../leaf/leaf-client.js'
import type { Logger } from '../ops/logger.js'

export interface DeliveryRequest {
  leafUserId: string
  refreshToken: string
  /** Names the flow in logs and webhooks. */
  connectSessionId: string
}

/**
 * Hands a freshly obtained refresh token to Leaf. `connected` means Leaf holds it now; `pending` means
 * it is safely parked and will be delivered later. Throws a LeafError (kind 'rejected') when Leaf
 * refused it for good.
 */
export interface CredentialDelivery {
  deliver(request: DeliveryRequest): Promise<'connected' | 'pending'>
  /** True while a token for this user is accepted but not yet at Leaf. */
  isPending(leafUserId: string): Promise<boolean>
  /** Drops an undelivered token of this user (disconnect), so it is not delivered afterwards. */
  cancel?(leafUserId: string): Promise<boolean>
}

/**
 * Delivery in the request only, nothing parked: what tests use when they are not about delivery.
 * Production uses the durable delivery (durable-delivery.ts), wired in main.ts.
 */
export function createInlineDelivery(deps: { config: Config; leaf: LeafClient; logger: Logger }): CredentialDelivery {
  const log = deps.logger.child({ module: 'delivery' })
  return {
    async deliver(request) {
      await deps.leaf.replaceRavenCredential(request.leafUserId, {
        clientId: deps.config.raven.clientId,
        clientSecret: deps.config.raven.clientSecret,
        refreshToken: request.refreshToken,
      })
      log.info({ leafUserId: request.leafUserId, connectSessionId: request.connectSessionId }, 'credential delivered to Leaf')
      return 'connected'
    },
    async isPending() {
      return false
    },
  }
}

export interface DeliveryRequest {
  leafUserId: string
  refreshToken: string
  /** Names the flow in logs and webhooks. */
  connectSessionId: string
}

/** The grower's deliveries held off while a disconnect runs; `release` lets them go on. */
export interface DisconnectHold {
  /** Whether an undelivered token was dropped. */
  cancelled: boolean
  release(): Promise<void>
}

/**
 * Hands a freshly obtained refresh token to Leaf. `connected` means Leaf holds it now; `pending` means
 * it is safely parked and will be delivered later. Throws the LeafError when Leaf refused it for good
 * (a final failure in leaf/errors.ts: rejected, unknown user), DeliveryCancelled when a disconnect
 * dropped it meanwhile, or, when the token could not be parked, whatever the one direct try threw.
 */
export interface CredentialDelivery {
  deliver(request: DeliveryRequest): Promise<'connected' | 'pending'>
  /** True while a token for this user is accepted but not yet at Leaf. */
  isPending(leafUserId: string): Promise<boolean>
  /**
   * Disconnect wins: drops an undelivered token of this user, then waits (bounded) for a try already
   * talking to Leaf to end and holds the grower's lock, so no credential lands after the caller's
   * delete at Leaf. Call `release` once that delete is done.
   */
  cancel(leafUserId: string): Promise<DisconnectHold>
}

/** A disconnect dropped this delivery while it ran: not pending, not delivered. */
export class DeliveryCancelled extends Error {
  constructor(readonly leafUserId: string) {
    super('delivery cancelled by a disconnect')
    this.name = 'DeliveryCancelled'
  }
}

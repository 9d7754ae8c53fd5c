export interface DeliveryRequest {
  leafUserId: string
  refreshToken: string
  /** Names the flow in logs and webhooks. */
  connectSessionId: string
}

/**
 * Hands a freshly obtained refresh token to Leaf. `connected` means Leaf holds it now; `pending` means
 * it is safely parked and will be delivered later. Throws the LeafError when Leaf refused it for good
 * (a final failure in leaf/errors.ts: rejected, unknown user), or, when the token could not be parked,
 * whatever the one direct try threw.
 */
export interface CredentialDelivery {
  deliver(request: DeliveryRequest): Promise<'connected' | 'pending'>
  /** True while a token for this user is accepted but not yet at Leaf. */
  isPending(leafUserId: string): Promise<boolean>
  /** Drops an undelivered token of this user (disconnect), so it is not delivered afterwards. */
  cancel(leafUserId: string): Promise<boolean>
}

import { DeliveryCancelled } from '../delivery/credential-delivery.js'
import { describeLeafFailure } from '../leaf/errors.js'
import { AuthorizationResponseRejected, RavenAuthorizationError, TokenExchangeError } from '../raven/errors.js'

/** The closed set of callback reasons (contract). Nothing outside this module builds `reason=`. */
export type ConnectReason =
  | 'access_denied'
  | 'raven_error'
  | 'expired'
  | 'invalid_request'
  | 'token_exchange_failed'
  | 'no_refresh_token'
  | 'leaf_rejected'
  | 'server_error'

export type ConnectOutcome = { raven: 'connected' } | { raven: 'pending' } | { raven: 'error'; reason: ConnectReason }

/** A flow step ended the flow with a known reason. */
export class FlowFailure extends Error {
  constructor(readonly reason: ConnectReason) {
    super(`flow failed: ${reason}`)
    this.name = 'FlowFailure'
  }
}

/**
 * Decides the reason for anything a callback step threw. Unknown errors are `server_error`, and so is
 * a delivery a disconnect cancelled while it ran (DeliveryCancelled): the grower is not connected.
 */
export function classifyFailure(err: unknown): ConnectReason {
  if (err instanceof FlowFailure) return err.reason
  if (err instanceof RavenAuthorizationError) return err.error === 'access_denied' ? 'access_denied' : 'raven_error'
  if (err instanceof AuthorizationResponseRejected) return 'invalid_request'
  if (err instanceof TokenExchangeError) return 'token_exchange_failed'
  // Leaf's failures mean what leaf/errors.ts says (a final 4xx, or a user Leaf no longer knows: leaf_rejected).
  return describeLeafFailure(err)?.flowReason ?? 'server_error'
}

/**
 * Whether the host backend hears of this failure (`connection.failed`). Not for a delivery a
 * disconnect cancelled: the host asked for that disconnect and hears `connection.deleted`; a failed
 * after it would say the connection is still being made (contract: nothing follows the deleted).
 */
export function tellsHost(err: unknown): boolean {
  return !(err instanceof DeliveryCancelled)
}

/** HTTP status of the result page for an outcome. */
export function outcomeStatus(outcome: ConnectOutcome): number {
  if (outcome.raven !== 'error') return 200
  const statuses: Record<ConnectReason, number> = {
    access_denied: 403,
    raven_error: 502,
    expired: 410,
    invalid_request: 400,
    token_exchange_failed: 502,
    no_refresh_token: 403,
    leaf_rejected: 502,
    server_error: 500,
  }
  return statuses[outcome.reason]
}

/**
 * `returnTo` with the result in its query: its own query and fragment kept, any `raven` or `reason`
 * already there replaced so each appears once.
 */
export function returnToWithOutcome(returnTo: string, outcome: ConnectOutcome): string {
  const url = new URL(returnTo)
  url.searchParams.delete('raven')
  url.searchParams.delete('reason')
  url.searchParams.append('raven', outcome.raven)
  if (outcome.raven === 'error') url.searchParams.append('reason', outcome.reason)
  return url.href
}

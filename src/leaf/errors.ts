/**
 * Why a call to Leaf failed, as the rest of the service needs to act on it:
 * - `rejected`: Leaf refused the request with a final 4xx (not 401/404/429); `status` says which.
 * - `unauthorized`: Leaf refused our credentials (bad login, or a static token it no longer accepts).
 * - `unavailable`: 5xx, 429 or a network error, still failing after the retries.
 * - `timeout`: no answer within the per-call timeout, still failing after the retries.
 * - `not_found`: a 404 where the operation needs the resource (e.g. creating a credential for an
 *   unknown Leaf user).
 * - `ambiguous_external_id`: more than one Leaf user carries exactly this externalId.
 * - `invalid_response`: Leaf answered 2xx with something our schema does not accept, a redirect (never
 *   followed), or a body over 1 MiB.
 */
export type LeafErrorKind =
  | 'rejected'
  | 'unauthorized'
  | 'unavailable'
  | 'timeout'
  | 'not_found'
  | 'ambiguous_external_id'
  | 'invalid_response'

export interface LeafErrorOptions {
  /** The call that failed, e.g. `authenticate`, `get_user` (the transport's metric label). */
  operation?: string
  status?: number
  retryable?: boolean
  ambiguous?: boolean
  /** Leaf's Retry-After on the last 429/503, in ms: a later retry should wait at least this long. */
  retryAfterMs?: number
  cause?: unknown
}

/**
 * The only error the Leaf client throws. Its message is built from the operation, kind and status
 * only, never from a response body or a header, so an operator may log it as it is.
 */
export class LeafError extends Error {
  override readonly name = 'LeafError'
  readonly kind: LeafErrorKind
  /** Which call failed: `authenticate` is the login itself, anything else a call made with its token. */
  readonly operation?: string
  readonly status?: number
  /** Trying again later may succeed (timeouts, 5xx, 429, network errors). */
  readonly retryable: boolean
  /**
   * Leaf may have processed the request although we saw no success: a timeout or a network error
   * after the request was sent, or a 5xx. A create that failed this way must be checked, not redone.
   */
  readonly ambiguous: boolean
  readonly retryAfterMs?: number

  constructor(kind: LeafErrorKind, message: string, options: LeafErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = kind
    if (options.operation !== undefined) this.operation = options.operation
    if (options.status !== undefined) this.status = options.status
    this.retryable = options.retryable ?? false
    this.ambiguous = options.ambiguous ?? false
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs
  }
}

export function isLeafError(err: unknown, kind?: LeafErrorKind): err is LeafError {
  return err instanceof LeafError && (kind === undefined || err.kind === kind)
}

/** Statuses Leaf may use to say "this already exists" (not documented): checked, never trusted. */
const CONFLICT_LIKE = new Set([400, 409, 422])

/** A create Leaf refused in a way that may mean a concurrent or earlier create already landed. */
export function isConflictLike(err: LeafError): boolean {
  return err.status !== undefined && CONFLICT_LIKE.has(err.status)
}

/** What a Leaf failure means to the rest of the service. */
export interface LeafFailureMeaning {
  /** Trying the same request again later cannot succeed: a delivery gives up on it. */
  final: boolean
  /** The callback reason (and `connection.failed` reason) the failure ends a grower's flow with. */
  flowReason: 'leaf_rejected' | 'server_error'
  /** The problem code the host backend's API answers with. */
  problem: 'leaf_user_not_found' | 'ambiguous_external_id' | 'leaf_rejected' | 'upstream_unavailable'
}

/*
 * The one table. A final 4xx (not 401/429) is Leaf refusing; a 404 where the resource is needed means
 * Leaf no longer knows the user. `unauthorized` is not final: an operator can fix the login while a
 * delivery waits. Everything else is Leaf being unreachable or odd for now.
 */
const MEANINGS: Record<LeafErrorKind, LeafFailureMeaning> = {
  rejected: { final: true, flowReason: 'leaf_rejected', problem: 'leaf_rejected' },
  not_found: { final: true, flowReason: 'leaf_rejected', problem: 'leaf_user_not_found' },
  ambiguous_external_id: { final: true, flowReason: 'server_error', problem: 'ambiguous_external_id' },
  unauthorized: { final: false, flowReason: 'server_error', problem: 'upstream_unavailable' },
  unavailable: { final: false, flowReason: 'server_error', problem: 'upstream_unavailable' },
  timeout: { final: false, flowReason: 'server_error', problem: 'upstream_unavailable' },
  invalid_response: { final: false, flowReason: 'server_error', problem: 'upstream_unavailable' },
}

/** What `err` means when it is a LeafError; undefined for anything else (the caller's own default). */
export function describeLeafFailure(err: LeafError): LeafFailureMeaning
export function describeLeafFailure(err: unknown): LeafFailureMeaning | undefined
export function describeLeafFailure(err: unknown): LeafFailureMeaning | undefined {
  return isLeafError(err) ? MEANINGS[err.kind] : undefined
}

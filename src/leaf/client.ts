import * as access from './access.js'
import * as alerts from './alerts.js'
import * as credentials from './credentials.js'
import type { RetryPolicy } from '../infra/async.js'
import { DEFAULT_RETRY, LeafTransport } from './transport.js'
import * as users from './users.js'
import type { LeafAuth } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { LeafEvent, LeafUser, RavenCredentialInput, RavenCredentialSummary } from './schemas.js'

export type { RepeatableReconnect } from './credentials.js'
export type { LeafAccessProof, LeafReadOptions } from './access.js'
export type { LeafFailedCall, LeafWebhook, ListWebhooksOptions, NewLeafWebhook } from './alerts.js'
export type { LeafEvent, LeafUser, RavenCredentialInput, RavenCredentialSummary } from './schemas.js'
export type { NewLeafUser } from './users.js'
export { LeafError, describeLeafFailure, isLeafError, type LeafErrorKind } from './errors.js'

export interface LeafClientOptions {
  /** Leaf's origin, e.g. `https://api.withleaf.io` (LEAF_API_URL). */
  apiUrl: string
  auth: LeafAuth
  /** Per HTTP attempt, body included. Default 5000. */
  timeoutMs?: number
  /** Tries per call and their full-jitter waits. Default 3 tries, `baseMs` 200, `capMs` 2000. */
  retry?: Partial<RetryPolicy>
  logger: Logger
  metrics?: Metrics
  /** Users asked for per page when searching by externalId. Default 100. */
  pageSize?: number
  fetch?: typeof fetch
}

/**
 * The only way the service talks to Leaf. Holds the transport and its token cache, so build one per
 * process and share it. The calls themselves live in users.ts and credentials.ts.
 */
export class LeafClient {
  private readonly transport: LeafTransport
  private readonly pageSize: number

  constructor(options: LeafClientOptions) {
    this.pageSize = options.pageSize ?? 100
    this.transport = new LeafTransport({
      apiUrl: options.apiUrl,
      auth: options.auth,
      timeoutMs: options.timeoutMs ?? 5000,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      logger: options.logger.child({ module: 'leaf' }),
      metrics: options.metrics,
      // Node's global fetch pools keep-alive connections in undici's global dispatcher.
      fetch: options.fetch ?? globalThis.fetch,
    })
  }

  /**
   * Looks a Leaf user up by id.
   * @returns the user, or null when Leaf does not know the id (404).
   * @throws {LeafError} any other failure, after retries.
   */
  getUser(leafUserId: string): Promise<LeafUser | null> {
    return users.getUser(this.transport, leafUserId)
  }

  /**
   * Finds the one Leaf user whose externalId equals `externalId` exactly, or creates it.
   * Leaf's `externalId` filter is not documented as exact, so every page of its answer is compared.
   * @throws {LeafError} `ambiguous_external_id` when several users match exactly; others after retries.
   */
  findOrCreateUserByExternalId(input: users.NewLeafUser): Promise<LeafUser> {
    return users.findOrCreateUser(this.transport, input, this.pageSize)
  }

  /**
   * Leaf's Raven credential for this user, without its secrets (the schema drops them).
   * @returns the summary, or null when the user holds no credential (404).
   */
  getRavenCredential(leafUserId: string): Promise<RavenCredentialSummary | null> {
    return credentials.getRavenCredential(this.transport, leafUserId)
  }

  /**
   * The refresh token Leaf holds for this user, for one purpose only: revoking it at Raven (RFC 7009)
   * when the grower disconnects. Every other read goes through {@link getRavenCredential}, which drops
   * the secrets. Callers must not log, store or return it.
   * @returns the token, or null when the user holds no credential (404) or Leaf shows none.
   */
  getRavenRefreshTokenForRevocation(leafUserId: string): Promise<string | null> {
    return credentials.getRavenRefreshTokenForRevocation(this.transport, leafUserId)
  }

  /**
   * Posts a Raven credential once. A failure Leaf may have processed is not resent: it throws with
   * `ambiguous: true`. Use {@link replaceRavenCredential} to store a grower's token.
   * @throws {LeafError} `rejected` (status 400/409/422 included: see replace), `not_found` for an unknown user.
   */
  createRavenCredential(leafUserId: string, credential: RavenCredentialInput): Promise<RavenCredentialSummary> {
    return credentials.createRavenCredential(this.transport, leafUserId, credential)
  }

  /**
   * Deletes the user's Raven credential (and with it Leaf's events). Resolves when it was already gone.
   */
  deleteRavenCredential(leafUserId: string): Promise<void> {
    return credentials.deleteRavenCredential(this.transport, leafUserId)
  }

  /**
   * Leaf's events for the user's Raven credential, every secret in `body` and `headers` replaced by
   * `[REDACTED]`. Empty when Leaf has none or holds no credential (404).
   */
  getRavenCredentialEvents(leafUserId: string): Promise<LeafEvent[]> {
    return credentials.getRavenCredentialEvents(this.transport, leafUserId)
  }

  /**
   * Stores a grower's credential so that Leaf ends up holding exactly this one (the contract's
   * reconnect rule: look up, delete, create; an unclear create is checked with a GET, not trusted).
   * The durable delivery passes `repeatable` to make each of its tries idempotent.
   * See `replaceRavenCredential` in credentials.ts for every case.
   * @throws {LeafError} the create's error when it cannot be resolved.
   */
  replaceRavenCredential(
    leafUserId: string,
    credential: RavenCredentialInput,
    repeatable?: credentials.RepeatableReconnect,
  ): Promise<RavenCredentialSummary> {
    return credentials.replaceRavenCredential(this.transport, leafUserId, credential, repeatable)
  }

  /**
   * Proves Leaf accepts the login or LEAF_API_TOKEN, read-only (a lookup of a user id that cannot
   * exist), and tells when the token expires, never the token. For go-live checks (`npm run doctor`).
   * @throws {LeafError} with `operation` `authenticate` when the login failed (`unauthorized`: refused),
   *   `prove_access` when the token did (`unauthorized` 401 or `rejected` 403: refused); others as usual.
   */
  proveAccess(options?: access.LeafReadOptions): Promise<access.LeafAccessProof> {
    return access.proveAccess(this.transport, options)
  }

  /**
   * Leaf Alerts: the registered webhooks, without their secrets. With `expectedSecret`, each webhook
   * whose secret Leaf shows says whether it is that one (`secretMatches`).
   */
  listAlertWebhooks(options?: alerts.ListWebhooksOptions): Promise<alerts.LeafWebhook[]> {
    return alerts.listWebhooks(this.transport, options)
  }

  /**
   * Registers a webhook for `events`. An event another webhook holds answers 400 (`eventRegisteredTwice`).
   * @throws {LeafError} `rejected` for that, after retries for the rest.
   */
  createAlertWebhook(webhook: alerts.NewLeafWebhook): Promise<alerts.LeafWebhook> {
    return alerts.createWebhook(this.transport, webhook)
  }

  /** Deletes a webhook; resolves when it was already gone. */
  deleteAlertWebhook(id: string): Promise<void> {
    return alerts.deleteWebhook(this.transport, id)
  }

  /** The alerts Leaf could not deliver (`GET /webhooks/failed-calls`). */
  listFailedAlertCalls(): Promise<alerts.LeafFailedCall[]> {
    return alerts.listFailedCalls(this.transport)
  }
}

import { z } from 'zod'

import { LeafError, isLeafError } from './errors.js'
import { redactEvent } from './redact.js'
import { DEFAULT_RETRY, backoffDelayMs, sleep, type RetryPolicy } from './retry.js'
import {
  leafEventListSchema,
  leafUserListSchema,
  leafUserSchema,
  ravenCredentialSummarySchema,
  type LeafEvent,
  type LeafUser,
  type RavenCredentialInput,
  type RavenCredentialSummary,
} from './schemas.js'
import { LeafTransport } from './transport.js'
import type { LeafAuth } from './token.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'

export type { LeafAuth } from './token.js'
export type { LeafEvent, LeafUser, RavenCredentialInput, RavenCredentialSummary } from './schemas.js'
export { LeafError, isLeafError, type LeafErrorKind } from './errors.js'

export interface LeafClientOptions {
  /** Leaf's origin, e.g. `https://api.withleaf.io` (LEAF_API_URL). */
  apiUrl: string
  auth: LeafAuth
  /** Per HTTP attempt, body included. Default 5000. */
  timeoutMs?: number
  retry?: Partial<RetryPolicy>
  logger: Logger
  metrics?: Metrics
  /** Users asked for per page when searching by externalId. Default 100. */
  pageSize?: number
  fetch?: typeof fetch
}

export interface NewLeafUser {
  externalId: string
  name?: string
  email?: string
}

/** Statuses Leaf may use to say "this user already has a credential" (not documented). */
const CONFLICT_LIKE = new Set([400, 409, 422])
/** Stop paging here: a search matching more users than this is not a lookup any more. */
const MAX_PAGES = 50

/**
 * The only module that talks to Leaf. Holds the token cache, so build one per process and share it.
 */
export class LeafClient {
  private readonly transport: LeafTransport
  private readonly retry: RetryPolicy
  private readonly pageSize: number
  private readonly logger: Logger

  constructor(options: LeafClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    this.pageSize = options.pageSize ?? 100
    this.logger = options.logger.child({ module: 'leaf' })
    this.transport = new LeafTransport({
      apiUrl: options.apiUrl,
      auth: options.auth,
      timeoutMs: options.timeoutMs ?? 5000,
      retry: this.retry,
      logger: this.logger,
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
  async getUser(leafUserId: string): Promise<LeafUser | null> {
    const reply = await this.transport.call({
      operation: 'get_user',
      method: 'GET',
      path: `/users/${encodeURIComponent(leafUserId)}`,
      pass: [404],
    })
    return reply.status === 404 ? null : this.transport.parse(leafUserSchema, reply, 'get_user')
  }

  /**
   * Finds the one Leaf user whose externalId equals `externalId` exactly, or creates it.
   * Leaf's `externalId` filter is not documented as exact, so every page of its answer is compared.
   * @throws {LeafError} `ambiguous_external_id` when several users match exactly; others after retries.
   */
  async findOrCreateUserByExternalId(input: NewLeafUser): Promise<LeafUser> {
    const existing = await this.findUserByExternalId(input.externalId)
    if (existing !== null) return existing
    for (let round = 1; ; round += 1) {
      try {
        return await this.createUser(input)
      } catch (err) {
        // A create that may have landed (timeout, 5xx) or that Leaf calls a conflict (a concurrent
        // create won): look again before creating, so one grower does not become two Leaf users.
        if (!isLeafError(err) || !(err.ambiguous || isConflictLike(err))) throw err
        const found = await this.findUserByExternalId(input.externalId)
        if (found !== null) return found
        if (!err.ambiguous || round >= this.retry.attempts) throw err
        await sleep(backoffDelayMs(this.retry, round))
      }
    }
  }

  /**
   * Leaf's Raven credential for this user, without its secrets (the schema drops them).
   * @returns the summary, or null when the user holds no credential (404).
   */
  async getRavenCredential(leafUserId: string): Promise<RavenCredentialSummary | null> {
    const reply = await this.transport.call({
      operation: 'get_credential',
      method: 'GET',
      path: credentialPath(leafUserId),
      pass: [404],
    })
    return reply.status === 404 ? null : this.transport.parse(ravenCredentialSummarySchema, reply, 'get_credential')
  }

  /**
   * The refresh token Leaf holds for this user, for one purpose only: revoking it at Raven (RFC 7009)
   * when the grower disconnects. Every other read goes through {@link getRavenCredential}, which drops
   * the secrets. Callers must not log, store or return it.
   * @returns the token, or null when the user holds no credential (404) or Leaf shows none.
   */
  async getRavenRefreshTokenForRevocation(leafUserId: string): Promise<string | null> {
    const reply = await this.transport.call({
      operation: 'get_credential_for_revocation',
      method: 'GET',
      path: credentialPath(leafUserId),
      pass: [404],
    })
    if (reply.status === 404) return null
    const parsed = this.transport.parse(refreshTokenOnlySchema, reply, 'get_credential_for_revocation')
    return parsed.refreshToken ?? null
  }

  /**
   * Posts a Raven credential once. A failure Leaf may have processed is not resent: it throws with
   * `ambiguous: true`. Use {@link replaceRavenCredential} to store a grower's token.
   * @throws {LeafError} `rejected` (status 400/409/422 included: see replace), `not_found` for an unknown user.
   */
  async createRavenCredential(leafUserId: string, credential: RavenCredentialInput): Promise<RavenCredentialSummary> {
    const { clientId, clientSecret, refreshToken } = credential
    const reply = await this.transport.call({
      operation: 'create_credential',
      method: 'POST',
      path: credentialPath(leafUserId),
      body: { clientId, clientSecret, refreshToken },
      retryAmbiguous: false,
    })
    return this.transport.parse(ravenCredentialSummarySchema, reply, 'create_credential')
  }

  /**
   * Deletes the user's Raven credential (and with it Leaf's events). Resolves when it was already gone.
   */
  async deleteRavenCredential(leafUserId: string): Promise<void> {
    await this.transport.call({
      operation: 'delete_credential',
      method: 'DELETE',
      path: credentialPath(leafUserId),
      pass: [404],
    })
  }

  /**
   * Leaf's events for the user's Raven credential, every secret in `body` and `headers` replaced by
   * `[REDACTED]`. Empty when Leaf has none or holds no credential (404).
   */
  async getRavenCredentialEvents(leafUserId: string): Promise<LeafEvent[]> {
    const reply = await this.transport.call({
      operation: 'get_credential_events',
      method: 'GET',
      path: `${credentialPath(leafUserId)}/events`,
      pass: [404],
    })
    if (reply.status === 404) return []
    return this.transport.parse(leafEventListSchema, reply, 'get_credential_events').map(redactEvent)
  }

  /**
   * Stores a grower's credential so that Leaf ends up holding exactly this one (the contract's
   * reconnect rule): look up, delete any existing one, create.
   *
   * When the create fails in a way that may hide success (a conflict-looking 400/409/422, or a
   * timeout/5xx/reset after sending), Leaf is asked again instead of trusted:
   * - no credential now: a conflict was a real refusal (thrown as is); an ambiguous failure did not
   *   land, so the create is tried again (up to `retry.attempts` rounds).
   * - a credential now, other than the one we deleted: taken as stored. We deleted first, so it was
   *   created after our delete: by our own attempt that timed out (the usual case) or by a concurrent
   *   reconnect of the same grower, an equally valid grant. We do not delete it to post ours again:
   *   Leaf may already have used that refresh token, and Raven's refresh tokens can be one-time, so
   *   re-posting ours could leave Leaf holding a dead token. Exactly one credential either way.
   * @throws {LeafError} the create's error when it cannot be resolved; `ambiguous` tells whether a
   *   later retry should first check with {@link getRavenCredential}.
   */
  async replaceRavenCredential(leafUserId: string, credential: RavenCredentialInput): Promise<RavenCredentialSummary> {
    const previous = await this.getRavenCredential(leafUserId)
    if (previous !== null) await this.deleteRavenCredential(leafUserId)
    for (let round = 1; ; round += 1) {
      try {
        return await this.createRavenCredential(leafUserId, credential)
      } catch (err) {
        if (!isLeafError(err)) throw err
        const conflictLike = isConflictLike(err)
        if (!conflictLike && !err.ambiguous) throw err
        const now = await this.getRavenCredential(leafUserId).catch(() => undefined)
        if (now === undefined) throw err // cannot tell; the caller keeps it pending
        if (now !== null && now.id !== previous?.id) {
          const context = { operation: 'replace_credential', round, kind: err.kind, status: err.status }
          this.logger.info(context, 'create was unclear; leaf holds a new credential, taking it as stored')
          return now
        }
        if (now !== null) {
          const message = 'leaf replace_credential: the deleted credential is still there'
          throw new LeafError('rejected', message, { status: err.status ?? 409 })
        }
        if (conflictLike || round >= this.retry.attempts) throw err
        await sleep(backoffDelayMs(this.retry, round))
      }
    }
  }

  private async findUserByExternalId(externalId: string): Promise<LeafUser | null> {
    const matches: LeafUser[] = []
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const reply = await this.transport.call({
        operation: 'find_users',
        method: 'GET',
        path: '/users',
        query: { externalId, page: String(page), size: String(this.pageSize) },
      })
      const users = this.transport.parse(leafUserListSchema, reply, 'find_users')
      matches.push(...users.filter((user) => user.externalId === externalId))
      const total = Number(reply.headers.get('x-total-count') ?? Number.NaN)
      const seen = page * this.pageSize + users.length
      if (users.length < this.pageSize || (Number.isFinite(total) && seen >= total)) {
        if (matches.length > 1) {
          const message = `leaf find_users: ${matches.length} users carry this externalId`
          throw new LeafError('ambiguous_external_id', message)
        }
        return matches[0] ?? null
      }
    }
    throw new LeafError('invalid_response', `leaf find_users: more than ${MAX_PAGES} pages of users`)
  }

  private async createUser(input: NewLeafUser): Promise<LeafUser> {
    const body: Record<string, string> = { externalId: input.externalId }
    if (input.name !== undefined) body.name = input.name
    if (input.email !== undefined) body.email = input.email
    const reply = await this.transport.call({
      operation: 'create_user',
      method: 'POST',
      path: '/users',
      body,
      retryAmbiguous: false,
    })
    return this.transport.parse(leafUserSchema, reply, 'create_user')
  }
}

/** Only the refresh token of a credential, for revocation; absent or empty counts as none. */
const refreshTokenOnlySchema = z.object({
  refreshToken: z
    .string()
    .nullish()
    .transform((value) => (value ? value : undefined)),
})

function isConflictLike(err: LeafError): boolean {
  return err.status !== undefined && CONFLICT_LIKE.has(err.status)
}

function credentialPath(leafUserId: string): string {
  return `/users/${encodeURIComponent(leafUserId)}/raven-credentials`
}

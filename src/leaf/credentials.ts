import { z } from 'zod'

import { fullJitterMs, sleep } from '../infra/async.js'
import { LeafError, isConflictLike, isLeafError } from './errors.js'
import { redactEvent } from './redact.js'
import {
  leafEventListSchema,
  ravenCredentialSummarySchema,
  type LeafEvent,
  type RavenCredentialInput,
  type RavenCredentialSummary,
} from './schemas.js'
import type { LeafTransport } from './transport.js'

/** `GET .../raven-credentials` without the secrets (the schema drops them); null when there is none (404). */
export async function getRavenCredential(transport: LeafTransport, leafUserId: string): Promise<RavenCredentialSummary | null> {
  const reply = await transport.call({
    operation: 'get_credential',
    method: 'GET',
    path: credentialPath(leafUserId),
    pass: [404],
  })
  return reply.status === 404 ? null : transport.parse(ravenCredentialSummarySchema, reply, 'get_credential')
}

/** Only the refresh token of a credential, for revocation; absent or empty counts as none. */
const refreshTokenOnlySchema = z.object({
  refreshToken: z
    .string()
    .nullish()
    .transform((value) => (value ? value : undefined)),
})

/** The refresh token Leaf holds, for revoking it at Raven only; null when there is none. */
export async function getRavenRefreshTokenForRevocation(transport: LeafTransport, leafUserId: string): Promise<string | null> {
  const reply = await transport.call({
    operation: 'get_credential_for_revocation',
    method: 'GET',
    path: credentialPath(leafUserId),
    pass: [404],
  })
  if (reply.status === 404) return null
  return transport.parse(refreshTokenOnlySchema, reply, 'get_credential_for_revocation').refreshToken ?? null
}

/** One POST, not resent when its outcome is unclear: it throws with `ambiguous: true` instead. */
export async function createRavenCredential(
  transport: LeafTransport,
  leafUserId: string,
  credential: RavenCredentialInput,
): Promise<RavenCredentialSummary> {
  const { clientId, clientSecret, refreshToken } = credential
  const reply = await transport.call({
    operation: 'create_credential',
    method: 'POST',
    path: credentialPath(leafUserId),
    body: { clientId, clientSecret, refreshToken },
    retryAmbiguous: false,
  })
  return transport.parse(ravenCredentialSummarySchema, reply, 'create_credential')
}

/** Resolves when the credential is gone, including when it already was (404). */
export async function deleteRavenCredential(transport: LeafTransport, leafUserId: string): Promise<void> {
  await transport.call({
    operation: 'delete_credential',
    method: 'DELETE',
    path: credentialPath(leafUserId),
    pass: [404],
  })
}

/** The credential's events, redacted; [] when Leaf has none or holds no credential (404). */
export async function getRavenCredentialEvents(transport: LeafTransport, leafUserId: string): Promise<LeafEvent[]> {
  const reply = await transport.call({
    operation: 'get_credential_events',
    method: 'GET',
    path: `${credentialPath(leafUserId)}/events`,
    pass: [404],
  })
  if (reply.status === 404) return []
  return transport.parse(leafEventListSchema, reply, 'get_credential_events').map(redactEvent)
}

/**
 * What a caller that records its tries and repeats them until Leaf answers for good (the outbox
 * delivery) hands the reconnect routine, so a try can be repeated after any failure, in any process.
 */
export interface RepeatableReconnect {
  /**
   * Set when an earlier try of the same delivery got as far as posting: the credential id it replaced
   * (null: there was none). A credential other than that one at Leaf now is that post, landed
   * although its answer was lost (a timeout after Leaf stored it): taken as stored, not posted twice.
   */
  earlierPost: { replacedId: string | null } | null
  /**
   * Called after the lookup and before Leaf is changed, with the id about to be replaced. It records
   * that a post is under way, so a crash at any later point leaves enough behind for the next try; it
   * throws to stop the try before Leaf is changed.
   */
  beforeChange(replacedId: string | null): Promise<void>
}

/**
 * The contract's reconnect rule, the only copy: makes Leaf hold exactly this credential. Look up,
 * delete any existing one, create.
 *
 * When the create fails in a way that may hide success (a conflict-looking 400/409/422, or a
 * timeout/5xx/reset after sending), Leaf is asked again instead of trusted:
 * - no credential now: a conflict was a real refusal (thrown as is); an ambiguous failure did not
 *   land, so the create is tried again (up to `retry.attempts` rounds; once per try when repeatable).
 * - a credential now, other than the one we deleted: taken as stored. We deleted first, so it was
 *   created after our delete: by our own attempt that timed out (the usual case) or by a concurrent
 *   reconnect of the same grower, an equally valid grant (the durable delivery's lock keeps out its
 *   own concurrent tries). We do not delete it to post ours again: Leaf may already have used that
 *   refresh token, and Raven's refresh tokens can be one-time, so re-posting ours could leave Leaf
 *   holding a dead token. Exactly one credential either way.
 * - the credential we deleted, still there (Leaf acknowledged the delete without doing it): refused
 *   for good (`rejected`), unless repeatable: then the create's own error, so a later try deletes again.
 * - Leaf cannot be asked: the create's error, so the caller keeps the token pending.
 * @throws {LeafError} the create's error when it cannot be resolved; `ambiguous` tells whether a
 *   later try should first check with {@link getRavenCredential}.
 */
export async function replaceRavenCredential(
  transport: LeafTransport,
  leafUserId: string,
  credential: RavenCredentialInput,
  repeatable?: RepeatableReconnect,
): Promise<RavenCredentialSummary> {
  const previous = await getRavenCredential(transport, leafUserId)
  const replacedId = previous?.id ?? null
  const earlier = repeatable?.earlierPost
  if (earlier && previous !== null && previous.id !== earlier.replacedId) return previous
  await repeatable?.beforeChange(replacedId)
  if (previous !== null) await deleteRavenCredential(transport, leafUserId)
  // A repeatable try posts once; its caller's schedule spaces the next try.
  const rounds = repeatable ? 1 : transport.retry.attempts
  for (let round = 1; ; round += 1) {
    try {
      return await createRavenCredential(transport, leafUserId, credential)
    } catch (err) {
      if (!isLeafError(err)) throw err
      const conflictLike = isConflictLike(err)
      if (!conflictLike && !err.ambiguous) throw err
      const now = await getRavenCredential(transport, leafUserId).catch(() => undefined)
      if (now === undefined) throw err
      if (now !== null && now.id !== replacedId) {
        const context = { operation: 'replace_credential', round, kind: err.kind, status: err.status }
        transport.logger.info(context, 'create was unclear; leaf holds a new credential, taking it as stored')
        return now
      }
      if (now !== null && !repeatable) {
        const message = 'leaf replace_credential: the deleted credential is still there'
        throw new LeafError('rejected', message, { status: err.status ?? 409 })
      }
      if (now !== null || conflictLike || round >= rounds) throw err
      await sleep(fullJitterMs(transport.retry, round))
    }
  }
}

function credentialPath(leafUserId: string): string {
  return `/users/${encodeURIComponent(leafUserId)}/raven-credentials`
}

import { randomBytes } from 'node:crypto'

import { decodeJwtPayload } from './token.js'
import type { LeafTransport } from './transport.js'

/** What a proof of access tells, without the token itself. */
export interface LeafAccessProof {
  /** `login`: LEAF_USERNAME/LEAF_PASSWORD, renewed by logging in again; `token`: a static LEAF_API_TOKEN nothing renews. */
  via: 'login' | 'token'
  /** The token's JWT `exp` (decoded, not verified: Leaf checks it), or null when it has none readable. */
  expiresAt: Date | null
}

/** Per-call options of the client's read-only checks. */
export interface LeafReadOptions {
  /** The caller's own limit: aborts the request and stops its retries. */
  signal?: AbortSignal
}

/**
 * Proves Leaf accepts the login or token, changing nothing: the token (after a login, when that is
 * how the client authenticates) is used on a lookup of a user id that cannot exist, which Leaf
 * answers 404 (or 400) only to a caller it accepts. The login itself is the shared one of the token
 * source, bounded by the client's timeout, not by `signal`.
 */
export async function proveAccess(transport: LeafTransport, options: LeafReadOptions = {}): Promise<LeafAccessProof> {
  const noSuchUser = `no-such-user-${randomBytes(8).toString('hex')}`
  await transport.call({ operation: 'prove_access', method: 'GET', path: `/users/${noSuchUser}`, pass: [400, 404], signal: options.signal })
  // The token that was just accepted (cached: a login is not repeated).
  const exp = decodeJwtPayload(await transport.tokens.token())?.exp
  return { via: transport.tokens.renewable ? 'login' : 'token', expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : null }
}

import { fullJitterMs, sleep } from '../infra/async.js'
import { LeafError, isConflictLike, isLeafError } from './errors.js'
import { leafUserListSchema, leafUserSchema, type LeafUser } from './schemas.js'
import type { LeafTransport } from './transport.js'

export interface NewLeafUser {
  externalId: string
  name?: string
  email?: string
}

/** Stop paging here: a search matching more users than this is not a lookup any more. */
const MAX_PAGES = 50

/** `GET /users/{id}`: the user, or null when Leaf does not know the id (404). */
export async function getUser(transport: LeafTransport, leafUserId: string): Promise<LeafUser | null> {
  const reply = await transport.call({
    operation: 'get_user',
    method: 'GET',
    path: `/users/${encodeURIComponent(leafUserId)}`,
    pass: [404],
  })
  return reply.status === 404 ? null : transport.parse(leafUserSchema, reply, 'get_user')
}

/**
 * Finds the one user whose externalId equals `input.externalId`, or creates it. A create that may
 * have landed (timeout, 5xx) or that Leaf calls a conflict (a concurrent create won) is followed by
 * another look before any new create, so one grower does not become two Leaf users.
 */
export async function findOrCreateUser(transport: LeafTransport, input: NewLeafUser, pageSize: number): Promise<LeafUser> {
  const existing = await findUserByExternalId(transport, input.externalId, pageSize)
  if (existing !== null) return existing
  for (let round = 1; ; round += 1) {
    try {
      return await createUser(transport, input)
    } catch (err) {
      if (!isLeafError(err) || !(err.ambiguous || isConflictLike(err))) throw err
      const found = await findUserByExternalId(transport, input.externalId, pageSize)
      if (found !== null) return found
      if (!err.ambiguous || round >= transport.retry.attempts) throw err
      await sleep(fullJitterMs(transport.retry, round))
    }
  }
}

/** Leaf's `externalId` filter is not documented as exact, so every page of its answer is compared. */
async function findUserByExternalId(transport: LeafTransport, externalId: string, pageSize: number): Promise<LeafUser | null> {
  const matches: LeafUser[] = []
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const reply = await transport.call({
      operation: 'find_users',
      method: 'GET',
      path: '/users',
      query: { externalId, page: String(page), size: String(pageSize) },
    })
    const users = transport.parse(leafUserListSchema, reply, 'find_users')
    matches.push(...users.filter((user) => user.externalId === externalId))
    const total = Number(reply.headers.get('x-total-count') ?? Number.NaN)
    const seen = page * pageSize + users.length
    if (users.length < pageSize || (Number.isFinite(total) && seen >= total)) {
      if (matches.length > 1) {
        const message = `leaf find_users: ${matches.length} users carry this externalId`
        throw new LeafError('ambiguous_external_id', message)
      }
      return matches[0] ?? null
    }
  }
  throw new LeafError('invalid_response', `leaf find_users: more than ${MAX_PAGES} pages of users`)
}

/** One POST, not resent when its outcome is unclear: the caller looks before creating again. */
async function createUser(transport: LeafTransport, input: NewLeafUser): Promise<LeafUser> {
  const body: Record<string, string> = { externalId: input.externalId }
  if (input.name !== undefined) body.name = input.name
  if (input.email !== undefined) body.email = input.email
  const reply = await transport.call({
    operation: 'create_user',
    method: 'POST',
    path: '/users',
    body,
    retryAmbiguous: false,
  })
  return transport.parse(leafUserSchema, reply, 'create_user')
}

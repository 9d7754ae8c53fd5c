import { z } from 'zod'

import { describeZodError, leafUserIdSchema } from '../http/params.js'
import { problem } from '../http/problem.js'
import { HEALTHS, type Health } from '../registry/registry.js'

/** `GET /v1/raven-connections` query: every parameter once at most, nothing unknown. */
export const listConnectionsQuerySchema = z
  .object({
    health: z.enum(HEALTHS).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500')
      .transform(Number)
      .pipe(z.number().int().min(1, 'must be a whole number from 1 to 500').max(500, 'must be a whole number from 1 to 500'))
      .optional(),
    cursor: z.string().max(200).optional(),
  })
  .strict()

export const DEFAULT_LIST_LIMIT = 100
const CURSOR_VERSION = 'c1.'

/**
 * The cursor is opaque to the host: today the last Leaf user id of the page, versioned and encoded, so
 * the scheme can change without breaking a client that only hands it back.
 */
export function encodeCursor(afterLeafUserId: string): string {
  return Buffer.from(CURSOR_VERSION + afterLeafUserId, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : ''
  const id = text.startsWith(CURSOR_VERSION) ? text.slice(CURSOR_VERSION.length) : ''
  if (!leafUserIdSchema.safeParse(id).success) throw problem.badRequest('invalid_cursor', 'cursor: not a cursor this service gave out.')
  return id
}

export function parseListQuery(query: unknown): { health?: Health; limit: number; after?: string } {
  const parsed = listConnectionsQuerySchema.safeParse(query)
  if (!parsed.success) throw problem.badRequest('invalid_query', describeZodError(parsed.error))
  const { health, limit, cursor } = parsed.data
  return {
    ...(health !== undefined && { health }),
    limit: limit ?? DEFAULT_LIST_LIMIT,
    ...(cursor !== undefined && { after: decodeCursor(cursor) }),
  }
}

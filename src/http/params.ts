import { z } from 'zod'

import { problem } from './problem.js'

/** A Leaf user id as the contract allows it: 1-64 of [A-Za-z0-9_-]. Anything else never reaches Leaf. */
export const leafUserIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ and -')

export const externalIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')

export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')

export const emailSchema = z.email({ error: 'must be an email address' }).max(254)

/** Validates a path parameter; throws the contract's 400 instead of forwarding it to Leaf. */
export function parseLeafUserId(value: unknown): string {
  const parsed = leafUserIdSchema.safeParse(value)
  if (!parsed.success) throw problem.invalidLeafUserId()
  return parsed.data
}

/** One readable sentence from a zod error, naming the first offending field. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'The request body is invalid.'
  if (issue.code === 'unrecognized_keys') return `Unknown field(s): ${issue.keys.join(', ')}.`
  const field = issue.path.join('.')
  return field ? `${field}: ${issue.message}.` : `${issue.message}.`
}

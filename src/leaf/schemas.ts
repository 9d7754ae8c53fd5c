import { z } from 'zod'

/*
 * Schemas for Leaf's answers. Each one lists only the fields the service uses: zod objects strip
 * unknown keys, which is how the secrets Leaf returns (clientSecret, refreshToken, accessToken on a
 * credential; other providers' credentials on a user) are dropped at the edge and never reach a
 * caller, a log line or a cache.
 */

const optionalText = z.string().nullish().transform((value) => value ?? null)

export const leafUserSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  externalId: optionalText,
  name: optionalText,
  email: optionalText,
})
export type LeafUser = z.output<typeof leafUserSchema>

export const leafUserListSchema = z.array(leafUserSchema)

export const authenticateResponseSchema = z.object({ id_token: z.string().min(1) })

export const ravenCredentialSummarySchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    status: z.string(),
    createdTime: z.string(),
    tokenMetadata: z.object({ scopes: z.array(z.string()).nullish() }).nullish(),
  })
  .transform(({ id, status, createdTime, tokenMetadata }) => ({
    id,
    status,
    createdTime,
    scopes: tokenMetadata?.scopes ?? [],
  }))
/** What the service may know about a stored credential: no secret is part of it. */
export type RavenCredentialSummary = z.output<typeof ravenCredentialSummarySchema>

/** The body of `POST /users/{id}/raven-credentials` (reference/: all three fields required). */
export interface RavenCredentialInput {
  clientId: string
  clientSecret: string
  refreshToken: string
}

/*
 * Events are troubleshooting output, documented loosely ("statusCode": "int" inside a string
 * example), so the schema is lenient: an odd field must not hide every event. Redaction happens
 * after this parse, in redact.ts.
 */
const eventText = z.unknown().transform((value): string => {
  if (value === null || value === undefined) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
})

export const leafEventRawSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  createdDate: z.string().nullish().transform((value) => value ?? null),
  statusCode: z
    .union([z.number(), z.string()])
    .nullish()
    .transform((value): number | null => {
      if (typeof value === 'number') return Number.isInteger(value) ? value : null
      if (typeof value === 'string' && /^\s*\d{3}\s*$/.test(value)) return Number(value)
      return null
    }),
  body: eventText,
  headers: eventText,
})
export const leafEventListSchema = z.array(leafEventRawSchema)

/** One of Leaf's credential events, after redaction: `body` and `headers` carry no secret. */
export interface LeafEvent {
  id: string
  createdDate: string | null
  /** Leaf documents an int and sends a string; a number here when it was numeric, else null. */
  statusCode: number | null
  body: string
  headers: string
}

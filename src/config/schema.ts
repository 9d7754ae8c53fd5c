import { z } from 'zod'

import { LOCALES } from '../i18n/locales.js'
import { checkUpstreamUrl } from './upstream-url.js'

/** A list in one variable: comma-separated, trimmed, empty items dropped. */
const commaList = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean))

const upstreamUrl = z.string().transform((value, ctx) => {
  const result = checkUpstreamUrl(value)
  if (typeof result === 'string') {
    ctx.addIssue({ code: 'custom', message: result })
    return z.NEVER
  }
  return result.href.replace(/\/$/, '')
})

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== '' ? value.trim() : undefined))

/**
 * Every environment variable of the service contract, one entry each, with its default. The
 * descriptions are the documentation: `.env.example` and the README table repeat them, and a test
 * checks that every key appears there.
 */
export const envSchema = z.object({
  PORT: integer(0, 65535).default(3000).describe('port to listen on'),
  PUBLIC_BASE_URL: z
    .string({ error: 'is required' })
    .describe('origin the browser sees; redirect_uri = PUBLIC_BASE_URL + /connect/raven/callback'),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .describe('Redis for sessions, one-time tokens, parked tokens and queues'),
  SESSION_SECRET: commaList.describe('comma-separated secrets; the first signs cookies, all verify'),
  API_KEYS: commaList.describe('comma-separated bearer keys accepted on /v1'),
  RETURN_TO_ORIGINS: commaList.describe('origins a returnTo may point at; also the CORS origins of /api'),
  RAVEN_ISSUER: optionalNonEmpty.describe('issuer URL for discovery (or the issuer of explicit endpoints)'),
  RAVEN_AUTHORIZATION_ENDPOINT: optionalNonEmpty.describe('explicit authorization endpoint'),
  RAVEN_TOKEN_ENDPOINT: optionalNonEmpty.describe('explicit token endpoint'),
  RAVEN_REVOCATION_ENDPOINT: optionalNonEmpty.describe('explicit revocation endpoint (optional)'),
  RAVEN_CLIENT_ID: z.string({ error: 'is required' }).min(1, 'is required').describe('Raven OAuth client id'),
  RAVEN_CLIENT_SECRET: z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .describe('Raven OAuth client secret'),
  RAVEN_SCOPES: z
    .string()
    .default('openid offline_access')
    .transform((value) => value.split(/\s+/).filter(Boolean))
    .describe('space-separated scopes; without offline_access Raven issues no refresh token'),
  RAVEN_TOKEN_AUTH_METHOD: z
    .enum(['client_secret_basic', 'client_secret_post'])
    .default('client_secret_basic')
    .describe('how the client secret is sent to the token endpoint'),
  RAVEN_RESPONSE_MODE: z.enum(['query', 'form_post']).default('query').describe('query or form_post'),
  LEAF_API_URL: upstreamUrl.default('https://api.withleaf.io').describe("Leaf's origin"),
  LEAF_USERNAME: optionalNonEmpty.describe('Leaf API owner login (with LEAF_PASSWORD)'),
  LEAF_PASSWORD: optionalNonEmpty.describe('Leaf API owner password'),
  LEAF_API_TOKEN: optionalNonEmpty.describe('a ready Leaf bearer token instead of the login'),
  TOKEN_ENCRYPTION_KEY: z
    .string({ error: 'is required' })
    .describe('32 random bytes, base64 or base64url; encrypts refresh tokens held in Redis'),
  CONNECT_SESSION_TTL_SECONDS: integer(30, 86400)
    .default(900)
    .describe('lifetime of a connect session token, in seconds'),
  RATE_LIMIT_PER_MINUTE: integer(0, 1_000_000)
    .default(120)
    .describe('requests a minute per client IP (per API key on /v1); 0 turns limiting off'),
  TRUST_PROXY: optionalNonEmpty.describe('Express trust proxy: hop count, true/false, or addresses'),
  WEBHOOK_URL: optionalNonEmpty.describe('where to POST connection events (optional)'),
  WEBHOOK_SECRET: optionalNonEmpty.describe('HMAC-SHA256 key that signs webhooks'),
  APP_NAME: optionalNonEmpty
    .pipe(z.string().max(60, 'must be at most 60 characters').optional())
    .describe('the host application\'s name on the grower\'s pages ("Raven is connected to Acme Farms"); unset: "your app" in the page\'s language'),
  BRAND_LOGO_URL: optionalNonEmpty
    .pipe(z.string().max(2000, 'must be at most 2000 characters').transform(httpsImageUrl).optional())
    .describe("optional https URL of the host's logo on the grower's pages (their CSP allows images from that origin only)"),
  BRAND_COLOR: optionalNonEmpty
    .pipe(z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #3b6e2a').transform((value) => value.toLowerCase()).optional())
    .describe("optional accent colour of the grower's pages, #rrggbb; unset: a neutral default"),
  DEFAULT_LOCALE: z
    .enum(LOCALES, { error: `must be one of ${LOCALES.join(', ')}` })
    .default('en')
    .describe("language of the grower's pages when neither the connect session nor the browser names a supported one"),
  LEAF_ALERTS_SECRET: optionalNonEmpty.describe('secret Leaf signs its Alerts with; enables POST /leaf/alerts (optional)'),
})

/**
 * The logo is fetched by the grower's browser from a page served over https: a plain-http logo would
 * be mixed content, and `img-src` is widened to exactly this origin.
 */
function httpsImageUrl(value: string, ctx: z.RefinementCtx): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: `not an absolute URL (got ${value})` })
    return z.NEVER
  }
  if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must be an https URL (got ${url.protocol}//…)` })
  else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' })
  return url.href
}

export type Env = z.input<typeof envSchema>
export type ParsedEnv = z.output<typeof envSchema>

import { isIP } from 'node:net'

import type { Locale } from '../i18n/locales.js'
import { envSchema, type ParsedEnv } from './schema.js'
import { parseRedisTarget } from '../infra/redis-url.js'
import { checkUpstreamUrl } from './upstream-url.js'

export type RavenEndpoints =
  | { kind: 'discovery'; issuer: string }
  | {
      kind: 'explicit'
      /** RAVEN_ISSUER when set (checked against `iss` and the ID token), else undefined. */
      issuer: string | undefined
      authorizationEndpoint: string
      tokenEndpoint: string
      revocationEndpoint: string | undefined
    }

/** How the service proves itself to Leaf: the API owner's login, or a ready bearer token. */
export type LeafAuth = { username: string; password: string } | { token: string }

/** What the grower's pages show of the host (APP_NAME, BRAND_LOGO_URL, BRAND_COLOR) and their fallback language. */
export interface PageSettings {
  appName: string | undefined
  /** An https URL; the pages' CSP allows images from its origin only. */
  logoUrl: string | undefined
  /** `#rrggbb`, lowercase. */
  brandColor: string | undefined
  defaultLocale: Locale
}

/** The validated configuration. Only `loadConfig` reads the environment; everything else gets this. */
export interface Config {
  port: number
  publicBaseUrl: string
  redirectUri: string
  /** Cookies are Secure (and use the __Host- prefix) whenever the public origin is https. */
  secureCookies: boolean
  redisUrl: string
  sessionSecrets: string[]
  apiKeys: string[]
  returnToOrigins: string[]
  raven: {
    endpoints: RavenEndpoints
    clientId: string
    clientSecret: string
    scopes: string[]
    tokenAuthMethod: 'client_secret_basic' | 'client_secret_post'
    responseMode: 'query' | 'form_post'
  }
  leaf: { apiUrl: string; auth: LeafAuth }
  tokenEncryptionKey: Buffer
  connectSessionTtlSeconds: number
  rateLimitPerMinute: number
  trustProxy: boolean | number | string
  webhook: { url: string; secret: string } | undefined
  pages: PageSettings
  /** LEAF_ALERTS_SECRET: set, POST /leaf/alerts is live and Leaf's Alerts keep connection health. */
  leafAlertsSecret: string | undefined
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.map((problem) => `config: ${problem}`).join('\n'))
    this.name = 'ConfigError'
  }
}

/**
 * Reads and validates the environment. Throws a ConfigError whose message has one line per bad
 * variable, `config: NAME: what is wrong`, so `main.ts` can print it and exit before listening.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(dedupeByVariable(problems))
  }
  const problems: string[] = []
  const config = buildConfig(parsed.data, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

function buildConfig(env: ParsedEnv, problems: string[]): Config {
  const publicBaseUrl = parsePublicBaseUrl(env.PUBLIC_BASE_URL, problems)
  if (env.SESSION_SECRET.length === 0) problems.push('SESSION_SECRET: is required')
  for (const secret of env.SESSION_SECRET) {
    if (secret.length < 32) {
      problems.push('SESSION_SECRET: each secret must be at least 32 characters')
      break
    }
  }
  if (env.API_KEYS.length === 0) problems.push('API_KEYS: is required')
  for (const key of env.API_KEYS) {
    if (key.length < 16) {
      problems.push('API_KEYS: each key must be at least 16 characters')
      break
    }
  }
  const returnToOrigins = env.RETURN_TO_ORIGINS.flatMap((value) => {
    const origin = parseOrigin(value)
    if (!origin) problems.push(`RETURN_TO_ORIGINS: not an origin like https://app.example.com (got ${value})`)
    return origin ? [origin] : []
  })
  const secureCookies = publicBaseUrl.startsWith('https:')
  // form_post arrives as a cross-site POST: the cookie must be SameSite=None, which browsers only
  // accept together with Secure, so the service must be served over https.
  if (env.RAVEN_RESPONSE_MODE === 'form_post' && publicBaseUrl && !secureCookies) {
    problems.push('RAVEN_RESPONSE_MODE: form_post needs an https PUBLIC_BASE_URL (SameSite=None cookies must be Secure)')
  }
  return {
    port: env.PORT,
    publicBaseUrl,
    redirectUri: `${publicBaseUrl}/connect/raven/callback`,
    secureCookies,
    redisUrl: parseRedisUrl(env.REDIS_URL, problems),
    sessionSecrets: env.SESSION_SECRET,
    apiKeys: env.API_KEYS,
    returnToOrigins,
    raven: {
      endpoints: parseRavenEndpoints(env, problems),
      clientId: env.RAVEN_CLIENT_ID,
      clientSecret: env.RAVEN_CLIENT_SECRET,
      scopes: env.RAVEN_SCOPES,
      tokenAuthMethod: env.RAVEN_TOKEN_AUTH_METHOD,
      responseMode: env.RAVEN_RESPONSE_MODE,
    },
    leaf: { apiUrl: env.LEAF_API_URL, auth: parseLeafAuth(env, problems) },
    tokenEncryptionKey: parseEncryptionKey(env.TOKEN_ENCRYPTION_KEY, problems),
    connectSessionTtlSeconds: env.CONNECT_SESSION_TTL_SECONDS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    trustProxy: parseTrustProxy(env.TRUST_PROXY, problems),
    webhook: parseWebhook(env, problems),
    pages: {
      appName: env.APP_NAME,
      logoUrl: env.BRAND_LOGO_URL,
      brandColor: env.BRAND_COLOR,
      defaultLocale: env.DEFAULT_LOCALE,
    },
    leafAlertsSecret: parseLeafAlertsSecret(env.LEAF_ALERTS_SECRET, problems),
  }
}

function parsePublicBaseUrl(value: string, problems: string[]): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`PUBLIC_BASE_URL: not an absolute URL (got ${value})`)
    return ''
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`PUBLIC_BASE_URL: must be http(s) (got ${value})`)
  } else if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    problems.push(`PUBLIC_BASE_URL: must be an origin only, like https://connect.example.com (got ${value})`)
  }
  return url.origin
}

/** Normalized origin (scheme, lowercase host, explicit non-default port) or undefined. */
export function parseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
    if (url.username || url.password) return undefined
    if (url.pathname !== '/' || url.search || url.hash) return undefined
    return url.origin
  } catch {
    return undefined
  }
}

// A server, Sentinel or Cluster: session/redis-url.ts documents the forms.
function parseRedisUrl(value: string, problems: string[]): string {
  try {
    parseRedisTarget(value)
  } catch (err) {
    problems.push(`REDIS_URL: ${(err as Error).message}`)
  }
  return value
}

function upstream(name: string, value: string, problems: string[]): string {
  const result = checkUpstreamUrl(value)
  if (typeof result === 'string') {
    problems.push(`${name}: ${result}`)
    return ''
  }
  return result.href
}

// Raven's discovery document is not documented, so explicit endpoints win when both are given;
// the issuer then only names who signs the ID token and the `iss` parameter (RFC 9207).
function parseRavenEndpoints(env: ParsedEnv, problems: string[]): RavenEndpoints {
  const issuer = env.RAVEN_ISSUER ? upstream('RAVEN_ISSUER', env.RAVEN_ISSUER, problems).replace(/\/$/, '') : undefined
  const { RAVEN_AUTHORIZATION_ENDPOINT: authz, RAVEN_TOKEN_ENDPOINT: token, RAVEN_REVOCATION_ENDPOINT: revocation } = env
  if (authz || token) {
    if (!authz) problems.push('RAVEN_AUTHORIZATION_ENDPOINT: is required with RAVEN_TOKEN_ENDPOINT')
    if (!token) problems.push('RAVEN_TOKEN_ENDPOINT: is required with RAVEN_AUTHORIZATION_ENDPOINT')
    // The ID token's `iss` must equal the issuer exactly, and an issuer is not always an origin (Raven's
    // lives under /core): guessing it from an endpoint would fail every exchange, so it must be given.
    if (!env.RAVEN_ISSUER && env.RAVEN_SCOPES.includes('openid')) {
      problems.push(
        'RAVEN_ISSUER: is required with explicit endpoints when RAVEN_SCOPES includes openid (the issuer the ID token names, e.g. https://auth.agsync.com/core)',
      )
    }
    return {
      kind: 'explicit',
      issuer,
      authorizationEndpoint: authz ? upstream('RAVEN_AUTHORIZATION_ENDPOINT', authz, problems) : '',
      tokenEndpoint: token ? upstream('RAVEN_TOKEN_ENDPOINT', token, problems) : '',
      revocationEndpoint: revocation ? upstream('RAVEN_REVOCATION_ENDPOINT', revocation, problems) : undefined,
    }
  }
  if (revocation) problems.push('RAVEN_REVOCATION_ENDPOINT: only valid with explicit endpoints')
  if (!env.RAVEN_ISSUER) {
    problems.push('RAVEN_ISSUER: is required (or RAVEN_AUTHORIZATION_ENDPOINT and RAVEN_TOKEN_ENDPOINT)')
  }
  return { kind: 'discovery', issuer: issuer ?? '' }
}

function parseLeafAuth(env: ParsedEnv, problems: string[]): LeafAuth {
  if (env.LEAF_API_TOKEN) {
    if (env.LEAF_USERNAME || env.LEAF_PASSWORD) {
      problems.push('LEAF_API_TOKEN: set either LEAF_API_TOKEN or LEAF_USERNAME/LEAF_PASSWORD, not both')
    }
    return { token: env.LEAF_API_TOKEN }
  }
  if (!env.LEAF_USERNAME || !env.LEAF_PASSWORD) {
    const missing = env.LEAF_USERNAME ? 'LEAF_PASSWORD' : 'LEAF_USERNAME'
    problems.push(`${missing}: is required (LEAF_USERNAME and LEAF_PASSWORD, or LEAF_API_TOKEN)`)
    return { username: '', password: '' }
  }
  return { username: env.LEAF_USERNAME, password: env.LEAF_PASSWORD }
}

function parseEncryptionKey(value: string, problems: string[]): Buffer {
  const trimmed = value.trim()
  // base64url is a superset-compatible alphabet once '-' and '_' are mapped back.
  const normalized = trimmed.replace(/-/g, '+').replace(/_/g, '/')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(normalized)) {
    problems.push('TOKEN_ENCRYPTION_KEY: must be base64 or base64url')
    return Buffer.alloc(0)
  }
  const key = Buffer.from(normalized, 'base64')
  if (key.length !== 32) {
    problems.push(`TOKEN_ENCRYPTION_KEY: must decode to exactly 32 bytes (got ${key.length})`)
  }
  return key
}

// Express compiles `trust proxy` with proxy-addr, which throws a stack trace at start on anything it
// does not know: check the forms it accepts here, so a typo is one config line instead.
const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function parseTrustProxy(value: string | undefined, problems: string[]): boolean | number | string {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) return Number(value)
  const bad = value.split(',').map((item) => item.trim()).find((item) => !isTrustedProxyEntry(item))
  if (bad !== undefined) {
    problems.push(
      `TRUST_PROXY: expected true, false, a hop count, or comma-separated addresses, CIDR ranges or loopback/linklocal/uniquelocal (got ${bad || 'an empty entry'})`,
    )
  }
  return value
}

function isTrustedProxyEntry(item: string): boolean {
  if (TRUST_PROXY_NAMES.has(item)) return true
  const [address = '', range, extra] = item.split('/')
  const family = isIP(address)
  if (family === 0 || extra !== undefined) return false
  if (range === undefined) return true
  if (isIP(range) === 4 && family === 4) return true // a netmask, e.g. 10.0.0.0/255.0.0.0
  return /^\d{1,3}$/.test(range) && Number(range) <= (family === 4 ? 32 : 128)
}

function parseWebhook(env: ParsedEnv, problems: string[]): Config['webhook'] {
  if (!env.WEBHOOK_URL) {
    if (env.WEBHOOK_SECRET) problems.push('WEBHOOK_URL: is required when WEBHOOK_SECRET is set')
    return undefined
  }
  const url = upstream('WEBHOOK_URL', env.WEBHOOK_URL, problems)
  if (!env.WEBHOOK_SECRET || env.WEBHOOK_SECRET.length < 16) {
    problems.push('WEBHOOK_SECRET: is required with WEBHOOK_URL, at least 16 characters')
    return undefined
  }
  return { url, secret: env.WEBHOOK_SECRET }
}

// Leaf signs with whatever secret it was registered with: a short one would make forged alerts guessable.
function parseLeafAlertsSecret(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined
  if (value.length < 16) problems.push('LEAF_ALERTS_SECRET: at least 16 characters')
  return value
}

function dedupeByVariable(problems: string[]): string[] {
  const seen = new Set<string>()
  return problems.filter((line) => {
    const name = line.split(':')[0] ?? line
    if (seen.has(name)) return false
    seen.add(name)
    return true
  })
}

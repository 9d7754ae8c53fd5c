import { DISCOVERY_PATH } from './config.js'
import { field } from './stats.js'
import { formPostPage } from './views.js'

import type { IncomingMessage } from 'node:http'
import type { KoaContext, KoaMiddleware, Provider } from 'oidc-provider'
import type { RavenRoutes } from './config.js'
import type { StatsRecorder } from './stats.js'
import type { Logger } from '../../src/infra/logger.js'

export type TokenResponseFault =
  | 'normal'
  | 'omit_refresh_token'
  | 'invalid_grant'
  | 'invalid_client'
  | 'server_error_html'
  | 'non_json'

export type AuthorizeErrorFault = 'none' | 'server_error' | 'temporarily_unavailable' | 'access_denied' | 'invalid_scope'

export interface FaultSettings {
  /** How the token endpoint answers (every grant type) until reset. */
  tokenResponse: TokenResponseFault
  /** Hold every token answer this long, after the tokens were issued: a client timeout is ambiguous. */
  tokenDelayMs: number
  /** RFC 9207 `iss` in authorization responses (codes and errors) sent back to the client. */
  iss: 'normal' | 'omit' | 'wrong'
  /**
   * `unavailable`: 503 on the discovery document, as when Raven is down while a client starts.
   * `wrong_issuer`: the document names WRONG_ISSUER, as when RAVEN_ISSUER is not Raven's issuer.
   */
  discovery: 'normal' | 'unavailable' | 'wrong_issuer'
  /** Answer authorization requests (valid client and redirect_uri) at once with this error. */
  authorizeError: AuthorizeErrorFault
  /** `server_error`: the revocation endpoint answers 503 without revoking anything. */
  revocation: 'normal' | 'server_error'
  /**
   * Parameters appended to authorization responses sent back to the client (query mode), after the
   * real ones: a repeated `code` or `iss`, a JARM `response`, an implicit-flow `id_token` …
   */
  extraResponseParams: ReadonlyArray<readonly [string, string]>
}

/** A per-test script of misbehaviour: set fields (or `set({...})`), and `reset()` afterwards. */
export interface RavenFaults extends FaultSettings {
  set(patch: Partial<FaultSettings>): void
  reset(): void
}

/** The issuer a mixed-up or attacker-controlled authorization server would name (RFC 9207 §2.4). */
export const WRONG_ISSUER = 'https://attacker.example'

const NORMAL: FaultSettings = {
  tokenResponse: 'normal',
  tokenDelayMs: 0,
  iss: 'normal',
  discovery: 'normal',
  authorizeError: 'none',
  revocation: 'normal',
  extraResponseParams: [],
}

export function createFaults(): RavenFaults {
  const faults: RavenFaults = {
    ...NORMAL,
    set: (patch) => void Object.assign(faults, patch),
    reset: () => void Object.assign(faults, NORMAL),
  }
  return faults
}

export interface FaultDeps {
  faults: RavenFaults
  stats: StatsRecorder
  provider: Provider
  logger: Logger
  delay: (ms: number) => Promise<void>
  /** The provider's routes as it sees them (relative to its mount path). */
  routes: RavenRoutes
}

/**
 * Koa middleware placed in front of oidc-provider's router (`provider.use`). With every fault at
 * `normal` it only counts and passes through; a fault answers around or instead of the provider.
 */
export function faultMiddleware(deps: FaultDeps): KoaMiddleware {
  return async (ctx, next) => {
    if (ctx.path === DISCOVERY_PATH) return discovery(ctx, next, deps)
    const { routes } = deps
    if (ctx.method === 'POST' && ctx.path === routes.token) return token(ctx, next, deps)
    if (ctx.method === 'POST' && ctx.path === routes.revocation) return revocation(ctx, next, deps)
    if (ctx.path === routes.authorization || ctx.path.startsWith(`${routes.authorization}/`)) {
      return authorization(ctx, next, deps)
    }
    return next()
  }
}

async function discovery(ctx: KoaContext, next: () => Promise<void>, { faults, stats, logger }: FaultDeps): Promise<void> {
  stats.recordDiscovery()
  if (faults.discovery === 'normal') return next()
  if (faults.discovery === 'wrong_issuer') {
    await next()
    if (isRecord(ctx.body)) ctx.body = { ...ctx.body, issuer: WRONG_ISSUER }
    return
  }
  logger.debug({ fault: 'discovery' }, 'sandbox fault applied')
  ctx.status = 503
  ctx.set('Retry-After', '1')
  ctx.type = 'text/plain'
  ctx.body = 'Raven is temporarily unavailable'
}

async function token(ctx: KoaContext, next: () => Promise<void>, deps: FaultDeps): Promise<void> {
  const { faults, stats, logger, delay } = deps
  const fault = faults.tokenResponse
  if (fault !== 'normal' && fault !== 'omit_refresh_token') {
    // The provider never sees this request, so the body is ours to read.
    stats.recordTokenRequest(await readForm(ctx.req))
    logger.debug({ fault }, 'sandbox fault applied')
    await delay(faults.tokenDelayMs)
    answerTokenFault(ctx, fault)
    return
  }
  await next()
  const form = ctx.oidc?.body
  stats.recordTokenRequest(form)
  if (ctx.status === 200 && isRecord(ctx.body)) {
    stats.recordTokenAnswer(ctx.body)
    const code = field(form, 'grant_type') === 'authorization_code' ? field(form, 'code') : undefined
    const refreshToken = ctx.body.refresh_token
    if (code) stats.recordIssued(code, typeof refreshToken === 'string' ? refreshToken : undefined)
    if (fault === 'omit_refresh_token') {
      const { refresh_token: _omitted, ...rest } = ctx.body
      ctx.body = rest
    }
  }
  await delay(faults.tokenDelayMs)
}

function answerTokenFault(ctx: KoaContext, fault: TokenResponseFault): void {
  ctx.set('Cache-Control', 'no-store')
  switch (fault) {
    case 'invalid_grant':
      ctx.status = 400
      ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' }
      return
    case 'invalid_client':
      ctx.status = 401
      ctx.set('WWW-Authenticate', 'Basic realm="raven"')
      ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' }
      return
    case 'server_error_html':
      ctx.status = 500
      ctx.type = 'html'
      ctx.body = '<!doctype html><html><body><h1>500 Internal Server Error</h1><p>Raven hit a snag.</p></body></html>'
      return
    default:
      ctx.status = 200
      ctx.type = 'text/plain'
      ctx.body = 'OK <not json> {'
  }
}

async function revocation(ctx: KoaContext, next: () => Promise<void>, { faults, stats }: FaultDeps): Promise<void> {
  if (faults.revocation === 'server_error') {
    stats.recordRevocation(await readForm(ctx.req))
    ctx.status = 503
    ctx.body = { error: 'server_error', error_description: 'revocation is temporarily unavailable' }
    return
  }
  await next()
  stats.recordRevocation(ctx.oidc?.body)
}

async function authorization(ctx: KoaContext, next: () => Promise<void>, deps: FaultDeps): Promise<void> {
  const { faults, stats, provider } = deps
  // Resumes after login and consent (`/authorize/:uid`) are the same request continuing, not new ones.
  const isNewRequest = ctx.path === deps.routes.authorization
  if (isNewRequest) stats.recordAuthorization()
  const answered = isNewRequest && faults.authorizeError !== 'none' && (await answerAuthorizeError(ctx, deps))
  if (!answered) await next()
  if (faults.iss !== 'normal') rewriteIss(ctx, faults.iss, provider.issuer)
  if (faults.extraResponseParams.length > 0) appendResponseParams(ctx, faults.extraResponseParams, provider.issuer)
}

function appendResponseParams(ctx: KoaContext, extra: FaultSettings['extraResponseParams'], issuer: string): void {
  const location = ctx.response.get('Location')
  if (!location) return
  const target = new URL(location, issuer)
  // Only responses leaving for the client (they carry state); the sandbox's own hops are left alone.
  if (!target.searchParams.has('state')) return
  for (const [name, value] of extra) target.searchParams.append(name, value)
  ctx.redirect(target.href)
}

// Only for a valid client and registered redirect_uri: anything else is left to the provider, which
// must not redirect to an unverified URI (RFC 6749 §4.1.2.1).
async function answerAuthorizeError(ctx: KoaContext, { faults, provider, logger }: FaultDeps): Promise<boolean> {
  const param = (name: string) => (typeof ctx.query[name] === 'string' ? ctx.query[name] : undefined)
  const clientId = param('client_id')
  const redirectUri = param('redirect_uri')
  const client = clientId ? await provider.Client.find(clientId) : undefined
  if (!client || !redirectUri || !client.redirectUriAllowed(redirectUri)) return false
  logger.debug({ fault: 'authorizeError' }, 'sandbox fault applied')
  const response: Record<string, string> = { error: faults.authorizeError, error_description: 'sandbox fault' }
  const state = param('state')
  if (state !== undefined) response.state = state
  response.iss = provider.issuer
  if (param('response_mode') === 'form_post') {
    ctx.status = 200
    ctx.type = 'html'
    ctx.body = formPostPage(redirectUri, response)
    return true
  }
  const target = new URL(redirectUri)
  for (const [name, value] of Object.entries(response)) target.searchParams.set(name, value)
  ctx.status = 303
  ctx.redirect(target.href)
  return true
}

function rewriteIss(ctx: KoaContext, mode: 'omit' | 'wrong', issuer: string): void {
  const location = ctx.response.get('Location')
  if (location) {
    const target = new URL(location, issuer)
    // Only responses leaving for the client carry `iss`; the sandbox's own hops do not.
    if (!target.searchParams.has('iss')) return
    if (mode === 'omit') target.searchParams.delete('iss')
    else target.searchParams.set('iss', WRONG_ISSUER)
    ctx.redirect(target.href)
    return
  }
  // form_post: the response is a self-submitting page with a hidden `iss` input.
  if (typeof ctx.body === 'string') {
    const input = /<input type="hidden" name="iss" value="[^"]*"\s*\/?>/
    ctx.body = ctx.body.replace(input, mode === 'omit' ? '' : `<input type="hidden" name="iss" value="${WRONG_ISSUER}">`)
  }
}

const FORM_LIMIT = 64 * 1024

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > FORM_LIMIT) break
    chunks.push(buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

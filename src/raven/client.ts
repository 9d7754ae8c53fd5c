import * as oidc from 'openid-client'

import type { Config } from '../config/load-config.js'
import { isLoopbackHost } from '../config/upstream-url.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'

export interface RavenClientOptions {
  config: Config
  logger: Logger
  metrics: Metrics
  /** Seconds allowed for discovery, the token request and revocation. openid-client sets none itself. */
  timeoutSeconds?: number
}

export interface AuthorizationRequest {
  state: string
  codeChallenge: string
  nonce: string | undefined
}

/** What the callback learns from the token endpoint. The access token is dropped at once. */
export interface ExchangedTokens {
  refreshToken: string | undefined
  scopes: string[]
}

/**
 * The authorization response failed a check before any token request was made (wrong or missing
 * `iss`, missing or repeated code). Nothing was sent to Raven; the code is still unspent there.
 */
export class AuthorizationResponseRejected extends Error {
  constructor(readonly check: string) {
    super(`authorization response rejected: ${check}`)
    this.name = 'AuthorizationResponseRejected'
  }
}

/** Raven answered the callback with `error=…` (after state and `iss` were checked). */
export class RavenAuthorizationError extends Error {
  constructor(readonly error: string) {
    super(`Raven answered error=${error}`)
    this.name = 'RavenAuthorizationError'
  }
}

/** The token request was refused or failed. Never retried: a code is single-use (RFC 6749 §4.1.2). */
export class TokenExchangeError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`token exchange failed: ${reason}`, options)
    this.name = 'TokenExchangeError'
  }
}

/**
 * The only module that talks to Raven. Holds the openid-client Configuration, built once from
 * discovery or from explicit endpoints. A failed discovery is not cached, so the next launch (or the
 * readiness probe) tries again when Raven was unreachable at start.
 */
export class RavenClient {
  private configuration: Promise<oidc.Configuration> | undefined
  private resolved: oidc.Configuration | undefined
  private readonly log: Logger
  private readonly timeoutSeconds: number

  constructor(private readonly options: RavenClientOptions) {
    this.log = options.logger.child({ module: 'raven' })
    this.timeoutSeconds = options.timeoutSeconds ?? 10
  }

  /** True once Raven's endpoints are known (discovery succeeded or they were configured). */
  get ready(): boolean {
    return this.resolved !== undefined
  }

  /** Resolves the endpoints, sharing one discovery in flight; dropped from the cache if it fails. */
  getConfiguration(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      this.configuration = this.buildConfiguration().then(
        (configuration) => {
          this.resolved = configuration
          return configuration
        },
        (err: unknown) => {
          this.configuration = undefined
          this.log.warn({ err }, 'Raven endpoints unknown: discovery failed, will retry on next use')
          throw err
        },
      )
    }
    return this.configuration
  }

  /** True when the server advertised RFC 9207 `iss` in authorization responses. */
  async advertisesIss(): Promise<boolean> {
    const configuration = await this.getConfiguration()
    return configuration.serverMetadata().authorization_response_iss_parameter_supported === true
  }

  async authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    const configuration = await this.getConfiguration()
    const { config } = this.options
    const scopes = config.raven.scopes
    const parameters: Record<string, string> = {
      response_type: 'code',
      response_mode: config.raven.responseMode,
      redirect_uri: config.redirectUri,
      scope: scopes.join(' '),
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    }
    if (request.nonce) parameters.nonce = request.nonce
    // OpenID Connect Core §11: offline access requires prompt=consent; any other prompt value makes
    // servers (oidc-provider among them) silently drop offline_access, and with it the refresh token.
    if (scopes.includes('offline_access')) parameters.prompt = 'consent'
    return oidc.buildAuthorizationUrl(configuration, parameters)
  }

  /**
   * Checks the authorization response, then exchanges its code, exactly once. Throws
   * AuthorizationResponseRejected (nothing sent), RavenAuthorizationError (Raven said error=…), or
   * TokenExchangeError (the token endpoint refused, failed or timed out).
   */
  async exchangeCode(params: URLSearchParams, checks: { state: string; codeVerifier: string; nonce: string | undefined }): Promise<ExchangedTokens> {
    const configuration = await this.getConfiguration()
    const metadata = configuration.serverMetadata()
    this.checkIssuer(params, metadata)
    const error = single(params, 'error')
    if (error !== undefined) throw new RavenAuthorizationError(error)
    if (single(params, 'code') === undefined) throw new AuthorizationResponseRejected('missing or repeated code')

    // The exchange URL is built from the configured redirect_uri, never from Host headers.
    const currentUrl = new URL(this.options.config.redirectUri)
    for (const [name, value] of params) currentUrl.searchParams.append(name, value)
    if (this.options.config.raven.endpoints.kind === 'explicit' && !this.options.config.raven.endpoints.issuer) {
      // No issuer configured: the `iss` cannot be compared to anything (see checkIssuer).
      currentUrl.searchParams.delete('iss')
    }
    const started = performance.now()
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: checks.nonce !== undefined,
      })
      this.observe('token', 'ok', started)
      return {
        refreshToken: typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '' ? tokens.refresh_token : undefined,
        scopes: typeof tokens.scope === 'string' ? tokens.scope.split(' ').filter(Boolean) : [],
      }
    } catch (err) {
      this.observe('token', 'error', started)
      throw new TokenExchangeError(describeExchangeFailure(err), { cause: err })
    }
  }

  /** Whether disconnect can revoke at Raven (RFC 7009): only when a revocation endpoint is known. */
  async canRevoke(): Promise<boolean> {
    const configuration = await this.getConfiguration()
    return typeof configuration.serverMetadata().revocation_endpoint === 'string'
  }

  /** Revokes a refresh token. Returns false (and logs) on failure: a failed revocation never blocks a disconnect. */
  async revokeRefreshToken(refreshToken: string): Promise<boolean> {
    const started = performance.now()
    try {
      const configuration = await this.getConfiguration()
      if (!configuration.serverMetadata().revocation_endpoint) return false
      await oidc.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' })
      this.observe('revoke', 'ok', started)
      return true
    } catch (err) {
      this.observe('revoke', 'error', started)
      this.log.warn({ err: { message: describeExchangeFailure(err) } }, 'revocation at Raven failed')
      return false
    }
  }

  // RFC 9207: a mismatched `iss` means the response may come from another server (mix-up attack);
  // reject it before the code is spent. When the server advertises `iss`, it must be present.
  private checkIssuer(params: URLSearchParams, metadata: oidc.ServerMetadata): void {
    const endpoints = this.options.config.raven.endpoints
    if (endpoints.kind === 'explicit' && !endpoints.issuer) return
    const iss = params.getAll('iss')
    if (iss.length > 1) throw new AuthorizationResponseRejected('repeated iss')
    if (iss.length === 1 && iss[0] !== metadata.issuer) throw new AuthorizationResponseRejected('iss mismatch')
    if (iss.length === 0 && metadata.authorization_response_iss_parameter_supported === true) {
      throw new AuthorizationResponseRejected('iss missing')
    }
  }

  private async buildConfiguration(): Promise<oidc.Configuration> {
    const { config } = this.options
    const raven = config.raven
    const clientAuth =
      raven.tokenAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(raven.clientSecret) : oidc.ClientSecretBasic(raven.clientSecret)
    const metadata: Partial<oidc.ClientMetadata> = { token_endpoint_auth_method: raven.tokenAuthMethod }
    let configuration: oidc.Configuration
    const started = performance.now()
    if (raven.endpoints.kind === 'discovery') {
      const issuer = new URL(raven.endpoints.issuer)
      // Plain http only reaches this point for loopback hosts (config/upstream-url.ts).
      const execute = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname) ? [oidc.allowInsecureRequests] : []
      try {
        configuration = await oidc.discovery(issuer, raven.clientId, metadata, clientAuth, {
          execute,
          timeout: this.timeoutSeconds,
        })
        this.observe('discovery', 'ok', started)
      } catch (err) {
        this.observe('discovery', 'error', started)
        throw err
      }
    } else {
      const endpoints = raven.endpoints
      const serverMetadata: oidc.ServerMetadata = {
        issuer: endpoints.issuer ?? new URL(endpoints.authorizationEndpoint).origin,
        authorization_endpoint: endpoints.authorizationEndpoint,
        token_endpoint: endpoints.tokenEndpoint,
        ...(endpoints.revocationEndpoint ? { revocation_endpoint: endpoints.revocationEndpoint } : {}),
      }
      configuration = new oidc.Configuration(serverMetadata, raven.clientId, metadata, clientAuth)
      const anyHttp = [endpoints.authorizationEndpoint, endpoints.tokenEndpoint, endpoints.revocationEndpoint].some(
        (url) => url !== undefined && url.startsWith('http:'),
      )
      if (anyHttp) oidc.allowInsecureRequests(configuration)
    }
    // Applies to every later request (token, revocation): without it the token request has no timeout.
    configuration.timeout = this.timeoutSeconds
    this.log.info({ issuer: configuration.serverMetadata().issuer }, 'Raven endpoints known')
    return configuration
  }

  private observe(operation: string, outcome: string, started: number): void {
    this.options.metrics.upstreamLatency.observe({ upstream: 'raven', operation, outcome }, (performance.now() - started) / 1000)
  }
}

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name)
  return values.length === 1 ? values[0] : undefined
}

/** A short, secret-free description of why the token request failed, for logs and metrics. */
function describeExchangeFailure(err: unknown): string {
  if (err instanceof oidc.ResponseBodyError) return `token endpoint answered ${err.status} ${err.error}`
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    if (err.name === 'TimeoutError' || code === 'OAUTH_TIMEOUT') return 'timeout'
    if (typeof code === 'string') return code
    return err.name
  }
  return 'unknown'
}

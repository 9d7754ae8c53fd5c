import { AsyncLocalStorage } from 'node:async_hooks'

import * as oidc from 'openid-client'

import type { Config } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import { checkAuthorizationResponse, issuerUnknown } from './authorization-response.js'
import { buildRavenConfiguration } from './configuration.js'
import { AuthorizationResponseRejected, describeRavenFailure, TokenExchangeError } from './errors.js'

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
 * The only module that talks to Raven. Holds the openid-client Configuration, built once from
 * discovery or from explicit endpoints. A failed discovery is not cached, so the next launch (or the
 * readiness probe) tries again when Raven was unreachable at start.
 */
/** Per exchange: whether openid-client got as far as sending the token request. */
const exchangeProgress = new AsyncLocalStorage<{ tokenRequestSent: boolean }>()

/**
 * Every request openid-client makes goes through here; inside an exchange it records that the token
 * request left, so a failure before it (openid-client's own checks of the response) is told apart.
 */
const trackingFetch: oidc.CustomFetch = (url, options) => {
  const progress = exchangeProgress.getStore()
  if (progress) progress.tokenRequestSent = true
  return fetch(url, options as RequestInit)
}

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
    checkAuthorizationResponse(params, this.options.config, configuration.serverMetadata())

    // The exchange URL is built from the configured redirect_uri, never from Host headers.
    const currentUrl = new URL(this.options.config.redirectUri)
    for (const [name, value] of params) currentUrl.searchParams.append(name, value)
    // No issuer configured: the `iss` cannot be compared to anything (see authorization-response.ts).
    if (issuerUnknown(this.options.config)) currentUrl.searchParams.delete('iss')
    const started = performance.now()
    const progress = { tokenRequestSent: false }
    try {
      const tokens = await exchangeProgress.run(progress, () =>
        oidc.authorizationCodeGrant(configuration, currentUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: checks.nonce !== undefined,
        }),
      )
      this.observe('token', 'ok', started)
      return {
        refreshToken: typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '' ? tokens.refresh_token : undefined,
        scopes: typeof tokens.scope === 'string' ? tokens.scope.split(' ').filter(Boolean) : [],
      }
    } catch (err) {
      // openid-client refused the authorization response itself: nothing was sent, the code is unspent.
      if (!progress.tokenRequestSent) throw new AuthorizationResponseRejected(`openid-client: ${describeRavenFailure(err)}`)
      this.observe('token', 'error', started)
      throw new TokenExchangeError(describeRavenFailure(err), { cause: err })
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
      this.log.warn({ err: { message: describeRavenFailure(err) } }, 'revocation at Raven failed')
      return false
    }
  }

  private async buildConfiguration(): Promise<oidc.Configuration> {
    const started = performance.now()
    const discovery = this.options.config.raven.endpoints.kind === 'discovery'
    try {
      const configuration = await buildRavenConfiguration(this.options.config, this.timeoutSeconds)
      configuration[oidc.customFetch] = trackingFetch
      if (discovery) this.observe('discovery', 'ok', started)
      this.log.info({ issuer: configuration.serverMetadata().issuer }, 'Raven endpoints known')
      return configuration
    } catch (err) {
      if (discovery) this.observe('discovery', 'error', started)
      throw err
    }
  }

  private observe(operation: string, outcome: string, started: number): void {
    this.options.metrics.upstreamLatency.observe({ upstream: 'raven', operation, outcome }, (performance.now() - started) / 1000)
  }
}

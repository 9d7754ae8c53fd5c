import * as oidc from 'openid-client'

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
 * A short, secret-free description of why a request to Raven's token or revocation endpoint failed,
 * for logs and errors: the endpoint's status and OAuth error, `timeout`, or openid-client's code.
 */
export function describeRavenFailure(err: unknown): string {
  if (err instanceof oidc.ResponseBodyError) return `endpoint answered ${err.status} ${err.error}`
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    if (err.name === 'TimeoutError' || code === 'OAUTH_TIMEOUT') return 'timeout'
    if (typeof code === 'string') return code
    return err.name
  }
  return 'unknown'
}

import { randomBytes } from 'node:crypto'

import * as oidc from 'openid-client'

/** How Raven's token endpoint answered a code that cannot exist. */
export type ClientProbeAnswer =
  | { kind: 'oauth_error'; status: number; error: string }
  /** 401 with a `WWW-Authenticate` challenge and no OAuth error body. */
  | { kind: 'unauthorized'; status: number }
  | { kind: 'tokens_issued' }
  /** No OAuth answer: `reason` when the answer was not OAuth, else the network or timeout `error`. */
  | { kind: 'failed'; reason?: string; error?: unknown }

/**
 * Tells whether the token endpoint accepts this client, without obtaining a token: one
 * authorization_code request, sent exactly as the service sends its real ones (same client
 * authentication method, same redirect_uri, a PKCE verifier), for a made-up code. A server checks the
 * client before the code (RFC 6749 §5.2), so `invalid_grant` means the client id, secret and method
 * are right, while `invalid_client` (or a 401) means one of them is wrong. The code names nothing,
 * so nothing can be issued or revoked by it.
 */
export async function probeClientAuthentication(configuration: oidc.Configuration, redirectUri: string): Promise<ClientProbeAnswer> {
  const state = randomBytes(16).toString('base64url')
  const callback = new URL(redirectUri)
  callback.searchParams.set('code', `doctor-invalid-code-${randomBytes(16).toString('base64url')}`)
  callback.searchParams.set('state', state)
  // RFC 9207: a server that says it sends `iss` makes openid-client require it before any request.
  const metadata = configuration.serverMetadata()
  if (metadata.authorization_response_iss_parameter_supported === true) callback.searchParams.set('iss', metadata.issuer)
  try {
    await oidc.authorizationCodeGrant(configuration, callback, {
      pkceCodeVerifier: randomBytes(32).toString('base64url'),
      expectedState: state,
      idTokenExpected: false,
    })
    return { kind: 'tokens_issued' }
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError) return { kind: 'oauth_error', status: err.status, error: err.error }
    if (err instanceof oidc.WWWAuthenticateChallengeError) {
      const error = err.cause.map((challenge) => challenge.parameters.error).find((value) => typeof value === 'string')
      return error ? { kind: 'oauth_error', status: err.status, error } : { kind: 'unauthorized', status: err.status }
    }
    const code = (err as { code?: unknown }).code
    if (code === 'OAUTH_TIMEOUT') return { kind: 'failed', reason: 'no answer in time' }
    if (code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
      const status = (err as { cause?: { status?: unknown } }).cause?.status
      return { kind: 'failed', reason: `the answer is not an OAuth error${typeof status === 'number' ? ` (status ${status})` : ''}` }
    }
    return { kind: 'failed', error: err }
  }
}

import type * as oidc from 'openid-client'

import type { Config } from '../config/load-config.js'
import { onlyValue } from '../infra/query-params.js'
import { AuthorizationResponseRejected, RavenAuthorizationError } from './errors.js'

/**
 * Parameters of other response types and modes: JARM's `response`, the implicit and hybrid flows'
 * tokens. This client asked for `response_type=code` only, so any of them means a confused or forged
 * response; openid-client would refuse them too, but only inside the exchange.
 */
const UNEXPECTED_PARAMETERS = ['response', 'id_token', 'token', 'access_token']

/**
 * The checks on Raven's authorization response that come before the code is spent, in order: no
 * parameter twice and none of another flow, `iss` (RFC 9207), then a provider `error`, then exactly one
 * `code`. Throws AuthorizationResponseRejected or RavenAuthorizationError; nothing is sent to Raven.
 */
export function checkAuthorizationResponse(params: URLSearchParams, config: Config, metadata: oidc.ServerMetadata): void {
  // RFC 6749 §3.1: parameters MUST NOT be included more than once; two parsers picking different
  // copies (ours, openid-client's) is how parameter pollution works.
  for (const name of new Set(params.keys())) {
    if (params.getAll(name).length > 1) throw new AuthorizationResponseRejected(`repeated ${name.slice(0, 40)}`)
  }
  const unexpected = UNEXPECTED_PARAMETERS.find((name) => params.has(name))
  if (unexpected !== undefined) throw new AuthorizationResponseRejected(`unexpected ${unexpected}`)
  checkIssuer(params, config, metadata)
  const error = onlyValue(params, 'error')
  if (error !== undefined) throw new RavenAuthorizationError(error)
  if (onlyValue(params, 'code') === undefined) throw new AuthorizationResponseRejected('missing or repeated code')
}

/** True when no issuer is configured, so `iss` cannot be compared to anything and is ignored. */
export function issuerUnknown(config: Config): boolean {
  return config.raven.endpoints.kind === 'explicit' && !config.raven.endpoints.issuer
}

// RFC 9207: a mismatched `iss` means the response may come from another server (mix-up attack);
// reject it before the code is spent. When the server advertises `iss`, it must be present.
function checkIssuer(params: URLSearchParams, config: Config, metadata: oidc.ServerMetadata): void {
  if (issuerUnknown(config)) return
  const iss = params.getAll('iss')
  if (iss.length > 1) throw new AuthorizationResponseRejected('repeated iss')
  if (iss.length === 1 && iss[0] !== metadata.issuer) throw new AuthorizationResponseRejected('iss mismatch')
  if (iss.length === 0 && metadata.authorization_response_iss_parameter_supported === true) {
    throw new AuthorizationResponseRejected('iss missing')
  }
}

import * as oidc from 'openid-client'

import type { Config } from '../config/load-config.js'
import { isLoopbackHost } from '../config/upstream-url.js'

/**
 * openid-client's Configuration for Raven: from discovery (RAVEN_ISSUER) or from explicit endpoints.
 * Plain http is allowed only where the config already allowed it: loopback hosts (config/upstream-url.ts).
 * `timeoutSeconds` applies to every later request (token, revocation): openid-client sets no timeout
 * on the token request by itself.
 */
export async function buildRavenConfiguration(config: Config, timeoutSeconds: number): Promise<oidc.Configuration> {
  const raven = config.raven
  const clientAuth =
    raven.tokenAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(raven.clientSecret) : oidc.ClientSecretBasic(raven.clientSecret)
  const metadata: Partial<oidc.ClientMetadata> = { token_endpoint_auth_method: raven.tokenAuthMethod }
  let configuration: oidc.Configuration
  if (raven.endpoints.kind === 'discovery') {
    const issuer = new URL(raven.endpoints.issuer)
    const execute = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname) ? [oidc.allowInsecureRequests] : []
    configuration = await oidc.discovery(issuer, raven.clientId, metadata, clientAuth, { execute, timeout: timeoutSeconds })
  } else {
    const endpoints = raven.endpoints
    // With openid the issuer is checked against the ID token and must be the configured one (config
    // requires it then). Without openid there is no ID token; openid-client still wants a value, and
    // `iss` is then ignored (authorization-response.ts issuerUnknown).
    if (!endpoints.issuer && raven.scopes.includes('openid')) throw new Error('RAVEN_ISSUER is required with openid')
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
  configuration.timeout = timeoutSeconds
  return configuration
}

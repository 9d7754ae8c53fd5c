import { createHash, randomBytes } from 'node:crypto'

import type { Config } from '../config/load-config.js'
import { checkUpstreamUrl } from '../config/upstream-url.js'
import type { Logger } from '../infra/logger.js'
import { createMetrics } from '../infra/metrics.js'
import { RavenClient } from '../raven/client.js'
import { probeClientAuthentication } from '../raven/probe.js'
import { fail, notChecked, pass, warn, type Area, type Outcome, type Verdict } from './check.js'
import { describeNetworkError, jsonOf, request } from './http.js'
import { checkAuthorizationRequest } from './raven-authorization.js'

interface Discovered {
  issuer: string
  authorization_endpoint?: unknown
  token_endpoint?: unknown
}

/**
 * Raven: its endpoints are reachable (over TLS unless loopback), the discovery document names
 * RAVEN_ISSUER, the token endpoint accepts the client, and the authorization endpoint does not refuse
 * the redirect_uri, client or scopes. No token is obtained: the token request carries a made-up code.
 */
export function ravenArea(config: Config, logger: Logger, checkTimeoutMs: number): Area {
  return async (run) => {
    const endpoints = config.raven.endpoints
    const issuer = endpoints.issuer
    // Discovery: where the service finds the endpoints. Explicit endpoints: where it may confirm the issuer.
    const discovered =
      endpoints.kind === 'discovery'
        ? await run.check('raven.endpoints', (signal) => fetchDiscovery(endpoints.issuer, signal, true))
        : await run.check('raven.endpoints', async (signal) => checkExplicitEndpoints([endpoints.authorizationEndpoint, endpoints.tokenEndpoint], signal))
    if (endpoints.kind === 'discovery') {
      run.report('raven.issuer', discovered ? compareIssuer(discovered, endpoints.issuer) : notChecked('no discovery document'))
    } else if (issuer === undefined) {
      run.report('raven.issuer', warn('RAVEN_ISSUER is not set: the ID token’s issuer and RFC 9207 iss are not checked. Set it to Raven’s issuer (https://auth.agsync.com/core, as its discovery document says)'))
    } else {
      await run.check('raven.issuer', async (signal) => {
        const document = await fetchDiscovery(issuer, signal, false)
        if (!document.value) return warn(`no discovery document at ${discoveryUrl(issuer)} to confirm RAVEN_ISSUER (${issuer}): the first ID token will tell`)
        return compareIssuer(document.value, issuer)
      })
    }
    if (endpoints.kind === 'discovery' && !discovered) {
      run.report('raven.client', notChecked('Raven’s endpoints are unknown'))
      run.report('raven.authorization', notChecked('Raven’s endpoints are unknown'))
      return
    }

    const raven = new RavenClient({ config, logger, metrics: createMetrics({ defaultMetrics: false }), timeoutSeconds: checkTimeoutMs / 1000 })
    const configuration = await run.check('raven.client', async () => {
      let built
      try {
        built = await raven.getConfiguration()
      } catch (err) {
        return fail(`the service could not use Raven’s endpoints: ${(err as Error).message}`)
      }
      return { ...(await checkClient(config, built)), value: built }
    })
    // Through run.check even when it cannot run: after a hung raven.client the runner says so instead.
    await run.check('raven.authorization', async (signal) => {
      if (!configuration) return notChecked('Raven’s endpoints are unknown')
      const verifier = randomBytes(32).toString('base64url')
      const url = await raven.authorizationUrl({
        state: randomBytes(16).toString('base64url'),
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
        nonce: config.raven.scopes.includes('openid') ? randomBytes(16).toString('base64url') : undefined,
      })
      return checkAuthorizationRequest(url, config, signal)
    })
  }
}

function discoveryUrl(issuer: string): string {
  // OpenID Connect Discovery §4: the well-known path is appended to the issuer, path and all.
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
}

async function fetchDiscovery(issuer: string, signal: AbortSignal, required: boolean): Promise<Outcome<Discovered>> {
  const url = discoveryUrl(issuer)
  const missing = required ? fail : warn
  let reply
  try {
    reply = await request(url, { signal })
  } catch (err) {
    return missing(`discovery document ${url}: ${describeNetworkError(err)}. Check RAVEN_ISSUER and that Raven is reachable from here`)
  }
  if (reply.status >= 300 && reply.status < 400) {
    return missing(`discovery document ${url} answered a redirect (${reply.status}) to ${reply.headers.get('location') ?? '?'}: RAVEN_ISSUER is probably not Raven’s issuer`)
  }
  const document = jsonOf(reply) as Partial<Discovered> | undefined
  if (reply.status !== 200 || typeof document?.issuer !== 'string') {
    return missing(`discovery document ${url} answered ${reply.status} without an issuer: RAVEN_ISSUER is not a discovery issuer; use the explicit RAVEN_*_ENDPOINT variables instead`)
  }
  const unsafe = (['authorization_endpoint', 'token_endpoint'] as const).filter((key) => typeof checkUpstreamUrl(String(document[key])) === 'string')
  if (unsafe.length > 0) return fail(`discovery document ${url}: ${unsafe.join(' and ')} missing or not https (plain http is for loopback only): the service would refuse them`)
  return {
    ...pass(`discovery document ${url}: authorization ${String(document.authorization_endpoint)}, token ${String(document.token_endpoint)}`),
    value: document as Discovered,
  }
}

function compareIssuer(document: Discovered, configured: string): Verdict {
  const same = (() => {
    try {
      return new URL(document.issuer).href === new URL(configured).href
    } catch {
      return false
    }
  })()
  if (!same) {
    return fail(`the discovery document says the issuer is ${document.issuer}, but RAVEN_ISSUER is ${configured}: set RAVEN_ISSUER=${document.issuer} (an issuer is not always an origin)`)
  }
  return pass(`the discovery document names RAVEN_ISSUER (${configured}) as its issuer`)
}

async function checkExplicitEndpoints(urls: string[], signal: AbortSignal): Promise<Verdict> {
  const answers: string[] = []
  for (const url of urls) {
    try {
      const reply = await request(url, { signal })
      answers.push(`${url} answers (${reply.status})`)
    } catch (err) {
      return fail(`${url}: ${describeNetworkError(err)}. Check RAVEN_AUTHORIZATION_ENDPOINT / RAVEN_TOKEN_ENDPOINT and the network`)
    }
  }
  return pass(answers.join('; '))
}

async function checkClient(config: Config, configuration: Awaited<ReturnType<RavenClient['getConfiguration']>>): Promise<Verdict> {
  const method = config.raven.tokenAuthMethod
  const other = method === 'client_secret_basic' ? 'client_secret_post' : 'client_secret_basic'
  const answer = await probeClientAuthentication(configuration, config.redirectUri)
  switch (answer.kind) {
    case 'oauth_error':
      if (answer.error === 'invalid_grant') {
        return pass(`the token endpoint answered invalid_grant to a made-up code: RAVEN_CLIENT_ID, RAVEN_CLIENT_SECRET and RAVEN_TOKEN_AUTH_METHOD (${method}) are accepted`)
      }
      if (answer.error === 'invalid_client') {
        return fail(
          `Raven refused the client (invalid_client, status ${answer.status}): RAVEN_CLIENT_SECRET is wrong (a stray space or newline?), or RAVEN_CLIENT_ID, or RAVEN_TOKEN_AUTH_METHOD (${method}; try ${other})`,
        )
      }
      if (answer.error === 'unauthorized_client') {
        return fail('Raven knows the client but does not allow it the authorization_code grant (unauthorized_client): ask Raven’s API support')
      }
      return warn(`the token endpoint answered ${answer.error} (status ${answer.status}) instead of invalid_grant: the client could not be confirmed`)
    case 'unauthorized':
      return fail(`Raven refused the client (status ${answer.status}): check RAVEN_CLIENT_ID, RAVEN_CLIENT_SECRET and RAVEN_TOKEN_AUTH_METHOD (${method}; try ${other})`)
    case 'tokens_issued':
      return fail('the token endpoint issued tokens for a made-up code: this is not a server to trust with growers')
    case 'failed':
      return fail(`the token endpoint ${configuration.serverMetadata().token_endpoint ?? ''}: ${answer.reason ?? describeNetworkError(answer.error)}`)
  }
}

import type { Config } from '../config/load-config.js'
import { fail, pass, warn, type Verdict } from './check.js'
import { describeNetworkError, request, type Reply } from './http.js'

/** Redirects followed inside Raven before its sign-in page shows (IdentityServer: authorize → login). */
const MAX_HOPS = 5

/** OAuth error codes a refusing authorization server shows on its error page (RFC 6749 §4.1.2.1, oidc-provider, IdentityServer). */
const PAGE_ERRORS = ['invalid_redirect_uri', 'redirect_uri_mismatch', 'unauthorized_client', 'invalid_client', 'invalid_scope', 'invalid_request', 'unsupported_response_type']

/**
 * Sends the authorization request the service would send (a fresh state, PKCE challenge and nonce)
 * and reads Raven's first answers like a browser that is not signed in: a sign-in page, or a
 * redirect towards one, means the redirect_uri, client and scopes were accepted; an error page, or a
 * redirect back to the callback with `error=`, says which one was refused. Nobody signs in, so no
 * code or token is ever issued.
 */
export async function checkAuthorizationRequest(url: URL, config: Config, signal: AbortSignal): Promise<Verdict> {
  const cookies = new Map<string, string>()
  let current = url
  for (let hop = 0; hop <= MAX_HOPS; hop += 1) {
    let reply: Reply
    try {
      const headers: Record<string, string> = { accept: 'text/html' }
      if (cookies.size > 0) headers.cookie = cookieHeader(cookies)
      reply = await request(current.href, { signal, headers })
    } catch (err) {
      return fail(`authorization endpoint ${url.origin}${url.pathname}: ${describeNetworkError(err)}`)
    }
    remember(cookies, reply)
    const location = reply.headers.get('location')
    if (reply.status >= 300 && reply.status < 400 && location) {
      const next = new URL(location, current)
      if (isCallback(next, config.redirectUri)) return judgeCallback(next, config)
      // Raven hands the browser to its sign-in page, maybe on another host (a federated login).
      if (next.origin !== url.origin) return pass(`Raven accepted the request and sends the grower to sign in at ${next.origin}`)
      current = next
      continue
    }
    return judgePage(reply, config)
  }
  return warn(`Raven redirected more than ${MAX_HOPS} times without showing a page: open the authorization URL in a browser to see why`)
}

function isCallback(target: URL, redirectUri: string): boolean {
  return `${target.origin}${target.pathname}` === redirectUri
}

function judgeCallback(target: URL, config: Config): Verdict {
  const error = target.searchParams.get('error')
  if (error === null) return pass('Raven sent the browser straight back to the callback (an existing session): the request was accepted')
  const description = target.searchParams.get('error_description')
  const said = `${error}${description ? ` (${description})` : ''}`
  if (error === 'invalid_scope') return fail(`Raven refused RAVEN_SCOPES (${config.raven.scopes.join(' ')}): ${said}. Request only scopes this client is allowed (ask Raven’s API support)`)
  if (error === 'unauthorized_client') return fail(`Raven does not allow this client the code flow: ${said}. Ask Raven’s API support`)
  return fail(`Raven answered the authorization request with error=${said} back to the callback`)
}

function judgePage(reply: Reply, config: Config): Verdict {
  const signInPage = /type=["']?password/i.test(reply.text)
  if (reply.status < 400 && signInPage) return pass('Raven answered with its sign-in page: redirect_uri, client and scopes are accepted')
  const error = PAGE_ERRORS.find((code) => reply.text.includes(code))
  if (reply.status >= 400 || error !== undefined) {
    const what = error ?? `status ${reply.status}`
    if (error === 'invalid_redirect_uri' || error === 'redirect_uri_mismatch' || /redirect_uri/i.test(reply.text)) {
      return fail(`Raven refused the redirect_uri ${config.redirectUri} (${what}): ask Raven’s API support to register it for client ${config.raven.clientId} (it must match exactly), or fix PUBLIC_BASE_URL`)
    }
    if (error === 'invalid_client') return fail(`Raven does not know RAVEN_CLIENT_ID ${config.raven.clientId} (${what})`)
    if (error === 'invalid_scope') return fail(`Raven refused RAVEN_SCOPES (${config.raven.scopes.join(' ')}): ${what}`)
    return fail(`Raven refused the authorization request (${what}): open it in a browser to read Raven’s page`)
  }
  return warn(`Raven answered ${reply.status} with a page that is neither a sign-in page nor a known error: open the authorization URL in a browser to look`)
}

function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
}

/** A minimal cookie jar for Raven's own hops (its interaction cookies); never sent anywhere else. */
function remember(cookies: Map<string, string>, reply: Reply): void {
  for (const line of reply.headers.getSetCookie()) {
    const [pair = ''] = line.split(';', 1)
    const at = pair.indexOf('=')
    if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim())
  }
}

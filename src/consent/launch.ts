import { createHash, randomBytes } from 'node:crypto'

import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { carriesCookie, startFlow } from '../browser-session/flows.js'
import type { LaunchSessions } from '../browser-session/launch-session.js'
import { sessionCookieName } from '../browser-session/session-middleware.js'
import type { Config } from '../config/load-config.js'
import type { ConnectLinkStore } from '../connect-links/token-store.js'
import { renderUnavailablePage } from '../http/html-page.js'
import { pageContextOf } from '../http/page-context.js'
import { problem } from '../http/problem.js'
import { BROWSER_LIMITER, RATE_LIMIT_WINDOW_MS, clientIpKey, counterKey, retryAfterSeconds } from '../http/rate-limit.js'
import type { Locale } from '../i18n/locales.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import { onlyValue, rawQueryOf } from '../infra/query-params.js'
import { isRedisUnavailable } from '../infra/redis.js'
import type { RavenClient } from '../raven/client.js'
import { renderLaunchErrorPage, renderMisconfiguredPage, renderSpentLinkPage } from './result-pages.js'

export interface LaunchDeps {
  config: Config
  connectLinks: ConnectLinkStore
  raven: RavenClient
  logger: Logger
  metrics: Metrics
  /** Fresh sessions the launch's Redis script writes (browser-session/launch-session.ts). */
  launchSessions: LaunchSessions
  /** The browser session middleware: loaded only for a browser that already has a session. */
  session: RequestHandler
}

/**
 * GET /connect/raven?session=<token>: served over https as PUBLIC_BASE_URL says (TRUST_PROXY), Raven's
 * endpoints known (raven.getConfiguration), both before the link is spent → one Redis round trip
 * (connectLinks.launch: the client's rate-limit count, the link's GETDEL, the new session holding the
 * flow) → 303 to Raven. The browser leaves only after the flow is in Redis.
 *
 * A browser that already carries our cookie may have other tabs' flows and a connected user to keep:
 * its session is loaded, the script only counts and takes the link, and startFlow moves the session
 * to a new id and saves it (no fixation), at the cost of three more commands.
 */
export function launchHandler(deps: LaunchDeps) {
  const log = deps.logger.child({ module: 'launch' })
  const sessionCookie = sessionCookieName(deps.config)
  const perMinute = deps.config.rateLimitPerMinute
  const withNonce = deps.config.raven.scopes.includes('openid')
  /**
   * The link is spent (GETDEL) and the flow could not be saved: a "try again" page would send the
   * grower back to a dead link. Say it is spent, in the link's language when it is known.
   */
  const spentLink = (req: Request, res: Response, err: unknown, link?: { id: string; locale?: Locale }): void => {
    log.error({ err, reqId: req.id, connectSessionId: link?.id }, 'launch failed after the connect link was spent')
    res.status(503).type('html').send(renderSpentLinkPage(pageContextOf(req, deps.config.pages, link?.locale)))
  }
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // No flow yet: the pages here follow the browser's languages (Accept-Language), else DEFAULT_LOCALE.
    const page = pageContextOf(req, deps.config.pages)
    const token = onlyValue(rawQueryOf(req.originalUrl), 'session')
    if (token === undefined) {
      res.status(400).type('html').send(renderLaunchErrorPage('missing_link', page))
      return
    }
    // A TLS-terminating load balancer without TRUST_PROXY: the request looks like plain http, so the
    // Secure session cookie would not be set and the flow would end as `expired`. Refuse before the
    // link is spent, and tell the operator what to set.
    if (deps.config.secureCookies && !req.secure) {
      log.error(
        { reqId: req.id },
        'launch refused: request arrived over plain http while PUBLIC_BASE_URL is https; set TRUST_PROXY to the load balancer (hop count or addresses) so X-Forwarded-Proto is trusted',
      )
      res.status(500).type('html').send(renderMisconfiguredPage(page))
      return
    }
    // Resolve Raven before spending the token: a Raven outage must not burn the grower's link.
    try {
      await deps.raven.getConfiguration()
    } catch {
      res.status(503).setHeader('Retry-After', '30').type('html').send(renderUnavailablePage(page))
      return
    }

    const [state, codeVerifier, nonce] = random256s(withNonce ? 3 : 2)
    if (state === undefined || codeVerifier === undefined) throw new Error('launch: random values missing')
    const flow = { createdAt: Date.now(), codeVerifier, ...(nonce ? { nonce } : {}) }
    // express-session's own path for a returning browser. (A Secure cookie on a request that did not
    // arrive over https never gets here: the check above refused it.)
    const ownPath = carriesCookie(req, sessionCookie)
    if (ownPath) await runMiddleware(deps.session, req, res)
    const fresh = ownPath ? undefined : deps.launchSessions.create(state, flow)
    // The same counter as the browser routes' limiter (clientIpKey: IPv6 clients by their /56).
    const count = perMinute > 0 ? { key: counterKey(BROWSER_LIMITER, clientIpKey(req)), limit: perMinute, windowMs: RATE_LIMIT_WINDOW_MS } : undefined
    let taken: Awaited<ReturnType<LaunchDeps['connectLinks']['launch']>>
    try {
      taken = await deps.connectLinks.launch(token, count, fresh)
    } catch (err) {
      // Redis unreachable: the script never ran, "try again" (503) is true. Redis answered with an error:
      // usually it refused the whole script (a declared key it may not write, out of memory), which
      // leaves the link as it was; a script that failed half-way is not rolled back. Ask, and tell the
      // grower what is true.
      if (isRedisUnavailable(err) || (await deps.connectLinks.isUnspent(token).catch(() => false))) {
        log.error({ err, reqId: req.id }, 'launch failed before the connect link was spent')
        res.status(503).setHeader('Retry-After', '30').type('html').send(renderUnavailablePage(page))
        return
      }
      return spentLink(req, res, err)
    }
    if (taken.kind === 'limited') return next(problem.tooManyRequests(retryAfterSeconds(taken.retryAfterMs)))
    if (taken.kind === 'gone') {
      res.status(410).type('html').send(renderLaunchErrorPage('invalid_link', page))
      log.info({ reqId: req.id }, 'launch refused: unknown, used or expired connect token')
      return
    }

    const { link } = taken
    let authorizationUrl: URL
    try {
      authorizationUrl = await deps.raven.authorizationUrl({ state, nonce, codeChallenge: s256Challenge(codeVerifier) })
      if (!fresh) {
        const { id, leafUserId, mode, returnTo, locale } = link
        await startFlow(req, sessionCookie, state, { ...flow, link: { id, leafUserId, mode, ...(returnTo ? { returnTo } : {}), ...(locale ? { locale } : {}) } })
      }
    } catch (err) {
      return spentLink(req, res, err, link)
    }
    if (fresh) res.append('Set-Cookie', fresh.setCookie)
    // Not res.redirect: it negotiates a text/HTML body per request (Accept parsing) that no browser shows.
    res.status(303).location(authorizationUrl.href).end()
    // After the answer is on its way: counting and logging are not the grower's wait.
    deps.metrics.flowsStarted.inc({ mode: link.mode })
    log.info({ reqId: req.id, connectSessionId: link.id, leafUserId: link.leafUserId }, 'flow started')
  }
}

/** Runs a connect-style middleware inside a handler; its error (a store failure) rejects. */
function runMiddleware(middleware: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void middleware(req, res, (err?: unknown) => (err ? reject(err) : resolve()))
  })
}

/**
 * `count` values of 32 random bytes each, base64url: what openid-client's randomState,
 * randomPKCECodeVerifier and randomNonce return, from one call to the CSPRNG instead of one per value
 * (and without WebCrypto's getRandomValues wrapper, which costs several times more per call).
 */
function random256s(count: number): string[] {
  const bytes = randomBytes(32 * count)
  return Array.from({ length: count }, (_, index) => bytes.subarray(index * 32, index * 32 + 32).toString('base64url'))
}

/**
 * RFC 7636 §4.2 S256: BASE64URL(SHA256(verifier)). Synchronous on purpose: hashing 43 bytes takes
 * about a microsecond, while crypto.subtle.digest (openid-client's calculatePKCECodeChallenge) goes
 * through the libuv thread pool and a promise per launch.
 */
export function s256Challenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url')
}

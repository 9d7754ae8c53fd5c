import { createHash, randomBytes } from 'node:crypto'

import type { Request, Response } from 'express'

import { startFlow } from '../browser-session/flows.js'
import { sessionCookieName } from '../browser-session/session-middleware.js'
import type { Config } from '../config/load-config.js'
import type { ConnectLinkStore } from '../connect-links/token-store.js'
import { renderUnavailablePage } from '../http/html-page.js'
import { pageContextOf } from '../http/page-context.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import { onlyValue, rawQueryOf } from '../infra/query-params.js'
import type { RavenClient } from '../raven/client.js'
import { renderLaunchErrorPage, renderSpentLinkPage } from './result-pages.js'

export interface LaunchDeps {
  config: Config
  connectLinks: ConnectLinkStore
  raven: RavenClient
  logger: Logger
  metrics: Metrics
}

/**
 * GET /connect/raven?session=<token>: Raven's endpoints known (raven.getConfiguration, before the link
 * is spent) → connectLinks.consume (GETDEL) → startFlow (fresh session id, saved) → 303 to Raven. The
 * browser leaves only after the flow is in Redis.
 */
export function launchHandler(deps: LaunchDeps) {
  const log = deps.logger.child({ module: 'launch' })
  const sessionCookie = sessionCookieName(deps.config)
  return async (req: Request, res: Response): Promise<void> => {
    // No flow yet: the pages here follow the browser's languages (Accept-Language), else DEFAULT_LOCALE.
    const page = pageContextOf(req, deps.config.pages)
    const token = onlyValue(rawQueryOf(req.originalUrl), 'session')
    if (token === undefined) {
      res.status(400).type('html').send(renderLaunchErrorPage('missing_link', page))
      return
    }
    // Resolve Raven before spending the token: a Raven outage must not burn the grower's link.
    try {
      await deps.raven.getConfiguration()
    } catch {
      res.status(503).setHeader('Retry-After', '30').type('html').send(renderUnavailablePage(page))
      return
    }
    const link = await deps.connectLinks.consume(token)
    if (!link) {
      log.info({ reqId: req.id }, 'launch refused: unknown, used or expired connect token')
      res.status(410).type('html').send(renderLaunchErrorPage('invalid_link', page))
      return
    }

    const state = random256()
    const codeVerifier = random256()
    const nonce = deps.config.raven.scopes.includes('openid') ? random256() : undefined
    let authorizationUrl: URL
    try {
      authorizationUrl = await deps.raven.authorizationUrl({ state, nonce, codeChallenge: s256Challenge(codeVerifier) })
      await startFlow(req, sessionCookie, state, {
        createdAt: Date.now(),
        codeVerifier,
        ...(nonce ? { nonce } : {}),
        ...(link.returnTo ? { returnTo: link.returnTo } : {}),
        mode: link.mode,
        ...(link.locale ? { locale: link.locale } : {}),
        leafUserId: link.leafUserId,
        connectSessionId: link.id,
      })
    } catch (err) {
      // The link is spent (GETDEL) and the session could not be saved (Redis failed or refused): a
      // "try again" page would send the grower back to a dead link. Say it is spent instead.
      log.error({ err, reqId: req.id, connectSessionId: link.id }, 'launch failed after the connect link was spent')
      res.status(503).type('html').send(renderSpentLinkPage(pageContextOf(req, deps.config.pages, link.locale)))
      return
    }

    deps.metrics.flowsStarted.inc({ mode: link.mode })
    log.info({ reqId: req.id, connectSessionId: link.id, leafUserId: link.leafUserId }, 'flow started')
    res.redirect(303, authorizationUrl.href)
  }
}

/**
 * 32 random bytes, base64url: what openid-client's randomState/randomPKCECodeVerifier/randomNonce
 * return, without WebCrypto's getRandomValues wrapper, which costs several times more per call.
 */
function random256(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * RFC 7636 §4.2 S256: BASE64URL(SHA256(verifier)). Synchronous on purpose: hashing 43 bytes takes
 * about a microsecond, while crypto.subtle.digest (openid-client's calculatePKCECodeChallenge) goes
 * through the libuv thread pool and a promise per launch.
 */
export function s256Challenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url')
}

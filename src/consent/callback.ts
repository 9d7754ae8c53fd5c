import type { Request, Response } from 'express'

import { rememberConnectedUser } from '../browser-session/connected-user.js'
import { takeFlow } from '../browser-session/flows.js'
import type { FlowRecord } from '../browser-session/session-data.js'
import type { Config } from '../config/load-config.js'
import type { CredentialDelivery } from '../delivery/credential-delivery.js'
import { pageContextOf } from '../http/page-context.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import { onlyValue, rawQueryOf } from '../infra/query-params.js'
import type { Redis } from '../infra/redis.js'
import type { RavenClient } from '../raven/client.js'
import type { Webhooks } from '../webhooks/events.js'
import { FlowFailure, classifyFailure, outcomeStatus, returnToWithOutcome, tellsHost, type ConnectOutcome } from './outcome.js'
import { renderPopupPage, renderResultPage } from './result-pages.js'

export interface CallbackDeps {
  config: Config
  raven: RavenClient
  delivery: CredentialDelivery
  /** The host backend hears of a flow that ended in error, unless a disconnect cancelled it (connection.created comes from delivery). */
  webhooks: Webhooks
  redis: Redis
  logger: Logger
  metrics: Metrics
}

const MAX_STATE_LENGTH = 512

/**
 * GET (or form_post POST) /connect/raven/callback, in the contract's order:
 * 1. takeFlow: the flow for `state` leaves this browser's session (once only) or the result is
 *    `expired` / `invalid_request`;
 * 2. raven.exchangeCode: rejects a bad `iss`, a provider `error` and a missing code before the one token
 *    request;
 * 3. a refresh token is required (`no_refresh_token`);
 * 4. delivery.deliver parks it and stores it at Leaf (`connected`, or `pending` while Leaf cannot take it);
 * 5. finish: redirect to returnTo, the popup end page, or the result page.
 */
export function callbackHandler(deps: CallbackDeps) {
  const log = deps.logger.child({ module: 'callback' })
  return async (req: Request, res: Response): Promise<void> => {
    const params = authorizationResponse(req)
    const state = onlyValue(params, 'state')
    if (!state || state.length > MAX_STATE_LENGTH) {
      return finish(req, res, undefined, { raven: 'error', reason: 'invalid_request' })
    }

    const taken = await takeFlow(req.session, state, deps.redis)
    if (taken.kind !== 'taken') {
      // no_session means: the cookie was blocked or lost, the session's TTL passed, or Redis lost it.
      const reason = taken.kind === 'no_session' || taken.kind === 'expired' ? 'expired' : 'invalid_request'
      return finish(req, res, undefined, { raven: 'error', reason })
    }
    const flow = taken.flow

    let outcome: ConnectOutcome
    try {
      const tokens = await deps.raven.exchangeCode(params, { state, codeVerifier: flow.codeVerifier, nonce: flow.nonce })
      if (!tokens.refreshToken) throw new FlowFailure('no_refresh_token')
      const delivered = await deps.delivery.deliver({
        leafUserId: flow.leafUserId,
        refreshToken: tokens.refreshToken,
        connectSessionId: flow.connectSessionId,
      })
      outcome = { raven: delivered }
      await rememberConnectedUser(req.session, flow.leafUserId).catch((err: unknown) =>
        log.warn({ err, reqId: req.id }, 'could not keep the Leaf user in the session'),
      )
    } catch (err) {
      const reason = classifyFailure(err)
      outcome = { raven: 'error', reason }
      if (tellsHost(err)) {
        const level = reason === 'server_error' ? 'error' : 'warn'
        log[level]({ err, reqId: req.id, connectSessionId: flow.connectSessionId, reason }, 'flow step failed')
        await deps.webhooks.emit('connection.failed', flow.leafUserId, { connectSessionId: flow.connectSessionId, reason })
      } else {
        log.info({ reqId: req.id, connectSessionId: flow.connectSessionId, reason }, 'flow ended: a disconnect cancelled its delivery')
      }
    }
    finish(req, res, flow, outcome)
  }

  function finish(req: Request, res: Response, flow: FlowRecord | undefined, outcome: ConnectOutcome): void {
    const reason = outcome.raven === 'error' ? outcome.reason : undefined
    deps.metrics.flowResults.inc({ result: outcome.raven, reason: reason ?? '' })
    log.info(
      { reqId: req.id, connectSessionId: flow?.connectSessionId, leafUserId: flow?.leafUserId, result: outcome.raven, reason },
      'flow finished',
    )
    // A page of a known flow speaks the flow's language; without one, the browser's.
    const page = pageContextOf(req, deps.config.pages, flow?.locale)
    if (flow?.mode === 'popup') {
      const targetOrigin = flow.returnTo ? new URL(flow.returnTo).origin : undefined
      res.status(outcomeStatus(outcome)).type('html').send(renderPopupPage(outcome, targetOrigin, page))
      return
    }
    if (flow?.returnTo) {
      res.redirect(303, returnToWithOutcome(flow.returnTo, outcome))
      return
    }
    res.status(outcomeStatus(outcome)).type('html').send(renderResultPage(outcome, page))
  }
}

/** The authorization response: the raw query for GET, the form body for form_post. */
function authorizationResponse(req: Request): URLSearchParams {
  if (req.method === 'POST') return new URLSearchParams(typeof req.body === 'string' ? req.body : '')
  return rawQueryOf(req.originalUrl)
}

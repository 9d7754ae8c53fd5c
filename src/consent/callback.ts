import type { Request, Response } from 'express'

import type { Config } from '../config/load-config.js'
import type { CredentialDelivery } from '../delivery/credential-delivery.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { RavenClient } from '../raven/client.js'
import type { Redis } from '../infra/redis.js'
import type { Webhooks } from '../webhooks/events.js'
import { CONNECTED_TTL_MS } from '../browser-session/session-middleware.js'
import { saveSession, takeFlow, type FlowRecord } from '../browser-session/flows.js'
import { FlowFailure, classifyFailure, outcomeStatus, returnToWithOutcome, type ConnectOutcome } from './outcome.js'
import { renderPopupPage, renderResultPage } from './result-pages.js'

export interface CallbackDeps {
  config: Config
  raven: RavenClient
  delivery: CredentialDelivery
  /** The host backend hears of a flow that ended in error (connection.created comes from delivery). */
  webhooks: Webhooks
  redis: Redis
  logger: Logger
  metrics: Metrics
}

const MAX_STATE_LENGTH = 512

/**
 * GET (or form_post POST) /connect/raven/callback. Reads as the contract does:
 * takeFlowState → exchangeCode (which first rejects provider errors and a bad `iss`) →
 * requireRefreshToken → storeAtLeaf → finish.
 */
export function callbackHandler(deps: CallbackDeps) {
  const log = deps.logger.child({ module: 'callback' })
  return async (req: Request, res: Response): Promise<void> => {
    const params = callbackParams(req)
    const states = params.getAll('state')
    const state = states.length === 1 ? states[0] : undefined
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
      req.session.connected = { leafUserId: flow.leafUserId, until: Date.now() + CONNECTED_TTL_MS }
      req.session.cookie.maxAge = CONNECTED_TTL_MS
      await saveSession(req.session).catch((err: unknown) => log.warn({ err, reqId: req.id }, 'could not keep the Leaf user in the session'))
    } catch (err) {
      const reason = classifyFailure(err)
      outcome = { raven: 'error', reason }
      const level = reason === 'server_error' ? 'error' : 'warn'
      log[level]({ err, reqId: req.id, connectSessionId: flow.connectSessionId, reason }, 'flow step failed')
      await deps.webhooks.emit('connection.failed', flow.leafUserId, { connectSessionId: flow.connectSessionId, reason })
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
    if (flow?.mode === 'popup') {
      const targetOrigin = flow.returnTo ? new URL(flow.returnTo).origin : undefined
      res.status(outcomeStatus(outcome)).type('html').send(renderPopupPage(outcome, targetOrigin))
      return
    }
    if (flow?.returnTo) {
      res.redirect(303, returnToWithOutcome(flow.returnTo, outcome))
      return
    }
    res.status(outcomeStatus(outcome)).type('html').send(renderResultPage(outcome))
  }
}

/** The authorization response: the raw query for GET, the form body for form_post. */
function callbackParams(req: Request): URLSearchParams {
  if (req.method === 'POST') return new URLSearchParams(typeof req.body === 'string' ? req.body : '')
  const index = req.originalUrl.indexOf('?')
  return new URLSearchParams(index === -1 ? '' : req.originalUrl.slice(index + 1))
}

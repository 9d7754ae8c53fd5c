import express, { type RequestHandler, type Router } from 'express'

import { browserErrorHandler, callbackErrorReason, isCallbackRoute } from '../http/error-handlers.js'
import { renderErrorPage } from '../http/html-page.js'
import { pageContextOf } from '../http/page-context.js'
import { problem } from '../http/problem.js'
import { flowPageHeaders } from '../http/security-headers.js'
import { callbackHandler, type CallbackDeps } from './callback.js'
import { launchHandler, type LaunchDeps } from './launch.js'

export interface ConsentRouteDeps extends LaunchDeps, CallbackDeps {
  /** The per-IP limiter of the browser routes, shared with /api. */
  browserLimit: RequestHandler
}

/** /connect/raven (launch) and /connect/raven/callback: the grower's consent flow, mounted at /connect. */
export function consentRoutes(deps: ConsentRouteDeps): Router {
  const flow = express.Router()
  flow.use(flowPageHeaders())
  // Express answers HEAD with the GET handler: a link checker would burn the one-time link at the
  // launch, or take the flow and spend the code at the callback. Only a GET starts or ends a flow.
  flow.head('/raven', deps.browserLimit, (_req, _res, next) => next(problem.methodNotAllowed('GET')))
  flow.head('/raven/callback', deps.browserLimit, (_req, _res, next) => next(problem.methodNotAllowed('GET, POST')))
  // The launch counts the client and writes (or, for a returning browser, loads) its session itself.
  flow.get('/raven', launchHandler(deps))
  flow.use(deps.browserLimit, deps.session)
  const callback = callbackHandler(deps)
  flow.get('/raven/callback', callback)
  flow.post('/raven/callback', express.text({ type: 'application/x-www-form-urlencoded', limit: '16kb' }), callback)
  flow.all('/raven', (_req, _res, next) => next(problem.methodNotAllowed('GET')))
  flow.all('/raven/callback', (_req, _res, next) => next(problem.methodNotAllowed('GET, POST')))
  flow.use((req, res) => {
    const reason = isCallbackRoute(req) ? callbackErrorReason(404) : undefined
    res.status(404).type('html').send(renderErrorPage(404, reason, pageContextOf(req, deps.config.pages)))
  })
  flow.use(browserErrorHandler(deps.logger, deps.config.pages))
  return flow
}

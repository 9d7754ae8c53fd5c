import type { ErrorRequestHandler, Request } from 'express'

import type { PageSettings } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import { isRedisUnavailable } from '../infra/redis.js'
import { isLeafError } from '../leaf/errors.js'
import { renderErrorPage, renderUnavailablePage } from './html-page.js'
import { leafProblem } from './leaf-problem.js'
import { NEUTRAL_PAGE_SETTINGS, pageContextOf } from './page-context.js'
import { ProblemError, problem, sendProblem } from './problem.js'

/** The grower's browser navigates to these: errors there are pages, everywhere else problem+json. */
export function isBrowserRoute(req: Request): boolean {
  // Express routes match case-insensitively, so /CONNECT/raven is a browser route too.
  const path = req.path.toLowerCase()
  return path === '/connect' || path.startsWith('/connect/')
}

/**
 * Raven sends the grower back here: every answer of the callback is a flow result, also an error
 * raised before the handler ran (too large, wrong method, rate limited, a crash).
 */
export function isCallbackRoute(req: Request): boolean {
  // baseUrl + path: inside the /connect router req.path is relative to it.
  const path = (req.baseUrl + req.path).toLowerCase()
  return path === '/connect/raven/callback' || path.startsWith('/connect/raven/callback/')
}

/** The flow result an error page on the callback carries: the request was wrong, or we failed. */
export function callbackErrorReason(status: number): 'invalid_request' | 'server_error' {
  return status >= 500 ? 'server_error' : 'invalid_request'
}

/** Browser routes answer errors with a readable page, never JSON, a stack trace or Express's page. */
export function browserErrorHandler(logger: Logger, pages: PageSettings = NEUTRAL_PAGE_SETTINGS): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err)
    const answer = toProblem(err)
    if (answer.status >= 500 && answer.status !== 503) logger.error({ err, reqId: req.id }, 'browser request failed')
    const callback = isCallbackRoute(req)
    // A 429 is problem+json for a client that does not ask for HTML first (scripts, curl, fetch); a
    // browser navigating gets the page. Both carry Retry-After. The callback is always a result page.
    if (answer.status === 429 && !callback && req.accepts(['application/problem+json', 'html']) !== 'html') return sendProblem(res, answer)
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
    const context = pageContextOf(req, pages)
    const page =
      answer.status === 503
        ? renderUnavailablePage(context)
        : renderErrorPage(answer.status, callback ? callbackErrorReason(answer.status) : undefined, context)
    res.status(answer.status).setHeader('Cache-Control', 'no-store').type('html').send(page)
  }
}

/**
 * The last handler of the app: errors raised before any router (request limits, malformed URLs) are
 * rendered for the kind of route the request was aimed at.
 */
export function finalErrorHandler(logger: Logger, pages: PageSettings = NEUTRAL_PAGE_SETTINGS): ErrorRequestHandler {
  const browser = browserErrorHandler(logger, pages)
  const json = problemErrorHandler(logger)
  return (err, req, res, next) => (isBrowserRoute(req) ? browser(err, req, res, next) : json(err, req, res, next))
}

/**
 * What any error a route raised means to the caller, in one place: problems as they are, Leaf failures
 * by leaf/errors.ts's table, a down Redis as 503, body-parser's own errors (too large, bad JSON, bad
 * charset) as their 4xx; anything else is a generic 500, with the original kept for the log only.
 */
export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err
  if (isLeafError(err)) return leafProblem(err)
  if (isRedisUnavailable(err)) return problem.serviceUnavailable('A backing store is unavailable; try again shortly.')
  const type = (err as { type?: unknown })?.type
  const status = (err as { status?: unknown })?.status
  if (type === 'entity.too.large') return problem.payloadTooLarge()
  if (type === 'entity.parse.failed') return problem.invalidJson()
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return problem.unsupportedMediaType()
  if (type === 'request.aborted') return new ProblemError(400, 'request_aborted', 'Bad request', 'The request was aborted.')
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ProblemError(status, 'bad_request', 'Bad request', 'The request could not be processed.')
  }
  return problem.serverError()
}

export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err)
    const answer = toProblem(err)
    if (answer.status === 503) logger.warn({ err: { message: (err as Error)?.message }, reqId: req.id }, 'backing store unavailable')
    else if (answer.status >= 500) logger.error({ err, reqId: req.id }, 'request failed')
    else if (!(err instanceof ProblemError) && !isLeafError(err)) logger.warn({ err: { message: (err as Error)?.message }, reqId: req.id }, 'bad request')
    sendProblem(res, answer)
  }
}

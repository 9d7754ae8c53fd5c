import type { ErrorRequestHandler, Request } from 'express'

import { renderErrorPage, renderUnavailablePage } from './html-page.js'
import type { Logger } from '../infra/logger.js'
import { problemErrorHandler, sendProblem, toProblem } from './problem.js'

/** The grower's browser navigates to these: errors there are pages, everywhere else problem+json. */
export function isBrowserRoute(req: Request): boolean {
  // Express routes match case-insensitively, so /CONNECT/raven is a browser route too.
  const path = req.path.toLowerCase()
  return path === '/connect' || path.startsWith('/connect/')
}

/** Browser routes answer errors with a readable page, never JSON, a stack trace or Express's page. */
export function browserErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err)
    const answer = toProblem(err)
    if (answer.status >= 500 && answer.status !== 503) logger.error({ err, reqId: req.id }, 'browser request failed')
    // A 429 is problem+json for a client that does not ask for HTML first (scripts, curl, fetch); a
    // browser navigating gets the page. Both carry Retry-After.
    if (answer.status === 429 && req.accepts(['application/problem+json', 'html']) !== 'html') return sendProblem(res, answer)
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
    const page = answer.status === 503 ? renderUnavailablePage() : renderErrorPage(answer.status)
    res.status(answer.status).setHeader('Cache-Control', 'no-store').type('html').send(page)
  }
}

/**
 * The last handler of the app: errors raised before any router (request limits, malformed URLs) are
 * rendered for the kind of route the request was aimed at.
 */
export function finalErrorHandler(logger: Logger): ErrorRequestHandler {
  const browser = browserErrorHandler(logger)
  const json = problemErrorHandler(logger)
  return (err, req, res, next) => (isBrowserRoute(req) ? browser(err, req, res, next) : json(err, req, res, next))
}

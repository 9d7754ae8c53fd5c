import type { RequestHandler } from 'express'

import { problem } from './problem.js'

/** No route needs more: a launch URL is ~80 characters, a callback with code, state and iss ~400. */
export const MAX_URL_LENGTH = 4096
/**
 * Total bytes of header names and values: room for a browser carrying its parent domain's cookies,
 * below Node's own parser limit (16 KiB for the whole head), which stays the outer fence.
 */
export const MAX_HEADER_BYTES = 12 * 1024
export const MAX_HEADER_COUNT = 100

/**
 * Refuses over-long URLs (414) and oversized or too many headers (431) before any route, session or
 * Redis work, so such requests cost nothing. The error handler renders them as problem+json on JSON
 * routes and as a page on browser routes.
 */
export function requestLimits(): RequestHandler {
  return (req, _res, next) => {
    if (req.originalUrl.length > MAX_URL_LENGTH) return next(problem.uriTooLong(MAX_URL_LENGTH))
    const raw = req.rawHeaders
    if (raw.length / 2 > MAX_HEADER_COUNT) return next(problem.headersTooLarge())
    let bytes = 0
    for (const part of raw) bytes += part.length
    if (bytes > MAX_HEADER_BYTES) return next(problem.headersTooLarge())
    next()
  }
}

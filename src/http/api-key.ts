import { createHash, timingSafeEqual } from 'node:crypto'

import type { RequestHandler } from 'express'

import { problem } from './problem.js'

/**
 * Checks `Authorization: Bearer <key>` against API_KEYS. Both sides are hashed to fixed-length SHA-256
 * digests first, so the comparison is constant-time and does not leak a key's length; every key is
 * compared (no early exit) so timing does not reveal which key matched. Keys are never read from the
 * query string.
 */
export function requireApiKey(apiKeys: string[]): RequestHandler {
  const digests = apiKeys.map((key) => sha256(key))
  return (req, _res, next) => {
    // Node keeps only the first of repeated Authorization headers; two credentials are refused instead
    // of letting a proxy and this service each pick a different one.
    if (countHeader(req.rawHeaders, 'authorization') > 1) return next(problem.unauthorized())
    const presented = bearerToken(req.headers.authorization)
    if (presented === undefined) return next(problem.unauthorized())
    const digest = sha256(presented)
    let matched = -1
    digests.forEach((candidate, index) => {
      if (timingSafeEqual(candidate, digest) && matched === -1) matched = index
    })
    if (matched === -1) return next(problem.unauthorized())
    // Identifies the caller for rate limiting and logs without exposing the key.
    req.apiKeyId = `key${matched + 1}`
    next()
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(header)
  return match?.[1]
}

function countHeader(rawHeaders: string[], name: string): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === name) count++
  return count
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/** Sets req.apiKeyId when a valid key is presented, without rejecting: the rate limiter keys on it. */
export function identifyApiKey(apiKeys: string[]): RequestHandler {
  const check = requireApiKey(apiKeys)
  return (req, res, next) => check(req, res, () => next())
}

/** After identifyApiKey (and the limiter): refuses a request it found no valid key on, without hashing again. */
export function requireIdentifiedApiKey(): RequestHandler {
  return (req, _res, next) => next(req.apiKeyId ? undefined : problem.unauthorized())
}

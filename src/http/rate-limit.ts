import { ipKeyGenerator, rateLimit, type RateLimitRequestHandler } from 'express-rate-limit'
import { RedisStore, type RedisReply } from 'rate-limit-redis'
import type { RequestHandler } from 'express'

import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'
import { problem } from './problem.js'

/**
 * An IPv6 client holds a whole prefix (/56 is the common allocation to a customer; /64 the smallest),
 * so any address inside it is the same client: keyed by its /56, rotating addresses escapes nothing.
 * IPv4 addresses (and IPv4-mapped IPv6) are keyed as themselves.
 */
export const IPV6_CLIENT_PREFIX = 56

/**
 * The rate-limit key of the client that sent `req` (its address as `trust proxy` resolved it). The
 * browser routes' limiter uses it, and so does the launch, which counts against the same counter inside
 * its one Redis script (connect-links/token-store.ts `launch`): same key, same counter.
 */
export function clientIpKey(req: Parameters<RequestHandler>[0]): string {
  return `ip:${req.ip ? ipKeyGenerator(req.ip, IPV6_CLIENT_PREFIX) : 'unknown'}`
}

export interface RateLimitOptions {
  redis: Redis
  perMinute: number
  /** Separates the counters of the browser routes and /v1. */
  prefix: string
  /** Client key: clientIpKey by default; /v1 uses the API key id when one was valid. */
  key?: (req: Parameters<RequestHandler>[0]) => string
}

/** The counters' window: RATE_LIMIT_PER_MINUTE counts per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000

/** The limiter of the browser routes (/connect, /api): one counter per client across them. */
export const BROWSER_LIMITER = 'browser'

/** The Redis key of a client's counter in a limiter, for the launch's script (same key, same counter). */
export function counterKey(limiter: string, clientKey: string): string {
  return redisKeys.rateLimitPrefix(limiter) + clientKey
}

/** Retry-After in seconds for a counter whose window ends in `remainingMs`: at least 1, at most the window. */
export function retryAfterSeconds(remainingMs: number, windowMs = RATE_LIMIT_WINDOW_MS): number {
  return Math.min(Math.ceil(windowMs / 1000), Math.max(1, Math.ceil(remainingMs / 1000)))
}

/**
 * A per-minute limit counted in Redis, so every instance shares it. Over the limit: 429 problem+json
 * with Retry-After. A Redis failure is passed on as an error (503), not silently allowed or hung.
 */
export function createRateLimit(options: RateLimitOptions): RequestHandler {
  if (options.perMinute === 0) return (_req, _res, next) => next()
  const store = new RedisStore({
    prefix: redisKeys.rateLimitPrefix(options.prefix),
    sendCommand: (command: string, ...args: string[]) => options.redis.call(command, ...args) as Promise<RedisReply>,
  })
  // The store loads its Lua scripts at construction and reloads them on the next hit if that failed;
  // a failed first load (Redis down at start) must not become an unhandled rejection.
  for (const pending of [store.incrementScriptSha, store.getScriptSha]) pending.catch(() => undefined)
  const limiter: RateLimitRequestHandler = rateLimit({
    windowMs: RATE_LIMIT_WINDOW_MS,
    limit: options.perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store,
    keyGenerator: options.key ?? clientIpKey,
    handler: (req, _res, next, limitOptions) => {
      // Seconds until this client's window resets (the store knows it); the whole window otherwise.
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime
      const remainingMs = resetTime ? resetTime.getTime() - Date.now() : limitOptions.windowMs
      next(problem.tooManyRequests(retryAfterSeconds(remainingMs, limitOptions.windowMs)))
    },
    // clientIpKey already groups IPv6 addresses by prefix; silence the library's self-checks.
    validate: { keyGeneratorIpFallback: false, trustProxy: false, xForwardedForHeader: false },
  })
  return limiter
}

import { Redis, type RedisOptions } from 'ioredis'

import type { Logger } from '../ops/logger.js'

export type { Redis }

export interface RedisSettings {
  url: string
  logger: Logger
  /** Upper bound for one command, in ms: a hung Redis becomes an error, not a hung request. */
  commandTimeoutMs?: number
}

/**
 * The Redis client used by request handling (sessions, connect tokens, rate limits).
 *
 * ioredis queues commands while it reconnects and retries them many times by default, so a down Redis
 * would stall every request (tj/connect-redis#373, redis/ioredis#1014). Here commands fail at once while
 * disconnected (`enableOfflineQueue: false`) and give up after `commandTimeoutMs`, so callers answer
 * 503 quickly, and reconnection keeps trying in the background so the service recovers by itself.
 */
export function createRedis(settings: RedisSettings): Redis {
  const log = settings.logger.child({ module: 'redis' })
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.commandTimeoutMs ?? 1500,
    connectTimeout: 2000,
    // Reconnect forever, at most every 2 s: Redis coming back must be noticed without a restart.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    connectionName: 'raven-connect',
  }
  const redis = new Redis(settings.url, options)
  let lastErrorLog = 0
  // Without an 'error' listener ioredis would print "Unhandled error event" on every failed reconnect.
  redis.on('error', (err: Error) => {
    const now = Date.now()
    if (now - lastErrorLog < 5000) return
    lastErrorLog = now
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'redis error')
  })
  redis.on('ready', () => log.info('redis ready'))
  return redis
}

/** Connects and waits until Redis answers, or throws after `timeoutMs` (the client keeps retrying). */
export async function connectRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return
  if (redis.status === 'wait') redis.connect().catch(() => undefined)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`))
    }, timeoutMs)
    const onReady = () => {
      cleanup()
      resolve()
    }
    const cleanup = () => {
      clearTimeout(timer)
      redis.off('ready', onReady)
    }
    redis.on('ready', onReady)
  })
}

/**
 * True for the errors ioredis raises when Redis is down or hung (fast-fail mode above): such a request
 * gets 503 and Retry-After, not a 500.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err.name === 'MaxRetriesPerRequestError') return true
  return /Stream isn't writeable|Connection is closed|Command timed out|Redis did not become ready|ECONNREFUSED|ETIMEDOUT|ECONNRESET/.test(err.message)
}

import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'

import type { Logger } from './logger.js'
import { parseRedisTarget } from './redis-url.js'

export type { Redis }

export interface RedisSettings {
  /** REDIS_URL: a server, Sentinel or Cluster (see redis-url.ts). */
  url: string
  logger: Logger
  /** Upper bound for one command, in ms: a hung Redis becomes an error, not a hung request. */
  commandTimeoutMs?: number
  /**
   * `request` (default): fail fast, for anything a request waits on. `worker`: BullMQ workers, which
   * block on Redis and must keep their commands across a reconnect (`maxRetriesPerRequest: null`).
   */
  role?: 'request' | 'worker'
  /** Shown in CLIENT LIST, e.g. `raven-connect:queue`. */
  connectionName?: string
}

/**
 * A Redis client for REDIS_URL.
 *
 * ioredis queues commands while it reconnects and retries them many times by default, so a down Redis
 * would stall every request (tj/connect-redis#373, redis/ioredis#1014). For the `request` role, commands
 * fail at once while disconnected (`enableOfflineQueue: false`) and give up after `commandTimeoutMs`,
 * so callers answer 503 quickly, and reconnection keeps trying in the background so the service
 * recovers by itself.
 *
 * A Cluster client is typed as Redis: it answers the same commands (keys of one transaction share a
 * hash tag, see delivery/outbox.ts), and callers use nothing else.
 */
export function createRedis(settings: RedisSettings): Redis {
  const log = settings.logger.child({ module: 'redis' })
  const worker = settings.role === 'worker'
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: worker,
    maxRetriesPerRequest: worker ? null : 1,
    ...(worker ? {} : { commandTimeout: settings.commandTimeoutMs ?? 1500 }),
    connectTimeout: 2000,
    // Reconnect forever, at most every 2 s: Redis coming back must be noticed without a restart.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    connectionName: settings.connectionName ?? 'raven-connect',
  }
  const target = parseRedisTarget(settings.url)
  let redis: Redis
  if (target.kind === 'standalone') {
    redis = new Redis(target.url, options)
  } else if (target.kind === 'sentinel') {
    const { sentinels, name, db, username, password, sentinelUsername, sentinelPassword, tls } = target
    redis = new Redis({
      ...options,
      sentinels,
      name,
      db,
      ...(username && { username }),
      ...(password && { password }),
      ...(sentinelUsername && { sentinelUsername }),
      ...(sentinelPassword && { sentinelPassword }),
      ...(tls && { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }),
      sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    })
  } else {
    const { nodes, username, password, tls } = target
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: worker,
      maxRedirections: 8,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      // Node connections are the cluster client's to manage: lazy or offline-queue-less nodes would
      // fail the slot discovery itself, so only per-command settings go down to them.
      redisOptions: {
        maxRetriesPerRequest: options.maxRetriesPerRequest ?? null,
        connectTimeout: options.connectTimeout ?? 2000,
        ...(options.commandTimeout !== undefined && { commandTimeout: options.commandTimeout }),
        ...(options.connectionName !== undefined && { connectionName: options.connectionName }),
        ...(username && { username }),
        ...(password && { password }),
        ...(tls && { tls: {} }),
      },
    }
    redis = new Cluster(nodes, clusterOptions) as unknown as Redis
  }
  let lastErrorLog = 0
  // Without an 'error' listener ioredis would print "Unhandled error event" on every failed reconnect.
  redis.on('error', (err: Error) => {
    const now = Date.now()
    if (now - lastErrorLog < 5000) return
    lastErrorLog = now
    log.warn({ err, role: settings.role ?? 'request' }, 'redis error')
  })
  redis.on('ready', () => log.info({ role: settings.role ?? 'request' }, 'redis ready'))
  return redis
}

/**
 * Redis evicting keys under memory pressure would silently drop parked tokens, queued jobs and
 * sessions: BullMQ and this service need `maxmemory-policy noeviction`. Logged at start-up, not
 * fatal: managed Redis may forbid CONFIG, and an operator may knowingly accept the risk.
 * @returns the policy, or undefined when Redis would not say.
 */
export async function checkEvictionPolicy(redis: Redis, logger: Logger): Promise<string | undefined> {
  const log = logger.child({ module: 'redis' })
  let policy: string | undefined
  try {
    const info = await redis.info('memory')
    policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1]
  } catch {
    // Cluster answers INFO per node; fall through to CONFIG GET.
  }
  if (policy === undefined) {
    try {
      const answer = (await redis.config('GET', 'maxmemory-policy')) as unknown as string[]
      policy = answer[1]
    } catch (err) {
      log.warn({ err }, 'could not read the Redis eviction policy; make sure it is noeviction')
      return undefined
    }
  }
  if (policy !== 'noeviction') {
    log.error(
      { maxmemoryPolicy: policy },
      `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict parked tokens, queued jobs and sessions. Set maxmemory-policy noeviction.`,
    )
  } else {
    log.info({ maxmemoryPolicy: policy }, 'Redis eviction policy is noeviction')
  }
  return policy
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
  if (err.name === 'ClusterAllFailedError') return true
  return /Stream isn't writeable|Connection is closed|Command timed out|Redis did not become ready|ECONNREFUSED|ETIMEDOUT|ECONNRESET|None of startup nodes is available|Cluster isn't ready|All sentinels are unreachable|Queue is not ready/.test(err.message)
}

import type { Config } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import { checkEvictionPolicy, connectRedis, createRedis, type Redis } from '../infra/redis.js'
import { parseRedisTarget } from '../infra/redis-url.js'
import { fail, notChecked, pass, warn, type Area, type Verdict } from './check.js'

/** GETDEL (one-time connect links, connect-links/token-store.ts) arrived in Redis 6.2. */
const MINIMUM_VERSION = [6, 2] as const

/** Redis: reachable, new enough, never evicting, persistent. Reads INFO and CONFIG only, writes nothing. */
export function redisArea(config: Config, logger: Logger, checkTimeoutMs: number): Area {
  return async (run) => {
    const where = describeTarget(config.redisUrl)
    const redis = createRedis({ url: config.redisUrl, logger, connectionName: 'raven-connect:doctor' })
    let lastError: Error | undefined
    redis.on('error', (err: Error) => (lastError = err))
    try {
      const reachable = await run.check<true>('redis.reachable', async () => {
        try {
          // Shorter than the check's own limit, so the reason (refused, WRONGPASS…) can still be told.
          await connectRedis(redis, Math.max(200, checkTimeoutMs - 500))
          const answer = await redis.ping()
          return { ...pass(`${where} answers PING (${answer})`), value: true }
        } catch (err) {
          const reason = lastError?.message ?? (err as Error).message
          return fail(`${where} is not reachable: ${reason}. Check REDIS_URL (host, port, user and password, rediss:// for TLS) and the network between here and Redis`)
        }
      })
      if (!reachable) {
        for (const name of ['redis.version', 'redis.eviction', 'redis.persistence']) run.report(name, notChecked('Redis is not reachable'))
        return
      }
      await run.check('redis.version', () => checkVersion(redis))
      await run.check('redis.eviction', () => checkEviction(redis, logger))
      await run.check('redis.persistence', () => checkPersistence(redis))
    } finally {
      redis.disconnect()
    }
  }
}

async function checkVersion(redis: Redis): Promise<Verdict> {
  const info = await redis.info('server')
  const version = /^redis_version:(\S+)/m.exec(info)?.[1]
  if (version === undefined) return warn('Redis did not report its version (INFO server): make sure it is 6.2 or later')
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const [wantMajor, wantMinor] = MINIMUM_VERSION
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    return fail(`Redis ${version} is too old: the service uses GETDEL, which needs Redis ${wantMajor}.${wantMinor} or later; upgrade Redis`)
  }
  return pass(`Redis ${version} (the service needs ${wantMajor}.${wantMinor} or later for GETDEL)`)
}

async function checkEviction(redis: Redis, logger: Logger): Promise<Verdict> {
  const policy = await checkEvictionPolicy(redis, logger)
  if (policy === undefined) {
    return warn('Redis would not tell its maxmemory-policy (INFO and CONFIG refused): make sure it is noeviction in your provider’s settings')
  }
  if (policy !== 'noeviction') {
    return fail(
      `maxmemory-policy is ${policy}: under memory pressure Redis would drop sessions, one-time links, parked refresh tokens and queued jobs. Set maxmemory-policy noeviction (redis.conf, CONFIG SET or your provider’s settings)`,
    )
  }
  return pass('maxmemory-policy is noeviction')
}

async function checkPersistence(redis: Redis): Promise<Verdict> {
  const info = await redis.info('persistence')
  if (/^aof_enabled:1/m.test(info)) return pass('AOF is on (appendonly yes)')
  let save: string | undefined
  try {
    const answer = (await redis.config('GET', 'save')) as unknown as string[]
    save = answer[1]
  } catch {
    return warn('AOF is off and the RDB save rules could not be read (CONFIG refused): make sure your provider persists this Redis')
  }
  if (save !== undefined && save.trim() !== '') return pass(`RDB snapshots are on (save ${save}); appendonly yes loses less on a crash`)
  return warn('neither AOF nor RDB is on: a Redis restart loses parked refresh tokens, queued deliveries and webhooks. Set appendonly yes (and appendfsync everysec)')
}

/** Where Redis is, without the user or password REDIS_URL may carry. */
function describeTarget(url: string): string {
  const target = parseRedisTarget(url)
  if (target.kind === 'standalone') {
    const parsed = new URL(target.url)
    return `Redis at ${parsed.protocol}//${parsed.host}`
  }
  const hosts = (target.kind === 'sentinel' ? target.sentinels : target.nodes).map((node) => `${node.host}:${node.port}`)
  return `Redis ${target.kind} at ${hosts.join(',')}`
}

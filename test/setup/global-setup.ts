import { startRedisServer } from '../../sandboxes/redis/throwaway-redis.js'

// The throwaway Redis lives in sandboxes/redis so `npm run demo` starts it the same way.
export { freePort, startRedisServer, type ThrowawayRedis } from '../../sandboxes/redis/throwaway-redis.js'

/**
 * Uses REDIS_URL when set (never flushing it); otherwise starts a throwaway redis-server that
 * global-teardown stops. Test workers inherit REDIS_URL from here.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.RAVEN_CONNECT_TEST_REDIS_OWNED = 'false'
    return
  }
  const redis = await startRedisServer()
  process.env.REDIS_URL = redis.url
  process.env.RAVEN_CONNECT_TEST_REDIS_OWNED = 'true'
  ;(globalThis as { __ravenConnectRedis?: typeof redis }).__ravenConnectRedis = redis
}

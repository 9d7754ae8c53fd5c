import { startDemo, type Demo, type DemoOptions } from '../../../sandboxes/demo/run-demo.js'
import { startRedisServer } from '../../../sandboxes/redis/throwaway-redis.js'

/**
 * `npm run demo` on free ports with a Redis of its own. Not the tests' shared Redis: every demo's
 * service uses the default job-queue prefix, so two demos on one Redis would work each other's jobs
 * (a webhook for one demo host sent by the other's worker to its own host).
 */
export async function startIsolatedDemo(options: Omit<DemoOptions, 'ports' | 'redisUrl'> = {}): Promise<Demo> {
  const redis = await startRedisServer()
  try {
    const demo = await startDemo({ ports: { app: 0, raven: 0, leaf: 0, host: 0 }, redisUrl: redis.url, serviceOutput: 'capture', ...options })
    return {
      ...demo,
      async close() {
        await demo.close()
        await redis.stop()
      },
    }
  } catch (err) {
    await redis.stop()
    throw err
  }
}

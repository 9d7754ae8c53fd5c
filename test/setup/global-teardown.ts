import type { ThrowawayRedis } from './global-setup.js'

export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as { __ravenConnectRedis?: ThrowawayRedis }).__ravenConnectRedis
  if (redis) await redis.stop()
}

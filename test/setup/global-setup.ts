import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

import { Redis } from 'ioredis'

export interface ThrowawayRedis {
  url: string
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

/** A free TCP port on loopback, found by letting the OS pick one. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts a throwaway redis-server on a free loopback port, keeping nothing on disk. The tests may flush
 * it; they never flush a Redis they did not start.
 */
export async function startRedisServer(port?: number): Promise<ThrowawayRedis> {
  const chosen = port ?? (await freePort())
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  )
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`redis-server could not start (${err.message}); install it, e.g. apt-get install -y redis-server`)))
  })
  const url = `redis://127.0.0.1:${chosen}`
  await Promise.race([waitForPing(url), failed])
  return {
    url,
    port: chosen,
    process: child,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}

async function waitForPing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
    client.on('error', () => undefined)
    try {
      await client.connect()
      if ((await client.ping()) === 'PONG') return
    } catch {
      // not up yet
    } finally {
      client.disconnect()
    }
    await delay(50)
  }
  throw new Error(`redis-server on ${url} did not answer`)
}

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

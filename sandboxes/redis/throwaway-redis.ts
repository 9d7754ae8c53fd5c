import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

import { Redis } from 'ioredis'

// A throwaway redis-server for the test suite (test/setup/global-setup.ts) and `npm run demo`.

export interface ThrowawayRedis {
  url: string
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

export interface ThrowawayRedisOptions {
  /** Default: a free port. */
  port?: number
  /**
   * Run redis-server in its own process group, so a Ctrl-C in the terminal reaches only the parent,
   * which then stops Redis last (after the servers that use it). The demo sets it; the tests do not,
   * so an interrupted test run takes its Redis down with it.
   */
  detached?: boolean
  /**
   * More redis-server arguments, after the defaults so they win: e.g. `['--maxmemory-policy',
   * 'allkeys-lru']` for a misconfigured Redis, or `['--appendonly', 'yes', '--dir', tmp]`.
   */
  args?: string[]
}

/** Thrown when there is no redis-server binary to run. */
export class RedisNotInstalledError extends Error {
  constructor(cause: string) {
    super(`redis-server could not start (${cause}); install it, e.g. apt-get install -y redis-server`)
    this.name = 'RedisNotInstalledError'
  }
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
 * Starts a throwaway redis-server on a loopback port, keeping nothing on disk. The tests may flush
 * it; they never flush a Redis they did not start.
 */
export async function startRedisServer(options: ThrowawayRedisOptions | number = {}): Promise<ThrowawayRedis> {
  const settings = typeof options === 'number' ? { port: options } : options
  const chosen = settings.port ?? (await freePort())
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', ...(settings.args ?? [])],
    { stdio: 'ignore', detached: settings.detached ?? false },
  )
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new RedisNotInstalledError(err.message)))
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} before answering (port ${chosen} taken?)`)))
  })
  failed.catch(() => undefined)
  if (settings.detached) {
    // Outside the parent's process group nothing else would stop it if the parent died first.
    const killOnExit = () => void child.kill('SIGKILL')
    process.once('exit', killOnExit)
    child.once('exit', () => process.off('exit', killOnExit))
  }
  const url = `redis://127.0.0.1:${chosen}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  try {
    await Promise.race([waitForPing(url), failed])
  } catch (err) {
    await stop()
    throw err
  }
  return { url, port: chosen, process: child, stop }
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

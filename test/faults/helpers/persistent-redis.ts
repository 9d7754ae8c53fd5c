import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { Redis } from 'ioredis'

import { waitFor } from '../../helpers/kit/wait.js'

/**
 * A redis-server with an append-only file in a temporary directory, on a fixed port, that can be
 * stopped, restarted with its data, and frozen (SIGSTOP: a Redis that hangs without closing sockets).
 */
export interface PersistentRedis {
  url: string
  start(): Promise<void>
  stop(): Promise<void>
  freeze(): void
  thaw(): void
  remove(): Promise<void>
}

export function persistentRedis(port: number, extraArgs: string[] = []): PersistentRedis {
  const dir = mkdtempSync(join(tmpdir(), 'rc-redis-'))
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null
  return {
    url,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--loglevel', 'warning', ...extraArgs],
        { stdio: 'ignore' },
      )
      await waitFor(`redis-server on ${port} to start`, async () => {
        const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
        client.on('error', () => undefined)
        const ok = await client.connect().then(() => client.ping()).then(() => true, () => false)
        client.disconnect()
        return ok
      }, 5000, 50)
    },
    async stop() {
      if (!running() || !child) return
      const exited = new Promise((resolve) => child?.once('exit', resolve))
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      await exited
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async remove() {
      await this.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

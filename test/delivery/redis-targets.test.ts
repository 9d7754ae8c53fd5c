import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from '@jest/globals'
import { Redis } from 'ioredis'

import { createJobQueue } from '../../src/jobs/queue.js'
import { createOutbox } from '../../src/delivery/outbox.js'
import { connectRedis, createRedis } from '../../src/infra/redis.js'
import { parseRedisTarget } from '../../src/infra/redis-url.js'
import { captureLogs } from '../helpers/log-capture.js'
import { startOneNodeCluster, waitFor } from '../helpers/kit/index.js'
import { freePort, startRedisServer } from '../setup/global-setup.js'

const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

function spawnRedis(args: string[]): void {
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  cleanups.push(() => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  }))
}

describe('REDIS_URL forms', () => {
  it('parses a server, a Sentinel set and a Cluster seed list', () => {
    expect(parseRedisTarget('redis://:pw@127.0.0.1:6379/2')).toEqual({ kind: 'standalone', url: 'redis://:pw@127.0.0.1:6379/2' })
    expect(parseRedisTarget('redis+sentinel://user:p%40ss@10.0.0.1:26379,10.0.0.2/mymaster/3?sentinelPassword=s')).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }],
      name: 'mymaster',
      db: 3,
      username: 'user',
      password: 'p@ss',
      sentinelPassword: 's',
      tls: false,
    })
    expect(parseRedisTarget('rediss+cluster://:pw@[::1]:7000,10.0.0.2:7001')).toEqual({
      kind: 'cluster',
      nodes: [{ host: '::1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
      password: 'pw',
      tls: true,
    })
    expect(() => parseRedisTarget('redis+sentinel://10.0.0.1:26379')).toThrow('must name the master')
    expect(() => parseRedisTarget('memcached://x')).toThrow('must be one of')
    expect(() => parseRedisTarget('redis+cluster://:secret-pw@')).toThrow(/names no cluster host/)
  })

  it('connects through Redis Sentinel to the current master', async () => {
    const master = await startRedisServer()
    cleanups.push(() => master.stop())
    const dir = mkdtempSync(join(tmpdir(), 'rc-sentinel-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const port = await freePort()
    writeFileSync(join(dir, 'sentinel.conf'), `port ${port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`)
    spawnRedis([join(dir, 'sentinel.conf'), '--sentinel'])
    const { logger } = captureLogs()
    const redis = createRedis({ url: `redis+sentinel://127.0.0.1:${port}/mymaster`, logger })
    cleanups.push(() => redis.disconnect())
    await waitFor('the sentinel to answer', () => connectRedis(redis, 2000).then(() => true, () => false), 10_000, 200)
    await redis.set('rc:sentinel-check', 'ok')
    const direct = new Redis(master.url)
    cleanups.push(() => direct.disconnect())
    expect(await direct.get('rc:sentinel-check')).toBe('ok')
  })

  it('parks a token in one script and hands it to its job in one MULTI on Redis Cluster (one hash slot)', async () => {
    const port = await startOneNodeCluster(cleanups)

    const { logger } = captureLogs()
    const jobs = createJobQueue({ redisUrl: `redis+cluster://127.0.0.1:${port}`, logger, readyTimeoutMs: 5000 })
    cleanups.push(() => jobs.close(500))
    const outbox = createOutbox(jobs)
    const record = { deliveryId: 'dlv_cluster', leafUserId: 'u1', connectSessionId: 'cs_1', sealedToken: 'v1.k.i.c.t', createdAt: Date.now(), attempted: false, replacedId: null }
    await waitFor('the cluster client', () => jobs.client().then(() => true, () => false), 10_000, 200)
    expect(await outbox.park(record, { lockOwner: 'test', lockTtlMs: 1000, dueAt: Date.now() })).toEqual({ locked: true })
    expect(await outbox.load('dlv_cluster')).toMatchObject({ leafUserId: 'u1', sealedToken: 'v1.k.i.c.t' })
    expect(await outbox.overdue(Date.now(), 10)).toEqual(['dlv_cluster'])
    await outbox.handOver(record, { delayMs: 60_000, watchAt: Date.now() + 60_000 })
    expect(await jobs.queue.getJobState('dlv_cluster')).toBe('delayed')
    expect(await outbox.isPending('u1')).toBe(true)
    expect(await outbox.finish(record, { lockOwner: 'test' })).toBe('finished')
    expect(await outbox.isPending('u1')).toBe(false)
  })
})

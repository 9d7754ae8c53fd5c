import { request } from 'node:http'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { freePort, startRedisServer } from '../setup/global-setup.js'
import type { TestBrowser } from '../helpers/browser.js'
import { outcomeOf, waitFor } from '../helpers/kit/index.js'
import { startFaultWorld, type FaultWorld } from './helpers/fault-world.js'
import { persistentRedis, type PersistentRedis } from './helpers/persistent-redis.js'
import { logged, spawnService, type ServiceProcess } from './helpers/service-process.js'

let redis: PersistentRedis
let world: FaultWorld
let service: ServiceProcess

beforeAll(async () => {
  redis = persistentRedis(await freePort())
  await redis.start()
  world = await startFaultWorld({ redisUrl: redis.url })
  service = spawnService(world.env())
  await service.waitUntilReady()
}, 40_000)
afterAll(async () => {
  await service.stop('SIGKILL')
  await world.close()
  await redis.remove()
})

/**
 * Each probe goes on a fresh connection (no keep-alive reuse racing the server's idle timeout) and
 * must be answered within 2.5 s: a request that hangs is aborted and fails the test.
 */
function probe(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(`${service.url}${path}`, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false, timeout: 2500 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const headers = new Headers()
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value)
        resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within 2.5 s`)))
    req.on('error', reject)
    req.end(init.body)
  })
}

async function expectUnavailableEverywhere(browser: TestBrowser, leafUserId: string): Promise<void> {
  const ready = await probe('/readyz')
  expect(ready.status).toBe(503)
  expect(await ready.json()).toMatchObject({ status: 'unavailable', checks: { redis: 'down' } })

  const v1 = await probe('/v1/connect-sessions', {
    method: 'POST',
    headers: { Authorization: `Bearer ${world.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ leafUserId }),
  })
  expect(v1.status).toBe(503)
  expect(v1.headers.get('content-type')).toContain('application/problem+json')
  expect(v1.headers.get('retry-after')).toBeTruthy()
  expect(await v1.json()).toMatchObject({ status: 503, code: 'service_unavailable' })

  const cookie = browser.cookieHeader(`${service.url}/api/raven-connection`)
  const api = await probe('/api/raven-connection', { headers: cookie ? { cookie } : {} })
  expect(api.status).toBe(503)
  expect(api.headers.get('content-type')).toContain('application/problem+json')

  const page = await probe('/connect/raven?session=rc_cs_0000000000000000000000000000000000000000000')
  expect(page.status).toBe(503)
  expect(page.headers.get('content-type')).toContain('text/html')
  expect(await page.text()).toMatch(/<main[^>]*>/)
}

describe('Redis refused, hung, and back', () => {
  it('answers 503 quickly while Redis is down or hangs, and recovers by itself with nothing lost', async () => {
    const leafUserId = world.newLeafUser()
    const { browser, callbackUrl } = await world.flowToCallback({ leafUserId, returnTo: 'https://app.example.test/done' })

    // Refused: Redis stopped (its data is on disk).
    await redis.stop()
    await expectUnavailableEverywhere(browser, leafUserId)
    // Traffic during the outage: a bounded burst, every request answered (no hang), none a 5xx other than 503.
    const burst = await Promise.all(Array.from({ length: 20 }, () => probe('/v1/users/' + leafUserId + '/raven-connection', { headers: { Authorization: `Bearer ${world.apiKey}` } }).then((res) => res.status)))
    for (const status of burst) expect([200, 503]).toContain(status)

    // Back, then hung: the process is frozen, its sockets stay open and silent.
    await redis.start()
    await waitFor('readiness after the restart', async () => (await probe('/readyz')).status === 200, 15_000, 200)
    redis.freeze()
    try {
      await expectUnavailableEverywhere(browser, leafUserId)
    } finally {
      redis.thaw()
    }

    await waitFor('readiness after the thaw', async () => (await probe('/readyz')).status === 200, 15_000, 200)
    // The flow started before the outage completes: its session and state survived in Redis.
    const result = await browser.get(callbackUrl.href)
    expect(outcomeOf(result)).toEqual({ raven: 'connected', reason: null })
    expect(world.leaf.state.credentialFor(leafUserId)).toBeDefined()

    expect(service.child.exitCode).toBeNull()
    const { stderr } = service.output()
    expect(stderr).not.toMatch(/Unhandled error event|unhandled|uncaught/i)
    expect(logged(service, 'unhandled promise rejection')).toHaveLength(0)
    expect(logged(service, 'uncaught exception')).toHaveLength(0)
  }, 90_000)

  it('reports at start-up a Redis whose eviction policy could drop queued jobs', async () => {
    const lru = await startRedisServer()
    const client = new (await import('ioredis')).Redis(lru.url)
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru')
    client.disconnect()
    const port = await freePort()
    const other = spawnService({ ...world.env(port), REDIS_URL: lru.url })
    try {
      await other.waitUntilReady()
      const [record] = await waitFor('the eviction warning', () => {
        const found = other.records.filter((entry) => entry.maxmemoryPolicy === 'allkeys-lru')
        return found.length > 0 ? found : undefined
      })
      expect(record).toMatchObject({ level: 50 })
      expect(String(record?.msg)).toContain('noeviction')
      expect(logged(service, 'Redis eviction policy is noeviction')).toHaveLength(1)
    } finally {
      await other.stop('SIGKILL')
      await lru.stop()
    }
  }, 40_000)
})

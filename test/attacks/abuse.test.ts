// Abuse bounded (OWASP ASVS 5 V2.4 anti-automation, RFC 9700 §4.1 resource exhaustion): Redis-backed
// rate limits shared by instances, no sessions for requests that never start a flow, tight server
// timeouts against slow clients, and state that stays bounded and expires under floods.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { compose } from '../../src/compose.js'
import { createHardenedServer, SERVER_LIMITS } from '../../src/http/server-hardening.js'
import { createMetrics } from '../../src/infra/metrics.js'
import { startRedisServer, type ThrowawayRedis } from '../../sandboxes/redis/throwaway-redis.js'
import { callbackWith, expectProblem, launchFlow, rawRequest, redisKeys, sessionCookieOf, sessionIdOf, useSystem } from '../helpers/kit/index.js'
import { captureLogs } from '../helpers/log-capture.js'
import type { TestSystem } from '../helpers/system.js'

const LIMIT = 5

let redis: ThrowawayRedis
beforeAll(async () => {
  redis = await startRedisServer()
})
const env = () => ({ REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: String(LIMIT) })
/** Limited, behind a trusted proxy: clients are told apart by X-Forwarded-For. */
const limited = useSystem(() => ({ env: { ...env(), TRUST_PROXY: 'loopback' } }))
/** Limited, reached directly: X-Forwarded-For must be ignored. */
const direct = useSystem(() => ({ env: { ...env(), REDIS_URL: `${redis.url}/2` } }))
/** Limits generous enough not to interfere, on a Redis database of its own for counting keys. */
const quiet = useSystem(() => ({ env: { REDIS_URL: `${redis.url}/1`, RATE_LIMIT_PER_MINUTE: '100000', TRUST_PROXY: 'loopback' } }))
// Declared after the systems: after-hooks run in declaration order, so Redis outlives them.
afterAll(async () => {
  await redis.stop()
})

let ipCounter = 0
/** A client address of its own, so each test starts with a fresh counter. */
const newClient = () => `198.51.100.${++ipCounter}`

async function expectRateLimited(res: Response): Promise<void> {
  await expectProblem(res, 429, 'rate_limited')
  const retryAfter = Number(res.headers.get('retry-after'))
  expect(Number.isInteger(retryAfter)).toBe(true)
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(60)
}

async function hit(url: string, times: number, init: RequestInit = {}): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < times; i++) statuses.push((await fetch(url, { redirect: 'manual', ...init })).status)
  return statuses
}

describe('rate limits', () => {
  // The callback answers a result page even then (test/callback-every-answer.test.ts).
  it.each([
    ['the launch', (s: TestSystem) => `${s.url}/connect/raven?session=rc_cs_guess`, 410],
    ['/api', (s: TestSystem) => `${s.url}/api/raven-connection`, 401],
  ])('answers 429 problem+json with Retry-After on %s past the limit, per client', async (_name, url, normal) => {
    const client = newClient()
    const headers = { 'X-Forwarded-For': client }
    expect(await hit(url(limited), LIMIT, { headers })).toEqual(Array(LIMIT).fill(normal))
    await expectRateLimited(await fetch(url(limited), { headers, redirect: 'manual' }))
    // A browser navigating gets a readable page, with the same Retry-After.
    const page = await fetch(url(limited), { headers: { ...headers, Accept: 'text/html,*/*;q=0.8' }, redirect: 'manual' })
    expect(page.status).toBe(429)
    expect(page.headers.get('content-type')).toContain(url(limited).includes('/api/') ? 'application/problem+json' : 'text/html')
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/)
    // Another client is not affected.
    expect((await fetch(url(limited), { headers: { 'X-Forwarded-For': newClient() }, redirect: 'manual' })).status).toBe(normal)
  })

  it('limits /v1 per API key, wherever the calls come from', async () => {
    // Fresh key counter: this system's key has not been used by other tests.
    const url = `${limited.url}/v1/users/${limited.newLeafUser()}/raven-connection`
    const auth = { Authorization: `Bearer ${limited.secrets.apiKey}` }
    const statuses: number[] = []
    for (let i = 0; i < LIMIT; i++) statuses.push((await fetch(url, { headers: { ...auth, 'X-Forwarded-For': newClient() } })).status)
    // createConnectSession is not used here: it would count too.
    expect(statuses).toEqual(Array(LIMIT).fill(200))
    await expectRateLimited(await fetch(url, { headers: { ...auth, 'X-Forwarded-For': newClient() } }))
  })

  it('limits guessing of API keys per client address', async () => {
    const headers = { Authorization: 'Bearer not-a-key-but-long-enough', 'X-Forwarded-For': newClient() }
    const url = `${limited.url}/v1/users/abc/raven-connection`
    expect(await hit(url, LIMIT, { headers })).toEqual(Array(LIMIT).fill(401))
    await expectRateLimited(await fetch(url, { headers }))
  })

  it('keys IPv6 clients by their /56: rotating addresses inside the prefix does not reset the counter', async () => {
    // A /56 of its own for this test (2001:db8:0:NN00::/56); every request from another address in it.
    const prefix = `2001:db8:0:${(++ipCounter).toString(16)}`
    const url = `${limited.url}/connect/raven?session=rc_cs_guess`
    const statuses: number[] = []
    for (let i = 0; i < LIMIT; i++) {
      statuses.push((await fetch(url, { headers: { 'X-Forwarded-For': `${prefix}${i.toString(16).padStart(2, '0')}::${i + 1}` } })).status)
    }
    expect(statuses).toEqual(Array(LIMIT).fill(410))
    await expectRateLimited(await fetch(url, { headers: { 'X-Forwarded-For': `${prefix}ff:1234:5678:9abc:def0` }, redirect: 'manual' }))
    // The neighbouring /56 (…:NN+1 differs in the 56th bit's byte) is another client.
    const neighbour = `2001:db8:0:${(++ipCounter).toString(16)}00::1`
    expect((await fetch(url, { headers: { 'X-Forwarded-For': neighbour } })).status).toBe(410)
  })

  it('counts one IPv6 /56 on one counter across the launch (its Redis script) and /api (express-rate-limit)', async () => {
    const group = (++ipCounter).toString(16)
    const from = (i: number) => ({ 'X-Forwarded-For': `2001:db8:0:${group}${i.toString(16).padStart(2, '0')}::${i + 1}` })
    const launchUrl = `${limited.url}/connect/raven?session=rc_cs_guess`
    const apiUrl = `${limited.url}/api/raven-connection`
    const statuses: number[] = []
    for (let i = 0; i < LIMIT; i++) statuses.push((await fetch(i % 2 === 0 ? launchUrl : apiUrl, { headers: from(i), redirect: 'manual' })).status)
    expect(statuses).toEqual(Array.from({ length: LIMIT }, (_, i) => (i % 2 === 0 ? 410 : 401)))
    // Both routes' hits went to the /56's one counter: each route is now over the limit for the whole prefix.
    await expectRateLimited(await fetch(launchUrl, { headers: from(0xfe), redirect: 'manual' }))
    await expectRateLimited(await fetch(apiUrl, { headers: from(0xfd) }))
    expect(await redisKeys(limited, `rc:rl:browser:ip:2001:db8:0:${group}00::/56`)).toHaveLength(1)
  })

  it('keys guessed API keys from IPv6 addresses by /56 too', async () => {
    const prefix = `2001:db8:1:${(++ipCounter).toString(16)}`
    const url = `${limited.url}/v1/users/abc/raven-connection`
    const headers = (i: number) => ({ Authorization: 'Bearer not-a-key-but-long-enough', 'X-Forwarded-For': `${prefix}${i.toString(16).padStart(2, '0')}::9` })
    const statuses: number[] = []
    for (let i = 0; i < LIMIT; i++) statuses.push((await fetch(url, { headers: headers(i) })).status)
    expect(statuses).toEqual(Array(LIMIT).fill(401))
    await expectRateLimited(await fetch(url, { headers: headers(LIMIT) }))
  })

  it('ignores X-Forwarded-For on a direct hop: rotating it does not reset the counter', async () => {
    const url = `${direct.url}/connect/raven?session=rc_cs_guess`
    const statuses: number[] = []
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await fetch(url, { headers: { 'X-Forwarded-For': newClient() } })).status)
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(410))
    expect(statuses[LIMIT]).toBe(429)
  })

  it('counts in Redis, shared by every instance', async () => {
    const logs = captureLogs()
    const second = compose(limited.config, { logger: logs.logger, metrics: createMetrics({ defaultMetrics: false }), jobPrefix: limited.service.jobs.prefix })
    const server: Server = createHardenedServer(second.app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const secondUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const headers = { 'X-Forwarded-For': newClient() }
      const path = '/connect/raven?session=rc_cs_guess'
      const statuses = [
        ...(await hit(`${limited.url}${path}`, 3, { headers })),
        ...(await hit(`${secondUrl}${path}`, 2, { headers })),
      ]
      expect(statuses).toEqual(Array(LIMIT).fill(410))
      await expectRateLimited(await fetch(`${secondUrl}${path}`, { headers }))
      await expectRateLimited(await fetch(`${limited.url}${path}`, { headers }))
      expect((await redisKeys(limited, 'rc:rl:*')).length).toBeGreaterThan(0)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await second.stopBackground(100)
      await second.closeRedis()
    }
  })
})

describe('no session for requests that never start a flow', () => {
  it('writes no session and sets no cookie for anything but a successful launch', async () => {
    const used = await quiet.createConnectSession({ leafUserId: quiet.newLeafUser() })
    await fetch(used.connectUrl, { redirect: 'manual' })
    await quiet.redis.flushdb()
    const browser = quiet.browser()
    const answers = [
      await browser.get(`${quiet.url}/connect/raven`),
      await browser.get(`${quiet.url}/connect/raven?session=rc_cs_guess`),
      await browser.get(used.connectUrl),
      await browser.get(callbackWith(quiet, '')),
      await browser.get(callbackWith(quiet, 'code=a&state=b')),
      await browser.get(callbackWith(quiet, 'error=access_denied&state=b')),
      await browser.postForm(callbackWith(quiet, ''), { code: 'a', state: 'b' }),
      await browser.get(`${quiet.url}/connect/elsewhere`),
      await browser.request(`${quiet.url}/connect/raven`, { method: 'POST' }),
      await browser.get(`${quiet.url}/api/raven-connection`),
      await browser.request(`${quiet.url}/api/raven-connection`, { method: 'DELETE', headers: { 'x-requested-with': 'x' } }),
      await browser.get(`${quiet.url}/healthz`),
      await browser.get(`${quiet.url}/readyz`),
      await browser.get(`${quiet.url}/metrics`),
      await browser.get(`${quiet.url}/v1/users/abc/raven-connection`),
    ]
    for (const answer of answers) expect(answer.headers.get('set-cookie')).toBeNull()
    expect(await redisKeys(quiet, 'rc:sess:*')).toHaveLength(0)

    // The control: a real launch writes exactly one.
    await launchFlow(quiet, { browser })
    expect(await redisKeys(quiet, 'rc:sess:*')).toHaveLength(1)
  })
})

describe('slow clients', () => {
  it("runs the app with timeouts well below Node's defaults (60 s headers, 300 s request)", () => {
    for (const system of [limited, quiet]) {
      expect(system.server.headersTimeout).toBe(SERVER_LIMITS.headersTimeoutMs)
      expect(system.server.requestTimeout).toBe(SERVER_LIMITS.requestTimeoutMs)
    }
    expect(SERVER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000)
    expect(SERVER_LIMITS.requestTimeoutMs).toBeLessThanOrEqual(30_000)
    expect(SERVER_LIMITS.checkIntervalMs).toBeLessThanOrEqual(1_000)
  })

  // The same server factory with short limits, so the behaviour is seen without waiting 10 s.
  it.each([
    ['headers that never end (slowloris)', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '],
    ['a body that never arrives', 'POST /v1/connect-sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'],
  ])('closes the socket of a client sending %s, with a 408', async (_name, partial) => {
    // Like the app, the handler waits for the whole body before answering.
    const server = createHardenedServer((req, res) => req.resume().on('end', () => res.end('ok')), {
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      keepAliveTimeoutMs: 300,
      checkIntervalMs: 100,
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      // rawRequest rejects if the server keeps the slow socket open past the bound.
      const answer = await rawRequest({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, partial, 8000)
      expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe('bounded state under floods', () => {
  it('keeps at most five flows in one browser however many launches it makes', async () => {
    const browser = quiet.browser()
    for (let i = 0; i < 12; i++) await launchFlow(quiet, { browser })
    const stored = JSON.parse((await quiet.redis.get(`rc:sess:${sessionIdOf(sessionCookieOf(browser, quiet))}`)) ?? '{}') as { flows?: object }
    expect(Object.keys(stored.flows ?? {}).length).toBeLessThanOrEqual(5)
    expect(await redisKeys(quiet, 'rc:sess:*')).toHaveLength(2)
  })

  it('adds no keys for a flood of junk launches and callbacks (200 requests)', async () => {
    const before = (await redisKeys(quiet, '*')).filter((k) => !k.startsWith('rc:rl:')).sort()
    const headers = { 'X-Forwarded-For': newClient() }
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          Promise.all([
            fetch(`${quiet.url}/connect/raven?session=rc_cs_${batch}_${i}`, { headers, redirect: 'manual' }),
            fetch(callbackWith(quiet, `code=c${i}&state=s${batch}${i}`), { headers, redirect: 'manual' }),
          ]),
        ),
      )
    }
    const after = (await redisKeys(quiet, '*')).filter((k) => !k.startsWith('rc:rl:')).sort()
    expect(after).toEqual(before)
  })

  it('lets every key the service wrote expire', async () => {
    const forever: string[] = []
    let seen = 0
    for (const system of [quiet, limited]) {
      // The job queue's one `meta` hash (BullMQ's version and settings) is permanent by design: one
      // key per queue, whatever the traffic. Everything written per request must expire.
      const queueMeta = `${system.service.jobs.prefix}:raven-connect:meta`
      for (const key of (await redisKeys(system, 'rc:*')).filter((k) => k !== queueMeta)) {
        seen++
        if ((await system.redis.pttl(key)) === -1) forever.push(key)
      }
    }
    expect(seen).toBeGreaterThan(0)
    expect(forever).toEqual([])
  })
})

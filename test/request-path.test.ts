// The lean request path (issue "faster than every peer"): a launch is one Redis round trip of at most
// four commands, its script is sent by hash and never re-sent, and the shortcuts keep every rule of
// the long way (rate limit before the link is spent, expired links refused, sessions express-session
// can read). Speed itself is measured by `npm run bench`, never here.
import { createHash } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startRedisServer, type ThrowawayRedis } from '../sandboxes/redis/throwaway-redis.js'
import { flowToCallback, htmlLang, launchFlow, outcomeOf, recordRedisCommands, redisKeys, sessionCookieOf, sessionIdOf, useSystem } from './helpers/kit/index.js'

const LIMIT = 50

let redis: ThrowawayRedis
beforeAll(async () => {
  redis = await startRedisServer()
})
/** A Redis of its own (nothing else runs scripts there) and a queue nobody works, so MONITOR sees only the request path. */
const system = useSystem(() => ({ env: { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: String(LIMIT) }, durable: { worker: false } }))
afterAll(async () => {
  await redis.stop()
})

const linkKey = (connectUrl: string) => `rc:cs:${createHash('sha256').update(new URL(connectUrl).searchParams.get('session') ?? '').digest('hex')}`

describe('GET /connect/raven, the Redis work', () => {
  it('costs a fresh browser one round trip of four commands once the rate-limit window is running, the script sent by hash', async () => {
    // The first launch starts this client's window (one PEXPIRE more) and loads the script.
    await launchFlow(system)
    const connectUrl = (await system.createConnectSession({ leafUserId: system.newLeafUser() })).connectUrl
    const browser = system.browser()
    const commands = await recordRedisCommands(redis.url, 'raven-connect', async () => {
      const answer = await browser.get(connectUrl)
      expect(answer.status).toBe(303)
    })
    expect(commands.map((command) => `${command.source === 'lua' ? 'lua:' : ''}${command.name}`)).toEqual(['evalsha', 'lua:incr', 'lua:getdel', 'lua:set'])
    // The session the script wrote is the one the cookie names.
    const sessionId = sessionIdOf(sessionCookieOf(browser, system))
    expect(commands[3]?.args[0]).toBe(`rc:sess:${sessionId}`)
  })

  it('never sends the script body again: ten launches, ten EVALSHA, no EVAL or SCRIPT LOAD', async () => {
    const urls = await Promise.all(Array.from({ length: 10 }, async () => (await system.createConnectSession({ leafUserId: system.newLeafUser() })).connectUrl))
    const commands = await recordRedisCommands(redis.url, 'raven-connect', async () => {
      for (const url of urls) expect((await system.browser().get(url)).status).toBe(303)
    })
    const sent = commands.filter((command) => command.source !== 'lua').map((command) => command.name)
    expect(sent).toEqual(Array(10).fill('evalsha'))
  })

  it('loads the session of a returning browser and moves it to a new id, keeping its other flow', async () => {
    const first = await launchFlow(system)
    const before = sessionIdOf(sessionCookieOf(first.browser, system))
    const second = await launchFlow(system, { browser: first.browser })
    const after = sessionIdOf(sessionCookieOf(first.browser, system))
    expect(after).not.toBe(before)
    expect(await redisKeys(system, `rc:sess:${before}`)).toHaveLength(0)
    const stored = JSON.parse((await system.redis.get(`rc:sess:${after}`)) ?? '{}') as { flows?: object }
    expect(Object.keys(stored.flows ?? {})).toHaveLength(2)
    expect(second.authorizeUrl.searchParams.get('state')).not.toBe(first.authorizeUrl.searchParams.get('state'))
  })
})

describe('the host backend\'s routes', () => {
  it('never touch a browser session on /v1, even for a request that carries the session cookie', async () => {
    const flow = await launchFlow(system)
    const cookie = `raven-connect.sid=${sessionCookieOf(flow.browser, system)}`
    const commands = await recordRedisCommands(redis.url, 'raven-connect', async () => {
      const res = await fetch(`${system.url}/v1/users/${flow.leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}`, Cookie: cookie } })
      expect(res.status).toBe(200)
    })
    // The rate limit counted this call: the recording saw the request path's Redis work.
    expect(commands.some((command) => command.name === 'incr' || command.name === 'set')).toBe(true)
    expect(commands.filter((command) => command.args.some((arg) => arg.startsWith('rc:sess:')))).toEqual([])
  })
})

describe('GET /connect/raven, the rules the script keeps', () => {
  it('refuses a link whose record says it expired, and writes no session for it', async () => {
    const { connectUrl } = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const key = linkKey(connectUrl)
    const record = JSON.parse((await system.redis.get(key)) ?? '{}') as { expiresAt: string }
    // Redis still holds it (its TTL is the primary guard); the record's own expiry already passed.
    await system.redis.set(key, JSON.stringify({ ...record, expiresAt: new Date(Date.now() - 1000).toISOString() }), 'KEEPTTL')
    const sessionsBefore = (await redisKeys(system, 'rc:sess:*')).length
    const browser = system.browser()
    const answer = await browser.get(connectUrl)
    expect(answer.status).toBe(410)
    expect(answer.headers.get('set-cookie')).toBeNull()
    expect(await system.redis.exists(key)).toBe(0)
    expect((await redisKeys(system, 'rc:sess:*')).length).toBe(sessionsBefore)
  })

  it('does not spend the link of a launch over the rate limit', async () => {
    const { connectUrl } = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    // Exhaust this client's window (the test's loopback address) with guesses.
    for (let i = 0; i < LIMIT; i++) await system.browser().get(`${system.url}/connect/raven?session=rc_cs_guess`)
    const answer = await system.browser().get(connectUrl)
    expect(answer.status).toBe(429)
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await system.redis.exists(linkKey(connectUrl))).toBe(1)
    // The window is the limiter's own counter: the callback, behind the ordinary limiter, is refused too.
    const counters = await redisKeys(system, 'rc:rl:browser:*')
    expect(counters).toHaveLength(1)
    await system.redis.del(...counters)
    expect((await system.browser().get(connectUrl)).status).toBe(303)
  })

  it("carries the connect session's locale into the flow, on the script's path and on a returning browser's", async () => {
    // A fresh browser: the script writes the link's record (locale included) into the new session.
    const fresh = await flowToCallback(system, { locale: 'pt-BR', decision: 'decline' })
    const stored = JSON.parse((await system.redis.get(`rc:sess:${sessionIdOf(sessionCookieOf(fresh.browser, system))}`)) ?? '{}') as {
      flows?: Record<string, { link?: { locale?: string } }>
    }
    expect(Object.values(stored.flows ?? {}).map((flow) => flow.link?.locale)).toEqual(['pt-BR'])
    const freshPage = await fresh.browser.get(fresh.callbackUrl.href, { 'accept-language': 'en' })
    expect(htmlLang(freshPage.body)).toBe('pt-BR')
    // The same browser again (express-session's path): its next flow speaks its own link's language.
    const returning = await flowToCallback(system, { browser: fresh.browser, locale: 'es', decision: 'decline' })
    const returningPage = await returning.browser.get(returning.callbackUrl.href, { 'accept-language': 'en' })
    expect(htmlLang(returningPage.body)).toBe('es')
    expect(outcomeOf(returningPage)).toEqual({ raven: 'error', reason: 'access_denied' })
  })

  it('writes a session the callback reads through express-session: the flow ends connected', async () => {
    const flow = await flowToCallback(system, { returnTo: `${system.returnOrigin}/done` })
    const answer = await flow.browser.get(flow.callbackUrl)
    expect(outcomeOf(answer)).toMatchObject({ raven: 'connected' })
  })
})

import { describe, expect, it } from '@jest/globals'
import request from 'supertest'

import { expectProblem, sessionCookieOf, useSystem } from './helpers/kit/index.js'

const system = useSystem()
const post = (body: unknown, key: string | null = system.secrets.apiKey) => {
  const req = request(system.url).post('/v1/connect-sessions').set('Content-Type', 'application/json')
  if (key !== null) req.set('Authorization', `Bearer ${key}`)
  return req.send(typeof body === 'string' ? body : JSON.stringify(body))
}

describe('POST /v1/connect-sessions', () => {
  it('creates a one-time connect link for a known Leaf user', async () => {
    const leafUserId = system.newLeafUser()
    const res = await post({ leafUserId, returnTo: `${system.returnOrigin}/back`, mode: 'popup' })
    expect(res.status).toBe(201)
    expect(Object.keys(res.body).sort()).toEqual(['connectUrl', 'expiresAt', 'id', 'leafUserId'])
    expect(res.body.leafUserId).toBe(leafUserId)
    expect(res.body.id).toMatch(/^cs_/)
    expect(res.body.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const token = new URL(res.body.connectUrl).searchParams.get('session') ?? ''
    expect(token).toMatch(/^rc_cs_[A-Za-z0-9_-]{43}$/)
    // Only the hash of the token is stored in Redis.
    expect(await system.redis.keys(`*${token}*`)).toEqual([])
    expect(res.headers['cache-control']).toBe('no-store')
  })

  describe('API key', () => {
    it.each([
      ['no Authorization header', null],
      ['a wrong key', 'wrong-key-wrong-key-wrong'],
      ['an empty key', ''],
      ['a key with a suffix', 'SUFFIX'],
    ])('answers 401 with WWW-Authenticate for %s', async (_label, key) => {
      const presented = key === 'SUFFIX' ? `${system.secrets.apiKey}x` : key
      const res = await post({ leafUserId: 'abc' }, presented)
      await expectProblem(res, 401, 'unauthorized')
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
    })

    it('does not accept the key from the query string or another scheme', async () => {
      const query = await request(system.url)
        .post(`/v1/connect-sessions?api_key=${system.secrets.apiKey}&access_token=${system.secrets.apiKey}`)
        .send({ leafUserId: 'abc' })
      await expectProblem(query, 401, 'unauthorized')
      const basic = await request(system.url)
        .post('/v1/connect-sessions')
        .set('Authorization', `Basic ${Buffer.from(`x:${system.secrets.apiKey}`).toString('base64')}`)
        .send({ leafUserId: 'abc' })
      await expectProblem(basic, 401, 'unauthorized')
    })
  })

  describe('body validation', () => {
    it.each([
      ['both leafUserId and externalId', { leafUserId: 'a', externalId: 'b' }, 'invalid_body'],
      ['neither', { returnTo: 'https://app.example.test/' }, 'invalid_body'],
      ['an unknown field', { leafUserId: 'a', admin: true }, 'invalid_body'],
      ['a wrong mode', { leafUserId: 'a', mode: 'iframe' }, 'invalid_body'],
      ['popup mode without returnTo (the popup has nowhere to post its result)', { leafUserId: 'a', mode: 'popup' }, 'invalid_body'],
      ['name without externalId', { leafUserId: 'a', name: 'x' }, 'invalid_body'],
      ['an invalid email', { externalId: 'x', email: 'not-an-email' }, 'invalid_body'],
      ['a JSON array', [], 'invalid_body'],
      ['a number leafUserId', { leafUserId: 42 }, 'invalid_leaf_user_id'],
    ])('answers 400 for %s', async (_label, body, code) => {
      await expectProblem(await post(body), 400, code)
    })

    it.each(['../etc/passwd', 'a/b', '', 'x'.repeat(65), 'a b', 'ä', 'a%2Fb', 'abc?x=1', 'abc\n'])(
      'refuses leafUserId %j with 400 and never asks Leaf',
      async (leafUserId) => {
        const before = system.leaf.state.requests.length
        await expectProblem(await post({ leafUserId }), 400, 'invalid_leaf_user_id')
        expect(system.leaf.state.requests.length).toBe(before)
      },
    )

    it('answers 400 for malformed JSON, 415 for a non-JSON body, 413 above 100 kB', async () => {
      await expectProblem(await post('{"leafUserId": '), 400, 'invalid_json')
      const form = await request(system.url)
        .post('/v1/connect-sessions')
        .set('Authorization', `Bearer ${system.secrets.apiKey}`)
        .type('form')
        .send('leafUserId=abc')
      await expectProblem(form, 415, 'unsupported_media_type')
      await expectProblem(await post({ externalId: 'x'.repeat(120_000) }), 413, 'payload_too_large')
    })
  })

  describe('returnTo', () => {
    it.each([
      ['a look-alike host', 'https://app.example.test.evil.example/'],
      ['a prefix trick', 'https://app.example.testevil.example/'],
      ['userinfo', 'https://app.example.test@evil.example/'],
      ['userinfo on the allowed host', 'https://user:pw@app.example.test/'],
      ['scheme-relative', '//evil.example/'],
      ['a relative path', '/settings'],
      ['path traversal', '../../evil'],
      ['javascript:', 'javascript:alert(1)//https://app.example.test/'],
      ['data:', 'data:text/html,hi'],
      ['a backslash', 'https://app.example.test\\@evil.example/'],
      ['CR/LF', 'https://app.example.test/%0d%0a\r\nSet-Cookie: x=1'],
      ['another scheme on the host', 'http://app.example.test/'],
      ['another port', 'https://app.example.test:8443/'],
      ['a non-string', 42],
    ])('refuses %s', async (_label, value) => {
      const res = await post({ leafUserId: system.newLeafUser(), returnTo: value })
      expect(res.status).toBe(400)
      expect(['invalid_return_to', 'return_to_not_allowed', 'invalid_body']).toContain(res.body.code)
    })

    it('accepts an allowed origin in any case and with its default port', async () => {
      const res = await post({ leafUserId: system.newLeafUser(), returnTo: 'HTTPS://APP.EXAMPLE.TEST:443/Back?x=1#y' })
      expect(res.status).toBe(201)
    })
  })

  describe('Leaf users', () => {
    it('answers 404 for a leafUserId Leaf does not know', async () => {
      await expectProblem(await post({ leafUserId: 'no-such-user' }), 404, 'leaf_user_not_found')
    })

    it('answers 409 when two Leaf users have the same externalId', async () => {
      system.leaf.state.addUser({ externalId: 'twin' })
      system.leaf.state.addUser({ externalId: 'twin' })
      await expectProblem(await post({ externalId: 'twin' }), 409, 'ambiguous_external_id')
    })

    it('finds the exact externalId even when Leaf filters by substring', async () => {
      const exact = system.leaf.state.addUser({ externalId: 'farm-7' })
      system.leaf.state.addUser({ externalId: 'farm-77' })
      const res = await post({ externalId: 'farm-7' })
      expect(res.status).toBe(201)
      expect(res.body.leafUserId).toBe(exact.id)
    })

    it('answers 502 when Leaf is down, without a Leaf body', async () => {
      system.leaf.faults.unavailable(2_000)
      const res = await post({ leafUserId: system.newLeafUser() })
      system.leaf.faults.reset()
      await expectProblem(res, 502, 'upstream_unavailable')
    })
  })
})

describe('GET /connect/raven (launch)', () => {
  it('works once: a used link gets a readable 4xx page', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const browser = system.browser()
    expect((await browser.get(session.connectUrl)).status).toBe(303)
    const again = await system.browser().get(session.connectUrl)
    expect(again.status).toBe(410)
    expect(again.headers.get('content-type')).toContain('text/html')
    expect(again.body).toContain('expired or was already used')
    expect(again.body).toContain('Connect Raven again')
    expect(again.headers.get('cache-control')).toContain('no-store')
  })

  it('expires after CONNECT_SESSION_TTL_SECONDS (Redis TTL set)', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const keys = await system.redis.keys('rc:cs:*')
    const ttls = await Promise.all(keys.map((key) => system.redis.ttl(key)))
    expect(ttls.every((ttl) => ttl > 0 && ttl <= 900)).toBe(true)
    expect(session.expiresAt).toBeTruthy()
  })

  it.each([
    ['no token', '/connect/raven', 400],
    ['an empty token', '/connect/raven?session=', 400],
    ['a forged token', '/connect/raven?session=rc_cs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 410],
    ['a repeated token', '/connect/raven?session=a&session=b', 400],
    ['a huge token', `/connect/raven?session=${'x'.repeat(4000)}`, 410],
  ])('answers %s with a readable page', async (_label, path, status) => {
    const res = await system.browser().get(`${system.url}${path}`)
    expect(res.status).toBe(status)
    expect(res.body).toContain('<main')
    expect(res.body).toContain('Connect Raven again')
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('moves the browser to a new session id (no fixation)', async () => {
    const browser = system.browser()
    const first = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    await browser.get(first.connectUrl)
    const before = sessionCookieOf(browser, system)
    const second = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    await browser.get(second.connectUrl)
    const after = sessionCookieOf(browser, system)
    expect(before).toBeTruthy()
    expect(after).toBeTruthy()
    expect(after).not.toBe(before)
  })

  it('sets a HttpOnly, SameSite=Lax, host-only session cookie', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const res = await system.browser().get(session.connectUrl)
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^raven-connect\.sid=/)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).not.toMatch(/Domain=/i)
  })
})

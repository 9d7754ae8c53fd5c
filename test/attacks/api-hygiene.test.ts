// API hygiene (OWASP ASVS 5 V4 API, V2 validation, V16 logging; RFC 6750 §3): bearer keys, input
// validation, duplicate and prototype-reaching parameters, one log line per record, and the right
// status with a problem+json body (JSON routes) or a page (browser routes) for every malformed request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startRedisServer, type ThrowawayRedis } from '../../sandboxes/redis/throwaway-redis.js'
import { expectNoInternals, expectProblem, parseRaw, rawRequest, redisKeys, useSystem, waitFor } from '../helpers/kit/index.js'

let redis: ThrowawayRedis
beforeAll(async () => {
  // A Redis of its own, so counting keys is not disturbed by other test files.
  redis = await startRedisServer()
})
const system = useSystem(() => ({ env: { REDIS_URL: redis.url } }))
// After the system's own: after-hooks run in declaration order, so Redis outlives it.
afterAll(async () => {
  await redis.stop()
})

const v1 = (path: string, init: RequestInit = {}, key = system.secrets.apiKey) =>
  fetch(`${system.url}/v1${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } })

const postJson = (body: string, headers: Record<string, string> = {}) =>
  v1('/connect-sessions', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })

describe('API keys', () => {
  const key = () => system.secrets.apiKey
  const flip = (value: string) => value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A')

  it.each<[string, () => Record<string, string>, () => string]>([
    ['no Authorization header', () => ({}), () => ''],
    ['an empty bearer', () => ({ Authorization: 'Bearer ' }), () => ''],
    ['a wrong key of the same length', () => ({ Authorization: `Bearer ${flip(key())}` }), () => ''],
    ['a prefix of the key', () => ({ Authorization: `Bearer ${key().slice(0, 10)}` }), () => ''],
    ['the key plus a suffix', () => ({ Authorization: `Bearer ${key()}x` }), () => ''],
    ['the key under Basic', () => ({ Authorization: `Basic ${Buffer.from(`${key()}:`).toString('base64')}` }), () => ''],
    ['the key as a bare header value', () => ({ Authorization: key() }), () => ''],
    ['the key in X-API-Key', () => ({ 'X-API-Key': key() }), () => ''],
    ['the key in ?api_key=', () => ({}), () => `?api_key=${encodeURIComponent(key())}`],
    ['the key in ?access_token=', () => ({}), () => `?access_token=${encodeURIComponent(key())}`],
  ])('answers 401 with WWW-Authenticate: Bearer to %s', async (_name, headers, query) => {
    const res = await fetch(`${system.url}/v1/users/abc/raven-connection${query()}`, { headers: headers() })
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/)
    await expectProblem(res, 401, 'unauthorized')
  })

  it('refuses two Authorization headers even when one carries the right key', async () => {
    const answer = parseRaw(
      await rawRequest(
        system,
        `GET /v1/users/abc/raven-connection HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key()}\r\nAuthorization: Bearer wrong-key-0000000\r\nConnection: close\r\n\r\n`,
      ),
    )
    expect(answer.status).toBe(401)
  })

  it('accepts the key with the scheme in any case (RFC 6750 §2.1)', async () => {
    const res = await fetch(`${system.url}/v1/users/${system.newLeafUser()}/raven-connection`, { headers: { Authorization: `bearer ${key()}` } })
    expect(res.status).toBe(200)
  })
})

describe('input validation', () => {
  it('answers 400 to dot-segment leafUserIds sent as is (fetch would normalize them away)', async () => {
    const before = system.leaf.state.requests.length
    for (const id of ['..', '%2e%2e', '.']) {
      const answer = parseRaw(
        await rawRequest(system, `GET /v1/users/${id}/raven-connection HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${system.secrets.apiKey}\r\nConnection: close\r\n\r\n`),
      )
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid_leaf_user_id' })
    }
    expect(system.leaf.state.requests.length).toBe(before)
  })

  it.each(['a%20b', 'x'.repeat(65), 'a%2Fb', 'a%00', '%C3%A9', '%3Cx%3E', 'a.b', 'a%0Ab'])(
    'answers 400 to the leafUserId %s in a path and never forwards it to Leaf',
    async (leafUserId) => {
      const before = system.leaf.state.requests.length
      for (const suffix of ['', '/events']) {
        await expectProblem(await v1(`/users/${leafUserId}/raven-connection${suffix}`), 400, 'invalid_leaf_user_id')
      }
      await expectProblem(await v1(`/users/${leafUserId}/raven-connection`, { method: 'DELETE' }), 400, 'invalid_leaf_user_id')
      expect(system.leaf.state.requests.length).toBe(before)
    },
  )

  it.each<[string, unknown, string]>([
    ['both ids', { leafUserId: 'abc', externalId: 'e1' }, 'invalid_body'],
    ['neither id', { returnTo: 'https://app.example.test/' }, 'invalid_body'],
    ['a numeric leafUserId', { leafUserId: 42 }, 'invalid_leaf_user_id'],
    ['an array leafUserId', { leafUserId: ['abc'] }, 'invalid_leaf_user_id'],
    ['an object leafUserId', { leafUserId: { $ne: null } }, 'invalid_leaf_user_id'],
    ['an empty leafUserId', { leafUserId: '' }, 'invalid_leaf_user_id'],
    ['a leafUserId of 65 characters', { leafUserId: 'x'.repeat(65) }, 'invalid_leaf_user_id'],
    ['an externalId with a newline', { externalId: 'a\nb' }, 'invalid_body'],
    ['an externalId of 256 characters', { externalId: 'e'.repeat(256) }, 'invalid_body'],
    ['a name with a NUL', { externalId: 'e2', name: 'a\u0000b' }, 'invalid_body'],
    ['a name of 201 characters', { externalId: 'e3', name: 'n'.repeat(201) }, 'invalid_body'],
    ['an email that is not one', { externalId: 'e4', email: 'not-an-email' }, 'invalid_body'],
    ['an email with header injection', { externalId: 'e5', email: 'a@b.test\r\nBcc: x@evil.test' }, 'invalid_body'],
    ['name without externalId', { leafUserId: 'abc', name: 'Dana' }, 'invalid_body'],
    ['an unknown field', { leafUserId: 'abc', admin: true }, 'invalid_body'],
    ['an unknown mode', { leafUserId: 'abc', mode: 'iframe' }, 'invalid_body'],
    ['a non-string returnTo', { leafUserId: 'abc', returnTo: ['https://app.example.test/'] }, 'invalid_body'],
    ['an array body', [{ leafUserId: 'abc' }], 'invalid_body'],
    ['a string body', 'abc', 'invalid_json'],
    ['a null body', null, 'invalid_json'],
  ])('answers 400 to %s, with no Leaf call and no connect session', async (_name, body, code) => {
    const before = system.leaf.state.requests.length
    await expectProblem(await postJson(JSON.stringify(body)), 400, code)
    expect(system.leaf.state.requests.length).toBe(before)
    expect(await redisKeys(system, 'rc:cs:*')).toHaveLength(0)
  })
})

describe('duplicate parameters and prototype pollution', () => {
  it.each([
    ['a repeated key', '{"leafUserId":"abc","leafUserId":"def"}'],
    ['a repeated key spelled with an escape', '{"leafUserId":"abc","leaf\\u0055serId":"def"}'],
    ['a repeated key in a nested object', '{"leafUserId":"abc","returnTo":"x","x":{"k":1,"k":2}}'],
  ])('answers 400 duplicate_key to %s', async (_name, body) => {
    const before = system.leaf.state.requests.length
    await expectProblem(await postJson(body), 400, 'duplicate_key')
    expect(system.leaf.state.requests.length).toBe(before)
  })

  it.each([
    '{"__proto__":{"polluted":"yes"},"leafUserId":"abc"}',
    '{"leafUserId":"abc","returnTo":{"__proto__":{"polluted":"yes"}}}',
    '{"constructor":{"prototype":{"polluted":"yes"}},"leafUserId":"abc"}',
    '{"leafUserId":"abc","x":[{"prototype":{"polluted":"yes"}}]}',
    '{"\\u005f_proto__":{"polluted":"yes"},"leafUserId":"abc"}',
  ])('answers 400 forbidden_key to %s and pollutes nothing', async (body) => {
    const before = system.leaf.state.requests.length
    await expectProblem(await postJson(body), 400, 'forbidden_key')
    expect(system.leaf.state.requests.length).toBe(before)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('ignores prototype-shaped query parameters without side effects', async () => {
    const query = '?__proto__[polluted]=yes&constructor[prototype][polluted]=yes&__proto__.polluted=yes'
    const status = await v1(`/users/${system.newLeafUser()}/raven-connection${query}`)
    expect(status.status).toBe(200)
    const launch = await fetch(`${system.url}/connect/raven${query}&session=rc_cs_x`)
    expect(launch.status).toBe(410)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(await redisKeys(system, 'rc:sess:*')).toHaveLength(0)
  })
})

describe('malformed requests get the right status, never a stack trace or the default page', () => {
  it('413 for a JSON body over 100 kB, and for an oversized form_post on the callback (as a page)', async () => {
    const big = JSON.stringify({ leafUserId: 'abc', returnTo: `https://app.example.test/${'x'.repeat(110_000)}` })
    await expectProblem(await postJson(big), 413, 'payload_too_large')
    const form = await fetch(`${system.url}/connect/raven/callback`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `state=${'s'.repeat(20_000)}`,
    })
    expect(form.status).toBe(413)
    expect(form.headers.get('content-type')).toContain('text/html')
    expectNoInternals(await form.text())
  })

  it.each(['{"leafUserId":', "{'leafUserId':'abc'}", '{"leafUserId":"abc"}}', '\u0000{}', 'true'])('400 invalid_json for %j', async (body) => {
    await expectProblem(await postJson(body), 400, 'invalid_json')
  })

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json'])(
    '415 for a body sent as %s',
    async (type) => {
      await expectProblem(await postJson('{"leafUserId":"abc"}', { 'Content-Type': type }), 415, 'unsupported_media_type')
    },
  )

  it('414 for an over-long URL: problem+json on /v1, a page on /connect', async () => {
    await expectProblem(await v1(`/users/${'a'.repeat(5000)}/raven-connection`), 414, 'uri_too_long')
    const page = await fetch(`${system.url}/connect/raven/callback?state=${'s'.repeat(5000)}`)
    expect(page.status).toBe(414)
    expect(page.headers.get('content-type')).toContain('text/html')
    expectNoInternals(await page.text())
  })

  it('431 for too many or too large headers: problem+json on JSON routes, a page on /connect', async () => {
    const many = Object.fromEntries(Array.from({ length: 110 }, (_, i) => [`x-filler-${i}`, 'x']))
    await expectProblem(await v1('/users/abc/raven-connection', { headers: many }), 431, 'headers_too_large')
    await expectProblem(await fetch(`${system.url}/api/raven-connection`, { headers: { 'x-big': 'b'.repeat(13_000) } }), 431, 'headers_too_large')
    const page = await fetch(`${system.url}/connect/raven`, { headers: { 'x-big': 'b'.repeat(13_000) } })
    expect(page.status).toBe(431)
    expect(page.headers.get('content-type')).toContain('text/html')
  })

  it("431 beyond Node's own header limit too, answered by the hardened server in the route's format", async () => {
    const huge = 'h'.repeat(20_000)
    const json = parseRaw(await rawRequest(system, `GET /v1/users/abc/raven-connection HTTP/1.1\r\nHost: x\r\nX-Big: ${huge}\r\n\r\n`))
    expect(json.status).toBe(431)
    expect(json.headers['content-type']).toContain('application/problem+json')
    expect(JSON.parse(json.body)).toMatchObject({ status: 431, code: 'headers_too_large' })
    const page = parseRaw(await rawRequest(system, `GET /connect/raven?session=x HTTP/1.1\r\nHost: x\r\nX-Big: ${huge}\r\n\r\n`))
    expect(page.status).toBe(431)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.headers['x-frame-options']).toBe('DENY')
  })

  it('400 for requests the HTTP parser refuses (bad header line, conflicting Content-Length, no Host)', async () => {
    const answers = await Promise.all([
      rawRequest(system, 'GET /v1/users/abc/raven-connection HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'),
      rawRequest(system, 'POST /v1/connect-sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}'),
      rawRequest(system, 'GET /v1/users/abc/raven-connection HTTP/1.1\r\n\r\n'),
      rawRequest(system, 'GET /connect/raven\x01 HTTP/1.1\r\nHost: x\r\n\r\n'),
    ])
    for (const raw of answers) {
      const answer = parseRaw(raw)
      expect(answer.status).toBe(400)
      expectNoInternals(answer.body)
    }
    expect(parseRaw(answers[0] ?? '').headers['content-type']).toContain('application/problem+json')
    expect(parseRaw(answers[3] ?? '').headers['content-type']).toContain('text/html')
  })

  it('400 for malformed percent-encoding in a path: problem+json on /v1, a page on /connect', async () => {
    await expectProblem(await v1('/users/%E0%A4%A/raven-connection'), 400, 'bad_request')
    const page = await fetch(`${system.url}/connect/%E0%A4%A`)
    expect(page.status).toBeGreaterThanOrEqual(400)
    expect(page.status).toBeLessThan(500)
    expect(page.headers.get('content-type')).toContain('text/html')
    expectNoInternals(await page.text())
  })

  it('405 with Allow for wrong methods: problem+json on /v1 and /api, a page on /connect', async () => {
    const getSessions = await v1('/connect-sessions')
    expect(getSessions.headers.get('allow')).toBe('POST')
    await expectProblem(getSessions, 405, 'method_not_allowed')
    const put = await v1('/users/abc/raven-connection', { method: 'PUT' })
    expect(put.headers.get('allow')).toBe('GET, DELETE')
    await expectProblem(put, 405, 'method_not_allowed')
    await expectProblem(await fetch(`${system.url}/api/raven-connection/events`, { method: 'POST' }), 405, 'method_not_allowed')

    for (const [method, path, allow] of [
      ['POST', '/connect/raven', 'GET'],
      ['DELETE', '/connect/raven', 'GET'],
      ['PUT', '/connect/raven/callback', 'GET, POST'],
    ] as const) {
      const page = await fetch(`${system.url}${path}`, { method })
      expect({ status: page.status, allow: page.headers.get('allow'), type: page.headers.get('content-type') }).toEqual({
        status: 405,
        allow,
        type: expect.stringContaining('text/html'),
      })
      expectNoInternals(await page.text())
    }
  })

  it('never lets a HEAD (a link checker) spend a connect link', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const head = await fetch(session.connectUrl, { method: 'HEAD', redirect: 'manual' })
    expect(head.status).toBe(405)
    expect((await fetch(session.connectUrl, { redirect: 'manual' })).status).toBe(303)
  })
})

describe('logging', () => {
  it('keeps each record one JSON line, and logs each hostile request exactly once, without its query', async () => {
    const hostile: Array<[string, RequestInit?]> = [
      ['/v1/users/a%0Ab/raven-connection'],
      ['/v1/users/a%0D%0A%7B%22level%22%3A60%7D/raven-connection'],
      ['/connect/raven?session=rc_cs_x%0A%7B%22level%22%3A60%7D'],
      ['/connect/%E2%80%A8%1B%5B31m'],
      [`/api/${'%0A'.repeat(500)}`],
      ['/v1/connect-sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"externalId":"a\\nb\\u2028c"}' }],
      ['/v1/connect-sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":' }],
    ]
    const ids = hostile.map((_, i) => `hyg-${i}-${Date.now()}`)
    await Promise.all(
      hostile.map(([path, init], i) =>
        fetch(`${system.url}${path}`, {
          ...init,
          headers: { Authorization: `Bearer ${system.secrets.apiKey}`, 'X-Request-Id': ids[i] ?? '', ...(init?.headers as Record<string, string>) },
        }),
      ),
    )
    // Records are written when each response finishes, possibly just after the client has it.
    const requestRecords = () =>
      system.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.msg === 'request' && ids.includes(r.reqId as string))
    await waitFor('a request record for each', () => requestRecords().length >= ids.length, 1000, 20)

    for (const line of system.logs) {
      expect(() => JSON.parse(line)).not.toThrow()
      expect(line).not.toMatch(/[\r\n\u2028\u2029]/)
    }
    const records = requestRecords()
    expect(records.map((r) => r.reqId).sort()).toEqual([...ids].sort())
    for (const record of records) {
      expect(String(record.path)).not.toContain('?')
      expect(String(record.path).length).toBeLessThanOrEqual(201)
    }
    expect(system.logs.join('\n')).not.toContain('rc_cs_x')
  })
})

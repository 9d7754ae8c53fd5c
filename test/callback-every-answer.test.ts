// Every answer of /connect/raven/callback is a flow result: also the ones written before the handler
// runs (Node's parser, request limits, body parsing, method and path checks, the rate limiter, a crash).
// Each carries <main data-raven="error" data-reason="invalid_request"> (server_error for a 5xx) and
// tells the grower in words what to do next.
import { connect } from 'node:net'

import { describe, expect, it } from '@jest/globals'

import { callbackWith, expectNoInternals, flowToCallback, launchFlow, mainAttribute, outcomeOf, parseRaw, rawRequest, sessionCookieOf, sessionIdOf, useSystem } from './helpers/kit/index.js'
import type { TestSystem } from './helpers/system.js'

const system = useSystem()
const LIMIT = 3
const limited = useSystem({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'loopback' } })

const CALLBACK = '/connect/raven/callback'

/** A result page: the status, HTML, the flow result on <main>, and words that say what to do. */
function expectResultPage(answer: { status: number; contentType: string | null | undefined; body: string }, status: number): void {
  const reason = status >= 500 ? 'server_error' : 'invalid_request'
  expect({
    status: answer.status,
    type: answer.contentType,
    raven: mainAttribute(answer.body, 'data-raven'),
    reason: mainAttribute(answer.body, 'data-reason'),
  }).toEqual({ status, type: expect.stringContaining('text/html'), raven: 'error', reason })
  expect(answer.body).toMatch(/go back to your app/i)
  expectNoInternals(answer.body)
}

async function page(res: Response): Promise<{ status: number; contentType: string | null; body: string }> {
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() }
}

/** Sends the request head in two writes, as headers split over TCP segments arrive: the line, then the rest. */
function splitRequest(target: Pick<TestSystem, 'url'>, first: string, rest: string): Promise<string> {
  const { hostname, port } = new URL(target.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer in time'))
    }, 5000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    // A pause between the writes so the service reads them as two chunks (nothing is asserted on time:
    // were they read as one, the request line would simply be in the failing chunk too).
    socket.write(first, () => setTimeout(() => socket.write(rest), 100))
  })
}

describe('GET|POST /connect/raven/callback: every answer is a result', () => {
  it('414 for an over-long URL', async () => {
    expectResultPage(await page(await fetch(callbackWith(system, `state=${'s'.repeat(5000)}`))), 414)
  })

  it('431 for too many headers (the request limits)', async () => {
    const many = Object.fromEntries(Array.from({ length: 110 }, (_, i) => [`x-filler-${i}`, 'x']))
    expectResultPage(await page(await fetch(callbackWith(system, 'state=s&code=c'), { headers: many })), 431)
  })

  it("431 beyond Node's own header limit, answered by the server itself", async () => {
    const raw = parseRaw(await rawRequest(system, `GET ${CALLBACK}?state=s&code=c HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(20_000)}\r\n\r\n`))
    expectResultPage({ status: raw.status, contentType: raw.headers['content-type'], body: raw.body }, 431)
  })

  it("431 beyond Node's limit when the oversized headers arrive in a later TCP segment than the request line", async () => {
    const raw = parseRaw(await splitRequest(system, `GET ${CALLBACK}?state=s&code=c HTTP/1.1\r\nHost: x\r\n`, `Cookie: ${'c'.repeat(20_000)}\r\n\r\n`))
    expectResultPage({ status: raw.status, contentType: raw.headers['content-type'], body: raw.body }, 431)
    // The same split on a JSON route is still problem+json.
    const json = parseRaw(await splitRequest(system, 'GET /v1/users/abc/raven-connection HTTP/1.1\r\nHost: x\r\n', `X-Big: ${'b'.repeat(20_000)}\r\n\r\n`))
    expect(json.status).toBe(431)
    expect(json.headers['content-type']).toContain('application/problem+json')
  })

  it('400 for a request line the parser refuses', async () => {
    const raw = parseRaw(await rawRequest(system, `GET ${CALLBACK}?state=\x01 HTTP/1.1\r\nHost: x\r\n\r\n`))
    expectResultPage({ status: raw.status, contentType: raw.headers['content-type'], body: raw.body }, 400)
  })

  it('413 for a form_post body over 16 kB', async () => {
    const res = await fetch(callbackWith(system, ''), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `state=${'s'.repeat(20_000)}`,
    })
    expectResultPage(await page(res), 413)
  })

  it.each([
    ['an unknown charset', { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-42' }],
    ['an unknown content encoding', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'x-unknown' }],
  ])('415 for a form_post body with %s', async (_label, headers) => {
    const res = await fetch(callbackWith(system, ''), { method: 'POST', headers, body: 'state=s&code=c' })
    expectResultPage(await page(res), 415)
  })

  it.each(['PUT', 'DELETE', 'PATCH'])('405 for %s', async (method) => {
    const res = await fetch(callbackWith(system, 'state=s&code=c'), { method })
    expect(res.headers.get('allow')).toBe('GET, POST')
    expectResultPage(await page(res), 405)
  })

  it('405 for HEAD, which a link checker may send: the code is not exchanged and the grower can still finish', async () => {
    const flow = await flowToCallback(system)
    const head = await flow.browser.request(flow.callbackUrl, { method: 'HEAD' })
    expect(head.status).toBe(405)
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl)).raven).toBe('connected')
  })

  it.each(['/connect/raven/callback/extra', '/connect/raven/callback/..%2f'])('404 for %s under the callback path', async (path) => {
    expectResultPage(await page(await fetch(`${system.url}${path}?state=s&code=c`)), 404)
  })

  it('429 past the rate limit, also for a client that does not ask for HTML, with Retry-After', async () => {
    const headers = { 'X-Forwarded-For': '203.0.113.77', Accept: 'application/json' }
    for (let i = 0; i < LIMIT; i++) expect((await fetch(callbackWith(limited, 'state=s&code=c'), { headers })).status).toBe(410)
    const res = await fetch(callbackWith(limited, 'state=s&code=c'), { headers })
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
    const answer = await page(res)
    expectResultPage(answer, 429)
    expect(answer.body).toMatch(/wait a minute/i)
  })

  it('500 for an unexpected failure before the handler (a corrupt session record in Redis), with server_error', async () => {
    const flow = await launchFlow(system)
    await system.redis.set(`rc:sess:${sessionIdOf(sessionCookieOf(flow.browser, system))}`, '{not json', 'KEEPTTL')
    const res = await flow.browser.get(callbackWith(system, `state=${flow.state}&code=c`))
    expectResultPage({ status: res.status, contentType: res.headers.get('content-type'), body: res.body }, 500)
  })
})

// The canary sweep (contract: "Secrets never leave the server"; OWASP ASVS 5 V14 data protection, V16
// logging). Every secret of the system is a unique value, and so is every token the sandboxes issue;
// the sweep drives the paths of the attack suite (successes, declines, every Raven and Leaf fault,
// protocol attacks, hostile input, the /v1 and /api calls, operations) and then looks for each canary
// in every place a secret could escape: response bodies, headers and Location, pages, log lines,
// /metrics, webhook payloads and headers, and Redis in clear.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startRedisServer, type ThrowawayRedis } from '../../sandboxes/redis/throwaway-redis.js'
import type { BrowserResponse, TestBrowser } from '../helpers/browser.js'
import { callbackWith, consent, flowToCallback, launchFlow, rawRequest, waitFor, type FlowOptions } from '../helpers/kit/index.js'
import { startSystem, type TestSystem } from '../helpers/system.js'

const WEBHOOK_SECRET = `whsec_canary_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`
/** Written into the bodies of upstream error answers: a logged library error must not carry them. */
const LEAF_BODY_MARKER = `leaf-body-canary-${Date.now().toString(36)}`
const RAVEN_BODY_MARKER = 'Raven hit a snag.'

interface Received {
  headers: Record<string, string | string[] | undefined>
  body: string
}

let redis: ThrowawayRedis
let receiver: Server
const webhooks: Received[] = []

beforeAll(async () => {
  redis = await startRedisServer()
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      webhooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  receiver.closeAllConnections()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
  await redis.stop()
})

/** What the service said to anyone: one record per answer, with the name of the request for reports. */
class Transcript {
  readonly answers: Array<{ what: string; text: string }> = []
  /** Connect tokens, and the one place each may appear: the host's 201 reply. */
  readonly connectTokens: string[] = []
  readonly browsers: TestBrowser[] = []
  /** Redis taken mid-run too: a parked refresh token may be gone by the end. */
  readonly redisSnapshots: string[] = []

  async fetch(system: TestSystem, path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${system.url}${path}`, { redirect: 'manual', ...init })
    const body = await res.text()
    this.answers.push({ what: `${init.method ?? 'GET'} ${path.slice(0, 80)}`, text: `${res.status}\n${headerText(res.headers)}\n${body}` })
    return new Response(body === '' || res.status === 204 || res.status === 304 ? null : body, { status: res.status, headers: res.headers })
  }

  track(browser: TestBrowser): TestBrowser {
    this.browsers.push(browser)
    return browser
  }

  serviceAnswers(system: TestSystem): Array<{ what: string; text: string }> {
    const fromBrowsers = this.browsers
      .flatMap((b) => b.history)
      .filter((r: BrowserResponse) => r.url.startsWith(system.url))
      .filter((r) => !(r.method === 'POST' && r.url.endsWith('/v1/connect-sessions')))
      .map((r) => ({ what: `${r.method} ${new URL(r.url).pathname}`, text: `${r.status}\n${r.location ?? ''}\n${headerText(r.headers)}\n${r.body}` }))
    return [...this.answers, ...fromBrowsers]
  }
}

function headerText(headers: Headers): string {
  const lines: string[] = []
  headers.forEach((value, name) => lines.push(`${name}: ${value}`))
  return lines.join('\n')
}

/** Every string in the Redis database, keys and values of every type. */
async function dumpRedis(system: TestSystem): Promise<string> {
  const parts: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await system.redis.scan(cursor, 'COUNT', 500)
    cursor = next
    for (const key of keys) {
      parts.push(key)
      const type = await system.redis.type(key)
      if (type === 'string') parts.push((await system.redis.get(key)) ?? '')
      else if (type === 'hash') parts.push(JSON.stringify(await system.redis.hgetall(key)))
      else if (type === 'list') parts.push(...(await system.redis.lrange(key, 0, -1)))
      else if (type === 'set') parts.push(...(await system.redis.smembers(key)))
      else if (type === 'zset') parts.push(...(await system.redis.zrange(key, 0, -1)))
      else if (type === 'stream') parts.push(JSON.stringify(await system.redis.xrange(key, '-', '+')))
    }
  } while (cursor !== '0')
  return parts.join('\n')
}

/** The forms a secret could take on the way out: as is, URL-encoded, inside a Basic header. */
function forms(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value), Buffer.from(value).toString('base64')])]
}

/** `<canary> in <sink>` for every canary found, in any of its forms, in any sink. */
function findLeaks(canaries: Array<[string, string]>, sinks: Array<[string, string]>): string[] {
  const leaks: string[] = []
  for (const [canaryName, value] of canaries) {
    for (const [sinkName, text] of sinks) {
      if (forms(value).some((form) => form.length >= 8 && text.includes(form))) leaks.push(`${canaryName} in ${sinkName}`)
    }
  }
  return leaks
}

/** Drives the paths of the attack suite against `system`, recording every answer. */
async function sweep(system: TestSystem, t: Transcript): Promise<void> {
  const key = { Authorization: `Bearer ${system.secrets.apiKey}` }
  const json = { ...key, 'Content-Type': 'application/json' }
  const original = system.createConnectSession.bind(system)
  system.createConnectSession = async (body) => {
    const reply = await original(body)
    t.connectTokens.push(new URL(reply.connectUrl).searchParams.get('session') ?? '')
    return reply
  }
  const complete = async (options: FlowOptions = {}) => {
    const browser = t.track(system.browser())
    const flow = await flowToCallback(system, { ...options, browser })
    await browser.get(flow.callbackUrl.href)
    return { browser, flow }
  }

  // Connected (redirect, page, popup), then the browser's own /api calls, including a disconnect.
  const connected = await complete({ returnTo: `${system.returnOrigin}/done?x=1#f` })
  t.redisSnapshots.push(await dumpRedis(system))
  await complete()
  const popupBrowser = t.track(system.browser())
  const popup = await launchFlow(system, { browser: popupBrowser, mode: 'popup', returnTo: `${system.returnOrigin}/p` })
  await popupBrowser.get((await consent(popupBrowser, popup.authorizeUrl)).href)
  for (const path of ['/api/raven-connection', '/api/raven-connection/events']) await connected.browser.get(`${system.url}${path}`)

  // The host backend's view of a connected grower: status, events (Leaf's hold secrets), disconnect.
  const leafUserId = connected.flow.leafUserId
  await t.fetch(system, `/v1/users/${leafUserId}/raven-connection`, { headers: key })
  await t.fetch(system, `/v1/users/${leafUserId}/raven-connection/events`, { headers: key })
  const eventSecrets = [...(system.leaf.state.eventSecrets.get(leafUserId) ?? [])]
  await t.fetch(system, `/v1/users/${leafUserId}/raven-connection`, { method: 'DELETE', headers: key })
  await connected.browser.request(`${system.url}/api/raven-connection`, { method: 'DELETE', headers: { 'x-requested-with': 'x' } })

  // Declined, and every Raven fault.
  await complete({ decision: 'decline', returnTo: `${system.returnOrigin}/no` })
  for (const tokenResponse of ['invalid_grant', 'invalid_client', 'server_error_html', 'non_json', 'omit_refresh_token'] as const) {
    system.raven.faults.set({ tokenResponse })
    await complete({ returnTo: `${system.returnOrigin}/fault` })
  }
  system.raven.faults.reset()
  for (const iss of ['wrong', 'omit'] as const) {
    system.raven.faults.set({ iss })
    await complete()
  }
  system.raven.faults.reset()

  // Leaf refuses, then Leaf is briefly down (accepted, delivered later by the worker).
  system.leaf.faults.script('POST', '/users/*/raven-credentials', { status: 400, body: { title: LEAF_BODY_MARKER, detail: LEAF_BODY_MARKER } })
  await complete({ returnTo: `${system.returnOrigin}/leaf` })
  system.leaf.faults.reset()
  const lateBrowser = t.track(system.browser())
  const late = await flowToCallback(system, { browser: lateBrowser, returnTo: `${system.returnOrigin}/late` })
  system.leaf.faults.unavailable(400, { retryAfterSeconds: 1 })
  await lateBrowser.get(late.callbackUrl.href)
  t.redisSnapshots.push(await dumpRedis(system))
  await waitFor('the delayed delivery', () => system.leaf.state.credentialFor(late.leafUserId) !== undefined, 10_000, 50)
  system.leaf.faults.reset()

  // Protocol attacks: replay, session swap, stolen code with the attacker's state, forged error.
  const victim = t.track(system.browser())
  const attacker = t.track(system.browser())
  const stolen = await flowToCallback(system, { browser: victim })
  await attacker.get(stolen.callbackUrl.href)
  const attackerFlow = await launchFlow(system, { browser: attacker })
  await attacker.get(callbackWith(system, `code=${stolen.code}&state=${attackerFlow.state}&iss=${encodeURIComponent(system.raven.issuer)}`))
  await attacker.get(callbackWith(system, `error=access_denied&state=forged`))
  await victim.get(stolen.callbackUrl.href)
  await victim.get(stolen.callbackUrl.href)
  const used = await system.createConnectSession({ leafUserId: system.newLeafUser() })
  await victim.get(used.connectUrl)
  await victim.get(used.connectUrl)

  // Hostile input on every kind of route, keys where they must never be read.
  await t.fetch(system, `/v1/users/abc/raven-connection?api_key=${system.secrets.apiKey}&access_token=${system.secrets.apiKey}`)
  await t.fetch(system, '/v1/users/abc/raven-connection', { headers: { Authorization: `Basic ${Buffer.from(`${system.secrets.apiKey}:`).toString('base64')}` } })
  await t.fetch(system, '/v1/connect-sessions', { method: 'POST', headers: json, body: '{"leafUserId":' })
  await t.fetch(system, '/v1/connect-sessions', { method: 'POST', headers: json, body: '{"leafUserId":"a","leafUserId":"b"}' })
  await t.fetch(system, '/v1/connect-sessions', { method: 'POST', headers: json, body: '{"__proto__":{"x":1}}' })
  await t.fetch(system, '/v1/connect-sessions', { method: 'POST', headers: json, body: JSON.stringify({ externalId: 'x'.repeat(200_000) }) })
  await t.fetch(system, '/v1/connect-sessions', { method: 'POST', headers: { ...key, 'Content-Type': 'text/plain' }, body: 'x' })
  await t.fetch(system, `/v1/users/${'a'.repeat(5000)}/raven-connection`, { headers: key })
  await t.fetch(system, '/connect/raven', { headers: { 'x-big': 'b'.repeat(13_000) } })
  await t.fetch(system, '/connect/raven', { method: 'POST' })
  await t.fetch(system, '/v1/users/%E0%A4%A/raven-connection', { headers: key })
  const raw = await rawRequest(system, `GET /v1/users/abc/raven-connection HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`)
  t.answers.push({ what: 'raw oversized headers', text: raw })

  // Operations and the published documents.
  for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/sdk/raven-connect.js']) await t.fetch(system, path)

  // Webhooks of this run have been sent (connection.created at least) before anything is scanned.
  await waitFor('webhooks', () => webhooks.length > 0, 10_000, 50)
  eventCanaries.set(system, eventSecrets)
}

const eventCanaries = new Map<TestSystem, string[]>()

describe.each([['LEAF_USERNAME/LEAF_PASSWORD', 'password' as const], ['LEAF_API_TOKEN', 'token' as const]])(
  'the canary sweep, Leaf signed in with %s',
  (_label, leafAuth) => {
    let system: TestSystem
    const transcript = new Transcript()

    beforeAll(async () => {
      webhooks.length = 0
      system = await startSystem({
        leafAuth,
        durable: { inlineBudgetMs: 200 },
        env: {
          REDIS_URL: `${redis.url}/${leafAuth === 'password' ? 1 : 2}`,
          WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
          WEBHOOK_SECRET,
          TRUST_PROXY: 'loopback',
        },
      })
      await sweep(system, transcript)
    }, 60_000)
    afterAll(async () => {
      await system.close()
    })

    it('exercised every secret: the sweep reached Raven, Leaf, the webhook receiver and Redis', async () => {
      expect(system.raven.stats.issuedValues().length).toBeGreaterThan(10)
      expect(system.leaf.issuedTokens().length + (system.secrets.leafToken ? 1 : 0)).toBeGreaterThan(0)
      expect([...system.leaf.state.credentials.values()].some((c) => c.clientSecret === system.secrets.ravenClientSecret)).toBe(true)
      expect(eventCanaries.get(system)?.length).toBeGreaterThan(0)
      expect(webhooks.some((w) => w.body.includes('connection.created'))).toBe(true)
      expect(system.logs.length).toBeGreaterThan(50)
      expect((await dumpRedis(system)).length).toBeGreaterThan(0)
    })

    it('finds no canary in any answer, log line, metric, webhook or Redis value', async () => {
      const secrets = system.secrets
      const key = Buffer.from(secrets.tokenEncryptionKey, 'base64')
      const canaries: Array<[string, string]> = [
        ['API key', secrets.apiKey],
        ['SESSION_SECRET', secrets.sessionSecret],
        ['Raven client secret', secrets.ravenClientSecret],
        ['Raven Basic credentials', Buffer.from(`${system.config.raven.clientId}:${secrets.ravenClientSecret}`).toString('base64')],
        ['Leaf password', secrets.leafPassword],
        ['TOKEN_ENCRYPTION_KEY', secrets.tokenEncryptionKey],
        ['TOKEN_ENCRYPTION_KEY (base64url)', key.toString('base64url')],
        ['TOKEN_ENCRYPTION_KEY (hex)', key.toString('hex')],
        ['WEBHOOK_SECRET', WEBHOOK_SECRET],
        ...(secrets.leafToken ? [['LEAF_API_TOKEN', secrets.leafToken] as [string, string]] : []),
        ...system.leaf.issuedTokens().map((token, i) => [`Leaf token #${i}`, token] as [string, string]),
        ...system.raven.stats.issuedValues().map((value, i) => [`Raven-issued value #${i}`, value] as [string, string]),
        ...(eventCanaries.get(system) ?? []).map((value, i) => [`Leaf event secret #${i}`, value] as [string, string]),
        ...transcript.connectTokens.map((token, i) => [`connect token #${i}`, token] as [string, string]),
      ]
      const metrics = await (await fetch(`${system.url}/metrics`)).text()
      const sinks: Array<[string, string]> = [
        ...transcript.serviceAnswers(system).map((a) => [`answer to ${a.what}`, a.text] as [string, string]),
        ['log lines', system.logs.join('\n')],
        ['/metrics', metrics],
        ...webhooks.map((w, i) => [`webhook #${i}`, `${JSON.stringify(w.headers)}\n${w.body}`] as [string, string]),
        ...transcript.redisSnapshots.map((dump, i) => [`Redis mid-run #${i}`, dump] as [string, string]),
        ['Redis', await dumpRedis(system)],
      ]
      expect(findLeaks(canaries, sinks)).toEqual([])

      // Controls: the same scan does find secrets where they are meant to be.
      const stored = JSON.stringify([...system.leaf.state.credentials.values()])
      expect(findLeaks(canaries, [['Leaf sandbox store', stored]])).toEqual(
        expect.arrayContaining(['Raven client secret in Leaf sandbox store', expect.stringMatching(/^Raven-issued value #\d+ in Leaf/)]),
      )
      expect(findLeaks(canaries, [['the log of a leaky service', `{"msg":"x","auth":"Basic ${canaries[3]?.[1]}"}`]])).toContain(
        'Raven Basic credentials in the log of a leaky service',
      )
    })

    it('logs library and upstream errors without their response bodies', () => {
      const logs = system.logs.join('\n')
      expect(logs).not.toContain(LEAF_BODY_MARKER)
      expect(logs).not.toContain(RAVEN_BODY_MARKER)
      // The faults did happen and were logged: the absence above is not for want of errors.
      expect(logs).toMatch(/token_exchange_failed/)
      expect(logs).toMatch(/leaf_rejected/)
    })
  },
)

// Browser-facing hardening (OWASP ASVS 5 V3 web frontend, V7 sessions; RFC 9700 §4.11 open redirects,
// §4.16 clickjacking): cookies, session renewal, page headers, escaping, returnTo, CORS and CSRF.
import { describe, expect, it } from '@jest/globals'

import type { BrowserResponse } from '../helpers/browser.js'
import {
  callbackWith,
  consent,
  expectNoInlineCode,
  expectNoInternals,
  flowToCallback,
  launchFlow,
  redisKeys,
  sessionCookieOf,
  sessionIdOf,
  useSystem,
} from '../helpers/kit/index.js'
import type { TestSystem } from '../helpers/system.js'

const system = useSystem()

function parseCookie(line: string): { name: string; value: string; attributes: Record<string, string> } {
  const [pair = '', ...rest] = line.split(';')
  const eq = pair.indexOf('=')
  const attributes: Record<string, string> = {}
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=')
    attributes[key.toLowerCase()] = value.join('=')
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes }
}

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Lax, host-only, Path=/ and not Secure on a plain-http deployment', async () => {
    const flow = await launchFlow(system)
    expect(flow.state).not.toBe('')
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const launch = await system.browser().get(session.connectUrl)
    const cookie = parseCookie(launch.headers.get('set-cookie') ?? '')
    expect(cookie.name).toBe('raven-connect.sid')
    expect(cookie.attributes).toHaveProperty('httponly')
    expect(cookie.attributes.samesite?.toLowerCase()).toBe('lax')
    expect(cookie.attributes.path).toBe('/')
    expect(cookie.attributes).not.toHaveProperty('domain')
    expect(cookie.attributes).not.toHaveProperty('secure')
  })

  describe('behind https', () => {
    const env = { PUBLIC_BASE_URL: 'https://connect.example.test' }
    const proxied = useSystem({ env: { ...env, TRUST_PROXY: 'loopback' } })
    const direct = useSystem({ env })

    // The service is reached over loopback http; the URL the grower sees is the https PUBLIC_BASE_URL.
    const launchAt = async (target: TestSystem, headers: Record<string, string>): Promise<BrowserResponse> => {
      const session = await target.createConnectSession({ leafUserId: target.newLeafUser() })
      const token = new URL(session.connectUrl).searchParams.get('session') ?? ''
      return target.browser().get(`${target.url}/connect/raven?session=${token}`, headers)
    }

    it('is __Host- prefixed and Secure when a trusted TLS-terminating proxy says https', async () => {
      const launch = await launchAt(proxied, { 'x-forwarded-proto': 'https' })
      expect(launch.status).toBe(303)
      const cookie = parseCookie(launch.headers.get('set-cookie') ?? '')
      expect(cookie.name).toBe('__Host-raven-connect')
      expect(cookie.attributes).toHaveProperty('secure')
      expect(cookie.attributes).toHaveProperty('httponly')
      expect(cookie.attributes.samesite?.toLowerCase()).toBe('lax')
      expect(cookie.attributes.path).toBe('/')
      expect(cookie.attributes).not.toHaveProperty('domain')
      expect(launch.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/)
    })

    it('is never sent over a direct hop that forges X-Forwarded-Proto', async () => {
      const launch = await launchAt(direct, { 'x-forwarded-proto': 'https' })
      expect(launch.headers.get('set-cookie')).toBeNull()
    })

    it('is not sent over plain http through the trusted proxy either', async () => {
      const launch = await launchAt(proxied, { 'x-forwarded-proto': 'http' })
      expect(launch.headers.get('set-cookie')).toBeNull()
    })
  })
})

describe('session fixation', () => {
  it('moves the browser to a new session id at launch and destroys the planted one', async () => {
    const attacker = system.browser()
    await launchFlow(system, { browser: attacker })
    const planted = sessionCookieOf(attacker, system)
    expect(await redisKeys(system, `rc:sess:${sessionIdOf(planted)}`)).toHaveLength(1)

    const victim = system.browser()
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const launch = await victim.get(session.connectUrl, { cookie: `raven-connect.sid=${planted}` })
    expect(launch.status).toBe(303)
    const renewed = parseCookie(launch.headers.get('set-cookie') ?? '').value
    expect(sessionIdOf(renewed)).not.toBe(sessionIdOf(planted))
    expect(await redisKeys(system, `rc:sess:${sessionIdOf(planted)}`)).toHaveLength(0)

    // The attacker's copy of the old cookie reaches nothing of the victim's.
    const victimState = new URL(launch.location ?? '').searchParams.get('state') ?? ''
    const res = await attacker.get(callbackWith(system, `code=x&state=${victimState}`))
    expect(res.body).toContain('data-reason="expired"')
  })
})

const CSP_REQUIRED = ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]

function expectHardenedPage(res: BrowserResponse): void {
  expect(res.headers.get('content-type')).toContain('text/html')
  const csp = res.headers.get('content-security-policy') ?? ''
  for (const directive of CSP_REQUIRED) expect(csp).toContain(directive)
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/)
  expect(res.headers.get('x-frame-options')).toBe('DENY')
  expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  expect(res.headers.get('cache-control')).toContain('no-store')
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  expectNoInlineCode(res.body)
  expectNoInternals(res.body)
}

describe('every HTML page', () => {
  it('carries CSP without inline script, frame-ancestors none, X-Frame-Options DENY, no-referrer and no-store', async () => {
    const pages: BrowserResponse[] = []
    const browser = system.browser()
    pages.push(await browser.get(`${system.url}/connect/raven`))
    pages.push(await browser.get(`${system.url}/connect/raven?session=rc_cs_forged`))
    pages.push(await browser.get(callbackWith(system, 'code=x&state=y')))
    pages.push(await browser.get(`${system.url}/connect/nope`))
    pages.push(await browser.request(`${system.url}/connect/raven`, { method: 'POST' }))
    pages.push(await browser.get(`${system.url}/connect/raven?session=${'A'.repeat(5000)}`))

    const grower = system.browser()
    const connected = await flowToCallback(system, { browser: grower })
    pages.push(await grower.get(connected.callbackUrl.href))
    pages.push(await grower.get(callbackWith(system, 'code=x&state=unknown')))
    const popup = await launchFlow(system, { browser: grower, mode: 'popup', returnTo: `${system.returnOrigin}/p` })
    pages.push(await grower.get((await consent(grower, popup.authorizeUrl, 'decline')).href))

    expect(pages.map((p) => p.status)).toEqual([400, 410, 410, 404, 405, 414, 200, 400, 403])
    for (const page of pages) expectHardenedPage(page)
    // The popup page may load its script from this origin, and is the only page that does.
    expect(pages[8]?.body).toMatch(/<script[^>]+src="[^"]*popup\.js"/)
  })

  it('escapes or drops every reflected value', async () => {
    const payload = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
    const encoded = encodeURIComponent(payload)
    const browser = system.browser()
    await launchFlow(system, { browser })
    const answers = [
      await browser.get(`${system.url}/connect/raven?session=${encoded}`),
      await browser.get(callbackWith(system, `state=${encoded}&error=${encoded}&error_description=${encoded}`)),
      await browser.get(callbackWith(system, `state=${encoded}&code=${encoded}`)),
      await browser.get(`${system.url}/connect/${encoded}`),
      await browser.get(`${system.url}/v1/${encoded}`),
      await browser.get(`${system.url}/api/${encoded}`),
    ]
    for (const res of answers) {
      expect(res.body).not.toContain('<script>alert')
      expect(res.body).not.toContain('<img src=x')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })
})

describe('returnTo allow-list', () => {
  const create = (returnTo: string) =>
    fetch(`${system.url}/v1/connect-sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${system.secrets.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ leafUserId: system.newLeafUser(), returnTo }),
    })

  it.each([
    'https://app.example.test.evil.test/',
    'https://evil-app.example.test/',
    'https://evilapp.example.test/',
    'https://app.example.test@evil.test/',
    'https://user:pass@app.example.test/',
    'https://evil.test#@app.example.test/',
    'https://evil.test?@app.example.test/',
    'https://evil.test\\@app.example.test/',
    'https:\\\\evil.test/',
    '//evil.test/',
    '//app.example.test/',
    '/settings',
    'app.example.test/settings',
    'javascript:alert(1)//https://app.example.test/',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'http://app.example.test/',
    'https://app.example.test:8443/',
    'https://app.example.test./',
    'https://xn--pp-ila.example.test/',
    'https://app.example.test/\r\nSet-Cookie: x=y',
    'https://app.example.test/%0d%0a\nLocation: https://evil.test',
    'https://app.example\t.test/',
    ' https://app.example.test/',
    '',
  ])('refuses %j', async (returnTo) => {
    const res = await create(returnTo)
    expect(res.status).toBe(400)
    const body = (await res.json()) as { code: string }
    expect(['invalid_return_to', 'return_to_not_allowed']).toContain(body.code)
  })

  it.each(['HTTPS://APP.EXAMPLE.TEST/Settings', 'https://app.example.test:443/x', 'https://app.example.test'])(
    'accepts the same origin written differently (%s)',
    async (returnTo) => {
      const res = await create(returnTo)
      expect(res.status).toBe(201)
    },
  )

  it('replaces pre-set raven= and reason= in returnTo, keeping its own query and fragment', async () => {
    const flow = await flowToCallback(system, {
      returnTo: `${system.returnOrigin}/cb?raven=connected&reason=forged&keep=1&raven=again#frag`,
      decision: 'decline',
    })
    const res = await flow.browser.get(flow.callbackUrl.href)
    const landed = new URL(res.location ?? '')
    expect(landed.origin).toBe(system.returnOrigin)
    expect(landed.searchParams.getAll('raven')).toEqual(['error'])
    expect(landed.searchParams.getAll('reason')).toEqual(['access_denied'])
    expect(landed.searchParams.get('keep')).toBe('1')
    expect(landed.hash).toBe('#frag')
  })
})

describe('CORS', () => {
  const allowed = 'https://app.example.test'

  it.each([
    ['null', 'null'],
    ['another site', 'https://evil.test'],
    ['a look-alike', 'https://app.example.test.evil.test'],
    ['the allowed host over http', 'http://app.example.test'],
    ['the allowed host on another port', 'https://app.example.test:8443'],
  ])('reflects no origin to %s on /api, for requests and preflights', async (_name, origin) => {
    const get = await fetch(`${system.url}/api/raven-connection`, { headers: { Origin: origin } })
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
    expect(get.headers.get('access-control-allow-credentials')).toBeNull()
    const preflight = await fetch(`${system.url}/api/raven-connection`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'x-requested-with' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull()
  })

  it('reflects exactly an allowed origin on /api, with credentials, never *', async () => {
    const get = await fetch(`${system.url}/api/raven-connection`, { headers: { Origin: allowed } })
    expect(get.headers.get('access-control-allow-origin')).toBe(allowed)
    expect(get.headers.get('access-control-allow-credentials')).toBe('true')
    expect(get.headers.get('vary')).toMatch(/origin/i)
  })

  it('sends no CORS headers at all on /v1, even to an allowed origin', async () => {
    const get = await fetch(`${system.url}/v1/users/abc/raven-connection`, {
      headers: { Origin: allowed, Authorization: `Bearer ${system.secrets.apiKey}` },
    })
    const preflight = await fetch(`${system.url}/v1/connect-sessions`, {
      method: 'OPTIONS',
      headers: { Origin: allowed, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    })
    for (const res of [get, preflight]) {
      for (const name of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods']) {
        expect(res.headers.get(name)).toBeNull()
      }
    }
  })
})

describe('state-changing /api calls', () => {
  it('refuses DELETE without the anti-CSRF header and every method-override trick; keeps the credential', async () => {
    const browser = system.browser()
    const flow = await flowToCallback(system, { browser })
    expect((await browser.get(flow.callbackUrl.href)).status).toBe(200)
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeDefined()
    const url = `${system.url}/api/raven-connection`

    const attempts = [
      await browser.request(url, { method: 'DELETE' }),
      await browser.request(url, { method: 'DELETE', headers: { origin: 'https://evil.test' } }),
      await browser.request(url, { method: 'POST', headers: { 'x-http-method-override': 'DELETE', 'x-requested-with': 'x' } }),
      await browser.request(url, { method: 'POST', headers: { 'x-http-method': 'DELETE', 'x-method-override': 'DELETE' } }),
      await browser.request(`${url}?_method=DELETE`, { method: 'POST' }),
      await browser.postForm(url, { _method: 'DELETE' }),
      await browser.request(url, { method: 'PUT', headers: { 'x-requested-with': 'x' } }),
      await browser.request(url, { method: 'PATCH', headers: { 'x-requested-with': 'x' } }),
    ]
    expect(attempts.map((a) => a.status)).toEqual([403, 403, 405, 405, 405, 405, 405, 405])
    for (const attempt of attempts) expect(attempt.headers.get('content-type')).toContain('application/problem+json')
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeDefined()

    // The real call, with the header a cross-site form cannot send, works.
    expect((await browser.request(url, { method: 'DELETE', headers: { 'x-requested-with': 'raven-connect' } })).status).toBe(204)
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeUndefined()
  })
})

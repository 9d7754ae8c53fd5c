// Protocol attacks on the consent flow (RFC 9700 §4, RFC 6749 §10.6/§10.12, RFC 7636, RFC 9207), each
// played over HTTP by two cookie jars: an attacker and a victim. Every refusal is checked where it
// matters: the answer, Raven's token endpoint (no exchange) and Leaf (no credential).
import { describe, expect, it } from '@jest/globals'

import { hashToken } from '../../src/connect-links/token-store.js'
import { sleep } from '../../src/infra/async.js'
import { ageFlows, callbackWith, consent, expectErrorPage, flowToCallback, launchFlow, outcomeOf, redisKeys, useSystem } from '../helpers/kit/index.js'

const system = useSystem()

const credentialPosts = (leafUserId: string) => system.leaf.state.requestsTo('POST', `/users/${leafUserId}/raven-credentials`).length

describe('login CSRF and session swapping', () => {
  it('refuses an attacker-obtained callback in a victim browser without a session: no exchange, nothing at Leaf', async () => {
    const attacker = system.browser()
    const stolen = await flowToCallback(system, { browser: attacker })
    const victim = system.browser()
    const res = await victim.get(stolen.callbackUrl.href)
    expectErrorPage(res, 410, 'expired')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(system.raven.stats.tokenRequestsForCode(stolen.code)).toBe(0)
    expect(credentialPosts(stolen.leafUserId)).toBe(0)
  })

  it("refuses an attacker's callback in a victim browser that has a flow of its own, and leaves that flow usable", async () => {
    const attacker = system.browser()
    const stolen = await flowToCallback(system, { browser: attacker })
    const victim = system.browser()
    const own = await flowToCallback(system, { browser: victim, returnTo: `${system.returnOrigin}/mine` })

    const forced = await victim.get(stolen.callbackUrl.href)
    // No trustworthy returnTo for a state of no flow: the page, never the victim's returnTo.
    expectErrorPage(forced, 400, 'invalid_request')
    expect(system.raven.stats.tokenRequestsForCode(stolen.code)).toBe(0)
    expect(credentialPosts(stolen.leafUserId)).toBe(0)

    const genuine = await victim.get(own.callbackUrl.href)
    expect(genuine.location).toBe(`${system.returnOrigin}/mine?raven=connected`)
  })

  it("refuses a state minted in one browser when it arrives with another browser's cookie", async () => {
    const first = system.browser()
    const second = system.browser()
    const firstFlow = await flowToCallback(system, { browser: first })
    await launchFlow(system, { browser: second })

    expectErrorPage(await second.get(firstFlow.callbackUrl.href), 400, 'invalid_request')
    expect(system.raven.stats.tokenRequestsForCode(firstFlow.code)).toBe(0)
    // The swap attempt did not spend the first browser's flow.
    expect(outcomeOf(await first.get(firstFlow.callbackUrl.href))).toEqual({ raven: 'connected', reason: null })
  })
})

describe('forged state', () => {
  const variants: Array<[string, (state: string, code: string) => string]> = [
    ['tampered', (s, c) => `code=${c}&state=${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`],
    ['truncated', (s, c) => `code=${c}&state=${s.slice(0, 16)}`],
    ['empty', (_s, c) => `code=${c}&state=`],
    ['missing', (_s, c) => `code=${c}`],
    ['huge', (_s, c) => `code=${c}&state=${'A'.repeat(3000)}`],
    ['duplicated (same value)', (s, c) => `code=${c}&state=${s}&state=${s}`],
    ['duplicated (two values)', (s, c) => `code=${c}&state=${s}&state=other`],
    ['object-shaped (bracket key)', (s, c) => `code=${c}&state[value]=${s}`],
    ['array-shaped', (s, c) => `code=${c}&state[]=${s}`],
    ['operator-shaped', (_s, c) => `code=${c}&state=${encodeURIComponent('{"$ne":""}')}`],
  ]

  it.each(variants)('answers invalid_request to a %s state without an exchange, and the real flow still completes', async (_name, query) => {
    const victim = system.browser()
    const flow = await flowToCallback(system, { browser: victim, returnTo: `${system.returnOrigin}/done` })
    const iss = flow.callbackUrl.searchParams.get('iss') ?? ''
    const forged = await victim.get(callbackWith(system, `${query(flow.state, flow.code)}&iss=${encodeURIComponent(iss)}`))
    expectErrorPage(forged, 400, 'invalid_request')
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)

    const genuine = await victim.get(flow.callbackUrl.href)
    expect(genuine.location).toBe(`${system.returnOrigin}/done?raven=connected`)
  })
})

describe('code injection (RFC 9700 §4.5, RFC 7636)', () => {
  it("fails the exchange of a stolen code sent with the attacker's own valid state: PKCE binds the code to the victim", async () => {
    const victim = system.browser()
    const victimFlow = await flowToCallback(system, { browser: victim })
    const attacker = system.browser()
    const attackerFlow = await launchFlow(system, { browser: attacker, returnTo: `${system.returnOrigin}/attacker` })

    const iss = victimFlow.callbackUrl.searchParams.get('iss') ?? ''
    const injected = await attacker.get(
      callbackWith(system, `code=${victimFlow.code}&state=${attackerFlow.state}&iss=${encodeURIComponent(iss)}`),
    )
    expect(outcomeOf(injected)).toEqual({ raven: 'error', reason: 'token_exchange_failed' })
    expect(system.raven.stats.tokenRequestsForCode(victimFlow.code)).toBe(1)
    expect(system.raven.stats.codeExchanged(victimFlow.code)).toBe(false)
    expect(credentialPosts(attackerFlow.leafUserId)).toBe(0)
    expect(system.leaf.state.credentialFor(attackerFlow.leafUserId)).toBeUndefined()
  })
})

describe('forged authorization errors', () => {
  it('treats error=access_denied with a wrong state as an invalid response, not a decline', async () => {
    const victim = system.browser()
    const flow = await launchFlow(system, { browser: victim, returnTo: `${system.returnOrigin}/settings` })
    const iss = encodeURIComponent(system.raven.issuer)

    const forged = await victim.get(callbackWith(system, `error=access_denied&state=${flow.state.slice(0, -2)}xx&iss=${iss}`))
    expectErrorPage(forged, 400, 'invalid_request')
    expectErrorPage(await victim.get(callbackWith(system, `error=access_denied&iss=${iss}`)), 400, 'invalid_request')

    // The forged error did not cancel the grower's real flow.
    const callbackUrl = await consent(victim, flow.authorizeUrl)
    expect((await victim.get(callbackUrl.href)).location).toBe(`${system.returnOrigin}/settings?raven=connected`)
  })
})

describe('mix-up defence (RFC 9207)', () => {
  it('has a sandbox that advertises iss in authorization responses', async () => {
    const discovery = (await (await fetch(`${system.raven.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>
    expect(discovery.authorization_response_iss_parameter_supported).toBe(true)
  })

  it.each([['wrong' as const], ['omit' as const]])('refuses a response whose iss is %s before any token request', async (iss) => {
    system.raven.faults.set({ iss })
    const victim = system.browser()
    const flow = await flowToCallback(system, { browser: victim, returnTo: `${system.returnOrigin}/x` })
    expect(flow.callbackUrl.searchParams.get('iss')).toBe(iss === 'omit' ? null : 'https://attacker.example')
    const res = await victim.get(flow.callbackUrl.href)
    expect(outcomeOf(res)).toEqual({ raven: 'error', reason: 'invalid_request' })
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)
    expect(credentialPosts(flow.leafUserId)).toBe(0)
  })

  it('refuses a repeated iss, even when one copy is right', async () => {
    const victim = system.browser()
    const flow = await flowToCallback(system, { browser: victim })
    const res = await victim.get(`${flow.callbackUrl.href}&iss=${encodeURIComponent('https://attacker.example')}`)
    expectErrorPage(res, 400, 'invalid_request')
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)
  })
})

describe('replayed and concurrent callbacks', () => {
  it('answers a replayed callback with invalid_request after exactly one exchange', async () => {
    const victim = system.browser()
    const flow = await flowToCallback(system, { browser: victim, returnTo: `${system.returnOrigin}/r` })
    expect((await victim.get(flow.callbackUrl.href)).location).toBe(`${system.returnOrigin}/r?raven=connected`)
    expectErrorPage(await victim.get(flow.callbackUrl.href), 400, 'invalid_request')
    // Replayed from another browser (e.g. the URL leaked through history): refused too.
    expectErrorPage(await system.browser().get(flow.callbackUrl.href), 410, 'expired')
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(1)
    expect(credentialPosts(flow.leafUserId)).toBe(1)
  })

  it('lets exactly one of eight concurrent duplicate callbacks exchange the code', async () => {
    const victim = system.browser()
    const flow = await flowToCallback(system, { browser: victim, returnTo: `${system.returnOrigin}/c` })
    const answers = await Promise.all(Array.from({ length: 8 }, () => victim.get(flow.callbackUrl.href)))
    const outcomes = answers.map(outcomeOf)
    expect(outcomes.filter((o) => o.raven === 'connected')).toHaveLength(1)
    expect(outcomes.filter((o) => o.raven === 'error' && o.reason === 'invalid_request')).toHaveLength(7)
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(1)
    expect(credentialPosts(flow.leafUserId)).toBe(1)
  })

  it('answers expired for a flow older than 15 minutes, without an exchange', async () => {
    const victim = system.browser()
    const flow = await flowToCallback(system, { browser: victim, returnTo: `${system.returnOrigin}/old` })
    await ageFlows(system, victim, 16 * 60 * 1000)

    expect(outcomeOf(await victim.get(flow.callbackUrl.href))).toEqual({ raven: 'error', reason: 'expired' })
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)
  })
})

describe('connect tokens', () => {
  const expectInvalidLink = (res: { status: number; body: string; headers: Headers }) => {
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(res.body).toContain('data-raven="error"')
    expect(res.headers.get('set-cookie')).toBeNull()
  }

  it('refuses a reused token: the second launch gets the invalid-link page and no flow', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    expect((await system.browser().get(session.connectUrl)).status).toBe(303)
    const authorizations = system.raven.stats.authorizationRequests
    const again = await system.browser().get(session.connectUrl)
    expect(again.status).toBe(410)
    expectInvalidLink(again)
    expect(system.raven.stats.authorizationRequests).toBe(authorizations)
  })

  it('lets exactly one of several concurrent launches with one token through', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const answers = await Promise.all(Array.from({ length: 6 }, () => system.browser().get(session.connectUrl)))
    expect(answers.filter((a) => a.status === 303)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 410)).toHaveLength(5)
  })

  it('refuses an expired token', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const token = new URL(session.connectUrl).searchParams.get('session') ?? ''
    // Expire it in Redis, as CONNECT_SESSION_TTL_SECONDS passing would.
    expect(await system.redis.pexpire(`rc:cs:${hashToken(token)}`, 1)).toBe(1)
    await sleep(20)
    const res = await system.browser().get(session.connectUrl)
    expect(res.status).toBe(410)
    expectInvalidLink(res)
  })

  it.each([
    ['random, well-formed', () => `rc_cs_${Buffer.alloc(32, 7).toString('base64url')}`],
    ['without the prefix', (real: string) => real.slice(6)],
    ['truncated', (real: string) => real.slice(0, -3)],
    ['extended', (real: string) => `${real}AAA`],
    ['huge', () => `rc_cs_${'A'.repeat(3000)}`],
    ['the hash stored in Redis', (real: string) => hashToken(real)],
  ])('refuses a forged token (%s) without spending the real one', async (_name, forge) => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const real = new URL(session.connectUrl).searchParams.get('session') ?? ''
    const forged = await system.browser().get(`${system.url}/connect/raven?session=${encodeURIComponent(forge(real))}`)
    expectInvalidLink(forged)
    expect((await system.browser().get(session.connectUrl)).status).toBe(303)
  })

  it('refuses a duplicated session parameter, even with the real token twice', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const token = new URL(session.connectUrl).searchParams.get('session') ?? ''
    const res = await system.browser().get(`${system.url}/connect/raven?session=${token}&session=${token}`)
    expect(res.status).toBe(400)
    expectInvalidLink(res)
    expect(await redisKeys(system, `rc:cs:${hashToken(token)}`)).toHaveLength(1)
  })
})

// A Raven that misbehaves on purpose (RFC 6749 §4.1.2 and §10.5: a code is single-use, never retried).
// Every scripted token-endpoint fault ends the flow with the contract's reason after exactly one token
// request for the code, and nothing reaches Leaf.
import { describe, expect, it } from '@jest/globals'

import type { FaultSettings } from '../../sandboxes/raven/server.js'
import { flowToCallback, outcomeOf, useSystem } from '../helpers/kit/index.js'

// A short token timeout, so "answers after issuing the tokens, too late" takes a second, not ten.
const system = useSystem({ ravenTimeoutSeconds: 1 })

describe('an adversarial Raven token endpoint', () => {
  it.each<[string, string, Partial<FaultSettings>, boolean]>([
    ['invalid_grant', 'token_exchange_failed', { tokenResponse: 'invalid_grant' }, false],
    ['invalid_client', 'token_exchange_failed', { tokenResponse: 'invalid_client' }, false],
    ['a 500 HTML page', 'token_exchange_failed', { tokenResponse: 'server_error_html' }, false],
    ['a 200 that is not JSON', 'token_exchange_failed', { tokenResponse: 'non_json' }, false],
    ['tokens without a refresh token', 'no_refresh_token', { tokenResponse: 'omit_refresh_token' }, true],
    ['tokens issued, then held past the client timeout', 'token_exchange_failed', { tokenDelayMs: 2500 }, true],
  ])('answering %s ends in %s after one token request, with nothing at Leaf', async (_name, reason, faults, issued) => {
    system.raven.faults.set(faults)
    const { browser, ...flow } = await flowToCallback(system, { returnTo: `${system.returnOrigin}/r` })
    const res = await browser.get(flow.callbackUrl.href)
    expect(outcomeOf(res)).toEqual({ raven: 'error', reason })
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(1)
    expect(system.raven.stats.codeExchanged(flow.code)).toBe(issued)
    expect(system.leaf.state.requestsTo('POST', `/users/${flow.leafUserId}/raven-credentials`)).toHaveLength(0)
    // A replay after the failure does not try the code again.
    await browser.get(flow.callbackUrl.href)
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(1)
  })

  it.each([
    ['server_error' as const, 'raven_error'],
    ['temporarily_unavailable' as const, 'raven_error'],
    ['access_denied' as const, 'access_denied'],
  ])('answering the authorization request with error=%s ends in %s, with no token request', async (authorizeError, reason) => {
    system.raven.faults.set({ authorizeError })
    const before = system.raven.stats.tokenRequests
    const browser = system.browser()
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser(), returnTo: `${system.returnOrigin}/e` })
    const chain = await browser.follow(session.connectUrl, { stopAt: (url) => url.origin === system.returnOrigin })
    expect(outcomeOf(chain[chain.length - 1] ?? chain[0]!)).toEqual({ raven: 'error', reason })
    expect(system.raven.stats.tokenRequests).toBe(before)
  })
})

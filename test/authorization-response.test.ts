// Raven's authorization response, odd or forged: a parameter given twice, or one of another flow
// (JARM's `response`, the implicit and hybrid flows' tokens). Each is `invalid_request` before any
// token request, so the code stays unspent at Raven; the sandbox's stats prove nothing was sent.
import { describe, expect, it } from '@jest/globals'

import { AuthorizationResponseRejected } from '../src/raven/errors.js'
import { flowToCallback, outcomeOf, useSystem } from './helpers/kit/index.js'

const system = useSystem()

const FAKE_JWT = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'

describe('GET /connect/raven/callback with an odd authorization response', () => {
  const cases: Array<[string, () => Array<[string, string]>]> = [
    ['code given twice', () => [['code', 'forged-code']]],
    ['iss given twice', () => [['iss', system.raven.issuer]]],
    ['error given twice', () => [['error', 'server_error'], ['error', 'access_denied']]],
    ['error_description given twice', () => [['error_description', 'a'], ['error_description', 'b']]],
    ['an unknown parameter given twice', () => [['session_state', 'a'], ['session_state', 'b']]],
    ['a JARM response parameter', () => [['response', FAKE_JWT]]],
    ['an implicit-flow id_token', () => [['id_token', FAKE_JWT]]],
    ['an implicit-flow token', () => [['token', 'tok']]],
    ['an implicit-flow access_token', () => [['access_token', 'tok']]],
  ]

  it.each(cases)('ends with invalid_request and no token request for %s', async (_label, extra) => {
    system.raven.faults.set({ extraResponseParams: extra() })
    const flow = await flowToCallback(system)
    expect(flow.code).not.toBe('')
    const tokenRequests = system.raven.stats.tokenRequests
    const result = outcomeOf(await flow.browser.get(flow.callbackUrl))
    expect(result).toEqual({ raven: 'error', reason: 'invalid_request' })
    expect(system.raven.stats.tokenRequests).toBe(tokenRequests)
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeUndefined()
  })

  it('ends with invalid_request for state given twice (the flow is not even looked up)', async () => {
    system.raven.faults.set({ extraResponseParams: [['state', 'second-state']] })
    const flow = await flowToCallback(system)
    const tokenRequests = system.raven.stats.tokenRequests
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toEqual({ raven: 'error', reason: 'invalid_request' })
    expect(system.raven.stats.tokenRequests).toBe(tokenRequests)
  })

  it('still connects when Raven adds a harmless parameter once', async () => {
    system.raven.faults.set({ extraResponseParams: [['session_state', 'abc.def']] })
    const flow = await flowToCallback(system)
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl)).raven).toBe('connected')
  })
})

describe("openid-client's own checks of the response", () => {
  it('are invalid_request (the code unspent), never token_exchange_failed', async () => {
    // A response openid-client itself refuses before its token request: the state it is told to expect
    // differs from the one in the response (the service never does this; the client is driven directly).
    system.raven.faults.set({ extraResponseParams: [] })
    const flow = await flowToCallback(system)
    const tokenRequests = system.raven.stats.tokenRequests
    const err = await system.ravenClient
      .exchangeCode(flow.callbackUrl.searchParams, { state: 'not-the-state', codeVerifier: 'v'.repeat(43), nonce: undefined })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      )
    expect(err).toBeInstanceOf(AuthorizationResponseRejected)
    expect(system.raven.stats.tokenRequests).toBe(tokenRequests)
    expect(system.raven.stats.tokenRequestsForCode(flow.code)).toBe(0)
  })
})

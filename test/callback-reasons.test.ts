import { describe, expect, it } from '@jest/globals'

import { ageFlows, consent, flowToCallback, launchFlow, outcomeOf, useSystem } from './helpers/kit/index.js'

const system = useSystem()
const returnTo = () => `${system.returnOrigin}/done`

describe('GET /connect/raven/callback: every result reason, produced for real', () => {
  it('redirects with raven=error&reason=access_denied when the grower declines at Raven', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo(), decision: 'decline' })
    expect(flow.callbackUrl.searchParams.get('error')).toBe('access_denied')
    const result = await flow.browser.get(flow.callbackUrl)
    expect(result.status).toBe(303)
    expect(outcomeOf(result)).toEqual({ raven: 'error', reason: 'access_denied' })
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeUndefined()
  })

  it('redirects with reason=raven_error when Raven answers another error', async () => {
    system.raven.faults.authorizeError = 'server_error'
    const flow = await launchFlow(system, { returnTo: returnTo() })
    const callbackUrl = await consent(flow.browser, flow.authorizeUrl)
    expect(callbackUrl.searchParams.get('error')).toBe('server_error')
    expect(outcomeOf(await flow.browser.get(callbackUrl))).toMatchObject({ raven: 'error', reason: 'raven_error' })
  })

  it('ends on the result page with reason=expired when the browser lost its session', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    flow.browser.clearCookies()
    const result = await flow.browser.get(flow.callbackUrl)
    // No session: no trustworthy returnTo, so the service's own page answers.
    expect(result.status).toBe(410)
    expect(outcomeOf(result)).toMatchObject({ raven: 'error', reason: 'expired' })
    expect(result.body).toContain('Connect Raven again')
    expect(system.raven.stats.tokenRequestsForCode(flow.callbackUrl.searchParams.get('code') ?? '')).toBe(0)
  })

  it('answers reason=expired when the flow is older than 15 minutes', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    await ageFlows(system, flow.browser, 16 * 60 * 1000)
    const result = await flow.browser.get(flow.callbackUrl)
    expect(outcomeOf(result)).toMatchObject({ raven: 'error', reason: 'expired' })
    expect(system.raven.stats.tokenRequestsForCode(flow.callbackUrl.searchParams.get('code') ?? '')).toBe(0)
  })

  it('answers reason=invalid_request for a tampered state, without exchanging the code', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    const tampered = new URL(flow.callbackUrl)
    tampered.searchParams.set('state', `${flow.callbackUrl.searchParams.get('state')}x`)
    const result = await flow.browser.get(tampered)
    expect(result.status).toBe(400)
    expect(outcomeOf(result)).toMatchObject({ raven: 'error', reason: 'invalid_request' })
    expect(system.raven.stats.tokenRequestsForCode(flow.callbackUrl.searchParams.get('code') ?? '')).toBe(0)
    // The genuine callback still works: a bad guess does not burn the real flow.
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toMatchObject({ raven: 'connected' })
  })

  it('answers reason=invalid_request when the callback is replayed, and exchanges the code once', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toMatchObject({ raven: 'connected' })
    const replay = await flow.browser.get(flow.callbackUrl)
    expect(replay.status).toBe(400)
    expect(outcomeOf(replay)).toMatchObject({ raven: 'error', reason: 'invalid_request' })
    expect(system.raven.stats.tokenRequestsForCode(flow.callbackUrl.searchParams.get('code') ?? '')).toBe(1)
  })

  it('answers reason=invalid_request for missing or repeated parameters', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    const missingState = new URL(flow.callbackUrl)
    missingState.searchParams.delete('state')
    expect(outcomeOf(await flow.browser.get(missingState))).toMatchObject({ raven: 'error', reason: 'invalid_request' })
    const repeatedCode = new URL(flow.callbackUrl)
    repeatedCode.searchParams.append('code', 'second-code')
    expect(outcomeOf(await flow.browser.get(repeatedCode))).toMatchObject({ raven: 'error', reason: 'invalid_request' })
    expect(system.raven.stats.tokenRequestsForCode(flow.callbackUrl.searchParams.get('code') ?? '')).toBe(0)
  })

  it('answers reason=token_exchange_failed when the token endpoint refuses the code', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    system.raven.faults.tokenResponse = 'invalid_grant'
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toMatchObject({ raven: 'error', reason: 'token_exchange_failed' })
    expect(system.raven.stats.tokenRequestsForCode(flow.callbackUrl.searchParams.get('code') ?? '')).toBe(1)
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeUndefined()
  })

  it('answers reason=no_refresh_token when Raven issues no refresh token', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    system.raven.faults.tokenResponse = 'omit_refresh_token'
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toMatchObject({ raven: 'error', reason: 'no_refresh_token' })
    expect(system.leaf.state.requestsTo('POST', `/users/${flow.leafUserId}/raven-credentials`)).toHaveLength(0)
  })

  it('answers reason=leaf_rejected when Leaf refuses the credential with a 4xx', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    system.leaf.faults.script('POST', `/users/${flow.leafUserId}/raven-credentials`, { status: 403, body: { title: 'Forbidden' } })
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toMatchObject({ raven: 'error', reason: 'leaf_rejected' })
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeUndefined()
  })

  it('authenticates at Leaf again when Leaf answers 401, and connects', async () => {
    const flow = await flowToCallback(system, { returnTo: returnTo() })
    const before = system.leaf.state.authentications
    system.leaf.faults.expireTokensNow()
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl))).toMatchObject({ raven: 'connected' })
    expect(system.leaf.state.authentications).toBe(before + 1)
    expect(system.leaf.state.credentialFor(flow.leafUserId)?.refreshToken).toBeTruthy()
  })

  it('ends every result of a flow without returnTo on the result page', async () => {
    const connected = await flowToCallback(system)
    const page = await connected.browser.get(connected.callbackUrl)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(outcomeOf(page)).toEqual({ raven: 'connected', reason: null })
    expect(page.body).toContain('<html lang="en">')
    const declined = await flowToCallback(system, { decision: 'decline' })
    const declinedPage = await declined.browser.get(declined.callbackUrl)
    expect(declinedPage.status).toBe(403)
    expect(outcomeOf(declinedPage)).toMatchObject({ raven: 'error', reason: 'access_denied' })
  })

  it('replaces raven and reason already present in returnTo, keeping the rest', async () => {
    const flow = await flowToCallback(system, { returnTo: `${system.returnOrigin}/x?raven=evil&reason=spoof&keep=1#frag` })
    const result = await flow.browser.get(flow.callbackUrl)
    const landed = new URL(result.location ?? '')
    expect(landed.searchParams.getAll('raven')).toEqual(['connected'])
    expect(landed.searchParams.getAll('reason')).toEqual([])
    expect(landed.searchParams.get('keep')).toBe('1')
    expect(landed.hash).toBe('#frag')
  })
})

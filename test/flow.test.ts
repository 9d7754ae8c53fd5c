import { describe, expect, it } from '@jest/globals'

import { consent, flowToCallback, launchFlow, useSystem } from './helpers/kit/index.js'

const system = useSystem()

/** Exchanges a refresh token at the Raven sandbox: proof that the token handed to Leaf is live. */
async function refreshAtRaven(refreshToken: string): Promise<Response> {
  const discovery = (await (await fetch(`${system.raven.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string }
  return fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${system.config.raven.clientId}:${system.secrets.ravenClientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  })
}

describe('Connect Raven, end to end', () => {
  it('connects a grower: launch, Raven login and consent, callback, credential at Leaf, live refresh token', async () => {
    const leafUserId = system.newLeafUser()
    const returnTo = `${system.returnOrigin}/settings/integrations?tab=raven#top`
    const session = await system.createConnectSession({ leafUserId, returnTo })
    expect(session.connectUrl).toMatch(new RegExp(`^${system.url}/connect/raven\\?session=rc_cs_[A-Za-z0-9_-]{43}$`))
    expect(session.leafUserId).toBe(leafUserId)
    expect(Date.parse(session.expiresAt) - Date.now()).toBeGreaterThan(800_000)

    const browser = system.browser()
    const launch = await browser.get(session.connectUrl)
    expect(launch.status).toBe(303)
    expect(launch.headers.get('cache-control')).toContain('no-store')
    expect(launch.headers.get('referrer-policy')).toBe('no-referrer')
    const authorize = new URL(launch.headers.get('location') ?? '')
    expect(authorize.origin + authorize.pathname).toBe(`${system.raven.issuer}/core/connect/authorize`)
    const query = authorize.searchParams
    expect(query.get('response_type')).toBe('code')
    expect(query.get('response_mode')).toBe('query')
    expect(query.get('client_id')).toBe('raven-connect-test')
    expect(query.get('redirect_uri')).toBe(`${system.url}/connect/raven/callback`)
    expect(query.get('scope')).toBe('openid offline_access')
    expect(query.get('code_challenge_method')).toBe('S256')
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(query.get('state')?.length).toBeGreaterThanOrEqual(32)
    expect(query.get('nonce')?.length).toBeGreaterThanOrEqual(32)
    expect(query.get('prompt')).toBe('consent')

    const callbackUrl = await consent(browser, authorize)
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(`${system.url}/connect/raven/callback`)
    const callback = await browser.get(callbackUrl.href)
    expect(callback.status).toBe(303)
    const landed = new URL(callback.headers.get('location') ?? '')
    expect(landed.origin + landed.pathname).toBe(`${system.returnOrigin}/settings/integrations`)
    expect(landed.searchParams.get('tab')).toBe('raven')
    expect(landed.searchParams.getAll('raven')).toEqual(['connected'])
    expect(landed.searchParams.has('reason')).toBe(false)
    expect(landed.hash).toBe('#top')

    const stored = system.leaf.state.credentialFor(leafUserId)
    expect(stored?.clientId).toBe('raven-connect-test')
    expect(stored?.clientSecret).toBe(system.secrets.ravenClientSecret)
    expect(stored?.refreshToken).toBeTruthy()
    const refreshed = await refreshAtRaven(stored?.refreshToken ?? '')
    expect(refreshed.status).toBe(200)
    expect(((await refreshed.json()) as { access_token?: string }).access_token).toBeTruthy()

    // The browser can now read its own connection through /api.
    const status = await browser.get(`${system.url}/api/raven-connection`)
    expect(status.status).toBe(200)
    const body = JSON.parse(status.body) as Record<string, unknown>
    expect(body).toMatchObject({ leafUserId, connected: true, pending: false })
    expect(body.credentialId).toBe(stored?.id)
  })

  it('keeps two flows of the same browser apart (two tabs)', async () => {
    const leafUserId = system.newLeafUser()
    const browser = system.browser()
    const first = await launchFlow(system, { browser, leafUserId, returnTo: `${system.returnOrigin}/one` })
    const second = await launchFlow(system, { browser, leafUserId, returnTo: `${system.returnOrigin}/two` })
    const firstCallback = await consent(browser, first.authorizeUrl)
    const secondCallback = await consent(browser, second.authorizeUrl)
    const firstResult = await browser.get(firstCallback.href)
    const secondResult = await browser.get(secondCallback.href)
    expect(firstResult.headers.get('location')).toBe(`${system.returnOrigin}/one?raven=connected`)
    expect(secondResult.headers.get('location')).toBe(`${system.returnOrigin}/two?raven=connected`)
    // Reconnecting replaced the credential: Leaf holds exactly one, the second token.
    expect(system.leaf.state.credentials.size).toBeGreaterThan(0)
    expect(system.leaf.state.requestsTo('DELETE', `/users/${leafUserId}/raven-credentials`).length).toBe(1)
  })

  it('replaces an existing credential when the grower reconnects', async () => {
    const leafUserId = system.newLeafUser()
    system.leaf.state.storeCredential(leafUserId, { clientId: 'old', clientSecret: 'old-secret', refreshToken: 'revoked-token' })
    const { browser, callbackUrl } = await flowToCallback(system, { leafUserId })
    const result = await browser.get(callbackUrl.href)
    expect(result.status).toBe(200)
    expect(result.body).toContain('data-raven="connected"')
    const stored = system.leaf.state.credentialFor(leafUserId)
    expect(stored?.refreshToken).not.toBe('revoked-token')
    expect(stored?.clientId).toBe('raven-connect-test')
  })

  it('creates the Leaf user from an externalId and reuses it the next time', async () => {
    const externalId = `ext-${Date.now()}`
    const first = await system.createConnectSession({ externalId, name: 'Dana Field', email: 'dana@example.com' })
    const second = await system.createConnectSession({ externalId })
    expect(second.leafUserId).toBe(first.leafUserId)
    expect(system.leaf.state.users.get(first.leafUserId)?.externalId).toBe(externalId)
  })
})

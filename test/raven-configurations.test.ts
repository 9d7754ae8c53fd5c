import { afterEach, describe, expect, it } from '@jest/globals'

import { flowToCallback, outcomeOf } from './helpers/kit/index.js'
import { startSystem, type SystemOptions, type TestSystem } from './helpers/system.js'

let system: TestSystem | undefined
afterEach(async () => {
  await system?.close()
  system = undefined
})

async function connectWith(options: SystemOptions) {
  system = await startSystem(options)
  const flow = await flowToCallback(system)
  return { flow, result: outcomeOf(await flow.browser.get(flow.callbackUrl)) }
}

describe('Raven client configurations', () => {
  it('connects with client_secret_post', async () => {
    const { flow, result } = await connectWith({ ravenClientAuthMethod: 'client_secret_post', env: { RAVEN_TOKEN_AUTH_METHOD: 'client_secret_post' } })
    expect(result.raven).toBe('connected')
    expect(system?.leaf.state.credentialFor(flow.leafUserId)?.refreshToken).toBeTruthy()
  })

  it('connects from explicit endpoints without discovery', async () => {
    const { flow, result } = await connectWith({ ravenEndpoints: 'explicit' })
    expect(result.raven).toBe('connected')
    expect(system?.config.raven.endpoints.kind).toBe('explicit')
    expect(system?.raven.stats.discoveryRequests).toBe(0)
    expect(flow.authorizeUrl.pathname).toBe('/core/connect/authorize')
  })

  it("connects from explicit endpoints with Raven's path-shaped issuer (http://127.0.0.1:PORT/core) checked in iss and the ID token", async () => {
    const { flow, result } = await connectWith({ ravenEndpoints: 'explicit', ravenIssuer: 'path' })
    expect(result.raven).toBe('connected')
    const raven = system?.raven
    expect(raven?.issuer).toBe(`${raven?.url}/core`)
    expect(system?.config.raven.endpoints).toMatchObject({ kind: 'explicit', issuer: raven?.issuer })
    expect(raven?.stats.discoveryRequests).toBe(0)
    expect(flow.authorizeUrl.origin + flow.authorizeUrl.pathname).toBe(`${raven?.url}/core/connect/authorize`)
    expect(flow.callbackUrl.searchParams.get('iss')).toBe(raven?.issuer)
    expect(system?.leaf.state.credentialFor(flow.leafUserId)?.refreshToken).toBeTruthy()
  })

  it('connects by discovery of a path-shaped issuer ({issuer}/.well-known/openid-configuration)', async () => {
    const { result } = await connectWith({ ravenIssuer: 'path' })
    expect(result.raven).toBe('connected')
    expect(system?.config.raven.endpoints).toMatchObject({ kind: 'discovery', issuer: system?.raven.issuer })
    expect(system?.raven.stats.discoveryRequests).toBeGreaterThan(0)
  })

  it('ends with no_refresh_token when offline_access is not requested', async () => {
    const { flow, result } = await connectWith({ env: { RAVEN_SCOPES: 'openid profile' } })
    expect(flow.authorizeUrl.searchParams.get('scope')).toBe('openid profile')
    expect(flow.authorizeUrl.searchParams.has('prompt')).toBe(false)
    expect(result).toMatchObject({ raven: 'error', reason: 'no_refresh_token' })
  })
})

import * as oidc from 'openid-client'

import { RAVEN_ISSUER_PATH, startRavenSandbox, WRONG_ISSUER } from '../sandboxes/raven/server.js'
import { TestBrowser, parseForm } from './helpers/browser.js'
import { driveConsent, driveConsentResponse } from './helpers/consent-driver.js'

import type { RavenSandbox, TokenResponseFault } from '../sandboxes/raven/server.js'

const REDIRECT_URI = 'http://127.0.0.1:3999/connect/raven/callback'
const BASIC = { clientId: 'raven-connect-test', clientSecret: 'sandbox-client-secret-basic', redirectUris: [REDIRECT_URI] }
const POST = { clientId: 'raven-connect-post', clientSecret: 'sandbox-client-secret-post', redirectUris: [REDIRECT_URI], tokenAuthMethod: 'client_secret_post' as const }
const OFFLINE = 'openid offline_access'

let sandbox: RavenSandbox
let config: oidc.Configuration

async function discover(client = BASIC, auth = oidc.ClientSecretBasic(client.clientSecret)): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(sandbox.issuer), client.clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] })
}

interface Flow {
  url: URL
  verifier: string
  state: string
  nonce: string
}

async function startFlow(scope: string, extra: Record<string, string> = {}, cfg = config): Promise<Flow> {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(cfg, {
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    // OpenID Connect: offline_access needs prompt=consent, and oidc-provider drops it otherwise.
    ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}),
    ...extra,
  })
  return { url, verifier, state, nonce }
}

/** Runs login and consent; returns the callback URL the browser would be sent to, unrequested. */
async function authorize(scope = OFFLINE, cfg = config): Promise<Flow & { callback: URL; code: string }> {
  const flow = await startFlow(scope, {}, cfg)
  const callback = await driveConsent(new TestBrowser(), flow.url, { decision: 'allow' })
  return { ...flow, callback, code: callback.searchParams.get('code') ?? '' }
}

function exchange(flow: Flow & { callback: URL }, cfg = config) {
  return oidc.authorizationCodeGrant(cfg, flow.callback, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
  })
}

/** A token request by hand, to see exactly what the sandbox answers. */
function rawTokenRequest(code: string, verifier: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sandbox.url}/core/connect/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${BASIC.clientId}:${BASIC.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
    signal,
  })
}

beforeAll(async () => {
  sandbox = await startRavenSandbox({ port: 0, clients: [BASIC, POST] })
  config = await discover()
})

afterEach(() => sandbox.faults.reset())

afterAll(() => sandbox.close())

describe('Raven sandbox: the OpenID Connect server', () => {
  it('publishes a discovery document with Raven-shaped endpoints, S256 PKCE, revocation and RFC 9207 iss', async () => {
    const meta = await (await fetch(`${sandbox.issuer}/.well-known/openid-configuration`)).json()
    expect(meta).toMatchObject({
      issuer: sandbox.issuer,
      authorization_endpoint: `${sandbox.issuer}/core/connect/authorize`,
      token_endpoint: `${sandbox.issuer}/core/connect/token`,
      revocation_endpoint: `${sandbox.issuer}/core/connect/revocation`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      scopes_supported: ['openid', 'profile', 'email', 'agsync', 'roles', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    })
  })

  it('runs the code flow with PKCE and issues a refresh token that keeps working (no rotation)', async () => {
    const flow = await authorize('openid profile email agsync roles offline_access')
    expect(flow.callback.origin + flow.callback.pathname).toBe(REDIRECT_URI)
    expect(flow.callback.searchParams.get('iss')).toBe(sandbox.issuer)
    const tokens = await exchange(flow)
    expect(tokens.refresh_token).toEqual(expect.any(String))
    expect(tokens.claims()?.sub).toBe('raven-grower-0001')
    const refreshToken = tokens.refresh_token as string

    const first = await oidc.refreshTokenGrant(config, refreshToken)
    const second = await oidc.refreshTokenGrant(config, refreshToken)
    expect(first.access_token).not.toBe(second.access_token)
    expect(await sandbox.isRefreshTokenActive(refreshToken)).toBe(true)
    expect(sandbox.stats.tokenRequestsForCode(flow.code)).toBe(1)
    expect(sandbox.stats.refreshTokenForCode(flow.code)).toBe(refreshToken)
  })

  it('issues no refresh token when offline_access was not requested', async () => {
    const tokens = await exchange(await authorize('openid email'))
    expect(tokens.access_token).toEqual(expect.any(String))
    expect(tokens.refresh_token).toBeUndefined()
  })

  it('drops offline_access (so no refresh token) when the request has no prompt=consent', async () => {
    const flow = await startFlow('openid', { scope: OFFLINE })
    const callback = await driveConsent(new TestBrowser(), flow.url, { decision: 'allow' })
    const tokens = await exchange({ ...flow, callback })
    expect(tokens.refresh_token).toBeUndefined()
    expect(tokens.scope).toBe('openid')
  })

  it('refuses an authorization request without PKCE, and a plain code_challenge_method', async () => {
    const browser = new TestBrowser()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's1' })
    const withoutPkce = new URL((await browser.get(url)).location ?? '')
    expect(withoutPkce.searchParams.get('error')).toBe('invalid_request')
    expect(withoutPkce.searchParams.get('state')).toBe('s1')

    const plain = await startFlow('openid', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })
    const refused = new URL((await browser.get(plain.url)).location ?? '')
    expect(refused.searchParams.get('error')).toBe('invalid_request')
  })

  it('refuses a code exchange without the matching code_verifier', async () => {
    const flow = await authorize()
    const res = await rawTokenRequest(flow.code, oidc.randomPKCECodeVerifier())
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' })
  })

  it('sends error=access_denied with state and iss to the redirect_uri when the grower declines', async () => {
    const flow = await startFlow(OFFLINE)
    const callback = await driveConsent(new TestBrowser(), flow.url, { decision: 'decline' })
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI)
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({ error: 'access_denied', state: flow.state, iss: sandbox.issuer })
    expect(callback.searchParams.has('code')).toBe(false)
  })

  it('re-renders the login form with an error after a wrong password, then accepts the right one', async () => {
    const browser = new TestBrowser()
    const flow = await startFlow(OFFLINE)
    const [, loginPage] = await browser.follow(flow.url)
    const form = parseForm(loginPage?.body ?? '', loginPage?.url ?? '')
    expect(form?.buttons.map((b) => b.text)).toEqual(['Sign in'])
    expect(loginPage?.body).toMatch(/<label for="username">[\s\S]*<label for="password">/)

    const wrong = await browser.submit(form!, { username: 'grower@example.com', password: 'nope' })
    expect(wrong.status).toBe(200)
    expect(wrong.body).toContain('Wrong email or password.')
    expect(parseForm(wrong.body, wrong.url)?.fields.username).toBe('grower@example.com')

    await expect(driveConsent(browser, flow.url, { decision: 'allow', password: 'still wrong' })).rejects.toThrow(/refused the sign-in/)
    const callback = await driveConsent(browser, flow.url, { decision: 'allow' })
    expect(callback.searchParams.get('code')).toEqual(expect.any(String))
  })

  it('authenticates a client registered for client_secret_post', async () => {
    const postConfig = await discover(POST, oidc.ClientSecretPost(POST.clientSecret))
    const tokens = await exchange(await authorize(OFFLINE, postConfig), postConfig)
    expect(tokens.refresh_token).toEqual(expect.any(String))
  })

  it('counts token requests per code; a replayed code is refused and revokes what it issued', async () => {
    const flow = await authorize()
    expect(sandbox.stats.tokenRequestsForCode(flow.code)).toBe(0)
    const tokens = await exchange(flow)
    const replay = await rawTokenRequest(flow.code, flow.verifier)
    expect(replay.status).toBe(400)
    expect(sandbox.stats.tokenRequestsForCode(flow.code)).toBe(2)
    // RFC 6749 §4.1.2: a code used twice makes the server revoke the tokens issued for it.
    expect(await sandbox.isRefreshTokenActive(tokens.refresh_token as string)).toBe(false)
  })

  it('revokes a refresh token (RFC 7009) and records the request', async () => {
    const tokens = await exchange(await authorize())
    const refreshToken = tokens.refresh_token as string
    await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' })
    expect(sandbox.stats.wasRevoked(refreshToken)).toBe(true)
    expect(sandbox.stats.revocations.at(-1)?.tokenTypeHint).toBe('refresh_token')
    expect(await sandbox.isRefreshTokenActive(refreshToken)).toBe(false)
    await expect(oidc.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' })
  })
})

describe('Raven sandbox: faults', () => {
  it('omit_refresh_token: answers 200 without a refresh token', async () => {
    sandbox.faults.set({ tokenResponse: 'omit_refresh_token' })
    const tokens = await exchange(await authorize())
    expect(tokens.access_token).toEqual(expect.any(String))
    expect(tokens.refresh_token).toBeUndefined()
  })

  it.each<[TokenResponseFault, number, RegExp, RegExp]>([
    ['invalid_grant', 400, /json/, /"invalid_grant"/],
    ['invalid_client', 401, /json/, /"invalid_client"/],
    ['server_error_html', 500, /text\/html/, /<html>/],
    ['non_json', 200, /text\/plain/, /not json/],
  ])('%s: answers %i without exchanging the code', async (fault, status, type, body) => {
    const flow = await authorize()
    sandbox.faults.tokenResponse = fault
    const res = await rawTokenRequest(flow.code, flow.verifier)
    expect(res.status).toBe(status)
    expect(res.headers.get('content-type')).toMatch(type)
    expect(await res.text()).toMatch(body)
    expect(sandbox.stats.tokenRequestsForCode(flow.code)).toBe(1)
    expect(sandbox.stats.codeExchanged(flow.code)).toBe(false)
  })

  it('tokenDelayMs: issues the tokens, then answers late (a client timeout is ambiguous)', async () => {
    const flow = await authorize()
    sandbox.faults.tokenDelayMs = 400
    await expect(rawTokenRequest(flow.code, flow.verifier, AbortSignal.timeout(100))).rejects.toThrow()
    expect(sandbox.stats.codeExchanged(flow.code)).toBe(true)
    const issued = sandbox.stats.refreshTokenForCode(flow.code)
    expect(await sandbox.isRefreshTokenActive(issued ?? '')).toBe(true)
  })

  it.each([
    ['omit', null],
    ['wrong', WRONG_ISSUER],
  ] as const)('iss=%s: the redirect carries iss=%s and openid-client refuses it before any exchange', async (mode, expected) => {
    sandbox.faults.iss = mode
    const flow = await authorize()
    expect(flow.callback.searchParams.get('iss')).toBe(expected)
    const error: unknown = await exchange(flow).catch((e: unknown) => e)
    expect((error as Error).cause).toMatchObject({ message: expect.stringMatching(/"iss"/) })
    expect(sandbox.stats.tokenRequestsForCode(flow.code)).toBe(0)
  })

  it('iss faults also rewrite form_post responses', async () => {
    sandbox.faults.iss = 'wrong'
    const flow = await startFlow(OFFLINE, { response_mode: 'form_post' })
    const response = await driveConsentResponse(new TestBrowser(), flow.url, { decision: 'allow' })
    expect(response).toMatchObject({ mode: 'form_post', fields: { state: flow.state, iss: WRONG_ISSUER } })
    if (response.mode === 'form_post') expect(response.action.href).toBe(REDIRECT_URI)
  })

  it('iss faults also apply to error responses', async () => {
    sandbox.faults.set({ iss: 'omit' })
    const flow = await startFlow(OFFLINE)
    const callback = await driveConsent(new TestBrowser(), flow.url, { decision: 'decline' })
    expect(callback.searchParams.get('error')).toBe('access_denied')
    expect(callback.searchParams.has('iss')).toBe(false)
  })

  it('discovery=unavailable: 503 on the discovery document until reset', async () => {
    const before = sandbox.stats.discoveryRequests
    sandbox.faults.discovery = 'unavailable'
    const res = await fetch(`${sandbox.issuer}/.well-known/openid-configuration`)
    expect(res.status).toBe(503)
    await expect(discover()).rejects.toThrow()
    sandbox.faults.reset()
    await expect(discover()).resolves.toBeInstanceOf(oidc.Configuration)
    expect(sandbox.stats.discoveryRequests).toBe(before + 3)
  })

  it('authorizeError: redirects straight back with the error and state, no login page', async () => {
    sandbox.faults.authorizeError = 'server_error'
    const flow = await startFlow(OFFLINE)
    const res = await new TestBrowser().get(flow.url)
    expect(res.status).toBe(303)
    const target = new URL(res.location ?? '')
    expect(target.origin + target.pathname).toBe(REDIRECT_URI)
    expect(Object.fromEntries(target.searchParams)).toMatchObject({ error: 'server_error', state: flow.state, iss: sandbox.issuer })
  })

  it('revocation=server_error: 503 and the token stays active', async () => {
    const tokens = await exchange(await authorize())
    sandbox.faults.revocation = 'server_error'
    await expect(oidc.tokenRevocation(config, tokens.refresh_token as string)).rejects.toThrow()
    expect(await sandbox.isRefreshTokenActive(tokens.refresh_token as string)).toBe(true)
  })
})

describe("Raven sandbox in Raven's own shape: the issuer under /core", () => {
  let core: RavenSandbox
  let coreConfig: oidc.Configuration

  beforeAll(async () => {
    core = await startRavenSandbox({ port: 0, clients: [BASIC], issuerPath: RAVEN_ISSUER_PATH })
    coreConfig = await oidc.discovery(new URL(core.issuer), BASIC.clientId, undefined, oidc.ClientSecretBasic(BASIC.clientSecret), {
      execute: [oidc.allowInsecureRequests],
    })
  })
  afterAll(() => core.close())

  it('names {origin}/core as its issuer and serves discovery at {issuer}/.well-known/openid-configuration', async () => {
    expect(core.issuer).toBe(`${core.url}/core`)
    const meta = await (await fetch(`${core.issuer}/.well-known/openid-configuration`)).json()
    expect(meta).toMatchObject({
      issuer: core.issuer,
      authorization_endpoint: `${core.url}/core/connect/authorize`,
      token_endpoint: `${core.url}/core/connect/token`,
      revocation_endpoint: `${core.url}/core/connect/revocation`,
    })
    // The bare origin is not the issuer here: nothing is discoverable there.
    expect((await fetch(`${core.url}/.well-known/openid-configuration`)).status).toBe(404)
  })

  it('runs the code flow with iss and the ID token naming the path-shaped issuer, then refreshes and revokes', async () => {
    const flow = await authorize(OFFLINE, coreConfig)
    expect(flow.url.origin + flow.url.pathname).toBe(`${core.url}/core/connect/authorize`)
    expect(flow.callback.searchParams.get('iss')).toBe(core.issuer)
    const tokens = await exchange(flow, coreConfig)
    expect(tokens.claims()?.iss).toBe(core.issuer)
    const refreshToken = tokens.refresh_token as string
    await expect(oidc.refreshTokenGrant(coreConfig, refreshToken)).resolves.toMatchObject({ access_token: expect.any(String) })
    await oidc.tokenRevocation(coreConfig, refreshToken)
    expect(core.stats.wasRevoked(refreshToken)).toBe(true)
    expect(await core.isRefreshTokenActive(refreshToken)).toBe(false)
  })

  it('applies its fault switches under the mount too', async () => {
    core.faults.set({ tokenResponse: 'invalid_grant' })
    const before = core.stats.tokenRequests
    await expect(exchange(await authorize(OFFLINE, coreConfig), coreConfig)).rejects.toThrow()
    expect(core.stats.tokenRequests).toBe(before + 1)
    core.faults.reset()
  })
})

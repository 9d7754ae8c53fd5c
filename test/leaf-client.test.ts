import { Writable } from 'node:stream'
import { LeafClient, LeafError, type LeafClientOptions } from '../src/leaf/client.js'
import { REDACTED, redactText } from '../src/leaf/redact.js'
import { createLogger } from '../src/infra/logger.js'
import { createMetrics } from '../src/infra/metrics.js'
import { startLeafSandbox, type LeafSandbox } from '../sandboxes/leaf/server.js'
import { leafErrorOf, waitFor } from './helpers/kit/index.js'

const LOGIN = { username: 'leaf-demo@example.com', password: 'leaf-sandbox-pw' }
const CREDENTIAL = { clientId: 'raven-app', clientSecret: 'app-secret-xyz', refreshToken: 'rt-grower-first' }
const FAST_RETRY = { attempts: 3, baseMs: 5, capMs: 50 }

let sandbox: LeafSandbox
let logLines: string[]

function makeClient(overrides: Partial<LeafClientOptions> = {}): LeafClient {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString())
      callback()
    },
  })
  return new LeafClient({
    apiUrl: sandbox.url,
    auth: LOGIN,
    timeoutMs: 500,
    retry: FAST_RETRY,
    logger: createLogger({ level: 'debug', destination }),
    ...overrides,
  })
}

beforeAll(async () => {
  sandbox = await startLeafSandbox({ port: 0, ...LOGIN })
})
afterAll(async () => {
  await sandbox.close()
})
beforeEach(() => {
  sandbox.state.reset()
  sandbox.faults.reset()
  logLines = []
})
afterEach(() => {
  // Whatever a test did, the client never logs Leaf's password, its token or a Raven secret.
  const logs = logLines.join('\n')
  for (const secret of [LOGIN.password, CREDENTIAL.clientSecret, CREDENTIAL.refreshToken, 'eyJ']) {
    expect(logs).not.toContain(secret)
  }
})

describe('LeafClient authentication', () => {
  it('authenticates once and reuses the token', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    await client.getUser(user.id)
    await client.getUser(user.id)
    await client.getRavenCredential(user.id)
    expect(sandbox.state.authentications).toBe(1)
    expect(sandbox.state.requestsTo('POST', '/api/authenticate')).toHaveLength(1)
  })

  it('authenticates again on a 401 and retries the call once', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    await client.getUser(user.id)
    sandbox.faults.expireTokensNow()
    await expect(client.getUser(user.id)).resolves.toMatchObject({ id: user.id })
    expect(sandbox.state.authentications).toBe(2)
    expect(sandbox.state.requestsTo('GET', `/users/${user.id}`).map((entry) => entry.status)).toEqual([200, 401, 200])
  })

  it('lets concurrent callers share one authentication, also after tokens expire', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    await Promise.all(Array.from({ length: 8 }, () => client.getUser(user.id)))
    expect(sandbox.state.authentications).toBe(1)
    sandbox.faults.expireTokensNow()
    await Promise.all(Array.from({ length: 8 }, () => client.getUser(user.id)))
    expect(sandbox.state.authentications).toBe(2)
  })

  it('renews the token shortly before its exp instead of waiting for a 401', async () => {
    const shortLived = await startLeafSandbox({ port: 0, ...LOGIN, rememberMeTokenTtlSeconds: 2 })
    try {
      const user = shortLived.state.addUser({ externalId: 'g' })
      const client = makeClient({ apiUrl: shortLived.url })
      await client.getUser(user.id)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      await client.getUser(user.id)
      expect(shortLived.state.authentications).toBe(2)
      expect(shortLived.state.requests.filter((entry) => entry.status === 401)).toHaveLength(0)
    } finally {
      await shortLived.close()
    }
  })

  it('with a static token, never authenticates and treats a 401 as final', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const res = await fetch(`${sandbox.url}/api/authenticate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...LOGIN, rememberMe: 'true' }),
    })
    const { id_token: token } = (await res.json()) as { id_token: string }
    const client = makeClient({ auth: { token } })
    await expect(client.getUser(user.id)).resolves.toMatchObject({ id: user.id })
    sandbox.faults.expireTokensNow()
    const err = await leafErrorOf(client.getUser(user.id))
    expect(err).toMatchObject({ kind: 'unauthorized', status: 401, retryable: false })
    expect(sandbox.state.authentications).toBe(1)
  })

  it('reports a refused login as unauthorized without retrying it', async () => {
    const client = makeClient({ auth: { username: LOGIN.username, password: 'wrong' } })
    const err = await leafErrorOf(client.getUser('anyone'))
    expect(err.kind).toBe('unauthorized')
    expect(err.message).not.toContain('wrong')
    expect(sandbox.state.failedAuthentications).toBe(1)
  })
})

describe('LeafClient retries', () => {
  it('retries 503s and succeeds', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.faults.script('GET', '/users/*', { status: 503 }, { status: 502 })
    await expect(makeClient().getUser(user.id)).resolves.toMatchObject({ id: user.id })
    expect(sandbox.state.requestsTo('GET', '/users/').map((entry) => entry.status)).toEqual([503, 502, 200])
  })

  it('honours Retry-After on 429, capped at capMs', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient({ retry: { ...FAST_RETRY, capMs: 1500 } })
    await client.getUser(user.id) // authenticate first, so only the wait is timed
    sandbox.faults.script('GET', '/users/*', { status: 429, headers: { 'Retry-After': '1' } })
    let started = Date.now()
    await expect(client.getUser(user.id)).resolves.toMatchObject({ id: user.id })
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)

    sandbox.faults.script('GET', '/users/*', { status: 429, headers: { 'Retry-After': '3600' } })
    started = Date.now()
    await makeClient().getUser(user.id)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('gives up after retry.attempts with a retryable, ambiguous unavailable error', async () => {
    sandbox.faults.unavailable(5_000)
    const err = await leafErrorOf(makeClient().getUser('g'))
    expect(err).toMatchObject({ kind: 'unavailable', status: 503, retryable: true, ambiguous: true })
    expect(sandbox.state.requests).toHaveLength(3) // the authentication, tried 3 times
  })

  it('does not retry a final 4xx and logs a warning without the body', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.faults.script('GET', '/users/*', { status: 403, body: { detail: 'forbidden-detail-text' } })
    const err = await leafErrorOf(makeClient().getUser(user.id))
    expect(err).toMatchObject({ kind: 'rejected', status: 403, retryable: false, ambiguous: false })
    expect(sandbox.state.requestsTo('GET', '/users/')).toHaveLength(1)
    const warning = logLines.find((line) => line.includes('"level":40'))
    expect(warning).toContain('"module":"leaf"')
    expect(logLines.join('')).not.toContain('forbidden-detail-text')
  })

  it('retries a timeout, then fails with kind timeout', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient({ timeoutMs: 100 })
    await client.getUser(user.id)
    const slow = { status: 200, body: {}, delayMs: 1_000 }
    sandbox.faults.script('GET', '/users/*', slow, slow, slow)
    const err = await leafErrorOf(client.getUser(user.id))
    expect(err).toMatchObject({ kind: 'timeout', retryable: true, ambiguous: true })
    expect(sandbox.state.requestsTo('GET', '/users/')).toHaveLength(4)
  })

  it('rejects an answer of the wrong shape as invalid_response', async () => {
    sandbox.faults.script('GET', '/users/*', { status: 200, body: { notAUser: true } })
    const err = await leafErrorOf(makeClient().getUser('g'))
    expect(err.kind).toBe('invalid_response')
  })

  it('records upstream latency with upstream, operation and outcome', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    await makeClient({ metrics }).getUser('nobody')
    const text = await metrics.registry.metrics()
    expect(text).toContain('upstream="leaf",operation="authenticate",outcome="ok"')
    expect(text).toContain('upstream="leaf",operation="get_user",outcome="not_found"')
  })
})

describe('LeafClient read-only checks (npm run doctor)', () => {
  it('proves a login on a lookup that creates nothing and tells the expiry, not the token', async () => {
    const proof = await makeClient().proveAccess()
    expect(proof.via).toBe('login')
    // The sandbox issues 30-day tokens with rememberMe, like Leaf.
    expect(proof.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000)
    expect(JSON.stringify(proof)).not.toContain('eyJ')
    expect(sandbox.state.requests.map((entry) => `${entry.method} ${entry.status}`)).toEqual(['POST 200', 'GET 404'])
    expect(sandbox.state.users.size).toBe(0)
  })

  it('says which step Leaf refused: the login, or the static token', async () => {
    const login = await leafErrorOf(makeClient({ auth: { username: LOGIN.username, password: 'wrong' } }).proveAccess())
    expect(login).toMatchObject({ kind: 'unauthorized', operation: 'authenticate', status: 401 })
    const token = await leafErrorOf(makeClient({ auth: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.revoked' } }).proveAccess())
    expect(token).toMatchObject({ kind: 'unauthorized', operation: 'prove_access', status: 401 })
  })

  it('aborts the call in flight at the caller\'s signal and sends nothing more', async () => {
    const client = makeClient({ timeoutMs: 5_000 })
    await client.proveAccess()
    const slow = { status: 404, body: {}, delayMs: 1_000 }
    sandbox.faults.script('GET', '/users/*', slow, slow, slow)
    const caller = new AbortController()
    const proving = leafErrorOf(client.proveAccess({ signal: caller.signal }))
    await waitFor('the lookup to reach Leaf', () => sandbox.state.requestsTo('GET', '/users/').length === 2)
    caller.abort(new Error('time limit of the check'))
    expect(await proving).toMatchObject({ operation: 'prove_access' })
    // FAST_RETRY allows 3 tries: none reached Leaf after the abort.
    expect(sandbox.state.requestsTo('GET', '/users/')).toHaveLength(2)
  })

  it('lists Alerts webhooks saying whether each holds the expected secret, without the secret', async () => {
    sandbox.alerts.reset()
    const hook = { events: ['credentialsUnauthenticated'], name: 'raven-connect', url: 'https://connect.example.com/leaf/alerts' }
    sandbox.alerts.webhooks.set('ours', { id: 'ours', secret: 'alerts-secret-0123456789', ...hook })
    sandbox.alerts.webhooks.set('rotated', { id: 'rotated', secret: 'old-alerts-secret-9876543210', ...hook, events: ['credentialsLimitedPermission'] })
    const client = makeClient()
    const checked = await client.listAlertWebhooks({ expectedSecret: 'alerts-secret-0123456789' })
    expect(checked.map((webhook) => [webhook.id, webhook.secretMatches])).toEqual([
      ['ours', true],
      ['rotated', false],
    ])
    const plain = await client.listAlertWebhooks()
    expect(plain.map((webhook) => webhook.secretMatches)).toEqual([undefined, undefined])
    expect(JSON.stringify([checked, plain])).not.toMatch(/alerts-secret|"secret"/)
    sandbox.alerts.reset()
  })
})

describe('LeafClient users', () => {
  it('returns null for an unknown Leaf user', async () => {
    await expect(makeClient().getUser('nobody')).resolves.toBeNull()
  })

  it('finds the exact externalId among substring matches, across pages, without creating', async () => {
    for (const externalId of ['grower-10', 'GROWER-1', 'grower-100', 'x-grower-1']) sandbox.state.addUser({ externalId })
    const wanted = sandbox.state.addUser({ externalId: 'grower-1' })
    const user = await makeClient({ pageSize: 2 }).findOrCreateUserByExternalId({ externalId: 'grower-1' })
    expect(user.id).toBe(wanted.id)
    expect(sandbox.state.requestsTo('GET', '/users').length).toBe(3)
    expect(sandbox.state.requestsTo('POST', '/users')).toHaveLength(0)
  })

  it('pages until a short page when Leaf sends no total count', async () => {
    sandbox.state.behaviour.totalCountHeader = false
    for (const externalId of ['g-1a', 'g-1b', 'g-1c', 'g-1d']) sandbox.state.addUser({ externalId })
    const wanted = sandbox.state.addUser({ externalId: 'g-1' })
    const user = await makeClient({ pageSize: 2 }).findOrCreateUserByExternalId({ externalId: 'g-1' })
    expect(user.id).toBe(wanted.id)
  })

  it('creates the user when no exact match exists, and finds it next time', async () => {
    sandbox.state.addUser({ externalId: 'new-grower-2' })
    const client = makeClient()
    const created = await client.findOrCreateUserByExternalId({ externalId: 'new-grower', name: 'N', email: 'n@example.com' })
    expect(created).toMatchObject({ externalId: 'new-grower', name: 'N', email: 'n@example.com' })
    await expect(client.findOrCreateUserByExternalId({ externalId: 'new-grower' })).resolves.toEqual(created)
    expect(sandbox.state.requestsTo('POST', '/users')).toHaveLength(1)
  })

  it('looks again instead of creating twice when the create timed out after Leaf stored it', async () => {
    sandbox.faults.script('POST', '/users', { status: 503 })
    const client = makeClient()
    const user = await client.findOrCreateUserByExternalId({ externalId: 'flaky' })
    expect(user.externalId).toBe('flaky')
    // The scripted 503 answered before the route ran, so nothing was stored: one more create.
    expect(sandbox.state.requestsTo('POST', '/users')).toHaveLength(2)
    expect([...sandbox.state.users.values()].filter((u) => u.externalId === 'flaky')).toHaveLength(1)
  })

  it('refuses an externalId that several users carry exactly', async () => {
    sandbox.state.addUser({ externalId: 'dup' })
    sandbox.state.addUser({ externalId: 'dup' })
    const err = await leafErrorOf(makeClient().findOrCreateUserByExternalId({ externalId: 'dup' }))
    expect(err.kind).toBe('ambiguous_external_id')
    expect(sandbox.state.requestsTo('POST', '/users')).toHaveLength(0)
  })
})

describe('LeafClient raven credentials', () => {
  it('creates, reads without secrets, deletes, and treats a second delete as done', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    await expect(client.getRavenCredential(user.id)).resolves.toBeNull()
    const created = await client.createRavenCredential(user.id, CREDENTIAL)
    expect(Object.keys(created).sort()).toEqual(['createdTime', 'id', 'scopes', 'status'])
    const read = await client.getRavenCredential(user.id)
    expect(read).toEqual({ ...created, status: 'ACTIVE' })
    expect(read?.scopes).toContain('offline_access')
    const stored = sandbox.state.credentialFor(user.id)
    for (const secret of [CREDENTIAL.clientSecret, CREDENTIAL.refreshToken, stored?.accessToken ?? '?']) {
      expect(JSON.stringify([created, read])).not.toContain(secret)
    }
    await client.deleteRavenCredential(user.id)
    await expect(client.getRavenCredential(user.id)).resolves.toBeNull()
    await expect(client.deleteRavenCredential(user.id)).resolves.toBeUndefined()
  })

  it('maps a create for an unknown user to not_found and a duplicate to rejected', async () => {
    const client = makeClient()
    expect((await leafErrorOf(client.createRavenCredential('nobody', CREDENTIAL))).kind).toBe('not_found')
    const user = sandbox.state.addUser({ externalId: 'g' })
    await client.createRavenCredential(user.id, CREDENTIAL)
    expect(await leafErrorOf(client.createRavenCredential(user.id, CREDENTIAL))).toMatchObject({ kind: 'rejected', status: 409 })
  })

  it('replaces an existing credential so Leaf holds exactly the new one', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    const first = await client.replaceRavenCredential(user.id, CREDENTIAL)
    const second = await client.replaceRavenCredential(user.id, { ...CREDENTIAL, refreshToken: 'rt-grower-second' })
    expect(second.id).not.toBe(first.id)
    expect(sandbox.state.credentials.size).toBe(1)
    expect(sandbox.state.credentialFor(user.id)?.refreshToken).toBe('rt-grower-second')
  })

  it('takes a credential stored by a create that timed out as stored, without posting again', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.faults.storeThenTimeout()
    const summary = await makeClient({ timeoutMs: 150 }).replaceRavenCredential(user.id, CREDENTIAL)
    expect(summary.id).toBe(sandbox.state.credentialFor(user.id)?.id)
    expect(sandbox.state.credentialFor(user.id)?.refreshToken).toBe(CREDENTIAL.refreshToken)
    expect(sandbox.state.requestsTo('POST', '/raven-credentials')).toHaveLength(1)
  })

  it('creates again when an ambiguous create did not land', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.faults.script('POST', '/users/*/raven-credentials', { status: 500 })
    await makeClient().replaceRavenCredential(user.id, CREDENTIAL)
    expect(sandbox.state.requestsTo('POST', '/raven-credentials').map((entry) => entry.status)).toEqual([500, 201])
    expect(sandbox.state.credentialFor(user.id)?.refreshToken).toBe(CREDENTIAL.refreshToken)
  })

  it('checks a conflict-looking answer with a GET and reports it when nothing is stored', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.faults.script('POST', '/users/*/raven-credentials', { status: 422 })
    const err = await leafErrorOf(makeClient().replaceRavenCredential(user.id, CREDENTIAL))
    expect(err).toMatchObject({ kind: 'rejected', status: 422 })
    expect(sandbox.state.requestsTo('GET', '/raven-credentials').length).toBe(2)
  })

  it('takes a conflict as stored when a new credential appeared after the lookup', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.state.behaviour.duplicateCredentialStatus = 400
    // A concurrent reconnect stores between our lookup and our create.
    sandbox.faults.script('GET', '/users/*/raven-credentials', { status: 404 })
    const concurrent = sandbox.state.storeCredential(user.id, { ...CREDENTIAL, refreshToken: 'rt-concurrent' })
    const summary = await makeClient().replaceRavenCredential(user.id, CREDENTIAL)
    expect(summary.id).toBe(concurrent.id)
    expect(sandbox.state.credentials.size).toBe(1)
    expect(sandbox.state.requestsTo('POST', '/raven-credentials')).toHaveLength(1)
  })

  it('refuses to take the credential it deleted for a stored one', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    sandbox.state.storeCredential(user.id, { ...CREDENTIAL, refreshToken: 'rt-old' })
    sandbox.faults.script('DELETE', '/users/*/raven-credentials', { status: 204 }) // acknowledged, not done
    const err = await leafErrorOf(makeClient().replaceRavenCredential(user.id, CREDENTIAL))
    expect(err).toMatchObject({ kind: 'rejected', status: 409 })
  })
})

describe('LeafClient events', () => {
  it('redacts every secret Leaf put into the events', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    await client.createRavenCredential(user.id, CREDENTIAL)
    const events = await client.getRavenCredentialEvents(user.id)
    expect(events).toHaveLength(sandbox.state.events.get(user.id)?.length ?? -1)
    const text = JSON.stringify(events)
    const secrets = sandbox.state.eventSecrets.get(user.id) ?? []
    expect(secrets.length).toBeGreaterThan(5)
    for (const secret of secrets) expect(text).not.toContain(secret)
    expect(text).toContain(REDACTED)
    expect(events.map((event) => event.statusCode)).toEqual([200, 200, 401, 302, 200, 200])
    expect(text).toContain('raven-app') // the client id is not a secret and stays readable
  })

  it('answers [] when Leaf holds no credential, whether Leaf says 404 or []', async () => {
    const user = sandbox.state.addUser({ externalId: 'g' })
    const client = makeClient()
    await expect(client.getRavenCredentialEvents(user.id)).resolves.toEqual([])
    sandbox.state.behaviour.eventsWithoutCredential = 'empty'
    await expect(client.getRavenCredentialEvents(user.id)).resolves.toEqual([])
  })
})

describe('redactText', () => {
  it.each([
    ['JSON body', '{"access_token":"s3cr3t-a","expires_in":3600,"token_type":"Bearer"}', ['s3cr3t-a'], ['3600', 'Bearer']],
    ['form body', 'grant_type=refresh_token&refresh_token=s3cr3t-b&client_id=app', ['s3cr3t-b'], ['grant_type=refresh_token', 'client_id=app']],
    ['header lines', 'Host: x\r\nAuthorization: Basic czNjcjN0LWM6eHl6\r\nCookie: sid=s3cr3t-d', ['czNjcjN0LWM6eHl6', 's3cr3t-d'], ['Host: x']],
    ['map dump', '{Authorization=[Bearer s3cr3t-e], Accept=[application/json]}', ['s3cr3t-e'], ['application/json']],
    ['URL in text', 'GET https://r.example/cb?code=s3cr3t-f&state=ok&id_token=s3cr3t-g failed', ['s3cr3t-f', 's3cr3t-g'], ['state=ok']],
    ['escaped JSON', 'upstream said {\\"refresh_token\\":\\"s3cr3t-h\\",\\"error\\":\\"x\\"', ['s3cr3t-h'], ['error']],
    ['nested JSON string', '{"body":"{\\"client_secret\\":\\"s3cr3t-i\\"}","statusCode":"200"}', ['s3cr3t-i'], ['statusCode', '200']],
    ['a bare JWT', 'token was eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', ['eyJhbGciOiJIUzI1NiJ9'], ['token was']],
    ['Bearer in text', 'sent Bearer s3cr3t-j; got WWW-Authenticate: Bearer realm="api"', ['s3cr3t-j'], ['realm="api"']],
  ])('redacts a %s', (_name, input, secrets, kept) => {
    const output = redactText(input)
    for (const secret of secrets) expect(output).not.toContain(secret)
    for (const text of kept) expect(output).toContain(text)
    expect(output).toContain(REDACTED)
  })
})

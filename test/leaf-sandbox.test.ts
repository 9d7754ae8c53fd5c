import { startLeafSandbox, type LeafSandbox } from '../sandboxes/leaf/server.js'

const API = '/services/usermanagement/api'
const LEAF_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/
const credentialBody = { clientId: 'raven-app', clientSecret: 'app-secret-1', refreshToken: 'rt-grower-1' }

let sandbox: LeafSandbox
let token: string

async function authenticate(body: unknown): Promise<Response> {
  return fetch(`${sandbox.url}/api/authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function api(method: string, path: string, options: { body?: unknown; token?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  const bearer = options.token === undefined ? token : options.token
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`
  const init: RequestInit = { method, headers }
  if (options.body !== undefined) init.body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  return fetch(`${sandbox.url}${API}${path}`, init)
}

function claims(jwt: string): { exp: number; iat: number } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number; iat: number }
}

beforeAll(async () => {
  sandbox = await startLeafSandbox({ port: 0 })
})
afterAll(async () => {
  await sandbox.close()
})
beforeEach(async () => {
  sandbox.state.reset()
  sandbox.faults.reset()
  const res = await authenticate({ username: 'leaf-demo@example.com', password: 'leaf-sandbox', rememberMe: 'true' })
  token = ((await res.json()) as { id_token: string }).id_token
})

describe('Leaf sandbox: authentication', () => {
  it('issues a JWT that lasts 30 days with rememberMe "true" and 24 h without', async () => {
    expect(claims(token).exp - claims(token).iat).toBe(30 * 24 * 3600)
    const res = await authenticate({ username: 'leaf-demo@example.com', password: 'leaf-sandbox' })
    const { id_token: shortToken } = (await res.json()) as { id_token: string }
    expect(claims(shortToken).exp - claims(shortToken).iat).toBe(86_400)
    expect(sandbox.state.authentications).toBe(2)
  })

  it('answers 401 to a wrong password', async () => {
    const res = await authenticate({ username: 'leaf-demo@example.com', password: 'nope', rememberMe: 'true' })
    expect(res.status).toBe(401)
    expect(sandbox.state.failedAuthentications).toBe(1)
  })

  it('requires a valid, unexpired bearer token on the user-management API', async () => {
    expect((await api('GET', '/users', { token: null })).status).toBe(401)
    expect((await api('GET', '/users', { token: `${token}x` })).status).toBe(401)
    expect((await api('GET', '/users', { token: 'not-a-jwt' })).status).toBe(401)
    expect((await api('GET', '/users')).status).toBe(200)
    sandbox.faults.expireTokensNow()
    expect((await api('GET', '/users')).status).toBe(401)
  })
})

describe('Leaf sandbox: users', () => {
  it('filters externalId by substring, pages, and counts', async () => {
    for (const externalId of ['abc', 'xabcx', 'ABC-2', 'zzz']) sandbox.state.addUser({ externalId })
    const res = await api('GET', '/users?externalId=abc&page=0&size=2')
    expect(res.headers.get('x-total-count')).toBe('3')
    const first = (await res.json()) as { externalId: string }[]
    const second = (await (await api('GET', '/users?externalId=abc&page=1&size=2')).json()) as { externalId: string }[]
    expect([...first, ...second].map((user) => user.externalId).sort()).toEqual(['ABC-2', 'abc', 'xabcx'])
  })

  it('creates a user with 201 and finds it by id, 404 for an unknown id', async () => {
    const res = await api('POST', '/users', { body: { externalId: 'g-1', name: 'Grower', email: 'g@example.com' } })
    expect(res.status).toBe(201)
    const user = (await res.json()) as { id: string; externalId: string }
    expect(user).toMatchObject({ externalId: 'g-1', name: 'Grower', email: 'g@example.com' })
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(await (await api('GET', `/users/${user.id}`)).json()).toMatchObject({ id: user.id })
    expect((await api('GET', '/users/nobody')).status).toBe(404)
    expect((await api('POST', '/users', { body: { name: 'no external id' } })).status).toBe(400)
  })
})

describe('Leaf sandbox: raven-credentials', () => {
  it('answers with the shapes of reference/, secrets included, and deletes events with the credential', async () => {
    const user = sandbox.state.addUser({ externalId: 'g-2' })
    expect((await api('GET', `/users/${user.id}/raven-credentials`)).status).toBe(404)
    const created = await api('POST', `/users/${user.id}/raven-credentials`, { body: credentialBody })
    expect(created.status).toBe(201)
    const body = (await created.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(
      ['accessToken', 'clientId', 'clientSecret', 'createdTime', 'id', 'refreshToken', 'status', 'tokenMetadata'].sort(),
    )
    expect(body).toMatchObject({ status: 'PROCESSING', ...credentialBody, tokenMetadata: { scopes: expect.any(Array) } })
    expect(body.createdTime).toMatch(LEAF_TIME)
    expect(await (await api('GET', `/users/${user.id}/raven-credentials`)).json()).toMatchObject({ status: 'ACTIVE' })
    expect(sandbox.state.credentialFor(user.id)?.refreshToken).toBe('rt-grower-1')

    const events = (await (await api('GET', `/users/${user.id}/raven-credentials/events`)).json()) as Record<string, unknown>[]
    expect(events.length).toBeGreaterThan(0)
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(['body', 'createdDate', 'headers', 'id', 'statusCode'])
      expect(event.createdDate).toMatch(LEAF_TIME)
    }
    expect(JSON.stringify(events)).toContain('rt-grower-1')

    expect((await api('POST', `/users/${user.id}/raven-credentials`, { body: credentialBody })).status).toBe(409)
    expect((await api('DELETE', `/users/${user.id}/raven-credentials`)).status).toBe(204)
    expect((await api('DELETE', `/users/${user.id}/raven-credentials`)).status).toBe(404)
    expect((await api('GET', `/users/${user.id}/raven-credentials/events`)).status).toBe(404)
    sandbox.state.behaviour.eventsWithoutCredential = 'empty'
    expect(await (await api('GET', `/users/${user.id}/raven-credentials/events`)).json()).toEqual([])
  })

  it('rejects a body with missing fields (400), malformed JSON (400) and an unknown user (404)', async () => {
    const user = sandbox.state.addUser({ externalId: 'g-3' })
    const missing = await api('POST', `/users/${user.id}/raven-credentials`, { body: { clientId: 'x' } })
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { detail: string }).detail).toContain('clientSecret')
    expect((await api('POST', `/users/${user.id}/raven-credentials`, { body: '{"clientId":' })).status).toBe(400)
    expect((await api('POST', '/users/nobody/raven-credentials', { body: credentialBody })).status).toBe(404)
  })

  it('answers unknown routes with 404 JSON and logs requests without bodies', async () => {
    const res = await api('GET', '/nothing-here')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('json')
    expect(sandbox.state.requests.at(-1)).toEqual({ method: 'GET', path: `${API}/nothing-here`, query: '', status: 404 })
  })
})

describe('Leaf sandbox: faults', () => {
  it('plays scripted answers in order, then answers normally again', async () => {
    sandbox.faults.script('GET', '/users', { status: 503, headers: { 'Retry-After': '2' } }, { status: 429 })
    const first = await api('GET', '/users')
    expect([first.status, first.headers.get('retry-after')]).toEqual([503, '2'])
    expect((await api('GET', '/users')).status).toBe(429)
    expect((await api('GET', '/users')).status).toBe(200)
  })

  it('is unavailable for a while', async () => {
    sandbox.faults.unavailable(100, { retryAfterSeconds: 1 })
    expect((await api('GET', '/users')).status).toBe(503)
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect((await api('GET', '/users')).status).toBe(200)
  })

  it('stores the credential, then answers too late for the caller', async () => {
    const user = sandbox.state.addUser({ externalId: 'g-4' })
    sandbox.faults.storeThenTimeout({ delayMs: 10_000 })
    const post = api('POST', `/users/${user.id}/raven-credentials`, { body: credentialBody })
    const result = await Promise.race([post.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 200))])
    expect(result).toBe('waiting')
    expect(sandbox.state.credentialFor(user.id)?.refreshToken).toBe('rt-grower-1')
    const stuck = sandbox.state.requestsTo('POST', '/raven-credentials')
    expect(stuck.map((entry) => entry.status)).toEqual([null])
    post.catch(() => undefined) // close() below ends it
  })
})

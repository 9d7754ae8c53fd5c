import { describe, expect, it } from '@jest/globals'
import request from 'supertest'

import { expectProblem, flowToCallback, useSystem } from './helpers/kit/index.js'

const system = useSystem()
const auth = () => ({ Authorization: `Bearer ${system.secrets.apiKey}` })

/** Runs a whole flow and returns the connected browser and its Leaf user. */
async function connectedGrower() {
  const flow = await flowToCallback(system)
  const result = await flow.browser.get(flow.callbackUrl)
  expect(result.status).toBe(200)
  return flow
}

describe('/v1/users/{leafUserId}/raven-connection', () => {
  it('reports a connection with the contract shape and no secret', async () => {
    const { leafUserId } = await connectedGrower()
    const res = await request(system.url).get(`/v1/users/${leafUserId}/raven-connection`).set(auth())
    expect(res.status).toBe(200)
    const stored = system.leaf.state.credentialFor(leafUserId)
    expect(res.body).toEqual({
      leafUserId,
      connected: true,
      pending: false,
      status: expect.any(String),
      credentialId: stored?.id,
      createdTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      scopes: expect.any(Array),
      health: 'ok',
      healthChangedAt: null,
    })
    expect(res.text).not.toContain(stored?.refreshToken ?? 'never')
    expect(res.text).not.toContain(system.secrets.ravenClientSecret)
  })

  it('reports not connected for a user without credential', async () => {
    const leafUserId = system.newLeafUser()
    const res = await request(system.url).get(`/v1/users/${leafUserId}/raven-connection`).set(auth())
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ leafUserId, connected: false, pending: false })
  })

  it('disconnects (204) and answers 204 again when nothing is connected', async () => {
    const { leafUserId } = await connectedGrower()
    const first = await request(system.url).delete(`/v1/users/${leafUserId}/raven-connection`).set(auth())
    expect(first.status).toBe(204)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    const second = await request(system.url).delete(`/v1/users/${leafUserId}/raven-connection`).set(auth())
    expect(second.status).toBe(204)
  })

  it('returns Leaf events with every secret redacted', async () => {
    const { leafUserId } = await connectedGrower()
    const res = await request(system.url).get(`/v1/users/${leafUserId}/raven-connection/events`).set(auth())
    expect(res.status).toBe(200)
    expect(res.body.leafUserId).toBe(leafUserId)
    expect(res.body.events.length).toBeGreaterThan(0)
    for (const event of res.body.events) {
      expect(Object.keys(event).sort()).toEqual(['body', 'createdDate', 'headers', 'id', 'statusCode'])
    }
    expect(res.text).toContain('[REDACTED]')
    for (const secret of system.leaf.state.eventSecrets.get(leafUserId) ?? []) expect(res.text).not.toContain(secret)
    expect(res.text).not.toContain(system.leaf.state.credentialFor(leafUserId)?.refreshToken ?? 'never')
  })

  it('returns events: [] when Leaf holds no credential', async () => {
    const leafUserId = system.newLeafUser()
    const res = await request(system.url).get(`/v1/users/${leafUserId}/raven-connection/events`).set(auth())
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ leafUserId, events: [] })
  })

  it('refuses a bad leafUserId with 400 without asking Leaf, and a wrong key with 401', async () => {
    const before = system.leaf.state.requests.length
    await expectProblem(await request(system.url).get('/v1/users/a.b/raven-connection').set(auth()), 400, 'invalid_leaf_user_id')
    await expectProblem(await request(system.url).get(`/v1/users/${'x'.repeat(65)}/raven-connection`).set(auth()), 400, 'invalid_leaf_user_id')
    await expectProblem(await request(system.url).get('/v1/users/%2e%2e%2fadmin/raven-connection/events').set(auth()), 400, 'invalid_leaf_user_id')
    expect(system.leaf.state.requests.length).toBe(before)
    await expectProblem(await request(system.url).get('/v1/users/abc/raven-connection'), 401, 'unauthorized')
  })

  it('answers 405 for other methods', async () => {
    const res = await request(system.url).put('/v1/users/abc/raven-connection').set(auth())
    await expectProblem(res, 405, 'method_not_allowed')
    expect(res.headers.allow).toBe('GET, DELETE')
  })

  it('sends no CORS headers on /v1', async () => {
    const res = await request(system.url).get('/v1/users/abc/raven-connection').set(auth()).set('Origin', system.returnOrigin)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('/api/raven-connection (the browser session)', () => {
  it('answers 401 without a connected session', async () => {
    const res = await request(system.url).get('/api/raven-connection')
    await expectProblem(res, 401, 'no_session')
  })

  it('serves the same answers for the Leaf user of this browser, with credentialed CORS for allowed origins only', async () => {
    const { browser, leafUserId } = await connectedGrower()
    const status = await browser.get(`${system.url}/api/raven-connection`, { Origin: system.returnOrigin })
    expect(status.status).toBe(200)
    expect(JSON.parse(status.body)).toMatchObject({ leafUserId, connected: true })
    expect(status.headers.get('access-control-allow-origin')).toBe(system.returnOrigin)
    expect(status.headers.get('access-control-allow-credentials')).toBe('true')

    for (const origin of ['https://evil.example', 'null', 'https://app.example.test.evil.example']) {
      const foreign = await browser.get(`${system.url}/api/raven-connection`, { Origin: origin })
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
    }
    const events = await browser.get(`${system.url}/api/raven-connection/events`)
    expect(JSON.parse(events.body)).toMatchObject({ leafUserId })
  })

  it('answers a preflight for an allowed origin only', async () => {
    const allowed = await request(system.url)
      .options('/api/raven-connection')
      .set('Origin', system.returnOrigin)
      .set('Access-Control-Request-Method', 'DELETE')
      .set('Access-Control-Request-Headers', 'x-requested-with')
    expect(allowed.status).toBe(204)
    expect(allowed.headers['access-control-allow-origin']).toBe(system.returnOrigin)
    expect(allowed.headers['access-control-allow-methods']).toContain('DELETE')
    const denied = await request(system.url).options('/api/raven-connection').set('Origin', 'https://evil.example')
    expect(denied.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('refuses DELETE without X-Requested-With (403), then disconnects with it', async () => {
    const { browser, leafUserId } = await connectedGrower()
    const refused = await browser.request(`${system.url}/api/raven-connection`, { method: 'DELETE' })
    expect(refused.status).toBe(403)
    expect(JSON.parse(refused.body).code).toBe('missing_csrf_header')
    expect(system.leaf.state.credentialFor(leafUserId)).toBeDefined()
    const done = await browser.request(`${system.url}/api/raven-connection`, { method: 'DELETE', headers: { 'X-Requested-With': 'fetch' } })
    expect(done.status).toBe(204)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
  })
})

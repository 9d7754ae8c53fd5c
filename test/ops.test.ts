import { describe, expect, it } from '@jest/globals'
import request from 'supertest'

import { hashToken } from '../src/connect-links/token-store.js'
import { flowToCallback, useSystem } from './helpers/kit/index.js'

const system = useSystem()

describe('operations endpoints', () => {
  it('GET /healthz answers 200', async () => {
    const res = await request(system.url).get('/healthz')
    expect(res.status).toBe(200)
  })

  it('GET /readyz answers 200 with both checks ok once Raven is known', async () => {
    await system.ravenClient.getConfiguration()
    const res = await request(system.url).get('/readyz')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ status: 'ok', checks: { redis: 'ok', raven: 'ok' } })
  })

  it('GET /metrics counts flows and their results in Prometheus text format', async () => {
    const flow = await flowToCallback(system)
    await flow.browser.get(flow.callbackUrl)
    const res = await request(system.url).get('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.text).toMatch(/raven_connect_flows_started_total\{mode="redirect"\} [1-9]/)
    expect(res.text).toMatch(/raven_connect_flow_results_total\{result="connected",reason=""\} [1-9]/)
    expect(res.text).toMatch(/raven_connect_upstream_request_seconds_count\{upstream="raven",operation="token",outcome="ok"\} [1-9]/)
    expect(res.text).toMatch(/raven_connect_upstream_request_seconds_count\{upstream="leaf",/)
  })

  it('echoes a well-formed X-Request-Id and logs one JSON line per request without the query string', async () => {
    const res = await request(system.url).get('/connect/raven?session=rc_cs_secretish').set('X-Request-Id', 'req-123')
    expect(res.headers['x-request-id']).toBe('req-123')
    const line = system.logs.map((text) => JSON.parse(text) as Record<string, unknown>).find((record) => record.reqId === 'req-123' && record.msg === 'request')
    expect(line).toMatchObject({ method: 'GET', path: '/connect/raven', status: 410 })
    expect(system.logs.join('\n')).not.toContain('rc_cs_secretish')
  })

  it('replaces a malformed X-Request-Id', async () => {
    const res = await request(system.url).get('/healthz').set('X-Request-Id', 'bad id\twith spaces')
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('answers unknown routes with problem+json 404', async () => {
    const res = await request(system.url).get('/nope')
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  })
})

describe('readiness while Raven is unreachable', () => {
  const down = useSystem({ startRaven: false, ravenTimeoutSeconds: 1 })

  it('reports raven "unknown" with 503, and the launch page says try again without spending the link', async () => {
    const ready = await request(down.url).get('/readyz')
    expect(ready.status).toBe(503)
    expect(ready.body).toEqual({ status: 'unavailable', checks: { redis: 'ok', raven: 'unknown' } })
    const session = await down.createConnectSession({ leafUserId: down.newLeafUser() })
    const launch = await down.browser().get(session.connectUrl)
    expect(launch.status).toBe(503)
    expect(launch.body).toContain('try again')
    expect(await down.redis.exists(`rc:cs:${hashToken(new URL(session.connectUrl).searchParams.get('session') ?? '')}`)).toBe(1)
  })
})

describe('discovery retried when Raven was unavailable at start', () => {
  const system2 = useSystem()

  it('reports unknown while discovery fails, then ok once Raven answers, fetching metadata once', async () => {
    system2.raven.faults.discovery = 'unavailable'
    expect((await request(system2.url).get('/readyz')).body.checks.raven).toBe('unknown')
    await expect(system2.ravenClient.getConfiguration()).rejects.toThrow()
    system2.raven.faults.reset()
    await system2.ravenClient.getConfiguration()
    expect((await request(system2.url).get('/readyz')).body.checks.raven).toBe('ok')
    const fetched = system2.raven.stats.discoveryRequests
    const flow = await flowToCallback(system2)
    expect((await flow.browser.get(flow.callbackUrl)).status).toBe(200)
    expect(system2.raven.stats.discoveryRequests).toBe(fetched)
  })
})

import { randomBytes } from 'node:crypto'

import { describe, expect, it } from '@jest/globals'

import { buildOpenApiDocument } from '../../src/ops/openapi/index.js'
import { connectedGrower, credentialAlert, postLeafAlert, registerLeafAlerts, useSystem } from '../helpers/kit/index.js'
import { schemaProblems } from '../helpers/openapi-check.js'

const system = useSystem({ leafAlerts: {} })

interface ListBody {
  connections: Array<{ leafUserId: string; credentialId: string; health: string; healthChangedAt: string | null; connectedAt: string }>
  nextCursor: string | null
}

async function list(query: string): Promise<Response> {
  return fetch(`${system.url}/v1/raven-connections${query}`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
}

async function page(query: string): Promise<ListBody> {
  const res = await list(query)
  expect(res.status).toBe(200)
  return (await res.json()) as ListBody
}

/** Registry entries without a flow each (the registry is what the list reads). */
async function seed(count: number, tag: string): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${tag}-${String(i).padStart(3, '0')}`)
  for (const id of ids) await system.service.registry.register({ leafUserId: id, credentialId: `cred-${id}`, createdTime: new Date().toISOString() })
  return ids
}

describe('GET /v1/raven-connections', () => {
  it('lists connections made through the flow, with their health, and filters by health', async () => {
    await registerLeafAlerts(system)
    const healthy = await connectedGrower(system)
    const broken = await connectedGrower(system)
    await system.leaf.alerts.breakCredential(broken.leafUserId)

    const all = await page('?limit=500')
    const mine = all.connections.filter((connection) => [healthy.leafUserId, broken.leafUserId].includes(connection.leafUserId))
    expect(mine).toHaveLength(2)
    const entry = mine.find((connection) => connection.leafUserId === healthy.leafUserId)
    expect(entry).toEqual({ leafUserId: healthy.leafUserId, credentialId: healthy.credentialId, health: 'ok', healthChangedAt: null, connectedAt: expect.any(String) })
    expect(Date.parse(entry?.connectedAt ?? '')).not.toBeNaN()

    const unauthenticated = await page('?health=unauthenticated')
    expect(unauthenticated.connections.map((connection) => connection.leafUserId)).toContain(broken.leafUserId)
    expect(unauthenticated.connections.every((connection) => connection.health === 'unauthenticated')).toBe(true)
    expect((await page('?health=ok&limit=500')).connections.map((connection) => connection.leafUserId)).not.toContain(broken.leafUserId)

    // The answers are what the OpenAPI document says they are.
    const document = buildOpenApiDocument(system.url) as { paths: Record<string, Record<string, unknown>> }
    expect(schemaProblems(all, { $ref: '#/components/schemas/ConnectionList' }, document)).toEqual([])
    const status = await (await fetch(`${system.url}/v1/users/${broken.leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })).json()
    expect(schemaProblems(status, { $ref: '#/components/schemas/ConnectionStatus' }, document)).toEqual([])
  })

  it('pages with an opaque cursor until nextCursor is null, each connection once', async () => {
    const tag = `page-${randomBytes(3).toString('hex')}`
    const ids = await seed(23, tag)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const body: ListBody = await page(`?limit=5${cursor ? `&cursor=${cursor}` : ''}`)
      expect(body.connections.length).toBeLessThanOrEqual(5)
      seen.push(...body.connections.map((connection) => connection.leafUserId))
      cursor = body.nextCursor
      pages += 1
    } while (cursor !== null && pages < 100)
    expect(seen.filter((id) => id.startsWith(tag))).toEqual(ids)
    expect(new Set(seen).size).toBe(seen.length)
  })

  it('skips no connection that exists throughout, while others are added, removed and change health', async () => {
    const tag = `stable-${randomBytes(3).toString('hex')}`
    const steady = await seed(40, `${tag}-b`)
    const churn = await seed(40, `${tag}-a`)
    let running = true
    const changes = (async () => {
      let round = 0
      while (running && round < 400) {
        const id = churn[round % churn.length] ?? ''
        if (round % 3 === 0) await system.service.registry.forget(id)
        else await system.service.registry.register({ leafUserId: `${tag}-a-new-${round}`, credentialId: `cred-new-${tag}-${round}`, createdTime: new Date().toISOString() })
        if (round % 5 === 0) {
          await postLeafAlert(system, credentialAlert({ credentialId: `cred-${steady[round % steady.length]}`, timestamp: new Date().toISOString() }))
        }
        round += 1
      }
    })()
    const seen = new Set<string>()
    let cursor: string | null = null
    let pages = 0
    do {
      const body: ListBody = await page(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      for (const connection of body.connections) seen.add(connection.leafUserId)
      cursor = body.nextCursor
      pages += 1
    } while (cursor !== null && pages < 1000)
    running = false
    await changes
    expect(steady.filter((id) => !seen.has(id))).toEqual([])
  })

  it.each([
    ['?limit=0', 'invalid_query'],
    ['?limit=501', 'invalid_query'],
    ['?limit=abc', 'invalid_query'],
    ['?limit=-1', 'invalid_query'],
    ['?health=broken', 'invalid_query'],
    ['?limit=5&limit=6', 'invalid_query'],
    ['?sort=asc', 'invalid_query'],
    ['?cursor=%%%', 'invalid_cursor'],
    [`?cursor=${Buffer.from('c1.a b').toString('base64url')}`, 'invalid_cursor'],
    ['?cursor=bm90LWEtY3Vyc29y', 'invalid_cursor'],
  ])('answers 400 problem+json to %s', async (query, code) => {
    const res = await list(query)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(await res.json()).toMatchObject({ status: 400, code })
  })

  it('keeps the newer credential when an older one is registered after it (a status read racing a reconnect)', async () => {
    const leafUserId = `race-${randomBytes(3).toString('hex')}`
    const registry = system.service.registry
    await registry.register({ leafUserId, credentialId: 'new-cred', createdTime: '2026-11-24T12:00:02.000000Z' })
    await registry.register({ leafUserId, credentialId: 'old-cred', createdTime: '2026-11-24T12:00:01.000000Z' })
    expect(await registry.get(leafUserId)).toMatchObject({ credentialId: 'new-cred', health: 'ok' })
    await registry.register({ leafUserId, credentialId: 'newest-cred', createdTime: '2026-11-24T12:00:03.000000Z' })
    expect(await registry.get(leafUserId)).toMatchObject({ credentialId: 'newest-cred' })
  })

  it('needs the API key', async () => {
    const res = await fetch(`${system.url}/v1/raven-connections`)
    expect(res.status).toBe(401)
  })
})

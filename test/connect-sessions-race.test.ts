// Find-or-create by externalId is atomic across instances: a host retrying after a timeout sends the
// same POST /v1/connect-sessions again, possibly to another instance, while the first is still at Leaf.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { compose, type Composition } from '../src/compose.js'
import { createHardenedServer } from '../src/http/server-hardening.js'
import { createMetrics } from '../src/infra/metrics.js'
import { connectRedis } from '../src/infra/redis.js'
import { redisKeys, useSystem } from './helpers/kit/index.js'
import { captureLogs } from './helpers/log-capture.js'

const system = useSystem()

/** A second instance of the service: the same configuration, so the same Redis and the same Leaf. */
let second: { url: string; server: Server; service: Composition }
beforeAll(async () => {
  const service = compose(system.config, { logger: captureLogs().logger, metrics: createMetrics({ defaultMetrics: false }), jobPrefix: system.service.jobs.prefix })
  await connectRedis(service.redis)
  const server = createHardenedServer(service.app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  second = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, service }
})
afterAll(async () => {
  second.server.closeAllConnections()
  await new Promise<void>((resolve) => second.server.close(() => resolve()))
  await second.service.stopBackground(100)
  await second.service.closeRedis()
})

function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/connect-sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${system.secrets.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('POST /v1/connect-sessions with a new externalId, concurrently on two instances', () => {
  it('creates exactly one Leaf user, and every request gets a link for it', async () => {
    // Leaf is slow to create: without a lock, every request would look, find nothing, and create.
    system.leaf.state.behaviour.createUserDelayMs = 300
    const externalId = `grower-race-${Date.now()}`
    const createsBefore = system.leaf.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/users')).length
    const answers = await Promise.all([system.url, second.url, system.url, second.url].map((url) => post(url, { externalId, name: 'Race Grower' })))
    const bodies = (await Promise.all(answers.map((res) => res.json()))) as Array<{ leafUserId: string; connectUrl: string }>

    expect(answers.map((res) => res.status)).toEqual([201, 201, 201, 201])
    const users = [...system.leaf.state.users.values()].filter((user) => user.externalId === externalId)
    expect(users).toHaveLength(1)
    expect(new Set(bodies.map((body) => body.leafUserId))).toEqual(new Set([users[0]?.id]))
    const creates = system.leaf.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/users')).length
    expect(creates - createsBefore).toBe(1)
    // Four links, each its own one-time token.
    expect(new Set(bodies.map((body) => body.connectUrl)).size).toBe(4)
    // The lock is gone once the requests are answered, and its key names no externalId.
    expect(await redisKeys(system, 'rc:xid:*')).toEqual([])
  })

  it('lets different externalIds through side by side', async () => {
    system.leaf.state.behaviour.createUserDelayMs = 100
    const ids = [`grower-a-${Date.now()}`, `grower-b-${Date.now()}`]
    const answers = await Promise.all([post(system.url, { externalId: ids[0] }), post(second.url, { externalId: ids[1] })])
    expect(answers.map((res) => res.status)).toEqual([201, 201])
    for (const id of ids) expect([...system.leaf.state.users.values()].filter((user) => user.externalId === id)).toHaveLength(1)
  })
})

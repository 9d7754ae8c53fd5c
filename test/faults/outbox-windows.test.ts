import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'

import { startRedisServer, type ThrowawayRedis } from '../setup/global-setup.js'
import { waitFor } from '../helpers/kit/index.js'
import { startFaultWorld, type FaultWorld } from './helpers/fault-world.js'
import { logged, spawnService, type ServiceProcess } from './helpers/service-process.js'

// The windows the transactional outbox opens: on the happy path no job exists, so a process killed
// after parking leaves only the parked record (and its due-time) behind. The relay of whichever
// instance runs next must turn it into a delivery, exactly once.
let redisServer: ThrowawayRedis
let redis: Redis
let queue: Queue
let world: FaultWorld
const services: ServiceProcess[] = []

beforeAll(async () => {
  redisServer = await startRedisServer()
  redis = new Redis(redisServer.url)
  queue = new Queue('raven-connect', { connection: { url: redisServer.url }, prefix: 'rc:{jobs}' })
  world = await startFaultWorld({ redisUrl: redisServer.url })
}, 30_000)
afterAll(async () => {
  await Promise.all(services.map((service) => service.stop('SIGKILL')))
  await queue.close()
  redis.disconnect()
  await world.close()
  await redisServer.stop()
})

async function startService(): Promise<ServiceProcess> {
  const service = spawnService(world.env())
  services.push(service)
  await service.waitUntilReady()
  return service
}

/** The one parked record's delivery id (the key's last segment). */
async function parkedDeliveryId(): Promise<string> {
  const keys = await redis.keys('rc:{jobs}:outbox:*')
  expect(keys).toHaveLength(1)
  return (keys[0] ?? '').split(':').pop() ?? ''
}

async function expectConnected(leafUserId: string): Promise<void> {
  const status = await fetch(`${world.publicBaseUrl}/v1/users/${leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${world.apiKey}` } })
  expect(await status.json()).toMatchObject({ leafUserId, connected: true, pending: false })
}

describe('a process killed inside the outbox windows', () => {
  it('between park and any job: the next instance relays the parked record and delivers it once', async () => {
    const first = await startService()
    const leafUserId = world.newLeafUser()
    const path = `/users/${leafUserId}/raven-credentials`
    const { browser, callbackUrl } = await world.flowToCallback({ leafUserId })
    const code = callbackUrl.searchParams.get('code') ?? ''
    // Every lookup is held (the client's timeout and retries included), so the process is caught
    // between the park and any step that could finish or hand over the record, however slow the machine.
    world.leaf.faults.script('GET', path, ...Array.from({ length: 10 }, () => ({ status: 404, delayMs: 60_000 })))
    const callback = browser.get(callbackUrl.href).catch((err: unknown) => err)
    await waitFor('the first Leaf lookup', () => world.leaf.state.requestsTo('GET', path).length > 0, 20_000, 10)
    await first.stop('SIGKILL')
    await callback
    world.leaf.faults.reset()

    // Parked, and nothing else: no job exists for it (the window), only its due-time.
    const deliveryId = await parkedDeliveryId()
    expect(await queue.getJobState(deliveryId)).toBe('unknown')
    expect(await redis.zscore('rc:{jobs}:due', deliveryId)).not.toBeNull()

    const second = await startService()
    await waitFor('the credential at Leaf', () => world.leaf.state.credentialFor(leafUserId), 45_000, 100)
    await waitFor('the parked record to be finished', async () => (await redis.keys('rc:{jobs}:outbox:*')).length === 0, 10_000)
    // Logging is asynchronous (sonic-boom): the line may reach stdout after the state it reports.
    await waitFor('the relay log line', () => logged(second, 'credential delivered to Leaf').length > 0, 10_000)
    expect(logged(second, 'handed to the queue by the relay').map((record) => record.deliveryId)).toEqual([deliveryId])
    expect(world.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(world.raven.stats.refreshTokenForCode(code))
    expect(world.leaf.state.requestsTo('POST', path).filter((entry) => entry.status === 201)).toHaveLength(1)
    expect(await redis.zscore('rc:{jobs}:due', deliveryId)).toBeNull()
    await expectConnected(leafUserId)
    await second.stop('SIGKILL')
  }, 90_000)

  it('after Leaf stored the credential and before the record was finished: taken as delivered, not posted again', async () => {
    const first = await startService()
    const leafUserId = world.newLeafUser()
    const path = `/users/${leafUserId}/raven-credentials`
    const { browser, callbackUrl } = await world.flowToCallback({ leafUserId })
    const code = callbackUrl.searchParams.get('code') ?? ''
    // Leaf stores the POST at once and never answers in time; the lookups after it hang too: the
    // process dies with the credential at Leaf and no answer, however slow the machine.
    world.leaf.faults.storeThenTimeout()
    const callback = browser.get(callbackUrl.href).catch((err: unknown) => err)
    await waitFor('the credential stored at Leaf', () => world.leaf.state.credentialFor(leafUserId), 20_000, 10)
    world.leaf.faults.script('GET', path, ...Array.from({ length: 10 }, () => ({ status: 200, delayMs: 60_000 })))
    await first.stop('SIGKILL')
    await callback
    world.leaf.faults.reset()

    const deliveryId = await parkedDeliveryId()
    expect(await redis.hget(`rc:{jobs}:outbox:${deliveryId}`, 'attempted')).toBe('1')
    expect(await queue.getJobState(deliveryId)).toBe('unknown')

    const second = await startService()
    await waitFor('the parked record to be finished', async () => (await redis.keys('rc:{jobs}:outbox:*')).length === 0, 45_000, 100)
    await waitFor('the delivery log line', () => logged(second, 'credential delivered to Leaf').length > 0, 10_000)
    expect(logged(second, 'credential delivered to Leaf').map((record) => record.via)).toEqual(['job'])
    expect(world.leaf.state.requestsTo('POST', path)).toHaveLength(1)
    expect(world.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(world.raven.stats.refreshTokenForCode(code))
    expect(await world.raven.isRefreshTokenActive(world.raven.stats.refreshTokenForCode(code) ?? '')).toBe(true)
    await expectConnected(leafUserId)
  }, 90_000)
})

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Redis } from 'ioredis'

import { startRedisServer, type ThrowawayRedis } from '../setup/global-setup.js'
import { waitFor } from '../helpers/kit/index.js'
import { startFaultWorld, type FaultWorld } from './helpers/fault-world.js'
import { logged, spawnService, type ServiceProcess } from './helpers/service-process.js'

let redisServer: ThrowawayRedis
let redis: Redis
let world: FaultWorld
const services: ServiceProcess[] = []

beforeAll(async () => {
  redisServer = await startRedisServer()
  redis = new Redis(redisServer.url)
  world = await startFaultWorld({ redisUrl: redisServer.url })
}, 30_000)
afterAll(async () => {
  await Promise.all(services.map((service) => service.stop('SIGKILL')))
  redis.disconnect()
  await world.close()
  await redisServer.stop()
})

describe('the service killed with SIGKILL right after the code exchange', () => {
  it('delivers the parked token after a restart: exactly one credential, still valid at Raven', async () => {
    const first = spawnService(world.env())
    services.push(first)
    await first.waitUntilReady()
    const leafUserId = world.newLeafUser()
    const { browser, callbackUrl } = await world.flowToCallback({ leafUserId })
    const code = callbackUrl.searchParams.get('code') ?? ''

    // Leaf holds its first answer to this grower's credential lookup, so the process is caught between
    // the exchange (done, token parked) and any delivery. Then it dies without a chance to clean up.
    const credentialPath = `/users/${leafUserId}/raven-credentials`
    world.leaf.faults.script('GET', credentialPath, { status: 404, delayMs: 60_000 })
    const callback = browser.get(callbackUrl.href).catch((err: unknown) => err)
    await waitFor('the first Leaf lookup', () => world.leaf.state.requestsTo('GET', credentialPath).length > 0, 20_000, 10)
    expect(world.raven.stats.codeExchanged(code)).toBe(true)
    await first.stop('SIGKILL')
    // The grower's request died with the process: no answer at all (fetch's error, not a response).
    expect(await callback).toMatchObject({ name: 'TypeError' })
    world.leaf.faults.reset()

    const refreshToken = world.raven.stats.refreshTokenForCode(code) ?? ''
    expect(refreshToken).not.toBe('')
    const parked = await redis.keys('rc:{jobs}:outbox:*')
    expect(parked).toHaveLength(1)
    const dump = JSON.stringify(await redis.hgetall(parked[0] ?? ''))
    expect(dump).not.toContain(refreshToken)
    expect(world.leaf.state.credentialFor(leafUserId)).toBeUndefined()

    const second = spawnService(world.env())
    services.push(second)
    await second.waitUntilReady()
    await waitFor('the credential at Leaf', () => world.leaf.state.credentialFor(leafUserId), 40_000, 100)
    await waitFor('the parked token to be deleted', async () => (await redis.keys('rc:{jobs}:outbox:*')).length === 0, 10_000)

    expect(world.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(refreshToken)
    expect(world.leaf.state.requestsTo('POST', credentialPath).filter((entry) => entry.status === 201)).toHaveLength(1)
    expect(await world.raven.isRefreshTokenActive(refreshToken)).toBe(true)
    expect(world.raven.stats.tokenRequestsForCode(code)).toBe(1)
    // The service logs asynchronously: the line may trail the write it reports.
    await waitFor('the delivery log line', () => logged(second, 'credential delivered to Leaf').length > 0, 10_000)
    expect(logged(second, 'credential delivered to Leaf').map((record) => record.via)).toEqual(['job'])
    const status = await fetch(`${world.publicBaseUrl}/v1/users/${leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${world.apiKey}` } })
    expect(await status.json()).toMatchObject({ leafUserId, connected: true, pending: false })
    for (const service of [first, second]) {
      const { stdout, stderr } = service.output()
      expect(stdout + stderr).not.toContain(refreshToken)
    }
  }, 90_000)
})

import { request } from 'node:http'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startRedisServer, type ThrowawayRedis } from '../setup/global-setup.js'
import { outcomeOf, waitFor } from '../helpers/kit/index.js'
import { startFaultWorld, type FaultWorld } from './helpers/fault-world.js'
import { logged, spawnService, type ServiceProcess } from './helpers/service-process.js'

let redisServer: ThrowawayRedis
let world: FaultWorld
let service: ServiceProcess | undefined

beforeAll(async () => {
  redisServer = await startRedisServer()
  world = await startFaultWorld({ redisUrl: redisServer.url })
}, 30_000)
afterAll(async () => {
  await service?.stop('SIGKILL')
  await world.close()
  await redisServer.stop()
})

/** A fresh TCP connection (no keep-alive pool): does anything still accept on this port? */
function freshConnection(url: string): Promise<'accepted' | 'refused'> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false, timeout: 2000 }, (res) => {
      res.resume()
      resolve('accepted')
    })
    req.on('error', () => resolve('refused'))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

describe('SIGTERM during in-flight callbacks', () => {
  it('finishes every in-flight callback, refuses new connections, then exits cleanly', async () => {
    service = spawnService(world.env())
    await service.waitUntilReady()
    const growers = [world.newLeafUser(), world.newLeafUser(), world.newLeafUser()]
    const flows = await Promise.all(
      growers.map(async (leafUserId) => ({ leafUserId, ...(await world.flowToCallback({ leafUserId, returnTo: 'https://app.example.test/done' })) })),
    )
    // Leaf is slow (1.5 s per lookup, within its timeout), so the callbacks are mid-delivery at SIGTERM.
    for (const { leafUserId } of flows) world.leaf.faults.script('GET', `/users/${leafUserId}/raven-credentials`, { status: 404, delayMs: 1500 })
    const answers = flows.map(({ browser, callbackUrl }) => browser.get(callbackUrl.href))
    await waitFor('all callbacks to reach Leaf', () =>
      flows.every(({ leafUserId }) => world.leaf.state.requestsTo('GET', `/users/${leafUserId}/raven-credentials`).length > 0),
    10_000, 10)

    service.child.kill('SIGTERM')
    await waitFor('the shutdown to begin', () => logged(service!, 'shutting down').length > 0, 5000, 10)
    expect(await freshConnection(service.url)).toBe('refused')

    const results = await Promise.all(answers)
    for (const result of results) {
      expect(result.status).toBe(303)
      expect(outcomeOf(result)).toEqual({ raven: 'connected', reason: null })
    }
    const exit = await service.exited
    expect(exit).toEqual({ code: 0, signal: null })
    for (const { leafUserId } of flows) {
      expect(world.leaf.state.credentialFor(leafUserId)).toBeDefined()
      expect(world.leaf.state.requestsTo('POST', `/users/${leafUserId}/raven-credentials`)).toHaveLength(1)
    }
    const { stdout, stderr } = service.output()
    expect(stderr).not.toMatch(/Unhandled|unhandled|Error/)
    expect(logged(service, 'unhandled promise rejection')).toHaveLength(0)
    // Order: stop accepting, finish requests, stop jobs, close Redis last.
    const messages = service.records.map((record) => String(record.msg))
    expect(messages.indexOf('bye')).toBeGreaterThan(messages.findIndex((msg) => msg.startsWith('shutting down')))
    for (const secret of world.secrets) expect(stdout).not.toContain(secret)
  }, 60_000)
})

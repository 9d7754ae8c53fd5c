import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Queue } from 'bullmq'

import { freePort, startRedisServer, type ThrowawayRedis } from '../setup/global-setup.js'
import { outcomeOf, waitFor } from '../helpers/kit/index.js'
import { startFaultWorld, type FaultWorld } from './helpers/fault-world.js'
import { logged, spawnService, type ServiceProcess } from './helpers/service-process.js'
import { startSplittingProxy } from './helpers/splitting-proxy.js'

let redisServer: ThrowawayRedis
let world: FaultWorld
let a: ServiceProcess
let b: ServiceProcess
let proxy: Awaited<ReturnType<typeof startSplittingProxy>>
let turn = 0

beforeAll(async () => {
  redisServer = await startRedisServer()
  world = await startFaultWorld({ redisUrl: redisServer.url })
  const [portA, portB] = [await freePort(), await freePort()]
  a = spawnService(world.env(portA))
  b = spawnService(world.env(portB))
  await Promise.all([a.waitUntilReady(), b.waitUntilReady()])
  // Launches go to A, callbacks to B, everything else alternates: no stickiness anywhere.
  proxy = await startSplittingProxy(world.publicPort, (path) => {
    if (path.startsWith('/connect/raven/callback')) return b.url
    if (path.startsWith('/connect/raven')) return a.url
    turn += 1
    return turn % 2 === 0 ? a.url : b.url
  })
}, 60_000)
afterAll(async () => {
  await proxy?.close()
  await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')])
  await world.close()
  await redisServer.stop()
})

const prepareFlow = (leafUserId: string) => world.flowToCallback({ leafUserId, returnTo: 'https://app.example.test/done' })

describe('two instances sharing one Redis behind a load balancer', () => {
  it('completes a flow launched on one instance and called back on the other', async () => {
    const leafUserId = world.newLeafUser()
    const { browser, callbackUrl, connectSessionId } = await prepareFlow(leafUserId)
    const result = await browser.get(callbackUrl.href)
    expect(outcomeOf(result)).toEqual({ raven: 'connected', reason: null })
    expect(world.leaf.state.credentialFor(leafUserId)).toBeDefined()
    // The children log asynchronously (pino, sync: false): a line reaches our pipe after the answer that
    // followed it on the socket, later still when it queues behind a write in flight, or (the launch's
    // 'flow started') when it is written after the answer. Wait for the lines; never assume they arrived.
    const ofThisFlow = (record: Record<string, unknown>) => record.connectSessionId === connectSessionId
    await waitFor("A's 'flow started' line", () => logged(a, 'flow started').some(ofThisFlow), 10_000, 20)
    await waitFor("B's 'flow finished' line", () => logged(b, 'flow finished').some(ofThisFlow), 10_000, 20)
    // A only launched: the callback (and so the finish) was B's alone.
    expect(logged(a, 'flow finished').some(ofThisFlow)).toBe(false)
  }, 30_000)

  it('delivers each queued token exactly once while both instances work the queue', async () => {
    const growers = Array.from({ length: 4 }, () => world.newLeafUser())
    const flows = await Promise.all(growers.map(async (leafUserId) => ({ leafUserId, ...(await prepareFlow(leafUserId)) })))
    // Creates fail long enough to outlast the inline tries: every token goes to the queue.
    for (const { leafUserId } of flows) {
      world.leaf.faults.script('POST', `/users/${leafUserId}/raven-credentials`, ...Array.from({ length: 5 }, () => ({ status: 503 })))
    }
    const results = await Promise.all(flows.map(({ browser, callbackUrl }) => browser.get(callbackUrl.href)))
    for (const result of results) expect(outcomeOf(result).raven).toBe('pending')

    // An operator's view of the shared queue: retries run now instead of after their full-jitter wait.
    const queue = new Queue('raven-connect', { connection: { url: redisServer.url }, prefix: 'rc:{jobs}' })
    try {
      await waitFor('every credential at Leaf', async () => {
        for (const job of await queue.getJobs(['delayed'])) await job.promote().catch(() => undefined)
        return growers.every((leafUserId) => world.leaf.state.credentialFor(leafUserId))
      }, 60_000, 300)
    } finally {
      await queue.close()
    }
    // The delivery's log line follows Leaf's 201 (the finish in Redis, then an asynchronous write to the
    // child's stdout): wait until every delivery has been logged, then check none was logged twice.
    const deliveriesOf = (connectSessionId: string) =>
      [...logged(a, 'credential delivered to Leaf'), ...logged(b, 'credential delivered to Leaf')].filter((record) => record.connectSessionId === connectSessionId)
    await waitFor('every delivery logged', () => flows.every(({ connectSessionId }) => deliveriesOf(connectSessionId).length > 0), 10_000, 20)
    for (const { leafUserId, connectSessionId } of flows) {
      expect(world.leaf.state.requestsTo('POST', `/users/${leafUserId}/raven-credentials`).filter((entry) => entry.status === 201)).toHaveLength(1)
      expect(deliveriesOf(connectSessionId)).toHaveLength(1)
    }
  }, 90_000)
})

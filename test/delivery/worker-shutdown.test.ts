import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { compose, type Composition } from '../../src/compose.js'
import { createMetrics } from '../../src/infra/metrics.js'
import { consentUpToCallback, outcomeOf, waitFor } from '../helpers/kit/index.js'
import { captureLogs } from '../helpers/log-capture.js'
import { startSystem, type TestSystem } from '../helpers/system.js'

let system: TestSystem
let successor: Composition | undefined

beforeAll(async () => {
  system = await startSystem({ durable: { inlineBudgetMs: 800, worker: false }, leafTimeoutMs: 3000 })
})
afterAll(async () => {
  await successor?.stopBackground(1000)
  await successor?.closeRedis()
  await system.close()
})

describe('queue worker shutdown', () => {
  it('stops before changing Leaf, hands the running job back, and another instance delivers it once', async () => {
    const leafUserId = system.newLeafUser()
    const path = `/users/${leafUserId}/raven-credentials`
    const session = await system.createConnectSession({ leafUserId })
    const browser = system.browser()
    const callbackUrl = await consentUpToCallback(browser, session.connectUrl)
    system.leaf.faults.script('POST', path, ...Array.from({ length: 6 }, () => ({ status: 503 })))
    expect(outcomeOf(await browser.get(callbackUrl.href)).raven).toBe('pending')
    system.leaf.faults.reset()

    // The queued try's first step (the lookup) is slow; shut the worker down while it waits.
    system.leaf.faults.script('GET', path, { status: 404, delayMs: 1500 })
    const instance = system.service
    instance.startWorker()
    const [job] = await instance.jobs.queue.getJobs(['delayed'])
    await job?.promote()
    await waitFor('the job to be running', async () => (await job?.getState()) === 'active', 10_000, 20)
    await instance.stopBackground(100)

    // Another instance (same Redis, same queue) looks at the job, then works the queue.
    const { logger } = captureLogs()
    successor = compose(system.config, { logger, metrics: createMetrics({ defaultMetrics: false }), jobPrefix: instance.jobs.prefix })
    const state = await successor.jobs.queue.getJobState(job?.id ?? '')
    expect(['delayed', 'wait']).toContain(state)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(system.logs.some((line) => line.includes('delivery job returned to the queue'))).toBe(true)
    successor.startWorker()
    await successor.jobs.queue.getJob(job?.id ?? '').then((found) => found?.promote().catch(() => undefined))
    await waitFor('the credential at Leaf', () => system.leaf.state.credentialFor(leafUserId), 15_000)
    expect(system.leaf.state.requestsTo('POST', path).filter((entry) => entry.status === 201)).toHaveLength(1)
  })
})

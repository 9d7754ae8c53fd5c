import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { createBackgroundJobs, type BackgroundJobs } from '../../src/delivery/background-jobs.js'
import { createMetrics } from '../../src/ops/metrics.js'
import { consentUpToCallback, outcomeOf, waitFor } from '../helpers/grower-flow.js'
import { captureLogs } from '../helpers/log-capture.js'
import { startSystem, type TestSystem } from '../helpers/system.js'

let system: TestSystem
let successor: BackgroundJobs | undefined

beforeAll(async () => {
  system = await startSystem({ durable: { inlineBudgetMs: 800, worker: false }, leafTimeoutMs: 3000 })
})
afterAll(async () => {
  await successor?.close(1000)
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
    const jobs = system.jobs!
    jobs.startWorker()
    const [job] = await jobs.jobs.queue.getJobs(['delayed'])
    await job?.promote()
    await waitFor('the job to be running', async () => (await job?.getState()) === 'active', 10_000, 20)
    await jobs.close(100)

    // Another instance (same Redis, same queue) looks at the job, then works the queue.
    const { logger } = captureLogs()
    successor = createBackgroundJobs({ config: system.config, leaf: system.leafClient, logger, metrics: createMetrics({ defaultMetrics: false }), prefix: jobs.jobs.prefix })
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

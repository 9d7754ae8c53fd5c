import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { UnrecoverableError, Worker } from 'bullmq'
import { Redis } from 'ioredis'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { QUEUE_NAME } from '../../src/jobs/queue.js'
import { flowToCallback, outcomeOf, useSystem, waitFor } from '../helpers/kit/index.js'

// Issue #10 item 11: a delivery job that fails for any reason ends like a final refusal: the parked
// token is deleted, `pending` turns false, the host gets connection.failed.
const secret = `whsec_${randomBytes(18).toString('base64url')}`
let receiver: WebhookReceiver
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret })
})
// No worker until the test starts it: the job's failure is staged first, as an outside worker.
const system = useSystem(() => ({
  durable: { inlineBudgetMs: 800, worker: false, relayWatchMs: 200 },
  leafTimeoutMs: 1000,
  env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret },
}))
afterAll(async () => {
  await receiver.close()
})

async function connectionStatus(leafUserId: string): Promise<unknown> {
  const res = await fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
  return res.json()
}

describe('a delivery job that ends without finishing its parked token', () => {
  it('is ended like a final refusal: token deleted, pending false, connection.failed sent', async () => {
    const leafUserId = system.newLeafUser()
    const path = `/users/${leafUserId}/raven-credentials`
    system.leaf.faults.script('POST', path, ...Array.from({ length: 6 }, () => ({ status: 503 })))
    const flow = await flowToCallback(system, { leafUserId })
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl.href)).raven).toBe('pending')
    const [recordKey] = await system.redis.keys(`${system.service.jobs.prefix}:outbox:*`)
    const deliveryId = (recordKey ?? '').split(':').pop() ?? ''
    expect(await connectionStatus(leafUserId)).toEqual({ leafUserId, connected: false, pending: true })

    // A worker takes the job and it fails for good without its processor finishing the record: what
    // BullMQ does to a job stalled more than maxStalledCount times, or what a Redis error on the last
    // attempt leaves behind.
    const connection = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null })
    const outsider = new Worker(QUEUE_NAME, null, { connection, prefix: system.service.jobs.prefix, autorun: false })
    try {
      await (await system.service.jobs.queue.getJob(deliveryId))?.promote()
      const job = await outsider.getNextJob('outsider')
      expect(job?.id).toBe(deliveryId)
      await job?.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), 'outsider', false)
      expect(await system.service.jobs.queue.getJobState(deliveryId)).toBe('failed')
    } finally {
      await outsider.close()
      connection.disconnect()
    }
    expect(await system.redis.exists(recordKey ?? '')).toBe(1)

    system.leaf.faults.reset()
    system.service.startWorker()
    const failed = await waitFor('connection.failed', () => receiver.events.find((event) => event.leafUserId === leafUserId && event.type === 'connection.failed'))
    expect(failed.data).toEqual({ connectSessionId: flow.connectSessionId, reason: 'server_error' })
    expect(await system.redis.exists(recordKey ?? '')).toBe(0)
    expect(await connectionStatus(leafUserId)).toEqual({ leafUserId, connected: false, pending: false })
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(receiver.events.filter((event) => event.leafUserId === leafUserId).map((event) => event.type)).toEqual(['connection.failed'])
  })
})

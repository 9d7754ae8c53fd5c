import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { useSystem, waitFor } from '../helpers/kit/index.js'

// Webhook events are recorded in a Redis list (one RPUSH, or one write inside the delivery's finish
// script) and relayed to durable jobs by every instance's relay.
const secret = `whsec_${randomBytes(18).toString('base64url')}`
let receiver: WebhookReceiver
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret })
})
const system = useSystem(() => ({ durable: { worker: false }, env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } }))
afterAll(async () => {
  await receiver.close()
})

const outboxKey = () => `${system.service.jobs.prefix}:webhook-outbox`

describe('the webhook outbox', () => {
  it('queues each recorded event once, with its id, even when two relays run at the same time', async () => {
    const leafUserId = system.newLeafUser()
    await system.service.webhooks.emit('connection.deleted', leafUserId, {})
    expect(await system.redis.llen(outboxKey())).toBe(1)
    const relayed = await Promise.all([system.service.webhooks.relay(), system.service.webhooks.relay()])
    expect(relayed.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(1)
    expect(await system.redis.llen(outboxKey())).toBe(0)
    const jobs = (await system.service.jobs.queue.getJobs(['wait'])).filter((job) => String(job.data.body).includes(leafUserId))
    expect(jobs).toHaveLength(1)
    expect(jobs[0]?.id).toBe(jobs[0]?.data.eventId)

    system.service.startWorker()
    const event = await waitFor('the event at the receiver', () => receiver.events.find((received) => received.leafUserId === leafUserId))
    expect(event).toMatchObject({ id: jobs[0]?.data.eventId, type: 'connection.deleted', leafUserId })
  })

  it('drops an entry it cannot read instead of holding up the events behind it', async () => {
    const leafUserId = system.newLeafUser()
    await system.redis.rpush(outboxKey(), 'not an event')
    await system.service.webhooks.emit('connection.deleted', leafUserId, {})
    const event = await waitFor('the event behind the unreadable entry', () => receiver.events.find((received) => received.leafUserId === leafUserId))
    expect(event.type).toBe('connection.deleted')
    expect(await system.redis.lrange(outboxKey(), 0, -1)).toEqual([])
    expect(system.logs.some((line) => line.includes('unreadable entry in the webhook outbox'))).toBe(true)
  })
})

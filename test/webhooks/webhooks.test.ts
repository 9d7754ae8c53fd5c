import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, verifyRavenConnectSignature, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { signWebhook } from '../../src/webhooks/signature.js'
import { flowToCallback, outcomeOf, promoteDelayedJobs, useSystem, waitFor } from '../helpers/kit/index.js'

const secret = `whsec_${randomBytes(18).toString('base64url')}`
let receiver: WebhookReceiver
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret })
})
const system = useSystem(() => ({ durable: { inlineBudgetMs: 2000 }, leafTimeoutMs: 1000, env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } }))
// After the system's own: after-hooks run in declaration order, so the receiver outlives the service.
afterAll(async () => {
  await receiver.close()
})

/** Runs a grower through consent and the callback; `beforeCallback` sets up faults in between. */
async function connect(leafUserId: string, beforeCallback: () => void = () => undefined) {
  const flow = await flowToCallback(system, { leafUserId })
  beforeCallback()
  const response = await flow.browser.get(flow.callbackUrl.href)
  return { ...outcomeOf(response), connectSessionId: flow.connectSessionId, refreshToken: system.raven.stats.refreshTokenForCode(flow.code) ?? '' }
}

const eventsFor = (leafUserId: string, type?: string) =>
  receiver.events.filter((event) => event.leafUserId === leafUserId && (type === undefined || event.type === type))

function disconnect(leafUserId: string): Promise<Response> {
  return fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { method: 'DELETE', headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
}

describe('webhooks to the host backend', () => {
  it('sends connection.created, signed, with no secret in it', async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId)
    expect(result.raven).toBe('connected')
    const [event] = await waitFor('connection.created', () => (eventsFor(leafUserId, 'connection.created').length ? eventsFor(leafUserId, 'connection.created') : undefined))
    expect(event).toMatchObject({ type: 'connection.created', leafUserId, data: { connectSessionId: result.connectSessionId } })
    expect(event?.id).toMatch(/^evt_[0-9a-f-]{36}$/)
    expect(Date.parse(event?.createdAt ?? '')).not.toBeNaN()
    expect(event?.data.credentialId).toBe(system.leaf.state.credentialFor(leafUserId)?.id)
    const raw = JSON.stringify(event)
    for (const secretValue of [result.refreshToken, system.secrets.ravenClientSecret, secret]) expect(raw).not.toContain(secretValue)
    expect(receiver.deliveries.filter((delivery) => delivery.id === event?.id).every((delivery) => delivery.signatureValid)).toBe(true)
  })

  it('retries with the same id after 503s, and the receiver keeps one copy', async () => {
    const leafUserId = system.newLeafUser()
    receiver.failNext(2, 503)
    await connect(leafUserId)
    const event = await waitFor('the event after two refusals', async () => {
      await promoteDelayedJobs(system)
      return eventsFor(leafUserId, 'connection.created')[0]
    }, 20_000, 200)
    const tries = receiver.deliveries.filter((delivery) => delivery.id === event.id)
    expect(tries.map((delivery) => delivery.status)).toEqual([503, 503, 204])
    expect(eventsFor(leafUserId)).toHaveLength(1)
  })

  it('does not retry an event the receiver refuses with a 4xx', async () => {
    const leafUserId = system.newLeafUser()
    receiver.failNext(1, 410)
    await connect(leafUserId)
    const refused = await waitFor('the refused delivery', () => receiver.deliveries.find((delivery) => delivery.status === 410))
    const queue = system.service.jobs.queue
    // Read the job only once it has failed: an earlier copy would not carry the reason.
    const job = await waitFor('the job to fail', async () =>
      (await queue.getJobState(refused.id ?? '')) === 'failed' ? queue.getJob(refused.id ?? '') : undefined,
    )
    expect(job?.failedReason).toContain('refused with status 410')
    expect(receiver.deliveries.filter((delivery) => delivery.id === refused.id)).toHaveLength(1)
  })

  it('sends connection.failed with the reason when the grower declines', async () => {
    const leafUserId = system.newLeafUser()
    const flow = await flowToCallback(system, { leafUserId, decision: 'decline' })
    expect(outcomeOf(await flow.browser.get(flow.callbackUrl.href))).toEqual({ raven: 'error', reason: 'access_denied' })
    const [event] = await waitFor('connection.failed', () => (eventsFor(leafUserId, 'connection.failed').length ? eventsFor(leafUserId) : undefined))
    expect(event).toMatchObject({ type: 'connection.failed', data: { connectSessionId: flow.connectSessionId, reason: 'access_denied' } })
  })

  it('sends connection.failed when Leaf finally refuses a pending delivery', async () => {
    const leafUserId = system.newLeafUser()
    // 503s outlast the inline tries; the first queued try then gets a final 403.
    const path = `/users/${leafUserId}/raven-credentials`
    const result = await connect(leafUserId, () => system.leaf.faults.script('POST', path, ...Array.from({ length: 4 }, () => ({ status: 503 }))))
    expect(result.raven).toBe('pending')
    system.leaf.faults.reset()
    system.leaf.faults.script('POST', path, { status: 403 })
    const event = await waitFor('connection.failed', async () => {
      await promoteDelayedJobs(system)
      return eventsFor(leafUserId, 'connection.failed')[0]
    }, 20_000, 200)
    expect(event.data).toEqual({ connectSessionId: result.connectSessionId, reason: 'leaf_rejected' })
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(eventsFor(leafUserId, 'connection.created')).toHaveLength(0)
  })
})

describe('disconnect', () => {
  it('revokes the refresh token at Raven, deletes it at Leaf and sends connection.deleted', async () => {
    const leafUserId = system.newLeafUser()
    const { refreshToken } = await connect(leafUserId)
    expect(await system.raven.isRefreshTokenActive(refreshToken)).toBe(true)
    expect((await disconnect(leafUserId)).status).toBe(204)
    expect(system.raven.stats.wasRevoked(refreshToken)).toBe(true)
    expect(await system.raven.isRefreshTokenActive(refreshToken)).toBe(false)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    const [event] = await waitFor('connection.deleted', () => (eventsFor(leafUserId, 'connection.deleted').length ? eventsFor(leafUserId, 'connection.deleted') : undefined))
    expect(event).toMatchObject({ type: 'connection.deleted', leafUserId, data: {} })
    expect(system.logs.join('\n')).not.toContain(refreshToken)
  })

  it('still deletes at Leaf when revocation fails, and logs it', async () => {
    const leafUserId = system.newLeafUser()
    const { refreshToken } = await connect(leafUserId)
    system.raven.faults.set({ revocation: 'server_error' })
    expect((await disconnect(leafUserId)).status).toBe(204)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(await system.raven.isRefreshTokenActive(refreshToken)).toBe(true)
    expect(system.logs.some((line) => line.includes('revocation at Raven failed') && line.includes(leafUserId))).toBe(true)
  })

  it('answers 204 and sends nothing when nothing was connected', async () => {
    const leafUserId = system.newLeafUser()
    const revocationsBefore = system.raven.stats.revocations.length
    expect((await disconnect(leafUserId)).status).toBe(204)
    expect(system.raven.stats.revocations.length).toBe(revocationsBefore)
    // Events are queued before the answer: none is in the queue, in any state, for this grower.
    const queued = (await system.service.jobs.queue.getJobs(['wait', 'delayed', 'active', 'completed', 'failed'])) ?? []
    expect(queued.filter((job) => job.name === 'webhook' && String(job.data.body).includes(leafUserId))).toHaveLength(0)
    expect(queued.some((job) => job.name === 'webhook')).toBe(true)
  })

  it('drops a token still waiting for Leaf, so it is never delivered after the disconnect', async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId, () => system.leaf.faults.script('POST', `/users/${leafUserId}/raven-credentials`, ...Array.from({ length: 4 }, () => ({ status: 503 }))))
    expect(result.raven).toBe('pending')
    expect((await disconnect(leafUserId)).status).toBe(204)
    system.leaf.faults.reset()
    await waitFor('the queued delivery to finish', async () => {
      await promoteDelayedJobs(system)
      const jobs = (await system.service.jobs.queue.getJobs(['delayed', 'wait', 'active'])) ?? []
      return jobs.every((job) => job.data.leafUserId !== leafUserId)
    }, 15_000, 200)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(system.leaf.state.requestsTo('POST', `/users/${leafUserId}/raven-credentials`).filter((entry) => entry.status === 201)).toHaveLength(0)
    await waitFor('connection.deleted', () => eventsFor(leafUserId, 'connection.deleted')[0])
  })
})

describe('Raven-Connect-Signature', () => {
  it('verifies with the example receiver, and fails on any change', () => {
    const body = JSON.stringify({ id: 'evt_1', type: 'connection.created', createdAt: new Date().toISOString(), leafUserId: 'u1', data: {} })
    const header = signWebhook(secret, body)
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(verifyRavenConnectSignature(body, header, secret)).toBe(true)
    expect(verifyRavenConnectSignature(body.replace('u1', 'u2'), header, secret)).toBe(false)
    expect(verifyRavenConnectSignature(body, header, `${secret}x`)).toBe(false)
    const stale = signWebhook(secret, body, Math.floor(Date.now() / 1000) - 3600)
    expect(verifyRavenConnectSignature(body, stale, secret)).toBe(false)
    expect(verifyRavenConnectSignature(body, undefined, secret)).toBe(false)
  })
})

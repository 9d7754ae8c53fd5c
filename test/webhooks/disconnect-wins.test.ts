import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { flowToCallback, outcomeOf, useSystem, waitFor } from '../helpers/kit/index.js'

// Contract: "A disconnect wins over a delivery still running for that grower: after its 204, no
// credential from an earlier consent lands at Leaf and no connection.created follows the
// connection.deleted."
const secret = `whsec_${randomBytes(18).toString('base64url')}`
let receiver: WebhookReceiver
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret })
})
const system = useSystem(() => ({ durable: { inlineBudgetMs: 4000 }, leafTimeoutMs: 5000, env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } }))
afterAll(async () => {
  await receiver.close()
})

const credentialPath = (leafUserId: string) => `/users/${leafUserId}/raven-credentials`
const eventTypes = (leafUserId: string) => receiver.events.filter((event) => event.leafUserId === leafUserId).map((event) => event.type)

function disconnect(leafUserId: string): Promise<Response> {
  return fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { method: 'DELETE', headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
}

async function connectionStatus(leafUserId: string): Promise<unknown> {
  const res = await fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
  return res.json()
}

/** Every recorded event relayed and every webhook job done: what is not at the receiver now never comes. */
async function webhooksSettled(): Promise<void> {
  await waitFor('every webhook sent', async () => {
    await system.service.delivery.relay?.runOnce()
    const counts = await system.service.jobs.queue.getJobCounts('wait', 'delayed', 'active', 'prioritized')
    const recorded = await system.redis.llen(`${system.service.jobs.prefix}:webhook-outbox`)
    return recorded === 0 && Object.values(counts).every((count) => count === 0)
  })
}

/** Starts the grower's callback and returns once Leaf has received the delivery's POST. */
async function callbackUntilPost(leafUserId: string) {
  const flow = await flowToCallback(system, { leafUserId, returnTo: `${system.returnOrigin}/done` })
  const answer = flow.browser.get(flow.callbackUrl.href)
  await waitFor('the POST at Leaf', () => system.leaf.state.requestsTo('POST', credentialPath(leafUserId)).length > 0, 15_000, 10)
  return { flow, answer }
}

describe('disconnect while a delivery for the grower is running', () => {
  it('ends with no credential at Leaf, connected: false, and no connection.created or connection.failed after connection.deleted', async () => {
    const leafUserId = system.newLeafUser()
    // Leaf stores the credential at once but answers the POST 2.5 s later (within the client's timeout).
    system.leaf.faults.storeThenTimeout({ delayMs: 2500 })
    const { flow, answer } = await callbackUntilPost(leafUserId)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeDefined()

    expect((await disconnect(leafUserId)).status).toBe(204)
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(await connectionStatus(leafUserId)).toEqual({ leafUserId, connected: false, pending: false })

    // An honest error for the grower: not connected, not pending (the disconnect won).
    expect(outcomeOf(await answer)).toEqual({ raven: 'error', reason: 'server_error' })
    // The token that reached Leaf is withdrawn at Raven too, as the disconnect would have done.
    const refreshToken = system.raven.stats.refreshTokenForCode(flow.code) ?? ''
    expect(await system.raven.isRefreshTokenActive(refreshToken)).toBe(false)

    await waitFor('connection.deleted', () => eventTypes(leafUserId).includes('connection.deleted'))
    await webhooksSettled()
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    // The host asked for the disconnect: connection.deleted is all it hears (no created, and no
    // connection.failed after the deleted).
    expect(eventTypes(leafUserId)).toEqual(['connection.deleted'])
    expect(system.logs.some((line) => line.includes('a disconnect cancelled its delivery'))).toBe(true)
  })

  it('does not tell the grower pending when the delivery was cancelled between two inline tries', async () => {
    const leafUserId = system.newLeafUser()
    // The first try's POST hangs, then fails retryably: the disconnect lands between the tries.
    system.leaf.faults.script('POST', credentialPath(leafUserId), { status: 503, delayMs: 1500 })
    const { answer } = await callbackUntilPost(leafUserId)

    expect((await disconnect(leafUserId)).status).toBe(204)
    expect(outcomeOf(await answer)).toEqual({ raven: 'error', reason: 'server_error' })
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(system.leaf.state.requestsTo('POST', credentialPath(leafUserId))).toHaveLength(1)
    expect(await connectionStatus(leafUserId)).toEqual({ leafUserId, connected: false, pending: false })
    await webhooksSettled()
    expect(eventTypes(leafUserId)).toEqual(['connection.deleted'])
  })
})

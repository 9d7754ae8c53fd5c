import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { signLeafBody } from '../../sandboxes/leaf/alerts.js'
import { brokenWebhooks, connectedGrower, connectionOf, credentialAlert, postLeafAlert, registerLeafAlerts, useSystem, waitFor } from '../helpers/kit/index.js'

const webhookSecret = `whsec_${randomBytes(18).toString('base64url')}`
let receiver: WebhookReceiver
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret: webhookSecret })
})
const system = useSystem(() => ({ leafAlerts: {}, env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: webhookSecret } }))
afterAll(async () => {
  await receiver.close()
})
beforeAll(async () => {
  await registerLeafAlerts(system)
})

const brokenEvents = (leafUserId: string) => brokenWebhooks(receiver, leafUserId).events
const brokenDeliveries = (leafUserId: string) => brokenWebhooks(receiver, leafUserId).deliveries

async function metricsText(): Promise<string> {
  return (await fetch(`${system.url}/metrics`)).text()
}

describe('POST /leaf/alerts: the signature', () => {
  it('accepts a body signed with LEAF_ALERTS_SECRET and refuses a missing, wrong or other-secret signature with 401, changing nothing', async () => {
    const grower = await connectedGrower(system)
    const alert = credentialAlert({ credentialId: grower.credentialId })
    const body = JSON.stringify(alert)

    const refusals = [
      await postLeafAlert(system, body, { signature: null }),
      await postLeafAlert(system, body, { signature: 'bm90IGEgc2lnbmF0dXJl' }),
      await postLeafAlert(system, body, { secret: `other_${randomBytes(12).toString('hex')}` }),
      // A signature of other bytes: the same JSON re-serialized with a space is another body.
      await postLeafAlert(system, body, { signature: signLeafBody(JSON.stringify(alert, null, 1), system.secrets.leafAlertsSecret) }),
    ]
    for (const res of refusals) {
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(await res.json()).toMatchObject({ status: 401, code: 'invalid_signature' })
    }
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'ok', healthChangedAt: null })

    const accepted = await postLeafAlert(system, body)
    expect(accepted.status).toBe(200)
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'unauthenticated' })
    expect(await metricsText()).toMatch(/raven_connect_leaf_alerts_total\{type="unverified",outcome="rejected_signature"\} 4/)
  })

  it('answers 413 to a body over 100 kB and 400 to signed bytes that are not JSON', async () => {
    const big = JSON.stringify({ type: 'other', padding: 'x'.repeat(110_000) })
    expect((await postLeafAlert(system, big)).status).toBe(413)
    const notJson = await postLeafAlert(system, 'not json at all')
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toMatchObject({ code: 'invalid_json' })
  })

  it('answers 405 to other methods', async () => {
    const res = await fetch(`${system.url}/leaf/alerts`)
    expect(res.status).toBe(405)
  })
})

describe('POST /leaf/alerts: what each alert does', () => {
  it('answers Leaf\'s registration confirmation with 2xx', async () => {
    const confirmation = system.leaf.alerts.deliveries.find((delivery) => delivery.body.includes('confirmation of webhook'))
    expect(confirmation?.status).toBe(200)
    expect(await metricsText()).toMatch(/raven_connect_leaf_alerts_total\{type="confirmation",outcome="confirmed"\} 1/)
  })

  it('sets health unauthenticated from a Leaf-sent credentialsUnauthenticated alert and sends one connection.broken webhook', async () => {
    const grower = await connectedGrower(system)
    const alert = await system.leaf.alerts.breakCredential(grower.leafUserId)
    const connection = await connectionOf(system, grower.leafUserId)
    expect(connection).toMatchObject({ health: 'unauthenticated', healthChangedAt: expect.any(String), status: 'UNAUTHENTICATED' })
    expect(Date.parse(String(connection.healthChangedAt))).toBe(Date.parse(String(alert.timestamp).replace(/(\.\d{3})\d+/, '$1')))
    const [event] = await waitFor('connection.broken', () => (brokenEvents(grower.leafUserId).length ? brokenEvents(grower.leafUserId) : undefined))
    expect(event).toMatchObject({
      type: 'connection.broken',
      leafUserId: grower.leafUserId,
      data: { reason: 'unauthenticated', credentialId: grower.credentialId, leafStatus: 'UNAUTHENTICATED' },
    })
  })

  it('sets limited_permission for credentialsLimitedPermission, and treats RAVEN as Raven', async () => {
    const grower = await connectedGrower(system)
    const res = await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, type: 'credentialsLimitedPermission', provider: 'RAVEN', status: 'LIMITED' }))
    expect(res.status).toBe(200)
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'limited_permission' })
    const [event] = await waitFor('connection.broken', () => (brokenEvents(grower.leafUserId).length ? brokenEvents(grower.leafUserId) : undefined))
    expect(event?.data).toEqual({ reason: 'limited_permission', credentialId: grower.credentialId, leafStatus: 'LIMITED' })
  })

  it.each([['Raven Slingshot'], ['RavenSlingshot'], ['JohnDeere'], ['Climate FieldView'], ['']])(
    'answers 2xx and changes nothing for provider %j',
    async (provider) => {
      const grower = await connectedGrower(system)
      const res = await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, provider }))
      expect(res.status).toBe(200)
      expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'ok', healthChangedAt: null })
      expect(brokenEvents(grower.leafUserId)).toHaveLength(0)
    },
  )

  it('answers 2xx and changes nothing for alerts of other types', async () => {
    const grower = await connectedGrower(system)
    for (const type of ['newFile', 'fieldCreated', 'credentialsRestored']) {
      const res = await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, type }))
      expect(res.status).toBe(200)
    }
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'ok' })
    expect(await metricsText()).toMatch(/raven_connect_leaf_alerts_total\{type="other",outcome="ignored"\} 3/)
  })

  it('learns a credential it did not create when the connection API reads it, and then acts on its alerts', async () => {
    const leafUserId = system.newLeafUser()
    const credential = system.leaf.state.storeCredential(leafUserId, { clientId: 'raven-connect-test', clientSecret: 'made-elsewhere-secret', refreshToken: 'made-elsewhere-rt' })
    expect(await system.service.registry.get(leafUserId)).toBeNull()
    expect(await connectionOf(system, leafUserId)).toMatchObject({ connected: true, credentialId: credential.id, health: 'ok' })
    expect(await system.service.registry.get(leafUserId)).toMatchObject({ credentialId: credential.id })
    const res = await postLeafAlert(system, credentialAlert({ credentialId: credential.id }))
    expect(await res.json()).toMatchObject({ outcome: 'applied' })
    expect(await connectionOf(system, leafUserId)).toMatchObject({ health: 'unauthenticated' })
  })

  it('answers 2xx for a credential this service did not create, and changes nothing', async () => {
    const credentialId = `not-ours-${randomBytes(4).toString('hex')}`
    const res = await postLeafAlert(system, credentialAlert({ credentialId }))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ outcome: 'deferred' })
    // Nothing recorded for it (the registry still does not know the credential) and no webhook about it.
    const verdict = await system.service.registry.applyAlert({ credentialId, health: 'unauthenticated', at: Date.now(), leafStatus: 'X', alertKey: 'probe' })
    expect(verdict.outcome).toBe('unknown')
    expect(receiver.events.filter((event) => event.type === 'connection.broken' && event.data.credentialId === credentialId)).toEqual([])
  })
})

describe('POST /leaf/alerts: one change, one webhook', () => {
  it('changes health once and sends one webhook however often Leaf retries the alert', async () => {
    const grower = await connectedGrower(system)
    const alert = credentialAlert({ credentialId: grower.credentialId })
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => postLeafAlert(system, alert)))
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200])
    await postLeafAlert(system, alert)
    await waitFor('connection.broken', () => brokenEvents(grower.leafUserId).length > 0)
    // Give a second webhook every chance to show up: the queue is worked on this instance.
    await waitFor('the webhook queue to drain', async () => (await system.service.jobs.queue.getJobCounts('waiting', 'active', 'delayed')).waiting === 0)
    expect(brokenDeliveries(grower.leafUserId)).toHaveLength(1)
    expect(brokenEvents(grower.leafUserId)).toHaveLength(1)
  })

  it('ignores an alert older than the credential, and one older than the last health change', async () => {
    const grower = await connectedGrower(system)
    const createdMs = system.leaf.state.credentials.get(grower.leafUserId)?.createdAtMs ?? 0
    const before = await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, timestamp: new Date(createdMs - 60_000).toISOString() }))
    expect(await before.json()).toMatchObject({ outcome: 'stale' })
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'ok' })

    const now = Date.now()
    await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, timestamp: new Date(now).toISOString() }))
    const older = await postLeafAlert(
      system,
      credentialAlert({ credentialId: grower.credentialId, type: 'credentialsLimitedPermission', timestamp: new Date(now - 1000).toISOString() }),
    )
    expect(await older.json()).toMatchObject({ outcome: 'stale' })
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'unauthenticated', healthChangedAt: new Date(now).toISOString() })
    // A later, different alert is a change: limited permission now, and a second webhook for it.
    await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, type: 'credentialsLimitedPermission', timestamp: new Date(now + 1000).toISOString() }))
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'limited_permission' })
    await waitFor('two connection.broken', () => brokenEvents(grower.leafUserId).length === 2)
  })

  it('ignores an alert naming a credential that a reconnect has replaced, and a reconnect starts at ok', async () => {
    const first = await connectedGrower(system)
    await system.leaf.alerts.breakCredential(first.leafUserId)
    expect(await connectionOf(system, first.leafUserId)).toMatchObject({ health: 'unauthenticated' })
    const second = await connectedGrower(system, first.leafUserId)
    expect(second.credentialId).not.toBe(first.credentialId)
    expect(await connectionOf(system, first.leafUserId)).toMatchObject({ health: 'ok', healthChangedAt: null, credentialId: second.credentialId })

    const late = await postLeafAlert(system, credentialAlert({ credentialId: first.credentialId, timestamp: new Date(Date.now() + 5000).toISOString() }))
    expect(late.status).toBe(200)
    expect(await connectionOf(system, first.leafUserId)).toMatchObject({ health: 'ok' })
  })

  it('forgets the connection on disconnect: a later alert for it changes nothing', async () => {
    const grower = await connectedGrower(system)
    await system.leaf.alerts.breakCredential(grower.leafUserId)
    const res = await fetch(`${system.url}/v1/users/${grower.leafUserId}/raven-connection`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${system.secrets.apiKey}` },
    })
    expect(res.status).toBe(204)
    expect(await system.service.registry.get(grower.leafUserId)).toBeNull()
    const again = await postLeafAlert(system, credentialAlert({ credentialId: grower.credentialId, type: 'credentialsLimitedPermission', timestamp: new Date(Date.now() + 5000).toISOString() }))
    expect(await again.json()).toMatchObject({ outcome: 'deferred' })
    expect(await system.service.registry.get(grower.leafUserId)).toBeNull()
  })

  it('counts applied alerts in /metrics by type and outcome', async () => {
    const text = await metricsText()
    expect(text).toMatch(/raven_connect_leaf_alerts_total\{type="credentialsUnauthenticated",outcome="applied"\} \d+/)
    expect(text).toMatch(/raven_connect_leaf_alerts_total\{type="credentialsUnauthenticated",outcome="stale"\} \d+/)
    expect(text).toMatch(/raven_connect_leaf_alerts_total\{type="credentialsUnauthenticated",outcome="other_provider"\} 5/)
  })
})

describe('POST /leaf/alerts without LEAF_ALERTS_SECRET', () => {
  // No worker: nothing here queues a job, and a worker closed while still connecting can only add noise.
  const plain = useSystem({ durable: { worker: false } })
  it('answers 404 problem+json, whatever the signature', async () => {
    const res = await postLeafAlert(plain, credentialAlert({ credentialId: 'x' }), { secret: 'anything-at-all-16' })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  })
})

describe('POST /leaf/alerts under a rate limit', () => {
  const limited = useSystem({ leafAlerts: {}, env: { RATE_LIMIT_PER_MINUTE: '3' }, durable: { worker: false } })
  it('limits requests with a bad signature (429), never genuine signed alerts', async () => {
    const forged = credentialAlert({ credentialId: 'forged' })
    const forgedAnswers: number[] = []
    for (let i = 0; i < 5; i++) forgedAnswers.push((await postLeafAlert(limited, forged, { secret: 'not-the-secret-0123456789' })).status)
    expect(forgedAnswers).toEqual([401, 401, 401, 429, 429])
    const genuine = await Promise.all(Array.from({ length: 12 }, (_, i) => postLeafAlert(limited, { type: 'newFile', n: i })))
    expect(genuine.map((res) => res.status)).toEqual(Array.from({ length: 12 }, () => 200))
  })
})

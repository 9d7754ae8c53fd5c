// The Leaf sandbox's Alerts API, held to what Leaf documents (contract: Leaf Alerts), with a receiver
// standing in for a webhook URL.
import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'

import { startLeafSandbox, type LeafSandbox } from '../../sandboxes/leaf/server.js'
import { waitFor } from '../helpers/kit/index.js'

const ALERTS = '/services/alerts/api/alerts'
let sandbox: LeafSandbox
let token: string
let receiver: Server
let receiverUrl: string
let answerWith = 200
const received: Array<{ body: string; signature: string | undefined }> = []

beforeAll(async () => {
  sandbox = await startLeafSandbox({ port: 0, alerts: { retryDelaysMs: [50, 50, 50, 50] } })
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-leaf-signature'] as string | undefined })
      res.writeHead(answerWith).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/leaf/alerts`
})
afterAll(async () => {
  await sandbox.close()
  receiver.closeAllConnections()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
})
beforeEach(async () => {
  sandbox.state.reset()
  sandbox.alerts.reset()
  received.length = 0
  answerWith = 200
  const res = await fetch(`${sandbox.url}/api/authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'leaf-demo@example.com', password: 'leaf-sandbox', rememberMe: 'true' }),
  })
  token = ((await res.json()) as { id_token: string }).id_token
})

function alertsApi(method: string, path: string, body?: unknown, bearer: string | null = token): Promise<Response> {
  return fetch(`${sandbox.url}${ALERTS}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(bearer !== null && { authorization: `Bearer ${bearer}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
}

const webhook = (events: string[], url = receiverUrl) => ({ events, name: 'raven-connect', secret: 'the-webhook-secret-123', url })
const expectedSignature = (body: string) => createHmac('sha256', 'the-webhook-secret-123').update(body).digest('base64')

describe('Leaf sandbox: Alerts', () => {
  it('needs the bearer token', async () => {
    expect((await alertsApi('GET', '/webhooks', undefined, null)).status).toBe(401)
  })

  it('registers a webhook, answers it with its secret, and POSTs the signed confirmation right after', async () => {
    const res = await alertsApi('POST', '/webhooks', webhook(['credentialsUnauthenticated']))
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ id: expect.any(String), events: ['credentialsUnauthenticated'], name: 'raven-connect', secret: 'the-webhook-secret-123', url: receiverUrl })
    const [confirmation] = await waitFor('the confirmation', () => (received.length ? received : undefined))
    expect(JSON.parse(confirmation?.body ?? '')).toEqual({ message: 'confirmation of webhook upon registration' })
    expect(confirmation?.signature).toBe(expectedSignature(confirmation?.body ?? ''))
    expect(await (await alertsApi('GET', '/webhooks')).json()).toHaveLength(1)
  })

  it('refuses a second registration of an event with 400 eventRegisteredTwice, and a webhook without fields', async () => {
    await alertsApi('POST', '/webhooks', webhook(['credentialsUnauthenticated', 'credentialsLimitedPermission']))
    const twice = await alertsApi('POST', '/webhooks', webhook(['credentialsLimitedPermission'], 'https://other.example.com/hook'))
    expect(twice.status).toBe(400)
    expect(JSON.stringify(await twice.json())).toContain('eventRegisteredTwice')
    expect((await alertsApi('POST', '/webhooks', { events: [], url: receiverUrl })).status).toBe(400)
  })

  it('deletes a webhook with 204, then 404', async () => {
    const created = (await (await alertsApi('POST', '/webhooks', webhook(['credentialsUnauthenticated']))).json()) as { id: string }
    expect((await alertsApi('DELETE', `/webhooks/${created.id}`)).status).toBe(204)
    expect((await alertsApi('DELETE', `/webhooks/${created.id}`)).status).toBe(404)
  })

  it('breaks a credential: new status, a signed credential alert without leafUserId', async () => {
    await alertsApi('POST', '/webhooks', webhook(['credentialsUnauthenticated']))
    await waitFor('the confirmation', () => received.length === 1)
    const user = sandbox.state.addUser({ externalId: 'g1' })
    const credential = sandbox.state.storeCredential(user.id, { clientId: 'app', clientSecret: 'app-secret', refreshToken: 'rt' })
    await sandbox.alerts.breakCredential(user.id)
    expect(sandbox.state.credentials.get(user.id)?.status).toBe('UNAUTHENTICATED')
    const alert = received[1]
    const body = JSON.parse(alert?.body ?? '') as Record<string, unknown>
    expect(body).toEqual({
      credential: 'app',
      provider: 'Raven',
      credentialId: credential.id,
      message: expect.any(String),
      status: 'UNAUTHENTICATED',
      type: 'credentialsUnauthenticated',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
    })
    expect(alert?.signature).toBe(expectedSignature(alert?.body ?? ''))
    expect(alert?.body).not.toContain('app-secret')
  })

  it('retries an undelivered alert on its schedule and lists each failure in failed-calls', async () => {
    await alertsApi('POST', '/webhooks', webhook(['credentialsUnauthenticated']))
    await waitFor('the confirmation', () => received.length === 1)
    const user = sandbox.state.addUser({ externalId: 'g2' })
    sandbox.state.storeCredential(user.id, { clientId: 'app', clientSecret: 's', refreshToken: 'rt' })
    answerWith = 503
    await sandbox.alerts.breakCredential(user.id)
    await waitFor('the first try and four retries', () => received.length === 6)
    const failed = (await (await alertsApi('GET', '/webhooks/failed-calls')).json()) as { items: Array<Record<string, unknown>> }
    expect(failed.items).toHaveLength(5)
    expect(failed.items[0]).toMatchObject({ apiOwner: 'leaf-demo@example.com', url: receiverUrl, status: 503, createdAt: expect.any(String) })
    expect(JSON.parse(String(failed.items[0]?.requestBody))).toMatchObject({ type: 'credentialsUnauthenticated' })
  })
})

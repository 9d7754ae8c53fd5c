// Alerts and the moments around them: two instances receiving one alert at once, an alert that arrives
// before the delivery of its credential finished, and alerts Leaf sent while the service was down.
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { compose, type Composition } from '../../src/compose.js'
import { createHardenedServer } from '../../src/http/server-hardening.js'
import { createMetrics } from '../../src/infra/metrics.js'
import { connectRedis } from '../../src/infra/redis.js'
import { brokenWebhooks, connectedGrower, connectionOf, consentUpToCallback, credentialAlert, outcomeOf, postLeafAlert, promoteDelayedJobs, registerLeafAlerts, useSystem, waitFor } from '../helpers/kit/index.js'
import { captureLogs } from '../helpers/log-capture.js'

const webhookSecret = `whsec_${randomBytes(18).toString('base64url')}`
let receiver: WebhookReceiver
beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret: webhookSecret })
})
const system = useSystem(() => ({
  // Leaf retries undelivered alerts 1, 30, 60 and 240 minutes later; scaled down to 100 ms here.
  leafAlerts: { retryDelaysMs: [100, 100, 100, 100] },
  durable: { inlineBudgetMs: 1500 },
  leafTimeoutMs: 500,
  env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: webhookSecret },
}))
afterAll(async () => {
  await receiver.close()
})
beforeAll(async () => {
  await registerLeafAlerts(system)
})

const brokenEvents = (leafUserId: string) => brokenWebhooks(receiver, leafUserId).events
const brokenDeliveries = (leafUserId: string) => brokenWebhooks(receiver, leafUserId).deliveries

/** A second instance of the service: same configuration, same Redis and queue, its own port. */
async function secondInstance(): Promise<{ url: string; service: Composition; close(): Promise<void> }> {
  const service = compose(system.config, {
    logger: captureLogs().logger,
    metrics: createMetrics({ defaultMetrics: false }),
    jobPrefix: system.service.jobs.prefix,
    leafTimeoutMs: 2000,
    leafRetry: { attempts: 3, baseMs: 20, capMs: 100 },
  })
  await connectRedis(service.redis)
  const server: Server = createHardenedServer()
  server.on('request', service.app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    service,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await service.stopBackground(1000)
      await service.closeRedis()
    },
  }
}

describe('one alert, several instances', () => {
  it('changes health once and sends one connection.broken when two instances receive the same alert at once', async () => {
    const other = await secondInstance()
    try {
      const grower = await connectedGrower(system)
      const alert = credentialAlert({ credentialId: grower.credentialId })
      const answers = await Promise.all(
        [system.url, other.url, system.url, other.url].map((url) => postLeafAlert({ url, secrets: system.secrets }, alert)),
      )
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200])
      const outcomes = await Promise.all(answers.map(async (res) => ((await res.json()) as { outcome: string }).outcome))
      expect(outcomes.filter((outcome) => outcome === 'applied').length).toBeGreaterThanOrEqual(1)
      expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'unauthenticated' })
      await waitFor('connection.broken', () => brokenEvents(grower.leafUserId).length > 0)
      await waitFor('the queue to drain', async () => (await system.service.jobs.queue.getJobCounts('waiting', 'active')).waiting === 0)
      expect(brokenDeliveries(grower.leafUserId)).toHaveLength(1)
      expect(new Set(brokenEvents(grower.leafUserId).map((event) => event.id)).size).toBe(1)
    } finally {
      await other.close()
    }
  })
})

describe('an alert before its delivery finished', () => {
  it('is applied once the delivery lands, with one webhook', async () => {
    const leafUserId = system.newLeafUser()
    const session = await system.createConnectSession({ leafUserId, returnTo: `${system.returnOrigin}/done` })
    const browser = system.browser()
    const callbackUrl = await consentUpToCallback(browser, session.connectUrl)
    // Leaf stores the credential but its answer is lost, and then Leaf is unreachable for a while:
    // the delivery is still open (pending) while Leaf already checks the credential and alerts.
    system.leaf.faults.storeThenTimeout()
    const outcome = browser.get(callbackUrl.href)
    await waitFor('the create to be stored', () => system.leaf.state.credentials.get(leafUserId), 10_000, 5)
    system.leaf.faults.unavailable(3000)
    expect(outcomeOf(await outcome).raven).toBe('pending')
    expect(await system.service.registry.get(leafUserId)).toBeNull()

    await system.leaf.alerts.breakCredential(leafUserId)
    const sent = system.leaf.alerts.deliveries.at(-1)
    expect(sent?.status).toBe(200)
    expect(await system.service.registry.get(leafUserId)).toBeNull()

    const entry = await waitFor('the delivery and the early alert to land', async () => {
      await promoteDelayedJobs(system)
      const found = await system.service.registry.get(leafUserId)
      return found?.health === 'unauthenticated' ? found : undefined
    }, 25_000, 300)
    expect(entry.credentialId).toBe(system.leaf.state.credentials.get(leafUserId)?.id)
    await waitFor('connection.broken', () => brokenEvents(leafUserId).length > 0)
    expect(brokenDeliveries(leafUserId)).toHaveLength(1)
  })
})

describe('alerts sent while the service was down', () => {
  it('are read from failed-calls at start and applied as if received, once', async () => {
    const grower = await connectedGrower(system)
    // The service is down: Leaf's POST fails (nothing listens there), so Leaf lists it in failed-calls.
    const webhook = system.leaf.alerts.webhookFor('credentialsUnauthenticated')
    if (!webhook) throw new Error('the alerts webhook is not registered')
    const url = webhook.url
    webhook.url = 'http://127.0.0.1:9/leaf/alerts'
    const failedFor = () => system.leaf.alerts.failedCalls.filter((call) => call.requestBody.includes(grower.credentialId))
    try {
      await system.leaf.alerts.breakCredential(grower.leafUserId)
      // The first try and Leaf's four retries all fail while the service is down.
      await waitFor("Leaf's retries to run out", () => failedFor().length === 5)
    } finally {
      webhook.url = url
    }
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'ok' })

    // A restart: the new instance reads failed-calls when its background work starts.
    const restarted = await secondInstance()
    try {
      restarted.service.startWorker()
      await waitFor('the recovered alert', async () => (await system.service.registry.get(grower.leafUserId))?.health === 'unauthenticated')
      await waitFor('connection.broken', () => brokenEvents(grower.leafUserId).length > 0)
      // Reading the list again (the hourly round) changes nothing more.
      const again = await restarted.service.alertRecovery.runOnce()
      expect(again.outcomes.applied ?? 0).toBe(0)
      expect(again.read).toBeGreaterThan(0)
      await waitFor('the queue to drain', async () => (await system.service.jobs.queue.getJobCounts('waiting', 'active')).waiting === 0)
      expect(brokenDeliveries(grower.leafUserId)).toHaveLength(1)
    } finally {
      await restarted.close()
    }
  })

  it('Leaf retries an undelivered alert on its schedule, and the retry lands once', async () => {
    const grower = await connectedGrower(system)
    const webhook = system.leaf.alerts.webhookFor('credentialsUnauthenticated')
    if (!webhook) throw new Error('the alerts webhook is not registered')
    // A moment of trouble in front of the service (a 404 from a misrouted proxy): Leaf's first try fails.
    const url = webhook.url
    webhook.url = `${system.url}/leaf/alerts-misrouted`
    try {
      await system.leaf.alerts.breakCredential(grower.leafUserId)
    } finally {
      webhook.url = url
    }
    const tries = () => system.leaf.alerts.deliveries.filter((delivery) => delivery.body.includes(grower.credentialId))
    expect(tries().map((delivery) => delivery.status)).toEqual([404])
    await waitFor("Leaf's retry", () => tries().some((delivery) => delivery.status === 200))
    expect(await connectionOf(system, grower.leafUserId)).toMatchObject({ health: 'unauthenticated' })
    await waitFor('connection.broken', () => brokenEvents(grower.leafUserId).length > 0)
    await waitFor('the queue to drain', async () => (await system.service.jobs.queue.getJobCounts('waiting', 'active')).waiting === 0)
    expect(brokenDeliveries(grower.leafUserId)).toHaveLength(1)
  })
})

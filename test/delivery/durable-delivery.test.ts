import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'

import { consentUpToCallback, outcomeOf, promoteDelayedJobs, waitFor } from '../helpers/kit/index.js'
import { startSystem, type TestSystem } from '../helpers/system.js'

let system: TestSystem

beforeAll(async () => {
  system = await startSystem({ durable: { inlineBudgetMs: 2500 }, leafTimeoutMs: 1000 })
})
afterEach(() => {
  system.leaf.faults.reset()
  if (process.env.DEBUG_LOGS) for (const line of system.logs.splice(0)) if (/delivery|jobs|leaf/.test(line)) console.log(line)
})
afterAll(async () => {
  await system.close()
})

/** Runs a grower through consent and the callback; returns the outcome and the token Raven issued. */
async function connect(leafUserId: string, beforeCallback: () => void = () => undefined) {
  const session = await system.createConnectSession({ leafUserId, returnTo: `${system.returnOrigin}/done` })
  const browser = system.browser()
  const callbackUrl = await consentUpToCallback(browser, session.connectUrl)
  const code = callbackUrl.searchParams.get('code') ?? ''
  beforeCallback()
  const response = await browser.get(callbackUrl.href)
  return { ...outcomeOf(response), refreshToken: system.raven.stats.refreshTokenForCode(code) ?? '', browser }
}

async function connectionStatus(leafUserId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

const credentialPosts = (leafUserId: string) => system.leaf.state.requestsTo('POST', `/users/${leafUserId}/raven-credentials`)

/** Every value stored under this system's job prefix, as text: what a Redis dump would reveal. */
async function everythingStored(): Promise<string> {
  const prefix = system.service.jobs.prefix ?? ''
  const keys = await system.redis.keys(`${prefix}*`)
  const values: string[] = []
  for (const key of keys) {
    const type = await system.redis.type(key)
    if (type === 'string') values.push((await system.redis.get(key)) ?? '')
    if (type === 'hash') values.push(JSON.stringify(await system.redis.hgetall(key)))
    if (type === 'list') values.push(...(await system.redis.lrange(key, 0, -1)))
    if (type === 'zset') values.push(...(await system.redis.zrange(key, 0, -1)))
    if (type === 'set') values.push(...(await system.redis.smembers(key)))
  }
  return keys.join('\n') + values.join('\n')
}

async function parkedKeys(): Promise<string[]> {
  const prefix = system.service.jobs.prefix ?? ''
  return [...(await system.redis.keys(`${prefix}:outbox:*`)), ...(await system.redis.keys(`${prefix}:pending:*`))]
}

describe('durable delivery to Leaf', () => {
  it('delivers at once when Leaf is healthy, and leaves nothing parked', async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId)
    expect(result.raven).toBe('connected')
    expect(system.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(result.refreshToken)
    expect(await parkedKeys()).toEqual([])
    expect(await everythingStored()).not.toContain(result.refreshToken)
  })

  it('answers pending while Leaf answers 503, then delivers exactly once when it recovers', async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId, () => system.leaf.faults.unavailable(4000))
    expect(result).toMatchObject({ raven: 'pending', reason: null })

    // Parked, sealed: the token is in Redis only as ciphertext.
    const stored = await everythingStored()
    expect(stored).toContain(':outbox:dlv_')
    expect(stored).not.toContain(result.refreshToken)

    await waitFor('the credential at Leaf', async () => {
      await promoteDelayedJobs(system)
      return system.leaf.state.credentialFor(leafUserId)
    }, 20_000, 300)
    await waitFor('the parked token to be deleted', async () => (await parkedKeys()).length === 0)
    expect(await connectionStatus(leafUserId)).toMatchObject({ leafUserId, connected: true, pending: false })
    expect(credentialPosts(leafUserId).filter((entry) => entry.status === 201)).toHaveLength(1)
    expect(system.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(result.refreshToken)
    expect(await system.raven.isRefreshTokenActive(result.refreshToken)).toBe(true)
  })

  it('reports pending: true while only the create fails, and connected once it is delivered', async () => {
    const leafUserId = system.newLeafUser()
    // Lookups work, creates answer 503: enough of them to outlast the inline tries and the first queued one.
    const refusals = Array.from({ length: 6 }, () => ({ status: 503 }))
    const result = await connect(leafUserId, () => system.leaf.faults.script('POST', `/users/${leafUserId}/raven-credentials`, ...refusals))
    expect(result.raven).toBe('pending')
    expect(await connectionStatus(leafUserId)).toEqual({ leafUserId, connected: false, pending: true })
    const connected = await waitFor('the status to say connected', async () => {
      await promoteDelayedJobs(system)
      const status = await connectionStatus(leafUserId)
      return status.connected === true ? status : undefined
    }, 25_000, 300)
    expect(connected).toMatchObject({ leafUserId, connected: true, pending: false, credentialId: system.leaf.state.credentialFor(leafUserId)?.id })
    expect(credentialPosts(leafUserId).filter((entry) => entry.status === 201)).toHaveLength(1)
  })

  it('takes a create that timed out after Leaf stored it as delivered, without posting again', async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId, () => system.leaf.faults.storeThenTimeout())
    expect(result.raven).toBe('connected')
    expect(credentialPosts(leafUserId)).toHaveLength(1)
    expect(system.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(result.refreshToken)
    expect(await system.raven.isRefreshTokenActive(result.refreshToken)).toBe(true)
  })

  it('checks Leaf before posting again when the queue picks up a try whose answer was lost', async () => {
    const leafUserId = system.newLeafUser()
    const outcome = connect(leafUserId, () => system.leaf.faults.storeThenTimeout())
    // The create is stored but unanswered; Leaf then goes down, so the inline try cannot look.
    await waitFor('the create to be stored', () => system.leaf.state.credentialFor(leafUserId), 10_000, 5)
    system.leaf.faults.unavailable(3500)
    const result = await outcome
    expect(result.raven).toBe('pending')

    await waitFor('the parked token to be resolved', async () => {
      await promoteDelayedJobs(system)
      return (await parkedKeys()).length === 0
    }, 25_000, 300)
    expect(credentialPosts(leafUserId)).toHaveLength(1)
    expect(system.leaf.state.credentialFor(leafUserId)?.refreshToken).toBe(result.refreshToken)
    expect(await connectionStatus(leafUserId)).toMatchObject({ connected: true, pending: false })
  })

  it('refuses a tampered parked token: logged, deleted, never delivered', async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId, () => system.leaf.faults.unavailable(60_000))
    expect(result.raven).toBe('pending')
    const [recordKey] = await system.redis.keys(`${system.service.jobs.prefix}:outbox:*`)
    const sealed = (await system.redis.hget(recordKey ?? '', 'sealedToken')) ?? ''
    const parts = sealed.split('.')
    const ciphertext = Buffer.from(parts[3] ?? '', 'base64url')
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 0x01
    parts[3] = ciphertext.toString('base64url')
    await system.redis.hset(recordKey ?? '', 'sealedToken', parts.join('.'))

    system.leaf.faults.reset()
    const deliveryId = (recordKey ?? '').split(':').pop() ?? ''
    await system.service.jobs.queue.getJob(deliveryId).then((job) => job?.promote().catch(() => undefined))
    await waitFor('the refusal in the log', () => system.logs.some((line) => line.includes('failed authentication') && line.includes(deliveryId)), 20_000)
    expect(await parkedKeys()).toEqual([])
    expect(system.leaf.state.credentialFor(leafUserId)).toBeUndefined()
    expect(credentialPosts(leafUserId)).toHaveLength(0)
    expect(await connectionStatus(leafUserId)).toEqual({ leafUserId, connected: false, pending: false })
  })

  it("waits at least Leaf's Retry-After before the queue tries again", async () => {
    const leafUserId = system.newLeafUser()
    const result = await connect(leafUserId, () => system.leaf.faults.unavailable(60_000, { retryAfterSeconds: 120 }))
    expect(result.raven).toBe('pending')
    const [recordKey] = await system.redis.keys(`${system.service.jobs.prefix}:outbox:*`)
    const deliveryId = (recordKey ?? '').split(':').pop() ?? ''
    const queue = system.service.jobs.queue
    const job = await waitFor('the first queued try to fail', async () => {
      const found = await queue?.getJob(deliveryId)
      return found && found.attemptsMade >= 1 && (await found.getState()) === 'delayed' ? found : undefined
    })
    // Retried no sooner than Leaf asked: 120 s (the full-jitter wait alone would be under 5 s).
    expect(job.delay).toBeGreaterThanOrEqual(120_000)
    // Clean up: the grower disconnects, which drops the parked token.
    const res = await fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { method: 'DELETE', headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
    system.leaf.faults.reset()
    expect([204, 502]).toContain(res.status)
  })
})

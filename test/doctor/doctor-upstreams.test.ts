import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { startLeafSandbox } from '../../sandboxes/leaf/server.js'
import { startRedisServer } from '../../sandboxes/redis/throwaway-redis.js'
import { runLeafAlertsCommand } from '../../src/cli/leaf-alerts.js'
import { doctorLine, registerAlertsAtLeaf, runDoctor, startDoctorWorld, startHangingServer, type DoctorWorld } from '../helpers/kit/index.js'

// npm run doctor against Redis, Leaf, Leaf Alerts and the webhook receiver, each misconfigured for real.

let world: DoctorWorld
beforeAll(async () => {
  world = await startDoctorWorld()
})
afterAll(async () => {
  await world?.close()
})

describe('npm run doctor and Redis', () => {
  it('fails on maxmemory-policy allkeys-lru and passes persistence with AOF on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'doctor-redis-'))
    const redis = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes', '--dir', dir] })
    try {
      const run = await runDoctor({ ...world.env, REDIS_URL: redis.url })
      expect(run.code).toBe(1)
      expect(doctorLine(run, '✗', 'redis.eviction')).toMatch(/maxmemory-policy is allkeys-lru: .*Set maxmemory-policy noeviction/)
      expect(doctorLine(run, '✓', 'redis.persistence')).toMatch(/AOF is on/)
    } finally {
      await redis.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('says Redis is not reachable, without the password of REDIS_URL, and skips the rest', async () => {
    const hang = await startHangingServer()
    await hang.close()
    const run = await runDoctor({ ...world.env, REDIS_URL: `redis://doctor:redis-password-in-url@127.0.0.1:${hang.port}` }, ['--timeout', '2'])
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'redis.reachable')).toMatch(new RegExp(`Redis at redis://127\\.0\\.0\\.1:${hang.port} is not reachable: .*ECONNREFUSED`))
    expect(doctorLine(run, '!', 'redis.eviction')).toMatch(/not checked: Redis is not reachable/)
    expect(run.stdout).not.toContain('redis-password-in-url')
  })
})

describe('npm run doctor and Leaf', () => {
  it('names LEAF_PASSWORD when Leaf refuses the login', async () => {
    const run = await runDoctor({ ...world.env, LEAF_PASSWORD: 'not-the-password' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'leaf.auth')).toMatch(/Leaf refused the login of LEAF_USERNAME owner@leaf\.test \(status 401\): check LEAF_PASSWORD/)
  })

  it('warns when a static LEAF_API_TOKEN expires within days', async () => {
    const leaf = await startLeafSandbox({ username: 'owner@leaf.test', password: 'short-lived-pw', rememberMeTokenTtlSeconds: 3 * 3600 })
    try {
      const login = await fetch(`${leaf.url}/api/authenticate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'owner@leaf.test', password: 'short-lived-pw', rememberMe: 'true' }),
      })
      const token = ((await login.json()) as { id_token: string }).id_token
      const env = { ...world.env, LEAF_API_URL: leaf.url, LEAF_USERNAME: undefined, LEAF_PASSWORD: undefined, LEAF_API_TOKEN: token }
      const run = await runDoctor(env)
      expect(doctorLine(run, '✓', 'leaf.auth')).toMatch(/Leaf accepts LEAF_API_TOKEN/)
      expect(doctorLine(run, '!', 'leaf.token-expiry')).toMatch(/LEAF_API_TOKEN expires .* \(in 2 h\) and nothing renews it/)
      expect(run.stdout).not.toContain(token)
    } finally {
      await leaf.close()
    }
  })

  it('fails a LEAF_API_TOKEN Leaf no longer accepts', async () => {
    const run = await runDoctor({ ...world.env, LEAF_USERNAME: undefined, LEAF_PASSWORD: undefined, LEAF_API_TOKEN: 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.revoked' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'leaf.auth')).toMatch(/Leaf refused LEAF_API_TOKEN \(status 401\)/)
  })
})

describe('npm run doctor and the Leaf Alerts registration (the Leaf sandbox\'s Alerts API)', () => {
  const alertsSecret = 'alerts-secret-for-the-doctor-test'
  const env = () => ({ ...world.env, LEAF_ALERTS_SECRET: alertsSecret })
  const ours = () => `${world.env.PUBLIC_BASE_URL}/leaf/alerts`

  /** `npm run leaf-alerts -- <command>` with the same environment, in process; its exit code and output. */
  async function leafAlerts(command: string): Promise<{ code: number; output: string }> {
    const lines: string[] = []
    const code = await runLeafAlertsCommand([command], env(), (line) => lines.push(line))
    return { code, output: lines.join('\n') }
  }

  /** The doctor's leaf.alerts line, after checking `npm run leaf-alerts -- status` agrees with it. */
  async function alertsLine(mark: '✓' | '✗'): Promise<{ line: string; stdout: string }> {
    const run = await runDoctor(env())
    const line = doctorLine(run, mark, 'leaf.alerts')
    expect(run.code).toBe(mark === '✓' ? 0 : 1)
    expect((await leafAlerts('status')).code).toBe(mark === '✓' ? 0 : 1)
    return { line, stdout: run.stdout + run.stderr }
  }

  it('passes once npm run leaf-alerts -- register has pointed both credential events at {PUBLIC_BASE_URL}/leaf/alerts', async () => {
    world.leaf.alerts.reset()
    expect((await leafAlerts('register')).code).toBe(0)
    const { line } = await alertsLine('✓')
    expect(line).toContain(`Leaf sends credentialsUnauthenticated and credentialsLimitedPermission to ${ours()}`)
    expect(line).not.toContain('not compared')
  })

  it('names the URL that holds the events instead, with the --replace fix, and exits 1', async () => {
    await registerAlertsAtLeaf(world, { url: `${world.env.PUBLIC_BASE_URL}/old-alerts`, secret: 'the-old-deployment-secret' })
    const { line } = await alertsLine('✗')
    expect(line).toContain(`does not point at ${ours()}`)
    expect(line).toContain(`credentialsUnauthenticated goes to ${world.env.PUBLIC_BASE_URL}/old-alerts; credentialsLimitedPermission goes to ${world.env.PUBLIC_BASE_URL}/old-alerts`)
    expect(line).toMatch(/Run npm run leaf-alerts -- register --replace/)
  })

  it('fails when nothing is registered, with the fix npm run leaf-alerts -- register', async () => {
    world.leaf.alerts.reset()
    const { line } = await alertsLine('✗')
    expect(line).toMatch(/credentialsUnauthenticated is not registered; credentialsLimitedPermission is not registered\. Run npm run leaf-alerts -- register$/)
  })

  it('fails when one event is missing from our webhook', async () => {
    await registerAlertsAtLeaf(world, { url: ours(), secret: alertsSecret, events: ['credentialsUnauthenticated'] })
    const { line } = await alertsLine('✗')
    expect(line).toMatch(/: credentialsLimitedPermission is not registered\. Run npm run leaf-alerts -- register$/)
  })

  it('fails, printing neither secret, when our webhook carries another secret; register then replaces it', async () => {
    await registerAlertsAtLeaf(world, { url: ours(), secret: 'a-different-alerts-secret' })
    const { line, stdout } = await alertsLine('✗')
    expect(line).toMatch(/registered with another secret than LEAF_ALERTS_SECRET: every alert would be refused\. Run npm run leaf-alerts -- register/)
    expect(stdout).not.toContain('a-different-alerts-secret')
    expect(stdout).not.toContain(alertsSecret)

    const fixed = await leafAlerts('register')
    expect(fixed.code).toBe(0)
    expect([...world.leaf.alerts.webhooks.values()]).toEqual([expect.objectContaining({ url: ours(), secret: alertsSecret })])
    await alertsLine('✓')
  })

  it('passes, saying the secret was not compared, when Leaf does not show webhook secrets', async () => {
    const hidden = { id: 'w-hidden', name: 'raven-connect', events: ['credentialsUnauthenticated', 'credentialsLimitedPermission'], url: ours() }
    world.leaf.faults.script('GET', '/services/alerts/api/alerts/webhooks', { status: 200, body: [hidden] })
    try {
      const run = await runDoctor(env())
      expect(doctorLine(run, '✓', 'leaf.alerts')).toMatch(/; Leaf does not show the webhook’s secret, so it was not compared with LEAF_ALERTS_SECRET$/)
    } finally {
      world.leaf.faults.reset()
    }
  })

  it('fails when Leaf refuses the Alerts list', async () => {
    world.leaf.faults.script('GET', '/services/alerts/api/alerts/webhooks', { status: 403, body: { title: 'Forbidden' } })
    try {
      const run = await runDoctor(env())
      expect(run.code).toBe(1)
      expect(doctorLine(run, '✗', 'leaf.alerts')).toContain('Leaf’s Alerts webhook list answered 403: could not see the registration')
    } finally {
      world.leaf.faults.reset()
    }
  })

  it('says the registration was not checked when LEAF_ALERTS_SECRET is not set', async () => {
    const run = await runDoctor(world.env)
    expect(doctorLine(run, '!', 'leaf.alerts')).toMatch(/not checked: LEAF_ALERTS_SECRET is not set/)
  })
})

describe('npm run doctor and WEBHOOK_URL', () => {
  const secret = 'webhook-secret-for-the-doctor-test'
  let receiver: WebhookReceiver
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret })
  })
  afterAll(async () => {
    await receiver?.close()
  })

  it('sends a ping the receiver verifies with WEBHOOK_SECRET', async () => {
    const run = await runDoctor({ ...world.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret })
    expect(doctorLine(run, '✓', 'webhooks.ping')).toMatch(/answered a signed ping with 204/)
    expect(receiver.deliveries.at(-1)).toMatchObject({ signatureValid: true, status: 204 })
    expect(receiver.events.at(-1)).toMatchObject({ type: 'ping', leafUserId: null, data: {} })
  })

  it('fails when the receiver answers 500', async () => {
    receiver.failNext(1, 500)
    const run = await runDoctor({ ...world.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'webhooks.ping')).toMatch(/answered the signed ping with 500: the receiver failed/)
  })

  it('fails when the receiver cannot verify the signature (another secret)', async () => {
    const run = await runDoctor({ ...world.env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: 'some-other-webhook-secret' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'webhooks.ping')).toMatch(/answered the signed ping with 400/)
    expect(receiver.deliveries.at(-1)).toMatchObject({ signatureValid: false })
  })
})

describe('npm run doctor when every upstream hangs', () => {
  it('fails each area at its time limit and still finishes with a report', async () => {
    const hang = await startHangingServer()
    try {
      const env = { ...world.env, RAVEN_ISSUER: hang.url, LEAF_API_URL: hang.url, REDIS_URL: `redis://127.0.0.1:${hang.port}`, WEBHOOK_URL: `${hang.url}/hook`, WEBHOOK_SECRET: 'webhook-secret-for-the-hang' }
      const run = await runDoctor(env, ['--timeout', '1'])
      expect(run.code).toBe(1)
      expect(doctorLine(run, '✗', 'raven.endpoints')).toMatch(/no answer within 1 s/)
      expect(doctorLine(run, '✗', 'leaf.auth')).toMatch(/no answer within 1 s/)
      expect(doctorLine(run, '✗', 'webhooks.ping')).toMatch(/no answer within 1 s/)
      expect(doctorLine(run, '✗', 'redis.reachable')).toMatch(/not reachable|no answer within 1 s/)
      expect(run.stdout).toMatch(/failed\. Not ready/)
    } finally {
      await hang.close()
    }
  })
})

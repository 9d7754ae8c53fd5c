import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { startWebhookReceiver, type WebhookReceiver } from '../../examples/webhook-receiver.js'
import { parseDoctorJson, registerAlertsAtLeaf, runDoctor, startDoctorWorld, type DoctorRun, type DoctorWorld } from '../helpers/kit/index.js'

/*
 * No secret in the doctor's output: every configured secret (both parts of rotated SESSION_SECRET and
 * API_KEYS, WEBHOOK_SECRET, LEAF_ALERTS_SECRET, LEAF_API_TOKEN), every Leaf token the sandbox issued
 * to the doctor and the HTTP Basic credentials it sent Raven are swept for in stdout and stderr, in
 * the human report and in --json, on green runs and on failing ones.
 */

const webhookSecret = `whsec_${randomBytes(18).toString('base64url')}`
const alertsSecret = `alerts_${randomBytes(18).toString('base64url')}`
let world: DoctorWorld
let receiver: WebhookReceiver
let env: Record<string, string | undefined>

beforeAll(async () => {
  world = await startDoctorWorld()
  receiver = await startWebhookReceiver({ secret: webhookSecret })
  await registerAlertsAtLeaf(world, { url: `${world.env.PUBLIC_BASE_URL}/leaf/alerts`, secret: alertsSecret })
  env = {
    ...world.env,
    SESSION_SECRET: `${world.env.SESSION_SECRET},old_${randomBytes(24).toString('base64url')}`,
    API_KEYS: `${world.env.API_KEYS},second_${randomBytes(18).toString('base64url')}`,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: webhookSecret,
    LEAF_ALERTS_SECRET: alertsSecret,
  }
})
afterAll(async () => {
  await Promise.all([world?.close(), receiver?.close()])
})

/** Every secret this environment holds or led to, in the forms it could leak in. */
function secretsOf(runEnv: Record<string, string | undefined>): string[] {
  const names = ['SESSION_SECRET', 'API_KEYS', 'RAVEN_CLIENT_SECRET', 'LEAF_PASSWORD', 'LEAF_API_TOKEN', 'TOKEN_ENCRYPTION_KEY', 'WEBHOOK_SECRET', 'LEAF_ALERTS_SECRET']
  const values = names.flatMap((name) => (runEnv[name] ?? '').split(',')).filter((value) => value.length > 0)
  const basic = Buffer.from(`${runEnv.RAVEN_CLIENT_ID}:${runEnv.RAVEN_CLIENT_SECRET}`).toString('base64')
  return [...values, basic, ...world.leaf.issuedTokens()]
}

function expectNoSecret(run: DoctorRun, runEnv: Record<string, string | undefined>): void {
  const output = run.stdout + run.stderr
  const secrets = secretsOf(runEnv)
  expect(secrets.length).toBeGreaterThanOrEqual(10)
  for (const secret of secrets) expect(output).not.toContain(secret)
  // Nothing even reached the printer's mask: the checks themselves never wrote a secret.
  expect(output).not.toContain('[REDACTED]')
}

const scenarios: Array<[string, () => Record<string, string | undefined>, 0 | 1]> = [
  ['everything configured and healthy', () => env, 0],
  ['a wrong Raven client secret', () => ({ ...env, RAVEN_CLIENT_SECRET: `wrong_${randomBytes(12).toString('hex')}` }), 1],
  ['a wrong Leaf password', () => ({ ...env, LEAF_PASSWORD: `wrong_${randomBytes(12).toString('hex')}` }), 1],
  ['a Leaf API token Leaf refuses', () => ({ ...env, LEAF_USERNAME: undefined, LEAF_PASSWORD: undefined, LEAF_API_TOKEN: `token_${randomBytes(24).toString('hex')}` }), 1],
  ['a webhook receiver that refuses the signature', () => ({ ...env, WEBHOOK_SECRET: `other_${randomBytes(12).toString('hex')}` }), 1],
  ['a configuration error', () => ({ ...env, TOKEN_ENCRYPTION_KEY: 'too-short' }), 1],
]

describe('npm run doctor never prints a secret', () => {
  it.each(scenarios)('with %s, in the report and in --json', async (_name, scenarioEnv, exitCode) => {
    const runEnv = scenarioEnv()
    const human = await runDoctor(runEnv)
    expect(human.code).toBe(exitCode)
    expectNoSecret(human, runEnv)
    const json = await runDoctor(runEnv, ['--json'])
    expect(json.code).toBe(exitCode)
    expect(parseDoctorJson(json).length).toBeGreaterThan(0)
    expectNoSecret(json, runEnv)
  })

  it('checked the Alerts registration and the webhook with those secrets set', async () => {
    const results = parseDoctorJson(await runDoctor(env, ['--json']))
    expect(results.find((result) => result.check === 'leaf.alerts')).toMatchObject({ result: 'pass' })
    expect(results.find((result) => result.check === 'webhooks.ping')).toMatchObject({ result: 'pass' })
  })
})

import { describe, expect, it } from '@jest/globals'

import { runLeafAlertsCommand } from '../../src/cli/leaf-alerts.js'
import { useSystem } from '../helpers/kit/index.js'
import type { TestSystem } from '../helpers/system.js'

const system = useSystem({ leafAlerts: {} })

/** The production environment of the test system, as an operator's shell would have it. */
function envOf(sys: TestSystem, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PUBLIC_BASE_URL: sys.url,
    REDIS_URL: process.env.REDIS_URL,
    SESSION_SECRET: sys.secrets.sessionSecret,
    API_KEYS: sys.secrets.apiKey,
    RAVEN_ISSUER: sys.raven.issuer,
    RAVEN_CLIENT_ID: sys.config.raven.clientId,
    RAVEN_CLIENT_SECRET: sys.secrets.ravenClientSecret,
    LEAF_API_URL: sys.leaf.url,
    LEAF_USERNAME: 'owner@leaf.test',
    LEAF_PASSWORD: sys.secrets.leafPassword,
    TOKEN_ENCRYPTION_KEY: sys.secrets.tokenEncryptionKey,
    LEAF_ALERTS_SECRET: sys.secrets.leafAlertsSecret,
    ...extra,
  }
}

async function run(args: string[], extra: Record<string, string | undefined> = {}): Promise<{ code: number; output: string }> {
  const lines: string[] = []
  const code = await runLeafAlertsCommand(args, envOf(system, extra), (line) => lines.push(line))
  const output = lines.join('\n')
  // No secret is ever printed, whatever the command.
  for (const secret of [system.secrets.leafAlertsSecret, system.secrets.leafPassword, system.secrets.ravenClientSecret, ...system.leaf.issuedTokens()]) {
    expect(output).not.toContain(secret)
  }
  return { code, output }
}

describe('npm run leaf-alerts', () => {
  it('registers both credential events at {PUBLIC_BASE_URL}/leaf/alerts, then says so and changes nothing', async () => {
    system.leaf.alerts.reset()
    const first = await run(['register'])
    expect(first.code).toBe(0)
    expect(first.output).toContain(`registered: ${system.url}/leaf/alerts receives credentialsUnauthenticated, credentialsLimitedPermission`)
    const [webhook] = [...system.leaf.alerts.webhooks.values()]
    expect(webhook).toMatchObject({ url: `${system.url}/leaf/alerts`, events: ['credentialsUnauthenticated', 'credentialsLimitedPermission'], secret: system.secrets.leafAlertsSecret })

    const again = await run(['register'])
    expect(again.code).toBe(0)
    expect(again.output).toMatch(/^already registered/)
    expect([...system.leaf.alerts.webhooks.values()]).toEqual([webhook])

    const status = await run(['status'])
    expect(status.code).toBe(0)
    expect(status.output).toContain(`registered: ${system.url}/leaf/alerts`)
  })

  it('names another webhook holding an event and leaves it alone (exit 1), unless --replace', async () => {
    system.leaf.alerts.reset()
    const other = { id: 'other-hook', events: ['credentialsLimitedPermission', 'newFile'], name: 'someone else', secret: 'theirs-0123456789', url: 'https://other.example.com/hooks' }
    system.leaf.alerts.webhooks.set(other.id, other)
    const refused = await run(['register'])
    expect(refused.code).toBe(1)
    expect(refused.output).toContain('https://other.example.com/hooks')
    expect(system.leaf.alerts.webhooks.get('other-hook')).toEqual(other)
    expect((await run(['status'])).code).toBe(1)

    const replaced = await run(['register', '--replace'])
    expect(replaced.code).toBe(0)
    expect(replaced.output).toContain('deleted webhook other-hook (https://other.example.com/hooks)')
    expect(system.leaf.alerts.webhooks.has('other-hook')).toBe(false)
    expect((await run(['status'])).code).toBe(0)
  })

  it('removes only its own webhook', async () => {
    system.leaf.alerts.reset()
    await run(['register'])
    const other = { id: 'unrelated', events: ['newFile'], name: 'files', secret: 'theirs-0123456789', url: 'https://other.example.com/files' }
    system.leaf.alerts.webhooks.set(other.id, other)
    const removed = await run(['remove'])
    expect(removed.code).toBe(0)
    expect([...system.leaf.alerts.webhooks.values()]).toEqual([other])
    expect((await run(['remove'])).output).toMatch(/^nothing to remove/)
  })

  it('refuses to register without LEAF_ALERTS_SECRET, and explains bad usage', async () => {
    expect((await run(['register'], { LEAF_ALERTS_SECRET: undefined })).code).toBe(1)
    expect((await run(['frobnicate'])).code).toBe(2)
    expect((await run(['status', '--replace'])).code).toBe(2)
  })

  it('reports a configuration problem with the variable name and exit 1', async () => {
    const result = await run(['status'], { LEAF_ALERTS_SECRET: 'short' })
    expect(result.code).toBe(1)
    expect(result.output).toContain('LEAF_ALERTS_SECRET')
  })
})

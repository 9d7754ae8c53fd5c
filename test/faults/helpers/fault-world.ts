import { randomBytes } from 'node:crypto'

import { startLeafSandbox, type LeafSandbox } from '../../../sandboxes/leaf/server.js'
import { startRavenSandbox, type RavenSandbox } from '../../../sandboxes/raven/server.js'
import { TestBrowser } from '../../helpers/browser.js'
import { consentUpToCallback } from '../../helpers/kit/flow.js'
import { freePort } from '../../setup/global-setup.js'

export const RETURN_ORIGIN = 'https://app.example.test'

export interface FaultWorld {
  /** The origin the browser sees (one instance's port, or a load balancer's). */
  publicBaseUrl: string
  publicPort: number
  raven: RavenSandbox
  leaf: LeafSandbox
  apiKey: string
  secrets: string[]
  /** The service's environment, listening on `port` (default: the public port). */
  env(port?: number): Record<string, string>
  newLeafUser(): string
  createConnectSession(baseUrl: string, body: Record<string, unknown>): Promise<{ id: string; connectUrl: string }>
  /** A grower's flow through the public URL, signed in and allowed at Raven, stopped before the callback. */
  flowToCallback(body: { leafUserId: string; returnTo?: string }): Promise<{ browser: TestBrowser; callbackUrl: URL; connectSessionId: string }>
  close(): Promise<void>
}

/** Raven and Leaf sandboxes in this process, for a service that runs as a child process. */
export async function startFaultWorld(options: { redisUrl: string }): Promise<FaultWorld> {
  const publicPort = await freePort()
  const publicBaseUrl = `http://127.0.0.1:${publicPort}`
  const apiKey = `apikey_${randomBytes(18).toString('base64url')}`
  const clientSecret = `ravensecret_${randomBytes(18).toString('base64url')}`
  const leafPassword = `leafpw_${randomBytes(12).toString('base64url')}`
  const sessionSecret = `sess_${randomBytes(24).toString('base64url')}`
  const tokenKey = randomBytes(32).toString('base64')
  const raven = await startRavenSandbox({
    clients: [{ clientId: 'raven-connect-faults', clientSecret, redirectUris: [`${publicBaseUrl}/connect/raven/callback`] }],
  })
  const leaf = await startLeafSandbox({ username: 'owner@leaf.test', password: leafPassword })
  const world: FaultWorld = {
    publicBaseUrl,
    publicPort,
    raven,
    leaf,
    apiKey,
    secrets: [apiKey, clientSecret, leafPassword, sessionSecret, tokenKey],
    env: (port = publicPort) => ({
      PORT: String(port),
      PUBLIC_BASE_URL: publicBaseUrl,
      REDIS_URL: options.redisUrl,
      SESSION_SECRET: sessionSecret,
      API_KEYS: apiKey,
      RETURN_TO_ORIGINS: RETURN_ORIGIN,
      RAVEN_ISSUER: raven.issuer,
      RAVEN_CLIENT_ID: 'raven-connect-faults',
      RAVEN_CLIENT_SECRET: clientSecret,
      LEAF_API_URL: leaf.url,
      LEAF_USERNAME: 'owner@leaf.test',
      LEAF_PASSWORD: leafPassword,
      TOKEN_ENCRYPTION_KEY: tokenKey,
      RATE_LIMIT_PER_MINUTE: '0',
    }),
    newLeafUser: () => leaf.state.addUser({ externalId: `grower-${randomBytes(4).toString('hex')}` }).id,
    async createConnectSession(baseUrl, body) {
      const res = await fetch(`${baseUrl}/v1/connect-sessions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (res.status !== 201) throw new Error(`connect session: ${res.status} ${await res.text()}`)
      return (await res.json()) as { id: string; connectUrl: string }
    },
    async flowToCallback(body) {
      const session = await world.createConnectSession(publicBaseUrl, body)
      const browser = new TestBrowser()
      return { browser, callbackUrl: await consentUpToCallback(browser, session.connectUrl), connectSessionId: session.id }
    },
    async close() {
      await Promise.all([raven.close(), leaf.close()])
    },
  }
  return world
}

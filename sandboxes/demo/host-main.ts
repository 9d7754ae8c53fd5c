import { createServer } from 'node:http'

import { createLogger } from '../../src/infra/logger.js'
import { LeafClient } from '../../src/leaf/client.js'
import { registerAlertsWebhook } from '../../src/leaf-alerts/registration.js'
import { createHostApp } from './host-app.js'

/*
 * The demo host app as a program, for docker compose (npm run demo starts it in-process instead).
 * Env: HOST_APP_PORT (5173), HOST_APP_HOST (127.0.0.1; 0.0.0.0 in a container), HOST_PUBLIC_URL
 * (http://127.0.0.1:<port>), RAVEN_CONNECT_URL (raven-connect's PUBLIC_BASE_URL), RAVEN_CONNECT_API_KEY;
 * optional RAVEN_CONNECT_WEBHOOK_SECRET (its WEBHOOK_SECRET), and for the life of a connection
 * LEAF_SANDBOX_URL with LEAF_USERNAME, LEAF_PASSWORD and LEAF_ALERTS_SECRET (registers the alerts webhook).
 */
const env = process.env

function required(name: string): string {
  const value = env[name]
  if (!value) {
    console.error(`demo host: ${name} is required`)
    process.exit(1)
  }
  return value
}

const port = Number(env.HOST_APP_PORT ?? 5173)
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`demo host: HOST_APP_PORT must be a port number (got ${env.HOST_APP_PORT})`)
  process.exit(1)
}
const publicUrl = (env.HOST_PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '')
const serviceUrl = required('RAVEN_CONNECT_URL').replace(/\/+$/, '')
const leafSandboxUrl = env.LEAF_SANDBOX_URL?.replace(/\/+$/, '')
const app = createHostApp({
  publicUrl,
  serviceUrl,
  apiKey: required('RAVEN_CONNECT_API_KEY'),
  ...(leafSandboxUrl && { leafSandboxUrl }),
  ...(env.RAVEN_CONNECT_WEBHOOK_SECRET && { webhookSecret: env.RAVEN_CONNECT_WEBHOOK_SECRET }),
})

// What `npm run leaf-alerts -- register` does in production, done here for the containerised demo.
if (leafSandboxUrl && env.LEAF_USERNAME && env.LEAF_PASSWORD && env.LEAF_ALERTS_SECRET) {
  const leaf = new LeafClient({ apiUrl: leafSandboxUrl, auth: { username: env.LEAF_USERNAME, password: env.LEAF_PASSWORD }, logger: createLogger({ level: 'silent' }) })
  registerAlertsWebhook(leaf, { publicBaseUrl: serviceUrl, secret: env.LEAF_ALERTS_SECRET }).then(
    (result) => console.log(`demo host app: Leaf Alerts webhook ${result.result.replace(/_/g, ' ')}`),
    (err: unknown) => console.error(`demo host app: could not register the Leaf Alerts webhook (${err instanceof Error ? err.message : String(err)})`),
  )
}

const server = createServer(app)
server.listen(port, env.HOST_APP_HOST ?? '127.0.0.1', () => {
  console.log(`demo host app: open ${publicUrl} (raven-connect at ${serviceUrl})`)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0))
    server.closeAllConnections()
  })
}

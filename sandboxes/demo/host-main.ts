import { createServer } from 'node:http'

import { createHostApp } from './host-app.js'

/*
 * The demo host app as a program, for docker compose (npm run demo starts it in-process instead).
 * Env: HOST_APP_PORT (5173), HOST_APP_HOST (127.0.0.1; 0.0.0.0 in a container), HOST_PUBLIC_URL
 * (http://127.0.0.1:<port>), RAVEN_CONNECT_URL (raven-connect's PUBLIC_BASE_URL), RAVEN_CONNECT_API_KEY.
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
const app = createHostApp({ publicUrl, serviceUrl, apiKey: required('RAVEN_CONNECT_API_KEY') })

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

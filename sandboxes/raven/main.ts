import { createLogger } from '../../src/infra/logger.js'
import { DEFAULT_GROWER, RAVEN_ISSUER_PATH, startRavenSandbox } from './server.js'

// The Raven sandbox as a program, for `npm run demo` and docker compose: env in, one line out.
// Loopback by default; a container sets RAVEN_SANDBOX_HOST=0.0.0.0 and RAVEN_SANDBOX_ISSUER (the public
// origin). The issuer lives under RAVEN_SANDBOX_ISSUER_PATH, `/core` (Raven's shape) unless set empty.

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) {
    console.error(`raven-sandbox: ${name} is required`)
    process.exit(1)
  }
  return value
}

function portOf(env: NodeJS.ProcessEnv): number {
  const raw = env.RAVEN_SANDBOX_PORT ?? '4010'
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`raven-sandbox: RAVEN_SANDBOX_PORT must be a port number (got ${raw})`)
    process.exit(1)
  }
  return port
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const publicBaseUrl = required(env, 'PUBLIC_BASE_URL').replace(/\/+$/, '')
  const sandbox = await startRavenSandbox({
    port: portOf(env),
    host: env.RAVEN_SANDBOX_HOST ?? '127.0.0.1',
    issuer: env.RAVEN_SANDBOX_ISSUER || undefined,
    issuerPath: env.RAVEN_SANDBOX_ISSUER_PATH ?? RAVEN_ISSUER_PATH,
    clients: [
      {
        clientId: required(env, 'RAVEN_CLIENT_ID'),
        clientSecret: required(env, 'RAVEN_CLIENT_SECRET'),
        redirectUris: [`${publicBaseUrl}/connect/raven/callback`],
      },
    ],
    logger: createLogger({ level: env.LOG_LEVEL ?? 'warn' }),
  })
  // Demo data, not a secret: the sandbox's only account, printed so a person can sign in.
  console.log(`raven sandbox: issuer ${sandbox.issuer} (listening on ${sandbox.url}); sign in as ${DEFAULT_GROWER.username} / ${DEFAULT_GROWER.password}`)

  const stop = () => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main(process.env).catch((err: unknown) => {
  console.error(`raven-sandbox: failed to start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})

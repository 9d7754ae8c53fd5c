import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { pathToFileURL } from 'node:url'

import { startLeafSandbox, type LeafSandbox } from '../leaf/server.js'
import { DEFAULT_GROWER, RAVEN_ISSUER_PATH, RAVEN_ROUTES, startRavenSandbox, type RavenSandbox } from '../raven/server.js'
import { RedisNotInstalledError, startRedisServer } from '../redis/throwaway-redis.js'
import { createLogger } from '../../src/infra/logger.js'
import { LeafClient } from '../../src/leaf/client.js'
import { registerAlertsWebhook } from '../../src/leaf-alerts/registration.js'
import { DEMO_BRAND, DEMO_GROWER, createHostApp } from './host-app.js'
import { isAddressInUse, listenOn, pickPort, startServiceProcess } from './service-process.js'

/*
 * `npm run demo`: the whole system on this machine, no accounts, no Docker. Redis (a throwaway
 * redis-server unless REDIS_URL is set), the Raven and Leaf sandboxes, raven-connect itself (src/main.ts
 * in a child process, configured by environment like production) and the demo host app. Prints the one
 * URL to open; Ctrl-C stops everything it started, the service first and Redis last.
 *
 * startDemo() is also what the browser tests drive (test/browser/), with every port 0.
 */

export interface DemoPorts {
  app: number
  raven: number
  leaf: number
  host: number
}

export const DEFAULT_PORTS: DemoPorts = { app: 3000, raven: 4010, leaf: 4020, host: 5173 }

export interface DemoOptions {
  /** 0 picks any free port. Defaults: DEFAULT_PORTS. */
  ports?: Partial<DemoPorts>
  /** When a fixed port is taken: use any free port instead (true, the default) or fail. */
  portFallback?: boolean
  /** A Redis to use; default REDIS_URL, else a throwaway redis-server. */
  redisUrl?: string
  /** raven-connect's LOG_LEVEL; default 'warn' so the terminal stays readable. */
  logLevel?: string
  /** 'inherit' prints raven-connect's log lines; 'capture' keeps them in `serviceOutput`. */
  serviceOutput?: 'inherit' | 'capture'
  /** Progress lines; default silent. */
  say?: (line: string) => void
}

export interface Demo {
  /** The one URL to open: the demo host app. */
  hostUrl: string
  /** raven-connect's PUBLIC_BASE_URL. */
  serviceUrl: string
  ravenIssuer: string
  leafUrl: string
  redisUrl: string
  raven: RavenSandbox
  leaf: LeafSandbox
  serviceOutput: string[]
  /** raven-connect's environment, as production would set it (what `npm run doctor` reads). */
  serviceEnv: Record<string, string>
  close(): Promise<void>
}

const CLIENT_ID = 'raven-connect-demo'

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const ports = { ...DEFAULT_PORTS, ...options.ports }
  const fallback = options.portFallback ?? true
  const say = options.say ?? (() => undefined)
  const moved = (name: string, wanted: number, got: number) => say(`port ${wanted} is taken; ${name} uses ${got} instead`)
  // Undone in reverse order when start-up fails half-way, and by close().
  const closers: Array<() => Promise<void>> = []
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined)
    closers.length = 0
  }

  try {
    // Fresh secrets every run: nothing to configure, nothing to leak from a previous run.
    const secrets = {
      apiKey: `demo_key_${randomBytes(18).toString('base64url')}`,
      sessionSecret: randomBytes(32).toString('base64url'),
      ravenClientSecret: randomBytes(24).toString('base64url'),
      leafPassword: randomBytes(12).toString('base64url'),
      tokenEncryptionKey: randomBytes(32).toString('base64'),
      leafAlertsSecret: randomBytes(24).toString('base64url'),
      webhookSecret: randomBytes(24).toString('base64url'),
    }

    const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? (await startOwnRedis(closers, say))

    // Listen first, so every URL (and so every redirect URI and allowed origin) is known up front.
    const host = await listenOn(ports.host, fallback)
    closers.push(() => closeServer(host.server))
    if (host.moved) moved('the demo host app', ports.host, host.port)
    const app = await pickPort(ports.app, fallback)
    if (app.moved) moved('raven-connect', ports.app, app.port)
    const hostUrl = `http://127.0.0.1:${host.port}`
    const serviceUrl = `http://127.0.0.1:${app.port}`

    const ravenClient = { clientId: CLIENT_ID, clientSecret: secrets.ravenClientSecret, redirectUris: [`${serviceUrl}/connect/raven/callback`] }
    // Raven's own shape: the issuer under /core, as https://auth.agsync.com/core is in production.
    const ravenShape = { clients: [ravenClient], issuerPath: RAVEN_ISSUER_PATH }
    const raven = await startRavenSandbox({ port: ports.raven, ...ravenShape }).catch((err: unknown) => {
      if (!fallback || !isAddressInUse(err)) throw err
      return startRavenSandbox({ port: 0, ...ravenShape }).then((sandbox) => (moved('the Raven sandbox', ports.raven, Number(new URL(sandbox.url).port)), sandbox))
    })
    closers.push(() => raven.close())

    const leafLogin = { username: 'leaf-demo@example.com', password: secrets.leafPassword }
    const leaf = await startLeafSandbox({ port: ports.leaf, ...leafLogin }).catch((err: unknown) => {
      if (!fallback || !isAddressInUse(err)) throw err
      return startLeafSandbox({ port: 0, ...leafLogin }).then((sandbox) => (moved('the Leaf sandbox', ports.leaf, Number(new URL(sandbox.url).port)), sandbox))
    })
    closers.push(() => leaf.close())
    // The company already knows this grower at Leaf; the connect session finds the user by externalId.
    leaf.state.addUser({ externalId: DEMO_GROWER.externalId, name: DEMO_GROWER.name, email: DEMO_GROWER.email })

    say('starting raven-connect (src/main.ts)…')
    const serviceEnv: Record<string, string> = {
      PORT: String(app.port),
      PUBLIC_BASE_URL: serviceUrl,
      REDIS_URL: redisUrl,
      SESSION_SECRET: secrets.sessionSecret,
      API_KEYS: secrets.apiKey,
      RETURN_TO_ORIGINS: hostUrl,
      // Configured as production is (.env.example): explicit endpoints and the issuer they belong to.
      RAVEN_ISSUER: raven.issuer,
      RAVEN_AUTHORIZATION_ENDPOINT: `${raven.url}${RAVEN_ROUTES.authorization}`,
      RAVEN_TOKEN_ENDPOINT: `${raven.url}${RAVEN_ROUTES.token}`,
      RAVEN_REVOCATION_ENDPOINT: `${raven.url}${RAVEN_ROUTES.revocation}`,
      RAVEN_CLIENT_ID: CLIENT_ID,
      RAVEN_CLIENT_SECRET: secrets.ravenClientSecret,
      LEAF_API_URL: leaf.url,
      LEAF_USERNAME: leafLogin.username,
      LEAF_PASSWORD: leafLogin.password,
      TOKEN_ENCRYPTION_KEY: secrets.tokenEncryptionKey,
      // The host's brand on raven-connect's pages. No BRAND_LOGO_URL: the demo serves nothing over https.
      APP_NAME: DEMO_BRAND.appName,
      BRAND_COLOR: DEMO_BRAND.color,
      // The life of a connection: Leaf's Alerts in, connection.broken out to the demo host.
      LEAF_ALERTS_SECRET: secrets.leafAlertsSecret,
      WEBHOOK_URL: `${hostUrl}/hooks/raven-connect`,
      WEBHOOK_SECRET: secrets.webhookSecret,
      LOG_LEVEL: options.logLevel ?? 'warn',
    }
    const service = await startServiceProcess({ url: serviceUrl, output: options.serviceOutput ?? 'inherit', env: serviceEnv })
    // Before the sandboxes in the reverse order: the service may still be finishing a callback.
    closers.push(() => service.stop())

    // What `npm run leaf-alerts -- register` does in production: Leaf's Alerts go to this service.
    const leafClient = new LeafClient({ apiUrl: leaf.url, auth: leafLogin, logger: createLogger({ level: 'silent' }) })
    await registerAlertsWebhook(leafClient, { publicBaseUrl: serviceUrl, secret: secrets.leafAlertsSecret })

    host.server.on(
      'request',
      createHostApp({ publicUrl: hostUrl, serviceUrl, apiKey: secrets.apiKey, leafSandboxUrl: leaf.url, webhookSecret: secrets.webhookSecret }),
    )
    return {
      hostUrl,
      serviceUrl,
      ravenIssuer: raven.issuer,
      leafUrl: leaf.url,
      redisUrl,
      raven,
      leaf,
      serviceOutput: service.output,
      serviceEnv,
      close: closeAll,
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}

async function startOwnRedis(closers: Array<() => Promise<void>>, say: (line: string) => void): Promise<string> {
  const redis = await startRedisServer({ detached: true })
  closers.push(() => redis.stop())
  say(`started redis-server on ${redis.url} (nothing kept on disk)`)
  return redis.url
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

const NO_REDIS = `npm run demo needs Redis, and redis-server is not installed (or not on PATH).
Either install it:
  Debian/Ubuntu:  sudo apt-get install -y redis-server
  macOS:          brew install redis
or point REDIS_URL at a Redis you already run (the demo only adds keys under rc:):
  REDIS_URL=redis://127.0.0.1:6379 npm run demo`

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`demo: ${name} must be a port number (got ${raw})`)
    process.exit(1)
  }
  return port
}

async function main(): Promise<void> {
  const say = (line: string) => console.log(`demo: ${line}`)
  let demo: Demo
  try {
    demo = await startDemo({
      ports: {
        app: portFromEnv('DEMO_APP_PORT', DEFAULT_PORTS.app),
        raven: portFromEnv('DEMO_RAVEN_PORT', DEFAULT_PORTS.raven),
        leaf: portFromEnv('DEMO_LEAF_PORT', DEFAULT_PORTS.leaf),
        host: portFromEnv('DEMO_HOST_PORT', DEFAULT_PORTS.host),
      },
      ...(process.env.LOG_LEVEL ? { logLevel: process.env.LOG_LEVEL } : {}),
      say,
    })
  } catch (err) {
    console.error(err instanceof RedisNotInstalledError ? NO_REDIS : `demo: could not start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }

  console.log(`
  raven-connect demo is running. Open:

      ${demo.hostUrl}

  Click "Connect Raven", sign in at the Raven sandbox as ${DEFAULT_GROWER.username} / ${DEFAULT_GROWER.password},
  and allow access. Then "Break this connection" plays Leaf noticing a dead token: the page asks
  you to reconnect, and "Reconnect Raven" makes it healthy again. Behind the page: raven-connect ${demo.serviceUrl} (API: ${demo.serviceUrl}/openapi.json),
  Raven sandbox ${demo.ravenIssuer}, Leaf sandbox ${demo.leafUrl}, Redis ${demo.redisUrl}.

  Ctrl-C stops everything.
`)

  let stopping = false
  const stop = () => {
    if (stopping) {
      // A second Ctrl-C: the person wants out now. Children still get killed by their exit hooks.
      console.log('demo: forced stop')
      process.exit(130)
    }
    stopping = true
    say('stopping…')
    demo.close().then(
      () => {
        say('stopped')
        process.exit(0)
      },
      (err: unknown) => {
        console.error(`demo: stop failed: ${err instanceof Error ? err.message : String(err)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()

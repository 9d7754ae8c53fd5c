import { createServer } from 'node:http'

import express from 'express'
import { Provider } from 'oidc-provider'
import { pino } from 'pino'

import { DEFAULT_GROWER, buildProviderConfig, providerRoutes } from './config.js'
import { createFaults, faultMiddleware } from './faults.js'
import { interactionRouter } from './interactions.js'
import { createStats } from './stats.js'

import type { AddressInfo } from 'node:net'
import type { SandboxClient, SandboxGrower } from './config.js'
import type { RavenFaults } from './faults.js'
import type { RavenStats } from './stats.js'
import type { Logger } from '../../src/infra/logger.js'

export type { SandboxClient, SandboxGrower } from './config.js'
export type { RavenFaults, FaultSettings, TokenResponseFault, AuthorizeErrorFault } from './faults.js'
export type { RavenStats, RevocationRecord } from './stats.js'
export { DEFAULT_GROWER, RAVEN_ISSUER_PATH, RAVEN_ROUTES, RAVEN_SCOPES } from './config.js'
export { WRONG_ISSUER } from './faults.js'

export interface RavenSandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number
  /** Address to listen on; default 127.0.0.1 (loopback only). */
  host?: string
  /** Public origin when it differs from `http://<host>:<port>`, e.g. behind a container port map. */
  issuer?: string
  /**
   * Serve the issuer under this path, Raven's own shape: `'/core'` gives the issuer `{origin}/core` and
   * discovery at `{origin}/core/.well-known/openid-configuration`. Default `''`: the bare origin.
   * The endpoints (`/core/connect/authorize` …) are the same in both shapes.
   */
  issuerPath?: string
  clients: SandboxClient[]
  /** The one grower who can sign in; default grower@example.com / raven-sandbox. */
  grower?: SandboxGrower
  logger?: Logger
}

export interface RavenSandbox {
  /** The issuer identifier, also the base of the discovery document URL. */
  issuer: string
  /** Where the sandbox is reachable from this process. */
  url: string
  faults: RavenFaults
  stats: RavenStats
  /** True while the refresh token exists, has not expired and was not revoked. */
  isRefreshTokenActive(refreshToken: string): Promise<boolean>
  close(): Promise<void>
}

/**
 * Starts a Raven-like OpenID Connect authorization server (oidc-provider) with one test grower, our
 * own login and consent pages, and switchable faults. It listens first so the issuer can carry the
 * real port when `port` is 0.
 */
export async function startRavenSandbox(options: RavenSandboxOptions): Promise<RavenSandbox> {
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ module: 'raven-sandbox' })
  const host = options.host ?? '127.0.0.1'
  const server = createServer()
  // The defaults (60 s headers, 300 s request) are generous; a sandbox answer never needs that long.
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${urlHost(host)}:${port}`
  const issuerPath = (options.issuerPath ?? '').replace(/\/+$/, '')
  const issuer = (options.issuer ?? url).replace(/\/+$/, '') + issuerPath
  const routes = providerRoutes(issuerPath)

  const grower = options.grower ?? DEFAULT_GROWER
  const provider = new Provider(issuer, buildProviderConfig(options.clients, grower, routes))
  // The sandbox is reached directly; trusting X-Forwarded-* would let a request pick its own issuer host.
  provider.proxy = false
  const faults = createFaults()
  const stats = createStats()
  const delays = createDelays()
  provider.use(faultMiddleware({ faults, stats, provider, logger, delay: delays.wait, routes }))
  provider.on('server_error', (_ctx: unknown, err: unknown) => logger.error({ err }, 'oidc-provider server_error'))

  const app = express()
  app.disable('x-powered-by')
  app.use(interactionRouter(provider, grower, logger))
  // Mounted last, at the issuer's path (the root for a bare-origin issuer), as in oidc-provider's
  // example/express.js; oidc-provider reads the mount path from req.originalUrl for the URLs it builds.
  if (issuerPath) app.use(issuerPath, provider.callback())
  else app.use(provider.callback())
  server.on('request', app)
  logger.info({ issuer, url }, 'raven sandbox listening')

  return {
    issuer,
    url,
    faults,
    stats,
    async isRefreshTokenActive(refreshToken) {
      const token = await provider.RefreshToken.find(refreshToken)
      return token !== undefined && token.isValid && (await provider.Grant.find(token.grantId)) !== undefined
    },
    async close() {
      delays.cancelAll()
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Keep-alive sockets from fetch would hold close() open until they time out.
        server.closeAllConnections()
      })
    },
  }
}

function urlHost(host: string): string {
  // A wildcard address is not somewhere to send requests; loopback reaches it from this machine.
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/** Delays for `tokenDelayMs` that close() can end at once, so no timer outlives the sandbox. */
function createDelays(): { wait: (ms: number) => Promise<void>; cancelAll: () => void } {
  const pending = new Map<NodeJS.Timeout, () => void>()
  return {
    wait(ms) {
      if (ms <= 0) return Promise.resolve()
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(timer)
          resolve()
        }, ms)
        pending.set(timer, resolve)
      })
    },
    cancelAll() {
      for (const [timer, resolve] of pending) {
        clearTimeout(timer)
        resolve()
      }
      pending.clear()
    },
  }
}

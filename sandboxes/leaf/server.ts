import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import express, { type NextFunction, type Request, type Response } from 'express'
import { ALERTS_BASE, LeafAlerts, type CredentialAlertType, type SandboxAlertOptions } from './alerts.js'
import { API_BASE, LeafFaults, type ScriptedAnswer } from './faults.js'
import { LeafSandboxState, type SandboxCredential, type SandboxUser } from './store.js'
import { SandboxTokens } from './tokens.js'
import type { Logger } from '../../src/infra/logger.js'

export { LeafFaults, type ScriptedAnswer } from './faults.js'
export { LeafAlerts, signLeafBody, type AlertDelivery, type FailedCall, type SandboxWebhook } from './alerts.js'
export {
  LeafSandboxState,
  type LeafSandboxBehaviour,
  type RequestLogEntry,
  type SandboxCredential,
  type SandboxUser,
} from './store.js'

export interface LeafSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number
  host?: string
  username?: string
  password?: string
  /** Token lifetime without rememberMe. Default 86400 (Leaf: 24 h). */
  tokenTtlSeconds?: number
  /** Token lifetime with `rememberMe: "true"`. Default 30 days, like Leaf. */
  rememberMeTokenTtlSeconds?: number
  /** Leaf Alerts: the retry schedule of undelivered alerts (scaled down in tests). */
  alerts?: SandboxAlertOptions
  logger?: Logger
}

export interface LeafSandbox {
  url: string
  close(): Promise<void>
  state: LeafSandboxState
  faults: LeafFaults
  /** Leaf Alerts: webhooks, signed alerts, retries, failed calls; `breakCredential` for tests and the demo. */
  alerts: LeafAlerts
  /** Every API owner token this sandbox issued (for leak scans). */
  issuedTokens(): readonly string[]
}

const THIRTY_DAYS = 30 * 24 * 3600

/**
 * A local Leaf API: authentication, user management and Raven credentials as reference/ and the
 * service contract describe them, with in-memory state and fault injection for tests and the demo.
 */
export async function startLeafSandbox(options: LeafSandboxOptions = {}): Promise<LeafSandbox> {
  const state = new LeafSandboxState()
  const tokens = new SandboxTokens()
  const faults = new LeafFaults(() => tokens.expireAll())
  const pending = new Set<NodeJS.Timeout>()
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      pending.delete(timer)
      fn()
    }, ms)
    pending.add(timer)
  }
  const login = { username: options.username ?? 'leaf-demo@example.com', password: options.password ?? 'leaf-sandbox' }
  const alerts = new LeafAlerts(state, login.username, options.alerts)
  const ttl = {
    normal: options.tokenTtlSeconds ?? 86_400,
    rememberMe: options.rememberMeTokenTtlSeconds ?? THIRTY_DAYS,
  }

  const app = express()
  app.disable('x-powered-by')
  app.use((req, res, next) => {
    const [path = '', query = ''] = req.originalUrl.split('?', 2)
    const entry = { method: req.method, path, query, status: null as number | null }
    state.requests.push(entry)
    res.on('finish', () => {
      entry.status = res.statusCode
      options.logger?.debug({ method: req.method, path, status: res.statusCode }, 'leaf sandbox request')
    })
    const answer = faults.unavailableAnswer() ?? faults.takeScripted(req.method, path)
    if (answer === undefined) return next()
    const send = () => sendScripted(res, answer)
    if (answer.delayMs) later(answer.delayMs, send)
    else send()
  })
  app.use(express.json({ limit: '100kb' }))

  app.post('/api/authenticate', (req, res) => {
    const body = asRecord(req.body)
    if (body?.username !== login.username || body?.password !== login.password) {
      state.failedAuthentications += 1
      return problem(res, 401, 'Unauthorized', 'Bad credentials')
    }
    state.authentications += 1
    const rememberMe = body.rememberMe === 'true' || body.rememberMe === true
    res.json({ id_token: tokens.issue(login.username, rememberMe ? ttl.rememberMe : ttl.normal) })
  })

  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? ''
    const match = /^Bearer (\S+)$/.exec(header)
    if (match?.[1] === undefined || !tokens.verify(match[1])) {
      return problem(res, 401, 'Unauthorized', 'Full authentication is required')
    }
    next()
  }
  const api = express.Router()
  api.use(requireToken)

  api.get('/users', (req, res) => {
    const { externalId } = req.query
    const behaviour = state.behaviour
    // Spring-style paging: `page` from 0, `size` defaulted and capped.
    const page = Math.max(0, integer(req.query.page) ?? 0)
    const size = Math.min(behaviour.maxPageSize, Math.max(1, integer(req.query.size) ?? behaviour.defaultPageSize))
    // Substring, case-insensitive, on purpose: the contract says Leaf's filter is not documented as
    // exact, so the sandbox is as loose as a real one could be and the client must compare itself.
    const needle = typeof externalId === 'string' ? externalId.toLowerCase() : undefined
    const all = [...state.users.values()].filter(
      (user) => needle === undefined || (user.externalId ?? '').toLowerCase().includes(needle),
    )
    if (behaviour.totalCountHeader) res.set('X-Total-Count', String(all.length))
    res.json(all.slice(page * size, page * size + size).map(userJson))
  })

  api.post('/users', (req, res) => {
    const body = asRecord(req.body)
    const externalId = body?.externalId
    if (typeof externalId !== 'string' || externalId === '') {
      return problem(res, 400, 'Bad Request', 'externalId is required')
    }
    const optional = (value: unknown) => (typeof value === 'string' ? value : null)
    const create = () => {
      const user = state.addUser({ externalId, name: optional(body?.name), email: optional(body?.email) })
      if (!res.writableEnded && !res.destroyed) res.status(201).json(userJson(user))
    }
    // A slow create is what lets two concurrent find-or-creates both look, find nothing, and create.
    if (state.behaviour.createUserDelayMs > 0) later(state.behaviour.createUserDelayMs, create)
    else create()
  })

  api.get('/users/:id', (req, res) => {
    const user = state.users.get(req.params.id)
    if (user === undefined) return problem(res, 404, 'Not Found', 'Leaf user not found')
    res.json(userJson(user))
  })

  api.get('/users/:id/raven-credentials', (req, res) => {
    if (!state.users.has(req.params.id)) return problem(res, 404, 'Not Found', 'Leaf user not found')
    const credential = state.credentialFor(req.params.id)
    if (credential === undefined) return problem(res, 404, 'Not Found', 'Raven credentials not found')
    res.json(credentialJson(credential))
  })

  api.post('/users/:id/raven-credentials', (req, res) => {
    const leafUserId = req.params.id
    if (!state.users.has(leafUserId)) return problem(res, 404, 'Not Found', 'Leaf user not found')
    const body = asRecord(req.body)
    const fields = ['clientId', 'clientSecret', 'refreshToken'] as const
    const missing = fields.filter((key) => typeof body?.[key] !== 'string' || body[key] === '')
    if (missing.length > 0) return problem(res, 400, 'Bad Request', `missing or empty: ${missing.join(', ')}`)
    if (state.credentials.has(leafUserId)) {
      const status = state.behaviour.duplicateCredentialStatus
      return problem(res, status, 'Conflict', 'Leaf user already has Raven credentials')
    }
    const { clientId, clientSecret, refreshToken } = body as Record<(typeof fields)[number], string>
    const credential = state.storeCredential(leafUserId, { clientId, clientSecret, refreshToken })
    const answer = () => res.status(201).json(credentialJson(credential))
    const delayMs = faults.takeStoreThenTimeout()
    if (delayMs === undefined) answer()
    else later(delayMs, () => !res.writableEnded && !res.destroyed && answer())
  })

  api.delete('/users/:id/raven-credentials', (req, res) => {
    if (!state.deleteCredential(req.params.id)) return problem(res, 404, 'Not Found', 'Raven credentials not found')
    res.status(204).end()
  })

  api.get('/users/:id/raven-credentials/events', (req, res) => {
    const events = state.events.get(req.params.id)
    if (events !== undefined) return res.json(events)
    if (state.behaviour.eventsWithoutCredential === 'empty') return res.json([])
    problem(res, 404, 'Not Found', 'Raven credentials not found')
  })

  app.use(API_BASE, api)
  app.use(ALERTS_BASE, requireToken, alerts.routes())

  // Sandbox only, not part of Leaf: the demo's "Break this connection" control. Leaf's background check
  // would find the dead token by itself; here the demo host asks for it.
  app.post('/sandbox/users/:id/raven-credentials/break', async (req, res) => {
    if (!state.credentials.has(req.params.id)) return problem(res, 404, 'Not Found', 'Raven credentials not found')
    const type: CredentialAlertType = asRecord(req.body)?.type === 'credentialsLimitedPermission' ? 'credentialsLimitedPermission' : 'credentialsUnauthenticated'
    const alert = await alerts.breakCredential(req.params.id, { type })
    res.json({ sent: alerts.webhookFor(type) !== undefined, status: alert.status })
  })
  app.use((req, res) => problem(res, 404, 'Not Found', `no route for ${req.method} ${req.path}`))
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: unknown }).type
    if (type === 'entity.parse.failed') return problem(res, 400, 'Bad Request', 'malformed JSON')
    if (type === 'entity.too.large') return problem(res, 413, 'Payload Too Large', 'body too large')
    options.logger?.error({ err }, 'leaf sandbox error')
    problem(res, 500, 'Internal Server Error', 'unexpected error')
  })

  const server = app.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await once(server, 'listening')
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    state,
    faults,
    alerts,
    issuedTokens: () => [...tokens.issued],
    close: async () => {
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
      alerts.close()
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
      // Delayed answers and keep-alive sockets would hold close() open.
      server.closeAllConnections()
      await closed
    },
  }
}

function sendScripted(res: Response, answer: ScriptedAnswer): void {
  if (res.writableEnded || res.destroyed) return
  res.status(answer.status)
  if (answer.headers) res.set(answer.headers)
  if (answer.body === undefined) res.end()
  else if (answer.chunked) sendChunked(res, JSON.stringify(answer.body))
  else res.json(answer.body)
}

/** No Content-Length: the client learns the size only by reading, as from a streaming server. */
function sendChunked(res: Response, text: string): void {
  res.type('json')
  const piece = 64 * 1024
  for (let at = 0; at < text.length; at += piece) res.write(text.slice(at, at + piece))
  res.end()
}

/** Leaf (a JHipster application) answers errors as RFC 7807 problems. */
function problem(res: Response, status: number, title: string, detail: string): void {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail })
  res.status(status).type('application/problem+json').send(body)
}

function integer(value: unknown): number | undefined {
  const parsed = Number.parseInt(String(value ?? ''), 10)
  return Number.isNaN(parsed) ? undefined : parsed
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  return value as Record<string, unknown>
}

function userJson(user: SandboxUser) {
  return { ...user, phone: null, address: null, updatedTime: user.createdTime }
}

/** reference/: GET and POST answer the credential with its secrets; the service must strip them. */
function credentialJson(credential: SandboxCredential) {
  const { id, status, createdTime, clientId, clientSecret, refreshToken, accessToken, scopes } = credential
  return { id, status, createdTime, tokenMetadata: { scopes }, clientId, clientSecret, refreshToken, accessToken }
}

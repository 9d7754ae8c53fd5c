import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/*
 * Fast local stand-ins for Raven (discovery + token endpoint) and Leaf (authenticate, users,
 * raven-credentials). They answer at once, from memory, so the bench measures the servers under
 * test, not the sandboxes. Each counts what the issue asks to verify: TCP connections and requests
 * per caller (keep-alive reuse), Leaf authentications, discovery fetches. A caller is told apart by
 * its User-Agent (the first request on a socket names the socket's caller).
 */

export const BENCH_CLIENT_ID = 'bench-client'
/** Leaf users whose id starts with this hold a Raven credential (the status route reads one). */
export const LINKED_USER_PREFIX = 'linked-'

export interface CallerStats {
  connections: number
  requests: number
  authentications: number
  discoveries: number
  tokenRequests: number
  credentialPosts: number
  rejectedTokens: number
}

export interface StandInStats {
  callers: Record<string, CallerStats>
}

export interface StandIns {
  ravenIssuer: string
  leafUrl: string
  stats(): StandInStats
  reset(): void
  close(): Promise<void>
}

export interface StandInOptions {
  /** Lifetime of the Leaf API token (JWT `exp`). Short, so renewal under load is exercised. */
  leafTokenLifetimeSeconds: number
}

export async function startStandIns(options: StandInOptions): Promise<StandIns> {
  let callers: Record<string, CallerStats> = {}
  const callerOf = (req: IncomingMessage): CallerStats => {
    const name = callerName(req.headers['user-agent'])
    callers[name] ??= { connections: 0, requests: 0, authentications: 0, discoveries: 0, tokenRequests: 0, credentialPosts: 0, rejectedTokens: 0 }
    return callers[name]
  }
  // The first request on a socket attributes the connection to its caller.
  const counted = new WeakSet<Socket>()
  const count = (req: IncomingMessage): CallerStats => {
    const stats = callerOf(req)
    stats.requests += 1
    if (!counted.has(req.socket)) {
      counted.add(req.socket)
      stats.connections += 1
    }
    return stats
  }

  const raven = await listen((req, res) => handleRaven(req, res, count(req), ravenIssuer))
  const ravenIssuer = `http://127.0.0.1:${(raven.address() as AddressInfo).port}`
  const issued = new Map<string, number>()
  const leaf = await listen((req, res) => handleLeaf(req, res, count(req), issued, options))
  const leafUrl = `http://127.0.0.1:${(leaf.address() as AddressInfo).port}`

  return {
    ravenIssuer,
    leafUrl,
    stats: () => ({ callers: structuredClone(callers) }),
    reset: () => {
      callers = {}
    },
    close: async () => {
      for (const server of [raven, leaf]) {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    },
  }
}

function callerName(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown'
  if (userAgent.startsWith('raven-connect')) return 'raven-connect'
  if (userAgent.startsWith('oauth4webapi') || userAgent.startsWith('openid-client')) return 'raven-connect'
  const known = /^bench-(baseline|usual-stack)/.exec(userAgent)
  return known?.[1] ?? userAgent.slice(0, 40)
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      ;(req as IncomingMessage & { body: string }).body = Buffer.concat(chunks).toString('utf8')
      handler(req, res)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

function bodyOf(req: IncomingMessage): string {
  return (req as IncomingMessage & { body?: string }).body ?? ''
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function handleRaven(req: IncomingMessage, res: ServerResponse, stats: CallerStats, issuer: string): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
    stats.discoveries += 1
    return json(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'form_post'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'offline_access'],
    })
  }
  if (req.method === 'POST' && path === '/token') {
    stats.tokenRequests += 1
    const form = new URLSearchParams(bodyOf(req))
    const code = form.get('code') ?? ''
    if (form.get('grant_type') !== 'authorization_code' || !form.get('code_verifier')) {
      return json(res, 400, { error: 'invalid_request' })
    }
    // Any code is accepted; the bench encodes the flow's nonce into it (`bench.<nonce>`) so the
    // ID token can carry it. Its signature is not checked by openid-client for a token response
    // (OIDC Core §3.1.3.7: TLS authenticates the token endpoint), so a dummy one is enough.
    const nonce = code.startsWith('bench.') ? code.slice('bench.'.length) : undefined
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: issuer, aud: BENCH_CLIENT_ID, sub: 'grower-1', iat: now, exp: now + 300, ...(nonce ? { nonce } : {}) }
    return json(res, 200, {
      access_token: 'at_' + randomBytes(16).toString('base64url'),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: 'rt_' + randomBytes(24).toString('base64url'),
      scope: 'openid offline_access',
      id_token: fakeJwt({ alg: 'RS256', typ: 'JWT' }, claims),
    })
  }
  json(res, 404, { error: 'not_found' })
}

function handleLeaf(req: IncomingMessage, res: ServerResponse, stats: CallerStats, issued: Map<string, number>, options: StandInOptions): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/'
  if (req.method === 'POST' && path === '/api/authenticate') {
    stats.authentications += 1
    const now = Math.floor(Date.now() / 1000)
    const exp = now + options.leafTokenLifetimeSeconds
    const token = fakeJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'bench-owner', iat: now, exp, jti: randomBytes(6).toString('hex') })
    issued.set(token, exp)
    return json(res, 200, { id_token: token })
  }
  // Like Leaf: an unknown or expired bearer token is a 401.
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
  const exp = bearer === undefined ? undefined : issued.get(bearer)
  if (exp === undefined || exp * 1000 <= Date.now()) {
    stats.rejectedTokens += 1
    return json(res, 401, { title: 'Unauthorized', status: 401 })
  }
  const match = /^\/services\/usermanagement\/api\/users\/([A-Za-z0-9_-]{1,64})(\/raven-credentials)?$/.exec(path)
  if (!match) return json(res, 404, { title: 'Not Found', status: 404 })
  const userId = match[1] as string
  if (!match[2]) {
    if (req.method === 'GET') return json(res, 200, { id: userId, externalId: `ext-${userId}`, name: 'Bench Grower', email: null })
    return json(res, 405, { status: 405 })
  }
  const credential = { id: `cred-${userId}`, status: 'CREATED', createdTime: '2025-01-01T00:00:00Z', tokenMetadata: { scopes: ['openid', 'offline_access'] } }
  if (req.method === 'GET') return userId.startsWith(LINKED_USER_PREFIX) ? json(res, 200, credential) : json(res, 404, { status: 404 })
  if (req.method === 'DELETE') {
    res.writeHead(204).end()
    return
  }
  if (req.method === 'POST') {
    stats.credentialPosts += 1
    const body = JSON.parse(bodyOf(req) || '{}') as Record<string, unknown>
    if (typeof body.refreshToken !== 'string' || typeof body.clientId !== 'string') return json(res, 400, { status: 400 })
    return json(res, 201, credential)
  }
  json(res, 405, { status: 405 })
}

function fakeJwt(header: object, claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(claims)}.${randomBytes(32).toString('base64url')}`
}
